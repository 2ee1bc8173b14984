// Package date is the Lua module `date`: the calendar arithmetic of finance
// work on the dates Odoo and PostgreSQL exchange.
//
// Dates and datetimes are plain strings, in and out: a date is
// "2026-12-04", a datetime "2026-12-04 21:30:00" in UTC, to the second,
// exactly as Odoo sends them and PostgreSQL accepts them. A script stores
// them as they are, and compares two values of the same kind with < and ==
// (the form sorts as the calendar does). Every function also accepts ISO
// 8601 datetimes ("2026-12-04T21:30:00Z", "2026-12-04T22:30:00+01:00", the
// offset converted to UTC, a fraction of a second dropped) and returns
// Odoo's form.
//
//	local date = require("date")
//	date.today()                          -- "2026-12-04" (UTC, the run's clock)
//	date.add_months("2024-01-31", 1)      -- "2024-02-29": the end of a shorter month
//	date.days_between(inv.invoice_date_due, date.today())   -- days overdue
//	date.end_of_month(inv.invoice_date)   -- "2026-12-31"
//	date.format(inv.invoice_date, "%d/%m/%Y")
//	date.parse("04/12/2026", "%d/%m/%Y")  -- "2026-12-04"
//
// A function given text that is not a date raises an error naming the text
// and the shapes expected; Odoo's false for an empty date is an error too
// (date.valid(false) is false). Years are 1..9999: a result outside raises
// an error. The module reads no clock but the one it is given (Module.Now),
// knows no locale and no time zone but UTC.
package date

import (
	"fmt"
	"math"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
)

// Module is the `date` module. It has no shared state. Now is the run's
// clock, read by date.today and date.now at each call (nil: time.Now).
type Module struct {
	Now func() time.Time
}

// Name implements luabind.Module.
func (Module) Name() string { return "date" }

