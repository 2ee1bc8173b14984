package date_test

import (
	"context"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/date"
)

// The host gives the module the run's clock; date.today reads it in UTC.
func ExampleModule() {
	mod := date.Module{Now: func() time.Time { return time.Date(2026, 12, 4, 21, 30, 0, 0, time.UTC) }}
	env := &luabind.Env{Ctx: context.Background(), Script: "example", Path: "example.lua"}
	defer env.Close()
	L := lua.NewState()
	defer L.Close()
	L.PreloadModule("date", func(L *lua.LState) int {
		L.Push(mod.Open(L, env))
		return 1
	})
	err := L.DoString(`
		local date = require("date")
		local due = "2026-10-31"
		print(date.today(), date.days_between(due, date.today()), "days overdue")
		print(date.add_months("2024-01-31", 1), date.end_of_quarter(due), date.weekday(due))
		print(date.parse("2026-12-04T22:30:00+01:00"), date.format(due, "%d/%m/%Y"))`)
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 2026-12-04	34	days overdue
	// 2024-02-29	2026-12-31	6
	// 2026-12-04 21:30:00	31/10/2026
}
