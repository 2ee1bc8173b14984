package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/audit"
)

func init() {
	commandRegistry = append(commandRegistry, (*App).execCommand)
}

// DefaultConfirmOver is how many changes (Odoo records written, PostgreSQL
// rows affected) a commit may plan before etlhost asks for confirmation.
const DefaultConfirmOver = 20

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
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "configuration `FILE` (TOML; default: etlhost.toml if present)"},
			&cli.StringFlag{Name: "audit-file", Usage: "append the audit record of a commit to `FILE` (default: [audit] file, else ~/.local/state/etlhost/audit.jsonl)"},
			&cli.DurationFlag{Name: "timeout", Usage: "time limit of the script; its header may set its own (default: 10m)"},
			&cli.StringFlag{Name: "max-memory", Usage: "memory limit of the script, like 512MiB (default: a quarter of the machine's memory)"},
			&cli.DurationFlag{Name: "grace", Usage: "how long a stopped script may take to unwind (default: 3s)"},
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
	if !c.Bool("commit") {
		res, changes, err := a.execPass(c, cfg, src, script, true)
		if err != nil {
			return err
		}
		a.printResult(res)
		changes.printPlan(a.Stdout)
		if res.Status == host.StatusOK {
			fmt.Fprintln(a.Stdout, "Nothing was changed (dry run). To apply: run again with --commit.")
		}
		return &exitError{code: resultCode(res)}
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
			plan.printPlan(a.Stdout)
			return &exitError{code: resultCode(res), err: fmt.Errorf("the dry run did not end well (%s): nothing was committed", res.Status)}
		}
		plan.printPlan(a.Stdout)
		n := plan.count()
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
	applied.printApplied(a.Stdout, res)
	applied.fill(rec, res)
	if err := trail.Append(context.WithoutCancel(c.Context), rec); err != nil {
		return &exitError{code: ExitFailed, err: fmt.Errorf("the audit record could not be written completely (the run's outcome is above): %w", err)}
	}
	where := trail.Path()
	if trail.HasTable() {
		where += " and table " + audit.Table + " (" + trail.Connection() + ")"
	}
	fmt.Fprintf(a.Stderr, "etlhost: recorded in the audit trail: %s\n", where)
	return &exitError{code: resultCode(res)}
}

// execRunner builds the runner of one pass: the run flags as for `etlhost
// run`, the modules built fresh for the pass (no cache shared between the
// dry run and the commit), Odoo writes granted and PostgreSQL atomic when
// it commits.
func (a *App) execRunner(c *cli.Context, cfg *host.Config, src *execSource, dry bool) (*host.Runner, func(), error) {
	r, closeMods, err := a.runner(c, cfg)
	if err != nil {
		return nil, nil, err
	}
	closeMods()
	mods, closeMods := a.modules(cfg, !dry)
	r.Modules = mods
	r.Jobs = 1
	r.DryRun = dry
	r.Atomic = !dry
	r.LibDir = src.libDir
	return r, closeMods, nil
}

// execPass runs the script once, dry or committing, printing its log lines
// (those that are not changes: those are listed at the end) and collecting
// its changes.
func (a *App) execPass(c *cli.Context, cfg *host.Config, src *execSource, script *host.Script, dry bool) (*host.Result, *changeLog, error) {
	r, closeMods, err := a.execRunner(c, cfg, src, dry)
	if err != nil {
		return nil, nil, err
	}
	defer closeMods()
	changes := &changeLog{committed: map[string]bool{}}
	r.Observer = &execObserver{w: a.Stderr, now: a.Now, quiet: c.Bool("quiet"), changes: changes}
	rep, err := r.Run(c.Context, []*host.Script{script})
	if err != nil {
		return nil, nil, &exitError{code: ExitUsage, err: err}
	}
	return rep.Scripts[0], changes, nil
}

func resultCode(res *host.Result) int { return statusCode(res.Status) }

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

