// Package task is the Lua module `task`: time and concurrency for scripts.
//
//	local task = require("task")
//	task.sleep(1.5)   -- seconds; stops at the script's deadline or on Ctrl+C
package task

import (
	"context"
	"math"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
)

// MaxSleep bounds one task.sleep; longer waits are a bug, not a plan.
const MaxSleep = 24 * time.Hour

// Module is the `task` module.
type Module struct{}

// Name implements luabind.Module.
func (Module) Name() string { return "task" }

// Open implements luabind.Module.
func (Module) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	t := L.NewTable()
	t.RawSetString("sleep", L.NewFunction(func(L *lua.LState) int {
		secs := float64(L.CheckNumber(1))
		if math.IsNaN(secs) || secs < 0 {
			L.ArgError(1, "seconds must be a non-negative number")
		}
		d := time.Duration(secs * float64(time.Second))
		if secs > MaxSleep.Seconds() {
			L.ArgError(1, "sleep longer than 24h")
		}
		err := env.Block(func(ctx context.Context) error {
			timer := time.NewTimer(d)
			defer timer.Stop()
			select {
			case <-timer.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil {
			L.RaiseError("task.sleep: %v", err)
		}
		return 0
	}))
	return t
}
