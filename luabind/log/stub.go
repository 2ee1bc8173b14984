package log

import _ "embed" // for the LuaLS stub

// Stub is the module's LuaLS definition file (log.lua, starting with
// ---@meta), embedded so that `etlhost stubs` can write it for editors.
//
//go:embed log.lua
var Stub string
