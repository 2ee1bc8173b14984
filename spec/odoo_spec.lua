--! timeout = 1m
-- Odoo: reads with domains and paging, value conventions, refused writes.
local expect = require("expect")
local odoo = require("odoo")
local erp = odoo.connect()

local v = erp:version()
expect.truthy(v.server_version, "server_version")

local posted = erp:count("account.move", {{"state", "=", "posted"}})
local moves = erp:search_read("account.move", {{"state", "=", "posted"}},
                              {fields = {"name", "partner_id", "invoice_date", "amount_total"}, batch = 50})
expect.eq(#moves, posted, "batch paging returns every row once")
local seen = {}
for _, m in ipairs(moves) do
  expect.truthy(not seen[m.id], "id " .. m.id .. " once")
  seen[m.id] = true
  if m.partner_id ~= nil then
    expect.eq(type(m.partner_id.id), "number", "many2one id")
    expect.eq(type(m.partner_id.name), "string", "many2one name")
  end
end

local n = 0
for row in erp:iter("res.partner", {"|", {"country_id", "=", false}, {"active", "=", false}},
                    {fields = {"name", "country_id", "active"}, context = {active_test = false}, batch = 20}) do
  expect.truthy(row.country_id == nil or row.active == false, "domain with | holds")
  n = n + 1
end
expect.truthy(n > 0, "partners without a country or archived exist")

expect.fails(function() erp:search_read("account.move", {{"state", "=="}}) end, "bad domain term #1")
expect.fails(function() erp:write("res.partner", {1}, {name = "x"}) end, "odoo-writes")
local ok, e = pcall(erp.search_read, erp, "account.move", {{"no_such_field", "=", 1}}, {fields = {"name"}})
expect.eq(ok, false, "bad field faults")
expect.eq(e.code, 1, "fault code")
return {ok = true}
