package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/peterh/liner"
	"github.com/urfave/cli/v2"
	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/audit"
	"github.com/etlhost/etlhost/report/changes"
	"github.com/etlhost/etlhost/report/text"
)

func (a *App) replCommand() *cli.Command {
	return &cli.Command{
		Name:  "repl",
		Usage: "an interactive Lua prompt with etlhost's modules: a dry run unless --commit",
		Description: `Reads Lua at a prompt and runs it in one sandboxed state with the modules scripts
use, loaded as globals (pg, odoo, json, log, etl, task, shared). An expression shows its
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
	sess, err := r.NewSession(c.Context, "repl")
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	defer sess.Close()
	rp.sess = sess
	var names []string
	for _, m := range r.Modules {
		names = append(names, m.Name())
		if _, err := sess.Eval(m.Name() + " = require(" + strconv.Quote(m.Name()) + ")"); err != nil {
			return &exitError{code: ExitFailed, err: fmt.Errorf("loading module %s: %w", m.Name(), err)}
		}
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
Modules are globals: pg.connect(), odoo.connect(), json.encode(v), etl.args ...
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
			fmt.Fprintln(rp.out, rp.format(vals))
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

// Pretty-printing of values.

// Limits of the printer: deeper tables show as {…}, longer ones end with
// "… (N more)", longer strings are cut.
const (
	printDepth     = 4
	printItems     = 50
	printString    = 200
	printLineWidth = 100
)

var luaKeywords = map[string]bool{"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true,
	"false": true, "for": true, "function": true, "if": true, "in": true, "local": true, "nil": true, "not": true,
	"or": true, "repeat": true, "return": true, "then": true, "true": true, "until": true, "while": true, "goto": true}

// format shows the values an input returned, separated by tabs (one per
// line when a table spans lines).
func (rp *repl) format(vals []lua.LValue) string {
	p := &printer{sess: rp.sess, seen: map[*lua.LTable]bool{}}
	parts := make([]string, len(vals))
	multi := false
	for i, v := range vals {
		parts[i] = p.value(v, "", 0)
		multi = multi || strings.Contains(parts[i], "\n")
	}
	if multi {
		return strings.Join(parts, "\n")
	}
	return strings.Join(parts, "\t")
}

type printer struct {
	sess *host.Session
	seen map[*lua.LTable]bool
}

func (p *printer) value(v lua.LValue, indent string, depth int) string {
	switch x := v.(type) {
	case *lua.LNilType:
		return "nil"
	case lua.LBool, lua.LNumber:
		return x.String()
	case lua.LString:
		return quoteLua(string(x))
	case *lua.LFunction:
		return "<function>"
	case *lua.LState:
		return "<thread>"
	case *lua.LUserData:
		if s, custom := p.sess.Tostring(x); custom {
			return s
		}
		return "<userdata>"
	case *lua.LTable:
		if s, custom := p.sess.Tostring(x); custom {
			return s
		}
		return p.table(x, indent, depth)
	default:
		return "<" + v.Type().String() + ">"
	}
}

type entry struct {
	key  string // "" for the array part
	v    lua.LValue
	sort lua.LValue
}

func (p *printer) table(t *lua.LTable, indent string, depth int) string {
	if p.seen[t] {
		return "<cycle>"
	}
	entries, more := p.entries(t)
	if len(entries) == 0 {
		return "{}"
	}
	if depth >= printDepth {
		return "{…}"
	}
	p.seen[t] = true
	defer delete(p.seen, t)
	inner := indent + "  "
	parts := make([]string, len(entries))
	flat := true
	width := 2
	for i, e := range entries {
		s := p.value(e.v, inner, depth+1)
		if e.key != "" {
			s = e.key + " = " + s
		}
		parts[i] = s
		flat = flat && !strings.Contains(s, "\n")
		width += len(s) + 2
	}
	if more > 0 {
		parts = append(parts, fmt.Sprintf("… (%d more)", more))
	}
	if flat && width+len(indent) <= printLineWidth {
		return "{" + strings.Join(parts, ", ") + "}"
	}
	if flat && short(parts) {
		// Many small values (a list of ids): fill the lines.
		var b strings.Builder
		b.WriteString("{\n" + inner)
		col := len(inner)
		for i, p := range parts {
			if i > 0 {
				if col+2+len(p) > printLineWidth {
					b.WriteString(",\n" + inner)
					col = len(inner)
				} else {
					b.WriteString(", ")
					col += 2
				}
			}
			b.WriteString(p)
			col += len(p)
		}
		return b.String() + "\n" + indent + "}"
	}
	return "{\n" + inner + strings.Join(parts, ",\n"+inner) + "\n" + indent + "}"
}

// short reports whether every part is a small value.
func short(parts []string) bool {
	for _, p := range parts {
		if len(p) > 24 {
			return false
		}
	}
	return true
}

// entries lists a table's contents in a stable order: the array part, then
// the other keys sorted (numbers, then strings, then the rest). A row from
// pg shows its columns by name, in the query's order.
func (p *printer) entries(t *lua.LTable) ([]entry, int) {
	var out []entry
	if mt, ok := t.Metatable.(*lua.LTable); ok {
		if cols, ok := mt.RawGetString("__columns").(*lua.LTable); ok {
			seen := map[string]bool{}
			for i := 1; i <= cols.Len(); i++ {
				name := lua.LVAsString(cols.RawGetInt(i))
				if seen[name] {
					continue
				}
				seen[name] = true
				out = append(out, entry{key: keyString(lua.LString(name)), v: t.RawGetInt(i)})
			}
			return limit(out)
		}
	}
	n := 0
	for ; t.RawGetInt(n+1) != lua.LNil; n++ {
		out = append(out, entry{v: t.RawGetInt(n + 1)})
	}
	var rest []entry
	t.ForEach(func(k, v lua.LValue) {
		if num, ok := k.(lua.LNumber); ok {
			if f := float64(num); f == float64(int64(f)) && f >= 1 && f <= float64(n) {
				return
			}
		}
		rest = append(rest, entry{key: keyString(k), v: v, sort: k})
	})
	sort.SliceStable(rest, func(i, j int) bool { return lessKey(rest[i].sort, rest[j].sort) })
	return limit(append(out, rest...))
}

func limit(es []entry) ([]entry, int) {
	if len(es) > printItems {
		return es[:printItems], len(es) - printItems
	}
	return es, 0
}

func keyString(k lua.LValue) string {
	if s, ok := k.(lua.LString); ok && isIdentifier(string(s)) && !luaKeywords[string(s)] {
		return string(s)
	}
	switch x := k.(type) {
	case lua.LString:
		return "[" + quoteLua(string(x)) + "]"
	case lua.LNumber, lua.LBool:
		return "[" + x.String() + "]"
	default:
		return "[<" + k.Type().String() + ">]"
	}
}

// isIdentifier reports whether s is a Lua name (a key written k = v).
func isIdentifier(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func keyRank(k lua.LValue) int {
	switch k.(type) {
	case lua.LNumber:
		return 0
	case lua.LString:
		return 1
	case lua.LBool:
		return 2
	default:
		return 3
	}
}

func lessKey(a, b lua.LValue) bool {
	ra, rb := keyRank(a), keyRank(b)
	if ra != rb {
		return ra < rb
	}
	switch x := a.(type) {
	case lua.LNumber:
		return x < b.(lua.LNumber)
	case lua.LString:
		return x < b.(lua.LString)
	case lua.LBool:
		return !bool(x) && bool(b.(lua.LBool))
	}
	return false
}

// quoteLua quotes a string as Lua source would, cut after printString
// bytes (on a character boundary).
func quoteLua(s string) string {
	cut := ""
	if len(s) > printString {
		n := printString
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		cut = fmt.Sprintf("…(%d bytes)", len(s))
		s = s[:n]
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, `\%d`, s[i])
			i++
			continue
		}
		i += size
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\%d`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String() + cut
}
