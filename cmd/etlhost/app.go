package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/report/history"
	"github.com/etlhost/etlhost/report/jsonreport"
	"github.com/etlhost/etlhost/report/live"
	"github.com/etlhost/etlhost/report/metrics"
	"github.com/etlhost/etlhost/report/notify"
	"github.com/etlhost/etlhost/report/text"
)

// Exit codes of etlhost, in one place.
const (
	ExitOK          = 0   // every script ok
	ExitFailed      = 1   // a script failed or timed out (check: a script does not compile)
	ExitUsage       = 2   // bad flags, arguments, header or configuration: nothing ran
	ExitInterrupted = 130 // Ctrl+C or SIGTERM
)

// Version is set at build time (-ldflags "-X main.Version=...").
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// App is the etlhost command with its surroundings injected, so tests run
// it in process.
type App struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time
}

// exitError carries an exit code out of a cli action.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func usageErr(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// Run runs etlhost with args (args[0] is the program name) and returns the
// exit code.
func (a *App) Run(ctx context.Context, args []string) int {
	if a.Getenv == nil {
		a.Getenv = os.Getenv
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	app := a.cliApp()
	err := app.RunContext(ctx, args)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(a.Stderr, "etlhost:", ee.err)
			if ee.code == ExitUsage {
				fmt.Fprintln(a.Stderr, "Run 'etlhost --help' for usage.")
			}
		}
		return ee.code
	}
	// urfave/cli reports flag and command errors itself with usage.
	fmt.Fprintln(a.Stderr, "etlhost:", err)
	fmt.Fprintln(a.Stderr, "Run 'etlhost --help' for usage.")
	return ExitUsage
}

// cliApp is etlhost's command line: every command, in the order of
// `etlhost --help`.
func (a *App) cliApp() *cli.App {
	shareHelpAndVersionFlags()
	commands := []*cli.Command{
		a.runCommand(),
		a.checkCommand(),
		a.versionCommand(),
		a.benchCommand(),
		a.demoCommand(),
		a.execCommand(),
		a.historyCommand(),
		a.testCommand(),
		a.newCommand(),
		a.odooSimCommand(),
		a.replCommand(),
		a.stubsCommand(),
	}
	for _, c := range commands {
		// No `etlhost run help`: urfave/cli would share its global help
		// command among Apps and race when tests run several at once
		// (cliflags.go). `etlhost run --help` still works.
		c.HideHelpCommand = true
	}
	app := &cli.App{
		Name:    "etlhost",
		Usage:   "run Lua ETL scripts side by side, each sandboxed under a timeout",
		Version: version(),
		Description: `etlhost runs analysts' ETL scripts, written in Lua, that copy Odoo data into
PostgreSQL reporting tables. Each script runs in its own sandboxed Lua state on its own
goroutine under a timeout; one script's error, hang or crash never stops the others.

Scripts require the modules log, json, etl, task, pg and odoo, and their own helpers from
lib/ beside them (require("dates") loads lib/dates.lua). A script's first comment lines
may set options for that script alone:

   --! timeout = 15m
   --! odoo-writes = res.partner

Connections (PostgreSQL, Odoo) come from --config etlhost.toml or the environment
(ETLHOST_PG_DSN, ETLHOST_ODOO_URL, ETLHOST_ODOO_DB, ETLHOST_ODOO_USER,
ETLHOST_ODOO_PASSWORD); scripts name them and never see their secrets.

Exit codes: 0 every script ok, 1 a script failed or timed out, 2 bad usage or
configuration (nothing ran), 130 interrupted.`,
		HideHelpCommand: true,
		Writer:          a.Stdout,
		ErrWriter:       a.Stderr,
		ExitErrHandler:  func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageErr("%v", err)
		},
		Commands: commands,
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usageErr("unknown command %q", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
	}
	return app
}

func (a *App) versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print etlhost's version",
		Action: func(c *cli.Context) error {
			fmt.Fprintln(a.Stdout, "etlhost", version())
			return nil
		},
	}
}

func (a *App) runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run scripts side by side and report the results",
		ArgsUsage: "SCRIPT...",
		Description: `Runs every SCRIPT (a .lua file) in its own sandboxed Lua state, at most --jobs at
once, each under its timeout. Progress and the scripts' log lines go to stderr as they
happen; at the end a summary lists each script in completion order. With --json the
report is printed on stdout.

Examples:
   etlhost run scripts/*.lua
   etlhost run --jobs 2 --timeout 15m --config etlhost.toml scripts/*.lua
   etlhost run --arg since=2024-01-01 --json scripts/ventes_locales_upsert.lua > report.json`,
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
		},
		Action: a.runAction,
	}
}

