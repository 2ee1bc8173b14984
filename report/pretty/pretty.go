// Package pretty renders Lua values for people, as `etlhost repl` shows
// what an input returned: strings quoted as Lua source writes them, tables
// as constructors with their keys in a stable order (the array part, then
// numbers, strings and the rest, sorted; a pg row's columns in the query's
// order), on one line when they fit and indented otherwise. Big values are
// cut: tables nested deeper than 4 show as {…}, a table lists its first 50
// entries and a count of the rest, strings are cut after 200 bytes, and a
// table met again inside itself shows as <cycle>. A value whose metatable
// has __tostring (a connection, an error table) shows as it describes
// itself.
package pretty

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind/luaconv"
)

// Values shows vals separated by tabs, or one per line when one of them
// spans lines. tostring is tostring(v) for a table or userdata, with custom
// true when v has a __tostring metamethod ((*host.Session).Tostring gives
// it, calling the metamethod in the session's state); nil means no value
// describes itself.
func Values(vals []lua.LValue, tostring func(v lua.LValue) (s string, custom bool)) string {
	if tostring == nil {
		tostring = func(lua.LValue) (string, bool) { return "", false }
	}
	p := &printer{tostring: tostring, seen: map[*lua.LTable]bool{}}
	parts := make([]string, len(vals))
	multi := false
	for i, v := range vals {
		parts[i] = p.value(v, "", 0)
		multi = multi || strings.Contains(parts[i], "\n")
	}
	if multi {
		return strings.Join(parts, "\n")
	}
	return strings.Join(parts, "\t")
}

// Limits of the printer: deeper tables show as {…}, longer ones end with
// "… (N more)", longer strings are cut.
const (
	printDepth     = 4
	printItems     = 50
	printString    = 200
	printLineWidth = 100
)

var luaKeywords = map[string]bool{"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true,
	"false": true, "for": true, "function": true, "if": true, "in": true, "local": true, "nil": true, "not": true,
	"or": true, "repeat": true, "return": true, "then": true, "true": true, "until": true, "while": true, "goto": true}

type printer struct {
	tostring func(lua.LValue) (string, bool)
	seen     map[*lua.LTable]bool
}

func (p *printer) value(v lua.LValue, indent string, depth int) string {
	switch x := v.(type) {
	case *lua.LNilType:
		return "nil"
	case lua.LBool:
		return x.String()
	case lua.LNumber:
		return luaconv.NumberString(x) // as Lua writes it: 1234567.5, not 1.2345675e+06
	case lua.LString:
		return quoteLua(string(x))
	case *lua.LFunction:
		return "<function>"
	case *lua.LState:
		return "<thread>"
	case *lua.LUserData:
		if s, custom := p.tostring(x); custom {
			return s
		}
		return "<userdata>"
	case *lua.LTable:
		if s, custom := p.tostring(x); custom {
			return s
		}
		return p.table(x, indent, depth)
	default:
		return "<" + v.Type().String() + ">"
	}
}

type entry struct {
	key  string // "" for the array part
	v    lua.LValue
	sort lua.LValue
}

func (p *printer) table(t *lua.LTable, indent string, depth int) string {
	if p.seen[t] {
		return "<cycle>"
	}
	entries, more := p.entries(t)
	if len(entries) == 0 {
		return "{}"
	}
	if depth >= printDepth {
		return "{…}"
	}
	p.seen[t] = true
	defer delete(p.seen, t)
	inner := indent + "  "
	parts := make([]string, len(entries))
	flat := true
	width := 2
	for i, e := range entries {
		s := p.value(e.v, inner, depth+1)
		if e.key != "" {
			s = e.key + " = " + s
		}
		parts[i] = s
		flat = flat && !strings.Contains(s, "\n")
		width += len(s) + 2
	}
	if more > 0 {
		parts = append(parts, fmt.Sprintf("… (%d more)", more))
	}
	if flat && width+len(indent) <= printLineWidth {
		return "{" + strings.Join(parts, ", ") + "}"
	}
	if flat && short(parts) {
		// Many small values (a list of ids): fill the lines.
		var b strings.Builder
		b.WriteString("{\n" + inner)
		col := len(inner)
		for i, p := range parts {
			if i > 0 {
				if col+2+len(p) > printLineWidth {
					b.WriteString(",\n" + inner)
					col = len(inner)
				} else {
					b.WriteString(", ")
					col += 2
				}
			}
			b.WriteString(p)
			col += len(p)
		}
		return b.String() + "\n" + indent + "}"
	}
	return "{\n" + inner + strings.Join(parts, ",\n"+inner) + "\n" + indent + "}"
}

