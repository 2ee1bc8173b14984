--! description = Unpaid vendor bills of foreign vendors, one row per bill -> achat_importation
--
-- Imports still to pay: every posted vendor bill (in_invoice) that is not
-- paid or only partly paid, from a foreign vendor: the vendor's country is
-- set and is not the country of the company billed. Archived vendors count.
--
-- The table achat_importation is replaced as a whole in one transaction:
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

local TABLE = "achat_importation"
local erp, db = odoo.connect(), pg.connect()

-- Side by side: the reference data, the table, and the unpaid bills.
local reference = task.spawn(lookup.reference, erp)
local created = task.spawn(tables.create, db, TABLE)
local bills = erp:search_read("account.move", {
  { "move_type", "=", "in_invoice" },
  { "state", "=", "posted" },
  { "payment_state", "in", { "not_paid", "partial" } },
}, fetch.pages({ "name", "partner_id", "company_id", "currency_id", "invoice_date", "invoice_date_due",
  "amount_total", "amount_residual" }))
local vendors = lookup.partners(erp, lookup.ids(bills, "partner_id"))
local ref = task.wait(reference)
task.wait(created)

-- Foreign: the vendor's country is set and differs from the company's.
local function is_foreign(vendor, company)
  return vendor.country_id ~= nil and vendor.country_id ~= company.country_id
end

local rows = {}
for _, bill in ipairs(bills) do
  local vendor = bill.partner_id and vendors[bill.partner_id.id]
  local company = ref.companies[bill.company_id.id]
  if vendor and is_foreign(vendor, company) then
    rows[#rows + 1] = {
      odoo_move_id = bill.id,
      company = company.name,
      reference = bill.name,
      partner = vendor.name,
      partner_country = ref.countries[vendor.country_id],
      currency = ref.currencies[bill.currency_id.id],
      invoice_date = bill.invoice_date,
      due_date = bill.invoice_date_due,
      amount_total = bill.amount_total,
      amount_residual = bill.amount_residual,
    }
  end
end

local result = db:replace(TABLE, tables.columns[TABLE], rows)
log.info("loaded " .. TABLE, { rows = result.inserted, unpaid_bills = #bills })
return { rows = result.inserted, previous_rows = result.deleted, unpaid_bills = #bills }
