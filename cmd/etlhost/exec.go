package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/audit"
	"github.com/etlhost/etlhost/report/changes"
	"github.com/etlhost/etlhost/report/text"
)

func (a *App) execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run one script to fix data: a dry run unless --commit",
		ArgsUsage: "(-e CODE | FILE)",
		Description: `Runs one script (a FILE, or CODE given with -e) with the same modules as 'run', to
repair data by hand. Flags go before FILE.

Without --commit it is a dry run: nothing changes. Odoo writes (create, write, unlink and
any method not known to be read-only) are not sent; each is listed with its model, ids and
values, and create returns placeholder ids (-1, -2, ...) that later calls can use. All
PostgreSQL work runs in one transaction, rolled back at the end; each statement is listed
with the rows it affected. Reads are real. The plan is printed on stdout.

With --commit the script applies its changes: Odoo writes are allowed for this run, and
its PostgreSQL work is committed only if it ends without error. A script that fails half
way commits nothing in PostgreSQL; Odoo has no transaction across calls, so the writes it
had already sent are listed. Each commit is recorded in the audit trail (--audit-file,
default ~/.local/state/etlhost/audit.jsonl, and the table etlhost_audit of the [audit]
connection, or else of the [history] connection): who, when, the script and its SHA-256, the arguments, every write and statement.

Before committing, when stdin is a terminal (or with --confirm), etlhost first runs the
dry run, shows the plan and asks for confirmation when it holds more than --confirm-over
changes (Odoo records written plus PostgreSQL rows affected); --yes skips all this. When
stdin is not a terminal (cron, pipes) there is no prompt unless --confirm is given, in
which case the answer is read from stdin.

Exit codes: 0 the script ran to its end (and, with --commit, its changes were committed);
1 it failed (nothing committed in PostgreSQL), the confirmation was declined, or the
audit record could not be written; 2 bad usage or configuration, or the audit trail
cannot be opened (nothing ran); 130 interrupted.

Examples:
   etlhost exec scripts/fix_partner_city.lua                 # dry run: what would change
   etlhost exec --commit --arg partner=42 scripts/fix_partner_city.lua
   etlhost exec -e 'return require("pg").connect():exec("DELETE FROM report_moves WHERE amount = 0")'`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "e", Usage: "run `CODE` given on the command line instead of a FILE"},
			&cli.BoolFlag{Name: "commit", Usage: "apply the changes (default: a dry run that changes nothing)"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "commit without the dry run and confirmation first"},
			&cli.BoolFlag{Name: "confirm", Usage: "ask for confirmation even when stdin is not a terminal (the answer is read from stdin)"},
			&cli.IntFlag{Name: "confirm-over", Value: DefaultConfirmOver, Usage: "ask before committing when the dry run plans more than `N` changes; 0 always asks"},
			&cli.StringSliceFlag{Name: "arg", Usage: "`key=value` readable by the script as etl.args.key (repeatable)"},
			configFlag(),
			&cli.StringFlag{Name: "audit-file", Usage: "append the audit record of a commit to `FILE` (default: [audit] file, else ~/.local/state/etlhost/audit.jsonl)"},
			&cli.DurationFlag{Name: "timeout", Usage: "time limit of the script; its header may set its own", DefaultText: defaultTimeoutText},
			&cli.StringFlag{Name: "max-memory", Usage: "memory limit of the script, like 512MiB", DefaultText: defaultMemoryText},
			&cli.DurationFlag{Name: "grace", Usage: "how long a stopped script may take to unwind", DefaultText: defaultGraceText},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print the script's log lines as they happen"},
		},
		Action: a.execAction,
	}
}

// execSource is the script an exec runs.
type execSource struct {
	name, path string // script name (etlhost_state key) and chunk name
	text       string
	libDir     string
}

