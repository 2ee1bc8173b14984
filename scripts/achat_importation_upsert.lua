--! description = Unpaid vendor bills of foreign vendors, one row per bill -> achat_importation
--
-- Imports still to pay: every posted vendor bill (in_invoice) that is not
-- paid or only partly paid, from a foreign vendor: the vendor's country is
-- set and is not the country of the company billed (any vendor with a
-- country, for a company without one). Archived vendors count.
--
-- Odoo applies the rule: the domain names each company's country, so only
-- the rows of the table travel.
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
local fetch = require("fetch")
local lookup = require("odoo_lookup")
local tables = require("tables")
local incremental = require("incremental")

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

-- The rows of the bills with those ids (nil: of every bill). The bills
-- come page by page (erp:iter); each becomes a row in the table's column
-- order (tables.columns), its vendor's country filled in once the vendors
-- are read.
local function rows_of(ids)
  local rows, vendor_of = {}, {}
  if foreign == nil then return rows end
  local domain = lookup.unpaid("in_invoice", foreign)
  if ids then domain = lookup.all(domain, { { "id", "in", ids } }) end
  for bill in erp:iter("account.move", domain, fetch.pages(lookup.MOVE_FIELDS)) do
    local i = #rows + 1
    vendor_of[i] = bill.partner_id.id
    rows[i] = {
      bill.id, ref.companies[bill.company_id.id].name, bill.name, bill.partner_id.name,
      false, -- partner_country, below
      bill.currency_id.name, bill.invoice_date, bill.invoice_date_due,
      bill.amount_total, bill.amount_residual,
    }
  end
  local vendor_country = lookup.partner_countries(erp, lookup.distinct(vendor_of))
  for i, row in ipairs(rows) do
    row[5] = ref.countries[vendor_country[vendor_of[i]]]
  end
  return rows
end
task.wait(created)

return incremental.load(db, erp, {
  table = TABLE, columns = tables.columns[TABLE], key = "odoo_move_id",
  model = "account.move", scope = { { "move_type", "=", "in_invoice" } },
  related = { partner_id = "res.partner", company_id = "res.company" },
  reference = ref.signature,
  rows = rows_of,
})