// Open implements luabind.Module.
func (m Module) Open(L *lua.LState, _ *luabind.Env) lua.LValue {
	now := m.Now
	if now == nil {
		now = time.Now
	}
	clock := func(L *lua.LState) value {
		t := now().UTC()
		v, err := makeValue(int64(t.Year()), int64(t.Month()), int64(t.Day()), int64(t.Hour()), int64(t.Minute()), int64(t.Second()), true)
		if err != nil {
			L.RaiseError("date: the clock is outside the supported years: %v", err)
		}
		return v
	}
	fns := map[string]lua.LGFunction{
		"today": func(L *lua.LState) int { return push(L, clock(L).dateOf()) },
		"now":   func(L *lua.LState) int { return push(L, clock(L)) },

		"valid": func(L *lua.LState) int {
			s, ok := L.Get(1).(lua.LString)
			if !ok {
				L.Push(lua.LFalse)
				return 1
			}
			_, err := parse(string(s))
			L.Push(lua.LBool(err == nil))
			return 1
		},
		"parse": func(L *lua.LState) int {
			if L.Get(2) == lua.LNil {
				return push(L, check(L, 1))
			}
			text := L.CheckString(1)
			v, err := parseLayout(text, L.CheckString(2))
			if err != nil {
				L.ArgError(1, err.Error())
			}
			return push(L, v)
		},
		"format": func(L *lua.LState) int {
			s, err := format(check(L, 1), L.CheckString(2))
			if err != nil {
				L.ArgError(2, err.Error())
			}
			L.Push(lua.LString(s))
			return 1
		},
		"make": func(L *lua.LState) int {
			var p [6]int64
			names := [...]string{"years", "months", "days", "hours", "minutes", "seconds"}
			hasTime := false
			for i := range p {
				if i >= 3 {
					if L.Get(i+1) == lua.LNil {
						continue
					}
					hasTime = true
				}
				p[i] = checkInt(L, i+1, names[i], 1<<31)
			}
			v, err := makeValue(p[0], p[1], p[2], p[3], p[4], p[5], hasTime)
			if err != nil {
				L.RaiseError("date.make: %v", err)
			}
			return push(L, v)
		},
		"parts": func(L *lua.LState) int {
			v := check(L, 1)
			y, mo, d := v.ymd()
			h, mi, s := v.hms()
			t := L.NewTable()
			for _, kv := range []struct {
				k string
				v int64
			}{{"year", y}, {"month", mo}, {"day", d}, {"hour", h}, {"min", mi}, {"sec", s},
				{"weekday", v.weekday()}, {"yday", v.yearDay()}, {"quarter", quarter(v)}} {
				t.RawSetString(kv.k, lua.LNumber(kv.v))
			}
			L.Push(t)
			return 1
		},
		"to_date":     func(L *lua.LState) int { return push(L, check(L, 1).dateOf()) },
		"to_datetime": func(L *lua.LState) int { return push(L, check(L, 1).withTime()) },

		"add_days": func(L *lua.LState) int {
			v := check(L, 1)
			return pushOr(L, "add_days", func() (value, error) { return addDays(v, checkInt(L, 2, "days", maxAddDays)) })
		},
		"add_months": func(L *lua.LState) int {
			v := check(L, 1)
			n := checkInt(L, 2, "months", maxAddMonths)
			return pushOr(L, "add_months", func() (value, error) { return addMonths(v, n, "months", n) })
		},
		"add_years": func(L *lua.LState) int {
			v := check(L, 1)
			n := checkInt(L, 2, "years", maxAddYears)
			return pushOr(L, "add_years", func() (value, error) { return addMonths(v, 12*n, "years", n) })
		},
		"days_between": func(L *lua.LState) int {
			a, b := check(L, 1), check(L, 2)
			L.Push(lua.LNumber(b.day - a.day))
			return 1
		},
		"compare": func(L *lua.LState) int {
			L.Push(lua.LNumber(compare(check(L, 1), check(L, 2))))
			return 1
		},
		"weekday": func(L *lua.LState) int { L.Push(lua.LNumber(check(L, 1).weekday())); return 1 },
		"quarter": func(L *lua.LState) int { L.Push(lua.LNumber(quarter(check(L, 1)))); return 1 },

		"start_of_month":   period(startOfMonth),
		"end_of_month":     period(endOfMonth),
		"start_of_quarter": period(startOfQuarter),
		"end_of_quarter":   period(endOfQuarter),
		"start_of_year":    period(startOfYear),
		"end_of_year":      period(endOfYear),
	}
	t := L.NewTable()
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}

func push(L *lua.LState, v value) int {
	L.Push(lua.LString(v.String()))
	return 1
}

// pushOr pushes the value f computes, or raises its error.
func pushOr(L *lua.LState, fn string, f func() (value, error)) int {
	v, err := f()
	if err != nil {
		L.RaiseError("date.%s: %v", fn, err)
	}
	return push(L, v)
}

func period(f func(value) value) lua.LGFunction {
	return func(L *lua.LState) int { return push(L, f(check(L, 1))) }
}

// check reads argument n as a date or datetime, or raises an argument error
// naming the text and the shapes expected.
func check(L *lua.LState, n int) value {
	switch a := L.Get(n).(type) {
	case lua.LString:
		v, err := parse(string(a))
		if err != nil {
			L.ArgError(n, err.Error())
		}
		return v
	case lua.LBool:
		if !a {
			L.ArgError(n, "date expected, got false (Odoo's empty date): "+shapeAll)
		}
	}
	L.ArgError(n, fmt.Sprintf("date expected, got %s: %s", L.Get(n).Type(), shapeAll))
	return value{}
}

// checkInt reads argument n as a whole number of at most max in size.
func checkInt(L *lua.LState, n int, what string, max int64) int64 {
	f := float64(L.CheckNumber(n))
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
		L.ArgError(n, fmt.Sprintf("a whole number of %s expected, got %v", what, f))
	}
	if math.Abs(f) > float64(max) {
		L.ArgError(n, fmt.Sprintf("%.0f %s is out of range (at most %d either way)", f, what, max))
	}
	return int64(f)
}
