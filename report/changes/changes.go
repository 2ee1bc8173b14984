// Package changes is the list of data changes of `etlhost exec` and
// `etlhost repl`, built from the typed events of the bindings (never from
// log text, which a script can write): the dry run's plan, the list of
// changes a commit applied, and the audit record of a commit.
package changes

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/audit"
	"github.com/etlhost/etlhost/report/text"
)

// Change is one data change a script planned or made: an Odoo write
// (Odoo set) or a PostgreSQL statement (PG set).
type Change struct {
	text string // the event's line without its "plan: "/"sent: " prefix
	Odoo *audit.OdooWrite
	PG   *audit.Statement
}

// Log collects the changes of one pass (or one REPL input). It is a
// host.Observer, safe for concurrent use: events come from the script's
// threads.
type Log struct {
	mu        sync.Mutex
	list      []Change
	committed map[string]bool // PostgreSQL connections whose work committed
}

// New returns an empty Log.
func New() *Log { return &Log{committed: map[string]bool{}} }

// ScriptStarted implements host.Observer.
func (c *Log) ScriptStarted(*host.Script, time.Time) {}

// ScriptEvent implements host.Observer: it records the changes.
func (c *Log) ScriptEvent(_ *host.Script, e host.Event) { c.Record(e) }

// ScriptFinished implements host.Observer.
func (c *Log) ScriptFinished(*host.Result) {}

// Is reports whether e is a change or a step of the script-wide
// transaction: the views that list changes in their own words leave the
// lines of those events out.
func Is(e host.Event) bool {
	switch e.Event.(type) {
	case event.OdooWrite, event.Statement, event.Transaction:
		return true
	}
	return false
}

// Record records e when it is a change or a step of the script-wide
// transaction, and reports whether it was (see Is). It returns the change
// recorded (nil for the steps of the transaction).
func (c *Log) Record(e host.Event) (*Change, bool) {
	var ch Change
	switch ev := e.Event.(type) {
	case event.OdooWrite:
		_, msg, _, _ := event.Line(ev)
		_, what, _ := strings.Cut(msg, ": ")
		ch = Change{text: what, Odoo: &audit.OdooWrite{Connection: ev.Connection, Model: ev.Model,
			Method: ev.Method, IDs: ev.IDs, Values: ev.Values, Result: ev.Result, Error: ev.Err}}
	case event.Statement:
		ch = Change{text: ev.Text, PG: &audit.Statement{Connection: ev.Connection, Statement: ev.Text,
			Rows: ev.Rows, Deleted: ev.Deleted}}
	case event.Transaction:
		if ev.Outcome == event.Committed {
			c.mu.Lock()
			c.committed[ev.Connection] = true
			c.mu.Unlock()
		}
		return nil, true
	default:
		return nil, false
	}
	c.mu.Lock()
	c.list = append(c.list, ch)
	c.mu.Unlock()
	return &ch, true
}

// records is how many records a write touches.
func records(w *audit.OdooWrite) int64 {
	return event.OdooWrite{Method: w.Method, IDs: w.IDs, Values: w.Values}.Records()
}

// Count is the number of changes: Odoo records written plus PostgreSQL
// rows affected (a replace counts its deleted and inserted rows).
func (c *Log) Count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, ch := range c.list {
		if ch.Odoo != nil {
			n += records(ch.Odoo)
		} else {
			n += ch.PG.Rows + ch.PG.Deleted
		}
	}
	return n
}

// Totals sums the changes by kind.
func (c *Log) Totals() (writes, recs, stmts, rows int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.list {
		if ch.Odoo != nil {
			writes++
			recs += records(ch.Odoo)
		} else {
			stmts++
			rows += ch.PG.Rows + ch.PG.Deleted
		}
	}
	return
}

// Plural is "1 thing" or "n things".
func Plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Line is the change as one line of the plan or of the applied list, the
// script's text in it escaped (text.Escape).
func (ch Change) Line() string {
	if ch.Odoo != nil {
		s := "  odoo  " + ch.text
		if ch.Odoo.Error != "" {
			s += "  (failed: " + host.FirstLine(ch.Odoo.Error) + ")"
		}
		return text.Escape(s)
	}
	s := fmt.Sprintf("  pg    %s  rows=%d", ch.text, ch.PG.Rows)
	if ch.PG.Deleted > 0 {
		s += fmt.Sprintf(" deleted=%d", ch.PG.Deleted)
	}
	if ch.PG.Connection != "" && ch.PG.Connection != "default" {
		s += " on " + ch.PG.Connection
	}
	return text.Escape(s)
}

