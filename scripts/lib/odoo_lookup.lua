-- odoo_lookup: the records the ETL jobs resolve ids against, and the
-- domains that push the local/foreign rule to Odoo.
--
--   local lookup = require("odoo_lookup")
--   local ref = lookup.reference(erp)
--   ref.companies[id]  --> {name = "Atlas Distribution SARL", country_id = 1}  (country_id nil: none)
--   ref.countries[id]  --> "MA"      (ISO code)
--   ref.groups         --> {{country_id = 1, company_ids = {1, 3}}, ...}  companies by country
--   ref.signature      --> the companies' names and countries as one text
--   local domain = lookup.either(lookup.map(ref.groups, function(g) return {...} end))
--   local countries = lookup.partner_countries(erp, lookup.distinct(partner_ids))
--   countries[partner id] --> country id (nil: none)
--   local moves, country_of = lookup.changed_moves(erp, "out_invoice", ids, lookup.MOVE_FIELDS)
--
-- Companies and countries are read once per run and shared by every job of
-- the run (the `shared` module). Archived records count: an archived
-- vendor's unpaid bill is still unpaid.

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
local function load_once(erp, model, fields, context)
  return shared.get_or_load("odoo_lookup:" .. model, function()
    return erp:search_read(model, {}, { fields = fields, context = context })
  end)
end

-- reference returns the companies and countries by id, and the companies
-- grouped by country (companies without a country form the group whose
-- country_id is nil), in the order of their lowest company id.
function M.reference(erp)
  local companies, countries = task.wait(
    task.spawn(load_once, erp, "res.company", { "name", "country_id" }, M.WITH_ARCHIVED),
    task.spawn(load_once, erp, "res.country", { "code" }))
  local ref = { companies = {}, countries = {}, groups = {} }
  local group_of = {}
  for _, c in ipairs(companies) do
    local country = id_of(c.country_id)
    ref.companies[c.id] = { name = c.name, country_id = country }
    local key = country or "none"
    local g = group_of[key]
    if g == nil then
      g = { country_id = country, company_ids = {} }
      group_of[key] = g
      ref.groups[#ref.groups + 1] = g
    end
    g.company_ids[#g.company_ids + 1] = c.id
  end
  for _, c in ipairs(countries) do ref.countries[c.id] = c.code end
  -- What the rows take from the reference data, as one text: an
  -- incremental load reloads all when it changes (a company's country can
  -- change through its partner without the company's write_date moving).
  local parts = {}
  for _, c in ipairs(companies) do
    local country = id_of(c.country_id)
    parts[#parts + 1] = string.format("%d=%s/%s", c.id, c.name, country and ref.countries[country] or "-")
  end
  ref.signature = table.concat(parts, ";")
  return ref
end

-- The unpaid documents: posted, not paid or only partly paid.
M.UNPAID = { { "state", "=", "posted" }, { "payment_state", "in", { "not_paid", "partial" } } }

-- The fields of an invoice or bill the jobs write.
M.MOVE_FIELDS = { "name", "partner_id", "company_id", "currency_id", "invoice_date", "invoice_date_due",
  "amount_total", "amount_residual" }

-- unpaid returns the domain of the unpaid documents of move_type
-- ("in_invoice", "out_invoice") that also match rule.
function M.unpaid(move_type, rule)
  return M.all({ { "move_type", "=", move_type } }, M.UNPAID, rule)
end

-- map returns {fn(item) for each item}, leaving out nils.
function M.map(list, fn)
  local out = {}
  for _, item in ipairs(list) do
    local v = fn(item)
    if v ~= nil then out[#out + 1] = v end
  end
  return out
end

-- either returns the domain matching any of domains (each a list of terms
-- that must all hold), in Odoo's prefix notation. nil when domains is empty:
-- nothing can match, and the caller must not ask Odoo (an empty domain
-- matches every record).
function M.either(domains)
  if #domains == 0 then return nil end
  local out = {}
  for _ = 2, #domains do out[#out + 1] = "|" end
  for _, d in ipairs(domains) do
    for _ = 2, #d do out[#out + 1] = "&" end
    for _, term in ipairs(d) do out[#out + 1] = term end
  end
  return out
end

-- all returns the terms of several domains (lists of terms), all to hold.
function M.all(...)
  local out = {}
  for _, d in ipairs({ ... }) do
    for _, term in ipairs(d) do out[#out + 1] = term end
  end
  return out
end

-- distinct returns the values of list once each, in their first order (nil
-- skipped).
function M.distinct(list)
  local seen, out = {}, {}
  for i = 1, #list do
    local v = list[i]
    if v ~= nil and not seen[v] then
      seen[v] = true
      out[#out + 1] = v
    end
  end
  return out
end

-- partner_countries returns the country id of the partners with those ids
-- (archived ones included), read by id, fetch.batch per call, several
-- calls at a time.
function M.partner_countries(erp, ids)
  local pages = task.map(fetch.chunks(ids, fetch.batch), function(chunk)
    return erp:read("res.partner", chunk, { "country_id" }, { context = M.WITH_ARCHIVED })
  end, { concurrency = fetch.concurrency })
  local countries = {}
  for _, page in ipairs(pages) do
    for _, p in ipairs(page) do countries[p.id] = id_of(p.country_id) end
  end
  return countries
end

-- changed_moves returns the unpaid documents of move_type among ids (the
-- few an incremental load reads again), with fields, and the country of
-- each one's partner by partner id. The caller applies the local/foreign
-- rule to them itself: for a few ids that is cheaper for Odoo than the
-- rule's sub-search on partner_id.country_id, which looks at every partner.
function M.changed_moves(erp, move_type, ids, fields)
  local domain = M.all(M.unpaid(move_type, {}), { { "id", "in", ids } })
  -- A page's worth in one call (search_read); more in pages (a search for
  -- the ids, then reads).
  local moves = erp:search_read("account.move", domain, #ids <= fetch.batch and { fields = fields } or fetch.pages(fields))
  local partners = {}
  for i, m in ipairs(moves) do partners[i] = id_of(m.partner_id) end
  return moves, M.partner_countries(erp, M.distinct(partners))
end

-- rows_by_id returns the records of model with those ids, by id, read in
-- pages (fetch.batch ids per call, several calls at a time).
function M.rows_by_id(erp, model, ids, fields)
  local pages = task.map(fetch.chunks(ids, fetch.batch), function(chunk)
    return erp:read(model, chunk, fields)
  end, { concurrency = fetch.concurrency })
  local out = {}
  for _, page in ipairs(pages) do
    for _, r in ipairs(page) do out[r.id] = r end
  end
  return out
end

return M
