package main

// `etlhost run`: its flags, and the reporters of a run, wired in one list.

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/report/history"
	"github.com/etlhost/etlhost/report/jsonreport"
	"github.com/etlhost/etlhost/report/live"
	"github.com/etlhost/etlhost/report/metrics"
	"github.com/etlhost/etlhost/report/notify"
	"github.com/etlhost/etlhost/report/text"
)

func (a *App) runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run scripts side by side and report the results",
		ArgsUsage: "SCRIPT...",
		Description: `Runs every SCRIPT (a .lua file) in its own sandboxed Lua state, at most --jobs at
once, each under its timeout. Progress and the scripts' log lines go to stderr as they
happen; at the end a summary lists each script in completion order. With --json the
report is printed on stdout. A script whose header says '--! after = a, b' starts when the
jobs a and b have ended ok, and is skipped when one of them did not; '--! retries = 2' (or
--retries) runs a job that failed on a transient error (a lost connection, Odoo 5xx, a
PostgreSQL deadlock) again, in a fresh state, within its timeout.

Examples:
   etlhost run scripts/*.lua
   etlhost run --jobs 2 --timeout 15m --config etlhost.toml scripts/*.lua
   etlhost run --arg since=2024-01-01 --json scripts/ventes_locales_upsert.lua > report.json
   etlhost run --only aging_report --with-deps scripts/*.lua`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "at most `N` scripts at once", DefaultText: defaultJobsText},
			&cli.DurationFlag{Name: "timeout", Usage: "time limit per script, like 90s or 15m; a script header may set its own", DefaultText: defaultTimeoutText},
			&cli.StringFlag{Name: "max-memory", Usage: "memory limit per script, like 512MiB or 2GiB", DefaultText: defaultMemoryText},
			&cli.BoolFlag{Name: "json", Usage: "print the JSON report on stdout (human output stays on stderr)"},
			configFlag(),
			&cli.StringSliceFlag{Name: "arg", Usage: "`key=value` readable by scripts as etl.args.key (repeatable)"},
			&cli.BoolFlag{Name: "odoo-writes", Usage: "let every script write to Odoo (default: only scripts whose header grants it)"},
			&cli.DurationFlag{Name: "grace", Usage: "how long a stopped script may take to unwind before it is abandoned", DefaultText: defaultGraceText},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print the scripts' log lines as they happen"},
			&cli.BoolFlag{Name: "history", Usage: "record the run in the history (schema etlhost of the default PostgreSQL connection, or of [history] connection)"},
			&cli.StringFlag{Name: "metrics-file", Usage: "write the run's metrics in Prometheus text format to `PATH` (for node_exporter's textfile collector: a .prom file in its folder)"},
			&cli.StringFlag{Name: "notify", Usage: "POST the JSON report to `URL` when the run fails or is interrupted (default: $ETLHOST_NOTIFY_URL)"},
			&cli.BoolFlag{Name: "no-progress", Usage: "print plain timestamped lines even on a terminal (no live view)"},
			&cli.IntFlag{Name: "retries", Usage: "run a job that failed on a transient error (connection lost, Odoo 5xx, a deadlock) again up to `N` times; a script header may set its own", DefaultText: "0"},
			&cli.BoolFlag{Name: "with-deps", Usage: "add the jobs the given ones run after (their header's after) from their folder"},
			&cli.BoolFlag{Name: "full-refresh", Usage: "ask incremental jobs for a full refresh (the same as --arg full_refresh=1)"},
			&cli.StringFlag{Name: "only", Usage: "run only the job `NAME` of the scripts given (with --with-deps, and what it runs after)"},
		},
		Action: a.runAction,
	}
}

// runner builds the host.Runner of a run from its options.
func (a *App) runner(o runOptions, cfg *host.Config) (*host.Runner, func()) {
	mods, closeMods := a.modules(cfg, o.OdooWrites)
	return &host.Runner{
		Modules:       mods,
		Jobs:          o.Jobs,
		Timeout:       o.Timeout,
		TimeoutFrom:   o.TimeoutFrom,
		MaxMemory:     o.MaxMemory,
		MaxMemoryFrom: o.MaxMemoryFrom,
		Retries:       o.Retries,
		RetriesFrom:   o.RetriesFrom,
		WithDeps:      o.WithDeps,
		Grace:         o.Grace,
		Args:          o.Args,
		Now:           a.Now,
		LibDir:        o.LibDir,
	}, closeMods
}

func (a *App) runAction(c *cli.Context) error {
	paths := c.Args().Slice()
	if len(paths) == 0 {
		return usageErr("run: no script given (for example: etlhost run scripts/*.lua)")
	}
	if only := c.String("only"); only != "" {
		var picked []string
		for _, p := range paths {
			if host.ScriptName(p) == only {
				picked = append(picked, p)
			}
		}
		if len(picked) == 0 {
			return usageErr("run --only %s: no script of that name among the %d given", only, len(paths))
		}
		paths = picked
	}
	cfg, err := a.loadConfig(c)
	if err != nil {
		return err
	}
	return a.runScripts(c, cfg, paths)
}

