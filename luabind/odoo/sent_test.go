package odoo_test

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind/luatest"
	luaodoo "github.com/etlhost/etlhost/luabind/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// TestSentLines: every write sent to Odoo is logged as a "sent: " line (the
// writes `etlhost exec --commit` lists when a script fails half way, and
// keeps in its audit trail), a failed one at level warn with its error;
// reads log nothing, and a dry run sends (and logs as sent) nothing.
func TestSentLines(t *testing.T) {
	t.Parallel()
	cfg, _ := simConfig(t, odoosim.Options{})
	code := `
		local erp = require("odoo").connect()
		local id = erp:create("res.partner", {name = "Sent SARL"})
		erp:write("res.partner", {id}, {city = "Arras"})
		erp:call("res.partner", "write", {{id}, {ref = "S1"}})
		erp:search("res.partner", {}, {limit = 1})
		erp:unlink("res.partner", {id})
		local ok = pcall(erp.write, erp, "res.partner", {id}, {no_such_field = 1})
		assert(not ok or DRY, "a write to a missing field fails")
		return id`
	s := luatest.New(t, luatest.Options{}, newModule(t, cfg, luaodoo.Options{WriteAll: true}))
	v, err := s.Exec("sent.lua", code)
	if err != nil {
		t.Fatalf("%v\n%s", err, s.Logs)
	}
	id := itoa(int64(v.(lua.LNumber)))
	logs := s.Logs.String()
	for _, want := range []string{
		`info sent: create res.partner values={"name":"Sent SARL"} -> ` + id + ` connection=default method=create model=res.partner result=` + id,
		`info sent: write res.partner ids=[` + id + `] values={"city":"Arras"} connection=default`,
		`info sent: write res.partner ids=[` + id + `] values={"args":[[` + id + `],{"ref":"S1"}],"kwargs":null} connection=default`,
		`info sent: unlink res.partner ids=[` + id + `] connection=default`,
		`warn sent: write res.partner ids=[` + id + `] values={"no_such_field":1} failed connection=default error=`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("missing line %s\nlogs:\n%s", want, logs)
		}
	}
	if n := strings.Count(logs, "sent: "); n != 5 {
		t.Errorf("want 5 sent lines (the search is a read), got %d:\n%s", n, logs)
	}

	dry := luatest.New(t, luatest.Options{DryRun: true}, newModule(t, cfg, luaodoo.Options{WriteAll: true}))
	dry.L.SetGlobal("DRY", lua.LTrue) // a planned write to a missing field does not fail
	if _, err := dry.Exec("sent.lua", code); err != nil {
		t.Fatalf("dry run: %v\n%s", err, dry.Logs)
	}
	if strings.Contains(dry.Logs.String(), "sent: ") {
		t.Fatalf("a dry run logged sent writes:\n%s", dry.Logs)
	}
}
