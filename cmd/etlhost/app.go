package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/host"
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
	// Again receives the second signal of a command that handles it (the
	// worker cancels its running jobs); nil: the process exits at once.
	Again <-chan struct{}
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
		a.auditCommand(),
		a.testCommand(),
		a.newCommand(),
		a.odooSimCommand(),
		a.replCommand(),
		a.stubsCommand(),
		a.workerCommand(),
		a.enqueueCommand(),
		a.jobsCommand(),
		a.cancelCommand(),
		a.scheduleCommand(),
		a.uiCommand(),
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
			var jobs []*host.Script
			for _, p := range c.Args().Slice() {
				s, err := host.LoadScript(p, keys)
				if err != nil {
					fmt.Fprintln(a.Stdout, err)
					bad++
				} else if !host.IsTestFile(p) {
					jobs = append(jobs, s)
				}
			}
			// The graph of the jobs' after headers: unknown names, cycles.
			if bad == 0 {
				if err := host.CheckDependencies(jobs); err != nil {
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
