// Package luatest runs Lua code against etlhost modules in tests, without the
// host: a plain state with the base, string, table and math libraries, the
// modules under test reachable through require, and a few assertion helpers.
// Each module's behaviour is specified in test_*.lua files run as subtests.
//
// Helpers available to Lua test code, as in the specifications of spec/:
//
//	expect.eq(got, want, what?)     -- deep equality of plain values
//	expect.fails(fn, substring)     -- fn must raise an error containing substring; returns it
//	expect.truthy(v, what?)
package luatest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luaconv"
)

// Logs collects what a state's modules report, for assertions: the events
// as they came, and each as a line (see event.Line).
type Logs struct {
	mu     sync.Mutex
	Events []event.Event
	Lines  []string
	Done   int64
	Total  int64
	// Fetched and Loaded are the rows reported through Env.CountRows.
	Fetched, Loaded int64
}

// Emit implements luabind.Sink.
func (l *Logs) Emit(ev event.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Events = append(l.Events, ev)
	switch e := ev.(type) {
	case event.Rows:
		l.Fetched += e.Fetched
		l.Loaded += e.Loaded
		return
	case event.Progress:
		l.Done, l.Total = e.Done, e.Total
		return
	}
	level, msg, fields, ok := event.Line(ev)
	if !ok {
		return
	}
	line := string(level) + " " + msg
	if len(fields) > 0 {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			line += " " + k + "=" + luaconv.Sprint(fields[k]) // numbers as the views write them
		}
	}
	l.Lines = append(l.Lines, line)
}

// Writes returns the OdooWrite events so far.
func (l *Logs) Writes() []event.OdooWrite {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []event.OdooWrite
	for _, ev := range l.Events {
		if w, ok := ev.(event.OdooWrite); ok {
			out = append(out, w)
		}
	}
	return out
}

// String returns the collected lines, one per line.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.Lines, "\n")
}

// Options tune a state made by New.
type Options struct {
	Ctx    context.Context   // default: context.Background()
	Args   map[string]string // etl args
	Header map[string]string // script header keys
	DryRun bool
	Script string // default "test"
}

// State is a Lua state wired to modules, with its Env.
type State struct {
	L    *lua.LState
	Env  *luabind.Env
	Logs *Logs
}

// New makes a state in which require(name) returns the given modules. The
// state and its Env are closed when the test ends.
func New(t testing.TB, opts Options, mods ...luabind.Module) *State {
	t.Helper()
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	name := opts.Script
	if name == "" {
		name = "test"
	}
	logs := &Logs{}
	ctx, stop := context.WithCancelCause(ctx)
	env := &luabind.Env{Stop: stop, Ctx: ctx, Script: name, Path: name + ".lua", Args: opts.Args, Header: opts.Header, Events: logs, DryRun: opts.DryRun}
	if dl, ok := ctx.Deadline(); ok {
		env.Deadline = dl
	}
	L := lua.NewState()
	L.SetContext(ctx)
	for _, m := range mods {
		m := m
		L.PreloadModule(m.Name(), func(L *lua.LState) int {
			L.Push(m.Open(L, env))
			return 1
		})
	}
	installHelpers(L)
	s := &State{L: L, Env: env, Logs: logs}
	t.Cleanup(func() {
		env.Close()
		L.Close()
		stop(nil)
	})
	return s
}

// Exec runs code (named chunk) and returns its first result.
func (s *State) Exec(chunk, code string) (lua.LValue, error) {
	fn, err := s.L.Load(strings.NewReader(code), chunk)
	if err != nil {
		return nil, err
	}
	s.L.Push(fn)
	if err := s.L.PCall(0, 1, nil); err != nil {
		return nil, err
	}
	v := s.L.Get(-1)
	s.L.Pop(1)
	return v, nil
}

// Memory is a script's memory account with a limit, as the host gives
// one (luabind.Memory): past the limit it stops the script (Stop, the
// cancel of the state's context) with ErrOverLimit. Kept and Peak say what
// was charged.
type Memory struct {
	Limit      int64
	Stop       context.CancelCauseFunc
	kept, peak atomic.Int64
}

// ErrOverLimit is the cause Memory stops a script with.
var ErrOverLimit = errors.New("memory limit: over the test's limit")

// NewMemory returns an account of limit bytes and the context that carries
// it, which it cancels past the limit.
func NewMemory(parent context.Context, limit int64) (*Memory, context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	m := &Memory{Limit: limit, Stop: cancel}
	return m, luabind.WithMemory(ctx, m), cancel
}

// Kept is what is charged now; Peak the most ever charged.
func (m *Memory) Kept() int64 { return m.kept.Load() }
func (m *Memory) Peak() int64 { return m.peak.Load() }

