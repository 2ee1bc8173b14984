-- Rows hold the fields that were read: a field read and empty in Odoo is
-- nil, any other name is an error (a misspelt field must not load NULL).
local erp = require("odoo").connect()
local json = require("json")

local FIELDS = {"name", "invoice_date", "invoice_date_due", "partner_id", "amount_total"}
local moves = erp:search_read("account.move", {}, {fields = FIELDS, limit = 50, order = "id"})
expect.truthy(#moves > 0, "moves read")
local m = moves[1]

-- The misspelling of the issue: invoice_due_date for invoice_date_due.
local ok, err = pcall(function() return m.invoice_due_date end)
expect.eq(ok, false, "a misspelt field raises")
expect.eq(err.kind, "field")
expect.eq(err.model, "account.move")
expect.eq(err.field, "invoice_due_date")
expect.eq(err.message, 'odoo: account.move: field "invoice_due_date" was not read'
  .. ' (fields read: name, invoice_date, invoice_date_due, partner_id, amount_total, id); did you mean invoice_date_due?')
expect.truthy(string.match(err.where, "^test_rows%.lua:%d+$") ~= nil, "where: " .. tostring(err.where))
expect.truthy(string.match(tostring(err), "^test_rows%.lua:%d+: odoo: account%.move: field \"invoice_due_date\" was not read") ~= nil,
  "tostring: " .. tostring(err))
expect.fails(function() return m.Name end, "did you mean name?")
expect.fails(function() return m.amount_totl end, "did you mean amount_total?")
expect.fails(function() return m.state end, 'field "state" was not read')

-- A field read and empty in Odoo is nil; id is always read.
for _, r in ipairs(moves) do expect.truthy(type(r.id) == "number", "id") end
local no_email = 0
for _, p in ipairs(erp:search_read("res.partner", {}, {fields = {"email"}, context = {active_test = false}})) do
  if p.email == nil then no_email = no_email + 1 end
end
expect.truthy(no_email > 0, "partners without an email read as nil")

-- Rows stay plain tables: pairs walks the fields read (with a value),
-- scripts add their own keys, json.encode sees the values.
local keys = {}
for k, v in pairs(m) do keys[#keys + 1] = k expect.truthy(v ~= nil) end
for _, k in ipairs(keys) do
  local known = k == "id"
  for _, f in ipairs(FIELDS) do known = known or f == k end
  expect.truthy(known, "pairs gives read fields only: " .. k)
end
m.extra = 1
m.name = "renamed"
expect.eq(m.extra, 1, "a key the script adds")
expect.eq(m.name, "renamed")
expect.eq(rawget(m, "state"), nil, "rawget probes without raising")
local decoded = json.decode(json.encode(m))
expect.eq(decoded.extra, 1)
expect.eq(decoded.id, m.id)
expect.eq(decoded.invoice_date_due, m.invoice_date_due)

-- Every way of reading records guards its rows.
local function raises(row, what)
  expect.fails(function() return row.invoice_due_date end, 'field "invoice_due_date" was not read')
  expect.truthy(row.id ~= nil, what .. ": id")
end
for r in erp:iter("account.move", {}, {fields = FIELDS, batch = 20}) do raises(r, "iter") break end
raises(erp:search_read("account.move", {}, {fields = FIELDS, batch = 20})[1], "batch")
raises(erp:search_read("account.move", {}, {fields = FIELDS})[1], "pages")
raises(erp:read("account.move", m.id, FIELDS), "read one")
raises(erp:read("account.move", {m.id}, FIELDS)[1], "read list")
local all = erp:read("account.move", m.id)
expect.fails(function() return all.invoice_due_date end, "did you mean invoice_date_due?")
expect.truthy(pcall(function() return all.invoice_date_due, all.state, all.line_ids end), "without fields, every field is read")

-- A field of the model that was not asked for says so, once the module
-- knows the model's fields.
erp:fields("account.move")
local again = erp:search_read("account.move", {}, {fields = {"name"}, limit = 1})[1]
expect.fails(function() return again.invoice_date_due end,
  'field "invoice_date_due" was not read (fields read: name, id); add it to the fields of the call')

-- name_search rows hold id and name.
local found = erp:name_search("res.partner", "", {limit = 1})
expect.truthy(#found == 1, "name_search")
expect.truthy(found[1].name ~= nil, "name")
expect.fails(function() return found[1].display_name end, 'odoo: res.partner: field "display_name" was not read (fields read: id, name)')
