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

-- is_foreign is the same rule, applied here to the few bills an
-- incremental load reads again.
local function is_foreign(company, vendor_country)
  return vendor_country ~= nil and vendor_country ~= company.country_id
end

-- One row a bill, in the table's column order (tables.columns).
local function row_of(bill, vendor_country)
  return {
    bill.id, ref.companies[bill.company_id.id].name, bill.name, bill.partner_id.name,
    ref.countries[vendor_country], bill.currency_id.name, bill.invoice_date, bill.invoice_date_due,
    bill.amount_total, bill.amount_residual,
  }
end

-- The rows of the bills with those ids (nil: of every bill). The bills
-- come page by page (erp:iter); their vendors' countries are read once
-- the vendors are known.
local function rows_of(ids)
  local rows = {}
  if foreign == nil then return rows end
  if ids then
    local bills, country_of = lookup.changed_moves(erp, "in_invoice", ids, lookup.MOVE_FIELDS)
    for _, bill in ipairs(bills) do
      local vendor_country = country_of[bill.partner_id.id]
      if is_foreign(ref.companies[bill.company_id.id], vendor_country) then rows[#rows + 1] = row_of(bill, vendor_country) end
    end
    return rows
  end
  -- Each bill becomes its row as its page arrives (the Odoo rows are
  -- garbage then), the vendor's country filled in once the vendors are read.
  local vendor_of = {}
  for bill in erp:iter("account.move", lookup.unpaid("in_invoice", foreign), fetch.pages(lookup.MOVE_FIELDS)) do
    vendor_of[#vendor_of + 1] = bill.partner_id.id
    rows[#rows + 1] = row_of(bill, nil)
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
