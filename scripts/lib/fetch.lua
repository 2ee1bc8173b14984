-- fetch: every record matching a domain, several pages at a time.
--
--   local fetch = require("fetch")
--   local bills = fetch.all(erp, "account.move", domain, {"name", "partner_id"})
--
-- One call finds the ids of the matching records; then pages of `batch`
-- of them are read side by side, `concurrency` at a time, each page through
-- the domain again (so a record that stopped matching in between is left
-- out). Every record comes back exactly once, in id order. Run arguments
-- set the defaults for every job of a run:
--
--   etlhost run --arg batch=500 --arg concurrency=2 scripts/*.lua
--
-- concurrency=1 reads page after page with the odoo module's own paging
-- (search_read with opts.batch), without light threads.

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

-- terms first, then the domain's, all ANDed (Odoo ANDs the top-level
-- terms; the id terms first let the server skip other records early).
local function with_terms(domain, ...)
  local out = { ... }
  for _, term in ipairs(domain) do out[#out + 1] = term end
  return out
end

-- all returns the rows of `model` matching `domain`, with `fields`.
-- opts (optional): context (Odoo context), batch, concurrency.
function M.all(erp, model, domain, fields, opts)
  opts = opts or {}
  local batch = opts.batch or M.batch
  local concurrency = opts.concurrency or M.concurrency
  if concurrency <= 1 then
    return erp:search_read(model, domain, { fields = fields, batch = batch, context = opts.context })
  end

  local ids = erp:search(model, domain, { order = "id", context = opts.context })
  local pages = task.map(M.chunks(ids, batch), function(page_ids)
    return erp:search_read(model, with_terms(domain, { "id", "in", page_ids }, { "id", ">=", page_ids[1] }),
      { fields = fields, order = "id", limit = #page_ids, context = opts.context })
  end, { concurrency = concurrency })

  local rows = {}
  for _, page in ipairs(pages) do
    for _, row in ipairs(page) do rows[#rows + 1] = row end
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