func (m *Memory) Build(*lua.LState, int64) error { return nil }
func (m *Memory) Keep(n int64) error {
	k := m.kept.Add(n)
	for p := m.peak.Load(); k > p && !m.peak.CompareAndSwap(p, k); p = m.peak.Load() {
	}
	if k > m.Limit {
		m.Stop(ErrOverLimit)
		return ErrOverLimit
	}
	return nil
}
func (m *Memory) Release(n int64)                    { m.kept.Add(-n) }
func (m *Memory) KeepLine(int64) error               { return nil }
func (m *Memory) Thread(*lua.LState) (forget func()) { return func() {} }

// ErrorText renders an error of Exec as the host shows it: an error value
// (a table) through its __tostring.
func (s *State) ErrorText(err error) string {
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		return s.L.ToStringMeta(ae.Object).String()
	}
	return err.Error()
}

// Run runs code and fails the test on error; it returns the converted result.
func Run(t testing.TB, code string, mods ...luabind.Module) any {
	t.Helper()
	s := New(t, Options{}, mods...)
	v, err := s.Exec("test.lua", code)
	if err != nil {
		t.Fatalf("lua: %v", err)
	}
	out, err := luaconv.FromLua(v)
	if err != nil {
		t.Fatalf("result: %v", err)
	}
	return out
}

// RunFiles runs each file matching pattern (for example
// "testdata/test_*.lua") as a subtest in a fresh state made by newState.
// A file passes when it runs to its end without error.
func RunFiles(t *testing.T, pattern string, newState func(t *testing.T) *State) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no Lua test files match %s", pattern)
	}
	for _, f := range files {
		f := f
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s := newState(t)
			start := time.Now()
			if _, err := s.Exec(filepath.Base(f), string(src)); err != nil {
				t.Fatalf("%v\nlog:\n%s", err, s.Logs.String())
			}
			if err := s.Env.Finish(); err != nil {
				t.Fatalf("at the end of the script: %v", err)
			}
			t.Logf("%s ran in %v", f, time.Since(start))
		})
	}
}

// installHelpers sets the global table expect: the assertions of the
// executable specifications (spec/lib/expect.lua), so module tests and specs
// read alike.
func installHelpers(L *lua.LState) {
	expect := L.NewTable()
	expect.RawSetString("eq", L.NewFunction(func(L *lua.LState) int {
		got, err1 := luaconv.FromLua(L.Get(1))
		want, err2 := luaconv.FromLua(L.Get(2))
		if err1 != nil || err2 != nil {
			L.RaiseError("expect.eq: cannot compare: %v %v", err1, err2)
		}
		if !reflect.DeepEqual(got, want) {
			L.RaiseError("%s: got %s, want %s", L.OptString(3, "value"), show(got), show(want))
		}
		return 0
	}))
	expect.RawSetString("truthy", L.NewFunction(func(L *lua.LState) int {
		if !lua.LVAsBool(L.Get(1)) {
			L.RaiseError("%s should be true", L.OptString(2, "value"))
		}
		return 0
	}))
	// fails(fn, substring) runs fn, which must raise an error whose text
	// (tostring) contains substring; it returns the error value.
	expect.RawSetString("fails", L.NewFunction(func(L *lua.LState) int {
		fn := L.CheckFunction(1)
		want := L.CheckString(2)
		L.Push(fn)
		err := L.PCall(0, 0, nil)
		if err == nil {
			L.RaiseError("expected an error containing %q, got none", want)
		}
		var value lua.LValue = lua.LString(err.Error())
		if ae, ok := err.(*lua.ApiError); ok {
			value = ae.Object
		}
		if msg := L.ToStringMeta(value).String(); !strings.Contains(msg, want) {
			L.RaiseError("expected an error containing %q, got %q", want, msg)
		}
		L.Push(value)
		return 1
	}))
	L.SetGlobal("expect", expect)
}

func show(v any) string {
	s := fmt.Sprintf("%#v", v)
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

// RaisedFault runs code, which must fail with a module's error value (a
// table), and returns the value's kind and the classification the module
// recorded for that very value (luabind.Env.Raised).
func RaisedFault(t *testing.T, s *State, code string) (string, luabind.Fault) {
	t.Helper()
	_, err := s.Exec("job.lua", code)
	var ae *lua.ApiError
	if !errors.As(err, &ae) {
		t.Fatalf("want a Lua error, got %v", err)
	}
	tab, ok := ae.Object.(*lua.LTable)
	if !ok {
		t.Fatalf("want a module's error value (a table), got %s", ae.Object)
	}
	f, ok := s.Env.FaultOf(tab)
	if !ok {
		t.Fatalf("the module recorded no classification for the error it raised: %s", s.L.ToStringMeta(tab))
	}
	return lua.LVAsString(tab.RawGetString("kind")), f
}
