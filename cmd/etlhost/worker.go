package main

// `etlhost worker`, `enqueue`, `jobs`, `cancel`, `schedule list`: etlhost's
// jobs on River, the PostgreSQL job queue (package queue), wired.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/queue"
	"github.com/etlhost/etlhost/report/history"
	"github.com/etlhost/etlhost/report/text"
)

// Defaults of the worker.
const (
	defaultWorkerJobs    = 1
	defaultShutdownGrace = time.Minute
)

// queueTimeout bounds the short talks of enqueue, jobs and cancel.
const queueTimeout = 30 * time.Second

func (a *App) workerCommand() *cli.Command {
	return &cli.Command{
		Name:      "worker",
		Usage:     "work the jobs of the queue (River, on PostgreSQL) until stopped",
		ArgsUsage: "[SCRIPT...]",
		Description: `Joins the queue held in the PostgreSQL of [worker] connection (schema etlhost_queue,
created and migrated at start) and runs its jobs, at most --jobs at once, each exactly as
'etlhost run' runs a script: the same sandbox, modules, connections, timeout, memory limit,
report and run history. Jobs come from 'etlhost enqueue' and from the schedules of the
SCRIPTs given: a header line '--! schedule = 0 2 * * *' (cron, in [worker] time_zone)
makes the script a periodic job that one worker, River's leader, enqueues at each tick,
with the scripts given that run after it. Give every worker the same SCRIPTs.

SIGTERM or Ctrl+C: the worker takes no more jobs and lets the running ones finish within
--shutdown-grace, then exits; a second signal cancels them at once (their loads roll back
and the jobs go back to the queue for another worker).

Examples:
   etlhost worker --jobs 4 scripts/*.lua
   etlhost worker --ui 127.0.0.1:8080 --config /etc/etlhost.toml scripts/*.lua`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "at most `N` jobs at once ([worker] jobs)", DefaultText: strconv.Itoa(defaultWorkerJobs)},
			&cli.DurationFlag{Name: "timeout", Usage: "time limit per job, like 90s or 15m; a script header may set its own", DefaultText: defaultTimeoutText},
			&cli.StringFlag{Name: "max-memory", Usage: "memory limit per job, like 512MiB or 2GiB", DefaultText: defaultMemoryText},
			configFlag(),
			&cli.StringSliceFlag{Name: "arg", Usage: "`key=value` readable by scripts as etl.args.key (repeatable; an enqueue's own beat them)"},
			&cli.BoolFlag{Name: "odoo-writes", Usage: "let every job write to Odoo (default: only scripts whose header grants it)"},
			&cli.DurationFlag{Name: "grace", Usage: "how long a stopped script may take to unwind before it is abandoned", DefaultText: defaultGraceText},
			&cli.DurationFlag{Name: "shutdown-grace", Value: defaultShutdownGrace, Usage: "after SIGTERM, how long running jobs may go on before they are cancelled"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print the jobs' log lines as they happen"},
			&cli.IntFlag{Name: "retries", Usage: "retry a job that failed on a transient error up to `N` times (River's backoff); a script header may set its own", DefaultText: "0"},
			&cli.StringFlag{Name: "ui", Usage: "serve the operators' web page (run history, River's UI) on `ADDR`, like 127.0.0.1:8080"},
			&cli.DurationFlag{Name: "poll", Usage: "how often to look for jobs besides PostgreSQL's notifications", DefaultText: "1s"},
		},
		Action: a.workerAction,
	}
}

// queueDSN is the connection string of the queue: [worker] connection,
// else the default PostgreSQL connection.
func queueDSN(cfg *host.Config) (string, string, error) {
	conn := cfg.Worker.Connection
	if conn == "" {
		conn = "default"
	}
	pc, ok := cfg.Postgres[conn]
	if !ok {
		if conn == "default" {
			return "", conn, errors.New("no PostgreSQL connection for the queue: set [worker] connection, a [postgres.default] section or ETLHOST_PG_DSN")
		}
		return "", conn, fmt.Errorf("[worker] connection: no PostgreSQL connection named %q", conn)
	}
	return pc.DSN, conn, nil
}

// historyConn is where a worker records its jobs: [history] connection,
// else the queue's.
func historyConn(cfg *host.Config, queueConn string) string {
	if cfg.History.Connection != "" {
		return cfg.History.Connection
	}
	return queueConn
}

