package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/peterh/liner"
	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/audit"
	"github.com/etlhost/etlhost/report/changes"
	"github.com/etlhost/etlhost/report/pretty"
	"github.com/etlhost/etlhost/report/text"
)

func (a *App) replCommand() *cli.Command {
	return &cli.Command{
		Name:  "repl",
		Usage: "an interactive Lua prompt with etlhost's modules: a dry run unless --commit",
		Description: `Reads Lua at a prompt and runs it in one sandboxed state with the modules scripts
use, loaded as globals (pg, odoo, json, log, etl, date, task, shared). An expression shows its
value (tables pretty-printed, keys sorted); "=expr" works too. An input that is not
finished (an open block, bracket or long string) continues on the next line (>>).
Errors are shown and the session goes on. .help lists the commands; .exit or Ctrl+D
leaves; Ctrl+C at the prompt clears the input, and during an evaluation stops it and ends
the session.

Without --commit the session is a dry run: Odoo writes are planned, not sent (create
gives placeholder ids), and all PostgreSQL work runs in one transaction, rolled back when
the session ends (so later inputs see earlier changes). Each planned change is shown.

With --commit, each input is applied on its own: its Odoo writes are sent as it runs, its
PostgreSQL work is committed when it ends without error and rolled back when it fails.
Every input that changed something is recorded in the audit trail (see 'exec').

On a terminal the prompt has line editing and a history, kept in
~/.local/state/etlhost/repl_history. When stdin is not a terminal, lines are read as they
come, without prompts: echo 'pg.connect():query("select 1")' | etlhost repl`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "commit", Usage: "apply the changes of each input (default: a dry run that changes nothing)"},
			&cli.StringSliceFlag{Name: "arg", Usage: "`key=value` readable as etl.args.key (repeatable)"},
			configFlag(),
			&cli.StringFlag{Name: "audit-file", Usage: "append the audit records of committed inputs to `FILE` (default: [audit] file, else ~/.local/state/etlhost/audit.jsonl)"},
		},
		Action: a.replAction,
	}
}

func (a *App) replAction(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return usageErr("repl takes no arguments (to run a script: etlhost exec FILE)")
	}
	cfg, err := a.loadConfig(c)
	if err != nil {
		return err
	}
	commit := c.Bool("commit")
	src := &execSource{libDir: cfg.Run.Lib}
	if src.libDir == "" {
		src.libDir = "lib"
		if st, err := os.Stat(filepath.Join("scripts", "lib")); err == nil && st.IsDir() {
			src.libDir = filepath.Join("scripts", "lib")
		}
	}
	r, closeMods, err := a.execRunner(c, cfg, src, !commit)
	if err != nil {
		return err
	}
	defer closeMods()
	var trail *audit.Trail
	if commit {
		if trail, err = a.openAudit(c, cfg); err != nil {
			return &exitError{code: ExitUsage, err: err}
		}
		defer trail.Close()
	}
	args, _ := parseArgs(c.StringSlice("arg"))

	in := a.replInput()
	defer in.close()
	rp := &repl{a: a, commit: commit, trail: trail, args: args, out: in.out(a.Stdout), errw: in.out(a.Stderr)}
	r.Observer = rp
	rp.changes = changes.New()
	r.ModuleGlobals = true
	sess, err := r.NewSession(c.Context, "repl")
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	defer sess.Close()
	rp.sess = sess
	var names []string
	for _, m := range r.Modules {
		names = append(names, m.Name())
	}
	rp.banner(names)

	mode := "dry"
	if commit {
		mode = "commit"
	}
	var buf, typed []string
	for {
		prompt := mode + "> "
		if len(buf) > 0 {
			prompt = ">> "
		}
		line, err := in.read(prompt)
		raw := line
		if errors.Is(err, liner.ErrPromptAborted) {
			buf, typed = nil, nil // Ctrl+C at the prompt clears the input
			continue
		}
		if err != nil {
			if len(buf) > 0 {
				fmt.Fprintln(rp.errw, "etlhost: the last input was not finished; it was not run")
			}
			break
		}
		if len(buf) == 0 {
			trimmed := strings.TrimSpace(line)
			if trimmed == "" {
				continue
			}
			if strings.HasPrefix(trimmed, ".") && !strings.HasPrefix(trimmed, "..") {
				if rp.command(trimmed) {
					break
				}
				continue
			}
			if strings.HasPrefix(trimmed, "=") {
				line = strings.TrimPrefix(trimmed, "=")
			}
		}
		typed = append(typed, raw)
		buf = append(buf, line)
		code := strings.Join(buf, "\n")
		if done := rp.eval(code); !done {
			continue
		}
		in.remember(strings.Join(typed, "\n"))
		buf, typed = nil, nil
		if sess.Err() != nil {
			break
		}
	}
	if err := sess.Err(); err != nil && !errors.Is(err, host.ErrSessionClosed) {
		fmt.Fprintln(rp.errw, "etlhost: the session has ended:", err)
		sess.Close()
		rp.afterClose()
		return &exitError{code: ExitInterrupted}
	}
	sess.Close()
	rp.afterClose()
	return nil
}

