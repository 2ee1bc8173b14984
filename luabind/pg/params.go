package pg

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind/luaconv"
)

// param converts a Lua value bound to $n. pgx then encodes it for the
// parameter's type as the server describes it: nil is NULL; a whole number
// is an int64 (so integer columns accept it; numeric and float too); other
// numbers float64; strings pass as text, which PostgreSQL parses for any
// type (dates, numerics, uuids, timestamps...); a table becomes JSON for a
// json/jsonb parameter or an array for an array parameter.
func param(v lua.LValue, n int) (any, error) {
	switch x := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(x), nil
	case lua.LNumber:
		return luaconv.Number(x), nil
	case lua.LString:
		return string(x), nil
	case *lua.LTable:
		g, err := luaconv.FromLua(x)
		if err != nil {
			return nil, &valueError{msg: fmt.Sprintf("parameter $%d: %v", n, err)}
		}
		return g, nil
	}
	return nil, &valueError{msg: fmt.Sprintf("parameter $%d: a %s cannot be sent to PostgreSQL", n, v.Type())}
}

// params converts the Lua arguments from stack position first on.
func params(L *lua.LState, first int) ([]any, error) {
	top := L.GetTop()
	if top < first {
		return nil, nil
	}
	out := make([]any, 0, top-first+1)
	for i := first; i <= top; i++ {
		p, err := param(L.Get(i), i-first+1)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// tableParams converts a Lua array of parameters (opts.args).
func tableParams(t *lua.LTable) ([]any, error) {
	if t == nil {
		return nil, nil
	}
	n := t.MaxN()
	out := make([]any, n)
	for i := 1; i <= n; i++ {
		p, err := param(t.RawGetInt(i), i)
		if err != nil {
			return nil, err
		}
		out[i-1] = p
	}
	return out, nil
}
