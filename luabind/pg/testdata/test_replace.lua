-- db:replace: delete + copy in one transaction.
local db = require("pg").connect()
db:exec("CREATE TABLE sales (company int, day date, amount numeric(16,2) NOT NULL)")
db:copy("sales", {"company", "day", "amount"}, {
  {1, "2024-01-01", 10}, {1, "2024-01-02", 20}, {2, "2024-01-01", 30}})
local cols = {"company", "day", "amount"}
local function all() return db:query("SELECT company, day, amount FROM sales ORDER BY company, day, amount") end

-- replace the rows matched by where
expect.eq(db:replace("sales", cols, {{1, "2024-01-01", 11}, {1, "2024-01-03", 33}},
  {where = "company = $1", args = {1}}), {deleted = 2, inserted = 2})
expect.eq(all(), {{1, "2024-01-01", 11}, {1, "2024-01-03", 33}, {2, "2024-01-01", 30}})

-- replace everything when there is no where
expect.eq(db:replace("sales", cols, {{3, "2024-02-01", 1}}), {deleted = 3, inserted = 1})
expect.eq(all(), {{3, "2024-02-01", 1}})

-- keyed rows and an empty replacement
expect.eq(db:replace("sales", cols, {{company = 4, day = "2024-03-01", amount = 2}}), {deleted = 1, inserted = 1})
expect.eq(db:replace("sales", cols, {}, {where = "company = 99"}), {deleted = 0, inserted = 0})

-- a bad row half way: error, and the table exactly as before
local before = all()
local rows = {}
for i = 1, 5000 do rows[i] = {5, "2024-04-01", i} end
rows[2500] = {5, "2024-04-01", nil} -- NOT NULL violated by the server
expect.fails(function() db:replace("sales", cols, rows) end, 'null value in column "amount"')
expect.eq(all(), before)
rows[2500] = {5, "not a date", 1} -- refused by the conversion
expect.fails(function() db:replace("sales", cols, rows) end, 'row 2500: column "day"')
expect.eq(all(), before)
-- a bad where: same
expect.fails(function() db:replace("sales", cols, {{6, "2024-01-01", 1}}, {where = "nope = 1"}) end,
  'column "nope" does not exist')
expect.eq(all(), before)

-- option checks
expect.fails(function() db:replace("sales", cols, {}, {wher = "x"}) end, 'unknown option "wher"')
expect.fails(function() db:replace("sales", cols, {}, {args = {1}}) end, "opts.args given without opts.where")
