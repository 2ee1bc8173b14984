package task

import _ "embed" // for the LuaLS stub

// Stub is the module's LuaLS definition file (task.lua, starting with
// ---@meta), embedded so that `etlhost stubs` can write it for editors.
//
//go:embed task.lua
var Stub string
