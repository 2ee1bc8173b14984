package json

import _ "embed" // for the LuaLS stub

// Stub is the module's LuaLS definition file (json.lua, starting with
// ---@meta), embedded so that `etlhost stubs` can write it for editors.
//
//go:embed json.lua
var Stub string
