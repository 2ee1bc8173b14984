-- The sandbox: what a script's globals hold, and what they do not.
local expect = require("expect")

local allowed = {
  assert = true, error = true, ipairs = true, next = true, pairs = true, pcall = true,
  rawequal = true, rawget = true, rawset = true, select = true, setmetatable = true,
  getmetatable = true, tonumber = true, tostring = true, type = true, unpack = true,
  xpcall = true, print = true, collectgarbage = true, require = true, _G = true,
  _VERSION = true, string = true, table = true, math = true, os = true, coroutine = true,
}
for name in pairs(_G) do
  expect.truthy(allowed[name], "global " .. tostring(name) .. " is allowed")
end
for _, gone in ipairs({"io", "debug", "package", "dofile", "loadfile", "load", "loadstring",
                       "getfenv", "setfenv", "module", "newproxy", "channel", "_printregs"}) do
  expect.eq(_G[gone], nil, gone)
end
local os_names = {}
for name in pairs(os) do os_names[#os_names + 1] = name end
table.sort(os_names)
expect.eq(os_names, {"clock", "date", "difftime", "time"}, "os functions")

expect.eq(getmetatable(""), false, "the string metatable is protected")
expect.eq(("abc"):upper(), "ABC", "string methods still work")
expect.eq(collectgarbage("count"), 0, "collectgarbage does nothing")
expect.fails(function() return string.format("%p", {}) end, "invalid option '%p'")
expect.fails(function() return string.rep("x", 1e9) end, "over the limit")
expect.fails(function() require("../etc/passwd") end, "bad module name")
expect.fails(function() require("no_such_module") end, "not found")
expect.eq(require("expect"), expect, "library modules load once per script")
return {ok = true}