func (a *App) workerAction(c *cli.Context) error {
	cfg, err := a.loadConfig(c)
	if err != nil {
		return err
	}
	opts, err := resolveRun(c, a.Getenv, cfg)
	if err != nil {
		return usageErr("%v", err)
	}
	jobs := defaultWorkerJobs
	switch {
	case c.IsSet("jobs"):
		jobs = c.Int("jobs")
	case cfg.Worker.Jobs > 0:
		jobs = cfg.Worker.Jobs
	}
	if jobs < 1 {
		return usageErr("--jobs must be 1 or more")
	}
	dsn, conn, err := queueDSN(cfg)
	if err != nil {
		return usageErr("%v", err)
	}
	r, closeMods := a.runner(opts, cfg)
	defer closeMods()
	var scheduled []*host.Script
	if paths := c.Args().Slice(); len(paths) > 0 {
		libBeside(r, paths)
		if scheduled, err = loadJobs(r, paths); err != nil {
			return &exitError{code: ExitUsage, err: err}
		}
	}
	hist, err := history.Open(cfg, historyConn(cfg, conn))
	if err != nil {
		return &exitError{code: ExitUsage, err: fmt.Errorf("worker: history: %w", err)}
	}
	defer hist.Close()
	quiet := c.Bool("quiet")
	w, err := queue.NewWorker(c.Context, dsn, queue.WorkerConfig{
		Runner:       r,
		Jobs:         jobs,
		Scheduled:    scheduled,
		LibDir:       r.LibDir,
		Location:     cfg.Worker.Location,
		RescueAfter:  cfg.Worker.RescueAfter.Duration,
		PollInterval: c.Duration("poll"),
		Stderr:       a.Stderr,
		Reporters: func(queue.Job) []queue.Reporter {
			v := text.NewView(a.Stderr, a.Now, quiet)
			v.Stamp = text.ISOStamp
			return []queue.Reporter{v, history.NewSharedRecorder(hist, version(), a.Stderr)}
		},
	})
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	defer w.Close()
	// The client lives until Stop: the command's context ends at the
	// first signal, which must not cut the running jobs short.
	if err := w.Start(context.WithoutCancel(c.Context)); err != nil {
		return &exitError{code: ExitFailed, err: err}
	}
	stopUI, err := a.serveUI(c.Context, c.String("ui"), 0, cfg, hist, w.Client())
	if err != nil {
		_ = w.StopAndCancel(context.Background())
		return err
	}
	defer stopUI()
	fmt.Fprintf(a.Stderr, "etlhost worker: working the queue (schema %s of connection %q), %d job(s) at once; %d schedule(s)\n",
		queue.Schema, conn, jobs, countScheduled(scheduled))
	<-c.Context.Done()
	grace := c.Duration("shutdown-grace")
	fmt.Fprintf(a.Stderr, "etlhost worker: stopping: no new jobs; running jobs have %v to finish (signal again to cancel them)\n", grace)
	stopCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- w.Stop(stopCtx) }()
	select {
	case err := <-stopped:
		if err == nil {
			fmt.Fprintln(a.Stderr, "etlhost worker: stopped")
			return nil
		}
		fmt.Fprintf(a.Stderr, "etlhost worker: the running jobs did not finish within %v: cancelling them\n", grace)
	case <-a.Again:
		fmt.Fprintln(a.Stderr, "etlhost worker: cancelling the running jobs")
	}
	cancelCtx, cancel2 := context.WithTimeout(context.Background(), opts.Grace+host.DefaultGrace+5*time.Second)
	defer cancel2()
	if err := w.StopAndCancel(cancelCtx); err != nil {
		return &exitError{code: ExitInterrupted, err: fmt.Errorf("worker: %w", err)}
	}
	return &exitError{code: ExitInterrupted}
}

func countScheduled(scripts []*host.Script) int {
	n := 0
	for _, s := range scripts {
		if s.Schedule != nil {
			n++
		}
	}
	return n
}

// loadJobs loads the scripts at paths as a run would, and refuses any that
// does not compile: a queue must not carry a broken script to every worker.
func loadJobs(r *host.Runner, paths []string) ([]*host.Script, error) {
	scripts, err := r.Load(paths)
	if err != nil {
		return nil, err
	}
	var jobs []*host.Script
	for _, s := range scripts {
		if err := s.Err(); err != nil {
			return nil, err
		}
		if !host.IsTestFile(s.Path) {
			jobs = append(jobs, s)
		}
	}
	return jobs, nil
}

