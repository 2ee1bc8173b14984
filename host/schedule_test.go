package host

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/luabind"
)

// flaky is a test module: flaky.fail(key, n, transient, reason) raises a
// module error value, classified as a binding would (Env.Raised), the
// first n times it is called for key across the run; flaky.mark(what)
// records what happened, in order.
type flaky struct {
	mu    sync.Mutex
	calls map[string]int
	marks []string
}

func newFlaky() *flaky { return &flaky{calls: map[string]int{}} }

func (f *flaky) Name() string { return "flaky" }

func (f *flaky) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	t := L.NewTable()
	t.RawSetString("fail", L.NewFunction(func(L *lua.LState) int {
		key, n, transient, reason := L.CheckString(1), L.CheckInt(2), L.ToBool(3), L.OptString(4, "flaky: connection refused")
		f.mu.Lock()
		f.calls[key]++
		c := f.calls[key]
		f.mu.Unlock()
		if c > n {
			L.Push(lua.LNumber(c))
			return 1
		}
		e := L.NewTable()
		e.RawSetString("kind", lua.LString("connect"))
		e.RawSetString("message", lua.LString(reason))
		env.Raised(e, luabind.Fault{Transient: transient, Reason: reason})
		L.Error(e, 0)
		return 0
	}))
	t.RawSetString("write", L.NewFunction(func(L *lua.LState) int {
		env.Emit(event.OdooWrite{Connection: "default", Model: "res.partner", Method: "write", IDs: []int64{7}})
		return 0
	}))
	t.RawSetString("mark", L.NewFunction(func(L *lua.LState) int {
		f.mu.Lock()
		f.marks = append(f.marks, L.CheckString(1))
		f.mu.Unlock()
		return 0
	}))
	return t
}

func (f *flaky) index(what string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, m := range f.marks {
		if m == what {
			return i
		}
	}
	return -1
}

// events records the host's own events of a run, per script.
type events struct {
	mu  sync.Mutex
	got map[string][]event.Event
}

func (e *events) ScriptStarted(*Script, time.Time) {}
func (e *events) ScriptEvent(s *Script, ev Event) {
	switch ev.Event.(type) {
	case event.Waiting, event.Retrying:
		e.mu.Lock()
		if e.got == nil {
			e.got = map[string][]event.Event{}
		}
		e.got[s.Name] = append(e.got[s.Name], ev.Event)
		e.mu.Unlock()
	}
}
func (e *events) ScriptFinished(*Result) {}

// job is a script that marks its start and end around a hold.
func job(after string, hold float64, tail string) string {
	h := ""
	if after != "" {
		h = "--! after = " + after + "\n"
	}
	return h + fmt.Sprintf("local f, p, etl = require('flaky'), require('probe'), require('etl')\nf.mark(etl.name .. ' start')\np.hold(%g)\nf.mark(etl.name .. ' end')\n%s\nreturn {ok = true}", hold, tail)
}

