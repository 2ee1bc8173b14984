-- SQL errors are values with fields; tostring gives file:line and SQLSTATE.
local db = require("pg").connect()

local ok, e = pcall(db.query, db, "SELECT * FROM nope")
expect_eq(ok, false)
expect_eq(e.kind, "sql")
expect_eq(e.sqlstate, "42P01")
expect_eq(e.message, 'relation "nope" does not exist')
expect_eq(e.where, "test_errors.lua:4")
expect_eq(e.op, "query")
expect_eq(e.connection, "default")
expect_eq(e.position, 15)
expect_eq(tostring(e), 'test_errors.lua:4: pg: ERROR: relation "nope" does not exist (SQLSTATE 42P01)')
expect_eq("failed: " .. e, 'failed: test_errors.lua:4: pg: ERROR: relation "nope" does not exist (SQLSTATE 42P01)')

-- detail, hint and constraint when the server sends them
db:exec("CREATE TABLE u (id int CONSTRAINT u_pk PRIMARY KEY)")
db:exec("INSERT INTO u VALUES (1)")
ok, e = pcall(db.exec, db, "INSERT INTO u VALUES ($1)", 1)
expect_eq(e.sqlstate, "23505")
expect_eq(e.detail, "Key (id)=(1) already exists.")
expect_eq(e.constraint, "u_pk")
expect_eq(e.table, "u")
expect_true(tostring(e):find("\nDETAIL: Key (id)=(1) already exists.", 1, true), tostring(e))
ok, e = pcall(db.query, db, "SELECT nope()")
expect_eq(e.sqlstate, "42883")
expect_true(e.hint:find("No function matches", 1, true), e.hint)

-- errors raised by a method called inside a function point at the caller's line
local function helper()
  return db:query("SELEC 1")
end
ok, e = pcall(helper)
expect_eq(e.sqlstate, "42601")
expect_eq(e.where, "test_errors.lua:31")

-- conversion errors are values too
ok, e = pcall(db.query, db, "SELECT 9007199254740993::int8 AS big")
expect_eq(e.kind, "value")
expect_eq(e.sqlstate, nil)

-- the connection still works after errors
expect_eq(db:query_row("SELECT 1 AS one").one, 1)
