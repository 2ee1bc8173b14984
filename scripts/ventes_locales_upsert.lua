--! description = Unpaid customer invoices of local customers, one row per invoice -> ventes_locales
--
-- Sales still to collect at home: every posted customer invoice
-- (out_invoice) that is not paid or only partly paid, from a local
-- customer: the customer's country is set and is the country of the company
-- invoicing. Archived customers count.
--
-- Odoo applies the rule: the domain names each company's country, so only
-- the rows of the table travel, and the customer's country is the
-- company's. The table ventes_locales is replaced as a whole in one
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

local TABLE = "ventes_locales"
local erp, db = odoo.connect(), pg.connect()

local created = task.spawn(tables.create, db, TABLE)
local ref = lookup.reference(erp)

-- Local: the customer's country is set and is the company's.
local home = lookup.either(lookup.map(ref.groups, function(g)
  if g.country_id == nil then return nil end -- no customer is local to a company without a country
  return { { "company_id", "in", g.company_ids }, { "partner_id.country_id", "=", g.country_id } }
end))

-- One row a record, in the table's column order (tables.columns), built
-- page by page as the invoices arrive.
local rows = {}
if home then
  for invoice in erp:iter("account.move", lookup.unpaid("out_invoice", home), fetch.pages(lookup.MOVE_FIELDS)) do
    local company = ref.companies[invoice.company_id.id]
    rows[#rows + 1] = {
      invoice.id, company.name, invoice.name, invoice.partner_id.name, ref.countries[company.country_id],
      invoice.currency_id.name, invoice.invoice_date, invoice.invoice_date_due,
      invoice.amount_total, invoice.amount_residual,
    }
  end
end
task.wait(created)

local result = db:replace(TABLE, tables.columns[TABLE], rows)
log.info("loaded " .. TABLE, { rows = result.inserted })
return { rows = result.inserted, previous_rows = result.deleted }
