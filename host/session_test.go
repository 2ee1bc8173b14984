package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
)

// settleProbe is a module whose probe.touch() registers an OnSettle
// function, as pg does when an Atomic input begins its transaction, and
// records how each input was settled.
type settleProbe struct {
	mu      sync.Mutex
	settled []string
	env     *luabind.Env
}

func (p *settleProbe) Name() string { return "probe" }

func (p *settleProbe) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	p.env = env
	t := L.NewTable()
	t.RawSetString("touch", L.NewFunction(func(L *lua.LState) int {
		tag := L.CheckString(1)
		env.OnSettle(func(ok bool) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.settled = append(p.settled, fmt.Sprintf("%s:%v", tag, ok))
			if tag == "failcommit" && ok {
				return errors.New("commit failed")
			}
			return nil
		})
		return 0
	}))
	return t
}

func (p *settleProbe) list() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.settled, " ")
}

// logObserver keeps the log lines of a run.
type logObserver struct {
	mu    sync.Mutex
	lines []string
}

func (o *logObserver) ScriptStarted(*Script, time.Time) {}
func (o *logObserver) ScriptEvent(s *Script, e Event) {
	if l, ok := e.Line(); ok {
		o.mu.Lock()
		o.lines = append(o.lines, s.Name+": "+l.Msg)
		o.mu.Unlock()
	}
}
func (o *logObserver) ScriptFinished(*Result) {}

func newTestSession(t *testing.T, ctx context.Context, r *Runner) *Session {
	t.Helper()
	s, err := r.NewSession(ctx, "repl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func show(vals []lua.LValue) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = v.String()
	}
	return strings.Join(parts, ",")
}

// TestSessionEval: expressions give their values, statements run, globals
// persist, errors leave the session usable, and incomplete input is told
// apart from a syntax error.
func TestSessionEval(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, context.Background(), &Runner{Modules: stdModules(), Args: map[string]string{"k": "v"}})
	steps := []struct {
		code    string
		want    string // values joined by commas
		wantErr string // substring of the error; "incomplete" for ErrIncomplete
	}{
		{code: "1 + 1", want: "2"},
		{code: "x = 41", want: ""},
		{code: "x + 1", want: "42"},
		{code: "1, 'a', nil", want: "1,a,nil"},
		{code: "local y = 2; return x + y", want: "43"},
		{code: "function add(a, b)\n  return a + b\nend", want: ""},
		{code: "add(x, 1)", want: "42"},
		{code: "require('etl').args.k", want: "v"},
		{code: "for i = 1, 2 do", wantErr: "incomplete"},
		{code: "t = {", wantErr: "incomplete"},
		{code: "s = [[long", wantErr: "incomplete"},
		{code: "1 +", wantErr: "incomplete"},
		{code: "1 +\n 2", want: "3"},
		{code: "s = 'unterminated", wantErr: "repl:1:"},
		{code: "local = 1", wantErr: "repl:1:"},
		{code: "error('boom')", wantErr: "repl:1: boom"},
		{code: "nope.field", wantErr: "repl:1:"},
		{code: "x", want: "41"},
		// the sandbox is a script's
		{code: "io, debug, dofile, load, os.exit, os.getenv", want: "nil,nil,nil,nil,nil,nil"},
		{code: "getmetatable('')", want: "false"},
	}
	for _, st := range steps {
		vals, err := s.Eval(st.code)
		switch {
		case st.wantErr == "incomplete":
			if !errors.Is(err, ErrIncomplete) {
				t.Errorf("%q: error %v, want ErrIncomplete", st.code, err)
			}
		case st.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), st.wantErr) || errors.Is(err, ErrIncomplete) {
				t.Errorf("%q: error %v, want one containing %q", st.code, err, st.wantErr)
			}
		case err != nil:
			t.Errorf("%q: %v", st.code, err)
		case show(vals) != st.want:
			t.Errorf("%q = %q, want %q", st.code, show(vals), st.want)
		}
	}
}

