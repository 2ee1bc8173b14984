-- odoo_lookup: the records the ETL jobs resolve ids against, read in bulk.
--
--   local lookup = require("odoo_lookup")
--   local ref = lookup.reference(erp)
--   ref.companies[id]  --> {name = "Atlas Distribution SARL", country_id = 1}
--   ref.countries[id]  --> "MA"      (ISO code)
--   ref.currencies[id] --> "MAD"     (ISO code)
--   local partners = lookup.partners(erp, lookup.ids(moves, "partner_id"))
--   partners[id]       --> {name = "Atlas Négoce SARL", country_id = 1}  (country_id nil: none)
--
-- Companies, countries and currencies are read once per run and shared by
-- every job of the run (the `shared` module); partners are read by id,
-- 500 per call, several calls at a time. Archived records count: an
-- archived vendor's unpaid bill is still unpaid.

local shared = require("shared")
local task = require("task")
local fetch = require("fetch")

local M = {}

-- Odoo context that includes archived records.
M.WITH_ARCHIVED = { active_test = false }

local function id_of(many2one)
  return many2one and many2one.id
end

-- Reads a whole (small) model once per run; every job gets a copy.
local function load_once(erp, model, fields)
  return shared.get_or_load("odoo_lookup:" .. model, function()
    return erp:search_read(model, {}, { fields = fields, context = M.WITH_ARCHIVED })
  end)
end

-- reference returns the companies, countries and currencies by id.
-- Meanwhile it has the odoo module fetch res.partner's field list (cached
-- for the run), so that partners() later waits for one round trip, not two.
function M.reference(erp)
  local companies, countries, currencies = task.wait(
    task.spawn(load_once, erp, "res.company", { "name", "country_id" }),
    task.spawn(load_once, erp, "res.country", { "code" }),
    task.spawn(load_once, erp, "res.currency", { "name" }),
    task.spawn(erp.fields, erp, "res.partner"))
  local ref = { companies = {}, countries = {}, currencies = {} }
  for _, c in ipairs(companies) do
    ref.companies[c.id] = { name = c.name, country_id = id_of(c.country_id) }
  end
  for _, c in ipairs(countries) do ref.countries[c.id] = c.code end
  for _, c in ipairs(currencies) do ref.currencies[c.id] = c.name end
  return ref
end

-- ids returns the distinct ids of a many2one field of rows (nil skipped).
function M.ids(rows, field)
  local seen, ids = {}, {}
  for _, row in ipairs(rows) do
    local id = id_of(row[field])
    if id and not seen[id] then
      seen[id] = true
      ids[#ids + 1] = id
    end
  end
  return ids
end

-- partners returns the partners with those ids: display name and country.
function M.partners(erp, ids)
  local pages = task.map(fetch.chunks(ids, 500), function(chunk)
    return erp:read("res.partner", chunk, { "display_name", "country_id" }, { context = M.WITH_ARCHIVED })
  end, { concurrency = fetch.concurrency })
  local partners = {}
  for _, page in ipairs(pages) do
    for _, p in ipairs(page) do
      partners[p.id] = { name = p.display_name, country_id = id_of(p.country_id) }
    end
  end
  return partners
end

return M