// openAudit opens the audit trail named by --audit-file or [audit] (the
// file, and the history connection's table).
func (a *App) openAudit(c *cli.Context, cfg *host.Config) (*audit.Trail, error) {
	file := c.String("audit-file")
	if file == "" {
		file = cfg.Audit.File
	}
	if file == "" {
		var err error
		if file, err = audit.DefaultFile(a.Getenv); err != nil {
			return nil, err
		}
	}
	o := audit.Options{File: file}
	name := cfg.Audit.Connection
	if name == "" {
		name = cfg.History.Connection
	}
	if name != "" {
		o.DSN, o.ConnName = cfg.Postgres[name].DSN, name
	}
	ctx, cancel := context.WithTimeout(c.Context, 30*time.Second)
	defer cancel()
	return audit.Open(ctx, o)
}

// execObserver prints a pass's log lines on stderr, except the changes
// (plan, sent and statement lines), which are collected and listed at the
// end.
type execObserver struct {
	mu      sync.Mutex
	w       io.Writer
	now     func() time.Time
	quiet   bool
	changes *changeLog
}

func (o *execObserver) ScriptStarted(*host.Script, time.Time) {}

func (o *execObserver) ScriptEvent(_ *host.Script, e host.Event) {
	if o.changes.observe(e) || o.quiet {
		return
	}
	l, ok := e.Line()
	if !ok {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, "%s %-5s %s%s\n", o.now().Format("15:04:05"), l.Level, l.Msg, formatFields(l.Fields))
}

func (o *execObserver) ScriptFinished(r *host.Result) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if r.Status == host.StatusOK {
		fmt.Fprintf(o.w, "%s ok (%s)\n", o.now().Format("15:04:05"), fmtDuration(r.Duration))
		return
	}
	fmt.Fprintf(o.w, "%s %s (%s): %s\n", o.now().Format("15:04:05"), r.Status, fmtDuration(r.Duration), r.Error)
}

// change is one data change a script planned or made, from the typed
// events of the bindings (never from log text, which a script can write):
// an Odoo write or a PostgreSQL statement.
type change struct {
	text string // the event's line without its "plan: "/"sent: " prefix
	odoo *audit.OdooWrite
	pg   *audit.Statement
}

// changeLog collects the changes of one pass (or one REPL input). It is
// safe for concurrent use: events come from the script's threads.
type changeLog struct {
	mu        sync.Mutex
	list      []change
	committed map[string]bool // PostgreSQL connections whose work committed
}

// observe records e when it is a change or a step of the script-wide
// transaction, and reports whether it was (the summary says those in its
// own words).
func (c *changeLog) observe(e host.Event) bool {
	_, handled := c.record(e)
	return handled
}

// record is observe that also returns the change recorded (nil for the
// steps of the script-wide transaction).
func (c *changeLog) record(e host.Event) (*change, bool) {
	var ch change
	switch ev := e.Event.(type) {
	case event.OdooWrite:
		_, msg, _, _ := event.Line(ev)
		_, text, _ := strings.Cut(msg, ": ")
		ch = change{text: text, odoo: &audit.OdooWrite{Connection: ev.Connection, Model: ev.Model,
			Method: ev.Method, IDs: ev.IDs, Values: ev.Values, Result: ev.Result, Error: ev.Err}}
	case event.Statement:
		ch = change{text: ev.Text, pg: &audit.Statement{Connection: ev.Connection, Statement: ev.Text,
			Rows: ev.Rows, Deleted: ev.Deleted}}
	case event.Transaction:
		if ev.Outcome == event.Committed {
			c.mu.Lock()
			c.committed[ev.Connection] = true
			c.mu.Unlock()
		}
		return nil, true
	default:
		return nil, false
	}
	c.mu.Lock()
	c.list = append(c.list, ch)
	c.mu.Unlock()
	return &ch, true
}

// records is how many records a write touches.
func records(w *audit.OdooWrite) int64 {
	return event.OdooWrite{Method: w.Method, IDs: w.IDs, Values: w.Values}.Records()
}

// count is the number of changes: Odoo records written plus PostgreSQL
// rows affected (a replace counts its deleted and inserted rows).
func (c *changeLog) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, ch := range c.list {
		if ch.odoo != nil {
			n += records(ch.odoo)
		} else {
			n += ch.pg.Rows + ch.pg.Deleted
		}
	}
	return n
}

