local json = require("json")
expect.eq(json.encode({b = 1, a = {1, 2, "x"}}), '{"a":[1,2,"x"],"b":1}')
expect.eq(json.encode("é<>&"), '"é<>&"')
expect.eq(json.encode(1.5), "1.5")
expect.eq(json.encode({}), "{}")
expect.eq(json.encode({a = 1}, {indent = "  "}), '{\n  "a": 1\n}')
local v = json.decode('{"a": [1, null, 3], "b": {"c": true}, "n": 12345678901}')
expect.eq(v.a[1], 1)
expect.eq(v.a[2], nil)
expect.eq(v.a[3], 3)
expect.eq(v.b.c, true)
expect.eq(v.n, 12345678901)
expect.fails(function() json.decode("{bad") end, "json.decode")
expect.fails(function() json.decode("1 2") end, "after the JSON value")
expect.fails(function() json.encode({f = print}) end, "cannot be converted")
expect.fails(function() json.encode(0/0) end, "no JSON form")
local t = {} t.t = t
expect.fails(function() json.encode(t) end, "cycle")
-- Nesting: 100 levels decode in full; deeper is an error, not a nil.
local deep = json.decode(string.rep("[", 100) .. "7" .. string.rep("]", 100))
for _ = 1, 100 do deep = deep[1] end
expect.eq(deep, 7)
expect.fails(function() json.decode(string.rep("[", 101) .. "7" .. string.rep("]", 101)) end,
  "json.decode: the document nests deeper than 100 levels")
expect.fails(function() json.decode('{"ok": 1, "deep": ' .. string.rep('{"a":', 101) .. '[]' .. string.rep("}", 101) .. "}") end,
  "deeper than 100 levels")
expect.fails(function() json.decode(string.rep("[", 20000) .. string.rep("]", 20000)) end, "json.decode")
