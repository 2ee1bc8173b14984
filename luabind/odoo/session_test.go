package odoo_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/etlhost/etlhost/luabind/luaconv"
	"github.com/etlhost/etlhost/luabind/luatest"
	luaodoo "github.com/etlhost/etlhost/luabind/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// A script whose call gets an access-denied fault (res.users.change_password
// with a wrong old password) fails that call alone: the script beside it,
// sharing the run's client, and the abusive script's own later calls go on.
func TestAccessFaultOfOneScriptLeavesTheOthers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, version, code string }{{"xmlrpc", "", "3"}, {"json2", "19.0", "4"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, _ := simConfig(t, odoosim.Options{Version: tc.version})
			m := newModule(t, cfg, luaodoo.Options{})
			abusive := luatest.New(t, luatest.Options{Script: "abusive", Header: map[string]string{luaodoo.HeaderWrites: "res.users"}}, m)
			good := luatest.New(t, luatest.Options{Script: "good"}, m)
			var wg sync.WaitGroup
			var abusiveOut, goodOut any
			var abusiveErr, goodErr error
			wg.Add(2)
			go func() {
				defer wg.Done()
				v, err := abusive.Exec("abusive.lua", `local erp = require("odoo").connect()
local faults = {}
for i = 1, 5 do
  local ok, e = pcall(function()
    return erp:call("res.users", "change_password", {}, {old_passwd = "guess" .. i, new_passwd = "x"})
  end)
  assert(not ok, "change_password passed")
  faults[#faults + 1] = e.kind .. " " .. tostring(e.code)
end
return {faults = table.concat(faults, ","), after = erp:count("res.country", {})}`)
				abusiveErr = err
				if err == nil {
					abusiveOut, abusiveErr = luaconv.FromLua(v)
				}
			}()
			go func() {
				defer wg.Done()
				v, err := good.Exec("good.lua", `local erp = require("odoo").connect()
local n = 0
for i = 1, 5 do
  n = n + #erp:search_read("res.country", {{"code", "in", {"FR", "DE"}}}, {fields = {"code"}})
end
return {rows = n, partners = erp:count("res.partner", {}) > 0}`)
				goodErr = err
				if err == nil {
					goodOut, goodErr = luaconv.FromLua(v)
				}
			}()
			wg.Wait()
			if goodErr != nil {
				t.Fatalf("the well-behaved script failed: %s", good.ErrorText(goodErr))
			}
			if got := fmt.Sprint(goodOut); got != "map[partners:true rows:10]" {
				t.Fatalf("the well-behaved script returned %s", got)
			}
			if abusiveErr != nil {
				t.Fatalf("the abusive script: %s", abusive.ErrorText(abusiveErr))
			}
			want := strings.Repeat("fault "+tc.code+",", 5)
			if got := fmt.Sprint(abusiveOut); !strings.Contains(got, "faults:"+want[:len(want)-1]) || strings.Contains(got, "after:0") {
				t.Fatalf("the abusive script returned %s, want faults %s and countries after them", got, want[:len(want)-1])
			}
		})
	}
}
