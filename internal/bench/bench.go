// Package bench measures whole runs of etlhost against the Python baseline
// it replaces (the finance team's three ETL scripts, xmlrpc.client in and
// psycopg2 out, run side by side by run_all_etls.py), on the same Odoo
// simulator process and the same PostgreSQL, in the same bench run.
//
// Each round runs both sides once, in an order that alternates between
// rounds, each as a child process of its own: the wall time, the client's
// CPU (with the processes it waited for) and peak memory are the child's,
// and the simulator's work counters (GET /sim/stats, reset before each run)
// say what each approach cost the server: calls, records examined by its
// searches, records read, bytes sent. After each etlhost run the baseline's
// verify.py checks the tables etlhost loaded, reading every record from a
// second simulator of the same data without latency or costs, so the
// check neither slows nor counts on the measured server.
//
// The simulator runs as `etlhost odoo-sim` in a process of its own, so the
// CPU it spends serving is not the client's; PostgreSQL is a throwaway
// cluster (internal/pgcluster) with a database for each side.
//
// Without the baseline (a clone of the repository alone has no
// ../shared/baseline) or without /usr/bin/python3 and psycopg2, etlhost
// runs alone with the same figures, and the result says what was left out
// and why.
package bench

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etlhost/etlhost/internal/pgcluster"
)

// Database names of the two sides, in the one cluster.
const (
	baselineDB = "bench_baseline"
	etlhostDB  = "bench_etlhost"
)

// VerifyError is returned by Run, with the whole result, when verify.py
// did not pass etlhost's tables in some rounds: it found them wrong, or it
// crashed before it could tell.
type VerifyError struct {
	Rounds []int
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("verify.py did not pass etlhost's tables in round(s) %v (see above)", e.Rounds)
}

