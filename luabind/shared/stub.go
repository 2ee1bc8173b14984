package shared

import _ "embed" // for the LuaLS stub

// Stub is the module's LuaLS definition file (shared.lua, starting with
// ---@meta), embedded so that `etlhost stubs` can write it for editors.
//
//go:embed shared.lua
var Stub string
