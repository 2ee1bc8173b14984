package main

import (
	"sort"
	"time"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/date"
	"github.com/etlhost/etlhost/luabind/etl"
	luajson "github.com/etlhost/etlhost/luabind/json"
	"github.com/etlhost/etlhost/luabind/log"
	odoomod "github.com/etlhost/etlhost/luabind/odoo"
	"github.com/etlhost/etlhost/luabind/pg"
	"github.com/etlhost/etlhost/luabind/shared"
	"github.com/etlhost/etlhost/luabind/task"
	"github.com/etlhost/etlhost/odoo"
)

// moduleSetup is what the modules of a run are built from.
type moduleSetup struct {
	cfg        *host.Config
	odooWrites bool // every script may write to Odoo
	now        func() time.Time
}

// luaModules are every Lua module a script can require, in one place and
// in the README's order: how a run builds it, and its LuaLS stub (the file
// `etlhost stubs` writes is <name>.lua). The script header keys come from
// the built modules (luabind.HeaderKeys). A module whose shared part holds
// connections (pg, odoo) is closed when the run ends.
var luaModules = []struct {
	name  string
	stub  string
	build func(moduleSetup) luabind.Module
}{
	{"log", log.Stub, func(moduleSetup) luabind.Module { return log.Module{} }},
	{"json", luajson.Stub, func(moduleSetup) luabind.Module { return luajson.Module{} }},
	{"etl", etl.Stub, func(m moduleSetup) luabind.Module { return etl.Module{Now: m.now} }},
	{"date", date.Stub, func(m moduleSetup) luabind.Module { return date.Module{Now: m.now} }},
	{"task", task.Stub, func(moduleSetup) luabind.Module { return task.Module{} }},
	{"shared", shared.Stub, func(moduleSetup) luabind.Module { return shared.New() }},
	{"pg", pg.Stub, func(m moduleSetup) luabind.Module {
		var conns []pg.Conn
		for _, name := range sortedKeys(m.cfg.Postgres) {
			c := m.cfg.Postgres[name]
			conns = append(conns, pg.Conn{Name: name, DSN: c.DSN, MaxConns: c.MaxConns, ScriptConns: c.ScriptConns})
		}
		return pg.New(conns)
	}},
	{"odoo", odoomod.Stub, func(m moduleSetup) luabind.Module {
		conns := map[string]odoo.Config{}
		for name, c := range m.cfg.Odoo {
			conns[name] = c.OdooConfig() // the Config LoadConfig validated
		}
		return odoomod.New(conns, odoomod.Options{WriteAll: m.odooWrites})
	}},
}

// modules builds the modules of a run from the configuration. The shared
// parts (pools, clients) live as long as the run; close releases them.
// Connections are opened lazily, on a script's first connect.
func (a *App) modules(cfg *host.Config, odooWrites bool) (mods []luabind.Module, close func()) {
	setup := moduleSetup{cfg: cfg, odooWrites: odooWrites, now: a.Now}
	for _, m := range luaModules {
		mods = append(mods, m.build(setup))
	}
	return mods, func() {
		for i := len(mods) - 1; i >= 0; i-- {
			if c, ok := mods[i].(interface{ Close() }); ok {
				c.Close()
			}
		}
	}
}

// headerKeys lists the script header keys the modules read, for `check`.
func (a *App) headerKeys() []string {
	mods, closeMods := a.modules(&host.Config{}, false)
	defer closeMods()
	return (&host.Runner{Modules: mods}).HeaderKeys()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
