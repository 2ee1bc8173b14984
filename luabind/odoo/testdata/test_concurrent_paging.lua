-- With opts.batch, pages after the first are fetched side by side; the
-- rows are the same, once each, in order, whatever the concurrency.
local erp = require("odoo").connect()

local function ids_of(rows)
  local ids = {}
  for i, r in ipairs(rows) do ids[i] = r.id end
  return ids
end

local all = erp:search("account.move", {}, {order = "id"})
for _, conc in ipairs({1, 2, 4, 8}) do
  for _, batch in ipairs({1, 5, 16, 1000}) do
    local rows = erp:search_read("account.move", {}, {fields = {"name"}, batch = batch, concurrency = conc})
    expect.eq(ids_of(rows), all, "batch " .. batch .. " concurrency " .. conc)
  end
end

local posted = erp:search("account.move", {{"state", "=", "posted"}}, {order = "id desc", limit = 25})
expect.eq(ids_of(erp:search_read("account.move", {{"state", "=", "posted"}},
  {fields = {"state"}, batch = 4, concurrency = 3, order = "id desc", limit = 25})), posted, "desc with limit")

-- iter hands pages over in order and can stop early
local n, last = 0, 0
for row in erp:iter("account.move", {}, {fields = {"name"}, batch = 3, concurrency = 4}) do
  n = n + 1
  expect.truthy(row.id > last, "iter: increasing ids")
  last = row.id
  if n == 10 then break end
end
expect.eq(n, 10, "iter stopped early")

local rows = erp:search_read("account.move", {}, {fields = {"name"}, batch = 6, concurrency = 4, limit = 6})
expect.eq(#rows, 6, "a limit met by the first page")
expect.fails(function() erp:search_read("account.move", {}, {batch = 5, concurrency = -1}) end, "opts.concurrency")
