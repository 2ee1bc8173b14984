-- fetch: how the ETL jobs page through Odoo.
--
--   local fetch = require("fetch")
--   local bills = erp:search_read("account.move", domain, fetch.pages({"name", "partner_id"}))
--
-- fetch.pages(fields) is the options of search_read: those fields, pages of
-- `batch` rows (default 2000) ordered by id, `concurrency` pages fetched side by side by
-- the odoo module (every row exactly once, in id order). Run arguments set
-- them for every job of a run:
--
--   etlhost run --arg batch=500 --arg concurrency=2 scripts/*.lua
--
-- concurrency=1 fetches one page after the other.

local etl = require("etl")

local M = {}

local function positive_arg(name, default)
  local v = tonumber(etl.arg(name, tostring(default)))
  if v == nil or v < 1 or v ~= math.floor(v) then
    error(string.format("--arg %s=%s: expected a whole number of at least 1", name, etl.arg(name)), 0)
  end
  return v
end

M.batch = positive_arg("batch", 2000)
M.concurrency = positive_arg("concurrency", 4)

-- pages returns search_read options reading `fields` page by page;
-- context (optional) is the Odoo context.
function M.pages(fields, context)
  return { fields = fields, batch = M.batch, concurrency = M.concurrency, context = context }
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
