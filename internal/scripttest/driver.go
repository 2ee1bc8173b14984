package scripttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luaconv"
	"github.com/etlhost/etlhost/report/text"
)

// moduleName is the module the test driver is reached by. Run prefixes a
// test file's first line with a require of it (line numbers stay the
// same), so it is opened first and runs the tests once the file's main
// chunk has returned.
const moduleName = "etlhost.testing"

var testName = regexp.MustCompile(`^Test([^a-z].*)?$`)

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
	code := string(src)
	if strings.HasPrefix(code, "#!") {
		if i := strings.IndexByte(code, '\n'); i >= 0 {
			code = code[i:]
		} else {
			code = ""
		}
	}
	s, err := host.CompileScript(orig.Name, path, []byte(`require("`+moduleName+`");`+code), keys)
	if err != nil {
		return nil, err
	}
	s.Header, s.Timeout = orig.Header, orig.Timeout
	return s, nil
}

// driver is both the module that runs a file's tests and the observer
// that files each log line under the test running at the time.
type driver struct {
	filter *regexp.Regexp
	file   *File

	env      *luabind.Env
	mu       sync.Mutex
	cur      *Test
	curStart time.Time
	stopped  bool // a test was stopped by the file's context: it says why
}

// stopTest is raised (as a Lua value) by t:fatal and t:skip.
var stopTest = lua.LString("etlhost: stop the test")

// Name implements luabind.Module.
func (d *driver) Name() string { return moduleName }

// Open implements luabind.Module: the tests run once the file's main chunk
// has returned without error.
func (d *driver) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	d.env = env
	env.OnFinish(func() error {
		d.runAll(L)
		return nil
	})
	return lua.LTrue
}

// runAll runs the file's TestXxx functions in the order they are defined.
func (d *driver) runAll(L *lua.LState) {
	type fn struct {
		name string
		f    *lua.LFunction
	}
	var fns []fn
	L.G.Global.ForEach(func(k, v lua.LValue) {
		name, ok := k.(lua.LString)
		f, isFn := v.(*lua.LFunction)
		if !ok || !isFn || f.Proto == nil || !testName.MatchString(string(name)) {
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

func (d *driver) runOne(L *lua.LState, meta *lua.LTable, name string, f *lua.LFunction) {
	tc := &Test{Name: name, Line: f.Proto.LineDefined}
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
		tc.Status = StatusFail
		d.stopped = true
	case errors.As(err, &ae) && ae.Object == stopTest:
	case errors.As(err, &ae):
		tc.Out = append(tc.Out, "error: "+ae.Object.String())
		tc.Status = StatusFail
	default:
		tc.Out = append(tc.Out, "error: "+err.Error())
		tc.Status = StatusFail
	}
	if tc.Status == "" {
		tc.Status = StatusPass
	}
}

// ScriptEvent implements host.Observer: a line logged during a test belongs
// to it; others to the file.
func (d *driver) ScriptEvent(_ *host.Script, e host.Event) {
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
func (d *driver) ScriptStarted(*host.Script, time.Time) {}

// ScriptFinished implements host.Observer.
func (d *driver) ScriptFinished(*host.Result) {}

// luaT is the Go side of a test's t.
type luaT struct {
	d  *driver
	tc *Test
}

func (t *luaT) add(line string, status Status) {
	t.d.mu.Lock()
	defer t.d.mu.Unlock()
	t.tc.Out = append(t.tc.Out, line)
	if status == StatusFail || (status == StatusSkip && t.tc.Status == "") {
		t.tc.Status = status
	}
}

// tMethods are the methods of t; TestStubComplete checks them against
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
		t.add(where(L)+joinArgs(L, 2), StatusFail)
		return 0
	},
	"fatal": func(L *lua.LState, t *luaT) int {
		t.add(where(L)+joinArgs(L, 2), StatusFail)
		L.Error(stopTest, 0)
		return 0
	},
	"skip": func(L *lua.LState, t *luaT) int {
		msg := joinArgs(L, 2)
		if msg != "" {
			t.add(where(L)+msg, StatusSkip)
		} else {
			t.add(where(L)+"skipped", StatusSkip)
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
		t.add(fmt.Sprintf("%s%sgot %s, want %s", where(L), msg, showValue(got), showValue(want)), StatusFail)
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
			t.add(fmt.Sprintf("%sexpected an error containing %q, got none", pos, want), StatusFail)
			L.Push(lua.LNil)
			return 1
		}
		msg := err.Error()
		var ae *lua.ApiError
		if errors.As(err, &ae) {
			if ae.Object == stopTest {
				L.Error(stopTest, 0)
			}
			msg = luaconv.Tostring(L, ae.Object)
		}
		if !strings.Contains(msg, want) {
			t.add(fmt.Sprintf("%sexpected an error containing %q, got %q", pos, want, msg), StatusFail)
		}
		L.Push(lua.LString(msg))
		return 1
	},
	"failed": func(L *lua.LState, t *luaT) int {
		t.d.mu.Lock()
		defer t.d.mu.Unlock()
		L.Push(lua.LBool(t.tc.Status == StatusFail))
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
		parts = append(parts, luaconv.Tostring(L, L.Get(i)))
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
	if n, ok := v.(lua.LNumber); ok {
		return luaconv.NumberString(n) // inf, nan: no JSON form
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
	msg := luaconv.Tostring(L, v)
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
