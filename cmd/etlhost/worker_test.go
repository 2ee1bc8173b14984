package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/etlhost/etlhost/internal/pgtest"
)

// workerProc is an `etlhost worker` process of a test.
type workerProc struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	done  chan struct{}
}

// startWorker starts the binary's worker on the test database, with dir's
// etlhost.toml, and keeps its stderr lines.
func startWorker(t *testing.T, bin, dsn, dir string, args ...string) *workerProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"worker", "--config", filepath.Join(dir, "etlhost.toml"), "--poll", "100ms"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "ETLHOST_PG_DSN=" + dsn, "TZ=UTC"}
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &workerProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
		}
		cmd.Wait() //nolint:errcheck // the tests read the exit code from ProcessState
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("worker %d said:\n%s", cmd.Process.Pid, p.output())
		}
	})
	waitUntil(t, 60*time.Second, "the worker ready", func() bool { return strings.Contains(p.output(), "etlhost worker: working the queue") })
	return p
}

func (p *workerProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// waitUntil polls cond every 100ms until it holds, failing t after limit.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// etlhostCmd runs the binary's command on the test database and returns
// its stdout, failing t when it does not exit 0.
func etlhostCmd(t *testing.T, bin, dsn, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "ETLHOST_PG_DSN=" + dsn, "TZ=UTC"}
	cmd.Dir = dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("etlhost %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func count(t *testing.T, dsn, sql string, args ...any) int64 {
	t.Helper()
	rows := pgtest.QueryRows(t, dsn, sql, args...)
	return rows[0][0].(int64)
}

// TestWorkersSurviveAKill enqueues 50 jobs, each replacing its own table
// atomically, for two worker processes, and kills one with SIGKILL while
// it runs jobs: River's rescuer gives the dead worker's jobs to the other,
// and every job ends ok exactly once, with its table whole and one ok run
// in the history.
func TestWorkersSurviveAKill(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	// A job may run 2s (+ its grace) before the rescuer takes it for a dead
	// worker's: the rescuer looks every 30s.
	write(t, dir, "etlhost.toml", "[worker]\nrescue_after = \"12s\"\n")
	var paths []string
	for i := 1; i <= 50; i++ {
		paths = append(paths, write(t, dir, fmt.Sprintf("job_%02d.lua", i), fmt.Sprintf(`--! timeout = 2s
local pg, task = require("pg"), require("task")
local db = pg.connect()
db:exec("CREATE TABLE IF NOT EXISTS load_%02d (n int)")
local rows = {}
for n = 1, 100 do rows[n] = {n} end
db:tx(function(tx)
  tx:exec("DELETE FROM load_%02d")
  task.sleep(0.15) -- a kill lands inside the load
  tx:copy("load_%02d", {"n"}, rows)
end)
return {rows = #rows}
`, i, i, i)))
	}
	out := etlhostCmd(t, bin, dsn, dir, append([]string{"enqueue", "--config", filepath.Join(dir, "etlhost.toml")}, paths...)...)
	if n := strings.Count(out, "enqueued "); n != 50 {
		t.Fatalf("enqueue said %d enqueued, want 50:\n%s", n, out)
	}
	a := startWorker(t, bin, dsn, dir, "--jobs", "3")
	startWorker(t, bin, dsn, dir, "--jobs", "3")
	waitUntil(t, 60*time.Second, "worker a running jobs", func() bool { return strings.Contains(a.output(), "start ") })
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.done
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("jobs: %v", pgtest.QueryRows(t, dsn, "SELECT id, args->>'job', state, attempt, errors, attempted_by FROM etlhost_queue.river_job WHERE state <> 'completed'"))
			t.Logf("leader: %v", pgtest.QueryRows(t, dsn, "SELECT * FROM etlhost_queue.river_leader"))
		}
	})
	waitUntil(t, 120*time.Second, "every job completed", func() bool {
		return count(t, dsn, "SELECT count(*) FROM etlhost_queue.river_job WHERE kind = 'etlhost_run' AND state = 'completed'") == 50
	})
	if n := count(t, dsn, "SELECT count(*) FROM etlhost_queue.river_job WHERE kind = 'etlhost_run'"); n != 50 {
		t.Errorf("%d jobs in the queue, want 50", n)
	}
	if n := count(t, dsn, "SELECT count(*) FROM etlhost_queue.river_job WHERE kind = 'etlhost_run' AND attempt > 1"); n == 0 {
		t.Errorf("no job ran twice: the kill hit no running job, so the rescue was not tested")
	}
	for i := 1; i <= 50; i++ {
		if n := count(t, dsn, fmt.Sprintf("SELECT count(*) FROM load_%02d", i)); n != 100 {
			t.Errorf("load_%02d holds %d rows, want 100", i, n)
		}
	}
	rows := pgtest.QueryRows(t, dsn, `SELECT script, count(*) FILTER (WHERE status = 'ok') FROM etlhost.script_runs GROUP BY script ORDER BY script`)
	if len(rows) != 50 {
		t.Errorf("the history holds %d jobs, want 50", len(rows))
	}
	for _, r := range rows {
		if r[1].(int64) != 1 {
			t.Errorf("%s: %d ok runs in the history, want exactly 1", r[0], r[1])
		}
	}
}

