--! description = Unpaid installments of local vendors' bills, one row per installment -> achats_locaux_echeance
--
-- What is owed to local vendors, installment by installment: for every
-- posted vendor bill (in_invoice) that is not paid or only partly paid,
-- from a local vendor (the vendor's country is set and is the company's),
-- each of its journal items on a payable account (liability_payable) that
-- is not reconciled and still has something to pay (amount_residual not
-- zero). Archived vendors count. line_amount_residual is the installment's
-- residual in the company's currency, as a positive amount; the other
-- amounts are the bill's, in its currency.
--
-- The table achats_locaux_echeance is replaced as a whole in one
-- transaction: readers see the old rows or the new ones, and a failed run
-- leaves it as it was. Run arguments: --arg batch=1000 (rows per Odoo
-- page), --arg concurrency=4 (Odoo pages read at once).

local odoo = require("odoo")
local pg = require("pg")
local task = require("task")
local log = require("log")
local fetch = require("fetch")
local lookup = require("odoo_lookup")
local tables = require("tables")

local TABLE = "achats_locaux_echeance"
local UNPAID = { "not_paid", "partial" }
local erp, db = odoo.connect(), pg.connect()

local function unpaid_bills()
  return erp:search_read("account.move", {
    { "move_type", "=", "in_invoice" },
    { "state", "=", "posted" },
    { "payment_state", "in", UNPAID },
  }, fetch.pages({ "name", "partner_id", "company_id", "currency_id", "invoice_date", "invoice_date_due",
    "amount_total", "amount_residual" }))
end

-- Side by side: the reference data, the table, the unpaid bills and their
-- open installments.
local reference = task.spawn(lookup.reference, erp)
local created = task.spawn(tables.create, db, TABLE)
local bills_task = task.spawn(unpaid_bills)
local installments = erp:search_read("account.move.line", {
  { "move_id.move_type", "=", "in_invoice" },
  { "parent_state", "=", "posted" },
  { "move_id.payment_state", "in", UNPAID },
  { "account_id.account_type", "=", "liability_payable" },
  { "reconciled", "=", false },
  { "amount_residual", "!=", 0 },
}, fetch.pages({ "move_id", "date_maturity", "amount_residual" }))
local bills = task.wait(bills_task)
local vendors = lookup.partners(erp, lookup.ids(bills, "partner_id"))
local ref = task.wait(reference)
task.wait(created)

-- Local: the vendor's country is set and is the company's.
local function is_local(vendor, company)
  return vendor.country_id ~= nil and vendor.country_id == company.country_id
end

local local_bills = {} -- id -> {bill, vendor, company}
for _, bill in ipairs(bills) do
  local vendor = bill.partner_id and vendors[bill.partner_id.id]
  local company = ref.companies[bill.company_id.id]
  if vendor and is_local(vendor, company) then
    local_bills[bill.id] = { bill = bill, vendor = vendor, company = company }
  end
end

local rows, no_maturity = {}, 0
for _, line in ipairs(installments) do
  local b = local_bills[line.move_id.id]
  if b then
    -- An installment always has a due date in Odoo; should one lack it,
    -- the bill's due date stands in (date_maturity is NOT NULL).
    local maturity = line.date_maturity or b.bill.invoice_date_due
    if maturity == nil then
      no_maturity = no_maturity + 1
    else
      rows[#rows + 1] = {
        odoo_line_id = line.id,
        odoo_move_id = b.bill.id,
        company = b.company.name,
        reference = b.bill.name,
        partner = b.vendor.name,
        partner_country = ref.countries[b.vendor.country_id],
        currency = ref.currencies[b.bill.currency_id.id],
        invoice_date = b.bill.invoice_date,
        due_date = b.bill.invoice_date_due,
        date_maturity = maturity,
        amount_total = b.bill.amount_total,
        amount_residual = b.bill.amount_residual,
        line_amount_residual = math.abs(line.amount_residual),
      }
    end
  end
end
if no_maturity > 0 then
  log.warn("installments without a due date were left out", { count = no_maturity })
end

local result = db:replace(TABLE, tables.columns[TABLE], rows)
log.info("loaded " .. TABLE, { rows = result.inserted, unpaid_bills = #bills })
return { rows = result.inserted, previous_rows = result.deleted, unpaid_bills = #bills,
  installments_without_due_date = no_maturity }
