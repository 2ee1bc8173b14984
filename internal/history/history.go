// Package history keeps etlhost's run history in PostgreSQL: one row per
// run and one per script result, in tables of etlhost's own (schema
// etlhost), so operators can see what ran, how long it took and how often
// each script fails.
//
// The host process writes the history after each run, never the scripts:
// timeouts, failures, crashes and interrupts are recorded like successes.
// The schema is versioned; Open applies the migrations it lacks, under an
// advisory lock so that runs starting together migrate once.
//
// It is a plain Go package on pgx, independent of the Lua host: the CLI
// converts its reports into Runs.
package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etlhost/etlhost/internal/pgtext"
	"github.com/etlhost/etlhost/internal/secret"
)

// Schema is the PostgreSQL schema holding the history's tables.
const Schema = "etlhost"

// Limits on what one script result stores: errors carry tracebacks, and a
// script may return a large table.
const (
	MaxErrorBytes  = 16 << 10
	MaxResultBytes = 64 << 10
)

// Run is one `etlhost run`.
type Run struct {
	ID        int64         `json:"id"`
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"-"`
	Status    string        `json:"status"` // ok | failed | cancelled (a run is never skipped)
	Hostname  string        `json:"hostname"`
	Version   string        `json:"etlhost_version"`
	Scripts   []ScriptRun   `json:"scripts"`
}

// MarshalJSON adds duration_ms.
func (r Run) MarshalJSON() ([]byte, error) {
	type plain Run
	return json.Marshal(struct {
		plain
		DurationMS int64 `json:"duration_ms"`
	}{plain(r), r.Duration.Milliseconds()})
}

// ScriptRun is one script's result within a run.
type ScriptRun struct {
	Name      string        `json:"name"`
	Path      string        `json:"path"`
	Status    string        `json:"status"` // ok | failed | timeout | skipped | cancelled
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"-"`
	// Rows is the result's rows field when the script returned one.
	Rows  *int64 `json:"rows,omitempty"`
	Error string `json:"error,omitempty"`
	// Result is what the script returned, as JSON (nil when nothing or
	// when larger than MaxResultBytes).
	Result json.RawMessage `json:"result,omitempty"`
	// Attempts is how many times the job ran: 0 when it never started
	// (skipped, or cancelled before it started), 2 or more when it was
	// retried. Results recorded before schema version 2, or by an older
	// etlhost, count 1.
	Attempts int `json:"attempts"`
	// AttemptLog lists the attempts of a job that may be retried, in
	// order (nil for the others); the last is what Status reports.
	AttemptLog []Attempt `json:"attempt_log,omitempty"`
}

// Attempt is one attempt of a job that may be retried.
type Attempt struct {
	Attempt   int           `json:"attempt"` // 1 for the first
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"-"`
	Status    string        `json:"status"`
	// Error is the first line of the attempt's error (at most
	// MaxAttemptErrorBytes).
	Error string `json:"error,omitempty"`
	// Transient: an error worth retrying; Reason: what failed.
	Transient bool   `json:"transient,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// MaxAttemptErrorBytes bounds each attempt's error in AttemptLog.
const MaxAttemptErrorBytes = 1 << 10

type attemptJSON struct {
	plainAttempt
	DurationMS int64 `json:"duration_ms"`
}

type plainAttempt Attempt

// MarshalJSON writes the duration as duration_ms.
func (a Attempt) MarshalJSON() ([]byte, error) {
	return json.Marshal(attemptJSON{plainAttempt(a), a.Duration.Milliseconds()})
}

// UnmarshalJSON reads what MarshalJSON writes (the attempt_log column).
func (a *Attempt) UnmarshalJSON(b []byte) error {
	var j attemptJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*a = Attempt(j.plainAttempt)
	a.Duration = time.Duration(j.DurationMS) * time.Millisecond
	return nil
}

// MarshalJSON adds duration_ms.
func (s ScriptRun) MarshalJSON() ([]byte, error) {
	type plain ScriptRun
	return json.Marshal(struct {
		plain
		DurationMS int64 `json:"duration_ms"`
	}{plain(s), s.Duration.Milliseconds()})
}

// Store is an open history database.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to the database at dsn and brings its history schema up
// to date. Errors never contain the DSN's password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return open(ctx, dsn, LatestVersion())
}