func (a *App) enqueueCommand() *cli.Command {
	return &cli.Command{
		Name:      "enqueue",
		Usage:     "put scripts in the queue for the workers to run",
		ArgsUsage: "SCRIPT...",
		Description: `Inserts one job per SCRIPT into the queue of [worker] connection, storing the script and
every file of its library (lib/ beside it) by their hash: a worker runs exactly the version
enqueued, whatever its own disk holds. A job whose header says '--! after = a, b' is
enqueued when a and b end ok, and skipped when one does not. A job of a name already
pending or running is not enqueued again. Nothing is enqueued when a script has an error.

Examples:
   etlhost enqueue scripts/*.lua
   etlhost enqueue --arg since=2024-01-01 scripts/ventes_locales_upsert.lua
   etlhost enqueue --only aging_report --with-deps scripts/*.lua`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			configFlag(),
			&cli.StringSliceFlag{Name: "arg", Usage: "`key=value` readable by the scripts as etl.args.key (repeatable)"},
			&cli.BoolFlag{Name: "with-deps", Usage: "add the jobs the given ones run after (their header's after) from their folder"},
			&cli.BoolFlag{Name: "full-refresh", Usage: "ask incremental jobs for a full refresh (the same as --arg full_refresh=1)"},
			&cli.StringFlag{Name: "only", Usage: "enqueue only the job `NAME` of the scripts given (with --with-deps, and what it runs after)"},
			&cli.BoolFlag{Name: "json", Usage: "print what was enqueued as JSON"},
		},
		Action: a.enqueueAction,
	}
}

func (a *App) enqueueAction(c *cli.Context) error {
	paths, err := pickScripts(c.Args().Slice(), c.String("only"), "enqueue")
	if err != nil {
		return err
	}
	cfg, err := a.loadConfig(c)
	if err != nil {
		return err
	}
	opts, err := resolveRun(c, a.Getenv, cfg)
	if err != nil {
		return usageErr("%v", err)
	}
	dsn, _, err := queueDSN(cfg)
	if err != nil {
		return usageErr("%v", err)
	}
	r, closeMods := a.runner(opts, cfg)
	defer closeMods()
	libBeside(r, paths)
	scripts, err := loadJobs(r, paths)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	batch := &queue.Batch{Args: opts.Args, Origin: "enqueue"}
	if len(batch.Args) == 0 {
		batch.Args = nil
	}
	for _, s := range scripts {
		src, err := os.ReadFile(s.Path)
		if err != nil {
			return &exitError{code: ExitUsage, err: err}
		}
		// What is stored is what compiled: the file read again must be it.
		if _, err := host.CompileScript(s.Name, s.Path, src, r.HeaderKeys()); err != nil {
			return &exitError{code: ExitUsage, err: err}
		}
		batch.Scripts = append(batch.Scripts, queue.Script{Name: s.Name, Path: s.Path, After: s.After, Source: src})
	}
	if batch.Lib, err = queue.ReadLib(r.LibDir); err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	ctx, cancel := context.WithTimeout(c.Context, queueTimeout)
	defer cancel()
	q, err := queue.Open(ctx, dsn)
	if err != nil {
		return &exitError{code: ExitFailed, err: err}
	}
	defer q.Close()
	out, err := q.Enqueue(ctx, batch)
	if err != nil {
		return &exitError{code: ExitFailed, err: err}
	}
	if c.Bool("json") {
		return writeJSON(a, out)
	}
	queue.WriteEnqueued(a.Stdout, out)
	return nil
}

// pickScripts is the scripts given, or only the one named by --only.
func pickScripts(paths []string, only, command string) ([]string, error) {
	if len(paths) == 0 {
		return nil, usageErr("%s: no script given (for example: etlhost %s scripts/*.lua)", command, command)
	}
	if only == "" {
		return paths, nil
	}
	var picked []string
	for _, p := range paths {
		if host.ScriptName(p) == only {
			picked = append(picked, p)
		}
	}
	if len(picked) == 0 {
		return nil, usageErr("%s --only %s: no script of that name among the %d given", command, only, len(paths))
	}
	return picked, nil
}

func writeJSON(a *App, v any) error {
	enc := json.NewEncoder(a.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return &exitError{code: ExitFailed, err: err}
	}
	return nil
}

func (a *App) openQueue(c *cli.Context) (*queue.Queue, *host.Config, context.Context, func(), error) {
	cfg, err := a.loadConfig(c)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	dsn, _, err := queueDSN(cfg)
	if err != nil {
		return nil, nil, nil, nil, usageErr("%v", err)
	}
	ctx, cancel := context.WithTimeout(c.Context, queueTimeout)
	q, err := queue.Open(ctx, dsn)
	if err != nil {
		cancel()
		return nil, nil, nil, nil, &exitError{code: ExitFailed, err: err}
	}
	return q, cfg, ctx, func() { q.Close(); cancel() }, nil
}

