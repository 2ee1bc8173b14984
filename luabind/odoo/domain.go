package odoo

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind/luaconv"
)

// operators are the domain operators Odoo knows (odoo/osv/expression.py).
var operators = map[string]bool{
	"=": true, "!=": true, ">": true, ">=": true, "<": true, "<=": true, "=?": true,
	"like": true, "not like": true, "ilike": true, "not ilike": true, "=like": true, "=ilike": true,
	"in": true, "not in": true, "child_of": true, "parent_of": true, "any": true, "not any": true,
}

// domainError is a malformed domain, with the term that is wrong.
type domainError struct{ msg string }

func (e *domainError) Error() string { return e.msg }

// domainFromLua validates a domain given as a Lua table and converts it to
// the list Odoo expects. nil and {} are the empty domain (every record).
func domainFromLua(v lua.LValue) ([]any, error) {
	return convertDomain(v, "", 0)
}

func convertDomain(v lua.LValue, prefix string, depth int) ([]any, error) {
	if depth > 20 {
		return nil, &domainError{"bad domain: nested deeper than 20 levels"}
	}
	switch x := v.(type) {
	case *lua.LNilType:
		return []any{}, nil
	case *lua.LTable:
		n, ok := luaconv.ArrayLen(x)
		if !ok {
			return nil, &domainError{fmt.Sprintf("bad domain%s: expected a list of terms like {{\"state\", \"=\", \"posted\"}}, got %s", prefix, show(x, 80))}
		}
		out := make([]any, n)
		for i := 1; i <= n; i++ {
			e := x.RawGetInt(i)
			switch t := e.(type) {
			case lua.LString:
				switch string(t) {
				case "&", "|", "!":
					out[i-1] = string(t)
				default:
					return nil, &domainError{fmt.Sprintf("bad domain%s term #%d %s: expected \"&\", \"|\", \"!\" or a {field, operator, value} term", prefix, i, show(e, 80))}
				}
			case *lua.LTable:
				term, err := convertTerm(t, i, prefix, depth)
				if err != nil {
					return nil, err
				}
				out[i-1] = term
			default:
				return nil, &domainError{fmt.Sprintf("bad domain%s term #%d %s: expected \"&\", \"|\", \"!\" or a {field, operator, value} term", prefix, i, show(e, 80))}
			}
		}
		if err := checkArity(out, prefix); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, &domainError{fmt.Sprintf("bad domain%s: expected a table, got %s", prefix, v.Type())}
}

func convertTerm(t *lua.LTable, i int, prefix string, depth int) ([]any, error) {
	bad := func(why string) error {
		return &domainError{fmt.Sprintf("bad domain%s term #%d %s: %s", prefix, i, show(t, 80), why)}
	}
	n, ok := luaconv.ArrayLen(t)
	field, fok := t.RawGetInt(1).(lua.LString)
	op, ook := t.RawGetInt(2).(lua.LString)
	opName := strings.ToLower(string(op))
	if opName == "<>" {
		opName = "!="
	}
	if !ok || n != 3 || !fok || field == "" || !ook || !operators[opName] {
		why := "expected {field, operator, value} with a known operator"
		if ok && n == 2 && fok && ook && operators[opName] {
			why += " (use false, not nil, for an empty value)"
		}
		return nil, bad(why)
	}
	raw := t.RawGetInt(3)
	var value any
	if opName == "any" || opName == "not any" {
		if sub, isTable := raw.(*lua.LTable); isTable {
			d, err := convertDomain(sub, fmt.Sprintf("%s (in term #%d)", prefix, i), depth+1)
			if err != nil {
				return nil, err
			}
			value = d
		} else {
			return nil, bad(fmt.Sprintf("the value of %q must be a domain", opName))
		}
	} else {
		v, err := valueFromLua(raw)
		if err != nil {
			return nil, bad(err.Error())
		}
		value = v
	}
	return []any{string(field), opName, value}, nil
}

// checkArity checks the prefix notation: each "&"/"|" needs two expressions
// after it, each "!" one.
func checkArity(d []any, prefix string) error {
	count := 0
	for i := len(d) - 1; i >= 0; i-- {
		switch d[i] {
		case "&", "|":
			if count < 2 {
				return &domainError{fmt.Sprintf("bad domain%s: %q at #%d needs two terms after it", prefix, d[i], i+1)}
			}
			count--
		case "!":
			if count < 1 {
				return &domainError{fmt.Sprintf("bad domain%s: \"!\" at #%d needs a term after it", prefix, i+1)}
			}
		default:
			count++
		}
	}
	return nil
}

// valueFromLua converts a Lua value sent to Odoo (a domain value, a field
// value, an argument). An empty table is an empty list, since Lua cannot
// tell {} from an empty object and Odoo wants lists far more often.
func valueFromLua(v lua.LValue) (any, error) {
	if t, ok := v.(*lua.LTable); ok && t.Len() == 0 {
		empty := true
		t.ForEach(func(lua.LValue, lua.LValue) { empty = false })
		if empty {
			return []any{}, nil
		}
	}
	g, err := luaconv.FromLua(v)
	if err != nil {
		return nil, err
	}
	return emptyAsList(g, "", 0), nil
}

// emptyAsList turns empty objects nested in a converted value into empty
// lists, except under a "context" key.
func emptyAsList(v any, key string, depth int) any {
	if depth > luaconv.MaxDepth {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 && key != "context" {
			return []any{}
		}
		for k, e := range x {
			x[k] = emptyAsList(e, k, depth+1)
		}
	case []any:
		for i, e := range x {
			x[i] = emptyAsList(e, "", depth+1)
		}
	}
	return v
}

// valsFromLua converts the values of a create or write: a table keyed by
// field name. Each value follows valueFromLua.
func valsFromLua(v lua.LValue) (map[string]any, error) {
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("values must be a table keyed by field name, got %s", v.Type())
	}
	out := map[string]any{}
	var ferr error
	t.ForEach(func(k, e lua.LValue) {
		if ferr != nil {
			return
		}
		name, isStr := k.(lua.LString)
		if !isStr {
			ferr = fmt.Errorf("values must be keyed by field name, found key %s", show(k, 40))
			return
		}
		val, err := valueFromLua(e)
		if err != nil {
			ferr = fmt.Errorf("field %s: %v", name, err)
			return
		}
		out[string(name)] = val
	})
	return out, ferr
}

