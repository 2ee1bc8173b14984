-- Paging by id returns every matching row exactly once.
local erp = require("odoo").connect()

local function ids_of(rows)
  local ids = {}
  for i, r in ipairs(rows) do ids[i] = r.id end
  return ids
end

local all = erp:search("account.move", {}, {order = "id"})
expect.truthy(#all > 30, "enough moves to page")

local paged = erp:search_read("account.move", {}, {fields = {"name"}, batch = 7})
expect.eq(ids_of(paged), all, "batch of 7: each row once, in id order")

local default = erp:search_read("account.move", {}, {fields = {"name"}})
expect.eq(ids_of(default), all, "no limit: pages of 1000 by id")

local seen, n = {}, 0
for row in erp:iter("account.move", {}, {fields = {"name", "amount_total"}, batch = 13}) do
  n = n + 1
  expect.truthy(not seen[row.id], "iter: no duplicates")
  seen[row.id] = true
  expect.eq(row.id, all[n], "iter: id order")
  expect.truthy(type(row.amount_total) == "number", "iter converts rows")
end
expect.eq(n, #all, "iter: every row")

-- limit and offset combine with paging
local first50 = {}
for i = 1, 50 do first50[i] = all[i] end
expect.eq(ids_of(erp:search_read("account.move", {}, {fields = {"name"}, batch = 7, limit = 50})), first50, "limit with batch")
local skip = {}
for i = 6, #all do skip[#skip + 1] = all[i] end
expect.eq(ids_of(erp:search_read("account.move", {}, {fields = {"name"}, batch = 9, offset = 5})), skip, "offset with batch")
local it = {}
for row in erp:iter("account.move", {}, {fields = {"name"}, batch = 4, limit = 10}) do it[#it + 1] = row.id end
expect.eq(#it, 10, "iter with limit")

-- descending
local desc = {}
for i = #all, 1, -1 do desc[#desc + 1] = all[i] end
expect.eq(ids_of(erp:search_read("account.move", {}, {fields = {"name"}, batch = 11, order = "id desc"})), desc, "id desc")

-- the paging term is ANDed with a domain that has operators
local domain = {"|", {"state", "=", "draft"}, {"state", "=", "cancel"}}
local want = erp:search("account.move", domain, {order = "id"})
expect.truthy(#want > 3, "drafts and cancelled moves exist")
expect.eq(ids_of(erp:search_read("account.move", domain, {fields = {"state"}, batch = 3})), want, "paging with | domain")

-- a limit or an order without batch is a single call honouring the order
local by_name = erp:search_read("account.move", {{"state", "=", "posted"}}, {fields = {"name"}, order = "name", limit = 20})
for i = 2, #by_name do expect.truthy(by_name[i - 1].name <= by_name[i].name, "ordered by name") end
-- with batch too: the search orders the ids, the pages keep that order
local names = erp:search("account.move", {{"state", "=", "posted"}}, {order = "name, id"})
expect.eq(ids_of(erp:search_read("account.move", {{"state", "=", "posted"}},
  {fields = {"name"}, order = "name, id", batch = 10})), names, "order by name with batch")

-- search options
expect.eq(erp:search("account.move", {}, {order = "id", limit = 3, offset = 2}), {all[3], all[4], all[5]}, "search limit/offset")
