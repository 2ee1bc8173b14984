package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/etl"
	luajson "github.com/etlhost/etlhost/luabind/json"
	"github.com/etlhost/etlhost/luabind/log"
	"github.com/etlhost/etlhost/luabind/shared"
	"github.com/etlhost/etlhost/luabind/task"
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

func (a *App) cliApp() *cli.App {
	commands := []*cli.Command{a.runCommand(), a.checkCommand(), a.versionCommand()}
	for _, add := range commandRegistry {
		commands = append(commands, add(a))
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

// commandRegistry holds the commands defined in files of their own
// (odoo-sim, demo, exec, ...): each file registers its command in init.
var commandRegistry []func(a *App) *cli.Command

// runExtensions add flags and behaviour to `etlhost run` from files of
// their own (progress display, history, metrics).
var runExtensions []runExtension

// runExtension is one such addition.
type runExtension struct {
	Flags []cli.Flag
	// Observer, when set, may wrap or replace the run's observer.
	Observer func(a *App, c *cli.Context, next host.Observer) host.Observer
	// After runs once the run has ended, with its report; an error is
	// printed but does not change the exit code.
	After func(a *App, c *cli.Context, cfg *host.Config, rep *host.Report) error
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
	cmd := &cli.Command{
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
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "at most `N` scripts at once", DefaultText: "all"},
			&cli.DurationFlag{Name: "timeout", Usage: "time limit per script, like 90s or 15m; a script header may set its own", DefaultText: "10m"},
			&cli.StringFlag{Name: "max-memory", Usage: "memory limit per script, like 512MiB or 2GiB", DefaultText: "a quarter of the machine's memory"},
			&cli.BoolFlag{Name: "json", Usage: "print the JSON report on stdout (human output stays on stderr)"},
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "configuration `FILE` (TOML; default: etlhost.toml if present)"},
			&cli.StringSliceFlag{Name: "arg", Usage: "`key=value` readable by scripts as etl.args.key (repeatable)"},
			&cli.BoolFlag{Name: "odoo-writes", Usage: "let every script write to Odoo (default: only scripts whose header grants it)"},
			&cli.DurationFlag{Name: "grace", Usage: "how long a stopped script may take to unwind before it is abandoned", DefaultText: "3s"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print the scripts' log lines as they happen"},
		},
		Action: a.runAction,
	}
	for _, ext := range runExtensions {
		cmd.Flags = append(cmd.Flags, ext.Flags...)
	}
	return cmd
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
			keys := headerKeys()
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

// loadConfig reads --config, or etlhost.toml in the working directory when
// it exists.
func (a *App) loadConfig(c *cli.Context) (*host.Config, error) {
	path := c.String("config")
	if path == "" {
		if _, err := os.Stat("etlhost.toml"); err == nil {
			path = "etlhost.toml"
		}
	}
	cfg, err := host.LoadConfig(path, a.Getenv)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	return cfg, nil
}

func parseArgs(pairs []string) (map[string]string, error) {
	args := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("bad --arg %q: expected key=value", p)
		}
		args[strings.TrimSpace(k)] = v
	}
	return args, nil
}

// runner builds the host.Runner for a command from flags and config.
func (a *App) runner(c *cli.Context, cfg *host.Config) (*host.Runner, func(), error) {
	args, err := parseArgs(c.StringSlice("arg"))
	if err != nil {
		return nil, nil, usageErr("%v", err)
	}
	maxMem := host.DefaultMaxMemory()
	if cfg.Run.MaxMemory != "" {
		maxMem, _ = host.ParseSize(cfg.Run.MaxMemory)
	}
	if s := c.String("max-memory"); s != "" {
		maxMem, err = host.ParseSize(s)
		if err != nil {
			return nil, nil, usageErr("--max-memory: %v", err)
		}
	}
	jobs := cfg.Run.Jobs
	if c.IsSet("jobs") {
		jobs = c.Int("jobs")
		if jobs < 0 {
			return nil, nil, usageErr("--jobs must be 0 (all) or more")
		}
	}
	timeout := cfg.Run.Timeout.Duration
	if c.IsSet("timeout") {
		timeout = c.Duration("timeout")
		if timeout <= 0 {
			return nil, nil, usageErr("--timeout must be positive")
		}
	}
	grace := cfg.Run.Grace.Duration
	if c.IsSet("grace") {
		grace = c.Duration("grace")
	}
	mods, closeMods := a.modules(cfg, c.Bool("odoo-writes"))
	r := &host.Runner{
		Modules:   mods,
		Jobs:      jobs,
		Timeout:   timeout,
		MaxMemory: maxMem,
		Grace:     grace,
		Args:      args,
		Now:       a.Now,
		LibDir:    cfg.Run.Lib,
	}
	return r, closeMods, nil
}

// baseModules are the modules with no connections.
func (a *App) baseModules() []luabind.Module {
	return []luabind.Module{log.Module{}, luajson.Module{}, etl.Module{Now: a.Now}, task.Module{}, shared.New()}
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
// prints the progress, the summary and the JSON report (--json) like
// `etlhost run`, and returns an *exitError carrying the run's exit code.
// The demo command runs its scripts through it too.
func (a *App) runScripts(c *cli.Context, cfg *host.Config, paths []string) error {
	r, closeMods, err := a.runner(c, cfg)
	if err != nil {
		return err
	}
	defer closeMods()
	if r.LibDir == "" {
		r.LibDir = filepath.Join(filepath.Dir(paths[0]), "lib")
	}
	scripts, err := r.Load(paths)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	out := newTextObserver(a.Stderr, a.Now, c.Bool("quiet"))
	var obs host.Observer = out
	for _, ext := range runExtensions {
		if ext.Observer != nil {
			obs = ext.Observer(a, c, obs)
		}
	}
	r.Observer = obs
	report, err := r.Run(c.Context, scripts)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	if sp, ok := obs.(interface{ Summary(*host.Report) }); ok {
		sp.Summary(report)
	} else {
		out.Summary(report)
	}
	for _, ext := range runExtensions {
		if ext.After != nil {
			if err := ext.After(a, c, cfg, report); err != nil {
				fmt.Fprintln(a.Stderr, "etlhost:", err)
			}
		}
	}
	if c.Bool("json") {
		enc := json.NewEncoder(a.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return &exitError{code: ExitFailed, err: fmt.Errorf("cannot write the JSON report: %w", err)}
		}
	}
	return &exitError{code: exitCode(report)}
}

func exitCode(r *host.Report) int { return statusCode(r.Status) }

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

func sortStrings(s []string) { sort.Strings(s) }

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
