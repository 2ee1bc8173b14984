package main

import (
	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/luabind"
	odoomod "github.com/etlhost/etlhost/luabind/odoo"
	"github.com/etlhost/etlhost/luabind/pg"
	"github.com/etlhost/etlhost/odoo"
)

// modules builds the modules of a run from the configuration. The shared
// parts (pools, clients) live as long as the run; close releases them.
// Connections are opened lazily, on a script's first connect.
func (a *App) modules(cfg *host.Config, odooWrites bool) ([]luabind.Module, func()) {
	var conns []pg.Conn
	for _, name := range sortedKeysOf(cfg.Postgres) {
		c := cfg.Postgres[name]
		conns = append(conns, pg.Conn{Name: name, DSN: c.DSN, MaxConns: c.MaxConns})
	}
	pgm := pg.New(conns)
	odooConns := map[string]odoo.Config{}
	for name, c := range cfg.Odoo {
		odooConns[name] = c.OdooConfig() // the Config LoadConfig validated
	}
	om := odoomod.New(odooConns, odoomod.Options{WriteAll: odooWrites})
	mods := append(a.baseModules(), pgm, om)
	return mods, func() {
		om.Close()
		pgm.Close()
	}
}

// headerKeys lists the header keys the modules read, for `check`.
func headerKeys() []string {
	var keys []string
	for _, m := range []luabind.Module{odoomod.New(nil, odoomod.Options{}), pg.New(nil)} {
		if hk, ok := m.(luabind.HeaderKeys); ok {
			keys = append(keys, hk.HeaderKeys()...)
		}
	}
	return keys
}

func sortedKeysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}
