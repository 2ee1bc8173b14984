package main

// `etlhost test`: analysts' Lua tests, run in the scripts' own sandbox.

import (
	"context"
	_ "embed" // the t object's LuaLS stub
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luaconv"
	"github.com/etlhost/etlhost/odoo/odoosim"
	"github.com/etlhost/etlhost/report/text"
)

//go:embed etlhost_testing.lua
var testingStub string

// testModuleName is the module the test driver is reached by. The driver
// prefixes a test file's first line with a require of it (line numbers stay
// the same), so it is opened first and runs the tests once the file's main
// chunk has returned.
const testModuleName = "etlhost.testing"

var testNameRe = regexp.MustCompile(`^Test([^a-z].*)?$`)

func (a *App) testCommand() *cli.Command {
	return &cli.Command{
		Name:      "test",
		Usage:     "run the Lua tests of *_test.lua files: each global function TestXxx(t)",
		ArgsUsage: "[FILE or FOLDER...]",
		Description: `Runs every global function whose name starts with Test (TestTotals, Test_rounding) in
each *_test.lua file, in the order they are defined, after the file's main chunk has run.
FILE arguments are test files; FOLDER arguments are searched for *_test.lua files
(default: scripts). Each file runs in the scripts' sandbox, in a fresh state, with the
modules (log, json, etl, task, shared, pg, odoo) and the script library (lib/ beside the
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
	files, err := findTestFiles(c.Args().Slice())
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
	var total testTotals
	for _, f := range files {
		if c.Context.Err() != nil {
			break
		}
		fr := a.runTestFile(c, cfg, f, filter, args)
		total.add(fr)
		fr.print(a.Stdout, c.Bool("verbose"))
	}
	fmt.Fprintf(a.Stdout, "%d passed, %d failed, %d skipped\n", total.passed, total.failed, total.skipped)
	switch {
	case c.Context.Err() != nil:
		return &exitError{code: ExitInterrupted}
	case total.failed > 0 || total.badFiles > 0:
		return &exitError{code: ExitFailed}
	}
	return nil
}

// findTestFiles expands the arguments: files as given, folders searched
// for *_test.lua (sorted). No argument means the scripts folder.
func findTestFiles(args []string) ([]string, error) {
	if len(args) == 0 {
		if _, err := os.Stat("scripts"); err != nil {
			return nil, nil
		}
		args = []string{"scripts"}
	}
	var files []string
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil {
			return nil, fmt.Errorf("test: cannot read %s: %w", arg, err)
		}
		if !st.IsDir() {
			files = append(files, arg)
			continue
		}
		var found []string
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != arg && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), "_test.lua") {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("test: cannot search %s: %w", arg, err)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// findLib is the script library for a test file: lib/ beside the file;
// else the lib folder the file sits in (a test of scripts/lib/money.lua
// lives in scripts/lib); else lib/ in the nearest folder above, up to the
// working directory (never beyond it: /lib is not a script library).
func findLib(file string) string {
	isDir := func(p string) bool {
		st, err := os.Stat(p)
		return err == nil && st.IsDir()
	}
	cwd, err := filepath.Abs(".")
	if err != nil {
		return ""
	}
	rel := func(p string) string {
		if r, err := filepath.Rel(cwd, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return ""
	}
	if isDir(filepath.Join(dir, "lib")) {
		return rel(filepath.Join(dir, "lib"))
	}
	for d := dir; filepath.Dir(d) != d; d = filepath.Dir(d) {
		if filepath.Base(d) == "lib" {
			return rel(d)
		}
	}
	for d := filepath.Dir(dir); strings.HasPrefix(d, cwd) && filepath.Dir(d) != d; d = filepath.Dir(d) {
		if isDir(filepath.Join(d, "lib")) {
			return rel(filepath.Join(d, "lib"))
		}
		if d == cwd {
			break
		}
	}
	return ""
}

// testOutcome is one test's result.
type testOutcome struct {
	Name     string
	Line     int
	Status   string // "pass", "fail", "skip"; "" while running
	Duration time.Duration
	Out      []string // messages and log lines, in order
}

// fileOutcome is one test file's result.
type fileOutcome struct {
	Path     string
	Duration time.Duration
	Tests    []*testOutcome
	// Err is a failure of the file itself: it does not compile, its main
	// chunk raised an error, or it ran past its time limit.
	Err  string
	Logs []string // lines logged outside any test
}

type testTotals struct{ passed, failed, skipped, badFiles int }

func (t *testTotals) add(f *fileOutcome) {
	for _, tc := range f.Tests {
		switch tc.Status {
		case "pass":
			t.passed++
		case "skip":
			t.skipped++
		default:
			t.failed++
		}
	}
	if f.Err != "" {
		t.badFiles++
	}
}

func (f *fileOutcome) failed() bool {
	if f.Err != "" {
		return true
	}
	for _, tc := range f.Tests {
		if tc.Status != "pass" && tc.Status != "skip" {
			return true
		}
	}
	return false
}

// print writes the file's results in go test's format.
func (f *fileOutcome) print(w interface{ Write([]byte) (int, error) }, verbose bool) {
	if verbose || f.Err != "" {
		for _, l := range f.Logs {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	for _, tc := range f.Tests {
		status := map[string]string{"pass": "PASS", "skip": "SKIP", "fail": "FAIL", "": "FAIL"}[tc.Status]
		if verbose {
			fmt.Fprintf(w, "=== RUN   %s\n", tc.Name)
		}
		if verbose || status == "FAIL" {
			fmt.Fprintf(w, "--- %s: %s (%.2fs)\n", status, tc.Name, tc.Duration.Seconds())
			for _, l := range tc.Out {
				fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(l, "\n", "\n        "))
			}
		}
	}
	if f.Err != "" {
		fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(f.Err, "\n", "\n    "))
	}
	note := ""
	if len(f.Tests) == 0 && f.Err == "" {
		note = "\t[no tests to run]"
	}
	if f.failed() {
		fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n", f.Path, f.Duration.Seconds())
	} else {
		fmt.Fprintf(w, "ok  \t%s\t%.3fs%s\n", f.Path, f.Duration.Seconds(), note)
	}
}

// runTestFile runs one file's tests in a fresh sandboxed state, with fresh
// modules (and simulator), so files do not see each other's state.
func (a *App) runTestFile(c *cli.Context, cfg *host.Config, path string, filter *regexp.Regexp, args map[string]string) *fileOutcome {
	start := time.Now()
	out := &fileOutcome{Path: path}
	defer func() { out.Duration = time.Since(start) }()

	fileCfg := *cfg
	if c.Bool("odoo-sim") {
		sim := odoosim.NewServer(odoosim.Options{Moves: c.Int("odoo-sim-moves"), Seed: 1})
		defer sim.Close()
		fileCfg.Odoo = map[string]host.OdooConn{}
		for k, v := range cfg.Odoo {
			fileCfg.Odoo[k] = v
		}
		fileCfg.Odoo["default"] = host.OdooConn{URL: sim.URL, DB: "demo", User: "admin", Password: "admin", Transport: "xmlrpc"}
	}
	mods, closeMods := a.modules(&fileCfg, c.Bool("odoo-writes"))
	defer closeMods()
	drv := &testDriver{filter: filter, file: out}
	mods = append(mods, drv)
	lib := cfg.Run.Lib
	if lib == "" {
		lib = findLib(path)
	}
	r := &host.Runner{Modules: mods, Jobs: 1, Timeout: c.Duration("timeout"), Args: args, LibDir: lib,
		Now: a.Now, Observer: drv, MaxMemory: host.DefaultMaxMemory()}
	s, err := loadTestScript(path, r.HeaderKeys())
	if err != nil {
		out.Err = err.Error()
		return out
	}
	rep, err := r.Run(c.Context, []*host.Script{s})
	if err != nil {
		out.Err = err.Error()
		return out
	}
	drv.mu.Lock()
	defer drv.mu.Unlock()
	if res := rep.Scripts[0]; res.Status != host.StatusOK && !drv.stopped {
		out.Err = res.Error
		if drv.cur != nil {
			// The file stopped (time limit, Ctrl+C) inside this test.
			drv.cur.Status = "fail"
			drv.cur.Duration = time.Since(drv.curStart)
			drv.cur.Out = append(drv.cur.Out, fmt.Sprintf("stopped inside this test: %s", text.FirstLine(res.Error)))
			out.Err = ""
		}
	}
	return out
}

// loadTestScript compiles a test file as it is (for its header and syntax
// errors, reported against the file) and then with the driver's require
// put in front of its first line, so line numbers do not move.
func loadTestScript(path string, keys []string) (*host.Script, error) {
	orig, err := host.LoadScript(path, keys)
	if err != nil {
		return nil, err
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	text := string(src)
	if strings.HasPrefix(text, "#!") {
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			text = text[i:]
		} else {
			text = ""
		}
	}
	s, err := host.CompileScript(orig.Name, path, []byte(`require("`+testModuleName+`");`+text), keys)
	if err != nil {
		return nil, err
	}
	s.Header, s.Timeout = orig.Header, orig.Timeout
	return s, nil
}

// testDriver is both the module that runs a file's tests and the observer
// that files each log line under the test running at the time.
type testDriver struct {
	filter *regexp.Regexp
	file   *fileOutcome

	env      *luabind.Env
	mu       sync.Mutex
	cur      *testOutcome
	curStart time.Time
	stopped  bool // a test was stopped by the file's context: it says why
}

// stopTest is raised (as a Lua value) by t:fatal and t:skip.
var stopTest = lua.LString("etlhost: stop the test")

// Name implements luabind.Module.
func (d *testDriver) Name() string { return testModuleName }

// Open implements luabind.Module: the tests run once the file's main chunk
// has returned without error.
func (d *testDriver) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	d.env = env
	env.OnFinish(func() error {
		d.runAll(L)
		return nil
	})
	return lua.LTrue
}

// runAll runs the file's TestXxx functions in the order they are defined.
func (d *testDriver) runAll(L *lua.LState) {
	type fn struct {
		name string
		f    *lua.LFunction
	}
	var fns []fn
	L.G.Global.ForEach(func(k, v lua.LValue) {
		name, ok := k.(lua.LString)
		f, isFn := v.(*lua.LFunction)
		if !ok || !isFn || f.Proto == nil || !testNameRe.MatchString(string(name)) {
			return
		}
		if d.filter != nil && !d.filter.MatchString(string(name)) {
			return
		}
		fns = append(fns, fn{string(name), f})
	})
	sort.Slice(fns, func(i, j int) bool {
		li, lj := fns[i].f.Proto.LineDefined, fns[j].f.Proto.LineDefined
		if li != lj {
			return li < lj
		}
		return fns[i].name < fns[j].name
	})
	meta := newTMeta(L)
	for _, f := range fns {
		if d.env.Ctx.Err() != nil {
			return
		}
		d.runOne(L, meta, f.name, f.f)
	}
}

func (d *testDriver) runOne(L *lua.LState, meta *lua.LTable, name string, f *lua.LFunction) {
	tc := &testOutcome{Name: name, Line: f.Proto.LineDefined}
	d.mu.Lock()
	d.file.Tests = append(d.file.Tests, tc)
	d.cur, d.curStart = tc, time.Now()
	d.mu.Unlock()

	t := L.NewUserData()
	t.Value = &luaT{d: d, tc: tc}
	t.Metatable = meta
	L.Push(f)
	L.Push(t)
	err := L.PCall(1, 0, L.NewFunction(testMessageHandler))

	d.mu.Lock()
	defer d.mu.Unlock()
	tc.Duration = time.Since(d.curStart)
	d.cur = nil
	var ae *lua.ApiError
	switch {
	case err == nil:
	case d.env.Ctx.Err() != nil:
		// The file's time limit or Ctrl+C: say so, not how the VM noticed.
		tc.Out = append(tc.Out, "stopped inside this test: "+context.Cause(d.env.Ctx).Error())
		tc.Status = "fail"
		d.stopped = true
	case errors.As(err, &ae) && ae.Object == stopTest:
	case errors.As(err, &ae):
		tc.Out = append(tc.Out, "error: "+ae.Object.String())
		tc.Status = "fail"
	default:
		tc.Out = append(tc.Out, "error: "+err.Error())
		tc.Status = "fail"
	}
	if tc.Status == "" {
		tc.Status = "pass"
	}
}

// ScriptEvent implements host.Observer: a line logged during a test belongs
// to it; others to the file.
func (d *testDriver) ScriptEvent(_ *host.Script, e host.Event) {
	l, ok := e.Line()
	if !ok {
		return
	}
	line := fmt.Sprintf("%s: %s%s", l.Level, l.Msg, text.Fields(l.Fields))
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cur != nil {
		d.cur.Out = append(d.cur.Out, line)
	} else {
		d.file.Logs = append(d.file.Logs, line)
	}
}

// ScriptStarted implements host.Observer.
func (d *testDriver) ScriptStarted(*host.Script, time.Time) {}

// ScriptFinished implements host.Observer.
func (d *testDriver) ScriptFinished(*host.Result) {}

// luaT is the Go side of a test's t.
type luaT struct {
	d  *testDriver
	tc *testOutcome
}

func (t *luaT) add(line string, status string) {
	t.d.mu.Lock()
	defer t.d.mu.Unlock()
	t.tc.Out = append(t.tc.Out, line)
	if status == "fail" || (status == "skip" && t.tc.Status == "") {
		t.tc.Status = status
	}
}

// tMethods are the methods of t; the stubs test checks them against
// etlhost_testing.lua.
var tMethods = map[string]func(L *lua.LState, t *luaT) int{
	"name": func(L *lua.LState, t *luaT) int {
		L.Push(lua.LString(t.tc.Name))
		return 1
	},
	"log": func(L *lua.LState, t *luaT) int {
		t.add(where(L)+joinArgs(L, 2), "")
		return 0
	},
	"error": func(L *lua.LState, t *luaT) int {
		t.add(where(L)+joinArgs(L, 2), "fail")
		return 0
	},
	"fatal": func(L *lua.LState, t *luaT) int {
		t.add(where(L)+joinArgs(L, 2), "fail")
		L.Error(stopTest, 0)
		return 0
	},
	"skip": func(L *lua.LState, t *luaT) int {
		msg := joinArgs(L, 2)
		if msg != "" {
			t.add(where(L)+msg, "skip")
		} else {
			t.add(where(L)+"skipped", "skip")
		}
		L.Error(stopTest, 0)
		return 0
	},
	"eq": func(L *lua.LState, t *luaT) int {
		got, want := L.Get(2), L.Get(3)
		if equalValues(got, want) {
			L.Push(lua.LTrue)
			return 1
		}
		msg := L.OptString(4, "")
		if msg != "" {
			msg += ": "
		}
		t.add(fmt.Sprintf("%s%sgot %s, want %s", where(L), msg, showValue(got), showValue(want)), "fail")
		L.Push(lua.LFalse)
		return 1
	},
	"raises": func(L *lua.LState, t *luaT) int {
		fn := L.CheckFunction(2)
		want := L.CheckString(3)
		pos := where(L)
		L.Push(fn)
		err := L.PCall(0, 0, nil)
		if err == nil {
			t.add(fmt.Sprintf("%sexpected an error containing %q, got none", pos, want), "fail")
			L.Push(lua.LNil)
			return 1
		}
		msg := err.Error()
		var ae *lua.ApiError
		if errors.As(err, &ae) {
			if ae.Object == stopTest {
				L.Error(stopTest, 0)
			}
			msg = L.ToStringMeta(ae.Object).String()
		}
		if !strings.Contains(msg, want) {
			t.add(fmt.Sprintf("%sexpected an error containing %q, got %q", pos, want, msg), "fail")
		}
		L.Push(lua.LString(msg))
		return 1
	},
	"failed": func(L *lua.LState, t *luaT) int {
		t.d.mu.Lock()
		defer t.d.mu.Unlock()
		L.Push(lua.LBool(t.tc.Status == "fail"))
		return 1
	},
}

// newTMeta builds the metatable of t objects.
func newTMeta(L *lua.LState) *lua.LTable {
	methods := L.NewTable()
	for name, m := range tMethods {
		m, name := m, name
		methods.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			ud, ok := L.Get(1).(*lua.LUserData)
			var t *luaT
			if ok {
				t, _ = ud.Value.(*luaT)
			}
			if t == nil {
				L.RaiseError("t:%s: call it with a colon, as t:%s(...)", name, name)
			}
			return m(L, t)
		}))
	}
	mt := L.NewTable()
	mt.RawSetString("__index", methods)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		if ud, ok := L.Get(1).(*lua.LUserData); ok {
			if t, ok := ud.Value.(*luaT); ok {
				L.Push(lua.LString("test " + t.tc.Name))
				return 1
			}
		}
		L.Push(lua.LString("test"))
		return 1
	}))
	return mt
}

// where is the calling Lua code's "file:line: ".
func where(L *lua.LState) string {
	w := L.Where(1)
	if w == "" {
		return ""
	}
	return w + " "
}

// joinArgs joins arguments from n on with spaces, as tostring shows them.
func joinArgs(L *lua.LState, n int) string {
	var parts []string
	for i := n; i <= L.GetTop(); i++ {
		parts = append(parts, L.ToStringMeta(L.Get(i)).String())
	}
	return strings.Join(parts, " ")
}

// equalValues compares plain values deeply (tables key by key, pg rows as
// their values); functions, threads and userdata only by identity.
func equalValues(a, b lua.LValue) bool {
	if a == b {
		return true
	}
	ga, err1 := luaconv.FromLua(a)
	gb, err2 := luaconv.FromLua(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return reflect.DeepEqual(ga, gb)
}

// showValue prints a value for a failure message: JSON for plain values
// (keys sorted), tostring otherwise.
func showValue(v lua.LValue) string {
	if v == lua.LNil {
		return "nil"
	}
	if g, err := luaconv.FromLua(v); err == nil {
		if b, err := json.Marshal(g); err == nil {
			return text.Truncate(string(b), 300)
		}
	}
	return v.String()
}

// testMessageHandler adds a short traceback to an error raised in a test,
// and lets t:fatal's and t:skip's stop value through.
func testMessageHandler(L *lua.LState) int {
	v := L.Get(1)
	if v == stopTest {
		L.Push(v)
		return 1
	}
	msg := L.ToStringMeta(v).String()
	var frames []string
	for level := 1; level < 12; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil || dbg.CurrentLine < 0 {
			continue
		}
		frames = append(frames, fmt.Sprintf("  %s:%d", dbg.Source, dbg.CurrentLine))
	}
	if len(frames) > 0 {
		msg += "\nstack traceback:\n" + strings.Join(frames, "\n")
	}
	L.Push(lua.LString(msg))
	return 1
}
