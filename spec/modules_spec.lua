--! timeout = 1m
-- log, json, etl, shared: the small modules.
local expect = require("expect")
local log, json, etl, shared = require("log"), require("json"), require("etl"), require("shared")

log.info("spec running", {step = 1})
log.progress(1, 2)
print("print goes to the log")

expect.eq(json.decode(json.encode({a = {1, 2}, b = "x"})), {a = {1, 2}, b = "x"}, "json round trip")
expect.eq(json.encode({b = 1, a = 2}), '{"a":2,"b":1}', "keys sorted")
expect.fails(function() json.decode("{") end, "json.decode")

expect.eq(etl.name, "modules_spec", "etl.name")
expect.eq(etl.arg("missing", "default"), "default", "etl.arg default")
expect.truthy(etl.deadline() > 0 and etl.deadline() <= 60, "etl.deadline within the header's minute")
expect.eq(etl.dry_run, nil, "no etl.dry_run: a script cannot tell a dry run from a commit")

local loads = 0
local v = shared.get_or_load("spec.key", function() loads = loads + 1 return {n = 1} end)
shared.get_or_load("spec.key", function() loads = loads + 1 return {n = 2} end)
expect.eq({v.n, loads}, {1, 1}, "shared loads once")
return {ok = true}