// short reports whether every part is a small value.
func short(parts []string) bool {
	for _, p := range parts {
		if len(p) > 24 {
			return false
		}
	}
	return true
}

// entries lists a table's contents in a stable order: the array part, then
// the other keys sorted (numbers, then strings, then the rest). A row from
// pg shows its columns by name, in the query's order.
func (p *printer) entries(t *lua.LTable) ([]entry, int) {
	var out []entry
	if mt, ok := t.Metatable.(*lua.LTable); ok {
		if cols, ok := mt.RawGetString("__columns").(*lua.LTable); ok {
			seen := map[string]bool{}
			for i := 1; i <= cols.Len(); i++ {
				name := lua.LVAsString(cols.RawGetInt(i))
				if seen[name] {
					continue
				}
				seen[name] = true
				out = append(out, entry{key: keyString(lua.LString(name)), v: t.RawGetInt(i)})
			}
			return limit(out)
		}
	}
	n := 0
	for ; t.RawGetInt(n+1) != lua.LNil; n++ {
		out = append(out, entry{v: t.RawGetInt(n + 1)})
	}
	var rest []entry
	t.ForEach(func(k, v lua.LValue) {
		if num, ok := k.(lua.LNumber); ok {
			if f := float64(num); f == float64(int64(f)) && f >= 1 && f <= float64(n) {
				return
			}
		}
		rest = append(rest, entry{key: keyString(k), v: v, sort: k})
	})
	sort.SliceStable(rest, func(i, j int) bool { return lessKey(rest[i].sort, rest[j].sort) })
	return limit(append(out, rest...))
}

func limit(es []entry) ([]entry, int) {
	if len(es) > printItems {
		return es[:printItems], len(es) - printItems
	}
	return es, 0
}

func keyString(k lua.LValue) string {
	if s, ok := k.(lua.LString); ok && isIdentifier(string(s)) && !luaKeywords[string(s)] {
		return string(s)
	}
	switch x := k.(type) {
	case lua.LString:
		return "[" + quoteLua(string(x)) + "]"
	case lua.LNumber:
		return "[" + luaconv.NumberString(x) + "]"
	case lua.LBool:
		return "[" + x.String() + "]"
	default:
		return "[<" + k.Type().String() + ">]"
	}
}

// isIdentifier reports whether s is a Lua name (a key written k = v).
func isIdentifier(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func keyRank(k lua.LValue) int {
	switch k.(type) {
	case lua.LNumber:
		return 0
	case lua.LString:
		return 1
	case lua.LBool:
		return 2
	default:
		return 3
	}
}

func lessKey(a, b lua.LValue) bool {
	ra, rb := keyRank(a), keyRank(b)
	if ra != rb {
		return ra < rb
	}
	switch x := a.(type) {
	case lua.LNumber:
		return x < b.(lua.LNumber)
	case lua.LString:
		return x < b.(lua.LString)
	case lua.LBool:
		return !bool(x) && bool(b.(lua.LBool))
	}
	return false
}

// quoteLua quotes a string as Lua source would, cut after printString
// bytes (on a character boundary).
func quoteLua(s string) string {
	cut := ""
	if len(s) > printString {
		n := printString
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		cut = fmt.Sprintf("…(%d bytes)", len(s))
		s = s[:n]
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, `\%d`, s[i])
			i++
			continue
		}
		i += size
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\%d`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String() + cut
}
