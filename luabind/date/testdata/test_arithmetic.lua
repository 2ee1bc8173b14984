-- Adding days, months and years; days between; weekdays; comparing.
local date = require("date")

expect.eq(date.add_days("2026-12-04", 30), "2027-01-03")
expect.eq(date.add_days("2026-12-04", -30), "2026-11-04")
expect.eq(date.add_days("2026-12-04 21:30:00", 1), "2026-12-05 21:30:00")

-- Months keep the day unless the month is shorter (like relativedelta).
expect.eq(date.add_months("2026-01-31", 1), "2026-02-28")
expect.eq(date.add_months("2024-01-31", 1), "2024-02-29")
expect.eq(date.add_months("2026-08-31", -6), "2026-02-28")
expect.eq(date.add_months("2026-11-30", 3), "2027-02-28")
expect.eq(date.add_years("2024-02-29", 1), "2025-02-28")
expect.eq(date.add_years("2026-12-04", -1), "2025-12-04")

-- Aging: days from the due date to today, positive once overdue.
local today = date.today()
expect.eq(date.days_between("2026-10-31", today), 34)
expect.eq(date.days_between(today, "2026-10-31"), -34)
expect.eq(date.days_between("2026-12-04 23:59:59", "2026-12-05 00:00:00"), 1) -- by calendar date
expect.eq(date.days_between("2024-01-01", "2025-01-01"), 366)

local function bucket(due)
  local late = date.days_between(due, today)
  if late <= 0 then return "current" elseif late <= 30 then return "1-30"
  elseif late <= 60 then return "31-60" else return "61+" end
end
expect.eq({bucket("2026-12-10"), bucket("2026-11-20"), bucket("2026-10-31"), bucket("2025-01-01")},
  {"current", "1-30", "31-60", "61+"})

expect.eq(date.weekday("2026-12-07"), 1) -- a Monday
expect.eq(date.weekday("2026-12-04"), 5)
expect.eq(date.weekday("2026-12-06 23:59:59"), 7)

-- Values of one kind compare as strings; compare mixes kinds and forms.
expect.truthy("2026-01-31" < "2026-02-01", "dates compare with <")
expect.truthy("2026-12-04 09:00:00" < "2026-12-04 21:30:00", "datetimes compare with <")
expect.eq(date.compare("2026-12-04", "2026-12-04 00:00:00"), 0)
expect.eq(date.compare("2026-12-04", "2026-12-04 00:00:01"), -1)
expect.eq(date.compare("2026-12-04T22:30:00+01:00", "2026-12-04 21:30:00"), 0)
expect.eq(date.compare("2026-12-05", "2026-12-04 23:59:59"), 1)

-- A week of dates, as a loop over a period.
local days = {}
local d = "2026-12-28"
while d <= "2027-01-03" do days[#days + 1] = date.format(d, "%d%u") d = date.add_days(d, 1) end
expect.eq(table.concat(days, " "), "281 292 303 314 015 026 037")