func TestDependencies(t *testing.T) {
	t.Parallel()
	t.Run("a chain runs in order", func(t *testing.T) {
		t.Parallel()
		f, p := newFlaky(), newProbe()
		paths := writeScripts(t, t.TempDir(), map[string]string{
			"c.lua": job("b", 0.05, ""), "b.lua": job("a", 0.05, ""), "a.lua": job("", 0.05, ""),
		})
		ev := &events{}
		r := &Runner{Modules: stdModules(f, p), Observer: ev}
		rep, by := runScripts(t, context.Background(), r, paths)
		if rep.Status != StatusOK {
			t.Fatalf("run %s: %+v", rep.Status, by)
		}
		if !(f.index("a end") < f.index("b start") && f.index("b end") < f.index("c start")) {
			t.Errorf("order %v", f.marks)
		}
		if w, _ := ev.got["c"][0].(event.Waiting); len(ev.got["c"]) != 1 || fmt.Sprint(w.For) != "[b]" {
			t.Errorf("c's waiting events %v", ev.got["c"])
		}
	})
	t.Run("a failed job skips its dependents, not the others", func(t *testing.T) {
		t.Parallel()
		f, p := newFlaky(), newProbe()
		paths := writeScripts(t, t.TempDir(), map[string]string{
			"a.lua": job("", 0, ""), "b.lua": job("a", 0, "error('b broke')"),
			"c.lua": job("b", 0, ""), "d.lua": job("c", 0, ""), "e.lua": job("a", 0, ""),
		})
		rep, by := runScripts(t, context.Background(), &Runner{Modules: stdModules(f, p)}, paths)
		if rep.Status != StatusFailed {
			t.Errorf("run %s, want failed", rep.Status)
		}
		for name, want := range map[string]struct {
			st  Status
			err string
		}{"a": {StatusOK, ""}, "b": {StatusFailed, "b broke"}, "c": {StatusSkipped, "skipped: b failed"},
			"d": {StatusSkipped, "skipped: c was skipped"}, "e": {StatusOK, ""}} {
			if by[name].Status != want.st || !strings.Contains(by[name].Error, want.err) {
				t.Errorf("%s: %s %q, want %s %q", name, by[name].Status, by[name].Error, want.st, want.err)
			}
		}
		if f.index("c start") >= 0 || f.index("d start") >= 0 {
			t.Errorf("a skipped job ran: %v", f.marks)
		}
	})
	t.Run("a diamond runs its middles side by side", func(t *testing.T) {
		t.Parallel()
		f, p := newFlaky(), newProbe()
		paths := writeScripts(t, t.TempDir(), map[string]string{
			"top.lua": job("", 0, ""), "left.lua": job("top", 0.3, ""), "right.lua": job("top", 0.3, ""),
			"bottom.lua": job("left, right", 0, ""),
		})
		rep, _ := runScripts(t, context.Background(), &Runner{Modules: stdModules(f, p), Jobs: 2}, paths)
		if rep.Status != StatusOK {
			t.Fatalf("run %s", rep.Status)
		}
		if p.peak.Load() != 2 {
			t.Errorf("left and right held at once: %d, want 2", p.peak.Load())
		}
		if b := f.index("bottom start"); b < f.index("left end") || b < f.index("right end") || f.index("left start") < f.index("top end") {
			t.Errorf("order %v", f.marks)
		}
	})
	t.Run("waiting jobs take no slot", func(t *testing.T) {
		t.Parallel()
		f, p := newFlaky(), newProbe()
		// With one slot, b and c wait for a without holding it.
		paths := writeScripts(t, t.TempDir(), map[string]string{
			"b.lua": job("a", 0, ""), "c.lua": job("a", 0, ""), "a.lua": job("", 0.05, ""),
		})
		rep, _ := runScripts(t, context.Background(), &Runner{Modules: stdModules(f, p), Jobs: 1}, paths)
		if rep.Status != StatusOK {
			t.Fatalf("run %s", rep.Status)
		}
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		t.Parallel()
		f, p := newFlaky(), newProbe()
		paths := writeScripts(t, t.TempDir(), map[string]string{"a.lua": job("", 5, ""), "b.lua": job("a", 0, "")})
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(200*time.Millisecond, func() { cancel(ErrInterrupted) })
		rep, by := runScripts(t, ctx, &Runner{Modules: stdModules(f, p)}, paths)
		if rep.Status != StatusCancelled || by["b"].Status != StatusCancelled || !strings.Contains(by["b"].Error, "cancelled before it started") {
			t.Errorf("run %s, b %s %q", rep.Status, by["b"].Status, by["b"].Error)
		}
	})
}

func TestDependencyErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeScripts(t, dir, map[string]string{
		"a.lua": "return {}", "b.lua": "--! after = a\nreturn {}",
		"x.lua": "--! after = y\nreturn {}", "y.lua": "-- y\n--! after = z\nreturn {}", "z.lua": "--! after = x\nreturn {}",
		"self.lua": "--! after = self\nreturn {}", "lost.lua": "--! after = nowhere\nreturn {}",
		"sub/c.lua": "--! after = a\nreturn {}",
	})
	p := func(n string) string { return filepath.Join(dir, n) }
	sep := string(filepath.Separator)
	for _, tc := range []struct {
		name     string
		paths    []string
		withDeps bool
		want     string // "" for none
		loaded   int
	}{
		{"unknown", []string{p("b.lua")}, false, p("b.lua") + ":1: b runs after a, which is not among the scripts given: add " + p("a.lua") + " to the command (etlhost run --with-deps takes it from " + dir + sep + ")", 0},
		{"with deps", []string{p("b.lua")}, true, "", 2},
		{"with deps, not in the folder", []string{p("lost.lua")}, true, p("lost.lua") + ":1: lost runs after nowhere, which is not among the scripts given", 0},
		{"with deps, from the script's own folder only", []string{p("sub/c.lua")}, true, "c runs after a, which is not among the scripts given", 0},
		{"a cycle", []string{p("x.lua"), p("y.lua"), p("z.lua")}, false, "a dependency cycle: x -> y -> z -> x (the after headers at " + p("x.lua") + ":1, " + p("y.lua") + ":2, " + p("z.lua") + ":1)", 0},
		{"a cycle found through --with-deps", []string{p("x.lua")}, true, "a dependency cycle: x -> y -> z -> x", 0},
		{"itself", []string{p("self.lua")}, false, "a dependency cycle: self -> self (the after headers at " + p("self.lua") + ":1)", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			scripts, err := (&Runner{Modules: stdModules(), WithDeps: tc.withDeps}).Load(tc.paths)
			if tc.want == "" {
				if err != nil || len(scripts) != tc.loaded {
					t.Fatalf("%d scripts, %v; want %d", len(scripts), err, tc.loaded)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant   %s", err, tc.want)
			}
		})
	}
	if _, err := (&Runner{Modules: stdModules()}).Load([]string{p("a.lua")}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadScript(writeScripts(t, t.TempDir(), map[string]string{"h.lua": "--! after = a b\nreturn {}"})[0], nil); err == nil || !strings.Contains(err.Error(), `bad after "a b"`) {
		t.Errorf("error %v", err)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	quick := func(int) time.Duration { return 20 * time.Millisecond }
	for _, tc := range []struct {
		name     string
		src      string
		runner   Runner
		status   Status
		attempts int
		errHas   string
	}{
		{"transient twice, then ok", "--! retries = 2\nrequire('flaky').fail('k', 2, true)\nreturn {rows = 1}", Runner{}, StatusOK, 3, ""},
		{"retries exhausted", "--! retries = 1\nrequire('flaky').fail('k', 5, true)", Runner{}, StatusFailed, 2, "gave up after 2 attempts"},
		{"not transient: never retried", "--! retries = 3\nrequire('flaky').fail('k', 5, false, 'flaky: bad field')", Runner{}, StatusFailed, 1, "flaky: bad field"},
		{"a script error: never retried", "--! retries = 3\nerror('a bug')", Runner{}, StatusFailed, 1, "a bug"},
		{"a forged error value: never retried", "--! retries = 3\nerror({kind = 'connect', message = 'connection refused'})", Runner{}, StatusFailed, 1, ""},
		{"a caught and re-raised copy: never retried", "--! retries = 3\nlocal ok, e = pcall(require('flaky').fail, 'k', 5, true)\nerror({kind = e.kind, message = e.message})", Runner{}, StatusFailed, 1, ""},
		{"the same value re-raised: retried", "--! retries = 1\nlocal ok, e = pcall(require('flaky').fail, 'k', 1, true)\nif not ok then error(e, 0) end\nreturn {}", Runner{}, StatusOK, 2, ""},
		{"the run's retries", "require('flaky').fail('k', 1, true)\nreturn {}", Runner{Retries: 1, RetriesFrom: FromConfig}, StatusOK, 2, ""},
		{"the header beats the configuration", "--! retries = 0\nrequire('flaky').fail('k', 1, true)\nreturn {}", Runner{Retries: 3, RetriesFrom: FromConfig}, StatusFailed, 0, ""},
		{"the command line beats the header", "--! retries = 0\nrequire('flaky').fail('k', 1, true)\nreturn {}", Runner{Retries: 1, RetriesFrom: FromFlag}, StatusOK, 2, ""},
		{"the job's timeout: never retried", "--! retries = 3\n--! timeout = 200ms\nrequire('probe').hold(5)", Runner{}, StatusTimeout, 1, "timeout"},
		{"no attempt after the deadline", "--! retries = 3\n--! timeout = 1s\nrequire('flaky').fail('k', 5, true)",
			Runner{Backoff: func(int) time.Duration { return 2 * time.Second }}, StatusFailed, 1, "not tried again: attempt 2 would start after the job's deadline (1s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, p := newFlaky(), newProbe()
			ev := &events{}
			r := tc.runner
			r.Modules, r.Observer = stdModules(f, p), ev
			if r.Backoff == nil {
				r.Backoff = quick
			}
			paths := writeScripts(t, t.TempDir(), map[string]string{"job.lua": tc.src})
			start := time.Now()
			_, by := runScripts(t, context.Background(), &r, paths)
			res := by["job"]
			if res.Status != tc.status || len(res.Attempts) != tc.attempts || !strings.Contains(res.Error, tc.errHas) {
				t.Fatalf("%s, %d attempts, %q; want %s, %d attempts, %q", res.Status, len(res.Attempts), res.Error, tc.status, tc.attempts, tc.errHas)
			}
			retried := 0
			for _, e := range ev.got["job"] {
				if _, ok := e.(event.Retrying); ok {
					retried++
				}
			}
			if want := max(tc.attempts-1, 0); retried != want {
				t.Errorf("%d Retrying events, want %d", retried, want)
			}
			for i, a := range res.Attempts {
				if a.Attempt != i+1 || (i < len(res.Attempts)-1 && (!a.Transient || a.Status != StatusFailed || a.Reason != "flaky: connection refused")) {
					t.Errorf("attempt %d: %+v", i+1, a)
				}
			}
			if timeout := r.timeoutOf(&Script{}).Value; time.Since(start) > timeout+5*time.Second {
				t.Errorf("ran %v", time.Since(start))
			}
		})
	}
}

