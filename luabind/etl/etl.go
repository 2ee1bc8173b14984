// Package etl is the Lua module `etl`: what a script knows of its own run.
//
// A script cannot tell a dry run (etlhost exec) from the run that commits
// (exec --commit, etlhost run): what the plan shows is what the commit
// does. There is no etl.dry_run (it was removed: a script could do nothing
// while its plan was shown and everything once confirmed).
//
//	local etl = require("etl")
//	etl.name          -- "ventes_locales_upsert" (file name without .lua)
//	etl.args.since    -- from `etlhost run --arg since=2024-01-01` (strings)
//	etl.deadline()    -- seconds left before the script's timeout (math.huge: none)
//	etl.arg("since", "2024-01-01")  -- an argument with a default
package etl

import (
	"math"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
)

// Module is the `etl` module. Now is the clock (nil: time.Now).
type Module struct {
	Now func() time.Time
}

// Name implements luabind.Module.
func (Module) Name() string { return "etl" }

// Open implements luabind.Module.
func (m Module) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	now := m.Now
	if now == nil {
		now = time.Now
	}
	t := L.NewTable()
	t.RawSetString("name", lua.LString(env.Script))
	args := L.NewTable()
	for k, v := range env.Args {
		args.RawSetString(k, lua.LString(v))
	}
	t.RawSetString("args", args)
	t.RawSetString("arg", L.NewFunction(func(L *lua.LState) int {
		k := L.CheckString(1)
		if v, ok := env.Args[k]; ok {
			L.Push(lua.LString(v))
			return 1
		}
		L.Push(L.Get(2))
		return 1
	}))
	t.RawSetString("deadline", L.NewFunction(func(L *lua.LState) int {
		if env.Deadline.IsZero() {
			L.Push(lua.LNumber(math.Inf(1)))
			return 1
		}
		left := env.Deadline.Sub(now()).Seconds()
		L.Push(lua.LNumber(math.Max(left, 0)))
		return 1
	}))
	return t
}
