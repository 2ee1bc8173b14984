package json_test

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind/json"
	"github.com/etlhost/etlhost/luabind/luatest"
)

func TestLuaSpecs(t *testing.T) {
	t.Parallel()
	luatest.RunFiles(t, "testdata/test_*.lua", func(t *testing.T) *luatest.State {
		return luatest.New(t, luatest.Options{}, json.Module{})
	})
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []string{`{"a":[1,2,3],"b":"x"}`, `[true,false,"s"]`, `"plain"`, `{"nested":{"k":[{"x":1}]}}`}
	for _, in := range cases {
		s := luatest.New(t, luatest.Options{}, json.Module{})
		s.L.SetGlobal("input", lua.LString(in))
		v, err := s.Exec("rt.lua", `local json = require("json") return json.encode(json.decode(input))`)
		if err != nil {
			t.Fatal(err)
		}
		if v.String() != in {
			t.Errorf("round trip of %s gave %s", in, v.String())
		}
	}
}

// TestEncodeNumbers: json.encode writes whole numbers without a fraction
// or an exponent (2e7 is 20000000, not 2e+07), other numbers in the
// shortest form that reads back exactly, and a number used as a key as
// tostring writes it.
func TestEncodeNumbers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ expr, want string }{
		{"1234567.5", "[1234567.5]"},
		{"20000000.01", "[20000000.01]"},
		{"2e7", "[20000000]"},
		{"3.0", "[3]"},
		{"-0.0", "[0]"},
		{"1e15", "[1000000000000000]"},
		{"2^53", "[9007199254740992]"},
		{"1e100", "[1e+100]"},
		{"0.1", "[0.1]"},
		{"1/3", "[0.3333333333333333]"},
		{"-1234567.5", "[-1234567.5]"},
		{"{amount = 1234567.5, n = 2e7}", `[{"amount":1234567.5,"n":20000000}]`},
		{"{[1234567.5] = 'a', [0.1 + 0.2] = 'b', [1e100] = 'c', [1e15] = 'd', [1.5] = 'e'}", `[{"0.3":"b","1.5":"e","1234567.5":"a","1e+100":"c","1e+15":"d"}]`},
	} {
		s := luatest.New(t, luatest.Options{}, json.Module{})
		v, err := s.Exec("enc.lua", `return require("json").encode({`+c.expr+`})`)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		if v.String() != c.want {
			t.Errorf("json.encode({%s}) = %s, want %s", c.expr, v.String(), c.want)
		}
	}
	for _, expr := range []string{"1/0", "-1/0", "0/0"} {
		s := luatest.New(t, luatest.Options{}, json.Module{})
		_, err := s.Exec("enc.lua", `return require("json").encode({x = `+expr+`})`)
		want := map[string]string{"1/0": "x: number inf has no JSON form", "-1/0": "x: number -inf has no JSON form", "0/0": "x: number nan has no JSON form"}[expr]
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("json.encode({x = %s}): %v, want an error with %q", expr, err, want)
		}
	}
}
