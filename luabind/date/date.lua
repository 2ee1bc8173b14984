---@meta
-- LuaLS definitions for etlhost's `date` module.

-- Dates and datetimes are plain strings, in and out, in Odoo's form: a date
-- is "2026-12-04", a datetime "2026-12-04 21:30:00" in UTC, to the second.
-- That is what Odoo sends and what PostgreSQL accepts, so values are stored
-- as they are, and two values of the same kind compare with < and == (use
-- date.compare to mix dates and datetimes). Every function also accepts ISO
-- 8601 datetimes ("2026-12-04T21:30:00Z", "2026-12-04T22:30:00+01:00": the
-- offset is converted to UTC, a fraction of a second dropped).
--
-- Text that is not a date, and Odoo's false for an empty date, raise an
-- error naming the text and the shape expected (date.valid tests without
-- raising). Years are 1..9999. There is no locale and no time zone but UTC.

---A date "YYYY-MM-DD" or a datetime "YYYY-MM-DD HH:MM:SS" (UTC).
---@alias date.Value string

---@class date.Parts
---@field year integer
---@field month integer 1..12
---@field day integer 1..31
---@field hour integer 0 for a date
---@field min integer 0 for a date
---@field sec integer 0 for a date
---@field weekday integer ISO: 1 = Monday .. 7 = Sunday
---@field yday integer day of the year, 1..366
---@field quarter integer 1..4

---@class date.Module
local date = {}

---Today's date in UTC, "YYYY-MM-DD", by the run's clock.
---@return string
function date.today() end

---The current datetime in UTC, "YYYY-MM-DD HH:MM:SS", by the run's clock.
---@return string
function date.now() end

---Whether v is a date or datetime the module accepts (false for Odoo's false, nil, numbers).
---@param v any
---@return boolean
function date.valid(v) end

---Reads text as a date or datetime and returns it in Odoo's form. Without a layout: "YYYY-MM-DD",
---"YYYY-MM-DD HH:MM:SS" or ISO 8601. With a layout ("%d/%m/%Y"): %Y (four digits), %m %d %H %M %S
---(one or two digits), %%; other characters must appear as they are. A layout with %H, %M or %S
---gives a datetime.
---@param text string
---@param layout? string
---@return date.Value
function date.parse(text, layout) end

---Writes a value in a layout: %Y %m %d %H %M %S (zero-padded), %y (two-digit year), %j (day of
---the year), %u (ISO weekday), %F (%Y-%m-%d), %T (%H:%M:%S), %%. No month or day names.
---@param v date.Value
---@param layout string
---@return string
function date.format(v, layout) end

---Builds a date from its parts, or a datetime when an hour, minute or second is given.
---Raises an error for a part out of range (date.make(2026, 2, 30) is an error, not March 2).
---@param year integer
---@param month integer
---@param day integer
---@param hour? integer
---@param min? integer
---@param sec? integer
---@return date.Value
function date.make(year, month, day, hour, min, sec) end

---The parts of a value.
---@param v date.Value
---@return date.Parts
function date.parts(v) end

---The date of a value ("2026-12-04 21:30:00" gives "2026-12-04").
---@param v date.Value
---@return string
function date.to_date(v) end

---A value as a datetime (a date gives its midnight, "2026-12-04 00:00:00").
---@param v date.Value
---@return string
function date.to_datetime(v) end

---Adds n days (negative: earlier). A datetime keeps its time.
---@param v date.Value
---@param n integer
---@return date.Value
function date.add_days(v, n) end

---Adds n months, keeping the day unless the month is shorter: then its last day
---("2024-01-31" + 1 month = "2024-02-29"), as Python's relativedelta does.
---@param v date.Value
---@param n integer
---@return date.Value
function date.add_months(v, n) end

---Adds n years ("2024-02-29" + 1 year = "2025-02-28").
---@param v date.Value
---@param n integer
---@return date.Value
function date.add_years(v, n) end

---Calendar days from a to b (negative when b is earlier); datetimes count by their dates.
---@param a date.Value
---@param b date.Value
---@return integer
function date.days_between(a, b) end

---Orders two values: -1, 0 or 1. A date is its midnight, so it equals "YYYY-MM-DD 00:00:00".
---@param a date.Value
---@param b date.Value
---@return integer
function date.compare(a, b) end

---ISO weekday: 1 = Monday .. 7 = Sunday.
---@param v date.Value
---@return integer
function date.weekday(v) end

---The quarter, 1..4.
---@param v date.Value
---@return integer
function date.quarter(v) end

---The first day of the value's month, as a date.
---@param v date.Value
---@return string
function date.start_of_month(v) end

---The last day of the value's month, as a date ("2024-02-29").
---@param v date.Value
---@return string
function date.end_of_month(v) end

---The first day of the value's quarter, as a date.
---@param v date.Value
---@return string
function date.start_of_quarter(v) end

---The last day of the value's quarter, as a date.
---@param v date.Value
---@return string
function date.end_of_quarter(v) end

---January 1st of the value's year, as a date.
---@param v date.Value
---@return string
function date.start_of_year(v) end

---December 31st of the value's year, as a date.
---@param v date.Value
---@return string
function date.end_of_year(v) end

return date