// show renders a Lua value in Lua syntax for error messages, clipped to max
// bytes.
func show(v lua.LValue, max int) string {
	var b strings.Builder
	render(&b, v, 0)
	s := b.String()
	if len(s) > max {
		s = s[:max] + "...}"
	}
	return s
}

func render(b *strings.Builder, v lua.LValue, depth int) {
	switch x := v.(type) {
	case lua.LString:
		b.WriteString(strconv.Quote(string(x)))
	case lua.LNumber:
		f := float64(x)
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			b.WriteString(strconv.FormatInt(int64(f), 10))
		} else {
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
	case lua.LBool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case *lua.LNilType:
		b.WriteString("nil")
	case *lua.LTable:
		if depth > 3 || b.Len() > 200 {
			b.WriteString("{...}")
			return
		}
		b.WriteString("{")
		first := true
		n := x.Len()
		for i := 1; i <= n; i++ {
			if !first {
				b.WriteString(", ")
			}
			first = false
			render(b, x.RawGetInt(i), depth+1)
		}
		x.ForEach(func(k, e lua.LValue) {
			if num, ok := k.(lua.LNumber); ok && float64(num) == math.Trunc(float64(num)) && num >= 1 && int(num) <= n {
				return
			}
			if !first {
				b.WriteString(", ")
			}
			first = false
			if s, ok := k.(lua.LString); ok {
				b.WriteString(string(s))
			} else {
				b.WriteString("[")
				render(b, k, depth+1)
				b.WriteString("]")
			}
			b.WriteString(" = ")
			render(b, e, depth+1)
		})
		b.WriteString("}")
	default:
		b.WriteString(v.Type().String())
	}
}
