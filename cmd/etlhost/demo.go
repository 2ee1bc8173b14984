package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/pgcluster"
	"github.com/etlhost/etlhost/odoo/odoosim"
	"github.com/etlhost/etlhost/report/text"
)

// demoCommand is `etlhost demo`: the README's first command. It brings up
// everything the ETL jobs need on this machine alone — a throwaway
// PostgreSQL and the Odoo simulator — runs the jobs exactly as `etlhost
// run` does, shows what they loaded, and takes everything down again, also
// on Ctrl+C.
func (a *App) demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run the ETL jobs against a throwaway PostgreSQL and the Odoo simulator",
		Description: `Starts a throwaway PostgreSQL (initdb and postgres from PATH or
/usr/lib/postgresql/*/bin, in a temporary directory, on a Unix socket) and the Odoo
simulator on 127.0.0.1 with generated accounting data, runs the ETL scripts (every
.lua file of --scripts) as 'etlhost run' does, prints a few rows of each table they
loaded, then stops the simulator and PostgreSQL and removes the directory — also when
interrupted. The exit code is the run's.

With --bench it measures whole runs instead (20000 moves unless --moves says
otherwise): the scripts one after another (--jobs 1) and together on a simulator
answering in 5 ms, then, with 50 ms, the scripts without light threads
(DIR/testdata/sequential) and the real ones, and prints the wall times and ratios.

Examples:
   etlhost demo
   etlhost demo --moves 2000 --seed 7 --latency 5ms
   etlhost demo --bench --reps 5`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "moves", Value: defaultSimMoves, Usage: "account.move records the simulator generates"},
			&cli.Int64Flag{Name: "seed", Value: defaultSimSeed, Usage: "generator seed (same seed, same data)"},
			&cli.DurationFlag{Name: "latency", Usage: "latency the simulator adds to every call, like 5ms"},
			&cli.StringFlag{Name: "scripts", Usage: "folder of the ETL scripts, with lib/ inside (default: scripts/ of the repository)"},
			&cli.IntFlag{Name: "rows", Value: 5, Usage: "rows of each table to show"},
			&cli.IntFlag{Name: "odoo-max-in-flight", Value: 8, Usage: "Odoo requests in flight at once, shared by all scripts (max_in_flight)"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "at most `N` scripts at once", DefaultText: defaultJobsText},
			&cli.DurationFlag{Name: "timeout", Usage: "time limit per script", DefaultText: defaultTimeoutText},
			&cli.StringSliceFlag{Name: "arg", Usage: "`key=value` readable by scripts as etl.args.key (repeatable)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print the scripts' log lines as they happen"},
			&cli.BoolFlag{Name: "bench", Usage: "measure whole runs (see above) instead of showing the tables"},
			&cli.IntFlag{Name: "reps", Value: 3, Usage: "repetitions of each measured run (--bench)"},
		},
		Action: a.demoAction,
	}
}

func (a *App) demoAction(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return usageErr("demo takes no arguments (got %q); use --scripts DIR", c.Args().First())
	}
	if c.Int("moves") < 0 || c.Int("rows") < 0 || c.Int("odoo-max-in-flight") < 0 || c.Int("reps") < 1 {
		return usageErr("--moves, --rows and --odoo-max-in-flight cannot be negative, --reps must be at least 1")
	}
	if c.Bool("bench") && c.IsSet("jobs") {
		return usageErr("--bench sets --jobs itself")
	}
	dir, err := demoScriptsDir(c.String("scripts"))
	if err != nil {
		return usageErr("%v", err)
	}
	paths, err := luaFiles(dir)
	if err != nil {
		return usageErr("%v", err)
	}
	moves := c.Int("moves")
	latency := c.Duration("latency")

	ctx := c.Context
	env, err := a.startDemo(ctx, moves, c.Int64("seed"), latency)
	if env != nil {
		// Runs on every way out, Ctrl+C included (main cancels the
		// context; a second Ctrl+C exits at once and the server dies
		// with this process through its parent-death signal).
		defer env.close(a.Stderr)
	}
	if err != nil {
		return err
	}
	env.maxInFlight = c.Int("odoo-max-in-flight")
	if c.Bool("bench") {
		return a.demoBench(c, env, dir, paths)
	}

	fmt.Fprintf(a.Stderr, "demo: running %d scripts of %s\n", len(paths), dir)
	runErr := a.runScripts(c, env.config(dir), paths)
	if ctx.Err() == nil {
		if err := showTables(ctx, a.Stdout, env.dsn, c.Int("rows")); err != nil {
			fmt.Fprintln(a.Stderr, "demo: cannot show the tables:", err)
		}
	}
	return runErr
}

// demoEnv is what the demo started: stop it with close.
type demoEnv struct {
	// maxInFlight is the Odoo connection's max_in_flight (0: the default).
	maxInFlight int
	dsn         string
	stopPG      func() error
	sim         *odoosim.Server
}

