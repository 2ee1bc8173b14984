--! timeout = 1m
-- PostgreSQL: queries, COPY, atomic replace, transactions, watermarks, errors.
local expect = require("expect")
local pg = require("pg")
local db = pg.connect()

db:exec("CREATE TABLE spec_sales (id integer PRIMARY KEY, partner text NOT NULL, day date, amount numeric(16,2))")
expect.eq(db:copy("spec_sales", {"id", "partner", "day", "amount"}, {
  {1, "Atlas", "2024-01-31", 10.5},
  {2, "Lyon", nil, "20.25"},
  {id = 3, partner = "Rabat", amount = 7},
}), 3, "rows copied")

local rows = db:query("SELECT id, partner, day, amount FROM spec_sales WHERE amount > $1 ORDER BY id", 8)
expect.eq(#rows, 2, "rows over 8")
expect.eq({rows[1].partner, rows[1].day, rows[1].amount}, {"Atlas", "2024-01-31", 10.5}, "row 1")
expect.eq(rows[2].day, nil, "NULL is nil")
expect.eq(db:query_row("SELECT count(*) AS n FROM spec_sales").n, 3, "count")
expect.eq(db:query_row("SELECT 1 AS x WHERE false"), nil, "no row")

-- replace is atomic: a bad row leaves the table as it was
expect.fails(function()
  db:replace("spec_sales", {"id", "partner"}, {{10, "ok"}, {11, nil}})
end, "spec_sales")
expect.eq(db:query_row("SELECT count(*) AS n FROM spec_sales").n, 3, "table unchanged after a failed replace")
local r = db:replace("spec_sales", {"id", "partner"}, {{10, "new"}}, {where = "id < $1", args = {3}})
expect.eq({r.deleted, r.inserted}, {2, 1}, "replace counts")

-- transactions roll back on error; a nested tx is a savepoint
expect.fails(function()
  db:tx(function(tx)
    tx:exec("DELETE FROM spec_sales")
    error("changed my mind")
  end)
end, "changed my mind")
expect.eq(db:query_row("SELECT count(*) AS n FROM spec_sales").n, 2, "rolled back")
db:tx(function(tx)
  tx:exec("INSERT INTO spec_sales (id, partner) VALUES (20, 'kept')")
  pcall(tx.tx, tx, function(sp) sp:exec("INSERT INTO spec_sales (id, partner) VALUES (21, 'undone')") error("inner") end)
  tx:set_state("since", "2024-02-01")
end)
expect.eq(db:query_row("SELECT count(*) AS n FROM spec_sales WHERE id IN (20, 21)").n, 1, "savepoint undone alone")
expect.eq(db:get_state("since"), "2024-02-01", "watermark committed with the data")

-- SQL errors carry SQLSTATE and the script's position
local ok, e = pcall(db.exec, db, "SELECT * FROM no_such_table")
expect.eq(ok, false, "error raised")
expect.eq(e.sqlstate, "42P01", "sqlstate")
expect.truthy(tostring(e):find("pg_spec.lua:", 1, true), "position in " .. tostring(e))
return {ok = true}