func (a *App) execSource(c *cli.Context, cfg *host.Config) (*execSource, error) {
	code, hasCode := c.String("e"), c.IsSet("e")
	args := c.Args().Slice()
	switch {
	case hasCode && len(args) > 0:
		return nil, usageErr("exec: give -e CODE or a FILE, not both (flags go before FILE)")
	case !hasCode && len(args) == 0:
		return nil, usageErr("exec: no script given (for example: etlhost exec fix.lua, or etlhost exec -e 'CODE')")
	case len(args) > 1:
		return nil, usageErr("exec: one script at a time, got %d arguments (flags go before FILE: etlhost exec --commit fix.lua)", len(args))
	}
	src := &execSource{libDir: cfg.Run.Lib}
	if hasCode {
		src.name, src.path, src.text = "exec", "-e", code
		if src.libDir == "" {
			src.libDir = "lib"
			if st, err := os.Stat(filepath.Join("scripts", "lib")); err == nil && st.IsDir() {
				src.libDir = filepath.Join("scripts", "lib")
			}
		}
		return src, nil
	}
	path := args[0]
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr("exec: cannot read script: %v", err)
	}
	src.name, src.path, src.text = strings.TrimSuffix(filepath.Base(path), ".lua"), path, string(b)
	if src.libDir == "" {
		src.libDir = filepath.Join(filepath.Dir(path), "lib")
	}
	return src, nil
}

func (a *App) execAction(c *cli.Context) error {
	if c.Int("confirm-over") < 0 {
		return usageErr("--confirm-over must be 0 or more")
	}
	cfg, err := a.loadConfig(c)
	if err != nil {
		return err
	}
	src, err := a.execSource(c, cfg)
	if err != nil {
		return err
	}
	// The runner of a dry run, only to check flags and compile the script
	// with the modules' header keys before anything runs.
	probe, closeProbe, err := a.execRunner(c, cfg, src, true)
	if err != nil {
		return err
	}
	closeProbe()
	script, err := host.CompileScript(src.name, src.path, []byte(src.text), probe.HeaderKeys())
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	if len(script.After) > 0 {
		return usageErr("%s:%d: exec runs one fix on its own: the header's after has no meaning here; remove it (etlhost run orders jobs)", src.path, script.AfterLine)
	}
	if !c.Bool("commit") {
		res, plan, err := a.execPass(c, cfg, src, script, true)
		if err != nil {
			return err
		}
		a.printResult(res)
		plan.WritePlan(a.Stdout)
		if res.Status == host.StatusOK {
			fmt.Fprintln(a.Stdout, "Nothing was changed (dry run). To apply: run again with --commit.")
		}
		return &exitError{code: statusCode(res.Status)}
	}

	// Open the audit trail first: a fix whose record cannot be kept does
	// not run.
	trail, err := a.openAudit(c, cfg)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	defer trail.Close()

	if !c.Bool("yes") && (c.Bool("confirm") || a.stdinIsTerminal()) {
		fmt.Fprintln(a.Stderr, "etlhost: a dry run first, to review the changes (nothing is changed)")
		res, plan, err := a.execPass(c, cfg, src, script, true)
		if err != nil {
			return err
		}
		if res.Status != host.StatusOK {
			plan.WritePlan(a.Stdout)
			return &exitError{code: statusCode(res.Status), err: fmt.Errorf("the dry run did not end well (%s): nothing was committed", res.Status)}
		}
		plan.WritePlan(a.Stdout)
		n := plan.Count()
		if over := int64(c.Int("confirm-over")); n > over || over == 0 {
			if !a.confirm(fmt.Sprintf("Apply these %d changes? [y/N] ", n)) {
				return &exitError{code: ExitFailed, err: fmt.Errorf("not confirmed: nothing was committed")}
			}
		}
	}

	args, _ := parseArgs(c.StringSlice("arg")) // checked by execRunner
	rec := audit.NewRecord(a.Now(), a.Getenv, "exec", src.path, src.text, args)
	res, applied, err := a.execPass(c, cfg, src, script, false)
	if err != nil {
		return err
	}
	a.printResult(res)
	applied.WriteApplied(a.Stdout, res)
	applied.Fill(rec, res)
	if err := trail.Append(context.WithoutCancel(c.Context), rec); err != nil {
		return &exitError{code: ExitFailed, err: fmt.Errorf("the audit record could not be written completely (the run's outcome is above): %w", err)}
	}
	where := trail.Path()
	if trail.HasTable() {
		where += " and table " + audit.Table + " (" + trail.Connection() + ")"
	}
	fmt.Fprintf(a.Stderr, "etlhost: recorded in the audit trail: %s\n", where)
	return &exitError{code: statusCode(res.Status)}
}

