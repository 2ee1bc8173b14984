-- Watermarks: per-script state stored in etlhost_state.
local db = require("pg").connect()
-- nothing stored yet, and reading does not create the table
expect.eq(db:get_state("since"), nil)
expect.eq(db:query_row("SELECT to_regclass('etlhost_state') AS t").t, nil)

db:set_state("since", "2024-01-31 00:00:00")
expect.eq(db:get_state("since"), "2024-01-31 00:00:00")
-- any plain value
db:set_state("cursor", {id = 42, pages = {1, 2}})
expect.eq(db:get_state("cursor"), {id = 42, pages = {1, 2}})
db:set_state("n", 7)
expect.eq(db:get_state("n"), 7)
-- overwrite and delete
db:set_state("n", 8)
expect.eq(db:get_state("n"), 8)
db:set_state("n", nil)
expect.eq(db:get_state("n"), nil)
-- keyed by the script's name
expect.eq(db:query_row("SELECT script, key FROM etlhost_state WHERE key = 'since'"), {"lua_test", "since"})

-- inside a transaction the watermark commits (or not) with the data
db:exec("CREATE TABLE fact (id int)")
db:tx(function(tx)
  tx:exec("INSERT INTO fact VALUES (1)")
  tx:set_state("since", "2024-02-01")
end)
expect.eq(db:get_state("since"), "2024-02-01")
pcall(db.tx, db, function(tx)
  tx:exec("INSERT INTO fact VALUES (2)")
  tx:set_state("since", "2024-03-01")
  error("load failed")
end)
expect.eq(db:get_state("since"), "2024-02-01")
expect.eq(db:query_row("SELECT count(*) AS n FROM fact").n, 1)

expect.fails(function() db:set_state("f", function() end) end, "cannot be converted")