// startDemo starts PostgreSQL and the simulator. On error, the returned env
// (when not nil) holds what did start, for the caller to close.
func (a *App) startDemo(ctx context.Context, moves int, seed int64, latency time.Duration) (*demoEnv, error) {
	interrupted := func() error {
		return &exitError{code: ExitInterrupted, err: fmt.Errorf("demo: %v", context.Cause(ctx))}
	}
	pgcluster.CleanStale()
	start := time.Now()
	dsn, stop, err := pgcluster.Start("")
	if err != nil {
		return nil, &exitError{code: ExitFailed, err: fmt.Errorf("demo: cannot start PostgreSQL: %w\n%s", err, pgcluster.InstallHint)}
	}
	env := &demoEnv{dsn: dsn, stopPG: stop}
	fmt.Fprintf(a.Stderr, "demo: PostgreSQL started in %v (throwaway cluster in %s)\n",
		time.Since(start).Round(time.Millisecond), clusterDir(dsn))
	if ctx.Err() != nil {
		return env, interrupted()
	}
	start = time.Now()
	if moves == 0 {
		moves = -1 // for odoosim 0 means its default; the demo asked for none
	}
	env.sim = odoosim.NewServer(odoosim.Options{Moves: moves, Seed: seed, Latency: latency})
	fmt.Fprintf(a.Stderr, "demo: Odoo simulator on %s with %d moves (seed %d, latency %v), generated in %v\n",
		env.sim.URL, len(env.sim.Sim().Snapshot().Moves), seed, latency, time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		return env, interrupted()
	}
	return env, nil
}

// clusterDir is the socket directory of a pgcluster DSN, which is also the
// cluster's directory: "host=/tmp/etlhost-pg-123 port=5432 ...".
func clusterDir(dsn string) string {
	for _, f := range strings.Fields(dsn) {
		if dir, ok := strings.CutPrefix(f, "host="); ok {
			return dir
		}
	}
	return "?"
}

// config is the configuration of a run against the demo's servers.
func (e *demoEnv) config(scriptsDir string) *host.Config {
	vars := map[string]string{
		"ETLHOST_PG_DSN":        e.dsn,
		"ETLHOST_ODOO_URL":      e.sim.URL,
		"ETLHOST_ODOO_DB":       e.sim.Sim().DB(),
		"ETLHOST_ODOO_USER":     "admin",
		"ETLHOST_ODOO_PASSWORD": "admin",
	}
	cfg, err := host.LoadConfig("", func(k string) string { return vars[k] })
	if err != nil {
		panic("demo configuration: " + err.Error()) // built here: cannot be wrong
	}
	cfg.Run.Lib = filepath.Join(scriptsDir, "lib")
	oc := cfg.Odoo["default"]
	oc.MaxInFlight = e.maxInFlight
	cfg.Odoo["default"] = oc
	return cfg
}

func (e *demoEnv) close(w io.Writer) {
	if e.sim != nil {
		e.sim.Close()
	}
	if err := e.stopPG(); err != nil {
		fmt.Fprintln(w, "demo: stopping PostgreSQL:", err)
		return
	}
	fmt.Fprintln(w, "demo: stopped the Odoo simulator and PostgreSQL")
}

// demoScriptsDir is --scripts, or scripts/ in the working directory or the
// nearest parent that is the repository (holds go.mod).
func demoScriptsDir(flag string) (string, error) {
	if flag != "" {
		if st, err := os.Stat(flag); err != nil || !st.IsDir() {
			return "", fmt.Errorf("--scripts %s: not a folder", flag)
		}
		return flag, nil
	}
	if st, err := os.Stat("scripts"); err == nil && st.IsDir() {
		return "scripts", nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if st, err := os.Stat(filepath.Join(d, "scripts")); err == nil && st.IsDir() {
				return filepath.Join(d, "scripts"), nil
			}
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no scripts/ folder here or in the repository above: use --scripts DIR")
		}
	}
}

func luaFiles(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.lua"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no .lua scripts in %s", dir)
	}
	slices.Sort(paths)
	return paths, nil
}

