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
// again) and its error reaches every caller that waited for it.
//
// Values are copied in and out as plain data (strings, numbers, booleans,
// tables of those): a table is never shared between two scripts' states,
// so a script changing its copy changes nothing elsewhere.
package shared

import (
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
	owner *luabind.Env
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
	m.mu.Lock()
	e, found := m.entries[key]
	if !found {
		e = &entry{done: make(chan struct{}), owner: env}
		m.entries[key] = e
	}
	m.mu.Unlock()
	if found {
		select {
		case <-e.done:
		default:
			if e.owner == env {
				L.RaiseError("shared.get_or_load(%q): the loader asked for its own key", key)
			}
			if err := env.WaitFor(e.done); err != nil {
				L.RaiseError("shared.get_or_load(%q): %v", key, err)
			}
		}
		if e.err != "" {
			L.RaiseError("shared.get_or_load(%q): the loader failed: %s", key, e.err)
		}
		L.Push(luaconv.ToLua(L, e.value))
		return 1
	}
	// This caller loads. Whatever happens, waiters are released.
	L.Push(fn)
	err := L.PCall(0, 1, nil)
	if err == nil {
		v, cerr := luaconv.FromLua(L.Get(-1))
		L.Pop(1)
		if cerr != nil {
			err = fmt.Errorf("its value cannot be shared: %w", cerr)
		} else {
			e.value = v
		}
	}
	if err != nil {
		e.err = errText(err)
		m.mu.Lock()
		delete(m.entries, key)
		m.mu.Unlock()
	}
	close(e.done)
	if err != nil {
		if ae, ok := err.(*lua.ApiError); ok {
			L.Error(ae.Object, 0)
		}
		L.RaiseError("shared.get_or_load(%q): %v", key, err)
	}
	L.Push(luaconv.ToLua(L, e.value))
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
	L.Push(luaconv.ToLua(L, e.value))
	return 1
}

func (m *Module) set(L *lua.LState) int {
	key := checkKey(L)
	v, err := luaconv.FromLua(L.CheckAny(2))
	if err != nil {
		L.ArgError(2, err.Error())
	}
	e := &entry{done: make(chan struct{}), value: v}
	close(e.done)
	m.mu.Lock()
	m.entries[key] = e
	m.mu.Unlock()
	return 0
}