// Run runs the bench: it starts PostgreSQL and the simulators, runs the
// rounds, stops everything and returns the result. A child that does not
// exit 0 stops the bench with an error carrying its output. A failed
// verify does not stop the rounds: Run returns the result with a
// *VerifyError. When ctx ends the running child is stopped and Run returns
// context.Cause(ctx).
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Python == "" {
		o.Python = DefaultPython
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	logf := func(format string, args ...any) { fmt.Fprintf(logw, "bench: "+format+"\n", args...) }
	paths, err := o.scriptPaths()
	if err != nil {
		return nil, err
	}

	res := &Result{
		Machine: Machine{CPUs: runtime.NumCPU(), LoadStart: loadAverage(), Kernel: kernelRelease()},
		Settings: Settings{Moves: o.Moves, Seed: o.Seed, Latency: o.Latency.String(), Workers: o.Workers,
			CostCall: o.CostCall.String(), CostExamine: o.CostExamine.String(), CostRead: o.CostRead.String(),
			Rounds: o.Rounds, Etlhost: o.Exe, Scripts: paths},
	}
	// Is the side-by-side possible?
	switch {
	case o.Baseline == "":
		res.BaselineOmitted = cmp.Or(o.BaselineWhy, "no baseline folder given (--baseline DIR)")
	default:
		if v, err := probePython(ctx, o.Python); err != nil {
			res.BaselineOmitted = err.Error()
		} else {
			res.SideBySide = true
			res.Machine.Python = v
			res.Settings.Baseline = o.Baseline
			res.Settings.Python = o.Python
		}
	}
	if res.SideBySide {
		res.VerifyNote = "verify.py ran on etlhost's tables after each of its runs (and the baseline's after round 1), " +
			"tolerating lines without an account (section and note lines, on which it fails with KeyError: None), " +
			"reading every record from a second simulator process with the same --moves and --seed and no latency or costs, " +
			"so the checks are neither timed nor counted"
	} else {
		res.VerifyNote = "not run (it is part of the baseline, which was left out)"
		logf("the side-by-side part is left out (%s): etlhost runs alone, and verify.py, part of the baseline, does not run", res.BaselineOmitted)
	}

	// A folder of its own for the children: their working directory and
	// home, so no etlhost.toml, history, metrics or audit file of the user
	// is read or written.
	work, err := os.MkdirTemp("", "etlhost-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	// PostgreSQL, a database per side.
	pgcluster.CleanStale()
	start := time.Now()
	dsn, stopPG, err := pgcluster.Start("")
	if err != nil {
		return nil, fmt.Errorf("cannot start PostgreSQL: %w\n%s", err, pgcluster.InstallHint)
	}
	defer func() {
		if err := stopPG(); err != nil {
			logf("stopping PostgreSQL: %v", err)
		}
	}()
	dsns := map[string]string{SideBaseline: pgcluster.WithDatabase(dsn, baselineDB), SideEtlhost: pgcluster.WithDatabase(dsn, etlhostDB)}
	var schema string
	if res.SideBySide {
		b, err := os.ReadFile(filepath.Join(o.Baseline, "schema.sql"))
		if err != nil {
			return nil, err
		}
		schema = string(b)
	}
	dbs, which := []string{etlhostDB}, "database "+etlhostDB
	if res.SideBySide {
		dbs, which = []string{baselineDB, etlhostDB}, "databases "+baselineDB+" and "+etlhostDB
	}
	if res.Machine.PostgreSQL, err = setupDatabases(ctx, dsn, dbs, schema); err != nil {
		return nil, err
	}
	logf("PostgreSQL %s started in %v (throwaway cluster; %s)", res.Machine.PostgreSQL,
		time.Since(start).Round(time.Millisecond), which)

	// The measured simulator, and the one verify.py reads.
	sim, err := startSimLogged(ctx, &o, true, logf)
	if err != nil {
		return nil, err
	}
	defer sim.stop()
	var vsim *simProcess
	if res.SideBySide {
		if vsim, err = startSimLogged(ctx, &o, false, logf); err != nil {
			return nil, err
		}
		defer vsim.stop()
	}

	// The baseline's environment (verify.py's too), and etlhost's.
	pythonEnv := func(simURL, dsn string) []string {
		return childEnv(work, map[string]string{"ODOO_URL": simURL, "ODOO_DB": "demo",
			"ODOO_USER": "admin", "ODOO_PASSWORD": "admin", "PG_DSN": dsn})
	}
	etlhostEnv := func(simURL, dsn string) []string {
		return childEnv(work, map[string]string{"ETLHOST_ODOO_URL": simURL, "ETLHOST_ODOO_DB": "demo",
			"ETLHOST_ODOO_USER": "admin", "ETLHOST_ODOO_PASSWORD": "admin", "ETLHOST_PG_DSN": dsn})
	}
	specs := map[string]childSpec{
		// A full refresh every round: the baseline reads everything every
		// time, and so must the side it is compared with (incremental loads
		// have their own benchmark, scripts.BenchmarkIncremental).
		SideEtlhost: {Path: o.Exe, Args: append([]string{"run", "--quiet", "--no-progress", "--full-refresh"}, paths...),
			Env: etlhostEnv(sim.URL, dsns[SideEtlhost]), Dir: work},
	}
	if res.SideBySide {
		specs[SideBaseline] = childSpec{Path: o.Python, Args: []string{filepath.Join(o.Baseline, "run_all_etls.py")},
			Env: pythonEnv(sim.URL, dsns[SideBaseline]), Dir: work, Tree: true}
	}
	verify := func(side string) *Verify {
		m, out, err := runMeasured(ctx, childSpec{Path: o.Python, Args: []string{"-c", verifyShim, o.Baseline},
			Env: pythonEnv(vsim.URL, dsns[side]), Dir: work})
		v := &Verify{OK: err == nil, Output: string(out), Seconds: seconds(m.Wall)}
		switch {
		case v.OK:
			v.Output = verdictLines(out)
		case !bytes.Contains(out, []byte("\nverify: ")) && !bytes.HasPrefix(out, []byte("verify: ")):
			// No verdict line: it did not get to compare.
			v.Crashed = true
			v.Output = strings.TrimRight(v.Output, "\n") + "\n(" + err.Error() + ")"
		}
		return v
	}

	var failed []int
	for n := 1; n <= o.Rounds; n++ {
		order := []string{SideEtlhost}
		if res.SideBySide {
			order = []string{SideBaseline, SideEtlhost}
			if n%2 == 0 {
				order = []string{SideEtlhost, SideBaseline}
			}
		}
		round := Round{N: n, Order: order}
		for _, side := range order {
			run, err := measureRun(ctx, sim, specs[side])
			if err != nil {
				return nil, fmt.Errorf("round %d, %s: %w", n, side, err)
			}
			logf("round %d/%d, %-8s %7.2fs wall, %6.2fs CPU, %6.1f MB; server: %d calls, %d records examined, %d read",
				n, o.Rounds, side, run.WallSeconds, run.CPUSeconds, float64(run.PeakRSSBytes)/megabyte,
				run.Server.Calls, run.Server.Examined, run.Server.Read)
			if res.SideBySide && (side == SideEtlhost || n == 1) {
				run.Verify = verify(side)
				if err := ctx.Err(); err != nil {
					return nil, context.Cause(ctx)
				}
				logf("round %d/%d, %-8s verify %s (%.1fs)", n, o.Rounds, side, verdict(run.Verify), run.Verify.Seconds)
				if !run.Verify.OK && side == SideEtlhost {
					failed = append(failed, n)
				}
			}
			if side == SideBaseline {
				round.Baseline = run
			} else {
				round.Etlhost = run
			}
		}
		res.Rounds = append(res.Rounds, round)
	}
	res.Summary = summarize(res.Rounds, res.SideBySide)
	res.Machine.LoadEnd = loadAverage()
	if len(failed) > 0 {
		return res, &VerifyError{Rounds: failed}
	}
	return res, nil
}

// measureRun runs one side against sim: reset the counters, run, read
// them.
func measureRun(ctx context.Context, sim *simProcess, spec childSpec) (*SideRun, error) {
	if _, err := sim.Stats.Reset(ctx); err != nil {
		return nil, fmt.Errorf("reset the simulator's counters: %w", err)
	}
	cpu0, err := sim.CPU()
	if err != nil {
		return nil, err
	}
	m, out, err := runMeasured(ctx, spec)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("%w; its output:\n%s", err, strings.TrimRight(string(out), "\n"))
	}
	cpu1, err := sim.CPU()
	if err != nil {
		return nil, err
	}
	st, err := sim.Stats.Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the simulator's counters: %w", err)
	}
	return &SideRun{
		WallSeconds: seconds(m.Wall), CPUSeconds: seconds(m.CPU()),
		UserSeconds: seconds(m.User), SysSeconds: seconds(m.Sys),
		PeakRSSBytes: m.PeakRSS, RunnerRSSBytes: m.RootRSS, ProcessesSummed: m.Children,
		ServerCPUSeconds: seconds(cpu1 - cpu0), Server: st,
	}, nil
}

