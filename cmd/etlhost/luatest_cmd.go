package main

// `etlhost test`: the flags, and each file's runner wired; internal/scripttest
// runs the tests and report/testreport prints them.

import (
	"fmt"
	"regexp"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/scripttest"
	"github.com/etlhost/etlhost/odoo/odoosim"
	"github.com/etlhost/etlhost/report/testreport"
)

func (a *App) testCommand() *cli.Command {
	return &cli.Command{
		Name:      "test",
		Usage:     "run the Lua tests of *_test.lua files: each global function TestXxx(t)",
		ArgsUsage: "[FILE or FOLDER...]",
		Description: `Runs every global function whose name starts with Test (TestTotals, Test_rounding) in
each *_test.lua file, in the order they are defined, after the file's main chunk has run.
FILE arguments are test files; FOLDER arguments are searched for *_test.lua files
(default: scripts). Each file runs in the scripts' sandbox, in a fresh state, with the
modules (log, json, etl, date, task, shared, pg, odoo) and the script library (lib/ beside the
file or in a folder above it, or [run] lib of the configuration).

A test receives t:
   t:log(...)            a line shown when the test fails (or with -v)
   t:error(...)          fail and go on            t:fatal(...)  fail and stop
   t:skip(...)           stop, reported skipped    t:eq(got, want, msg?)  deep equality
   t:raises(fn, text)    fn must raise an error containing text

Connections come from --config and the environment, as for run, with two test settings:
ETLHOST_TEST_PG_DSN, when set, is the default PostgreSQL connection (a test database);
--odoo-sim serves each file a fresh Odoo simulator as the default Odoo connection.

The output follows go test: a "--- FAIL: TestX (0.01s)" block per failed test with its
messages, "ok" or "FAIL" per file, then "N passed, N failed, N skipped". The exit code is
1 when a test or a file failed.

Examples:
   etlhost test
   etlhost test -v --run Totals scripts/lib/money_test.lua
   ETLHOST_TEST_PG_DSN=postgres:///etl_test etlhost test --odoo-sim`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "run", Usage: "run only the tests whose name matches `REGEXP`"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print every test's result and log lines"},
			&cli.DurationFlag{Name: "timeout", Value: DefaultTestTimeout, Usage: "time limit per test file"},
			configFlag(),
			&cli.StringSliceFlag{Name: "arg", Usage: "`key=value` readable as etl.args.key (repeatable)"},
			&cli.BoolFlag{Name: "odoo-sim", Usage: "give each file a fresh in-process Odoo simulator as the default Odoo connection"},
			&cli.IntFlag{Name: "odoo-sim-moves", Value: 200, Usage: "account.move records the simulator generates"},
			&cli.BoolFlag{Name: "odoo-writes", Usage: "let every test file write to Odoo (default: only files whose header grants it)"},
		},
		Action: a.testAction,
	}
}

func (a *App) testAction(c *cli.Context) error {
	var filter *regexp.Regexp
	if s := c.String("run"); s != "" {
		re, err := regexp.Compile(s)
		if err != nil {
			return usageErr("--run: %v", err)
		}
		filter = re
	}
	if c.Duration("timeout") <= 0 {
		return usageErr("--timeout must be positive")
	}
	args, err := parseArgs(c.StringSlice("arg"))
	if err != nil {
		return usageErr("%v", err)
	}
	files, err := scripttest.Find(c.Args().Slice())
	if err != nil {
		return usageErr("%v", err)
	}
	cfg, err := a.loadConfig(c)
	if err != nil {
		return err
	}
	if dsn := a.Getenv("ETLHOST_TEST_PG_DSN"); dsn != "" {
		cfg.Postgres["default"] = host.PostgresConn{DSN: dsn}
	}
	if len(files) == 0 {
		fmt.Fprintln(a.Stdout, "no test files (*_test.lua)")
		return nil
	}
	var total scripttest.Totals
	for _, f := range files {
		if c.Context.Err() != nil {
			break
		}
		fr := scripttest.Run(c.Context, f, filter, func() (*host.Runner, func()) {
			return a.testRunner(c, cfg, args)
		})
		total.Add(fr)
		testreport.WriteFile(a.Stdout, fr, c.Bool("verbose"))
	}
	testreport.WriteTotals(a.Stdout, total)
	switch {
	case c.Context.Err() != nil:
		return &exitError{code: ExitInterrupted}
	case total.Failed > 0 || total.BadFiles > 0:
		return &exitError{code: ExitFailed}
	}
	return nil
}

// testRunner builds the runner of one test file, with fresh modules (and
// simulator), so files do not see each other's state; done releases them.
func (a *App) testRunner(c *cli.Context, cfg *host.Config, args map[string]string) (r *host.Runner, done func()) {
	fileCfg := *cfg
	stopSim := func() {}
	if c.Bool("odoo-sim") {
		sim := odoosim.NewServer(odoosim.Options{Moves: c.Int("odoo-sim-moves"), Seed: 1})
		stopSim = sim.Close
		fileCfg.Odoo = map[string]host.OdooConn{}
		for k, v := range cfg.Odoo {
			fileCfg.Odoo[k] = v
		}
		fileCfg.Odoo["default"] = host.OdooConn{URL: sim.URL, DB: "demo", User: "admin", Password: "admin", Transport: "xmlrpc"}
	}
	mods, closeMods := a.modules(&fileCfg, c.Bool("odoo-writes"))
	r = &host.Runner{Modules: mods, Timeout: c.Duration("timeout"), Args: args, LibDir: cfg.Run.Lib,
		Now: a.Now, MaxMemory: host.DefaultMaxMemory()}
	return r, func() {
		closeMods()
		stopSim()
	}
}
