--! description = Unpaid vendor bills of foreign vendors, one row per bill -> achat_importation
--
-- Imports still to pay: every posted vendor bill (in_invoice) that is not
-- paid or only partly paid, from a foreign vendor: the vendor's country is
-- set and is not the country of the company billed (any vendor with a
-- country, for a company without one). Archived vendors count.
--
-- Odoo applies the rule: the domain names each company's country, so only
-- the rows of the table travel. The table achat_importation is replaced as
-- a whole in one transaction: readers see the old rows or the new ones, and
-- a failed run leaves it as it was. Run arguments: --arg batch=2000 (rows
-- per Odoo page), --arg concurrency=4 (Odoo pages read at once).

local odoo = require("odoo")
local pg = require("pg")
local task = require("task")
local log = require("log")
local fetch = require("fetch")
local lookup = require("odoo_lookup")
local tables = require("tables")

local TABLE = "achat_importation"
local erp, db = odoo.connect(), pg.connect()

local created = task.spawn(tables.create, db, TABLE)
local ref = lookup.reference(erp)

-- Foreign: the vendor's country is set and differs from the company's.
local foreign = lookup.either(lookup.map(ref.groups, function(g)
  local vendor = { { "country_id", "!=", false } }
  if g.country_id then vendor[2] = { "country_id", "!=", g.country_id } end
  return { { "company_id", "in", g.company_ids }, { "partner_id", "any", vendor } }
end))

-- The bills come page by page (erp:iter); each becomes a row in the
-- table's column order (tables.columns), its vendor's country filled in
-- once the vendors are read.
local rows, vendor_of = {}, {}
if foreign then
  for bill in erp:iter("account.move", lookup.unpaid("in_invoice", foreign), fetch.pages(lookup.MOVE_FIELDS)) do
    local i = #rows + 1
    vendor_of[i] = bill.partner_id.id
    rows[i] = {
      bill.id, ref.companies[bill.company_id.id].name, bill.name, bill.partner_id.name,
      false, -- partner_country, below
      bill.currency_id.name, bill.invoice_date, bill.invoice_date_due,
      bill.amount_total, bill.amount_residual,
    }
  end
end
local vendor_country = lookup.partner_countries(erp, lookup.distinct(vendor_of))
for i, row in ipairs(rows) do
  row[5] = ref.countries[vendor_country[vendor_of[i]]]
end
task.wait(created)

local result = db:replace(TABLE, tables.columns[TABLE], rows)
log.info("loaded " .. TABLE, { rows = result.inserted })
return { rows = result.inserted, previous_rows = result.deleted }
