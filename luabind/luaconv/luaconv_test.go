package luaconv

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"bool", true, true},
		{"int", 42, int64(42)},
		{"float", 1.5, 1.5},
		{"big int stays float", float64(1 << 60), float64(1 << 60)},
		{"string", "héllo", "héllo"},
		{"array", []any{int64(1), "a", false}, []any{int64(1), "a", false}},
		{"object", map[string]any{"a": int64(1), "b": []any{"x"}}, map[string]any{"a": int64(1), "b": []any{"x"}}},
		{"empty is object", []any{}, map[string]any{}},
		{"strings", []string{"a", "b"}, []any{"a", "b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			L := lua.NewState(lua.Options{SkipOpenLibs: true})
			defer L.Close()
			got, err := FromLua(ToLua(L, tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestFromLuaErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, code, want string
	}{
		{"function", `return {rows = {1, print}}`, "rows[2]: a function cannot be converted"},
		{"cycle", `local t = {} t.self = t return t`, "self: table contains itself"},
		{"nan", `return {x = 0/0}`, "x: number nan has no JSON form"},
		{"inf", `return {1/0}`, "[1]: number inf has no JSON form"},
		{"bad key", `return {[true] = 1}`, "table key of type boolean"},
		{"deep", `local t = {} local c = t for i = 1, 200 do c.n = {} c = c.n end return t`, "nested deeper than 100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			L := lua.NewState()
			defer L.Close()
			if err := L.DoString(tc.code); err != nil {
				t.Fatal(err)
			}
			_, err := FromLua(L.Get(-1))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestNumber(t *testing.T) {
	t.Parallel()
	if got := Number(3); got != int64(3) {
		t.Fatalf("Number(3) = %#v", got)
	}
	if got := Number(2.5); got != 2.5 {
		t.Fatalf("Number(2.5) = %#v", got)
	}
	if got := Number(lua.LNumber(math.Pow(2, 54))); got != math.Pow(2, 54) {
		t.Fatalf("Number(2^54) = %#v", got)
	}
}

// FuzzFromJSON feeds arbitrary JSON through Go -> Lua -> Go: whatever the
// input, conversion must not panic, and numbers and strings must survive.
func FuzzFromJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `[]`, `"x"`, `1e308`, `{"1":2}`, `[[[[[]]]]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v any
		d := json.NewDecoder(strings.NewReader(s))
		if err := d.Decode(&v); err != nil {
			return
		}
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		out, err := FromLua(ToLua(L, v))
		if err != nil {
			return // e.g. depth beyond MaxDepth
		}
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("converted value does not marshal: %v", err)
		}
	})
}
