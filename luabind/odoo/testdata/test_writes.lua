-- create, write, unlink, call with a grant (this state grants res.partner).
local erp = require("odoo").connect()

local before = erp:count("res.partner", {})
local id = erp:create("res.partner", {name = "ETL Test SARL", city = "Lyon", is_company = true, email = "etl@example.com"})
expect.truthy(type(id) == "number" and id > 0, "create returns the id")
expect.eq(erp:count("res.partner", {}), before + 1, "one more partner")

local p = erp:read("res.partner", id, {"name", "city", "is_company", "email", "country_id"})
expect.eq(p.name, "ETL Test SARL")
expect.eq(p.city, "Lyon")
expect.eq(p.is_company, true)
expect.eq(p.country_id, nil, "no country")

local fr = erp:search("res.country", {{"code", "=", "FR"}})[1]
expect.eq(erp:write("res.partner", {id}, {city = "Paris", country_id = fr, email = false}), true)
p = erp:read("res.partner", id, {"city", "country_id", "email"})
expect.eq(p.city, "Paris")
expect.eq(p.country_id.id, fr, "many2one written by id")
expect.eq(p.email, nil, "false empties a field")

local ids = erp:create("res.partner", {{name = "Multi A"}, {name = "Multi B"}})
expect.eq(#ids, 2, "create with a list returns ids")
expect.eq(erp:count("res.partner", {{"id", "in", ids}}), 2)

-- call: generic methods, positional and keyword arguments
local rows = erp:call("res.partner", "read", {ids}, {fields = {"name"}})
expect.eq(#rows, 2, "call read")
expect.eq(rows[1].name, "Multi A")
expect.eq(erp:call("res.partner", "search_count", {{{"id", "in", ids}}}), 2, "call search_count")
erp:call("res.partner", "write", {ids, {ref = "MULTI"}})
expect.eq(erp:count("res.partner", {{"ref", "=", "MULTI"}}), 2, "call write")

expect.eq(erp:unlink("res.partner", ids), true)
expect.eq(erp:count("res.partner", {{"id", "in", ids}}), 0, "unlinked")
erp:unlink("res.partner", id)
expect.eq(erp:count("res.partner", {}), before, "back to the start")
