-- db:tx: commit on return, rollback and re-raise on error, savepoints.
local db = require("pg").connect()
db:exec("CREATE TABLE acc (id int PRIMARY KEY, v int)")
local function count() return db:query_row("SELECT count(*) AS n FROM acc").n end

-- commit when the function returns; its results are returned
local a, b = db:tx(function(tx)
  expect.eq(tostring(tx), "pg.tx(default)")
  tx:exec("INSERT INTO acc VALUES (1, 10)")
  -- the transaction sees its own rows; others (db) do not until commit
  expect.eq(tx:query_row("SELECT count(*) AS n FROM acc").n, 1)
  expect.eq(count(), 0)
  return "done", 2
end)
expect.eq({a, b}, {"done", 2})
expect.eq(count(), 1)

-- an error rolls back and comes out unchanged
local ok, e = pcall(db.tx, db, function(tx)
  tx:exec("INSERT INTO acc VALUES (2, 20)")
  error("stop here")
end)
expect.eq(ok, false)
expect.truthy(tostring(e):find("stop here", 1, true), tostring(e))
expect.eq(count(), 1)
-- error values other than strings too
ok, e = pcall(db.tx, db, function(tx) tx:exec("INSERT INTO acc VALUES (3, 30)"); error({code = 7}) end)
expect.eq(e, {code = 7})
expect.eq(count(), 1)
-- an SQL error inside rolls back everything done before it
ok, e = pcall(db.tx, db, function(tx)
  tx:exec("INSERT INTO acc VALUES (4, 40)")
  tx:exec("INSERT INTO acc VALUES (1, 0)") -- duplicate key
end)
expect.eq(e.sqlstate, "23505")
expect.eq(count(), 1)

-- nested tx is a savepoint: its failure undoes only its own work
db:tx(function(tx)
  tx:exec("INSERT INTO acc VALUES (5, 50)")
  local ok2 = pcall(tx.tx, tx, function(sp)
    sp:exec("INSERT INTO acc VALUES (6, 60)")
    error("undo 6 only")
  end)
  expect.eq(ok2, false)
  tx:tx(function(sp)
    sp:exec("INSERT INTO acc VALUES (7, 70)")
    sp:tx(function(sp2) sp2:exec("UPDATE acc SET v = 71 WHERE id = 7") end)
  end)
end)
expect.eq(db:query("SELECT id, v FROM acc ORDER BY id"), {{1, 10}, {5, 50}, {7, 71}})

-- a failed statement inside a savepoint does not doom the outer transaction
db:tx(function(tx)
  local ok3, err = pcall(tx.tx, tx, function(sp) sp:exec("SELECT * FROM nope") end)
  expect.eq(ok3, false); expect.eq(err.sqlstate, "42P01")
  tx:exec("INSERT INTO acc VALUES (8, 80)")
end)
expect.eq(count(), 4)

-- a tx object is valid only inside its function
local leaked
db:tx(function(tx) leaked = tx end)
local _, err = pcall(leaked.exec, leaked, "SELECT 1")
expect.eq(err.kind, "usage")
expect.truthy(tostring(err):find("this transaction has ended", 1, true), tostring(err))

-- options: isolation and read-only (top level only)
db:tx(function(tx)
  expect.eq(tx:query_row("SHOW transaction_isolation").transaction_isolation, "serializable")
  local _, e2 = pcall(tx.tx, tx, function(sp) sp:exec("INSERT INTO acc VALUES (9, 90)") end)
  expect.eq(e2.sqlstate, "25006") -- read-only transaction
end, {isolation = "serializable", read_only = true})
expect.fails(function() db:tx(function() end, {isolation = "chaos"}) end, "isolation must be")
expect.fails(function() db:tx(function() end, {retries = 3}) end, 'unknown option "retries"')
expect.fails(function() db:tx(function(tx) tx:tx(function() end, {read_only = true}) end) end,
  "top-level transaction only")

-- the tx methods: copy, iter, replace, state, all inside the transaction
pcall(db.tx, db, function(tx)
  expect.eq(tx:copy("acc", {"id", "v"}, {{100, 1}, {101, 2}}), 2)
  local seen = 0
  for row in tx:iter("SELECT id FROM acc WHERE id >= 100") do seen = seen + 1 end
  expect.eq(seen, 2)
  expect.eq(tx:replace("acc", {"id", "v"}, {{102, 3}}, {where = "id >= $1", args = {100}}), {deleted = 2, inserted = 1})
  tx:set_state("k", 1)
  expect.eq(tx:get_state("k"), 1)
  error("roll all of it back")
end)
expect.eq(db:query_row("SELECT count(*) AS n FROM acc WHERE id >= 100").n, 0)
expect.eq(db:get_state("k"), nil)
