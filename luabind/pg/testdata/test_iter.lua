-- db:iter streams rows through a cursor.
local db = require("pg").connect()
db:exec("CREATE TABLE big AS SELECT g AS id, 'n' || g AS name FROM generate_series(1, 1234) g")

local n, sum = 0, 0
for row in db:iter("SELECT id, name FROM big WHERE id > $1 ORDER BY id", 0) do
  n = n + 1
  sum = sum + row.id
  if n == 1 then expect.eq(row, {1, "n1"}) end
end
expect.eq(n, 1234)
expect.eq(sum, 1234 * 1235 / 2)

-- exactly one batch, and no rows at all
n = 0
for _ in db:iter("SELECT id FROM big WHERE id <= 500;\n") do n = n + 1 end
expect.eq(n, 500)
for _ in db:iter("SELECT id FROM big WHERE id < 0") do error("no rows expected") end

-- leaving the loop early is fine (the cursor ends with the script)
for row in db:iter("SELECT id FROM big ORDER BY id") do
  if row.id == 3 then break end
end

-- inside a transaction, other statements may run between rows
db:exec("CREATE TABLE seen (id int)")
db:tx(function(tx)
  for row in tx:iter("SELECT id FROM big WHERE id % 100 = 0") do
    tx:exec("INSERT INTO seen VALUES ($1)", row.id)
  end
end)
expect.eq(db:query_row("SELECT count(*) AS c FROM seen").c, 12)

-- errors: bad SQL at the start, conversion errors while iterating
expect.fails(function() db:iter("SELECT * FROM nope") end, 'relation "nope" does not exist')
expect.fails(function()
  for _ in db:iter("SELECT CASE WHEN g = 700 THEN 9007199254740993 ELSE g END AS v FROM generate_series(1, 800) g") do end
end, 'column "v"')
-- an iterator outliving its transaction
local it
db:tx(function(tx) it = tx:iter("SELECT id FROM big") end)
expect.fails(function() it() end, "this transaction has ended")