// open opens the history, migrating its schema up to version.
func open(ctx context.Context, dsn string, version int) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error may quote the DSN.
		return nil, errors.New("the history database's connection string cannot be parsed")
	}
	cfg.MaxConns = 2
	secrets := secret.OfDSN(dsn)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, secret.ScrubError(fmt.Errorf("cannot connect to the history database: %w", err), secrets)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx, version); err != nil {
		pool.Close()
		return nil, secret.ScrubError(err, secrets)
	}
	return s, nil
}

// Close releases the connections.
func (s *Store) Close() { s.pool.Close() }

// Record writes a run and its scripts' results in one transaction and
// returns the run's id.
//
// Records are written whatever their text holds: PostgreSQL refuses NUL
// bytes and invalid UTF-8 in text (and \u0000 in jsonb), so each of those
// is stored as U+FFFD, the replacement character (package pgtext).
//
// A result the database still refuses fails alone: it is written again
// without its returned value and with an error saying why, and when even
// that fails it is left out. The run and the other results are recorded
// all the same; Record then returns the run's id and a *ScriptsError
// naming the scripts whose results are incomplete. Without the run's own
// row (id 0), nothing was recorded.
func (s *Store) Record(ctx context.Context, run *Run) (int64, error) {
	var id int64
	var lost *ScriptsError
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		lost = nil
		err := tx.QueryRow(ctx, `INSERT INTO etlhost.runs (started_at, duration_ms, status, hostname, etlhost_version)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			run.StartedAt, run.Duration.Milliseconds(), pgtext.Text(run.Status), pgtext.Text(run.Hostname), pgtext.Text(run.Version)).Scan(&id)
		if err != nil {
			return fmt.Errorf("cannot record the run: %w", err)
		}
		rows := make([][]any, 0, len(run.Scripts))
		for _, sr := range run.Scripts {
			rows = append(rows, scriptRow(id, sr))
		}
		// All the results in one COPY; when the database refuses one of
		// them, one by one, each in a savepoint of its own.
		err = pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
			_, err := sp.CopyFrom(ctx, pgx.Identifier{Schema, "script_runs"}, scriptColumns, pgx.CopyFromRows(rows))
			return err
		})
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("cannot record the scripts' results: %w", err)
		}
		for i, row := range rows {
			err := insertScript(ctx, tx, row)
			if err == nil {
				continue
			}
			if ctx.Err() != nil {
				return fmt.Errorf("cannot record the scripts' results: %w", err)
			}
			if lost == nil {
				lost = &ScriptsError{}
			}
			sr := run.Scripts[i]
			lost.Scripts = append(lost.Scripts, sr.Name)
			lost.Errs = append(lost.Errs, fmt.Errorf("script %q: %w", sr.Name, err))
			// Again, with what can go wrong left out.
			sr.Result, sr.AttemptLog = nil, nil
			sr.Error = "etlhost could not record this result whole (" + err.Error() + "): " + sr.Error
			_ = insertScript(ctx, tx, scriptRow(id, sr))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if lost != nil {
		return id, lost
	}
	return id, nil
}

// ScriptsError says which scripts' results Record could not write whole,
// when the run itself was recorded.
type ScriptsError struct {
	Scripts []string
	Errs    []error
}

func (e *ScriptsError) Error() string {
	return fmt.Sprintf("the results of %d script(s) could not be recorded whole: %v", len(e.Scripts), errors.Join(e.Errs...))
}

func (e *ScriptsError) Unwrap() []error { return e.Errs }

var scriptColumns = []string{"run_id", "script", "path", "status", "started_at", "duration_ms", "rows", "error", "result", "attempts", "attempt_log"}

// scriptRow is a result as a row of script_runs, its text as PostgreSQL
// takes it.
func scriptRow(runID int64, sr ScriptRun) []any {
	var result any
	if len(sr.Result) > 0 && len(sr.Result) <= MaxResultBytes && json.Valid(sr.Result) {
		result = string(pgtext.JSON(sr.Result))
	}
	var errText any
	if sr.Error != "" {
		errText = pgtext.Text(truncateUTF8(sr.Error, MaxErrorBytes))
	}
	var log any
	if len(sr.AttemptLog) > 0 {
		attempts := make([]Attempt, len(sr.AttemptLog))
		for i, a := range sr.AttemptLog {
			a.Error = truncateUTF8(a.Error, MaxAttemptErrorBytes)
			attempts[i] = a
		}
		if b, err := json.Marshal(attempts); err == nil {
			log = string(pgtext.JSON(b))
		}
	}
	return []any{runID, pgtext.Text(sr.Name), pgtext.Text(sr.Path), pgtext.Text(sr.Status), sr.StartedAt, sr.Duration.Milliseconds(), sr.Rows, errText, result,
		sr.Attempts, log}
}

// insertScript writes one row of script_runs in a savepoint: a refused
// row leaves the transaction usable.
func insertScript(ctx context.Context, tx pgx.Tx, row []any) error {
	return pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
		_, err := sp.Exec(ctx, `INSERT INTO etlhost.script_runs (run_id, script, path, status, started_at, duration_ms, rows, error, result, attempts, attempt_log)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, row...)
		return err
	})
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// Query selects history: the Last runs (default 20), only those that ran
// Script when it is set.
type Query struct {
	Last   int
	Script string
}

