package shared_test

import (
	"context"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/luabind/shared"
	"github.com/etlhost/etlhost/luabind/task"
)

func TestLuaSpecs(t *testing.T) {
	t.Parallel()
	luatest.RunFiles(t, "testdata/test_*.lua", func(t *testing.T) *luatest.State {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		t.Cleanup(cancel)
		return luatest.New(t, luatest.Options{Ctx: ctx}, shared.New(), task.Module{})
	})
}

// TestLoadsOnceAcrossScripts: eight scripts, each in its own state on its
// own goroutine, ask for the same key at the same moment; the loader runs
// once and every script gets the value.
func TestLoadsOnceAcrossScripts(t *testing.T) {
	t.Parallel()
	m := shared.New()
	const scripts = 8
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	states := make([]*luatest.State, scripts)
	for i := range states {
		states[i] = luatest.New(t, luatest.Options{Ctx: ctx}, m, task.Module{})
	}
	var loads int
	var mu sync.Mutex
	count := func(L *lua.LState) int { mu.Lock(); loads++; mu.Unlock(); return 0 }
	start := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]string, scripts)
	errs := make([]error, scripts)
	for i, s := range states {
		s.L.SetGlobal("count_load", s.L.NewFunction(count))
		wg.Add(1)
		go func(i int, s *luatest.State) {
			defer wg.Done()
			<-start
			v, err := s.Exec("s.lua", `
local shared = require("shared")
local v = shared.get_or_load("companies", function()
  count_load()
  require("task").sleep(0.1) -- a slow lookup: the others must wait, not load again
  return {names = {"Atlas SARL", "Lyon SAS"}}
end)
return table.concat(v.names, ",")`)
			if err != nil {
				errs[i] = err
				return
			}
			results[i] = v.String()
		}(i, s)
	}
	close(start)
	wg.Wait()
	for i := range states {
		if errs[i] != nil {
			t.Fatalf("script %d: %v", i, errs[i])
		}
		if results[i] != "Atlas SARL,Lyon SAS" {
			t.Fatalf("script %d got %q", i, results[i])
		}
	}
	if loads != 1 {
		t.Fatalf("the loader ran %d times, want once", loads)
	}
}
