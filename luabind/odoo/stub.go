package odoo

import _ "embed" // for the LuaLS stub

// Stub is the module's LuaLS definition file (odoo.lua, starting with
// ---@meta), embedded so that `etlhost stubs` can write it for editors.
//
//go:embed odoo.lua
var Stub string
