// Package log is the Lua module `log`: a script's log lines, shown prefixed
// with the script's name while it runs and kept in its result.
//
//	local log = require("log")
//	log.info("loaded", {rows = 120})      -- also log.debug, log.warn, log.error
//	log.progress(500, 2000)              -- done, total: drives progress displays
//
// Messages are converted with tostring; fields must be plain values
// (strings, numbers, booleans, tables of those). Numbers keep their type in
// the fields (the JSON report writes them as numbers); views write them as
// Lua does (1234567.5, 20000000.01), never in Go's exponent form.
package log

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luaconv"
)

// Module is the `log` module. It has no shared state.
type Module struct{}

// Name implements luabind.Module.
func (Module) Name() string { return "log" }

// Open implements luabind.Module.
func (Module) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	t := L.NewTable()
	for _, lvl := range []luabind.Level{luabind.LevelDebug, luabind.LevelInfo, luabind.LevelWarn, luabind.LevelError} {
		lvl := lvl
		t.RawSetString(string(lvl), L.NewFunction(func(L *lua.LState) int {
			msg := luabind.CutLine(luaconv.Tostring(L, L.CheckAny(1))) // 1234567.5, not 1.2345675e+06
			// The line is kept for the report, which writes every
			// occurrence of a string: it counts against the script.
			size := int64(len(msg))
			if ft := luabind.CheckOptTable(L, 2); ft != nil {
				size += luabind.PlainSize(ft, luabind.MaxStringBytes)
			}
			if size > luabind.MaxStringBytes {
				L.RaiseError("log.%s: a line of %d bytes is over the limit of %d bytes (memory limit)", lvl, size, luabind.MaxStringBytes)
			}
			if err := luabind.MemoryOf(L).KeepLine(size); err != nil {
				L.RaiseError("log.%s: %v", lvl, err)
			}
			var fields map[string]any
			if ft := luabind.CheckOptTable(L, 2); ft != nil {
				v, err := luaconv.FromLua(ft)
				if err != nil {
					L.ArgError(2, "fields: "+err.Error())
				}
				m, ok := v.(map[string]any)
				if !ok {
					L.ArgError(2, "fields must be a table keyed by name")
				}
				fields = m
			}
			env.Log(lvl, msg, fields)
			return 0
		}))
	}
	t.RawSetString("progress", L.NewFunction(func(L *lua.LState) int {
		done := L.CheckNumber(1)
		total := L.OptNumber(2, 0)
		if done < 0 || total < 0 {
			L.ArgError(1, "progress counts cannot be negative")
		}
		env.Emit(event.Progress{Done: int64(done), Total: int64(total)})
		return 0
	}))
	return t
}
