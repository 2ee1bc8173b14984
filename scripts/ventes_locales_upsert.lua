--! description = Unpaid customer invoices of local customers, one row per invoice -> ventes_locales
--
-- Sales still to collect at home: every posted customer invoice
-- (out_invoice) that is not paid or only partly paid, from a local
-- customer: the customer's country is set and is the country of the company
-- invoicing. Archived customers count.
--
-- The table ventes_locales is replaced as a whole in one transaction:
-- readers see the old rows or the new ones, and a failed run leaves it as it
-- was. Run arguments: --arg batch=1000 (rows per Odoo page),
-- --arg concurrency=4 (Odoo pages read at once).

local odoo = require("odoo")
local pg = require("pg")
local task = require("task")
local log = require("log")
local fetch = require("fetch")
local lookup = require("odoo_lookup")
local tables = require("tables")

local TABLE = "ventes_locales"
local erp, db = odoo.connect(), pg.connect()

-- Side by side: the reference data, the table, and the unpaid invoices.
local reference = task.spawn(lookup.reference, erp)
local created = task.spawn(tables.create, db, TABLE)
local invoices = erp:search_read("account.move", {
  { "move_type", "=", "out_invoice" },
  { "state", "=", "posted" },
  { "payment_state", "in", { "not_paid", "partial" } },
}, fetch.pages({ "name", "partner_id", "company_id", "currency_id", "invoice_date", "invoice_date_due",
  "amount_total", "amount_residual" }))
local customers = lookup.partners(erp, lookup.ids(invoices, "partner_id"))
local ref = task.wait(reference)
task.wait(created)

-- Local: the customer's country is set and is the company's.
local function is_local(customer, company)
  return customer.country_id ~= nil and customer.country_id == company.country_id
end

local rows = {}
for _, invoice in ipairs(invoices) do
  local customer = invoice.partner_id and customers[invoice.partner_id.id]
  local company = ref.companies[invoice.company_id.id]
  if customer and is_local(customer, company) then
    rows[#rows + 1] = {
      odoo_move_id = invoice.id,
      company = company.name,
      reference = invoice.name,
      partner = customer.name,
      partner_country = ref.countries[customer.country_id],
      currency = ref.currencies[invoice.currency_id.id],
      invoice_date = invoice.invoice_date,
      due_date = invoice.invoice_date_due,
      amount_total = invoice.amount_total,
      amount_residual = invoice.amount_residual,
    }
  end
end

local result = db:replace(TABLE, tables.columns[TABLE], rows)
log.info("loaded " .. TABLE, { rows = result.inserted, unpaid_invoices = #invoices })
return { rows = result.inserted, previous_rows = result.deleted, unpaid_invoices = #invoices }
