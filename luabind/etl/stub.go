package etl

import _ "embed" // for the LuaLS stub

// Stub is the module's LuaLS definition file (etl.lua, starting with
// ---@meta), embedded so that `etlhost stubs` can write it for editors.
//
//go:embed etl.lua
var Stub string