// repl is one session's printing and bookkeeping; it is also the
// session's observer (its log lines, its changes).
type repl struct {
	a       *App
	sess    *host.Session
	commit  bool
	trail   *audit.Trail
	args    map[string]string
	out     io.Writer
	errw    io.Writer
	mu      sync.Mutex
	changes *changes.Log
	planned int64 // changes planned in the whole (dry) session
}

func (rp *repl) banner(modules []string) {
	mode := "dry run: Odoo writes are planned, not sent; PostgreSQL changes are rolled back when the session ends"
	if rp.commit {
		mode = "COMMIT: each input's Odoo writes are sent and its PostgreSQL work committed when it ends without error"
	}
	fmt.Fprintf(rp.errw, "etlhost repl (%s)\nmodules: %s. Type .help for help, .exit to leave.\n", mode, strings.Join(modules, ", "))
}

// command runs a dot command; it reports whether the session should end.
func (rp *repl) command(cmd string) bool {
	switch cmd {
	case ".exit", ".quit", ".q":
		return true
	case ".help":
		fmt.Fprint(rp.out, `Type Lua statements, or an expression to see its value (=expr works too).
An unfinished input (open block, bracket or long string) continues on the next line (>>).
Modules are globals: pg.connect(), odoo.connect(), json.encode(v), etl.args, date.today() ...
.help     this help
.exit     leave (Ctrl+D too); Ctrl+C clears the current input
`)
		if rp.commit {
			fmt.Fprintln(rp.out, "Each input commits its PostgreSQL work when it ends without error; Odoo writes are sent at once.")
		} else {
			fmt.Fprintln(rp.out, "Dry run: nothing is changed; restart with --commit to apply changes.")
		}
	default:
		fmt.Fprintf(rp.errw, "unknown command %s (try .help)\n", cmd)
	}
	return false
}

// eval runs one input; it reports false when the input is not finished.
func (rp *repl) eval(code string) bool {
	rp.mu.Lock()
	rp.changes = changes.New()
	list := rp.changes
	rp.mu.Unlock()
	vals, err := rp.sess.Eval(code)
	if errors.Is(err, host.ErrIncomplete) {
		return false
	}
	ok := err == nil
	switch {
	case err == nil:
		if len(vals) > 0 {
			fmt.Fprintln(rp.out, pretty.Values(vals, rp.sess.Tostring))
		}
	case errors.Is(err, host.ErrSessionClosed):
		// reported by the caller
	default:
		var ee *host.EvalError
		if errors.As(err, &ee) {
			fmt.Fprintln(rp.errw, ee.Short())
		} else {
			fmt.Fprintln(rp.errw, err)
		}
	}
	if rp.commit {
		rp.settled(code, list, ok, err)
	} else {
		rp.planned += list.Count()
	}
	return true
}

