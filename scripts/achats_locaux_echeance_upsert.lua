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
-- Odoo applies the rule: the domain of the installments names each
-- company's country, then the bills of those installments are read by id.
-- The table achats_locaux_echeance is replaced as a whole in one
-- transaction: readers see the old rows or the new ones, and a failed run
-- leaves it as it was. Run arguments: --arg batch=2000 (rows per Odoo
-- page), --arg concurrency=4 (Odoo pages read at once).

local odoo = require("odoo")
local pg = require("pg")
local task = require("task")
local log = require("log")
local fetch = require("fetch")
local lookup = require("odoo_lookup")
local tables = require("tables")

local TABLE = "achats_locaux_echeance"
local erp, db = odoo.connect(), pg.connect()

local created = task.spawn(tables.create, db, TABLE)
local ref = lookup.reference(erp)

-- Local: the vendor's country is set and is the company's.
local local_bill = lookup.either(lookup.map(ref.groups, function(g)
  if g.country_id == nil then return nil end -- no vendor is local to a company without a country
  return { { "company_id", "in", g.company_ids }, { "partner_id.country_id", "=", g.country_id } }
end))

-- The installments come page by page (erp:iter) and are kept as
-- {line id, bill id, due date, residual}; then their bills are read by id.
local installments, bill_ids = {}, {}
if local_bill then
  for line in erp:iter("account.move.line", {
    { "parent_state", "=", "posted" },
    { "account_id.account_type", "=", "liability_payable" },
    { "reconciled", "=", false },
    { "amount_residual", "!=", 0 },
    { "move_id", "any", lookup.unpaid("in_invoice", local_bill) },
  }, fetch.pages({ "move_id", "date_maturity", "amount_residual" })) do
    installments[#installments + 1] = { line.id, line.move_id.id, line.date_maturity, line.amount_residual }
    bill_ids[#bill_ids + 1] = line.move_id.id
  end
end
local bills = lookup.rows_by_id(erp, "account.move", lookup.distinct(bill_ids), lookup.MOVE_FIELDS)
task.wait(created)

-- One row an installment, in the table's column order (tables.columns).
local rows, no_maturity = {}, 0
for _, line in ipairs(installments) do
  local line_id, bill_id, date_maturity, residual = line[1], line[2], line[3], line[4]
  local bill = bills[bill_id]
  local company = ref.companies[bill.company_id.id]
  -- An installment always has a due date in Odoo; should one lack it,
  -- the bill's due date stands in (date_maturity is NOT NULL).
  local maturity = date_maturity or bill.invoice_date_due
  if maturity == nil then
    no_maturity = no_maturity + 1
  else
    rows[#rows + 1] = {
      line_id, bill.id, company.name, bill.name, bill.partner_id.name, ref.countries[company.country_id],
      bill.currency_id.name, bill.invoice_date, bill.invoice_date_due, maturity,
      bill.amount_total, bill.amount_residual, math.abs(residual),
    }
  end
end
if no_maturity > 0 then
  log.warn("installments without a due date were left out", { count = no_maturity })
end

local result = db:replace(TABLE, tables.columns[TABLE], rows)
log.info("loaded " .. TABLE, { rows = result.inserted })
return { rows = result.inserted, previous_rows = result.deleted,
  installments_without_due_date = no_maturity }
