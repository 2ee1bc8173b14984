--! description = Unpaid customer invoices of local customers, one row per invoice -> ventes_locales
--
-- Sales still to collect at home: every posted customer invoice
-- (out_invoice) that is not paid or only partly paid, from a local
-- customer: the customer's country is set and is the country of the company
-- invoicing. Archived customers count.
--
-- Odoo applies the rule: the domain names each company's country, so only
-- the rows of the table travel, and the customer's country is the
-- company's. The table is loaded incrementally (lib/incremental.lua): only
-- the invoices that changed since the last run, or whose customer or
-- company did, are read again, with a full refresh on the first run and
-- every so often; rows and watermarks commit in one transaction, so a
-- failed run leaves both as they were. Run arguments: --arg batch=2000
-- (rows per Odoo page), --arg concurrency=4 (Odoo pages read at once), and
-- those of lib/incremental.lua (full_refresh, lookback, ...).

local odoo = require("odoo")
local pg = require("pg")
local task = require("task")
local fetch = require("fetch")
local lookup = require("odoo_lookup")
local tables = require("tables")
local incremental = require("incremental")

local TABLE = "ventes_locales"
local erp, db = odoo.connect(), pg.connect()

local created = task.spawn(tables.create, db, TABLE)
local ref = lookup.reference(erp)

-- Local: the customer's country is set and is the company's.
local home = lookup.either(lookup.map(ref.groups, function(g)
  if g.country_id == nil then return nil end -- no customer is local to a company without a country
  return { { "company_id", "in", g.company_ids }, { "partner_id.country_id", "=", g.country_id } }
end))

-- is_local is the same rule, applied here to the few invoices an
-- incremental load reads again.
local function is_local(company, customer_country)
  return company.country_id ~= nil and customer_country == company.country_id
end

-- One row an invoice, in the table's column order (tables.columns).
local function row_of(invoice, company)
  return {
    invoice.id, company.name, invoice.name, invoice.partner_id.name, ref.countries[company.country_id],
    invoice.currency_id.name, invoice.invoice_date, invoice.invoice_date_due,
    invoice.amount_total, invoice.amount_residual,
  }
end

-- The rows of the invoices with those ids (nil: of every invoice), built
-- page by page as the invoices arrive.
local function rows_of(ids)
  local rows = {}
  if home == nil then return rows end
  if ids then
    local invoices, country_of = lookup.changed_moves(erp, "out_invoice", ids, lookup.MOVE_FIELDS)
    for _, invoice in ipairs(invoices) do
      local company = ref.companies[invoice.company_id.id]
      if is_local(company, country_of[invoice.partner_id.id]) then rows[#rows + 1] = row_of(invoice, company) end
    end
    return rows
  end
  for invoice in erp:iter("account.move", lookup.unpaid("out_invoice", home), fetch.pages(lookup.MOVE_FIELDS)) do
    rows[#rows + 1] = row_of(invoice, ref.companies[invoice.company_id.id])
  end
  return rows
end
task.wait(created)

return incremental.load(db, erp, {
  table = TABLE, columns = tables.columns[TABLE], key = "odoo_move_id",
  model = "account.move", scope = { { "move_type", "=", "out_invoice" } },
  related = { partner_id = "res.partner", company_id = "res.company" },
  reference = ref.signature,
  rows = rows_of,
})