// execRunner builds the runner of one pass: the run flags as for `etlhost
// run`, the modules built fresh for the pass (no cache shared between the
// dry run and the commit), Odoo writes granted and PostgreSQL atomic when
// it commits.
func (a *App) execRunner(c *cli.Context, cfg *host.Config, src *execSource, dry bool) (*host.Runner, func(), error) {
	opts, err := resolveRun(c, a.Getenv, cfg)
	if err != nil {
		return nil, nil, usageErr("%v", err)
	}
	opts.OdooWrites = !dry
	r, closeMods := a.runner(opts, cfg)
	r.Jobs = 1
	r.ModuleGlobals = true // as in the REPL
	// A fix runs once: its Odoo writes stay applied when it fails, and a
	// retry would send them again. Retries are for etlhost run; this beats
	// a header's retries as a command-line setting would.
	r.Retries, r.RetriesFrom = 0, host.FromFlag
	r.DryRun = dry
	r.Atomic = !dry
	r.LibDir = src.libDir
	return r, closeMods, nil
}

// execPass runs the script once, dry or committing, printing its log lines
// (those that are not changes: those are listed at the end) and collecting
// its changes.
func (a *App) execPass(c *cli.Context, cfg *host.Config, src *execSource, script *host.Script, dry bool) (*host.Result, *changes.Log, error) {
	r, closeMods, err := a.execRunner(c, cfg, src, dry)
	if err != nil {
		return nil, nil, err
	}
	defer closeMods()
	list := changes.New()
	r.Observer = host.Observers{
		a.scriptView(c.Bool("quiet")), // its log lines, not its changes
		list,                          // its changes: the plan, the changes applied, the audit record
	}
	rep, err := r.Run(c.Context, []*host.Script{script})
	if err != nil {
		return nil, nil, &exitError{code: ExitUsage, err: err}
	}
	return rep.Scripts[0], list, nil
}

// printResult prints what the script returned, as JSON, on stdout.
func (a *App) printResult(res *host.Result) {
	if res.Status != host.StatusOK || res.Value == nil {
		return
	}
	b, err := json.Marshal(res.Value)
	if err != nil {
		return
	}
	fmt.Fprintf(a.Stdout, "Result: %s\n", b)
}

// stdinIsTerminal reports whether the App reads a terminal.
func (a *App) stdinIsTerminal() bool {
	f, ok := a.Stdin.(*os.File)
	return ok && isTTY(f)
}

// confirm asks question on stderr and reads the answer, one line of stdin:
// y or yes (any case) agree; anything else, or no answer, declines.
func (a *App) confirm(question string) bool {
	fmt.Fprint(a.Stderr, question)
	if a.Stdin == nil {
		return false
	}
	line, err := bufio.NewReader(a.Stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(a.Stderr)
		return false
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// openAudit opens the audit trail resolveAudit names (the file, and the
// table of the audit or history connection).
func (a *App) openAudit(c *cli.Context, cfg *host.Config) (*audit.Trail, error) {
	o, err := resolveAudit(c, a.Getenv, cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(c.Context, 30*time.Second)
	defer cancel()
	return audit.Open(ctx, o)
}

// scriptView is the view of the one script of exec: its log lines (not its
// changes, which the plan lists), stamped as the run's views are.
func (a *App) scriptView(quiet bool) *text.ScriptView {
	v := text.NewScriptView(a.Stderr, a.Now, quiet, changes.Is)
	v.Stamp = a.stampLayout()
	return v
}
