package json_test

import (
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
