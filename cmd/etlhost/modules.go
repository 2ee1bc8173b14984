package main

import (
	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/luabind"
)

// modules builds the modules of a run from the configuration: the shared
// parts (pools, clients) live as long as the run; close releases them.
func (a *App) modules(cfg *host.Config, odooWrites bool) ([]luabind.Module, func()) {
	return a.baseModules(), func() {}
}

// headerKeys lists the header keys of all modules, for `check`.
func headerKeys(bool) []string {
	return nil
}

// extraCommands are commands that need the clients.
func (a *App) extraCommands() []*cli.Command { return nil }
