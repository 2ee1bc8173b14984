package host

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
)

// lateModule offers late(seconds): a blocking call that ignores its
// context and returns late, as a client still streaming a huge answer
// would.
type lateModule struct{}

func (lateModule) Name() string { return "late" }

func (lateModule) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	return L.NewFunction(func(L *lua.LState) int {
		d := time.Duration(float64(L.CheckNumber(1)) * float64(time.Second))
		_ = env.Block(func(context.Context) error { time.Sleep(d); return nil })
		return 0
	})
}

// TestPastTheDeadlineIsNeverOK (issue 18, item 8): a script whose blocking
// call ignores the deadline and returns after it ends as timeout, whatever
// it returned: in the main chunk, or in a light thread the host waits for
// once the main chunk has returned (its context then ends with "the script
// ended", not the deadline). A script whose calls return in time is ok.
func TestPastTheDeadlineIsNeverOK(t *testing.T) {
	t.Parallel()
	paths := writeScripts(t, t.TempDir(), map[string]string{
		"main.lua":   "--! timeout = 200ms\nrequire('late')(0.5)\nreturn {rows = 1}",
		"thread.lua": "--! timeout = 200ms\nlocal task = require('task')\ntask.spawn(function() require('late')(0.5) end)\nreturn {rows = 1}",
		"intime.lua": "--! timeout = 2s\nlocal task = require('task')\ntask.spawn(function() require('late')(0.05) end)\nrequire('late')(0.05)\nreturn {rows = 1}",
	})
	_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules(lateModule{})}, paths)
	for _, name := range []string{"main", "thread"} {
		if res := by[name]; res.Status != StatusTimeout || res.Value != nil || !strings.Contains(res.Error, "200ms limit") {
			t.Errorf("%s: %s %v %q after %v, want timeout", name, res.Status, res.Value, res.Error, res.Duration)
		}
	}
	if res := by["intime"]; res.Status != StatusOK || fmt.Sprint(res.Value) != "map[rows:1]" {
		t.Errorf("intime: %s %v %q", res.Status, res.Value, res.Error)
	}
}

// TestDurationPastTheLimitIsNeverOK (issue 18, item 8): when the script's
// context has not ended by the time it returns (its deadline's timer fired
// late: here the runner's clock jumps while the real one does not), a
// script that ran longer than its limit by the runner's clock is not ok.
func TestDurationPastTheLimitIsNeverOK(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	jump := jumpModule(func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() })
	paths := writeScripts(t, t.TempDir(), map[string]string{
		"streamed.lua": "--! timeout = 6s\nrequire('jump')(9.7)\nreturn {rows = 1}",
		"quick.lua":    "--! timeout = 6s\nrequire('jump')(0.5)\nreturn {rows = 1}",
	})
	r := &Runner{Modules: stdModules(jump), Now: clock, Jobs: 1}
	_, by := runScripts(t, context.Background(), r, paths)
	if res := by["streamed"]; res.Status != StatusTimeout || res.Value != nil || !strings.Contains(res.Error, "6s limit") {
		t.Errorf("streamed: %s %v %q after %v, want timeout", res.Status, res.Value, res.Error, res.Duration)
	}
	if res := by["quick"]; res.Status != StatusOK || fmt.Sprint(res.Value) != "map[rows:1]" {
		t.Errorf("quick: %s %v %q after %v", res.Status, res.Value, res.Error, res.Duration)
	}
}

// jumpModule is jump(seconds): the runner's clock moves on that much at once.
type jumpModule func(time.Duration)

func (jumpModule) Name() string { return "jump" }

func (j jumpModule) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	return L.NewFunction(func(L *lua.LState) int {
		j(time.Duration(float64(L.CheckNumber(1)) * float64(time.Second)))
		return 0
	})
}