func (a *App) jobsCommand() *cli.Command {
	return &cli.Command{
		Name:  "jobs",
		Usage: "list the jobs of the queue, the newest first",
		Description: `Lists the jobs of the queue with River's state (available, running, retryable,
completed, cancelled, discarded) and etlhost's status of their last attempt.

Examples:
   etlhost jobs
   etlhost jobs --state running --state available
   etlhost jobs --job ventes_locales_upsert --last 10 --json`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			configFlag(),
			&cli.StringSliceFlag{Name: "state", Usage: "only jobs in River's `STATE` (repeatable)"},
			&cli.StringFlag{Name: "job", Usage: "only the jobs of `NAME`"},
			&cli.IntFlag{Name: "last", Value: 50, Usage: "the `N` most recent jobs"},
			&cli.BoolFlag{Name: "json", Usage: "print the jobs as JSON"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usageErr("jobs: unexpected argument %q (use --job NAME)", c.Args().First())
			}
			for _, s := range c.StringSlice("state") {
				if !validState(s) {
					return usageErr("jobs --state %s: not one of River's states (available, cancelled, completed, discarded, pending, retryable, running, scheduled)", s)
				}
			}
			q, cfg, ctx, done, err := a.openQueue(c)
			if err != nil {
				return err
			}
			defer done()
			jobs, err := q.List(ctx, queue.ListQuery{States: c.StringSlice("state"), Job: c.String("job"), Last: c.Int("last")})
			if err != nil {
				return &exitError{code: ExitFailed, err: err}
			}
			if c.Bool("json") {
				return writeJSON(a, jobs)
			}
			queue.WriteJobs(a.Stdout, jobs, cfg.Worker.Location)
			return nil
		},
	}
}

func validState(s string) bool {
	switch s {
	case "available", "cancelled", "completed", "discarded", "pending", "retryable", "running", "scheduled":
		return true
	}
	return false
}

func (a *App) cancelCommand() *cli.Command {
	return &cli.Command{
		Name:      "cancel",
		Usage:     "cancel jobs of the queue",
		ArgsUsage: "ID...",
		Description: `Cancels each job ID (as 'etlhost jobs' lists them). A job not yet running never runs;
a running job's script is cancelled on its worker within its grace, and an atomic load
leaves its table as it was. The jobs that run after it are skipped.`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags:        []cli.Flag{configFlag()},
		Action: func(c *cli.Context) error {
			if c.Args().Len() == 0 {
				return usageErr("cancel: no job ID given (etlhost jobs lists them)")
			}
			var ids []int64
			for _, arg := range c.Args().Slice() {
				id, err := strconv.ParseInt(arg, 10, 64)
				if err != nil || id <= 0 {
					return usageErr("cancel: %q is not a job ID (a number, as etlhost jobs lists them)", arg)
				}
				ids = append(ids, id)
			}
			q, _, ctx, done, err := a.openQueue(c)
			if err != nil {
				return err
			}
			defer done()
			failed := 0
			for _, id := range ids {
				j, err := q.Cancel(ctx, id)
				if err != nil {
					fmt.Fprintln(a.Stderr, "etlhost:", err)
					failed++
					continue
				}
				switch j.State {
				case "running":
					fmt.Fprintf(a.Stdout, "job %d %s: cancelling (its worker stops the script)\n", j.ID, j.Job)
				case "cancelled":
					fmt.Fprintf(a.Stdout, "job %d %s: cancelled\n", j.ID, j.Job)
				default:
					fmt.Fprintf(a.Stdout, "job %d %s: already %s, not cancelled\n", j.ID, j.Job, j.State)
				}
			}
			if failed > 0 {
				return &exitError{code: ExitFailed}
			}
			return nil
		},
	}
}

func (a *App) scheduleCommand() *cli.Command {
	return &cli.Command{
		Name:  "schedule",
		Usage: "show the schedules of scripts (their --! schedule headers)",
		Subcommands: []*cli.Command{{
			Name:      "list",
			Usage:     "list each scheduled script with its next runs",
			ArgsUsage: "SCRIPT...",
			Description: `Shows, for each SCRIPT whose header has '--! schedule = CRON', its next runs in the time
zone of [worker] time_zone (UTC by default), as the workers given these scripts enqueue
them.

Example:
   etlhost schedule list scripts/*.lua`,
			OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
			Flags: []cli.Flag{
				configFlag(),
				&cli.IntFlag{Name: "next", Value: 3, Usage: "how many of the next runs to show (`N`)"},
			},
			Action: func(c *cli.Context) error {
				if c.Args().Len() == 0 {
					return usageErr("schedule list: no script given (for example: etlhost schedule list scripts/*.lua)")
				}
				if c.Int("next") < 1 {
					return usageErr("--next must be 1 or more")
				}
				cfg, err := a.loadConfig(c)
				if err != nil {
					return err
				}
				mods, closeMods := a.modules(&host.Config{}, false)
				defer closeMods()
				scripts, err := loadJobs(&host.Runner{Modules: mods, WithDeps: true}, c.Args().Slice())
				if err != nil {
					return &exitError{code: ExitUsage, err: err}
				}
				queue.WriteNextRuns(a.Stdout, queue.NextRuns(scripts, cfg.Worker.Location, a.Now(), c.Int("next")), cfg.Worker.Location)
				return nil
			},
		}},
	}
}
