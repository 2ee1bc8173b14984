--! description = ventes_locales without light threads (the bench's baseline)
-- Unpaid customer invoices (out_invoice) of local customers, one row per invoice.
local odoo = require("odoo")
local pg = require("pg")
local tables = require("tables")

local TABLE = "ventes_locales"
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

local invoices = erp:search_read("account.move", {
  { "move_type", "=", "out_invoice" },
  { "state", "=", "posted" },
  { "payment_state", "in", { "not_paid", "partial" } },
}, { fields = { "name", "partner_id", "company_id", "currency_id", "invoice_date", "invoice_date_due",
  "amount_total", "amount_residual" }, batch = tonumber(require("etl").arg("batch", "1000")), concurrency = 1 })

local ids, seen = {}, {}
for _, inv in ipairs(invoices) do
  if inv.partner_id and not seen[inv.partner_id.id] then
    seen[inv.partner_id.id] = true
    ids[#ids + 1] = inv.partner_id.id
  end
end
local customers = by_id(erp:read("res.partner", ids, { "display_name", "country_id" }, { context = ALL }),
  function(p) return { name = p.display_name, country_id = p.country_id and p.country_id.id } end)

local rows = {}
for _, invoice in ipairs(invoices) do
  local customer = invoice.partner_id and customers[invoice.partner_id.id]
  local company = companies[invoice.company_id.id]
  if customer and customer.country_id ~= nil and customer.country_id == company.country_id then
    rows[#rows + 1] = {
      odoo_move_id = invoice.id, company = company.name, reference = invoice.name, partner = customer.name,
      partner_country = countries[customer.country_id], currency = currencies[invoice.currency_id.id],
      invoice_date = invoice.invoice_date, due_date = invoice.invoice_date_due,
      amount_total = invoice.amount_total, amount_residual = invoice.amount_residual,
    }
  end
end
local result = db:replace(TABLE, tables.columns[TABLE], rows)
return { rows = result.inserted, previous_rows = result.deleted, unpaid_invoices = #invoices }
