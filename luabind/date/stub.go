package date

import _ "embed" // for the LuaLS stub

// Stub is the module's LuaLS definition file (date.lua, starting with
// ---@meta), embedded so that `etlhost stubs` can write it for editors.
//
//go:embed date.lua
var Stub string