// showTables prints, for each table of the public schema, its row count
// and its first rows (all columns but etl_loaded_at, as text).
func showTables(ctx context.Context, w io.Writer, dsn string, n int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT table_name::text FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'etlhost_state' ORDER BY 1`)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, t := range tables {
		if err := showTable(ctx, conn, w, t, n); err != nil {
			return fmt.Errorf("table %s: %w", t, err)
		}
	}
	return nil
}

func showTable(ctx context.Context, conn *pgx.Conn, w io.Writer, table string, n int) error {
	rows, err := conn.Query(ctx, `SELECT column_name::text FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name = $1 AND column_name <> 'etl_loaded_at' ORDER BY ordinal_position`, table)
	if err != nil {
		return err
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	id := pgx.Identifier{table}.Sanitize()
	var count int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+id).Scan(&count); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s: %d rows", table, count)
	if count > int64(n) && n > 0 {
		fmt.Fprintf(w, " (the first %d)", n)
	}
	fmt.Fprintln(w)
	if n == 0 || count == 0 || len(cols) == 0 {
		return nil
	}
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = pgx.Identifier{c}.Sanitize() + "::text"
	}
	// Sorted by the first column's own type (the key), not its text.
	rows, err = conn.Query(ctx, fmt.Sprintf("SELECT %s FROM %s AS src ORDER BY src.%s LIMIT %d",
		strings.Join(sel, ", "), id, pgx.Identifier{cols[0]}.Sanitize(), n))
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  "+strings.Join(cols, "\t"))
	vals := make([]*string, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	_, err = pgx.ForEachRow(rows, dest, func() error {
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = "NULL"
			if v != nil {
				cells[i] = text.Truncate(*v, 32)
			}
		}
		fmt.Fprintln(tw, "  "+strings.Join(cells, "\t"))
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Flush()
}

// --- bench -----------------------------------------------------------------

// demoBench measures whole runs on the demo's servers: the scripts one
// after another and together (5 ms latency), and the scripts without light
// threads against the real ones (50 ms). Each figure is the median of
// --reps runs; every run builds its modules afresh, as `etlhost run` does.
func (a *App) demoBench(c *cli.Context, env *demoEnv, dir string, paths []string) error {
	seqDir := filepath.Join(dir, "testdata", "sequential")
	seqPaths, err := luaFiles(seqDir)
	if err != nil {
		return usageErr("--bench needs the scripts without light threads: %v", err)
	}
	reps := c.Int("reps")
	sim := env.sim.Sim()
	measure := func(label string, paths []string, jobs int, latency time.Duration) (time.Duration, error) {
		sim.SetLatency(latency)
		var times []time.Duration
		for i := 0; i < reps; i++ {
			d, err := a.benchRun(c, env.config(dir), paths, jobs)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", label, err)
			}
			times = append(times, d)
		}
		med := median(times)
		fmt.Fprintf(a.Stdout, "  %-52s %8s   (runs: %s)\n", label, fmtSeconds(med), fmtTimes(times))
		return med, nil
	}

	fmt.Fprintf(a.Stdout, "bench: %d moves (seed %d), median wall time of %d whole runs each; Odoo max_in_flight %d; %d CPUs%s\n",
		len(sim.Snapshot().Moves), c.Int64("seed"), reps, env.maxInFlight, runtime.NumCPU(), loadAverage())
	// A first run, not measured, creates the tables and warms the caches.
	sim.SetLatency(5 * time.Millisecond)
	if _, err := a.benchRun(c, env.config(dir), paths, 0); err != nil {
		return fmt.Errorf("warm-up run: %w", err)
	}

	fmt.Fprintln(a.Stdout, "latency 5ms:")
	one, err := measure("the three scripts one after another (--jobs 1)", paths, 1, 5*time.Millisecond)
	if err != nil {
		return err
	}
	all, err := measure("the three scripts together", paths, 0, 5*time.Millisecond)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "  together vs one after another: %.2fx faster\n", ratio(one, all))

	fmt.Fprintln(a.Stdout, "latency 50ms, the three scripts together:")
	before, err := measure("before: without light threads ("+filepath.Join("testdata", "sequential")+")", seqPaths, 0, 50*time.Millisecond)
	if err != nil {
		return err
	}
	after, err := measure("after: the scripts with task concurrency", paths, 0, 50*time.Millisecond)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "  after vs before: %.2fx faster\n", ratio(before, after))
	return nil
}

// benchRun runs the scripts once, quietly, with jobs scripts at once (0:
// all), and returns the wall time. A run that does not end ok is an error
// showing its output.
func (a *App) benchRun(c *cli.Context, cfg *host.Config, paths []string, jobs int) (time.Duration, error) {
	cfg.Run.Jobs = jobs
	var out bytes.Buffer
	quiet := &App{Stdin: a.Stdin, Stdout: &out, Stderr: &out, Getenv: a.Getenv, Now: a.Now}
	start := time.Now()
	err := quiet.runScripts(c, cfg, paths)
	d := time.Since(start)
	var ee *exitError
	if errors.As(err, &ee) && ee.code == ExitOK {
		return d, nil
	}
	if c.Context.Err() != nil {
		return 0, &exitError{code: ExitInterrupted, err: fmt.Errorf("bench: %v", context.Cause(c.Context))}
	}
	return 0, &exitError{code: ExitFailed, err: fmt.Errorf("a run failed (%v):\n%s", err, out.String())}
}

// loadAverage is ", load average X" from /proc/loadavg, or "": figures
// taken on a busy machine say so.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return ", load average " + f[0]
	}
	return ""
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ratio(slow, fast time.Duration) float64 {
	if fast <= 0 {
		return 0
	}
	return float64(slow) / float64(fast)
}

func fmtSeconds(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

func fmtTimes(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = fmtSeconds(d)
	}
	return strings.Join(s, " ")
}