// TestPeriodicJobOncePerTick gives two workers a script scheduled every two
// seconds, and a script that runs after it: whichever worker is River's
// leader enqueues each tick once, and the dependent runs after each run.
func TestPeriodicJobOncePerTick(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	write(t, dir, "etlhost.toml", "[worker]\ntime_zone = \"Europe/Paris\"\n")
	tick := write(t, dir, "tick.lua", "--! schedule = */2 * * * * *\nreturn {rows = 1}\n")
	after := write(t, dir, "after_tick.lua", "--! after = tick\nreturn {rows = 2}\n")
	list := etlhostCmd(t, bin, dsn, dir, "schedule", "list", "--config", filepath.Join(dir, "etlhost.toml"), tick, after)
	if !strings.Contains(list, "tick") || !strings.Contains(list, "*/2 * * * * *") || !strings.Contains(list, "Europe/Paris") || strings.Contains(list, "after_tick") {
		t.Errorf("schedule list:\n%s", list)
	}
	a := startWorker(t, bin, dsn, dir, tick, after)
	b := startWorker(t, bin, dsn, dir, tick, after)
	waitUntil(t, 60*time.Second, "four ticks run", func() bool {
		return count(t, dsn, "SELECT count(*) FROM etlhost_queue.river_job WHERE kind = 'etlhost_run' AND args->>'job' = 'after_tick' AND state = 'completed'") >= 4
	})
	for _, p := range []*workerProc{a, b} {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.done
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("worker stopped by SIGTERM exited %d, want 0:\n%s", code, p.output())
		}
	}
	rows := pgtest.QueryRows(t, dsn, "SELECT args->>'tick', count(*) FROM etlhost_queue.river_job WHERE kind = 'etlhost_schedule' GROUP BY 1")
	if len(rows) < 4 {
		t.Errorf("%d ticks, want 4 or more", len(rows))
	}
	for _, r := range rows {
		if r[1].(int64) != 1 {
			t.Errorf("tick %s enqueued %d times, want once", r[0], r[1])
		}
	}
	ticks := count(t, dsn, "SELECT count(*) FROM etlhost_queue.river_job WHERE kind = 'etlhost_schedule' AND state = 'completed'")
	runs := count(t, dsn, "SELECT count(*) FROM etlhost_queue.river_job WHERE kind = 'etlhost_run' AND args->>'job' = 'tick'")
	if runs > ticks {
		t.Errorf("%d runs of tick for %d ticks", runs, ticks)
	}
	if n := count(t, dsn, "SELECT count(*) FROM etlhost_queue.river_job WHERE kind = 'etlhost_run' AND args->>'origin' <> 'schedule */2 * * * * *'"); n != 0 {
		t.Errorf("%d jobs do not say they come from the schedule", n)
	}
}