func startSimLogged(ctx context.Context, o *Options, costs bool, logf func(string, ...any)) (*simProcess, error) {
	start := time.Now()
	sp, err := startSim(ctx, o.Exe, o, costs)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, err
	}
	what := fmt.Sprintf("latency %v, %s, costs %v a call, %v a record examined, %v a record read",
		o.Latency, plural(o.Workers, "worker"), o.CostCall, o.CostExamine, o.CostRead)
	if !costs {
		what = "no latency or costs, for verify.py"
	}
	logf("Odoo simulator (pid %d) on %s: %d moves, seed %d, %s; up in %v", sp.pid, sp.URL, o.Moves, o.Seed, what,
		time.Since(start).Round(time.Millisecond))
	return sp, nil
}

// setupDatabases creates the databases dbs on the cluster at dsn and
// applies schema, when not empty, to the baseline's (etlhost's scripts
// create their tables themselves, with the same DDL). It returns the
// server's version.
func setupDatabases(ctx context.Context, dsn string, dbs []string, schema string) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		return "", err
	}
	for _, db := range dbs {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
			return "", fmt.Errorf("create database %s: %w", db, err)
		}
	}
	if schema == "" {
		return version, nil
	}
	bc, err := pgx.Connect(ctx, pgcluster.WithDatabase(dsn, baselineDB))
	if err != nil {
		return "", fmt.Errorf("connect to database %s: %w", baselineDB, err)
	}
	defer bc.Close(context.Background())
	// No arguments: the simple protocol, which runs several statements.
	if _, err := bc.Exec(ctx, schema); err != nil {
		return "", fmt.Errorf("apply the baseline's schema.sql: %w", err)
	}
	return version, nil
}

// probePython checks that python can run the baseline (psycopg2 imports)
// and returns its version and psycopg2's, or why not.
func probePython(ctx context.Context, python string) (string, error) {
	if _, err := os.Stat(python); err != nil {
		return "", fmt.Errorf("no %s to run the Python baseline", python)
	}
	out, err := exec.CommandContext(ctx, python, "-c",
		"import sys, psycopg2; print('Python', sys.version.split()[0] + ', psycopg2', psycopg2.__version__.split()[0])").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s cannot import psycopg2, which the baseline needs (apt-get install python3-psycopg2): %s",
			python, lastLine(out))
	}
	return strings.TrimSpace(string(out)), nil
}

// childEnv is this process's environment without what could point a child
// at the user's own connections or files (ETLHOST_*, ODOO_*, PG*, HOME,
// XDG_*), with home (a folder of the bench) as HOME and vars added.
func childEnv(home string, vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "ETLHOST_"), strings.HasPrefix(k, "ODOO_"), strings.HasPrefix(k, "PG"),
			strings.HasPrefix(k, "XDG_"), k == "HOME", k == "TERM", k == "NO_COLOR":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "XDG_STATE_HOME="+filepath.Join(home, ".local", "state"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"TERM=dumb", "NO_COLOR=1")
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// verdictLines keeps the lines of verify.py's output that give a verdict
// (one per table, then the total).
func verdictLines(out []byte) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(l, ": expected ") || strings.HasPrefix(l, "verify:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func lastLine(out []byte) string {
	s := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// loadAverage is the 1-minute load average of /proc/loadavg, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// verifyShim runs verify.py as it is but for one lookup. Odoo's section and
// note lines (display_type line_section, line_note) have no account
// (account_id False), and verify.py's accounts[m2o(line['account_id'])]
// fails on them with KeyError: None before it compares anything. The shim
// answers that lookup with "no account type", which is what such a line has
// (it is never on a payable account); every other lookup, rule and
// comparison is verify.py's own. Argument: the baseline folder.
const verifyShim = `import sys
folder = sys.argv[1]
sys.argv = [folder + "/verify.py"]
sys.path.insert(0, folder)
import verify


class Accounts(dict):
    def __missing__(self, key):
        if key is None:  # a line without an account
            return {"account_type": False}
        raise KeyError(key)


read_all = verify.Odoo.all


def read_all_accounts_tolerant(self, model, fields):
    records = read_all(self, model, fields)
    return Accounts(records) if model == "account.account" else records


verify.Odoo.all = read_all_accounts_tolerant
sys.exit(verify.main())
`