// libBeside makes the library of r, when configuration and flags name
// none, the lib folder beside the first script.
func libBeside(r *host.Runner, paths []string) {
	if r.LibDir == "" {
		r.LibDir = filepath.Join(filepath.Dir(paths[0]), "lib")
	}
}

// runScripts runs the scripts at paths with cfg and the run flags of c,
// reports the run like `etlhost run`, and returns an *exitError carrying
// the run's exit code. The demo command runs its scripts through it too.
func (a *App) runScripts(c *cli.Context, cfg *host.Config, paths []string) error {
	opts, err := resolveRun(c, a.Getenv, cfg)
	if err != nil {
		return usageErr("%v", err)
	}
	r, closeMods := a.runner(opts, cfg)
	defer closeMods()
	libBeside(r, paths)
	scripts, err := r.Load(paths)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}

	// The reporters of the run: each hears every event as it happens, in
	// this order, then reports the run when it ends, in this order too.
	// Those that check their settings say what is wrong before the view
	// starts.
	var (
		hist    = a.historyRecorder(opts, cfg) // --history or [history]: the run history
		prom    = a.metricsFile(c)             // --metrics-file
		hook    = a.notifier(opts)             // --notify or $ETLHOST_NOTIFY_URL
		jsonOut reporter                       // --json: the JSON report on stdout
	)
	if c.Bool("json") {
		jsonOut = &jsonreport.Writer{W: a.Stdout}
	}
	view := a.view(c, len(paths)) // the live view on a terminal, else the text view; the summary
	reporters := nonNil(view, hist, prom, hook, jsonOut)
	observers := make(host.Observers, len(reporters))
	for i, rp := range reporters {
		observers[i] = rp
	}
	r.Observer = observers

	report, err := r.Run(c.Context, scripts)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	for _, rp := range reporters {
		if err := rp.Finish(report); err != nil {
			if rp == jsonOut {
				return &exitError{code: ExitFailed, err: err}
			}
			fmt.Fprintln(a.Stderr, "etlhost:", err) // the run's outcome decides the exit code
		}
	}
	return &exitError{code: statusCode(report.Status)}
}

// reporter is an observer of a run that reports it when it ends.
type reporter interface {
	host.Observer
	Finish(*host.Report) error
}

func nonNil(rs ...reporter) []reporter {
	var out []reporter
	for _, r := range rs {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

// view is the live view when stderr is a terminal that can move its
// cursor (not TERM=dumb) and --no-progress is not given, else the plain
// text view.
func (a *App) view(c *cli.Context, scripts int) reporter {
	cols, tty := live.TerminalWidth(a.Stderr)
	if tty && !c.Bool("no-progress") && a.Getenv("TERM") != "dumb" {
		return live.New(c.Context, a.Stderr, a.Now, live.Options{
			Color: a.Getenv("NO_COLOR") == "",
			Quiet: c.Bool("quiet"),
			Width: cols,
			Total: scripts,
		})
	}
	v := text.NewView(a.Stderr, a.Now, c.Bool("quiet"))
	v.Stamp = a.stampLayout()
	return v
}

// stampLayout is how the text views stamp their lines: the time of day on
// a terminal, the full ISO 8601 date and time in a file or a pipe (a cron
// run's log is read on another day).
func (a *App) stampLayout() string {
	if _, tty := live.TerminalWidth(a.Stderr); tty {
		return text.ShortStamp
	}
	return text.ISOStamp
}

func (a *App) historyRecorder(o runOptions, cfg *host.Config) reporter {
	if o.HistoryConn == "" {
		return nil
	}
	return history.NewRecorder(cfg, o.HistoryConn, version(), a.Stderr)
}

func (a *App) metricsFile(c *cli.Context) reporter {
	if c.String("metrics-file") == "" {
		return nil
	}
	return flagged{&metrics.File{Path: c.String("metrics-file")}, "--metrics-file"}
}

// notifier is the webhook of the run; a URL that is not one is said before
// the run, and then nothing is sent.
func (a *App) notifier(o runOptions) reporter {
	if o.NotifyURL == "" {
		return nil
	}
	w, err := notify.New(o.NotifyURL, "etlhost/"+version())
	if err != nil {
		fmt.Fprintf(a.Stderr, "etlhost: --notify: %v; no notification will be sent\n", err)
		return nil
	}
	return flagged{w, "--notify"}
}

// flagged names the flag that asked for a reporter in its errors.
type flagged struct {
	reporter
	flag string
}

func (f flagged) Finish(rep *host.Report) error {
	if err := f.reporter.Finish(rep); err != nil {
		return fmt.Errorf("%s: %w", f.flag, err)
	}
	return nil
}