// TestSessionSettlesEachInput: an input's work is settled as a success
// when it ran without error and as a failure when it raised; a failed
// settle (a commit) is the input's error; Close settles what is left.
func TestSessionSettlesEachInput(t *testing.T) {
	t.Parallel()
	p := &settleProbe{}
	s := newTestSession(t, context.Background(), &Runner{Modules: stdModules(p), Atomic: true})
	if _, err := s.Eval("probe = require('probe'); probe.touch('a')"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Eval("probe.touch('b'); error('no')"); err == nil {
		t.Fatal("want the error")
	}
	if _, err := s.Eval("probe.touch('failcommit')"); err == nil || !strings.Contains(err.Error(), "commit failed") {
		t.Fatalf("a failed settle must be the input's error, got %v", err)
	}
	if _, err := s.Eval("probe.touch('left')"); err != nil {
		t.Fatal(err)
	}
	if got, want := p.list(), "a:true b:false failcommit:true left:true"; got != want {
		t.Fatalf("settled %q, want %q", got, want)
	}
	if !p.env.Atomic || p.env.DryRun {
		t.Fatal("the session's Env must carry the runner's flags")
	}
}

// TestSessionPrintsToObserver: print and log lines reach the runner's
// observer under the session's name, not stdout.
func TestSessionPrintsToObserver(t *testing.T) {
	t.Parallel()
	obs := &logObserver{}
	s := newTestSession(t, context.Background(), &Runner{Modules: stdModules(), Observer: obs})
	if _, err := s.Eval("print('hello', 1); require('log').info('logged')"); err != nil {
		t.Fatal(err)
	}
	obs.mu.Lock()
	got := strings.Join(obs.lines, "|")
	obs.mu.Unlock()
	if got != "repl: hello\t1|repl: logged" {
		t.Fatalf("observer saw %q", got)
	}
}

// TestSessionEnds: cancelling the session's context stops a running
// evaluation and ends the session; Eval after Close is refused.
func TestSessionEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	s := newTestSession(t, ctx, &Runner{Modules: stdModules()})
	time.AfterFunc(50*time.Millisecond, func() { cancel(ErrInterrupted) })
	_, err := s.Eval("while true do end")
	if !errors.Is(err, ErrSessionClosed) || !errors.Is(err, ErrInterrupted) {
		t.Fatalf("error %v, want the session ended by the interrupt", err)
	}
	if !errors.Is(s.Err(), ErrInterrupted) {
		t.Fatalf("Err() = %v", s.Err())
	}
	s2 := newTestSession(t, context.Background(), &Runner{Modules: stdModules()})
	s2.Close()
	s2.Close()
	if _, err := s2.Eval("1"); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("Eval after Close: %v", err)
	}
}

// TestEvalErrorShort: the traceback is dropped when it names only the
// input itself.
func TestEvalErrorShort(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, context.Background(), &Runner{Modules: stdModules()})
	_, err := s.Eval("error('flat')")
	var ee *EvalError
	if !errors.As(err, &ee) || ee.Short() != "repl:1: flat" {
		t.Fatalf("short form of %v", err)
	}
	_, err = s.Eval("local function f()\n error('deep')\nend\nf()")
	if !errors.As(err, &ee) || !strings.Contains(ee.Short(), "stack traceback") || !strings.Contains(ee.Short(), "repl:2: deep") {
		t.Fatalf("a traceback through a function is kept: %v", err)
	}
}

// ExampleRunner_NewSession evaluates inputs one by one in a sandboxed
// session, as `etlhost repl` does.
func ExampleRunner_NewSession() {
	r := &Runner{Modules: stdModules()}
	s, err := r.NewSession(context.Background(), "repl")
	if err != nil {
		panic(err)
	}
	defer s.Close()
	for _, in := range []string{"x = 20", "x * 2 + 2", "for i = 1, 3 do", "io"} {
		vals, err := s.Eval(in)
		fmt.Printf("%-16q -> %v %v\n", in, vals, err)
	}
	// Output:
	// "x = 20"         -> [] <nil>
	// "x * 2 + 2"      -> [42] <nil>
	// "for i = 1, 3 do" -> [] incomplete input
	// "io"             -> [nil] <nil>
}

// TestRunnerAtomic: Runner.Atomic reaches the script's Env, and a script's
// work is settled as a success only when it ends without error.
func TestRunnerAtomic(t *testing.T) {
	t.Parallel()
	p := &settleProbe{}
	dir := t.TempDir()
	paths := writeScripts(t, dir, map[string]string{
		"good.lua": "require('probe').touch('good')",
		"bad.lua":  "require('probe').touch('bad'); error('half way')",
	})
	r := &Runner{Modules: stdModules(p), Atomic: true, Jobs: 1}
	_, by := runScripts(t, context.Background(), r, paths)
	if by["good"].Status != StatusOK || by["bad"].Status != StatusFailed {
		t.Fatalf("statuses %s %s", by["good"].Status, by["bad"].Status)
	}
	got := p.list()
	if !strings.Contains(got, "good:true") || !strings.Contains(got, "bad:false") {
		t.Fatalf("settled %q", got)
	}
	if !p.env.Atomic {
		t.Fatal("Env.Atomic not set")
	}
}

func TestSessionTostring(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, context.Background(), &Runner{Modules: stdModules()})
	vals, err := s.Eval(`setmetatable({}, {__tostring = function() return "custom" end}),
		setmetatable({}, {__tostring = function() error("broken") end}), 12, {}`)
	if err != nil || len(vals) != 4 {
		t.Fatal(vals, err)
	}
	cases := []struct {
		want   string
		custom bool
	}{{"custom", true}, {"<__tostring failed: ", true}, {"12", false}, {"table: ", false}}
	for i, tc := range cases {
		got, custom := s.Tostring(vals[i])
		if !strings.HasPrefix(got, tc.want) || custom != tc.custom {
			t.Errorf("value %d: %q %v, want %q %v", i, got, custom, tc.want, tc.custom)
		}
	}
}
