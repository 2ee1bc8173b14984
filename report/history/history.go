// Package history records each run in the run history when it ends
// (`etlhost run --history`, or [history] connection), and writes the
// history as `etlhost history` shows it. The store itself is package
// internal/history.
package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/etlhost/etlhost/host"
	store "github.com/etlhost/etlhost/internal/history"
	"github.com/etlhost/etlhost/report/text"
)

// timeout bounds each talk with the history database: it happens before
// and after the run, and must not hold up the exit for long.
const timeout = 15 * time.Second

// Open opens the history kept in the database of the PostgreSQL connection
// named conn in cfg.
func Open(cfg *host.Config, conn string) (*store.Store, error) {
	pc, ok := cfg.Postgres[conn]
	if !ok {
		if conn == "default" {
			return nil, errors.New("no default PostgreSQL connection to keep the history in (set ETLHOST_PG_DSN or a [postgres.default] section, or [history] connection)")
		}
		return nil, fmt.Errorf("no PostgreSQL connection named %q", conn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, err := store.Open(ctx, pc.DSN)
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", conn, err)
	}
	return s, nil
}

// Recorder records a run in the history when it ends. It is a
// host.Observer that needs only the run's report.
type Recorder struct {
	cfg     *host.Config
	conn    string
	version string
	w       io.Writer
	store   *store.Store // opened before the run; nil when that failed
	// shared is a store the recorder does not own (a worker's, for all its
	// jobs): Finish neither closes it nor opens another.
	shared bool

	mu      sync.Mutex
	started map[string]bool // the jobs that started (ScriptStarted), by name
}

// NewRecorder opens the history on connection conn of cfg before the run,
// so that a database that cannot be reached is reported (on w) at once
// rather than after hours of work; the run goes on either way, and Finish
// tries again. Runs are recorded with the version of etlhost.
func NewRecorder(cfg *host.Config, conn, version string, w io.Writer) *Recorder {
	r := &Recorder{cfg: cfg, conn: conn, version: version, w: w}
	s, err := Open(cfg, conn)
	if err != nil {
		fmt.Fprintf(w, "etlhost: history: %v (the run goes on; etlhost tries again to record it at the end)\n", err)
	}
	r.store = s
	return r
}

// NewSharedRecorder records one run in s, which stays open: a worker
// records each of its jobs as a run of one script through one store.
func NewSharedRecorder(s *store.Store, version string, w io.Writer) *Recorder {
	return &Recorder{store: s, shared: true, version: version, w: w}
}

// ScriptStarted implements host.Observer: a job that started ran at least
// once; one that finishes without starting (skipped, cancelled before it
// started) is recorded with no attempt.
func (r *Recorder) ScriptStarted(s *host.Script, _ time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started == nil {
		r.started = map[string]bool{}
	}
	r.started[s.Name] = true
}

// ScriptEvent implements host.Observer.
func (*Recorder) ScriptEvent(*host.Script, host.Event) {}

// ScriptFinished implements host.Observer.
func (*Recorder) ScriptFinished(*host.Result) {}

// Finish records the run, however it ended, with a context of its own:
// the run's may be cancelled (Ctrl+C). It says on w which run it recorded.
func (r *Recorder) Finish(rep *host.Report) error {
	s := r.store
	r.store = nil
	if s == nil {
		var err error
		if s, err = Open(r.cfg, r.conn); err != nil {
			return fmt.Errorf("history: the run was not recorded: %w", err)
		}
	}
	if !r.shared {
		defer s.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	id, err := s.Record(ctx, r.run(rep))
	if id == 0 {
		return fmt.Errorf("history: the run was not recorded: %w", err)
	}
	fmt.Fprintf(r.w, "Recorded as run %d in the history (etlhost history).\n", id)
	if err != nil {
		// The run and the other scripts' results are recorded.
		return fmt.Errorf("history: run %d: %w", id, err)
	}
	return nil
}

// run converts a report for the history.
func (r *Recorder) run(rep *host.Report) *store.Run {
	hostname, _ := os.Hostname()
	run := &store.Run{StartedAt: rep.StartedAt, Duration: rep.Duration, Status: string(rep.Status),
		Hostname: hostname, Version: r.version}
	for _, res := range rep.Scripts {
		sr := store.ScriptRun{Name: res.Name, Path: res.Path, Status: string(res.Status), StartedAt: res.StartedAt,
			Duration: res.Duration, Error: res.Error}
		if n, ok := text.Rows(res.Value); ok {
			rows := int64(n)
			sr.Rows = &rows
		}
		if res.Value != nil {
			if b, err := json.Marshal(res.Value); err == nil {
				sr.Result = b
			}
		}
		sr.Attempts = r.attempts(res)
		for _, a := range res.Attempts {
			sr.AttemptLog = append(sr.AttemptLog, store.Attempt{Attempt: a.Attempt, StartedAt: a.StartedAt, Duration: a.Duration,
				Status: string(a.Status), Error: a.Error, Transient: a.Transient, Reason: a.Reason})
		}
		run.Scripts = append(run.Scripts, sr)
	}
	return run
}

// attempts is how many times the job of res ran: its attempts when it may
// be retried, else once if it started, never if it did not.
func (r *Recorder) attempts(res *host.Result) int {
	if n := len(res.Attempts); n > 0 {
		return n
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if res.Status == host.StatusSkipped || !r.started[res.Name] {
		return 0
	}
	return 1
}

// statuses are text.Statuses, then any other status found in counts (a
// newer etlhost's), so that no result goes uncounted.
func statuses(counts map[string]int) []string {
	var out []string
	for _, st := range text.Statuses {
		out = append(out, string(st))
	}
	var extra []string
	for st := range counts {
		if !slices.Contains(out, st) {
			extra = append(extra, st)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// retriedFor is what made an ok job try again: the reason (or error) of
// its first failed attempt.
func retriedFor(sr store.ScriptRun) string {
	for _, a := range sr.AttemptLog {
		if a.Status != string(host.StatusOK) {
			if a.Reason != "" {
				return a.Reason
			}
			return a.Error
		}
	}
	return ""
}

// WriteText writes the runs and the scripts' figures (as `etlhost history`
// prints them) as two tables.
func WriteText(w io.Writer, runs []store.Run, stats []store.ScriptStats, q store.Query) {
	if len(runs) == 0 {
		if q.Script != "" {
			fmt.Fprintf(w, "No run of %s in the history.\n", q.Script)
		} else {
			fmt.Fprintln(w, "No run in the history yet (record runs with etlhost run --history).")
		}
		return
	}
	when := func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }
	// The ATTEMPTS column of one script's runs shows when one of them did
	// not run exactly once (retried, or skipped).
	showAttempts := false
	for _, r := range runs {
		for _, sr := range r.Scripts {
			showAttempts = showAttempts || sr.Attempts != 1
		}
	}
	var t table
	if q.Script == "" {
		fmt.Fprintf(w, "Recent runs (newest first)\n")
		t = table{right: []bool{true, false, true, false, false}}
		t.add("RUN", "STARTED", "DURATION", "STATUS", "SCRIPTS")
	} else {
		fmt.Fprintf(w, "Recent runs of %s (newest first)\n", q.Script)
		t = table{right: []bool{true, false, true, false, true, false}}
		head := []string{"RUN", "STARTED", "DURATION", "STATUS", "ROWS", "ERROR"}
		if showAttempts {
			t.right = slices.Insert(t.right, 4, true)
			head = slices.Insert(head, 4, "ATTEMPTS")
		}
		t.add(head...)
	}
	for _, r := range runs {
		if q.Script == "" {
			counts := map[string]int{}
			retried := 0
			for _, sr := range r.Scripts {
				counts[sr.Status]++
				if sr.Attempts > 1 {
					retried++
				}
			}
			var parts []string
			for _, st := range statuses(counts) {
				if n := counts[st]; n > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", n, text.Escape(st)))
				}
			}
			if retried > 0 {
				parts = append(parts, fmt.Sprintf("%d retried", retried))
			}
			t.add(fmt.Sprint(r.ID), when(r.StartedAt), text.Duration(r.Duration), text.Escape(r.Status), strings.Join(parts, ", "))
			continue
		}
		for _, sr := range r.Scripts {
			rows := ""
			if sr.Rows != nil {
				rows = fmt.Sprint(*sr.Rows)
			}
			msg := host.FirstLine(sr.Error)
			if why := retriedFor(sr); msg == "" && sr.Attempts > 1 && why != "" {
				msg = "retried after: " + why
			}
			cells := []string{fmt.Sprint(r.ID), when(sr.StartedAt), text.Duration(sr.Duration), text.Escape(sr.Status), rows, text.Truncate(text.Escape(msg), 80)}
			if showAttempts {
				cells = slices.Insert(cells, 4, fmt.Sprint(sr.Attempts))
			}
			t.add(cells...)
		}
	}
	t.print(w)
	fmt.Fprintf(w, "\nScripts (their last %d results)\n", q.Last)
	// FAILED counts the results that were not ok, the skipped ones among
	// them said apart; RETRIED shows when a result took several attempts.
	showRetried := false
	for _, st := range stats {
		showRetried = showRetried || st.Retried > 0
	}
	t = table{right: []bool{false, true, true, true, false, false, true, true, false}}
	head := []string{"SCRIPT", "RUNS", "FAILED", "FAILURE RATE", "LAST", "LAST OK", "AVG OK", "MAX OK", "RECENT DURATIONS (newest first)"}
	if showRetried {
		t.right = slices.Insert(t.right, 4, true)
		head = slices.Insert(head, 4, "RETRIED")
	}
	t.add(head...)
	for _, st := range stats {
		lastOK := "never"
		if st.LastSuccess != nil {
			lastOK = when(*st.LastSuccess)
		}
		recent := make([]string, 0, 8)
		for i, d := range st.Durations {
			if i == 8 {
				recent = append(recent, "…")
				break
			}
			if i < len(st.Statuses) && st.Statuses[i] == string(host.StatusSkipped) {
				recent = append(recent, "skipped")
				continue
			}
			recent = append(recent, text.Duration(d))
		}
		avg, mx := "-", "-"
		if st.AvgOK > 0 {
			avg, mx = text.Duration(st.AvgOK), text.Duration(st.MaxOK)
		}
		failed := fmt.Sprint(st.Failures)
		if st.Skipped > 0 {
			failed += fmt.Sprintf(" (%d skipped)", st.Skipped)
		}
		cells := []string{text.Escape(st.Name), fmt.Sprint(st.Runs), failed, fmt.Sprintf("%.0f%%", 100*st.FailureRate),
			text.Escape(st.LastStatus), lastOK, avg, mx, strings.Join(recent, " ")}
		if showRetried {
			cells = slices.Insert(cells, 4, fmt.Sprint(st.Retried))
		}
		t.add(cells...)
	}
	t.print(w)
}

// table lays out columns two spaces apart, each left or right aligned.
type table struct {
	right []bool
	rows  [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) print(w io.Writer) {
	widths := make([]int, len(t.right))
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range t.rows {
		var b strings.Builder
		b.WriteString(" ")
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			b.WriteString(" ")
			if t.right[i] {
				b.WriteString(pad + c)
			} else if i < len(r)-1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(c)
			}
			if i < len(r)-1 {
				b.WriteString(" ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
