package pretty_test

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/report/pretty"
)

func ExampleValues() {
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(`v = {b = 1, a = {1, 2, "three"}, ["not ident"] = true, [10] = 5, ["end"] = 0}`); err != nil {
		panic(err)
	}
	fmt.Println(pretty.Values([]lua.LValue{L.GetGlobal("v"), lua.LString("two"), lua.LNil}, nil))
	// Output:
	// {[10] = 5, a = {1, 2, "three"}, b = 1, ["end"] = 0, ["not ident"] = true}	"two"	nil
}
