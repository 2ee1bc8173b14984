package scripts_test

// Fault tests: each loads the tables once, keeps their content (etl_loaded_at
// included), makes the next run fail in one way, and checks that every table
// whose load failed holds exactly its previous content: db:replace is one
// transaction, and nothing a failing script did survives it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// loadOnce runs the jobs successfully and returns the tables' content.
func (b *bundle) loadOnce() map[string]table {
	b.t.Helper()
	mustSucceed(b.t, b.run(context.Background(), runOpts{}, jobs...))
	return readAll(b.t, b.dsn, true)
}

// slowCopies makes every row inserted into the three tables wait perRow,
// so that a load's COPY lasts long enough to be caught in the act.
func slowCopies(t *testing.T, dsn string, perRow time.Duration) {
	t.Helper()
	pgtest.Exec(t, dsn, fmt.Sprintf(`CREATE FUNCTION etl_test_slow_row() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_sleep(%g); RETURN NEW; END $$`, perRow.Seconds()))
	for _, n := range tableNames {
		pgtest.Exec(t, dsn, "CREATE TRIGGER slow_rows BEFORE INSERT ON "+n+
			" FOR EACH ROW EXECUTE FUNCTION etl_test_slow_row()")
	}
}

// copyWatch watches pg_stat_activity for the COPY of a load, and
// terminates the backends running one when asked to.
type copyWatch struct {
	mu        sync.Mutex
	seen      map[string]bool // tables whose COPY was seen running
	killed    map[uint32]string
	errs      []error
	stop      chan struct{}
	done      chan struct{}
	terminate bool
}

func watchCopies(t *testing.T, dsn string, terminate bool) *copyWatch {
	t.Helper()
	w := &copyWatch{seen: map[string]bool{}, killed: map[uint32]string{}, stop: make(chan struct{}),
		done: make(chan struct{}), terminate: terminate}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("watch: connect: %v", err)
	}
	go func() {
		defer close(w.done)
		defer conn.Close(context.Background())
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			w.poll(conn)
		}
	}()
	t.Cleanup(w.close)
	return w
}

func (w *copyWatch) poll(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := conn.Query(ctx, `SELECT pid, query FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE 'COPY %'`)
	if err != nil {
		w.fail(err)
		return
	}
	type active struct {
		pid   uint32
		table string
	}
	var found []active
	for rows.Next() {
		var a active
		var q string
		if err := rows.Scan(&a.pid, &q); err != nil {
			w.fail(err)
			return
		}
		if f := strings.Fields(q); len(f) > 1 {
			// COPY "schema"."table" (...): copy qualifies the table it loads.
			a.table = strings.Trim(f[1][strings.LastIndex(f[1], ".")+1:], `"`)
		}
		found = append(found, a)
	}
	if rows.Err() != nil {
		w.fail(rows.Err())
		return
	}
	for _, a := range found {
		w.mu.Lock()
		w.seen[a.table] = true
		_, done := w.killed[a.pid]
		w.mu.Unlock()
		if w.terminate && !done {
			var ok bool
			if err := conn.QueryRow(ctx, "SELECT pg_terminate_backend($1)", a.pid).Scan(&ok); err != nil {
				w.fail(err)
				return
			}
			w.mu.Lock()
			w.killed[a.pid] = a.table
			w.mu.Unlock()
		}
	}
}

func (w *copyWatch) fail(err error) {
	w.mu.Lock()
	w.errs = append(w.errs, err)
	w.mu.Unlock()
}

func (w *copyWatch) close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// seenAll says whether the COPY of every table was seen.
func (w *copyWatch) seenAll() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range tableNames {
		if !w.seen[n] {
			return false
		}
	}
	return true
}

// check stops the watch and fails t unless every table's COPY was seen
// (and terminated, when terminating) and the watch itself worked.
func (w *copyWatch) check(t *testing.T) {
	t.Helper()
	w.close()
	for _, err := range w.errs {
		t.Errorf("watching pg_stat_activity: %v", err)
	}
	for _, n := range tableNames {
		if !w.seen[n] {
			t.Errorf("the COPY into %s was never seen running: the fault did not hit the load", n)
		}
	}
	if w.terminate {
		killed := map[string]bool{}
		for _, table := range w.killed {
			killed[table] = true
		}
		if len(killed) != len(tableNames) {
			t.Errorf("backends terminated during their COPY: %v, want one per table", w.killed)
		}
	}
}

