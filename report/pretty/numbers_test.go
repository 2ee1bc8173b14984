package pretty_test

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/report/pretty"
)

// TestValuesNumbers: the REPL shows numbers, as values and as keys, as Lua
// writes them (1234567.5, never 1.2345675e+06).
func TestValuesNumbers(t *testing.T) {
	t.Parallel()
	L := lua.NewState()
	defer L.Close()
	for _, c := range []struct{ expr, want string }{
		{"1234567.5", "1234567.5"},
		{"20000000.01", "20000000.01"},
		{"2e7", "20000000"},
		{"3.0", "3"},
		{"-0.0", "-0"},
		{"1e15", "1e+15"},
		{"1e100", "1e+100"},
		{"0.1", "0.1"},
		{"1/3", "0.33333333333333"},
		{"2^53", "9.007199254741e+15"},
		{"1/0", "inf"},
		{"-1/0", "-inf"},
		{"0/0", "nan"},
		{"{amount = 1234567.5, [2.5] = 20000000.01, 1e15}", "{1e+15, [2.5] = 20000000.01, amount = 1234567.5}"},
		{"1234567.5, 2^53", "1234567.5\t9.007199254741e+15"},
	} {
		if err := L.DoString("v = {" + c.expr + "}"); err != nil {
			t.Fatal(err)
		}
		var vals []lua.LValue
		v := L.GetGlobal("v").(*lua.LTable)
		for i := 1; i <= v.Len(); i++ {
			vals = append(vals, v.RawGetInt(i))
		}
		if c.expr[0] == '{' {
			vals = vals[:1]
		}
		if got := pretty.Values(vals, nil); got != c.want {
			t.Errorf("%s shows as %q, want %q", c.expr, got, c.want)
		}
	}
}
