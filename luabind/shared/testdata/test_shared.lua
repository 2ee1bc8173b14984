local shared = require("shared")
local calls = 0
local v = shared.get_or_load("countries", function() calls = calls + 1 return {MA = "Morocco", FR = "France"} end)
expect.eq(v.MA, "Morocco")
local again = shared.get_or_load("countries", function() calls = calls + 1 return {} end)
expect.eq(again.FR, "France")
expect.eq(calls, 1)
-- copies: changing one changes nothing else
again.FR = "changed"
expect.eq(shared.get("countries").FR, "France")
-- set/get
shared.set("run_date", "2024-01-31")
expect.eq(shared.get("run_date"), "2024-01-31")
expect.eq(shared.get("missing"), nil)
-- a failing loader caches nothing and its error reaches the caller
expect.fails(function() shared.get_or_load("bad", function() error("loader broke") end) end, "loader broke")
expect.eq(shared.get_or_load("bad", function() return "second try" end), "second try")
expect.fails(function() shared.get_or_load("fn", function() return print end) end, "cannot be shared")
expect.fails(function() shared.get_or_load("self", function() return shared.get_or_load("self", function() end) end) end, "its own key")
expect.fails(function() shared.set("x", {f = print}) end, "cannot be converted")
expect.fails(function() shared.get_or_load("", function() end) end, "cannot be empty")
