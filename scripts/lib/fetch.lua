-- fetch: every record matching a domain, several pages at a time.
--
--   local fetch = require("fetch")
--   local bills = fetch.all(erp, "account.move", domain, {"name", "partner_id"})
--
-- The ids of the matching records are cut into `concurrency` slices, each
-- read side by side, page after page of `batch` rows ordered by id (the
-- odoo module's paging): every record comes back exactly once, in id order.
-- Run arguments set the defaults for every job of a run:
--
--   etlhost run --arg batch=500 --arg concurrency=2 scripts/*.lua
--
-- concurrency=1 reads page after page, without light threads.

local task = require("task")
local etl = require("etl")

local M = {}

local function positive_arg(name, default)
  local v = tonumber(etl.arg(name, tostring(default)))
  if v == nil or v < 1 or v ~= math.floor(v) then
    error(string.format("--arg %s=%s: expected a whole number of at least 1", name, etl.arg(name)), 0)
  end
  return v
end

M.batch = positive_arg("batch", 1000)
M.concurrency = positive_arg("concurrency", 4)

-- domain plus more terms, all ANDed (Odoo ANDs the top-level terms).
local function with_terms(domain, ...)
  local out = {}
  for i, term in ipairs(domain) do out[i] = term end
  for _, term in ipairs({ ... }) do out[#out + 1] = term end
  return out
end

-- all returns the rows of `model` matching `domain`, with `fields`.
-- opts (optional): context (Odoo context), batch, concurrency.
function M.all(erp, model, domain, fields, opts)
  opts = opts or {}
  local page = { fields = fields, batch = opts.batch or M.batch, context = opts.context }
  local concurrency = opts.concurrency or M.concurrency
  if concurrency <= 1 then
    return erp:search_read(model, domain, page)
  end

  -- The first and the last matching id, asked side by side.
  local first, last = task.wait(
    task.spawn(function() return erp:search(model, domain, { order = "id", limit = 1, context = opts.context }) end),
    task.spawn(function() return erp:search(model, domain, { order = "id desc", limit = 1, context = opts.context }) end))
  if #first == 0 or #last == 0 then
    return {}
  end
  local lo, hi = first[1], math.max(first[1], last[1])

  -- Cut [lo, hi] into slices of ids and read them side by side.
  local step = math.ceil((hi - lo + 1) / concurrency)
  local slices = {}
  for from = lo, hi, step do
    slices[#slices + 1] = { from, math.min(from + step - 1, hi) }
  end
  local pages = task.map(slices, function(slice)
    return erp:search_read(model, with_terms(domain, { "id", ">=", slice[1] }, { "id", "<=", slice[2] }), page)
  end)

  local rows = {}
  for _, rows_of_slice in ipairs(pages) do
    for _, row in ipairs(rows_of_slice) do rows[#rows + 1] = row end
  end
  return rows
end

-- chunks cuts a list into lists of at most n items.
function M.chunks(list, n)
  local out = {}
  for i = 1, #list, n do
    local chunk = {}
    for j = i, math.min(i + n - 1, #list) do chunk[#chunk + 1] = list[j] end
    out[#out + 1] = chunk
  end
  return out
end

return M
