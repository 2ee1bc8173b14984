package pg_test

import (
	"context"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/internal/pgcluster"
	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/luabind/pg"
)

// The host builds one Module for the run, opens it in each script's state
// with the script's Env, closes the Env when the script ends and the
// Module when the run ends.
func ExampleNew() {
	dsn, stop, err := pgcluster.Start("") // a throwaway server
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	mod := pg.New([]pg.Conn{{Name: "default", DSN: dsn, MaxConns: 4}})
	defer mod.Close()

	env := &luabind.Env{Ctx: context.Background(), Script: "example", Path: "example.lua", Events: &luatest.Logs{}}
	defer env.Close()
	L := lua.NewState()
	defer L.Close()
	L.PreloadModule("pg", func(L *lua.LState) int {
		L.Push(mod.Open(L, env))
		return 1
	})
	err = L.DoString(`
		local db = require("pg").connect()
		db:exec("CREATE TABLE sales (day date, amount numeric(16,2))")
		db:copy("sales", {"day", "amount"}, {{"2024-01-31", 12.34}, {"2024-02-01", "5"}})
		local r = db:query_row("SELECT count(*) AS n, sum(amount) AS total, max(day) AS last FROM sales")
		print(r.n, r.total, r.last)`)
	if err != nil {
		fmt.Println(err)
	}
	// Output: 2	17.34	2024-02-01
}
