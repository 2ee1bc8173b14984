// Package shared is the Lua module `shared`: a cache shared by all the
// scripts of a run, for lookups every job needs (companies, countries,
// currencies).
//
//	local shared = require("shared")
//	local countries = shared.get_or_load("countries", function()
//	  return erp:search_read("res.country", {}, {fields = {"code"}})
//	end)
//	shared.set("run_date", "2024-01-31")
//	shared.get("run_date")   -- "2024-01-31", or nil
//
// get_or_load runs the loader once per key across every script, even when
// several ask at the same moment: the others wait for the first one's
// value. A loader that fails leaves nothing cached (the next caller loads
// again). When it failed because its own script was stopped (its deadline,
// Ctrl+C, its memory limit), that is no reason to fail the others: one of
// the callers that waited runs its own loader, and the rest wait for that
// one. Any other error of a loader (it raised one: a bad query, a missing
// record) would come again, so every caller that waited for it gets it, as
// "the loader run by script "x" failed: <its error>".
//
// Values are copied in and out as plain data (strings, numbers, booleans,
// tables of those): a table is never shared between two scripts' states,
// so a script changing its copy changes nothing elsewhere.
package shared

import (
	"context"
	"fmt"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luaconv"
)

// Module is the `shared` module; one value serves a whole run.
type Module struct {
	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	done  chan struct{}
	value any
	err   string
	// loader is the thread running the loader (nil once loaded): another
	// light thread of the same script waits for it like any other caller.
	// env is the loader's script (nil once loaded; kept when it failed)
	// and script its name, for the message waiters get when it fails.
	loader *lua.LState
	env    *luabind.Env
	script string
	// abandoned: the loader's script was stopped before the value was
	// there; waiters go back to the map, where one of them loads again.
	abandoned bool
	// size is the value's estimated size; charged to mem, the account of
	// the script that stored it, while that script runs.
	size int64
	mem  luabind.Memory
}

// valueSize estimates a shared value's size and charges it to the script
// storing it: entries live on the Go side, outside the script's Lua
// values, for the rest of the run.
func valueSize(L *lua.LState, v lua.LValue, what string) (int64, luabind.Memory) {
	size := luabind.PlainSize(v, luabind.MaxStringBytes)
	if size > luabind.MaxStringBytes {
		L.RaiseError("%s: a value of more than %d bytes cannot be shared (memory limit)", what, luabind.MaxStringBytes)
	}
	mem := luabind.MemoryOf(L)
	if err := mem.Keep(size); err != nil {
		L.RaiseError("%s: %v", what, err)
	}
	return size, mem
}

// release returns a replaced or failed entry's charge.
func (e *entry) release() {
	if e.mem != nil {
		e.mem.Release(e.size)
		e.mem = nil
	}
}

// push copies e's value into L, once the script may build it.
func (e *entry) push(L *lua.LState, what string) {
	if e.size > 4096 {
		luabind.CheckBuild(L, what, e.size)
	}
	L.Push(luaconv.ToLua(L, e.value))
}

// ownLoad reports whether L is running e's loader: the loader itself, or a
// coroutine it resumed.
func ownLoad(L, loader *lua.LState) bool {
	for x := L; x != nil; x = x.Parent {
		if x == loader {
			return true
		}
	}
	return false
}

// New returns an empty cache for one run.
func New() *Module { return &Module{entries: map[string]*entry{}} }

// Name implements luabind.Module.
func (m *Module) Name() string { return "shared" }

// Open implements luabind.Module.
func (m *Module) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	t := L.NewTable()
	t.RawSetString("get_or_load", L.NewFunction(func(L *lua.LState) int { return m.getOrLoad(L, env) }))
	t.RawSetString("get", L.NewFunction(func(L *lua.LState) int { return m.get(L, env) }))
	t.RawSetString("set", L.NewFunction(m.set))
	return t
}

func checkKey(L *lua.LState) string {
	k := L.CheckString(1)
	if k == "" {
		L.ArgError(1, "the key cannot be empty")
	}
	return k
}