// noCopyLeft fails t when a COPY still runs on the database a few seconds
// after the run ended: a stopped load must not keep working on the server.
func noCopyLeft(t *testing.T, dsn string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows := pgtest.QueryRows(t, dsn, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE 'COPY %'`)
		if rows[0][0].(int64) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d COPY still running on the server after the run ended", rows[0][0])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// afterCalls runs f once the simulator has received n more object calls.
func afterCalls(sim *odoosim.Sim, n int64, f func()) (stop func()) {
	base := sim.Calls()
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for sim.Calls() < base+n {
			select {
			case <-quit:
				return
			case <-time.After(time.Millisecond):
			}
		}
		f()
	}()
	return func() {
		close(quit)
		<-done
	}
}

func statusesOf(rep *host.Report) map[string]host.Status {
	out := map[string]host.Status{}
	for _, r := range rep.Scripts {
		out[r.Name] = r.Status
	}
	return out
}

func wantStatus(t *testing.T, rep *host.Report, want host.Status, errPart string) {
	t.Helper()
	if len(rep.Scripts) != len(jobs) {
		t.Fatalf("%d results, want %d", len(rep.Scripts), len(jobs))
	}
	for _, r := range rep.Scripts {
		if r.Status != want || !strings.Contains(r.Error, errPart) {
			t.Errorf("%s: status %s, error %q; want %s with %q", r.Name, r.Status, r.Error, want, errPart)
		}
	}
}

// TestFaultOdooStopsAnswering: Odoo hangs once the shared reference data
// is read (two calls); every job stops at its timeout and no table changes.
// The latency lets the knob turn before the next calls are answered.
func TestFaultOdooStopsAnswering(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 1500, Seed: 21})
	before := b.loadOnce()
	b.sim.SetLatency(20 * time.Millisecond)
	stop := afterCalls(b.sim, 2, func() { b.sim.Hang(true) })
	rep := b.run(context.Background(), runOpts{timeout: 3 * time.Second, full: true}, jobs...)
	stop()
	b.sim.Hang(false)
	wantStatus(t, rep, host.StatusTimeout, "timeout")
	checkUnchanged(t, b.dsn, before)
}

// TestFaultOdooResetsConnections: once the shared reference data is read,
// Odoo resets every connection; the client's retries give up, every job
// fails, and no table changes.
func TestFaultOdooResetsConnections(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 1500, Seed: 22})
	before := b.loadOnce()
	b.sim.SetLatency(20 * time.Millisecond)
	stop := afterCalls(b.sim, 2, func() { b.sim.ResetEvery(1) })
	rep := b.run(context.Background(), runOpts{timeout: time.Minute, full: true}, jobs...)
	stop()
	b.sim.ResetEvery(0)
	wantStatus(t, rep, host.StatusFailed, "odoo")
	checkUnchanged(t, b.dsn, before)
}

// TestOdooResetsNowAndThen: occasional resets are retried by the client
// (reads only): the run succeeds and loads exactly the expected rows, none
// lost and none twice. With calls in flight side by side, a retry can land
// on the next reset too: the client may retry up to 10 times here, so that
// giving up stays out of the question (1 chance in 7^10).
func TestOdooResetsNowAndThen(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 1500, Seed: 23})
	ex := expectedTables(b.sim.Snapshot())
	b.sim.ResetEvery(7)
	calls := b.sim.Calls()
	mustSucceed(t, b.run(context.Background(), runOpts{retries: 10, full: true, args: map[string]string{"batch": "10"}}, jobs...))
	if n := b.sim.Calls() - calls; n < 14 {
		t.Fatalf("only %d calls: hardly a reset happened", n)
	}
	checkTables(t, b.dsn, ex)
}

// TestFaultBackendTerminated: the PostgreSQL backend of each job is
// terminated (pg_terminate_backend) while its COPY runs; every job fails
// and no table changes.
func TestFaultBackendTerminated(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 1500, Seed: 24})
	before := b.loadOnce()
	slowCopies(t, b.dsn, 5*time.Millisecond)
	w := watchCopies(t, b.dsn, true)
	rep := b.run(context.Background(), runOpts{timeout: time.Minute, full: true}, jobs...)
	w.check(t)
	wantStatus(t, rep, host.StatusFailed, "pg:")
	checkUnchanged(t, b.dsn, before)
}

// TestFaultTimeoutDuringLoad: the jobs' timeout expires while their COPY
// runs; the server stops the COPY, every job times out, no table changes.
func TestFaultTimeoutDuringLoad(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 1500, Seed: 25})
	before := b.loadOnce()
	// About 150 rows a table at 60 ms each: the COPY needs 9 s or more,
	// the jobs have 4 s, of which fetching takes well under one.
	slowCopies(t, b.dsn, 60*time.Millisecond)
	w := watchCopies(t, b.dsn, false)
	rep := b.run(context.Background(), runOpts{timeout: 4 * time.Second, full: true}, jobs...)
	w.check(t)
	wantStatus(t, rep, host.StatusTimeout, "timeout")
	noCopyLeft(t, b.dsn)
	checkUnchanged(t, b.dsn, before)
}

// TestFaultInterruptedWhileFetching: the run is interrupted (as by Ctrl+C:
// its context is cancelled with host.ErrInterrupted) while the jobs wait
// for Odoo; every job is cancelled and no table changes.
func TestFaultInterruptedWhileFetching(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 1500, Seed: 26})
	before := b.loadOnce()
	b.sim.SetLatency(300 * time.Millisecond)
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := afterCalls(b.sim, 4, func() { cancel(host.ErrInterrupted) })
	rep := b.run(ctx, runOpts{timeout: time.Minute, full: true}, jobs...)
	stop()
	cancel(nil)
	if rep.Status != host.StatusCancelled {
		t.Errorf("run status %s, want cancelled (%v)", rep.Status, statusesOf(rep))
	}
	wantStatus(t, rep, host.StatusCancelled, "interrupted")
	checkUnchanged(t, b.dsn, before)
}

// TestFaultSIGINT runs the etlhost binary as an analyst does (etlhost run
// *.lua, connections from the environment) and sends it SIGINT while every
// job's COPY runs: it exits with 130, the server stops the COPYs and no
// table changes.
func TestFaultSIGINT(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "etlhost")
	build := exec.Command("go", "build", "-o", bin, "github.com/etlhost/etlhost/cmd/etlhost")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b := setup(t, odoosim.Options{Moves: 1500, Seed: 27})
	before := b.loadOnce()
	slowCopies(t, b.dsn, 60*time.Millisecond)
	w := watchCopies(t, b.dsn, false)

	cmd := exec.Command(bin, append([]string{"run", "--full-refresh"}, jobs...)...)
	cmd.Env = append(cleanEnv(),
		"ETLHOST_PG_DSN="+b.dsn, "ETLHOST_ODOO_URL="+b.srv.URL, "ETLHOST_ODOO_DB="+b.sim.DB(),
		"ETLHOST_ODOO_USER=admin", "ETLHOST_ODOO_PASSWORD=admin")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
wait:
	for !w.seenAll() {
		select {
		case err := <-exited:
			t.Fatalf("etlhost ended before every COPY was seen (%v):\n%s", err, out.String())
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("no COPY into every table within 60s:\n%s", out.String())
		case <-time.After(10 * time.Millisecond):
			continue wait
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("etlhost still running 30s after SIGINT:\n%s", out.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit: %v, want exit code 130\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "interrupted") {
		t.Errorf("output does not say the run was interrupted:\n%s", out.String())
	}
	w.check(t)
	noCopyLeft(t, b.dsn)
	checkUnchanged(t, b.dsn, before)
}

// cleanEnv is the test's environment without etlhost's own variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETLHOST_") {
			env = append(env, kv)
		}
	}
	return env
}
