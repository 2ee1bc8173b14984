-- Every domain operator, sent through the module and evaluated by the
-- simulator, compared with the same filter computed here in Lua.
local erp = require("odoo").connect()

local fields = {"name", "email", "city", "country_id", "parent_id", "customer_rank", "is_company"}
local all = erp:search_read("res.partner", {}, {fields = fields})
expect.truthy(#all > 10, "the simulator has partners")

local countries = {}
for _, c in ipairs(erp:search_read("res.country", {}, {fields = {"code"}})) do
  countries[c.id] = c.code
end

local function sorted(ids)
  table.sort(ids)
  return ids
end

local function where(pred)
  local ids = {}
  for _, r in ipairs(all) do
    if pred(r) then ids[#ids + 1] = r.id end
  end
  return sorted(ids)
end

local function check(domain, pred, label)
  local got = sorted(erp:search("res.partner", domain))
  expect.eq(got, where(pred), label)
  -- search_read and count agree with search
  local rows = erp:search_read("res.partner", domain, {fields = {"name"}})
  local ids = {}
  for _, r in ipairs(rows) do ids[#ids + 1] = r.id end
  expect.eq(sorted(ids), got, label .. " (search_read)")
  expect.eq(erp:count("res.partner", domain), #got, label .. " (count)")
end

-- pick values that occur in the data
local a_city, a_country, a_company, a_child
for _, r in ipairs(all) do
  if r.city and not a_city then a_city = r.city end
  if r.country_id and not a_country then a_country = r.country_id.id end
  if r.parent_id and not a_child then a_child = r.id; a_company = r.parent_id.id end
end
expect.truthy(a_city and a_country and a_company, "sample values found")
local mid = all[math.floor(#all / 2)].id

local function lower(s) return s and string.lower(s) or nil end
local function contains(s, sub) return s ~= nil and string.find(s, sub, 1, true) ~= nil end

check({{"city", "=", a_city}}, function(r) return r.city == a_city end, "=")
check({{"city", "!=", a_city}}, function(r) return r.city ~= a_city end, "!= matches empty too")
check({{"city", "=", false}}, function(r) return r.city == nil end, "= false is IS NULL")
check({{"city", "!=", false}}, function(r) return r.city ~= nil end, "!= false is IS NOT NULL")
check({{"id", ">", mid}}, function(r) return r.id > mid end, ">")
check({{"id", ">=", mid}}, function(r) return r.id >= mid end, ">=")
check({{"id", "<", mid}}, function(r) return r.id < mid end, "<")
check({{"id", "<=", mid}}, function(r) return r.id <= mid end, "<=")
check({{"id", "<>", mid}}, function(r) return r.id ~= mid end, "<> is !=")
check({{"customer_rank", ">", 0}}, function(r) return r.customer_rank > 0 end, "> on integers")
check({{"city", "=?", false}}, function(r) return true end, "=? false is TRUE")
check({{"city", "=?", a_city}}, function(r) return r.city == a_city end, "=? value is =")

local frag = string.sub(string.lower(a_city), 2, 3)
check({{"city", "ilike", frag}}, function(r) return contains(lower(r.city), frag) end, "ilike")
check({{"city", "not ilike", frag}}, function(r) return not contains(lower(r.city), frag) end, "not ilike matches empty too")
local cfrag = string.sub(a_city, 1, 2)
check({{"city", "like", cfrag}}, function(r) return contains(r.city, cfrag) end, "like")
check({{"city", "not like", cfrag}}, function(r) return not contains(r.city, cfrag) end, "not like")
local first = string.sub(a_city, 1, 1)
check({{"city", "=like", first .. "%"}}, function(r) return r.city ~= nil and string.sub(r.city, 1, 1) == first end, "=like")
check({{"city", "=ilike", string.lower(first) .. "%"}},
  function(r) return r.city ~= nil and string.lower(string.sub(r.city, 1, 1)) == string.lower(first) end, "=ilike")
check({{"city", "=like", "_" .. string.sub(a_city, 2)}},
  function(r) return r.city ~= nil and #r.city == #a_city and string.sub(r.city, 2) == string.sub(a_city, 2) end, "=like with _")

local some = {all[1].id, all[3].id, all[5].id}
local set = {[all[1].id] = true, [all[3].id] = true, [all[5].id] = true}
check({{"id", "in", some}}, function(r) return set[r.id] == true end, "in")
check({{"id", "not in", some}}, function(r) return not set[r.id] end, "not in")
check({{"id", "in", {}}}, function(r) return false end, "in {} is FALSE")
check({{"id", "not in", {}}}, function(r) return true end, "not in {} is TRUE")
check({{"country_id", "in", {false, a_country}}},
  function(r) return r.country_id == nil or r.country_id.id == a_country end, "false inside in matches empty")
check({{"country_id", "=", a_country}}, function(r) return r.country_id ~= nil and r.country_id.id == a_country end, "many2one = id")

-- hierarchy
local parent = {}
for _, r in ipairs(all) do parent[r.id] = r.parent_id and r.parent_id.id end
local function descends(id, root)
  while id do
    if id == root then return true end
    id = parent[id]
  end
  return false
end
check({{"id", "child_of", a_company}}, function(r) return descends(r.id, a_company) end, "child_of")
check({{"id", "parent_of", a_child}}, function(r) return descends(a_child, r.id) end, "parent_of")

-- relational paths
local code = countries[a_country]
check({{"country_id.code", "=", code}},
  function(r) return r.country_id ~= nil and countries[r.country_id.id] == code end, "dotted many2one path")
check({{"country_id", "any", {{"code", "=", code}}}},
  function(r) return r.country_id ~= nil and countries[r.country_id.id] == code end, "any")
check({{"country_id", "not any", {{"code", "=", code}}}},
  function(r) return r.country_id == nil or countries[r.country_id.id] ~= code end, "not any")

-- logic
check({"|", {"city", "=", a_city}, {"country_id", "=", false}},
  function(r) return r.city == a_city or r.country_id == nil end, "|")
check({"&", {"id", ">", mid}, {"country_id", "!=", false}},
  function(r) return r.id > mid and r.country_id ~= nil end, "&")
check({{"id", ">", mid}, {"country_id", "!=", false}},
  function(r) return r.id > mid and r.country_id ~= nil end, "implicit and")
check({"!", {"city", "=", a_city}}, function(r) return r.city ~= a_city end, "!")
check({"|", "!", {"id", "<", mid}, "&", {"is_company", "=", true}, {"country_id", "=", false}},
  function(r) return not (r.id < mid) or (r.is_company and r.country_id == nil) end, "nested")
check({}, function(r) return true end, "empty domain")
check({{"is_company", "=", false}}, function(r) return r.is_company == false end, "boolean false")
