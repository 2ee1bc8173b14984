--! description = achat_importation without light threads (the bench's baseline)
-- Unpaid vendor bills (in_invoice) of foreign vendors, one row per bill.
local odoo = require("odoo")
local pg = require("pg")
local tables = require("tables")

local TABLE = "achat_importation"
local ALL = { active_test = false }
local erp, db = odoo.connect(), pg.connect()
tables.create(db, TABLE)

local function by_id(rows, value)
  local t = {}
  for _, r in ipairs(rows) do t[r.id] = value(r) end
  return t
end
local companies = by_id(erp:search_read("res.company", {}, { fields = { "name", "country_id" }, context = ALL }),
  function(c) return { name = c.name, country_id = c.country_id and c.country_id.id } end)
local countries = by_id(erp:search_read("res.country", {}, { fields = { "code" } }), function(c) return c.code end)
local currencies = by_id(erp:search_read("res.currency", {}, { fields = { "name" }, context = ALL }),
  function(c) return c.name end)

local bills = erp:search_read("account.move", {
  { "move_type", "=", "in_invoice" },
  { "state", "=", "posted" },
  { "payment_state", "in", { "not_paid", "partial" } },
}, { fields = { "name", "partner_id", "company_id", "currency_id", "invoice_date", "invoice_date_due",
  "amount_total", "amount_residual" }, batch = tonumber(require("etl").arg("batch", "1000")), concurrency = 1 })

local ids, seen = {}, {}
for _, b in ipairs(bills) do
  if b.partner_id and not seen[b.partner_id.id] then
    seen[b.partner_id.id] = true
    ids[#ids + 1] = b.partner_id.id
  end
end
local vendors = by_id(erp:read("res.partner", ids, { "display_name", "country_id" }, { context = ALL }),
  function(p) return { name = p.display_name, country_id = p.country_id and p.country_id.id } end)

local rows = {}
for _, bill in ipairs(bills) do
  local vendor = bill.partner_id and vendors[bill.partner_id.id]
  local company = companies[bill.company_id.id]
  if vendor and vendor.country_id ~= nil and vendor.country_id ~= company.country_id then
    rows[#rows + 1] = {
      odoo_move_id = bill.id, company = company.name, reference = bill.name, partner = vendor.name,
      partner_country = countries[vendor.country_id], currency = currencies[bill.currency_id.id],
      invoice_date = bill.invoice_date, due_date = bill.invoice_date_due,
      amount_total = bill.amount_total, amount_residual = bill.amount_residual,
    }
  end
end
local result = db:replace(TABLE, tables.columns[TABLE], rows)
return { rows = result.inserted, previous_rows = result.deleted, unpaid_bills = #bills }
