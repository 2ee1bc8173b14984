-- Months, quarters and years: first and last days, always as dates.
local date = require("date")

expect.eq(date.start_of_month("2026-12-04"), "2026-12-01")
expect.eq(date.end_of_month("2026-12-04"), "2026-12-31")
expect.eq(date.end_of_month("2024-02-10"), "2024-02-29")
expect.eq(date.end_of_month("2100-02-10"), "2100-02-28")
expect.eq(date.end_of_month("2026-04-30 23:59:59"), "2026-04-30")
expect.eq(date.start_of_month("2026-12-04T21:30:00Z"), "2026-12-01")

expect.eq(date.quarter("2026-01-01"), 1)
expect.eq(date.quarter("2026-03-31"), 1)
expect.eq(date.quarter("2026-04-01"), 2)
expect.eq(date.quarter("2026-12-04"), 4)
expect.eq(date.start_of_quarter("2026-08-15"), "2026-07-01")
expect.eq(date.end_of_quarter("2026-08-15"), "2026-09-30")
expect.eq(date.end_of_quarter("2026-02-15"), "2026-03-31")
expect.eq(date.end_of_quarter("2026-05-15"), "2026-06-30")

expect.eq(date.start_of_year("2026-12-04 21:30:00"), "2026-01-01")
expect.eq(date.end_of_year("2026-12-04"), "2026-12-31")

-- Last month, the usual window of a monthly job: [start, next start).
local today = date.today()
local from = date.start_of_month(date.add_months(today, -1))
local to = date.start_of_month(today)
expect.eq({from, to}, {"2026-11-01", "2026-12-01"})
expect.eq(date.end_of_month(from), date.add_days(to, -1))

-- The year's month ends, from January 31st (end_of_month, not add_months of
-- the previous end, so no month loses days).
local ends = {}
for m = 0, 11 do ends[#ends + 1] = date.format(date.end_of_month(date.add_months("2024-01-31", m)), "%d") end
expect.eq(table.concat(ends, ","), "31,29,31,30,31,30,31,31,30,31,30,31")
