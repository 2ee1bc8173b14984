// Package luaconv converts between Lua values and plain Go values (the shapes
// encoding/json produces and accepts). Every module uses it, so a script sees
// the same conventions everywhere:
//
//   - nil <-> nil; booleans; strings (Lua strings are bytes, so []byte too);
//   - numbers: Lua has one number type (float64). FromLua returns int64 for a
//     whole number within ±2^53 and float64 otherwise; a number written as text
//     (a table key, a log line) is written as Lua 5.1 writes it (FormatNumber);
//   - a table whose keys are exactly 1..n is an array ([]any); any other table
//     is an object (map[string]any, keys must be strings or numbers); the empty
//     table is an empty object;
//   - time.Time becomes an RFC 3339 string in UTC.
//
// Conversions use type switches, not reflection: rows cross this boundary by
// the hundred thousand.
package luaconv

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// MaxDepth bounds the nesting of tables converted in either direction.
const MaxDepth = 100

// maxExact is the largest integer a float64 holds exactly.
const maxExact = 1 << 53

// ToLua converts a Go value to a Lua value. Unknown types become their
// fmt.Sprint string, so nothing panics on the way into a script.
func ToLua(L *lua.LState, v any) lua.LValue {
	return toLua(L, v, 0)
}

func toLua(L *lua.LState, v any, depth int) lua.LValue {
	if depth > MaxDepth {
		return lua.LNil
	}
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case lua.LValue:
		return x
	case bool:
		return lua.LBool(x)
	case string:
		return lua.LString(x)
	case []byte:
		return lua.LString(x)
	case int:
		return lua.LNumber(x)
	case int8:
		return lua.LNumber(x)
	case int16:
		return lua.LNumber(x)
	case int32:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case uint:
		return lua.LNumber(x)
	case uint8:
		return lua.LNumber(x)
	case uint16:
		return lua.LNumber(x)
	case uint32:
		return lua.LNumber(x)
	case uint64:
		return lua.LNumber(x)
	case float32:
		return lua.LNumber(x)
	case float64:
		return lua.LNumber(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return lua.LString(x)
		}
		return lua.LNumber(f)
	case time.Time:
		return lua.LString(x.UTC().Format(time.RFC3339Nano))
	case []any:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, toLua(L, e, depth+1))
		}
		return t
	case []string:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, lua.LString(e))
		}
		return t
	case []int64:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, lua.LNumber(e))
		}
		return t
	case []int:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, lua.LNumber(e))
		}
		return t
	case []float64:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, lua.LNumber(e))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(x))
		for k, e := range x {
			t.RawSetString(k, toLua(L, e, depth+1))
		}
		return t
	case map[string]string:
		t := L.CreateTable(0, len(x))
		for k, e := range x {
			t.RawSetString(k, lua.LString(e))
		}
		return t
	case fmt.Stringer:
		return lua.LString(x.String())
	default:
		return lua.LString(fmt.Sprint(x))
	}
}

// Error is a value that cannot be converted, with the path to it
// ("result.rows[3].amount").
type Error struct {
	Path   string
	Reason string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// FromLua converts a Lua value to a plain Go value (see the package doc).
// Functions, userdata, threads, cycles, NaN and infinities are errors.
func FromLua(v lua.LValue) (any, error) {
	c := converter{seen: map[*lua.LTable]bool{}}
	return c.from(v, "", 0)
}

// Number converts a Lua number to int64 when it is a whole number within
// ±2^53, and to float64 otherwise.
func Number(n lua.LNumber) any {
	f := float64(n)
	if f == math.Trunc(f) && f >= -maxExact && f <= maxExact {
		return int64(f)
	}
	return f
}

type converter struct {
	seen map[*lua.LTable]bool
}

func (c *converter) from(v lua.LValue, path string, depth int) (any, error) {
	switch x := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(x), nil
	case lua.LString:
		return string(x), nil
	case lua.LNumber:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, &Error{Path: path, Reason: "number " + FormatNumber(f) + " has no JSON form"}
		}
		return Number(x), nil
	case *lua.LTable:
		if depth >= MaxDepth {
			return nil, &Error{Path: path, Reason: fmt.Sprintf("tables nested deeper than %d", MaxDepth)}
		}
		if c.seen[x] {
			return nil, &Error{Path: path, Reason: "table contains itself (a cycle)"}
		}
		c.seen[x] = true
		defer delete(c.seen, x)
		if n, ok := ArrayLen(x); ok && n > 0 {
			out := make([]any, n)
			for i := 1; i <= n; i++ {
				e, err := c.from(x.RawGetInt(i), fmt.Sprintf("%s[%d]", path, i), depth+1)
				if err != nil {
					return nil, err
				}
				out[i-1] = e
			}
			return out, nil
		}
		out := map[string]any{}
		var ferr error
		x.ForEach(func(k, e lua.LValue) {
			if ferr != nil {
				return
			}
			var key string
			switch kk := k.(type) {
			case lua.LString:
				key = string(kk)
			case lua.LNumber:
				key = FormatNumber(float64(kk)) // as tostring writes it
			default:
				ferr = &Error{Path: path, Reason: fmt.Sprintf("table key of type %s cannot be converted", k.Type())}
				return
			}
			sub := key
			if path != "" {
				sub = path + "." + key
			}
			val, err := c.from(e, sub, depth+1)
			if err != nil {
				ferr = err
				return
			}
			out[key] = val
		})
		if ferr != nil {
			return nil, ferr
		}
		return out, nil
	default:
		return nil, &Error{Path: path, Reason: fmt.Sprintf("a %s cannot be converted", v.Type())}
	}
}

// ArrayLen reports whether t's keys are exactly the integers 1..n, and n.
func ArrayLen(t *lua.LTable) (int, bool) {
	n := t.Len()
	count := 0
	ok := true
	t.ForEach(func(k, _ lua.LValue) {
		if !ok {
			return
		}
		count++
		num, isNum := k.(lua.LNumber)
		if !isNum || float64(num) != math.Trunc(float64(num)) || num < 1 || int(num) > n {
			ok = false
		}
	})
	return n, ok && count == n
}
