package pg

import _ "embed" // for the LuaLS stub

// Stub is the module's LuaLS definition file (pg.lua, starting with
// ---@meta), embedded so that `etlhost stubs` can write it for editors.
//
//go:embed pg.lua
var Stub string