// Each attempt runs in a fresh state: nothing a failed attempt left in its
// globals reaches the next.
func TestRetryRunsInAFreshState(t *testing.T) {
	t.Parallel()
	var seen atomic.Int32
	f := newFlaky()
	paths := writeScripts(t, t.TempDir(), map[string]string{"job.lua": "--! retries = 1\nif LEFT then require('flaky').mark('dirty') end\nLEFT = true\nrequire('flaky').fail('k', 1, true)\nreturn {}"})
	_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules(f), Backoff: func(int) time.Duration { seen.Add(1); return 0 }}, paths)
	if by["job"].Status != StatusOK || f.index("dirty") >= 0 || seen.Load() != 1 {
		t.Errorf("%s, marks %v", by["job"].Status, f.marks)
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 6: 30 * time.Second, 40: 30 * time.Second} {
		for i := 0; i < 50; i++ {
			if d := DefaultBackoff(n); d < want/2 || d > want {
				t.Fatalf("DefaultBackoff(%d) = %v, want within [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

// A light thread nobody waited for fails on a transient error: the job is
// retried as if the main chunk had raised it.
func TestRetryOfAnUnwaitedThread(t *testing.T) {
	t.Parallel()
	f := newFlaky()
	paths := writeScripts(t, t.TempDir(), map[string]string{"job.lua": "--! retries = 1\nlocal task = require('task')\ntask.spawn(function() require('flaky').fail('k', 1, true) end)\nreturn {}"})
	_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules(f), Backoff: func(int) time.Duration { return 0 }}, paths)
	if r := by["job"]; r.Status != StatusOK || len(r.Attempts) != 2 || !r.Attempts[0].Transient {
		t.Errorf("%s after %d attempts: %q %+v", r.Status, len(r.Attempts), r.Error, r.Attempts)
	}
}

// Bugs found in review: a script whose `after` names no script given, run
// without Load (as exec runs its script), is a usage error, not a panic;
// Ctrl+C while a job waits to try again is cancelled; an attempt that sent
// a write to Odoo is never retried; test files are not dependencies; a
// job name cannot carry terminal escapes.
func TestDependenciesAndRetriesEdges(t *testing.T) {
	t.Parallel()
	t.Run("Run checks the graph", func(t *testing.T) {
		t.Parallel()
		s, err := CompileScript("fix", "fix.lua", []byte("--! after = other\nreturn {}"), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = (&Runner{Modules: stdModules()}).Run(context.Background(), []*Script{s})
		if err == nil || !strings.Contains(err.Error(), "fix runs after other, which is not among the scripts given") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("Ctrl+C during the backoff", func(t *testing.T) {
		t.Parallel()
		f := newFlaky()
		paths := writeScripts(t, t.TempDir(), map[string]string{"job.lua": "--! retries = 3\nrequire('flaky').fail('k', 9, true)"})
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(300*time.Millisecond, func() { cancel(ErrInterrupted) })
		rep, by := runScripts(t, ctx, &Runner{Modules: stdModules(f), Backoff: func(int) time.Duration { return 5 * time.Second }}, paths)
		if rep.Status != StatusCancelled || by["job"].Status != StatusCancelled || len(by["job"].Attempts) != 1 {
			t.Errorf("run %s, job %s after %d attempts: %q", rep.Status, by["job"].Status, len(by["job"].Attempts), by["job"].Error)
		}
	})
	t.Run("an attempt that wrote to Odoo", func(t *testing.T) {
		t.Parallel()
		f := newFlaky()
		paths := writeScripts(t, t.TempDir(), map[string]string{"job.lua": "--! retries = 3\nrequire('flaky').write()\nrequire('flaky').fail('k', 9, true)"})
		_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules(f), Backoff: func(int) time.Duration { return 0 }}, paths)
		if r := by["job"]; r.Status != StatusFailed || len(r.Attempts) != 1 || !strings.Contains(r.Error, "not tried again: attempt 1 sent 1 writes to Odoo") {
			t.Errorf("%s after %d attempts: %q", r.Status, len(r.Attempts), r.Error)
		}
	})
	t.Run("a test file is not a dependency", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		paths := writeScripts(t, dir, map[string]string{"job.lua": "--! after = x_test\nreturn {}", "x_test.lua": "error('a test file ran as a job')"})
		for _, withDeps := range []bool{false, true} {
			job := filepath.Join(dir, "job.lua")
			for _, given := range [][]string{{job}, paths} {
				_, err := (&Runner{Modules: stdModules(), WithDeps: withDeps}).Load(given)
				if err == nil || !strings.Contains(err.Error(), "job runs after x_test, a test file: test files are not jobs") {
					t.Errorf("with deps %v, given %d: %v", withDeps, len(given), err)
				}
			}
		}
	})
	t.Run("no terminal escapes in a job name", func(t *testing.T) {
		t.Parallel()
		paths := writeScripts(t, t.TempDir(), map[string]string{"j.lua": "--! after = a\x1b[31m, b\x07\nreturn {}"})
		if _, err := LoadScript(paths[0], nil); err == nil || !strings.Contains(err.Error(), "bad after") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("a job named twice", func(t *testing.T) {
		t.Parallel()
		paths := writeScripts(t, t.TempDir(), map[string]string{"j.lua": "--! after = a, a\nreturn {}"})
		s, err := LoadScript(paths[0], nil)
		if err != nil || fmt.Sprint(s.After) != "[a]" {
			t.Errorf("after %v, %v", s.After, err)
		}
	})
}
