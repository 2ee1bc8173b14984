package date_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind/date"
	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/luabind/task"
)

// clock is the run's clock the Lua specifications see: 2026-12-04
// 23:30:00 at UTC+01:00, that is 22:30:00 UTC, a Friday.
var clock = time.Date(2026, 12, 4, 23, 30, 0, 0, time.FixedZone("CET", 3600))

func newState(t *testing.T) *luatest.State {
	return luatest.New(t, luatest.Options{}, date.Module{Now: func() time.Time { return clock }})
}

func TestLuaSpecs(t *testing.T) {
	t.Parallel()
	luatest.RunFiles(t, "testdata/test_*.lua", newState)
}

// call runs date.<fn>(args...) and returns its result as text, or the
// error's text.
func call(t *testing.T, s *luatest.State, fn string, args ...lua.LValue) (string, error) {
	t.Helper()
	s.L.SetGlobal("args", func() *lua.LTable {
		tb := s.L.NewTable()
		for i, a := range args {
			tb.RawSetInt(i+1, a)
		}
		return tb
	}())
	v, err := s.Exec("call.lua", `return require("date").`+fn+`(unpack(args, 1, `+strconv.Itoa(len(args))+`))`)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

func str(s string) lua.LValue  { return lua.LString(s) }
func num(n float64) lua.LValue { return lua.LNumber(n) }

func TestParseAcceptsOdooAndISO(t *testing.T) {
	t.Parallel()
	s := newState(t)
	cases := []struct{ in, want string }{
		{"2026-12-04", "2026-12-04"},
		{"2026-12-04 21:30:00", "2026-12-04 21:30:00"},
		{"2026-12-04T21:30:00Z", "2026-12-04 21:30:00"},
		{"2026-12-04t21:30:00z", "2026-12-04 21:30:00"},
		{"2026-12-04T21:30:00", "2026-12-04 21:30:00"},
		{"2026-12-04T21:30:00.999999Z", "2026-12-04 21:30:00"}, // fractions are dropped, not rounded
		{"2026-12-04T22:30:00+01:00", "2026-12-04 21:30:00"},
		{"2026-12-04T22:30:00+0100", "2026-12-04 21:30:00"},
		{"2026-12-04 21:30:00.123456+00", "2026-12-04 21:30:00"}, // PostgreSQL's timestamptz
		{"2026-12-04T20:00:00-05:00", "2026-12-05 01:00:00"},     // the offset moves the date
		{"2027-01-01T00:30:00+01:00", "2026-12-31 23:30:00"},
		{"2024-02-29", "2024-02-29"},
		{"2000-02-29", "2000-02-29"},
		{"0001-01-01", "0001-01-01"},
		{"9999-12-31 23:59:59", "9999-12-31 23:59:59"},
	}
	for _, c := range cases {
		got, err := call(t, s, "parse", str(c.in))
		if err != nil {
			t.Errorf("parse(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("parse(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestParseErrors: each bad text is refused with a message that quotes it,
// says what is wrong when it can, and shows the shape expected; the
// message starts with the script's position.
func TestParseErrors(t *testing.T) {
	t.Parallel()
	s := newState(t)
	cases := []struct{ in, want string }{
		{"2026-13-01", `"2026-13-01" is not a date: month 13 is outside 1..12)`}, // the shape is right: no "expected"
		{"2026-02-29", `"2026-02-29" is not a date: day 29 is outside 1..28 for 2026-02)`},
		{"1900-02-29", `day 29 is outside 1..28 for 1900-02`},
		{"2026-04-31", `day 31 is outside 1..30`},
		{"0000-01-01", `year 0 is outside 1..9999`},
		{"2026-12-4", `"2026-12-4" is not a date; expected "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS" (UTC; or ISO 8601 "YYYY-MM-DDTHH:MM:SSZ")`},
		{"04/12/2026", `"04/12/2026" is not a date; expected "YYYY-MM-DD" or`},
		{"", `"" is not a date; expected`},
		{"2026-12-04 21:30", `"2026-12-04 21:30" is not a datetime: the time must be HH:MM:SS; expected "YYYY-MM-DD HH:MM:SS"`},
		{"2026-12-04 24:00:00", `"2026-12-04 24:00:00" is not a datetime: hour 24 is outside 0..23)`},
		{"2026-12-04 23:59:60", `second 60 is outside 0..59`},
		{"2026-12-04 21:30:00 UTC", `unexpected " UTC" after the time`},
		{"2026-12-04T21:30:00.Z", `a fraction of a second has 1 to 9 digits`},
		{"2026-12-04T21:30:00+1", `a zone offset is +HH, +HH:MM or +HHMM`},
		{"2026-12-04T21:30:00+24:00", `the zone offset is out of range`},
		{"0001-01-01T00:30:00+01:00", `in UTC it is outside the supported years 0001..9999`},
		{"9999-12-31T23:30:00-01:00", `in UTC it is outside the supported years`},
		{"2026-12-04 " + strings.Repeat("9", 100), `is longer than any date`},
		{" 2026-12-04", `" 2026-12-04" is not a date`},
		{"2026-12-04\n", `"2026-12-04\n" is not a date`},
		{"２０２６-12-04", `is not a date`},
	}
	for _, c := range cases {
		_, err := call(t, s, "parse", str(c.in))
		if err == nil {
			t.Errorf("parse(%q) succeeded, want an error containing %q", c.in, c.want)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) {
			t.Errorf("parse(%q): error %q, want it to contain %q", c.in, msg, c.want)
		}
		if !strings.HasPrefix(msg, "call.lua:1: bad argument #1 to parse") {
			t.Errorf("parse(%q): error %q does not start with the script's position and the argument", c.in, msg)
		}
		if len(msg) > 400 {
			t.Errorf("parse(%q): a message of %d bytes", c.in, len(msg))
		}
	}
}

func TestAddMonthsIsEndOfMonthAware(t *testing.T) {
	t.Parallel()
	s := newState(t)
	cases := []struct {
		fn   string
		in   string
		n    float64
		want string
	}{
		{"add_months", "2026-01-31", 1, "2026-02-28"},
		{"add_months", "2024-01-31", 1, "2024-02-29"},
		{"add_months", "2024-03-31", -1, "2024-02-29"},
		{"add_months", "2026-01-31", 2, "2026-03-31"}, // from the start, not Feb 28 + 1 month
		{"add_months", "2026-05-31", 1, "2026-06-30"},
		{"add_months", "2026-12-15", 1, "2027-01-15"},
		{"add_months", "2026-01-15", -1, "2025-12-15"},
		{"add_months", "2026-01-15", -13, "2024-12-15"},
		{"add_months", "2026-01-15", 0, "2026-01-15"},
		{"add_months", "2026-01-31 21:30:00", 1, "2026-02-28 21:30:00"},
		{"add_months", "0001-01-01", 12*9999 - 1, "9999-12-01"},
		{"add_years", "2024-02-29", 1, "2025-02-28"},
		{"add_years", "2024-02-29", 4, "2028-02-29"},
		{"add_years", "2026-12-04", -2025, "0001-12-04"},
		{"add_days", "2026-12-31", 1, "2027-01-01"},
		{"add_days", "2024-02-28", 1, "2024-02-29"},
		{"add_days", "2026-03-01", -1, "2026-02-28"},
		{"add_days", "2026-12-04T23:30:00+01:00", 1, "2026-12-05 22:30:00"},
		{"add_days", "0001-01-01", 3652058, "9999-12-31"},
		{"add_days", "9999-12-31", -3652058, "0001-01-01"},
	}
	for _, c := range cases {
		got, err := call(t, s, c.fn, str(c.in), num(c.n))
		if err != nil {
			t.Errorf("%s(%q, %v): %v", c.fn, c.in, c.n, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s(%q, %v) = %q, want %q", c.fn, c.in, c.n, got, c.want)
		}
	}
}

// TestAddOutOfRange: counts too big for the calendar, fractions, NaN and
// infinities are refused, never wrapped around.
func TestAddOutOfRange(t *testing.T) {
	t.Parallel()
	s := newState(t)
	inf := func(sign float64) float64 { return sign * 1e308 * 10 }
	cases := []struct {
		fn   string
		in   string
		n    float64
		want string
	}{
		{"add_days", "9999-12-31", 1, "date.add_days: 9999-12-31 +1 days is outside the supported years 0001..9999"},
		{"add_days", "0001-01-01", -1, "0001-01-01 -1 days is outside the supported years"},
		{"add_days", "2026-12-04", 3652060, "3652060 days is out of range"},
		{"add_days", "2026-12-04", 9.3e18, "days is out of range"},
		{"add_days", "2026-12-04", 1e300, "days is out of range"},
		{"add_days", "2026-12-04", inf(1), "a whole number of days expected, got +Inf"},
		{"add_days", "2026-12-04", inf(-1), "a whole number of days expected"},
		{"add_days", "2026-12-04", 1.5, "a whole number of days expected, got 1.5"},
		{"add_months", "9999-12-01", 1, "date.add_months: 9999-12-01 +1 months is outside the supported years"},
		{"add_months", "2026-12-04", 12 * 9999 * 2, "months is out of range"},
		{"add_months", "2026-12-04", -1e18, "months is out of range"},
		{"add_years", "2026-12-04", 7974, "date.add_years: 2026-12-04 +7974 years is outside"},
		{"add_years", "2026-12-04", -2026, "-2026 years is outside"},
		{"add_years", "2026-12-04", 1e6, "years is out of range"},
	}
	for _, c := range cases {
		_, err := call(t, s, c.fn, str(c.in), num(c.n))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s(%q, %v): error %v, want one containing %q", c.fn, c.in, c.n, err, c.want)
		}
	}
	nan, err := s.Exec("nan.lua", `return require("date").add_days("2026-12-04", 0/0)`)
	if err == nil || !strings.Contains(err.Error(), "a whole number of days expected, got NaN") {
		t.Errorf("add_days(NaN) = %v, %v", nan, err)
	}
}

// TestCalendarAgreesWithTime checks the module's calendar against Go's
// time package across years 1..9999, every 97th day (the internal test
// TestCivilEveryDay checks every day): the date, its weekday and day of
// the year, add_days and days_between.
func TestCalendarAgreesWithTime(t *testing.T) {
	t.Parallel()
	s := newState(t)
	start := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	var failures []string
	s.L.SetGlobal("check_day", s.L.NewFunction(func(L *lua.LState) int {
		want := start.AddDate(0, 0, L.CheckInt(1))
		got, wd, yd := L.CheckString(2), L.CheckInt(3), L.CheckInt(4)
		wantWd := int(want.Weekday())
		if wantWd == 0 {
			wantWd = 7
		}
		if (got != want.Format("2006-01-02") || wd != wantWd || yd != want.YearDay()) && len(failures) < 10 {
			failures = append(failures, fmt.Sprintf("%s weekday %d day %d, want %s", got, wd, yd, want.Format("2006-01-02 Mon, day 002")))
		}
		return 0
	}))
	v, err := s.Exec("every_97th_day.lua", `
		local date = require("date")
		local d, n = "0001-01-01", 0
		while d <= "9999-09-25" do
			local p = date.parts(d)
			check_day(n, d, p.weekday, p.yday)
			local next = date.add_days(d, 97)
			assert(date.days_between(d, next) == 97 and date.days_between(next, d) == -97, d)
			assert(next > d and date.compare(d, next) == -1, d)
			d, n = next, n + 97
		end
		return n`)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range failures {
		t.Error(f)
	}
	if v.(lua.LNumber) < 3652058-97 {
		t.Fatalf("walked %v days, want the whole range", v)
	}
	got, err := call(t, s, "days_between", str("0001-01-01"), str("9999-12-31"))
	if err != nil || got != "3652058" {
		t.Fatalf("days_between over the whole range = %s, %v", got, err)
	}
}

// TestTodayUsesTheRunsClock: today and now read the clock given to the
// module, in UTC, at each call.
func TestTodayUsesTheRunsClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)
	s := luatest.New(t, luatest.Options{}, date.Module{Now: func() time.Time { return now }})
	v, err := s.Exec("t.lua", `local date = require("date") return date.today() .. "|" .. date.now()`)
	if err != nil {
		t.Fatal(err)
	}
	if want := "2026-12-31|2026-12-31 23:59:59"; v.String() != want {
		t.Fatalf("today|now = %q, want %q", v, want)
	}
	now = now.Add(time.Second)
	if v, _ = s.Exec("t.lua", `return require("date").today()`); v.String() != "2027-01-01" {
		t.Fatalf("after a second, today() = %q, want 2027-01-01", v)
	}
	now = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.Exec("t.lua", `return require("date").today()`); err == nil || !strings.Contains(err.Error(), "the clock is outside the supported years") {
		t.Fatalf("a clock in year 10000: %v", err)
	}
}

func TestWithoutAClockUsesTheSystemClock(t *testing.T) {
	t.Parallel()
	s := luatest.New(t, luatest.Options{}, date.Module{})
	before := time.Now().UTC()
	v, err := s.Exec("t.lua", `return require("date").now()`)
	after := time.Now().UTC()
	if err != nil {
		t.Fatal(err)
	}
	got, err := time.Parse(time.DateTime, v.String())
	if err != nil {
		t.Fatal(err)
	}
	if got.Before(before.Truncate(time.Second)) || got.After(after) {
		t.Fatalf("now() = %s, not between %s and %s", got, before, after)
	}
}

// FuzzParse: parse never fails other than with an error, and what it
// accepts it writes in Odoo's form, which reads back to itself and agrees
// with Go's time package.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"2026-12-04", "2026-12-04 21:30:00", "2026-12-04T22:30:00+01:00", "2026-12-04T21:30:00.5Z", "2024-02-29", "0001-01-01T00:00:00-00:30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s := luatest.New(t, luatest.Options{}, date.Module{})
		out, err := call(t, s, "parse", str(in))
		if err != nil {
			if !strings.Contains(err.Error(), "bad argument #1 to parse") {
				t.Fatalf("parse(%q): %v", in, err)
			}
			return
		}
		again, err := call(t, s, "parse", str(out))
		if err != nil || again != out {
			t.Fatalf("parse(%q) = %q, which reads back as %q, %v", in, out, again, err)
		}
		layout := time.DateOnly
		if len(out) > 10 {
			layout = time.DateTime
		}
		if _, err := time.Parse(layout, out); err != nil {
			t.Fatalf("parse(%q) = %q, which time.Parse refuses: %v", in, out, err)
		}
	})
}

// TestInLightThreads: the functions work, and raise their errors, in the
// light threads of the task module, each on its own state.
func TestInLightThreads(t *testing.T) {
	t.Parallel()
	s := luatest.New(t, luatest.Options{}, date.Module{Now: func() time.Time { return clock }}, task.Module{})
	v, err := s.Exec("threads.lua", `
		local date, task = require("date"), require("task")
		local out = task.map({"2026-01-31", "2026-13-01", "2024-01-31"}, function(d)
			task.sleep(0.001)
			local ok, res = pcall(date.add_months, d, 1)
			return (ok and res or "error: " .. tostring(res):match("is not a date")) .. " " .. date.today()
		end, {concurrency = 3})
		return table.concat(out, ",")`)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Env.Finish(); err != nil {
		t.Fatal(err)
	}
	if want := "2026-02-28 2026-12-04,error: is not a date 2026-12-04,2024-02-29 2026-12-04"; v.String() != want {
		t.Fatalf("got %q, want %q", v, want)
	}
}
