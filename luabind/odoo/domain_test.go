package odoo

import (
	"reflect"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/odoo"
)

func evalLua(t *testing.T, L *lua.LState, expr string) lua.LValue {
	t.Helper()
	if err := L.DoString("return " + expr); err != nil {
		t.Fatal(err)
	}
	v := L.Get(-1)
	L.Pop(1)
	return v
}

func TestDomainConversion(t *testing.T) {
	t.Parallel()
	L := lua.NewState()
	defer L.Close()
	cases := []struct {
		lua  string
		want []any
	}{
		{`nil`, []any{}},
		{`{}`, []any{}},
		{`{{"state", "=", "posted"}}`, []any{[]any{"state", "=", "posted"}}},
		{`{"|", {"a", "=", 1}, {"b", "IN", {}}}`, []any{"|", []any{"a", "=", int64(1)}, []any{"b", "in", []any{}}}},
		{`{"!", {"partner_id", "=", false}, {"x", "<>", 2.5}}`, []any{"!", []any{"partner_id", "=", false}, []any{"x", "!=", 2.5}}},
		{`{{"id", "in", {1, 2, 3}}}`, []any{[]any{"id", "in", []any{int64(1), int64(2), int64(3)}}}},
		{`{{"country_id", "any", {{"code", "=", "FR"}}}}`, []any{[]any{"country_id", "any", []any{[]any{"code", "=", "FR"}}}}},
		{`{{"name", "not ilike", "x"}, {"a.b.c", "=?", false}}`, []any{[]any{"name", "not ilike", "x"}, []any{"a.b.c", "=?", false}}},
	}
	for _, tc := range cases {
		got, err := domainFromLua(evalLua(t, L, tc.lua))
		if err != nil {
			t.Fatalf("%s: %v", tc.lua, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("%s: got %#v, want %#v", tc.lua, got, tc.want)
		}
	}
	bad := []struct{ lua, want string }{
		{`{{"state", "=="}}`, `bad domain term #1 {"state", "=="}: expected {field, operator, value} with a known operator`},
		{`{{"a", "=", 1}, {"state", "=", nil}}`, `bad domain term #2 {"state", "="}: expected {field, operator, value} with a known operator (use false, not nil, for an empty value)`},
		{`{{1, "=", 1}}`, `bad domain term #1 {1, "=", 1}`},
		{`{{"a", "=", 1, 2}}`, `bad domain term #1 {"a", "=", 1, 2}`},
		{`{"&", {"a", "=", 1}}`, `"&" at #1 needs two terms after it`},
		{`{{"a", "=", 1}, "!"}`, `"!" at #2 needs a term after it`},
		{`{x = 1}`, `bad domain: expected a list of terms`},
		{`{{"a", "=", function() end}}`, `a function cannot be converted`},
		{`{{"a", "any", {{"b"}}}}`, `bad domain (in term #1) term #1 {"b"}`},
		{`"state = posted"`, `bad domain: expected a table, got string`},
	}
	for _, tc := range bad {
		_, err := domainFromLua(evalLua(t, L, tc.lua))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: got %v, want %q", tc.lua, err, tc.want)
		}
	}
}

func TestValuesFromLua(t *testing.T) {
	t.Parallel()
	L := lua.NewState()
	defer L.Close()
	vals, err := valsFromLua(evalLua(t, L, `{name = "x", tag_ids = {}, lines = {{0, 0, {name = "l"}}}, ctx = {a = {}}, n = 3, f = 1.5, b = false}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"name": "x", "tag_ids": []any{}, "lines": []any{[]any{int64(0), int64(0), map[string]any{"name": "l"}}},
		"ctx": map[string]any{"a": []any{}}, "n": int64(3), "f": 1.5, "b": false,
	}
	if !reflect.DeepEqual(vals, want) {
		t.Fatalf("got %#v", vals)
	}
	if _, err := valsFromLua(evalLua(t, L, `{[1] = "x"}`)); err == nil {
		t.Fatal("values keyed by number must be refused")
	}
}

func TestRowConversion(t *testing.T) {
	t.Parallel()
	L := lua.NewState()
	defer L.Close()
	mf := newModelFields(map[string]map[string]any{
		"name": {"type": "char"}, "active": {"type": "boolean"}, "partner_id": {"type": "many2one"},
		"line_ids": {"type": "one2many"}, "date": {"type": "date"}, "amount": {"type": "monetary"},
	})
	row := map[string]any{"id": int64(4), "name": false, "active": false, "partner_id": []any{int64(7), "Acme"},
		"line_ids": []any{int64(1), int64(2)}, "date": false, "amount": 0.0, "extra": false}
	recs := &odoo.Records{}
	recs.Append(row)
	convert := func(fields []string) *lua.LTable {
		cv := &converter{fields: fields}
		cv.use(mf)
		return cv.row(L, cv.prepare(L, recs), 0)
	}
	t1 := convert([]string{"name", "active", "partner_id", "line_ids", "date", "amount"})
	t2 := convert(nil)
	for _, tbl := range []*lua.LTable{t1, t2} {
		if tbl.RawGetString("name") != lua.LNil || tbl.RawGetString("date") != lua.LNil {
			t.Fatal("False must become nil for char and date fields")
		}
		if tbl.RawGetString("active") != lua.LFalse {
			t.Fatal("a boolean field keeps false")
		}
		p, ok := tbl.RawGetString("partner_id").(*lua.LTable)
		if !ok || p.RawGetString("id") != lua.LNumber(7) || p.RawGetString("name") != lua.LString("Acme") {
			t.Fatal("many2one must be {id, name}")
		}
		if l, ok := tbl.RawGetString("line_ids").(*lua.LTable); !ok || l.Len() != 2 {
			t.Fatal("x2many must be a list")
		}
		if tbl.RawGetString("amount") != lua.LNumber(0) || tbl.RawGetString("id") != lua.LNumber(4) {
			t.Fatal("numbers")
		}
	}
	if t2.RawGetString("extra") != lua.LFalse {
		t.Fatal("a field fields_get does not know keeps its value")
	}
	if t1.RawGetString("extra") != lua.LNil {
		t.Fatal("with a field list only those fields are converted")
	}
}
