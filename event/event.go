// Package event is what the modules tell the host while a script runs: log
// lines, progress, rows fetched and loaded, writes sent to (or planned for)
// Odoo, PostgreSQL statements of a transaction the host owns and how that
// transaction ended. Only Go code of the bindings creates the typed events;
// a script's own code can only log (the log module makes Log events), so no
// text a script writes can become an Odoo write, a statement or a commit in
// a report, a plan or the audit trail.
//
// The host adds its own: a job waiting for the jobs it runs after, a job
// about to try again after a transient failure.
//
// Every reporter (text and live views, JSON report, plan and applied
// changes, audit trail, history, metrics) is an observer of this stream.
package event

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Event is one thing that happened in a script.
type Event interface{ isEvent() }

// Level of a log line.
type Level string

// Log levels, lowest first.
const (
	LevelDebug Level = "debug"
	LevelInfo  Level = "info"
	LevelWarn  Level = "warn"
	LevelError Level = "error"
)

// Log is a log line: from the script (the log module) or a module's notice.
type Log struct {
	Level  Level
	Msg    string
	Fields map[string]any
}

// Progress is how far a script says it is (log.progress).
type Progress struct{ Done, Total int64 }

// Rows counts rows a module fetched (from Odoo, from a query) or loaded
// (COPY, replace) since its last Rows event.
type Rows struct{ Fetched, Loaded int64 }

// OdooWrite is a write sent to Odoo (create, write, unlink, or a method not
// known to be read-only), or, in a dry run, planned and not sent.
type OdooWrite struct {
	Connection string
	Model      string
	Method     string
	IDs        []int64 // nil for create
	Values     any     // what was sent
	Result     string  // what a create returned (the new ids)
	// Err is set when the call failed: Odoo may have applied it all the
	// same (a method returning None faults after its transaction
	// committed; a timeout says nothing).
	Err string
	// Planned: a dry run, nothing was sent.
	Planned bool
}

// Statement is a data-changing PostgreSQL statement (exec, copy, replace,
// set_state) run in the transaction the host holds for a dry run or an
// atomic run, with the rows it affected.
type Statement struct {
	Connection string
	// Text is what was run: "exec UPDATE ...", "copy into t", "replace t"
	// (whitespace collapsed, long SQL shortened).
	Text    string
	Rows    int64
	Deleted int64 // rows a replace deleted (Rows: inserted)
	DryRun  bool
}

// Outcome is how the transaction a host holds for a script ended.
type Outcome string

// Outcomes of a Transaction event.
const (
	// Begun: the statements that follow are in one transaction.
	Begun Outcome = "begun"
	// Committed: the statements since Begun are committed.
	Committed Outcome = "committed"
	// RolledBack: they are undone (a dry run, or a script that failed).
	RolledBack Outcome = "rolled back"
	// RollbackFailed: undoing failed (the server drops the work anyway when
	// the connection closes).
	RollbackFailed Outcome = "rollback failed"
)

// Transaction is a step of the transaction a host holds for a script's
// PostgreSQL work on one connection (a dry run or an atomic run).
type Transaction struct {
	Connection string
	Outcome    Outcome
	DryRun     bool
	Err        string // RollbackFailed: why
}

// Waiting is the host telling that a job waits for the jobs it runs after
// (its header's `after`) to end before it starts.
type Waiting struct{ For []string }

// Retrying is the host telling that an attempt of a job failed on a
// transient error and the job runs again, in a fresh state, after Delay.
type Retrying struct {
	Attempt, Attempts int // the attempt that failed, of how many at most
	Delay             time.Duration
	Reason            string // what failed: "odoo: connection refused"
}

func (Waiting) isEvent()     {}
func (Retrying) isEvent()    {}
func (Log) isEvent()         {}
func (Progress) isEvent()    {}
func (Rows) isEvent()        {}
func (OdooWrite) isEvent()   {}
func (Statement) isEvent()   {}
func (Transaction) isEvent() {}

// Records is how many records a write touches: one per created record, the
// ids of the others.
func (w OdooWrite) Records() int64 {
	if w.Method == "create" {
		if l, ok := w.Values.([]any); ok {
			return int64(len(l))
		}
		return 1
	}
	return max(int64(len(w.IDs)), 1)
}

// Line renders an event as a line for people (level, message, fields):
// the text and live views, a test's log. Progress and Rows have none (ok
// false): views show them their own way.
func Line(ev Event) (level Level, msg string, fields map[string]any, ok bool) {
	switch e := ev.(type) {
	case Log:
		return e.Level, e.Msg, e.Fields, true
	case OdooWrite:
		return e.line()
	case Statement:
		fields := map[string]any{"rows": e.Rows, "connection": e.Connection}
		if e.Deleted > 0 {
			fields["deleted"] = e.Deleted
		}
		return LevelInfo, "plan: " + e.Text, fields, true
	case Transaction:
		return e.line()
	case Retrying:
		return LevelWarn, fmt.Sprintf("attempt %d of %d failed: %s; trying again in %v", e.Attempt, e.Attempts, e.Reason, e.Delay.Round(time.Millisecond)), nil, true
	}
	return "", "", nil, false
}

func (w OdooWrite) line() (Level, string, map[string]any, bool) {
	var b strings.Builder
	if w.Planned {
		b.WriteString("plan: ")
	} else {
		b.WriteString("sent: ")
	}
	b.WriteString(w.Method + " " + w.Model)
	if w.IDs != nil {
		b.WriteString(" ids=" + IDs(w.IDs))
	}
	if w.Values != nil {
		b.WriteString(" values=" + CompactJSON(w.Values))
	}
	if w.Result != "" {
		b.WriteString(" -> " + w.Result)
	}
	fields := map[string]any{"connection": w.Connection}
	level := LevelInfo
	if w.Err != "" {
		level = LevelWarn
		b.WriteString(" failed")
		fields["error"] = w.Err
	}
	return level, b.String(), fields, true
}

func (t Transaction) line() (Level, string, map[string]any, bool) {
	fields := map[string]any{"connection": t.Connection}
	switch t.Outcome {
	case Begun:
		if t.DryRun {
			return LevelInfo, "plan: dry run: the changes below are made in a transaction that is rolled back at the end of the script", fields, true
		}
		return LevelInfo, "plan: the changes below are made in one transaction, committed when the script ends without error", fields, true
	case Committed:
		return LevelInfo, "plan: committed", fields, true
	case RolledBack:
		if t.DryRun {
			return LevelInfo, "plan: dry run rolled back: nothing was changed", fields, true
		}
		return LevelInfo, "plan: rolled back: the script did not finish, nothing was changed", fields, true
	}
	return LevelWarn, "plan: rolling back failed: " + t.Err, fields, true
}

// IDs renders ids as [1,2,3].
func IDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// CompactJSON renders values for a line (map keys sorted by encoding/json),
// shortened past 2000 bytes.
func CompactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const max = 2000
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