// totals sums the changes by kind.
func (c *changeLog) totals() (writes, recs, stmts, rows int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.list {
		if ch.odoo != nil {
			writes++
			recs += records(ch.odoo)
		} else {
			stmts++
			rows += ch.pg.Rows + ch.pg.Deleted
		}
	}
	return
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (ch change) line() string {
	if ch.odoo != nil {
		s := "  odoo  " + ch.text
		if ch.odoo.Error != "" {
			s += "  (failed: " + firstLine(ch.odoo.Error) + ")"
		}
		return s
	}
	s := fmt.Sprintf("  pg    %s  rows=%d", ch.text, ch.pg.Rows)
	if ch.pg.Deleted > 0 {
		s += fmt.Sprintf(" deleted=%d", ch.pg.Deleted)
	}
	if ch.pg.Connection != "" && ch.pg.Connection != "default" {
		s += " on " + ch.pg.Connection
	}
	return s
}

// printPlan lists a dry run's planned changes.
func (c *changeLog) printPlan(w io.Writer) {
	c.mu.Lock()
	list := append([]change(nil), c.list...)
	c.mu.Unlock()
	if len(list) == 0 {
		fmt.Fprintln(w, "Plan (dry run): no changes.")
		return
	}
	fmt.Fprintln(w, "Plan (dry run: nothing was changed):")
	for _, ch := range list {
		fmt.Fprintln(w, ch.line())
	}
	writes, recs, stmts, rows := c.totals()
	fmt.Fprintf(w, "%s planned: %s (%s), %s (%s).\n", plural(c.count(), "change", "changes"),
		plural(writes, "Odoo write", "Odoo writes"), plural(recs, "record", "records"),
		plural(stmts, "PostgreSQL statement", "PostgreSQL statements"), plural(rows, "row", "rows"))
}

// printApplied lists what a commit pass did: on success every change; on
// failure the Odoo writes already sent, which stay applied.
func (c *changeLog) printApplied(w io.Writer, res *host.Result) {
	c.mu.Lock()
	list := append([]change(nil), c.list...)
	committed := len(c.committed)
	c.mu.Unlock()
	var sent, stmts []change
	for _, ch := range list {
		if ch.odoo != nil {
			sent = append(sent, ch)
		} else {
			stmts = append(stmts, ch)
		}
	}
	if res.Status == host.StatusOK {
		if len(list) == 0 {
			fmt.Fprintln(w, "Committed: the script made no changes.")
			return
		}
		fmt.Fprintln(w, "Applied:")
		for _, ch := range list {
			fmt.Fprintln(w, ch.line())
		}
		writes, recs, n, rows := c.totals()
		fmt.Fprintf(w, "Committed: %s (%s) sent, %s (%s) committed.\n",
			plural(writes, "Odoo write", "Odoo writes"), plural(recs, "record", "records"),
			plural(n, "PostgreSQL statement", "PostgreSQL statements"), plural(rows, "row", "rows"))
		return
	}
	why := map[host.Status]string{host.StatusFailed: "failed", host.StatusTimeout: "ran out of time",
		host.StatusCancelled: "was interrupted"}[res.Status]
	fmt.Fprintf(w, "Not committed: the script %s.\n", why)
	switch {
	case committed > 0:
		fmt.Fprintln(w, "PostgreSQL: the work of some connections was committed before the failure:")
		for _, ch := range stmts {
			if c.committed[ch.pg.Connection] {
				fmt.Fprintln(w, ch.line())
			}
		}
	case len(stmts) > 0:
		fmt.Fprintf(w, "PostgreSQL: rolled back, nothing was committed (%s undone).\n", plural(int64(len(stmts)), "statement", "statements"))
	default:
		fmt.Fprintln(w, "PostgreSQL: nothing was committed.")
	}
	if len(sent) == 0 {
		fmt.Fprintln(w, "Odoo: no write was sent.")
		return
	}
	fmt.Fprintln(w, "Odoo writes already sent (Odoo has no transaction across calls: they stay applied):")
	for _, ch := range sent {
		fmt.Fprintln(w, ch.line())
	}
}

// fill completes an audit record with a pass's outcome and changes: the
// Odoo writes sent, and the statements of the connections that committed.
func (c *changeLog) fill(rec *audit.Record, res *host.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec.Status = string(res.Status)
	rec.Error = res.Error
	for _, ch := range c.list {
		switch {
		case ch.odoo != nil:
			rec.OdooWrites = append(rec.OdooWrites, *ch.odoo)
		case c.committed[ch.pg.Connection]:
			rec.Statements = append(rec.Statements, *ch.pg)
		}
	}
}