// settled reports and audits what a committed input changed.
func (rp *repl) settled(code string, list *changes.Log, ok bool, evalErr error) {
	writes, _, stmts, rows := list.Totals()
	if writes == 0 && stmts == 0 {
		return
	}
	rec := audit.NewRecord(rp.a.Now(), rp.a.Getenv, "repl", "repl", code, rp.args)
	res := &host.Result{Status: host.StatusOK}
	if !ok {
		res.Status = host.StatusFailed
		res.Error = evalErr.Error()
	}
	list.Fill(rec, res)
	if len(rec.OdooWrites) == 0 && len(rec.Statements) == 0 {
		// Only rolled-back statements: nothing to record.
		fmt.Fprintf(rp.out, "(rolled back in PostgreSQL: %s undone)\n", changes.Plural(stmts, "statement", "statements"))
		return
	}
	if ok {
		var parts []string
		if writes > 0 {
			parts = append(parts, changes.Plural(writes, "Odoo write", "Odoo writes")+" sent")
		}
		if stmts > 0 {
			parts = append(parts, fmt.Sprintf("%s (%s) committed", changes.Plural(stmts, "PostgreSQL statement", "PostgreSQL statements"), changes.Plural(rows, "row", "rows")))
		}
		fmt.Fprintf(rp.out, "(%s)\n", strings.Join(parts, ", "))
	} else if stmts > 0 {
		fmt.Fprintf(rp.out, "(rolled back in PostgreSQL: %s undone; Odoo writes already sent stay: %d)\n",
			changes.Plural(stmts, "statement", "statements"), writes)
	}
	if err := rp.trail.Append(context.Background(), rec); err != nil {
		fmt.Fprintln(rp.errw, "etlhost: the audit record could not be written:", err)
	}
}

func (rp *repl) afterClose() {
	if !rp.commit && rp.planned > 0 {
		fmt.Fprintf(rp.errw, "Dry run: nothing was changed (%s planned).\n", changes.Plural(rp.planned, "change", "changes"))
	}
}

// Observer: log lines and prints are shown as they come; changes in the
// form exec lists them.

func (rp *repl) ScriptStarted(*host.Script, time.Time) {}
func (rp *repl) ScriptFinished(*host.Result)           {}

func (rp *repl) ScriptEvent(_ *host.Script, e host.Event) {
	rp.mu.Lock()
	defer rp.mu.Unlock() // also keeps lines of concurrent light threads whole
	ch, handled := rp.changes.Record(e)
	if handled {
		if ch != nil {
			label := "plan"
			if rp.commit {
				label = "done"
				if ch.Odoo != nil {
					label = "sent"
				}
			}
			fmt.Fprintln(rp.out, label+ch.Line())
		}
		return
	}
	l, ok := e.Line()
	if !ok {
		return
	}
	if l.Level == "info" {
		fmt.Fprintf(rp.out, "%s%s\n", l.Msg, text.Fields(l.Fields))
		return
	}
	fmt.Fprintf(rp.errw, "%s: %s%s\n", l.Level, l.Msg, text.Fields(l.Fields))
}

// replInput reads the session's lines: with liner on a terminal (line
// editing, history), as plain lines otherwise.
type replInput interface {
	read(prompt string) (string, error)
	remember(input string)
	out(w io.Writer) io.Writer
	close()
}

func (a *App) replInput() replInput {
	if f, ok := a.Stdin.(*os.File); ok && f == os.Stdin && isTTY(f) {
		l := liner.NewLiner()
		l.SetCtrlCAborts(true)
		l.SetMultiLineMode(true)
		t := &termInput{l: l}
		if path, err := audit.DefaultFile(a.Getenv); err == nil {
			t.history = filepath.Join(filepath.Dir(path), "repl_history")
			if f, err := os.Open(t.history); err == nil {
				_, _ = l.ReadHistory(f)
				f.Close()
			}
		}
		return t
	}
	return &plainInput{r: bufio.NewReader(a.Stdin)}
}

type termInput struct {
	l       *liner.State
	history string
}

func (t *termInput) read(prompt string) (string, error) { return t.l.Prompt(prompt) }

func (t *termInput) remember(input string) {
	for _, line := range strings.Split(input, "\n") {
		if strings.TrimSpace(line) != "" {
			t.l.AppendHistory(line)
		}
	}
}

// out is w: liner changes the terminal's input modes only, so output
// keeps its usual newline translation.
func (t *termInput) out(w io.Writer) io.Writer { return w }

func (t *termInput) close() {
	if t.history != "" {
		if err := os.MkdirAll(filepath.Dir(t.history), 0o700); err == nil {
			if f, err := os.OpenFile(t.history, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err == nil {
				_, _ = t.l.WriteHistory(f)
				f.Close()
			}
		}
	}
	t.l.Close()
}

type plainInput struct{ r *bufio.Reader }

func (p *plainInput) read(string) (string, error) {
	line, err := p.r.ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (p *plainInput) remember(string)           {}
func (p *plainInput) out(w io.Writer) io.Writer { return w }
func (p *plainInput) close()                    {}
