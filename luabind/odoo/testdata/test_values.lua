-- Odoo's value conventions, made Lua-friendly by field type.
local erp = require("odoo").connect()

local partners = erp:search_read("res.partner", {}, {
  fields = {"name", "email", "country_id", "is_company", "child_ids", "customer_rank", "write_date"},
  context = {active_test = false},
})
local saw = {no_country = false, country = false, not_company = false, no_email = false, inactive = false}
for _, p in ipairs(partners) do
  expect.truthy(type(p.id) == "number", "id is a number")
  expect.truthy(p.email ~= false, "False becomes nil for char fields")
  if p.email == nil then saw.no_email = true end
  expect.truthy(p.country_id ~= false, "False becomes nil for many2one fields")
  if p.country_id == nil then
    saw.no_country = true
  else
    saw.country = true
    expect.truthy(type(p.country_id) == "table", "many2one is a table")
    expect.truthy(type(p.country_id.id) == "number" and type(p.country_id.name) == "string", "many2one {id, name}")
  end
  expect.truthy(type(p.is_company) == "boolean", "booleans stay booleans")
  if p.is_company == false then saw.not_company = true end
  expect.truthy(type(p.child_ids) == "table", "one2many is a list")
  for _, id in ipairs(p.child_ids) do expect.truthy(type(id) == "number", "x2many ids are numbers") end
  expect.truthy(type(p.customer_rank) == "number", "integers are numbers (0 stays 0)")
  expect.truthy(string.match(p.write_date, "^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$") ~= nil, "datetime string as sent: " .. tostring(p.write_date))
end
expect.truthy(saw.no_country and saw.country, "partners with and without country")
expect.truthy(saw.not_company and saw.no_email, "false booleans and empty strings seen")

-- archived rows only with active_test = false
local active = erp:count("res.partner", {})
local everyone = erp:count("res.partner", {}, {context = {active_test = false}})
expect.truthy(everyone > active, "archived partners are hidden by default")
local archived = erp:search_read("res.partner", {{"active", "=", false}}, {fields = {"active"}, context = {active_test = false}})
expect.truthy(#archived > 0, "archived partners exist")
expect.eq(archived[1].active, false, "active = false is kept")

local moves = erp:search_read("account.move", {}, {
  fields = {"name", "invoice_date", "invoice_date_due", "amount_total", "partner_id", "line_ids", "posted_before"},
  limit = 50, order = "id",
})
expect.eq(#moves, 50, "limit")
local dated = false
for _, m in ipairs(moves) do
  expect.truthy(m.invoice_date ~= false and m.invoice_date_due ~= false, "empty dates are nil")
  if m.invoice_date then
    dated = true
    expect.truthy(string.match(m.invoice_date, "^%d%d%d%d%-%d%d%-%d%d$") ~= nil, "date string as sent")
  end
  expect.truthy(type(m.amount_total) == "number", "amounts are numbers")
  expect.truthy(type(m.line_ids) == "table", "line_ids is a list")
  expect.truthy(type(m.posted_before) == "boolean", "boolean field")
end
expect.truthy(dated, "some moves have a date")

-- read gives the same rows as search_read
local ids = {}
for i = 1, 5 do ids[i] = moves[i].id end
local read = erp:read("account.move", ids, {"name", "amount_total", "partner_id"})
expect.eq(#read, 5, "read returns one row per id")
for i = 1, 5 do
  expect.eq(read[i].id, moves[i].id, "read keeps the order of ids")
  expect.eq(read[i].name, moves[i].name, "same name")
  expect.eq(read[i].partner_id, moves[i].partner_id, "same many2one")
end
local one = erp:read("account.move", ids[1], {"name"})
expect.eq(one.name, moves[1].name, "read of a single id returns the row")
expect.eq(erp:read("account.move", 987654321, {"name"}), nil, "a missing single id reads as nil")
expect.eq(#erp:read("account.move", {ids[1], 987654321}, {"name"}), 1, "missing ids are left out")

-- fields_get, cached per run
local f = erp:fields("res.partner")
expect.eq(f.country_id.type, "many2one")
expect.eq(f.country_id.relation, "res.country")
expect.eq(f.is_company.type, "boolean")
expect.eq(f.name.string, "Name")
expect.eq(f.name.relation, nil, "no relation on a char field")
expect.eq(erp:fields("res.partner").child_ids.type, "one2many")

-- name_search
local company = erp:search_read("res.partner", {{"is_company", "=", true}}, {fields = {"name"}, limit = 1, order = "id"})[1]
local found = erp:name_search("res.partner", company.name, {limit = 5})
expect.truthy(#found >= 1, "name_search finds the company")
local hit = false
for _, r in ipairs(found) do
  expect.truthy(type(r.id) == "number" and type(r.name) == "string", "{id, name}")
  if r.id == company.id then hit = true end
end
expect.truthy(hit, "name_search returns the company's id")

-- version
local v = erp:version()
expect.truthy(type(v.server_version) == "string" and v.server_version ~= "", "server_version")
expect.truthy(v.major >= 16, "major version parsed")