func (m *Module) getOrLoad(L *lua.LState, env *luabind.Env) int {
	key := checkKey(L)
	fn := L.CheckFunction(2)
	for {
		m.mu.Lock()
		e, found := m.entries[key]
		if !found {
			e = &entry{done: make(chan struct{}), loader: L, script: env.Script, env: env}
			m.entries[key] = e
		}
		loading := e.loader
		m.mu.Unlock()
		if !found {
			return m.load(L, env, key, fn, e)
		}
		select {
		case <-e.done:
		default:
			if loading != nil && ownLoad(L, loading) {
				L.RaiseError("shared.get_or_load(%q): the loader asked for its own key", key)
			}
			if err := env.WaitFor(e.done); err != nil {
				L.RaiseError("shared.get_or_load(%q): %v", key, err)
			}
		}
		if e.abandoned {
			// Its script was stopped (deadline, Ctrl+C, memory limit)
			// before the value was there: nothing is wrong with the key.
			// The first waiter back at the map loads it, the others
			// wait for that one.
			if env.Ctx.Err() != nil {
				L.RaiseError("shared.get_or_load(%q): stopped: %v", key, context.Cause(env.Ctx))
			}
			continue
		}
		if e.err != "" {
			L.RaiseError("shared.get_or_load(%q): %s failed: %s", key, e.whose(env), e.err)
		}
		e.push(L, "shared.get_or_load")
		return 1
	}
}

// whose names, for a caller that waited, the loader that failed.
func (e *entry) whose(env *luabind.Env) string {
	switch {
	case e.env == env:
		return "the loader run by another light thread of this script"
	case e.script != "":
		return fmt.Sprintf("the loader run by script %q", e.script)
	}
	return "the loader run by another script"
}

// stopped reports whether the script running L has been stopped: its
// context (or its light thread's) is done.
func stopped(L *lua.LState, env *luabind.Env) bool {
	if env.Ctx != nil && env.Ctx.Err() != nil {
		return true
	}
	ctx := L.Context()
	return ctx != nil && ctx.Err() != nil
}

// load runs fn, the loader of e, in L, and releases e's waiters whatever
// happens.
func (m *Module) load(L *lua.LState, env *luabind.Env, key string, fn *lua.LFunction, e *entry) int {
	L.Push(fn)
	err := L.PCall(0, 1, nil)
	if err == nil {
		ret := L.Get(-1)
		var cerr error
		if size := luabind.PlainSize(ret, luabind.MaxStringBytes); size > luabind.MaxStringBytes {
			cerr = fmt.Errorf("a value of more than %d bytes cannot be shared (memory limit)", luabind.MaxStringBytes)
		} else if kerr := luabind.MemoryOf(L).Keep(size); kerr != nil {
			cerr = kerr
		} else {
			e.size, e.mem = size, luabind.MemoryOf(L)
		}
		var v any
		if cerr == nil {
			v, cerr = luaconv.FromLua(ret)
		}
		L.Pop(1)
		if cerr != nil {
			err = fmt.Errorf("its value cannot be shared: %w", cerr)
			e.release()
		} else {
			e.value = v
		}
	}
	m.mu.Lock()
	e.loader = nil
	if err == nil {
		e.env = nil
	} else {
		// A loader stopped with its script failed for a reason of its
		// own script (its deadline, Ctrl+C, its memory limit): waiters
		// load again. Any other error is the loader's own (a bad query)
		// and would come again: waiters get it.
		if stopped(L, env) {
			e.abandoned = true
		} else {
			e.err = errText(err)
		}
		if m.entries[key] == e {
			delete(m.entries, key)
		}
	}
	m.mu.Unlock()
	close(e.done)
	if err != nil {
		if ae, ok := err.(*lua.ApiError); ok {
			L.Error(ae.Object, 0)
		}
		L.RaiseError("shared.get_or_load(%q): %v", key, err)
	}
	e.push(L, "shared.get_or_load")
	return 1
}

func errText(err error) string {
	if ae, ok := err.(*lua.ApiError); ok {
		return ae.Object.String()
	}
	return err.Error()
}

func (m *Module) get(L *lua.LState, env *luabind.Env) int {
	key := checkKey(L)
	m.mu.Lock()
	e, ok := m.entries[key]
	m.mu.Unlock()
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	select {
	case <-e.done:
	default:
		// Being loaded by another script: a plain get does not wait.
		L.Push(lua.LNil)
		return 1
	}
	if e.err != "" {
		L.Push(lua.LNil)
		return 1
	}
	e.push(L, "shared.get")
	return 1
}

func (m *Module) set(L *lua.LState) int {
	key := checkKey(L)
	size, mem := valueSize(L, L.CheckAny(2), "shared.set")
	v, err := luaconv.FromLua(L.CheckAny(2))
	if err != nil {
		mem.Release(size)
		L.ArgError(2, err.Error())
	}
	e := &entry{done: make(chan struct{}), value: v, size: size, mem: mem}
	close(e.done)
	m.mu.Lock()
	old := m.entries[key]
	m.entries[key] = e
	m.mu.Unlock()
	if old != nil {
		select {
		case <-old.done:
			old.release()
		default:
		}
	}
	return 0
}
