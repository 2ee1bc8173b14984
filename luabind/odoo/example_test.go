package odoo_test

import (
	"context"
	"fmt"
	"os"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	luaodoo "github.com/etlhost/etlhost/luabind/odoo"
	"github.com/etlhost/etlhost/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// ExampleNew wires the module into a Lua state by hand, as the host does for
// every script of a run: one Module per run, Open per script.
func ExampleNew() {
	srv := odoosim.NewServer(odoosim.Options{Moves: 50, Seed: 1})
	defer srv.Close()
	mod := luaodoo.New(map[string]odoo.Config{
		"default": {URL: srv.URL, DB: "demo", User: "admin", Password: "admin"},
	}, luaodoo.Options{})
	defer mod.Close()

	env := &luabind.Env{Ctx: context.Background(), Script: "example", Path: "example.lua"}
	defer env.Close()
	L := lua.NewState()
	defer L.Close()
	L.PreloadModule(mod.Name(), func(L *lua.LState) int {
		L.Push(mod.Open(L, env))
		return 1
	})
	err := L.DoString(`
		local erp = require("odoo").connect()
		for _, c in ipairs(erp:search_read("res.country", {{"code", "in", {"FR", "DE"}}}, {fields = {"code", "currency_id"}, order = "code"})) do
			print(c.code, c.currency_id.name)
		end`)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	// Output:
	// DE	EUR
	// FR	EUR
}