func (a *App) checkCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "compile scripts without running them; print each error as file:line: message",
		ArgsUsage: "SCRIPT...",
		Action: func(c *cli.Context) error {
			if c.Args().Len() == 0 {
				return usageErr("check: no script given")
			}
			bad := 0
			keys := a.headerKeys()
			for _, p := range c.Args().Slice() {
				if _, err := host.LoadScript(p, keys); err != nil {
					fmt.Fprintln(a.Stdout, err)
					bad++
				}
			}
			if bad > 0 {
				return &exitError{code: ExitFailed, err: fmt.Errorf("%d of %d scripts have errors", bad, c.Args().Len())}
			}
			fmt.Fprintf(a.Stderr, "%d scripts ok\n", c.Args().Len())
			return nil
		},
	}
}

// defaultConfigFile is the configuration read when --config is not given
// and the file exists in the working directory.
const defaultConfigFile = "etlhost.toml"

// configFlag is the --config flag of the commands that read the
// configuration.
func configFlag() cli.Flag {
	return &cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "configuration `FILE` (TOML; default: " + defaultConfigFile + " if present)"}
}

// loadConfig reads --config, or defaultConfigFile in the working directory
// when it exists.
func (a *App) loadConfig(c *cli.Context) (*host.Config, error) {
	path := c.String("config")
	if path == "" {
		if _, err := os.Stat(defaultConfigFile); err == nil {
			path = defaultConfigFile
		}
	}
	cfg, err := host.LoadConfig(path, a.Getenv)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	return cfg, nil
}

// runner builds the host.Runner of a run from its options.
func (a *App) runner(o runOptions, cfg *host.Config) (*host.Runner, func()) {
	mods, closeMods := a.modules(cfg, o.OdooWrites)
	return &host.Runner{
		Modules:   mods,
		Jobs:      o.Jobs,
		Timeout:   o.Timeout,
		MaxMemory: o.MaxMemory,
		Grace:     o.Grace,
		Args:      o.Args,
		Now:       a.Now,
		LibDir:    o.LibDir,
	}, closeMods
}

func (a *App) runAction(c *cli.Context) error {
	paths := c.Args().Slice()
	if len(paths) == 0 {
		return usageErr("run: no script given (for example: etlhost run scripts/*.lua)")
	}
	cfg, err := a.loadConfig(c)
	if err != nil {
		return err
	}
	return a.runScripts(c, cfg, paths)
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
	if r.LibDir == "" {
		r.LibDir = filepath.Join(filepath.Dir(paths[0]), "lib")
	}
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
	observers := make(fanout, len(reporters))
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

// fanout passes each event of a run to every observer in turn.
type fanout []host.Observer

func (f fanout) ScriptStarted(s *host.Script, at time.Time) {
	for _, o := range f {
		o.ScriptStarted(s, at)
	}
}

func (f fanout) ScriptEvent(s *host.Script, e host.Event) {
	for _, o := range f {
		o.ScriptEvent(s, e)
	}
}

func (f fanout) ScriptFinished(r *host.Result) {
	for _, o := range f {
		o.ScriptFinished(r)
	}
}

// view is the live view when stderr is a terminal that can move its
// cursor (not TERM=dumb) and --no-progress is not given, else the plain
// text view.
func (a *App) view(c *cli.Context, scripts int) reporter {
	if !c.Bool("no-progress") && a.Getenv("TERM") != "dumb" {
		if cols, tty := live.TerminalWidth(a.Stderr); tty {
			return live.New(c.Context, a.Stderr, a.Now, live.Options{
				Color: a.Getenv("NO_COLOR") == "",
				Quiet: c.Bool("quiet"),
				Width: cols,
				Total: scripts,
			})
		}
	}
	return text.NewView(a.Stderr, a.Now, c.Bool("quiet"))
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

// statusCode is the exit code of a run, or of one script, that ended with
// status st.
func statusCode(st host.Status) int {
	switch st {
	case host.StatusOK:
		return ExitOK
	case host.StatusCancelled:
		return ExitInterrupted
	default:
		return ExitFailed
	}
}