// snapshot returns the changes so far and the connections that committed.
func (c *Log) snapshot() ([]Change, map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	committed := make(map[string]bool, len(c.committed))
	for k, v := range c.committed {
		committed[k] = v
	}
	return append([]Change(nil), c.list...), committed
}

// writeLines writes one line a change, under a heading.
func writeLines(w io.Writer, heading string, list []Change) {
	fmt.Fprintln(w, heading)
	for _, ch := range list {
		fmt.Fprintln(w, ch.Line())
	}
}

// WritePlan lists a dry run's planned changes.
func (c *Log) WritePlan(w io.Writer) {
	list, _ := c.snapshot()
	if len(list) == 0 {
		fmt.Fprintln(w, "Plan (dry run): no changes.")
		return
	}
	writeLines(w, "Plan (dry run: nothing was changed):", list)
	writes, recs, stmts, rows := c.Totals()
	fmt.Fprintf(w, "%s planned: %s (%s), %s (%s).\n", Plural(c.Count(), "change", "changes"),
		Plural(writes, "Odoo write", "Odoo writes"), Plural(recs, "record", "records"),
		Plural(stmts, "PostgreSQL statement", "PostgreSQL statements"), Plural(rows, "row", "rows"))
}

// WriteApplied lists what a commit pass did: on success every change; on
// failure the Odoo writes already sent, which stay applied.
func (c *Log) WriteApplied(w io.Writer, res *host.Result) {
	list, committed := c.snapshot()
	var sent, stmts []Change
	for _, ch := range list {
		if ch.Odoo != nil {
			sent = append(sent, ch)
		} else {
			stmts = append(stmts, ch)
		}
	}
	if res.Status == host.StatusOK {
		if len(list) == 0 {
			fmt.Fprintln(w, "Committed: the script made no changes.")
			return
		}
		writeLines(w, "Applied:", list)
		writes, recs, n, rows := c.Totals()
		fmt.Fprintf(w, "Committed: %s (%s) sent, %s (%s) committed.\n",
			Plural(writes, "Odoo write", "Odoo writes"), Plural(recs, "record", "records"),
			Plural(n, "PostgreSQL statement", "PostgreSQL statements"), Plural(rows, "row", "rows"))
		return
	}
	why := map[host.Status]string{host.StatusFailed: "failed", host.StatusTimeout: "ran out of time",
		host.StatusCancelled: "was interrupted", host.StatusSkipped: "was skipped"}[res.Status]
	fmt.Fprintf(w, "Not committed: the script %s.\n", why)
	switch {
	case len(committed) > 0:
		var done []Change
		for _, ch := range stmts {
			if committed[ch.PG.Connection] {
				done = append(done, ch)
			}
		}
		writeLines(w, "PostgreSQL: the work of some connections was committed before the failure:", done)
	case len(stmts) > 0:
		fmt.Fprintf(w, "PostgreSQL: rolled back, nothing was committed (%s undone).\n", Plural(int64(len(stmts)), "statement", "statements"))
	default:
		fmt.Fprintln(w, "PostgreSQL: nothing was committed.")
	}
	if len(sent) == 0 {
		fmt.Fprintln(w, "Odoo: no write was sent.")
		return
	}
	writeLines(w, "Odoo writes already sent (Odoo has no transaction across calls: they stay applied):", sent)
}

// Fill completes an audit record with a pass's outcome and changes: the
// Odoo writes sent, and the statements of the connections that committed.
func (c *Log) Fill(rec *audit.Record, res *host.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec.Status = string(res.Status)
	rec.Error = res.Error
	rec.Result = res.Value
	for _, ch := range c.list {
		switch {
		case ch.Odoo != nil:
			rec.OdooWrites = append(rec.OdooWrites, *ch.Odoo)
		case c.committed[ch.PG.Connection]:
			rec.Statements = append(rec.Statements, *ch.PG)
		}
	}
}
