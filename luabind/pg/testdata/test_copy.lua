-- db:copy through the COPY protocol.
local db = require("pg").connect()
db:exec([[CREATE TABLE line (id int PRIMARY KEY, name text, amount numeric(16,2),
  day date, at timestamptz, posted bool, qty float8, tags jsonb)]])
local cols = {"id", "name", "amount", "day", "at", "posted", "qty", "tags"}

-- array rows by position: a nil (NULL) may stand anywhere, the last column included
local n = db:copy("line", cols, {
  {1, "a", 12.34, "2024-01-31", "2024-01-31 10:00:00", true, 1.5, {x = 1}},
  {2, nil, "12.34", nil, 1706695200, false, nil, nil},
  {3, "c", 7, "2024-02-01", "2024-01-31T12:00:00+01:00", nil, 2, "[1, 2]"},
  {4, "d", nil, nil, nil, nil, nil, nil},
})
expect.eq(n, 4)
local rows = db:query("SELECT * FROM line ORDER BY id")
expect.eq(rows[1], {1, "a", 12.34, "2024-01-31", "2024-01-31T10:00:00Z", true, 1.5, {x = 1}})
expect.eq(rows[2].amount, 12.34)
expect.eq(rows[2].at, "2024-01-31T10:00:00Z")  -- a number is seconds since 1970
expect.eq(rows[2].name, nil)
expect.eq(rows[3].at, "2024-01-31T11:00:00Z")
expect.eq(rows[3].tags, {1, 2})                 -- a string is JSON text
expect.eq(rows[4], {4, "d"})

-- keyed rows; missing keys are NULL
expect.eq(db:copy("line", cols, {
  {id = 10, name = "k", amount = 1.1, day = "2024-03-01"},
  {id = 11},
}), 2)
expect.eq(db:query_row("SELECT name, amount, day FROM line WHERE id = 10"), {"k", 1.1, "2024-03-01"})
expect.eq(db:query_row("SELECT count(*) AS n FROM line WHERE id = 11 AND name IS NULL").n, 1)

-- a column subset; numbers into text
db:exec("CREATE TABLE note (id int, body text, extra text DEFAULT 'dflt')")
expect.eq(db:copy("note", {"id", "body"}, {{1, 42}, {2, 0.5}}), 2)
expect.eq(db:query("SELECT body, extra FROM note ORDER BY id"), {{"42", "dflt"}, {"0.5", "dflt"}})

-- rows from a function (nil ends them)
local i = 0
expect.eq(db:copy("note", {"id"}, function()
  i = i + 1
  if i <= 1000 then return {100 + i} end
end), 1000)

-- rows returned by a query can be copied as they are
db:exec("CREATE TABLE line2 (LIKE line)")
expect.eq(db:copy("line2", cols, db:query("SELECT * FROM line")), 6)
-- schema-qualified names
expect.eq(db:copy("public.note", {"id"}, {{7}}), 1)
-- nothing to copy
expect.eq(db:copy("note", {"id"}, {}), 0)

-- errors name the row and the column; nothing is copied
local before = db:query_row("SELECT count(*) AS n FROM line").n
expect.fails(function() db:copy("line", cols, {{20, "ok"}, {21, "bad", "lots"}}) end,
  'row 2: column "amount": string "lots" cannot be loaded as numeric')
expect.fails(function() db:copy("line", cols, {{22, "x", 1, "31/01/2024"}}) end,
  'row 1: column "day": string "31/01/2024" is not a date')
expect.fails(function() db:copy("line", cols, {{23, "x", 1, false}}) end,
  "Odoo sends false for an empty field")
expect.fails(function() db:copy("line", cols, {{1.5}}) end, 'column "id": number 1.5 is not an integer')
expect.fails(function() db:copy("line", cols, {{24, nil, nil, nil, nil, nil, nil, nil, "ninth"}}) end,
  "row 1 has 9 values for 8 columns")
expect.fails(function() db:copy("line", cols, {{id = 25, nmae = "typo"}}) end,
  'row 1 has key "nmae", which is not among the columns')
expect.fails(function() db:copy("line", cols, {{26}, "oops"}) end, "row 2 is a string, want a table")
expect.fails(function() db:copy("line", cols, {{1, "dup"}}) end, "duplicate key value violates unique constraint")
-- an unqualified name is a table of the connection's schema (public here)
expect.fails(function() db:copy("nope", {"id"}, {{1}}) end, 'relation "public.nope" does not exist')
expect.fails(function() db:copy("line", {"id", "nope"}, {{1}}) end, 'column "nope" does not exist')
expect.fails(function() db:copy("line", {}, {{1}}) end, "columns must be a non-empty array")
expect.fails(function() db:copy("line", {"id", "id"}, {{1}}) end, 'column "id" named twice')
-- an error raised by a row function comes through as it was
local ok, e = pcall(function()
  db:copy("line", {"id"}, function() error({custom = "boom"}) end)
end)
expect.eq(ok, false); expect.eq(e, {custom = "boom"})
expect.eq(db:query_row("SELECT count(*) AS n FROM line").n, before)
