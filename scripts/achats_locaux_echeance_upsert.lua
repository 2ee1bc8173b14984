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
-- The table is loaded incrementally (lib/incremental.lua): only the bills
-- that changed since the last run, or whose vendor or company did, are
-- read again, with a full refresh on the first run and every so often;
-- rows and watermarks commit in one transaction, so a failed run leaves
-- both as they were. Run arguments: --arg batch=2000 (rows per Odoo page),
-- --arg concurrency=4 (Odoo pages read at once), and those of
-- lib/incremental.lua (full_refresh, lookback, ...).

local odoo = require("odoo")
local pg = require("pg")
local task = require("task")
local log = require("log")
local fetch = require("fetch")
local lookup = require("odoo_lookup")
local tables = require("tables")
local incremental = require("incremental")

local TABLE = "achats_locaux_echeance"
local erp, db = odoo.connect(), pg.connect()

local created = task.spawn(tables.create, db, TABLE)
local ref = lookup.reference(erp)

-- Local: the vendor's country is set and is the company's.
local local_bill = lookup.either(lookup.map(ref.groups, function(g)
  if g.country_id == nil then return nil end -- no vendor is local to a company without a country
  return { { "company_id", "in", g.company_ids }, { "partner_id.country_id", "=", g.country_id } }
end))

-- The rows of the open installments of the bills with those ids (nil: of
-- every bill). The installments come page by page (erp:iter) and are kept
-- as {line id, bill id, due date, residual}; then their bills are read by
-- id. One row an installment, in the table's column order (tables.columns).
local no_maturity = 0
local function rows_of(ids)
  local installments, bill_ids = {}, {}
  if local_bill == nil then return {} end
  local domain = {
    { "parent_state", "=", "posted" },
    { "account_id.account_type", "=", "liability_payable" },
    { "reconciled", "=", false },
    { "amount_residual", "!=", 0 },
  }
  local by_id
  if ids then
    -- The few bills an incremental load reads again: read by id, the rule
    -- applied here (cheaper for Odoo than its sub-search over every
    -- partner), then the lines of the local ones (Odoo indexes move_id).
    local bills, country_of = lookup.changed_moves(erp, "in_invoice", ids, lookup.MOVE_FIELDS)
    local keep = {}
    by_id = {}
    for _, bill in ipairs(bills) do
      local company = ref.companies[bill.company_id.id]
      if company.country_id ~= nil and country_of[bill.partner_id.id] == company.country_id then
        by_id[bill.id] = bill
        keep[#keep + 1] = bill.id
      end
    end
    if #keep == 0 then return {} end
    domain[#domain + 1] = { "move_id", "in", keep }
  else
    domain[#domain + 1] = { "move_id", "any", lookup.unpaid("in_invoice", local_bill) }
  end
  for line in erp:iter("account.move.line", domain, fetch.pages({ "move_id", "date_maturity", "amount_residual" })) do
    installments[#installments + 1] = { line.id, line.move_id.id, line.date_maturity, line.amount_residual }
    bill_ids[#bill_ids + 1] = line.move_id.id
  end
  by_id = by_id or lookup.rows_by_id(erp, "account.move", lookup.distinct(bill_ids), lookup.MOVE_FIELDS)
  local rows = {}
  for _, line in ipairs(installments) do
    local line_id, bill_id, date_maturity, residual = line[1], line[2], line[3], line[4]
    local bill = by_id[bill_id]
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
  return rows
end
task.wait(created)

-- Rows are keyed by their bill: a changed bill replaces all its installments.
local result = incremental.load(db, erp, {
  table = TABLE, columns = tables.columns[TABLE], key = "odoo_move_id",
  model = "account.move", scope = { { "move_type", "=", "in_invoice" } },
  related = { partner_id = "res.partner", company_id = "res.company" },
  reference = ref.signature,
  children = { ["account.move.line"] = "move_id" }, -- an installment moved or resized
  rows = rows_of,
})
if no_maturity > 0 then
  log.warn("installments without a due date were left out", { count = no_maturity })
end
result.installments_without_due_date = no_maturity
return result
