-- Dates and datetimes are strings in Odoo's form, in and out.
local date = require("date")

-- The run's clock (the test's: 2026-12-04 23:30 at UTC+01:00), read in UTC.
expect.eq(date.today(), "2026-12-04")
expect.eq(date.now(), "2026-12-04 22:30:00")
expect.eq(type(date.today()), "string")

-- Odoo's forms come back as they are; ISO 8601 comes back in Odoo's form.
expect.eq(date.parse("2026-12-04"), "2026-12-04")
expect.eq(date.parse("2026-12-04 21:30:00"), "2026-12-04 21:30:00")
expect.eq(date.parse("2026-12-04T21:30:00Z"), "2026-12-04 21:30:00")
expect.eq(date.parse("2026-12-05T00:30:00+03:00"), "2026-12-04 21:30:00")

-- A layout, for files that do not come from Odoo.
expect.eq(date.parse("04/12/2026", "%d/%m/%Y"), "2026-12-04")
expect.eq(date.parse("4/12/2026", "%d/%m/%Y"), "2026-12-04")
expect.eq(date.parse("20261204", "%Y%m%d"), "2026-12-04")
expect.eq(date.parse("04.12.2026 9:05", "%d.%m.%Y %H:%M"), "2026-12-04 09:05:00")
expect.eq(date.parse("100% 2026-12-04", "100%% %Y-%m-%d"), "2026-12-04")

expect.eq(date.format("2026-12-04", "%d/%m/%Y"), "04/12/2026")
expect.eq(date.format("2026-12-04 21:05:09", "%Y%m%d-%H%M%S"), "20261204-210509")
expect.eq(date.format("2026-12-04", "%F %T"), "2026-12-04 00:00:00")
expect.eq(date.format("2026-02-01", "%y %j %u %%"), "26 032 7 %")
expect.eq(date.format("2026-12-04T22:30:00+01:00", "%H:%M"), "21:30")

expect.eq(date.make(2026, 12, 4), "2026-12-04")
expect.eq(date.make(2026, 12, 4, 21, 30), "2026-12-04 21:30:00")
expect.eq(date.make(2026, 12, 4, 0), "2026-12-04 00:00:00")

expect.eq(date.parts("2026-12-04 21:30:15"),
  {year = 2026, month = 12, day = 4, hour = 21, min = 30, sec = 15, weekday = 5, yday = 338, quarter = 4})
expect.eq(date.parts("2024-12-31").yday, 366)

expect.eq(date.to_date("2026-12-04 21:30:00"), "2026-12-04")
expect.eq(date.to_date("2026-12-04T23:30:00-01:00"), "2026-12-05")
expect.eq(date.to_date("2026-12-04"), "2026-12-04")
expect.eq(date.to_datetime("2026-12-04"), "2026-12-04 00:00:00")

-- valid tests without raising: Odoo's false for an empty date is not a date.
expect.eq(date.valid("2026-12-04"), true)
expect.eq(date.valid("2026-12-04 21:30:00"), true)
expect.eq(date.valid("2026-02-30"), false)
expect.eq(date.valid(false), false)
expect.eq(date.valid(nil), false)
expect.eq(date.valid(20261204), false)
