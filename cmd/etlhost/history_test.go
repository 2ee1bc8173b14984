package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/pgtest"
)

// lockedBuffer is a buffer the test reads while the app writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runInterrupted runs etlhost in process and cancels it like Ctrl+C once
// stderr shows that every script in started has started.
// runInterrupted runs etlhost in process and interrupts it once stderr
// shows every one of the markers (lines like "start     sleeper").
func runInterrupted(t *testing.T, env map[string]string, markers []string, args ...string) runOut {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var stdout bytes.Buffer
	stderr := &lockedBuffer{}
	app := &App{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: stderr, Getenv: func(k string) string { return env[k] }}
	go func() {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			all := true
			for _, m := range markers {
				all = all && strings.Contains(stderr.String(), m)
			}
			if all {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel(host.ErrInterrupted)
	}()
	code := app.Run(ctx, append([]string{"etlhost"}, args...))
	return runOut{code, stdout.String(), stderr.String()}
}

// TestHistoryRecordsEveryOutcome records runs whose scripts end ok,
// failed, timeout and cancelled, checks the rows the host wrote, then
// reads them back with `etlhost history`.
func TestHistoryRecordsEveryOutcome(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	env := map[string]string{"ETLHOST_PG_DSN": dsn}
	dir := t.TempDir()
	loader := write(t, dir, "loader.lua", "return {rows = 412}")
	broken := write(t, dir, "broken.lua", "local x = nil\nreturn x.rows")
	slow := write(t, dir, "slow.lua", "--! timeout = 200ms\nrequire('task').sleep(30)")
	sleeper := write(t, dir, "sleeper.lua", "require('task').sleep(30)")

	out := run(t, env, "run", "--history", loader, broken, slow)
	if out.code != ExitFailed || !strings.Contains(out.stderr, "Recorded as run ") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	// Interrupted once the loader has ended ok and the sleeper is sleeping.
	out = runInterrupted(t, env, []string{"start     sleeper", "ok        loader"}, "run", "--history", "--jobs", "2", sleeper, loader)
	if out.code != ExitInterrupted || !strings.Contains(out.stderr, "Recorded as run ") {
		t.Fatalf("interrupted run: exit %d\n%s", out.code, out.stderr)
	}

	rows := pgtest.QueryRows(t, dsn, `SELECT r.status, s.script, s.status, s.rows, coalesce(s.error, ''), s.duration_ms
		FROM etlhost.script_runs s JOIN etlhost.runs r ON r.id = s.run_id ORDER BY r.id, s.script`)
	type row struct {
		run, script, status string
		rows                any
		err                 string
		ms                  int64
	}
	var got []row
	for _, r := range rows {
		got = append(got, row{r[0].(string), r[1].(string), r[2].(string), r[3], r[4].(string), r[5].(int64)})
	}
	want := []struct {
		run, script, status string
		rows                any
		err                 string
	}{
		{"failed", "broken", "failed", nil, "broken.lua:2: x is nil (reading x.rows) (Lua said: attempt to index"},
		{"failed", "loader", "ok", int64(412), ""},
		{"failed", "slow", "timeout", nil, "timeout: the script ran longer than its 200ms limit"},
		{"cancelled", "loader", "ok", int64(412), ""},
		{"cancelled", "sleeper", "cancelled", nil, "cancelled: interrupted"},
	}
	if len(got) != len(want) {
		t.Fatalf("history rows: %+v", got)
	}
	for i, w := range want {
		g := got[i]
		if g.run != w.run || g.script != w.script || g.status != w.status || fmt.Sprint(g.rows) != fmt.Sprint(w.rows) || !strings.Contains(g.err, w.err) {
			t.Errorf("row %d: %+v, want %+v", i, g, w)
		}
	}
	if got[2].ms < 200 {
		t.Errorf("the timeout's duration is %dms", got[2].ms)
	}

	out = run(t, env, "history")
	if out.code != ExitOK {
		t.Fatalf("history: exit %d\n%s", out.code, out.stderr)
	}
	for _, re := range []string{
		`(?m)^Recent runs \(newest first\)$`,
		`(?m)^ +RUN  STARTED +DURATION  STATUS +SCRIPTS$`,
		`(?m)^ +2  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\S+  cancelled  1 ok, 1 cancelled$`,
		`(?m)^ +1  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\S+  failed +1 ok, 1 failed, 1 timeout$`,
		`(?m)^  SCRIPT +RUNS  FAILED  FAILURE RATE  LAST +LAST OK +AVG OK  MAX OK  RECENT DURATIONS \(newest first\)$`,
		`(?m)^  loader +2 +0 +0%  ok +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\S+ +\S+  \S+ \S+$`,
		`(?m)^  slow +1 +1 +100%  timeout +never +- +-  \d+ms$`,
		`(?m)^  sleeper +1 +1 +100%  cancelled +never`,
	} {
		if !regexp.MustCompile(re).MatchString(out.stdout) {
			t.Errorf("history output lacks %s:\n%s", re, out.stdout)
		}
	}
	// The runs are in the order they were recorded: the newest is run 2.
	if !strings.Contains(out.stdout, "  2  ") {
		t.Errorf("run ids:\n%s", out.stdout)
	}

	out = run(t, env, "history", "--script", "slow", "--last", "5")
	if out.code != ExitOK || !regexp.MustCompile(`(?m)^ +1  \S+ \S+ +\d+ms  timeout +timeout: the script ran longer than its 200ms limit \(the script header, `).MatchString(out.stdout) ||
		strings.Contains(out.stdout, "loader") {
		t.Fatalf("history --script slow: exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}

	out = run(t, env, "history", "--json", "--last", "1")
	var doc struct {
		Runs []struct {
			ID      int64
			Status  string
			Scripts []struct {
				Name, Status string
				DurationMS   int64 `json:"duration_ms"`
			}
		}
		Scripts []struct {
			Name        string
			Runs        int
			FailureRate float64 `json:"failure_rate"`
			DurationsMS []int64 `json:"durations_ms"`
		}
	}
	if err := json.Unmarshal([]byte(out.stdout), &doc); err != nil || out.code != ExitOK {
		t.Fatalf("history --json: exit %d, %v\n%s", out.code, err, out.stdout)
	}
	if len(doc.Runs) != 1 || doc.Runs[0].Status != "cancelled" || len(doc.Runs[0].Scripts) != 2 || len(doc.Scripts) != 4 {
		t.Fatalf("history --json: %+v", doc)
	}
	for _, s := range doc.Scripts {
		if s.Runs != 1 || len(s.DurationsMS) != 1 {
			t.Errorf("--last 1 should cover one result per script: %+v", s)
		}
	}
}

// TestHistoryFromConfig records without --history when the configuration
// names the connection, and reports a history that cannot be reached
// without changing the run's exit code.
func TestHistoryFromConfig(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	cfg := write(t, dir, "etlhost.toml", "[postgres.warehouse]\ndsn_env = \"WH_DSN\"\n\n[history]\nconnection = \"warehouse\"\n")
	ok := write(t, dir, "ok.lua", "return {rows = 1}")
	out := run(t, map[string]string{"WH_DSN": dsn}, "run", "--config", cfg, ok)
	if out.code != ExitOK || !strings.Contains(out.stderr, "Recorded as run 1 ") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	if n := pgtest.QueryRows(t, dsn, "SELECT count(*) FROM etlhost.script_runs"); n[0][0].(int64) != 1 {
		t.Fatalf("rows %v", n)
	}
	out = run(t, map[string]string{"WH_DSN": dsn}, "history", "--config", cfg)
	if out.code != ExitOK || !strings.Contains(out.stdout, "ok") {
		t.Fatalf("history: exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}

	// Nowhere to record: said before the run and after it; exit code of
	// the run.
	out = run(t, map[string]string{"ETLHOST_PG_DSN": "postgres://etl:S3cretPW@127.0.0.1:1/x?connect_timeout=1"}, "run", "--history", ok)
	if out.code != ExitOK || strings.Count(out.stderr, "etlhost: history") != 2 || !strings.Contains(out.stderr, "the run was not recorded") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	if strings.Contains(out.stderr, "S3cretPW") {
		t.Fatalf("the password was printed:\n%s", out.stderr)
	}
	out = run(t, nil, "run", "--history", ok)
	if out.code != ExitOK || !strings.Contains(out.stderr, "no default PostgreSQL connection") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	// A [history] connection that does not exist is a configuration error.
	bad := write(t, dir, "bad.toml", "[history]\nconnection = \"nope\"\n")
	if out := run(t, nil, "run", "--config", bad, ok); out.code != ExitUsage || !strings.Contains(out.stderr, "history.connection") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	// An empty history.
	if out := run(t, map[string]string{"ETLHOST_PG_DSN": pgtest.DSN(t)}, "history"); out.code != ExitOK || !strings.Contains(out.stdout, "No run in the history yet") {
		t.Fatalf("exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}
}

// TestHistoryRecordsAnyText (issue 18, item 6): an error with a NUL byte or
// invalid UTF-8, and a result holding a NUL, are recorded (U+FFFD in place
// of what PostgreSQL refuses) beside a well-behaved script's result.
func TestHistoryRecordsAnyText(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	env := map[string]string{"ETLHOST_PG_DSN": dsn}
	dir := t.TempDir()
	good := write(t, dir, "good.lua", "return {rows = 3}")
	nul := write(t, dir, "nul.lua", `error("bad\0byte")`)
	latin1 := write(t, dir, "latin1.lua", `error("caf\233")`)
	result := write(t, dir, "result.lua", `return {rows = 1, note = "a\0b"}`)
	out := run(t, env, "run", "--history", good, nul, latin1, result)
	if out.code != ExitFailed || !strings.Contains(out.stderr, "Recorded as run 1 ") || strings.Contains(out.stderr, "etlhost: history") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	rows := pgtest.QueryRows(t, dsn, `SELECT script, status, split_part(coalesce(error, ''), E'\n', 1), coalesce(result->>'note', '') FROM etlhost.script_runs ORDER BY script`)
	want := fmt.Sprintf("[[good ok  ] [latin1 failed %s:1: caf� ] [nul failed %s:1: bad�byte ] [result ok  a�b]]", latin1, nul)
	if got := fmt.Sprint(rows); got != want {
		t.Fatalf("history rows:\n%s\nwant\n%s", got, want)
	}
}
