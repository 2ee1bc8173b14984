-- SQL errors are values with fields; tostring gives file:line and SQLSTATE.
local db = require("pg").connect()

local ok, e = pcall(db.query, db, "SELECT * FROM nope")
expect.eq(ok, false)
expect.eq(e.kind, "sql")
expect.eq(e.sqlstate, "42P01")
expect.eq(e.code, "42P01") -- kind, code, message, where: the shape odoo's errors share
expect.eq(e.message, 'relation "nope" does not exist')
expect.eq(e.where, "test_errors.lua:4")
expect.eq(e.op, "query")
expect.eq(e.connection, "default")
expect.eq(e.position, 15)
expect.eq(tostring(e), 'test_errors.lua:4: pg: ERROR: relation "nope" does not exist (SQLSTATE 42P01)')
expect.eq("failed: " .. e, 'failed: test_errors.lua:4: pg: ERROR: relation "nope" does not exist (SQLSTATE 42P01)')

-- detail, hint and constraint when the server sends them
db:exec("CREATE TABLE u (id int CONSTRAINT u_pk PRIMARY KEY)")
db:exec("INSERT INTO u VALUES (1)")
ok, e = pcall(db.exec, db, "INSERT INTO u VALUES ($1)", 1)
expect.eq(e.sqlstate, "23505")
expect.eq(e.detail, "Key (id)=(1) already exists.")
expect.eq(e.constraint, "u_pk")
expect.eq(e.table, "u")
expect.truthy(tostring(e):find("\nDETAIL: Key (id)=(1) already exists.", 1, true), tostring(e))
ok, e = pcall(db.query, db, "SELECT nope()")
expect.eq(e.sqlstate, "42883")
expect.truthy(e.hint:find("No function matches", 1, true), e.hint)

-- errors raised by a method called inside a function point at the caller's line
local function helper()
  return db:query("SELEC 1")
end
ok, e = pcall(helper)
expect.eq(e.sqlstate, "42601")
expect.eq(e.where, "test_errors.lua:32")

-- conversion errors are values too
ok, e = pcall(db.query, db, "SELECT 9007199254740993::int8 AS big")
expect.eq(e.kind, "value")
expect.eq(e.sqlstate, nil)
expect.eq(e.code, nil)

-- the connection still works after errors
expect.eq(db:query_row("SELECT 1 AS one").one, 1)