func (q Query) last() int {
	if q.Last <= 0 {
		return 20
	}
	return q.Last
}

// Runs returns the most recent runs, newest first, with their scripts'
// results (all of them, or only Script's).
func (s *Store) Runs(ctx context.Context, q Query) ([]Run, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.id, r.started_at, r.duration_ms, r.status, r.hostname, r.etlhost_version
		FROM etlhost.runs r
		WHERE $1 = '' OR EXISTS (SELECT 1 FROM etlhost.script_runs s WHERE s.run_id = r.id AND s.script = $1)
		ORDER BY r.started_at DESC, r.id DESC LIMIT $2`, q.Script, q.last())
	if err != nil {
		return nil, fmt.Errorf("cannot read the runs: %w", err)
	}
	var runs []Run
	index := map[int64]int{}
	for rows.Next() {
		var r Run
		var ms int64
		if err := rows.Scan(&r.ID, &r.StartedAt, &ms, &r.Status, &r.Hostname, &r.Version); err != nil {
			rows.Close()
			return nil, fmt.Errorf("cannot read the runs: %w", err)
		}
		r.Duration = time.Duration(ms) * time.Millisecond
		index[r.ID] = len(runs)
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the runs: %w", err)
	}
	if len(runs) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(runs))
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	rows, err = s.pool.Query(ctx, `SELECT run_id, script, path, status, started_at, duration_ms, rows, coalesce(error, ''), result, attempts, attempt_log
		FROM etlhost.script_runs WHERE run_id = ANY($1) AND ($2 = '' OR script = $2)
		ORDER BY run_id, started_at + duration_ms * interval '1 millisecond', script`, ids, q.Script)
	if err != nil {
		return nil, fmt.Errorf("cannot read the scripts' results: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sr ScriptRun
		var runID, ms int64
		var result, log []byte
		if err := rows.Scan(&runID, &sr.Name, &sr.Path, &sr.Status, &sr.StartedAt, &ms, &sr.Rows, &sr.Error, &result, &sr.Attempts, &log); err != nil {
			return nil, fmt.Errorf("cannot read the scripts' results: %w", err)
		}
		if log != nil {
			if err := json.Unmarshal(log, &sr.AttemptLog); err != nil {
				return nil, fmt.Errorf("cannot read the attempts of %s in run %d: %w", sr.Name, runID, err)
			}
		}
		sr.Duration = time.Duration(ms) * time.Millisecond
		if result != nil {
			sr.Result = json.RawMessage(result)
		}
		r := &runs[index[runID]]
		r.Scripts = append(r.Scripts, sr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the scripts' results: %w", err)
	}
	return runs, nil
}

// ScriptStats sums up one script's most recent results.
type ScriptStats struct {
	Name string `json:"name"`
	// Runs is how many results the figures cover (at most Query.Last).
	Runs int `json:"runs"`
	// Failures are the results that were not ok, skipped ones included:
	// a skipped job did not fail itself, but did not deliver either.
	// Skipped counts those among them.
	Failures int `json:"failures"`
	Skipped  int `json:"skipped"`
	// Retried counts the results that took more than one attempt (ok or
	// not).
	Retried int `json:"retried"`
	// FailureRate is Failures / Runs.
	FailureRate float64    `json:"failure_rate"`
	LastStatus  string     `json:"last_status"`
	LastRun     time.Time  `json:"last_run"`
	LastSuccess *time.Time `json:"last_success,omitempty"` // over the whole history
	// Statuses and Durations of the recent results, newest first.
	Statuses  []string        `json:"statuses"`
	Durations []time.Duration `json:"-"`
	// Average and longest of Durations over the results that were ok.
	AvgOK, MaxOK time.Duration `json:"-"`
}

// MarshalJSON writes durations in milliseconds.
func (s ScriptStats) MarshalJSON() ([]byte, error) {
	type plain ScriptStats
	ms := make([]int64, len(s.Durations))
	for i, d := range s.Durations {
		ms[i] = d.Milliseconds()
	}
	return json.Marshal(struct {
		plain
		DurationsMS []int64 `json:"durations_ms"`
		AvgOKMS     int64   `json:"avg_ok_ms"`
		MaxOKMS     int64   `json:"max_ok_ms"`
	}{plain(s), ms, s.AvgOK.Milliseconds(), s.MaxOK.Milliseconds()})
}

// Scripts returns, for each script (or only Script), figures over its Last
// most recent results, by name.
func (s *Store) Scripts(ctx context.Context, q Query) ([]ScriptStats, error) {
	rows, err := s.pool.Query(ctx, `
		WITH recent AS (
			SELECT script, status, started_at, duration_ms, attempts,
			       row_number() OVER (PARTITION BY script ORDER BY started_at DESC, run_id DESC) AS n
			FROM etlhost.script_runs WHERE $1 = '' OR script = $1
		)
		SELECT r.script,
		       array_agg(r.status ORDER BY r.n),
		       array_agg(r.duration_ms ORDER BY r.n),
		       count(*) FILTER (WHERE r.attempts > 1),
		       (SELECT max(started_at + duration_ms * interval '1 millisecond') FROM etlhost.script_runs o
		         WHERE o.script = r.script AND o.status = 'ok'),
		       max(r.started_at + r.duration_ms * interval '1 millisecond') FILTER (WHERE r.n = 1)
		FROM recent r WHERE r.n <= $2
		GROUP BY r.script ORDER BY r.script`, q.Script, q.last())
	if err != nil {
		return nil, fmt.Errorf("cannot read the scripts' history: %w", err)
	}
	defer rows.Close()
	var out []ScriptStats
	for rows.Next() {
		var st ScriptStats
		var statuses []string
		var ms []int64
		if err := rows.Scan(&st.Name, &statuses, &ms, &st.Retried, &st.LastSuccess, &st.LastRun); err != nil {
			return nil, fmt.Errorf("cannot read the scripts' history: %w", err)
		}
		st.Runs = len(statuses)
		st.LastStatus = statuses[0]
		st.Statuses = statuses
		var okSum time.Duration
		okN := 0
		for i, status := range statuses {
			d := time.Duration(ms[i]) * time.Millisecond
			st.Durations = append(st.Durations, d)
			if status != "ok" {
				st.Failures++
				if status == "skipped" {
					st.Skipped++
				}
				continue
			}
			okSum += d
			okN++
			st.MaxOK = max(st.MaxOK, d)
		}
		if okN > 0 {
			st.AvgOK = okSum / time.Duration(okN)
		}
		st.FailureRate = float64(st.Failures) / float64(st.Runs)
		out = append(out, st)
	}
	return out, rows.Err()
}

// Recent returns each script's Last most recent results (or only Script's),
// newest first, keyed by script name. Unlike Runs, whose Last counts runs,
// every script gets its own Last results however many other scripts ran
// since: a worker records each job as a run of its own.
func (s *Store) Recent(ctx context.Context, q Query) (map[string][]ScriptRun, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT script, path, status, started_at, duration_ms, rows, coalesce(error, ''), attempts
		FROM (SELECT *, row_number() OVER (PARTITION BY script ORDER BY started_at DESC, run_id DESC) AS n
		      FROM etlhost.script_runs WHERE $1 = '' OR script = $1) recent
		WHERE n <= $2 ORDER BY script, n`, q.Script, q.last())
	if err != nil {
		return nil, fmt.Errorf("cannot read the scripts' recent results: %w", err)
	}
	defer rows.Close()
	out := map[string][]ScriptRun{}
	for rows.Next() {
		var sr ScriptRun
		var ms int64
		if err := rows.Scan(&sr.Name, &sr.Path, &sr.Status, &sr.StartedAt, &ms, &sr.Rows, &sr.Error, &sr.Attempts); err != nil {
			return nil, fmt.Errorf("cannot read the scripts' recent results: %w", err)
		}
		sr.Duration = time.Duration(ms) * time.Millisecond
		out[sr.Name] = append(out[sr.Name], sr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the scripts' recent results: %w", err)
	}
	return out, nil
}

// Ping checks that the history database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("the history database does not answer: %w", err)
	}
	return nil
}
