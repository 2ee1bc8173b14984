package odoo_test

import (
	"errors"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind/json"
	"github.com/etlhost/etlhost/luabind/luaconv"
	"github.com/etlhost/etlhost/luabind/luatest"
	luaodoo "github.com/etlhost/etlhost/luabind/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// TestUnreadFieldRaises (issue: invoice.invoice_due_date for
// invoice_date_due loaded NULL): whichever call built a row, reading it by
// a field that was not read raises a "field" error at the script's line,
// naming the model, the field, the fields read and the likely one; the
// row itself stays the plain table of the values read.
func TestUnreadFieldRaises(t *testing.T) {
	t.Parallel()
	const fields = `{"name", "invoice_date_due", "amount_total"}`
	for _, tc := range []struct {
		name, row string // row: a Lua expression giving one row
		read      string // the fields read, as listed in the message
	}{
		{"search_read with a limit", `erp:search_read("account.move", {}, {fields = F, limit = 3})[1]`, "name, invoice_date_due, amount_total, id"},
		{"search_read in pages", `erp:search_read("account.move", {}, {fields = F})[1]`, "name, invoice_date_due, amount_total, id"},
		{"search_read in batches", `erp:search_read("account.move", {}, {fields = F, batch = 7, concurrency = 2})[9]`, "name, invoice_date_due, amount_total, id"},
		{"iter", `erp:iter("account.move", {}, {fields = F, batch = 5})()`, "name, invoice_date_due, amount_total, id"},
		{"read of ids", `erp:read("account.move", {1, 2}, F)[2]`, "name, invoice_date_due, amount_total, id"},
		{"read of one id", `erp:read("account.move", 1, F)`, "name, invoice_date_due, amount_total, id"},
		{"read with id asked for", `erp:read("account.move", 1, {"id", "invoice_date_due"})`, "id, invoice_date_due"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, _ := simConfig(t, odoosim.Options{})
			s := luatest.New(t, luatest.Options{}, newModule(t, cfg, luaodoo.Options{}), json.Module{})
			code := "local erp = require(\"odoo\").connect()\nlocal F = " + fields + "\nlocal row = " + tc.row + `
local ok, err = pcall(function()
  return row.invoice_due_date -- line 5
end)
assert(not ok, "no error")
return {err = err, row = row, json = require("json").encode(row)}`
			v, err := s.Exec("job.lua", code)
			if err != nil {
				t.Fatal(err)
			}
			out := v.(*lua.LTable)
			e, ok := out.RawGetString("err").(*lua.LTable)
			if !ok {
				t.Fatalf("the error is %s, want an error value", out.RawGetString("err"))
			}
			want := map[string]string{
				"kind": luaodoo.KindField, "model": "account.move", "field": "invoice_due_date", "where": "job.lua:5",
				"message": `odoo: account.move: field "invoice_due_date" was not read (fields read: ` + tc.read + `); did you mean invoice_date_due?`,
			}
			for k, w := range want {
				if got := lua.LVAsString(e.RawGetString(k)); got != w {
					t.Errorf("err.%s = %q, want %q", k, got, w)
				}
			}
			if got := s.L.ToStringMeta(e).String(); !strings.HasPrefix(got, "job.lua:5: odoo: account.move: field \"invoice_due_date\"") {
				t.Errorf("tostring(err) = %q", got)
			}
			// The row converts as the plain data it holds.
			row, err := luaconv.FromLua(out.RawGetString("row"))
			if err != nil {
				t.Fatal(err)
			}
			m, ok := row.(map[string]any)
			if !ok || m["id"] == nil || m["invoice_due_date"] != nil {
				t.Fatalf("row converts to %#v", row)
			}
			for k := range m {
				if !strings.Contains(", "+tc.read+",", ", "+k+",") {
					t.Errorf("the row holds %q, which was not read", k)
				}
			}
			if j := lua.LVAsString(out.RawGetString("json")); !strings.Contains(j, `"id":`) {
				t.Errorf("json.encode(row) = %s", j)
			}
		})
	}
}

// TestUnreadFieldErrorIsAFieldError: the error names the line that read the
// row, in the library file, and a script can tell it apart with err.kind.
func TestUnreadFieldErrorIsAFieldError(t *testing.T) {
	t.Parallel()
	cfg, _ := simConfig(t, odoosim.Options{})
	s := luatest.New(t, luatest.Options{}, newModule(t, cfg, luaodoo.Options{}))
	_, err := s.Exec("lib/odoo_lookup.lua", `local erp = require("odoo").connect()
local c = erp:search_read("res.company", {}, {fields = {"name", "country_id"}})[1]
return c.contry_id`)
	var ae *lua.ApiError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want a Lua error", err)
	}
	want := `lib/odoo_lookup.lua:3: odoo: res.company: field "contry_id" was not read (fields read: name, country_id, id); did you mean country_id?`
	if got := s.ErrorText(err); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
