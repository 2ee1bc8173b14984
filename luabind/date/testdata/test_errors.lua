-- Errors name the bad text and the shape expected, and carry the script's
-- position.
local date = require("date")

local err = expect.fails(function() date.add_days("2026-13-01", 1) end,
  'bad argument #1 to add_days ("2026-13-01" is not a date: month 13 is outside 1..12)')
expect.truthy(tostring(err):find("^test_errors.lua:5: ") ~= nil, "the error carries file:line: " .. tostring(err))

expect.fails(function() date.end_of_month("04/12/2026") end,
  '"04/12/2026" is not a date; expected "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS" (UTC; or ISO 8601 "YYYY-MM-DDTHH:MM:SSZ")')
expect.fails(function() date.parse("2026-02-29") end, "day 29 is outside 1..28 for 2026-02")
expect.fails(function() date.parse("2026-12-04 21:30") end, "the time must be HH:MM:SS")

-- Odoo sends false for an empty date.
expect.fails(function() date.days_between(false, "2026-12-04") end, "bad argument #1 to days_between (date expected, got false (Odoo's empty date): \"YYYY-MM-DD\" or")
expect.fails(function() date.days_between("2026-12-04", nil) end, 'bad argument #2 to days_between (date expected, got nil: "YYYY-MM-DD" or')
expect.fails(function() date.weekday(20261204) end, "date expected, got number")
expect.fails(function() date.to_date({}) end, "date expected, got table")

-- Results stay within years 1..9999; counts are whole numbers.
expect.fails(function() date.add_days("9999-12-31", 1) end, "date.add_days: 9999-12-31 +1 days is outside the supported years 0001..9999")
expect.fails(function() date.add_months("0001-01-31", -1) end, "date.add_months: 0001-01-31 -1 months is outside")
expect.fails(function() date.add_years("2026-12-04", 1e9) end, "1000000000 years is out of range")
expect.fails(function() date.add_days("2026-12-04", 0.5) end, "a whole number of days expected, got 0.5")
expect.fails(function() date.add_days("2026-12-04", "x") end, "number expected")

-- Layouts.
expect.fails(function() date.parse("2026-12-04", "%d/%m/%Y") end,
  '"2026-12-04" does not match the layout "%d/%m/%Y": expected \'/\' at byte 3')
expect.fails(function() date.parse("31/02/2026", "%d/%m/%Y") end, "day 31 is outside 1..28 for 2026-02")
expect.fails(function() date.parse("04/12/26", "%d/%m/%Y") end, "expected a four-digit year at byte 7")
expect.fails(function() date.parse("04/12/2026x", "%d/%m/%Y") end, 'unexpected "x" at the end')
expect.fails(function() date.parse("12/2026", "%m/%Y") end, "must hold %Y, %m and %d")
expect.fails(function() date.parse("Dec 4 2026", "%b %d %Y") end, "has %b; date.parse knows")
expect.fails(function() date.format("2026-12-04", "%A %d %B") end, "has %A; date.format knows %Y %y %m")
expect.fails(function() date.format("2026-12-04", "%") end, "ends with a lone %")
expect.fails(function() date.format("2026-12-04", string.rep("%Y", 200)) end, "over the limit of 256")

expect.fails(function() date.make(2026, 2, 30) end, "date.make: day 30 is outside 1..28 for 2026-02")
expect.fails(function() date.make(2026, 12, 4, 24) end, "hour 24 is outside 0..23")
expect.fails(function() date.make(10000, 1, 1) end, "year 10000 is outside 1..9999")
expect.fails(function() date.make(2026, 1.5, 1) end, "a whole number of months expected")
