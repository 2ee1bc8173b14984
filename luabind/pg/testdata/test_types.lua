-- Type conversions PostgreSQL -> Lua and back, NULLs both ways.
local db = require("pg").connect()

local r = db:query_row([[
  SELECT 1::int2 AS i2, 2::int4 AS i4, 9007199254740992::int8 AS i8,
         1.5::float4 AS f4, 0.1::float8 AS f8,
         12.34::numeric(16,2) AS num, 'NaN'::numeric AS nan,
         'héllo'::text AS t, 'v'::varchar(3) AS vc, 'c'::char(3) AS bp, 'nm'::name AS nm,
         true AS b, false AS bf,
         '2024-01-31'::date AS d, 'infinity'::date AS dinf,
         '2024-01-31 10:11:12.5+02'::timestamptz AS tz,
         '2024-01-31 10:11:12'::timestamp AS ts,
         '{"a": [1, 2, {"b": null}], "c": "x"}'::jsonb AS jb,
         '[1, "two"]'::json AS j,
         ARRAY[1, 2, 3] AS ai, ARRAY['a', NULL, 'c'] AS at, ARRAY['2024-01-01'::date] AS ad,
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u,
         '\x00ff'::bytea AS by,
         '1 day 02:00:00'::interval AS iv,
         '192.168.0.1/24'::inet AS ip,
         NULL::int AS n1, NULL::text AS n2, NULL::jsonb AS n3]])
expect.eq(r.i2, 1); expect.eq(r.i4, 2); expect.eq(r.i8, 9007199254740992)
expect.eq(r.f4, 1.5); expect.eq(r.f8, 0.1)
expect.eq(r.num, 12.34)
expect.truthy(r.nan ~= r.nan, "numeric NaN is a Lua NaN")
expect.eq(r.t, "héllo"); expect.eq(r.vc, "v"); expect.eq(r.bp, "c  "); expect.eq(r.nm, "nm")
expect.eq(r.b, true); expect.eq(r.bf, false)
expect.eq(r.d, "2024-01-31"); expect.eq(r.dinf, "infinity")
expect.eq(r.tz, "2024-01-31T08:11:12.5Z")   -- timestamptz: ISO 8601 in UTC
expect.eq(r.ts, "2024-01-31T10:11:12")       -- timestamp: ISO 8601 without zone
expect.eq(r.jb, {a = {1, 2, {}}, c = "x"})
expect.eq(r.j, {1, "two"})
expect.eq(r.ai, {1, 2, 3})
expect.eq(r.at[1], "a"); expect.eq(r.at[2], nil); expect.eq(r.at[3], "c")
expect.eq(r.ad, {"2024-01-01"})
expect.eq(r.u, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
expect.eq(r.by, "\0\255")
expect.eq(r.iv, "1 day 02:00:00")
expect.eq(r.ip, "192.168.0.1/24")
expect.eq(r.n1, nil); expect.eq(r.n2, nil); expect.eq(r.n3, nil)

-- an integer beyond 2^53 would lose digits: error naming the column
expect.fails(function() db:query("SELECT 9007199254740993::int8 AS big") end,
  'column "big": integer 9007199254740993 is beyond 2^53')
-- a type with no Lua form: error naming the column, with the way out
expect.fails(function() db:query("SELECT 1 AS x, '[1,5)'::int4range AS span") end,
  'column "span": a value of Go type pgtype.Range')
expect.eq(db:query_row("SELECT '[1,5)'::int4range::text AS span").span, "[1,5)")
-- other types come as their text form
local o = db:query_row("SELECT 'a:1 b'::tsvector AS doc, point(1, 2) AS p, '12:30'::time AS tm, B'101' AS bits")
expect.eq(o, {"'a':1 'b'", "(1,2)", "12:30:00.000000", "101"})
-- enums (unknown to pgx) come as their label
db:exec("CREATE TYPE mood AS ENUM ('sad', 'ok')")
expect.eq(db:query_row("SELECT 'ok'::mood AS m").m, "ok")

-- Round trips through a table: parameters in, query out.
db:exec([[CREATE TABLE rt (
  i int, b bigint, f float8, n numeric(16,2), t text, ok bool, d date,
  tz timestamptz, ts timestamp, j jsonb, a int[], ta text[])]])
local vals = {7, 123456789012, 2.5, 12.34, "txt", true, "2024-02-29",
  "2024-02-29T23:59:59.123456Z", "2024-02-29T23:59:59", {k = {1, "v"}}, {1, 2}, {"p", "q"}}
db:exec("INSERT INTO rt VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)", unpack(vals))
db:exec("INSERT INTO rt VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
  nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)
local rows = db:query("SELECT * FROM rt ORDER BY i NULLS LAST")
expect.eq(rows[1], vals)
for i = 1, 12 do expect.eq(rows[2][i], nil, "NULL column " .. i) end
-- a timestamptz given with an offset is stored as the same instant
db:exec("UPDATE rt SET tz = $1 WHERE i = 7", "2024-03-01T02:00:00+02:00")
expect.eq(db:query_row("SELECT tz FROM rt WHERE i = 7").tz, "2024-03-01T00:00:00Z")

-- numerics of every shape read as the nearest Lua number
local nums = db:query_row([[SELECT 0::numeric AS z, -0.5::numeric AS h, 123456789.123456789::numeric AS long,
  -0.0001::numeric AS small, 10000::numeric AS tenk, 1e20::numeric AS big, 99999999999999.99::numeric(16,2) AS max2,
  'Infinity'::numeric AS inf, '-Infinity'::numeric AS ninf]])
expect.eq({nums.z, nums.h, nums.long, nums.small, nums.tenk, nums.big, nums.max2},
  {0, -0.5, 123456789.123456789, -0.0001, 10000, 1e20, 99999999999999.99})
expect.truthy(nums.inf == 1/0 and nums.ninf == -1/0, "numeric infinities")

-- empty strings are not NULL, wherever they stand
expect.eq(db:query_row("SELECT ''::text AS a, NULL::text AS b, ''::text AS c"), {"", nil, ""})
expect.eq(#db:query("SELECT '' AS e FROM generate_series(1, 3)"), 3)
