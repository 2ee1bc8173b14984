-- query, query_row, exec: parameters, rows, columns.
local pg = require("pg")
local db = pg.connect()
expect.eq(tostring(db), "pg.db(default)")
expect.eq(pg.connections(), {"default"})

-- exec returns rows affected; one statement per call, with or without parameters.
local e = expect.fails(function() db:exec([[
  CREATE TABLE partner (id int PRIMARY KEY, name text NOT NULL, city text);
  CREATE TABLE other (x int)]]) end, "cannot insert multiple commands")
expect.eq(e.sqlstate, "42601")
expect.truthy(e.hint:find("one statement per call", 1, true), e.hint)
expect.eq(db:query_row("SELECT to_regclass('partner') AS t").t, nil) -- nothing ran
expect.eq(db:exec("CREATE TABLE partner (id int PRIMARY KEY, name text NOT NULL, city text);"), 0)
expect.eq(db:exec("CREATE TABLE other (x int)"), 0)
expect.eq(db:exec("INSERT INTO partner VALUES ($1, $2, $3), ($4, $5, $6)", 1, "Azure", "Paris", 2, "Deco", nil), 2)
expect.eq(db:exec("UPDATE partner SET city = $1 WHERE city IS NULL", "Lyon"), 1)
expect.eq(db:exec("DELETE FROM partner WHERE id = $1", 99), 0)

-- query: array of rows, and the column names.
local rows, cols = db:query("SELECT id, name, city FROM partner ORDER BY id")
expect.eq(#rows, 2)
expect.eq(cols, {"id", "name", "city"})
expect.eq(rows[1].id, 1)
expect.eq(rows[1].name, "Azure")
expect.eq(rows[2].city, "Lyon")
-- rows are arrays by position too
expect.eq(rows[2][2], "Deco")
expect.eq(rows[1], {1, "Azure", "Paris"})
-- a name that is not a column is an error, not a silent nil
expect.fails(function() return rows[1].nmae end, 'row has no column "nmae" (columns: id, name, city)')
-- assigning by name writes the position
rows[1].city = "Nice"
expect.eq(rows[1][3], "Nice")
-- pg.record gives a table keyed by name
expect.eq(pg.record(rows[2]), {id = 2, name = "Deco", city = "Lyon"})
expect.fails(function() pg.record({1, 2}) end, "not a row returned by pg")

-- empty result: an empty array, still with columns
local none, ncols = db:query("SELECT id FROM partner WHERE id < 0")
expect.eq(#none, 0)
expect.eq(ncols, {"id"})

-- query_row: first row or nil
local r = db:query_row("SELECT name FROM partner WHERE id = $1", 2)
expect.eq(r.name, "Deco")
expect.eq(db:query_row("SELECT name FROM partner WHERE id = $1", 42), nil)

-- parameters are bound, never interpolated
local evil = "x'); DROP TABLE partner; --"
expect.eq(db:query_row("SELECT $1::text AS s", evil).s, evil)
expect.eq(db:query_row("SELECT count(*) AS n FROM partner").n, 2)

-- a whole number binds as an integer, a fraction as a float
expect.eq(db:query_row("SELECT $1::int + 1 AS n", 41).n, 42)
expect.eq(db:query_row("SELECT $1::float8 * 2 AS n", 1.25).n, 2.5)
-- strings are parsed by PostgreSQL for any type
expect.eq(db:query_row("SELECT $1::date + 1 AS d", "2024-02-28").d, "2024-02-29")
expect.eq(db:query_row("SELECT $1::numeric(16,2) AS n", "12.345").n, 12.35)
-- booleans and NULL
expect.eq(db:query_row("SELECT $1::bool AS b, $2::int IS NULL AS isnull", true, nil), {true, true})
-- tables: JSON for json parameters, arrays for array parameters
expect.eq(db:query_row("SELECT $1::jsonb -> 'a' AS a", {a = {1, 2}}).a, {1, 2})
expect.eq(db:query_row("SELECT array_length($1::int[], 1) AS n", {5, 6, 7}).n, 3)
expect.eq(db:query_row("SELECT $1::text[] AS a", {"x", "y"}).a, {"x", "y"})
-- a value that cannot be sent is an error naming the parameter
expect.fails(function() db:query("SELECT $1", function() end) end, "parameter $1: a function cannot be sent")

-- quote_ident for dynamic identifiers
expect.eq(db:quote_ident('we"ird'), '"we""ird"')
db:close() -- a no-op: connections return to the pool after each call
-- methods need ':'
expect.fails(function() db.query("SELECT 1") end, "query: call it with a colon: db:query(...)")
-- unknown connection names list the configured ones
expect.fails(function() pg.connect("warehouse") end, 'no connection named "warehouse" (configured: default)')

-- tables dropped and recreated with other columns (ETL scripts do) are
-- read with their new types, whatever statements ran before
db:exec("CREATE TABLE shape (a int)"); db:exec("INSERT INTO shape VALUES (1)")
expect.eq(db:query_row("SELECT * FROM shape WHERE a = $1", 1), {1})
db:exec("DROP TABLE shape"); db:exec("CREATE TABLE shape (a text, b int)"); db:exec("INSERT INTO shape VALUES ('x', 2)")
expect.eq(db:query_row("SELECT * FROM shape WHERE a = $1", "x"), {"x", 2})
db:tx(function(tx)
  expect.eq(tx:query_row("SELECT * FROM shape"), {"x", 2})
  tx:exec("ALTER TABLE shape DROP COLUMN b")
  expect.eq(tx:query_row("SELECT * FROM shape"), {"x"})
end)
