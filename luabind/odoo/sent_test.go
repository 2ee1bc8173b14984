package odoo_test

import (
	"fmt"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/event"
	logmod "github.com/etlhost/etlhost/luabind/log"
	"github.com/etlhost/etlhost/luabind/luatest"
	luaodoo "github.com/etlhost/etlhost/luabind/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// TestSentWrites: every write sent to Odoo is an OdooWrite event (the
// writes `etlhost exec --commit` lists when a script fails half way, and
// keeps in its audit trail), a failed one with its error; reads emit none,
// and a dry run emits planned writes only. A script's log line that looks
// like a write is only a log line.
func TestSentWrites(t *testing.T) {
	t.Parallel()
	cfg, _ := simConfig(t, odoosim.Options{})
	code := `
		local erp = require("odoo").connect()
		local log = require("log")
		local id = erp:create("res.partner", {name = "Sent SARL"})
		erp:write("res.partner", {id}, {city = "Arras"})
		erp:call("res.partner", "write", {{id}, {ref = "S1"}})
		erp:search("res.partner", {}, {limit = 1})
		erp:unlink("res.partner", {id})
		local ok = pcall(erp.write, erp, "res.partner", {id}, {no_such_field = 1})
		assert(not ok or DRY, "a write to a missing field fails")
		log.info("sent: write res.partner [1]", {method = "write", model = "res.partner", ids = {1}})
		log.warn("plan: unlink res.partner ids=[2]", {method = "unlink", model = "res.partner", ids = {2}})
		return id`
	s := luatest.New(t, luatest.Options{}, newModule(t, cfg, luaodoo.Options{WriteAll: true}), logmod.Module{})
	v, err := s.Exec("sent.lua", code)
	if err != nil {
		t.Fatalf("%v\n%s", err, s.Logs)
	}
	id := int64(v.(lua.LNumber))
	writes := s.Logs.Writes()
	want := []event.OdooWrite{
		{Connection: "default", Model: "res.partner", Method: "create", Values: map[string]any{"name": "Sent SARL"}, Result: itoa(id)},
		{Connection: "default", Model: "res.partner", Method: "write", IDs: []int64{id}, Values: map[string]any{"city": "Arras"}},
		{Connection: "default", Model: "res.partner", Method: "write", IDs: []int64{id},
			Values: map[string]any{"args": []any{[]any{id}, map[string]any{"ref": "S1"}}, "kwargs": map[string]any(nil)}},
		{Connection: "default", Model: "res.partner", Method: "unlink", IDs: []int64{id}},
		{Connection: "default", Model: "res.partner", Method: "write", IDs: []int64{id}, Values: map[string]any{"no_such_field": int64(1)}},
	}
	if len(writes) != len(want) {
		t.Fatalf("%d writes, want %d (the search is a read, the log lines are not writes):\n%#v", len(writes), len(want), writes)
	}
	for i, w := range want {
		got := writes[i]
		if i == len(want)-1 {
			if !strings.Contains(got.Err, "no_such_field") {
				t.Errorf("the failed write carries no error: %#v", got)
			}
			got.Err = ""
		}
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("write %d:\n got %#v\nwant %#v", i+1, got, w)
		}
	}
	logs := s.Logs.String()
	for _, line := range []string{"info sent: create res.partner values={\"name\":\"Sent SARL\"} -> " + itoa(id) + " connection=default",
		"info sent: write res.partner [1] ids=[1] method=write model=res.partner"} {
		if !strings.Contains(logs, line) {
			t.Errorf("missing line %s\nlogs:\n%s", line, logs)
		}
	}

	dry := luatest.New(t, luatest.Options{DryRun: true}, newModule(t, cfg, luaodoo.Options{WriteAll: true}), logmod.Module{})
	dry.L.SetGlobal("DRY", lua.LTrue) // a planned write to a missing field does not fail
	if _, err := dry.Exec("sent.lua", code); err != nil {
		t.Fatalf("dry run: %v\n%s", err, dry.Logs)
	}
	planned := dry.Logs.Writes()
	if len(planned) != len(want) {
		t.Fatalf("dry run: %d planned writes, want %d: %#v", len(planned), len(want), planned)
	}
	for _, w := range planned {
		if !w.Planned {
			t.Fatalf("a dry run sent a write: %#v", w)
		}
	}
}
