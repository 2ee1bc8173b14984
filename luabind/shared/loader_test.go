package shared_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/luabind/shared"
	"github.com/etlhost/etlhost/luabind/task"
)

// TestLoaderFailureReachesWaiters: one script starts loading a key and two
// others ask for it while it runs, each script in its own state on its own
// goroutine, as the host runs them. A loader stopped with its script (its
// deadline, a cancel) must fail nobody else: one waiter loads instead (the
// loaders run twice in all, not three times) and both get the value. A
// loader's own error reaches both waiters, naming the script it came from.
func TestLoaderFailureReachesWaiters(t *testing.T) {
	t.Parallel()
	timeout := errors.New("timeout: the script ran longer than its 1s limit")
	interrupted := errors.New("interrupted (Ctrl+C)")
	for _, tc := range []struct {
		name string
		// loaderCtx is the loading script's context; stop, when set, is
		// called once both waiters wait.
		loaderCtx func() (context.Context, func())
		stop      func(cancel func())
		// loader is the loading script's loader body, after it has
		// counted itself and both waiters have arrived.
		loader    string
		loaderErr string // what the loading script fails with
		waiterErr string // "": the waiters get the value
		loads     int64
	}{{
		name: "loader reaches its deadline",
		loaderCtx: func() (context.Context, func()) {
			return context.WithTimeoutCause(context.Background(), 400*time.Millisecond, timeout)
		},
		loader:    `task.sleep(60)`,
		loaderErr: "stopped: " + timeout.Error(),
		loads:     2,
	}, {
		name: "loader cancelled while running Lua",
		loaderCtx: func() (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(context.Background())
			return ctx, func() { cancel(interrupted) }
		},
		stop:      func(cancel func()) { cancel() },
		loader:    `while true do end`,
		loaderErr: "context canceled",
		loads:     2,
	}, {
		name: "loader cancelled while it waits on the outside world",
		loaderCtx: func() (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(context.Background())
			return ctx, func() { cancel(interrupted) }
		},
		stop:      func(cancel func()) { cancel() },
		loader:    `task.sleep(60)`,
		loaderErr: interrupted.Error(),
		loads:     2,
	}, {
		name: "loader raises its own error",
		loaderCtx: func() (context.Context, func()) {
			return context.WithTimeout(context.Background(), time.Minute)
		},
		loader:    `error("Invalid field 'nmae' on model 'res.company'")`,
		loaderErr: "Invalid field 'nmae'",
		waiterErr: `shared.get_or_load("companies"): the loader run by script "slow_job" failed: slow_job.lua:`,
		loads:     1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := shared.New()
			var loads, arrived atomic.Int64
			started := make(chan struct{})
			newState := func(ctx context.Context, script string) *luatest.State {
				s := luatest.New(t, luatest.Options{Ctx: ctx, Script: script}, m, task.Module{})
				s.L.SetGlobal("count_load", s.L.NewFunction(func(*lua.LState) int { loads.Add(1); return 0 }))
				s.L.SetGlobal("started", s.L.NewFunction(func(*lua.LState) int { close(started); return 0 }))
				s.L.SetGlobal("arrive", s.L.NewFunction(func(*lua.LState) int { arrived.Add(1); return 0 }))
				s.L.SetGlobal("arrived", s.L.NewFunction(func(L *lua.LState) int { L.Push(lua.LNumber(arrived.Load())); return 1 }))
				return s
			}
			lctx, stop := tc.loaderCtx()
			defer stop()
			loader := newState(lctx, "slow_job")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			waiters := []*luatest.State{newState(ctx, "job_a"), newState(ctx, "job_b")}

			var wg sync.WaitGroup
			var loaderErr error
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, loaderErr = loader.Exec("slow_job.lua", `
local shared, task = require("shared"), require("task")
return shared.get_or_load("companies", function()
  count_load()
  started()
  while arrived() < 2 do task.sleep(0.005) end
  task.sleep(0.1) -- both waiters are waiting by now
  `+tc.loader+`
  return {"from the loader"}
end)`)
			}()
			<-started
			values := make([]string, len(waiters))
			errs := make([]error, len(waiters))
			for i, s := range waiters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					v, err := s.Exec("job.lua", `
local shared, task = require("shared"), require("task")
arrive()
local v = shared.get_or_load("companies", function()
  count_load()
  task.sleep(0.05) -- the other waiter waits for this one
  return {"Atlas SARL", "Lyon SAS"}
end)
return table.concat(v, ",")`)
					if err != nil {
						errs[i] = err
						return
					}
					values[i] = v.String()
				}()
			}
			if tc.stop != nil {
				for arrived.Load() < 2 {
					time.Sleep(5 * time.Millisecond)
				}
				time.Sleep(300 * time.Millisecond) // the loader is past its task.sleep(0.1)
				tc.stop(stop)
			}
			wg.Wait()

			if loaderErr == nil || !strings.Contains(loaderErr.Error(), tc.loaderErr) {
				t.Errorf("the loading script: got error %v, want one containing %q", loaderErr, tc.loaderErr)
			}
			for i := range waiters {
				switch {
				case tc.waiterErr == "" && errs[i] != nil:
					t.Errorf("waiter %d failed: %v", i, errs[i])
				case tc.waiterErr == "" && values[i] != "Atlas SARL,Lyon SAS":
					t.Errorf("waiter %d got %q", i, values[i])
				case tc.waiterErr != "" && (errs[i] == nil || !strings.Contains(errs[i].Error(), tc.waiterErr)):
					t.Errorf("waiter %d: got error %v, want one containing %q", i, errs[i], tc.waiterErr)
				case tc.waiterErr != "" && !strings.Contains(errs[i].Error(), "Invalid field 'nmae'"):
					t.Errorf("waiter %d: got error %v, want the loader's own error in it", i, errs[i])
				}
			}
			if n := loads.Load(); n != tc.loads {
				t.Errorf("the loaders ran %d times in all, want %d", n, tc.loads)
			}
		})
	}
}