// TestCancelRunningJob cancels a job in the middle of its load: the job
// ends cancelled, and its table holds what it held before.
func TestCancelRunningJob(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	write(t, dir, "etlhost.toml", "")
	pgtest.Exec(t, dsn, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (1), (2), (3)")
	slow := write(t, dir, "slow_load.lua", `local pg, task = require("pg"), require("task")
pg.connect():tx(function(tx)
  tx:exec("DELETE FROM kept")
  tx:exec("INSERT INTO kept VALUES (99)")
  task.sleep(120)
end)
return {rows = 1}
`)
	etlhostCmd(t, bin, dsn, dir, "enqueue", "--config", filepath.Join(dir, "etlhost.toml"), slow)
	w := startWorker(t, bin, dsn, dir)
	waitUntil(t, 60*time.Second, "the job running", func() bool { return strings.Contains(w.output(), "start     slow_load") })
	id := pgtest.QueryRows(t, dsn, "SELECT id FROM etlhost_queue.river_job WHERE args->>'job' = 'slow_load'")[0][0].(int64)
	out := etlhostCmd(t, bin, dsn, dir, "cancel", "--config", filepath.Join(dir, "etlhost.toml"), fmt.Sprint(id))
	if !strings.Contains(out, "cancelling") {
		t.Errorf("cancel said: %s", out)
	}
	waitUntil(t, 30*time.Second, "the job cancelled", func() bool {
		return count(t, dsn, "SELECT count(*) FROM etlhost_queue.river_job WHERE id = $1 AND state = 'cancelled'", id) == 1
	})
	if got := pgtest.QueryRows(t, dsn, "SELECT string_agg(n::text, ',' ORDER BY n) FROM kept")[0][0]; got != "1,2,3" {
		t.Errorf("kept holds %v after the cancelled load, want 1,2,3", got)
	}
	jobs := etlhostCmd(t, bin, dsn, dir, "jobs", "--config", filepath.Join(dir, "etlhost.toml"))
	if !strings.Contains(jobs, "slow_load") || !strings.Contains(jobs, "cancelled") {
		t.Errorf("etlhost jobs:\n%s", jobs)
	}
	waitUntil(t, 10*time.Second, "the history's cancelled run", func() bool {
		return count(t, dsn, "SELECT count(*) FROM etlhost.script_runs WHERE script = 'slow_load' AND status = 'cancelled'") == 1
	})
}

// TestEnqueuedVersionRuns enqueues a script and its library, then changes
// both on disk before a worker starts: the worker runs what was enqueued.
func TestEnqueuedVersionRuns(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	write(t, dir, "etlhost.toml", "")
	if err := os.Mkdir(filepath.Join(dir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "lib/version.lua", `return "lib v1"`)
	job := write(t, dir, "versioned.lua", `return {script = "script v1", lib = require("version")}`)
	etlhostCmd(t, bin, dsn, dir, "enqueue", "--config", filepath.Join(dir, "etlhost.toml"), job)
	write(t, dir, "lib/version.lua", `return "lib v2"`)
	write(t, dir, "versioned.lua", `return {script = "script v2", lib = require("version")}`)
	startWorker(t, bin, dsn, dir)
	waitUntil(t, 60*time.Second, "the job ran", func() bool {
		return count(t, dsn, "SELECT count(*) FROM etlhost.script_runs WHERE script = 'versioned'") == 1
	})
	got := pgtest.QueryRows(t, dsn, "SELECT status, result->>'script', result->>'lib' FROM etlhost.script_runs WHERE script = 'versioned'")[0]
	if got[0] != "ok" || got[1] != "script v1" || got[2] != "lib v1" {
		t.Errorf("the worker ran %v, want ok, script v1, lib v1 (the version enqueued)", got)
	}
}

// TestWorkerStopsOnSIGTERM sends SIGTERM to a worker running a job, with
// another waiting: the running one finishes ok and the worker exits 0
// without taking the other. A second worker gets two signals while its job
// runs: the job is cancelled, its load rolled back, and it goes back to the
// queue whole (available again); the worker exits 130.
func TestWorkerStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	write(t, dir, "etlhost.toml", "")
	first := write(t, dir, "first.lua", `require("task").sleep(1.5) return {rows = 1}`)
	second := write(t, dir, "second.lua", `return {rows = 2}`)
	etlhostCmd(t, bin, dsn, dir, "enqueue", "--config", filepath.Join(dir, "etlhost.toml"), first)
	w := startWorker(t, bin, dsn, dir)
	waitUntil(t, 30*time.Second, "first running", func() bool { return strings.Contains(w.output(), "start     first") })
	etlhostCmd(t, bin, dsn, dir, "enqueue", "--config", filepath.Join(dir, "etlhost.toml"), second)
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-w.done
	if code := w.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	states := pgtest.QueryRows(t, dsn, "SELECT args->>'job', state FROM etlhost_queue.river_job ORDER BY id")
	if fmt.Sprint(states) != "[[first completed] [second available]]" {
		t.Errorf("after the graceful stop: %v, want first completed and second still available", states)
	}

	pgtest.Exec(t, dsn, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (1)")
	slow := write(t, dir, "slow.lua", `local pg, task = require("pg"), require("task")
pg.connect():tx(function(tx)
  tx:exec("DELETE FROM kept")
  task.sleep(120)
end)
`)
	pgtest.Exec(t, dsn, "DELETE FROM etlhost_queue.river_job")
	etlhostCmd(t, bin, dsn, dir, "enqueue", "--config", filepath.Join(dir, "etlhost.toml"), slow)
	w = startWorker(t, bin, dsn, dir)
	waitUntil(t, 30*time.Second, "slow running", func() bool { return strings.Contains(w.output(), "start     slow") })
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	waitUntil(t, 10*time.Second, "the worker stopping", func() bool { return strings.Contains(w.output(), "stopping: no new jobs") })
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	<-w.done
	if code := w.cmd.ProcessState.ExitCode(); code != ExitInterrupted {
		t.Errorf("exit code %d after two signals, want %d", code, ExitInterrupted)
	}
	if got := pgtest.QueryRows(t, dsn, "SELECT state, attempt FROM etlhost_queue.river_job WHERE args->>'job' = 'slow'")[0]; got[0] != "available" {
		t.Errorf("the cancelled job is %v, want available again for another worker", got)
	}
	if n := count(t, dsn, "SELECT count(*) FROM kept"); n != 1 {
		t.Errorf("kept holds %d rows after the cancelled load, want 1", n)
	}
}
