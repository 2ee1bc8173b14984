package host

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/etlhost/etlhost/luabind"
)

// Status of one script's run.
type Status string

// Statuses of a script. A run's status is ok, failed or cancelled.
const (
	StatusOK        Status = "ok"
	StatusFailed    Status = "failed"
	StatusTimeout   Status = "timeout"
	StatusCancelled Status = "cancelled"
	// StatusSkipped: the job was not run, because a job it runs after (its
	// header's `after`) did not end ok.
	StatusSkipped Status = "skipped"
)

// LogLine is one line a script logged (log.*, print).
type LogLine struct {
	Time   time.Time      `json:"time"`
	Level  luabind.Level  `json:"level"`
	Msg    string         `json:"msg"`
	Fields map[string]any `json:"fields,omitempty"`
}

// Result is the outcome of one script.
type Result struct {
	Name      string        `json:"name"`
	Path      string        `json:"path"`
	Status    Status        `json:"status"`
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"-"`
	// Value is what the script returned, as JSON values (nil: nothing).
	Value any `json:"result"`
	// Note is something the summary should say about an ok script (that it
	// returned nothing, say).
	Note string `json:"note,omitempty"`
	// Error is the message, with the script's file:line, then a Lua
	// traceback when there is one. Empty when the script succeeded.
	Error string `json:"error,omitempty"`
	// RowsFetched and RowsLoaded count the rows the script's modules read
	// (Odoo pages, queries) and wrote (COPY, replace).
	RowsFetched int64     `json:"rows_fetched,omitempty"`
	RowsLoaded  int64     `json:"rows_loaded,omitempty"`
	Logs        []LogLine `json:"logs,omitempty"`
	// Attempts are the job's attempts, in order, when it may be retried
	// (retries > 0): the last is the one the result reports.
	Attempts []Attempt `json:"attempts,omitempty"`
	// Transient tells a failure worth trying again, as the binding that
	// raised it classified it, and Reason says what failed; OdooWrites
	// counts the writes the last attempt sent to Odoo, which keeps them.
	// A worker decides from them whether its queue retries the job.
	Transient  bool   `json:"-"`
	Reason     string `json:"-"`
	OdooWrites int    `json:"-"`
	// Progress last reported with log.progress (zero: none).
	ProgressDone  int64 `json:"-"`
	ProgressTotal int64 `json:"-"`
}

// Attempt is one attempt of a job that may be retried.
type Attempt struct {
	Attempt   int           `json:"attempt"` // 1 for the first
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"-"`
	Status    Status        `json:"status"`
	// Error is the first line of the attempt's error ("" when ok).
	Error string `json:"error,omitempty"`
	// Transient tells an error worth retrying (a binding said so); Reason
	// is what failed, in its words.
	Transient bool   `json:"transient,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// MarshalJSON adds duration_ms.
func (a Attempt) MarshalJSON() ([]byte, error) {
	type plain Attempt
	return json.Marshal(struct {
		plain
		DurationMS int64 `json:"duration_ms"`
	}{plain(a), a.Duration.Milliseconds()})
}

// FirstLine is the first line of s.
func FirstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// MarshalJSON adds duration_ms.
func (r *Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		*plain
		DurationMS int64 `json:"duration_ms"`
	}{(*plain)(r), r.Duration.Milliseconds()})
}

// Report is the outcome of a run: the JSON report of `etlhost run --json`.
type Report struct {
	Status    Status        `json:"status"`
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"-"`
	// Scripts in completion order (scripts that never started last).
	Scripts []*Result `json:"scripts"`
	// Notes about the run, such as scripts given but not run (test files).
	Notes []string `json:"notes,omitempty"`
}

// NoteReturnedNothing is the note of a script that ended ok without a
// result: the summary then shows nothing of what it did.
const NoteReturnedNothing = "returned nothing: end the script with a table such as `return {rows = n}` to show what it did"

// MarshalJSON adds duration_ms and script_time_ms (the sum of the scripts'
// durations: what running them one after another would have cost).
func (r *Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		*plain
		DurationMS   int64 `json:"duration_ms"`
		ScriptTimeMS int64 `json:"script_time_ms"`
	}{(*plain)(r), r.Duration.Milliseconds(), r.ScriptTime().Milliseconds()})
}

// ScriptTime is the sum of the scripts' durations.
func (r *Report) ScriptTime() time.Duration {
	var sum time.Duration
	for _, s := range r.Scripts {
		sum += s.Duration
	}
	return sum
}

// Counts returns how many scripts ended in each status.
func (r *Report) Counts() map[Status]int {
	c := map[Status]int{}
	for _, s := range r.Scripts {
		c[s.Status]++
	}
	return c
}
