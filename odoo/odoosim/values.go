package odoosim

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// kind is the type of a field value as the simulator stores it. NULL (an
// empty char, date or many2one) is kNull: Odoo sends it as False.
type kind uint8

const (
	kNull kind = iota
	kBool
	kInt
	kFloat
	kStr
	kIDs
)

// value is one field value of one record. It is a plain struct (no boxing)
// so that reading 100k rows does not allocate per field.
type value struct {
	k   kind
	b   bool
	i   int64
	f   float64
	s   string
	ids []int64
}

func nullV() value           { return value{} }
func boolV(b bool) value     { return value{k: kBool, b: b} }
func intV(i int64) value     { return value{k: kInt, i: i} }
func floatV(f float64) value { return value{k: kFloat, f: f} }
func idsV(ids []int64) value { return value{k: kIDs, ids: ids} }
func m2oV(id int64) value    { return refV(id) }
func refV(id int64) value    { return cond(id == 0, nullV(), intV(id)) }
func strV(s string) value    { return cond(s == "", nullV(), value{k: kStr, s: s}) }
func cond[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}

// num returns the value as a float for numeric comparisons.
func (v value) num() float64 {
	switch v.k {
	case kInt:
		return float64(v.i)
	case kFloat:
		return v.f
	case kBool:
		if v.b {
			return 1
		}
	}
	return 0
}

// text is the value cast to PostgreSQL text (col::text), used by the like
// operators.
func (v value) text() string {
	switch v.k {
	case kStr:
		return v.s
	case kInt:
		return strconv.FormatInt(v.i, 10)
	case kFloat:
		return strconv.FormatFloat(v.f, 'f', -1, 64)
	case kBool:
		if v.b {
			return "true"
		}
		return "false"
	}
	return ""
}

// compareValues orders two non-NULL values of the same column.
func compareValues(a, b value) int {
	switch {
	case a.k == kStr && b.k == kStr:
		return strings.Compare(a.s, b.s)
	case a.k == kBool && b.k == kBool:
		switch {
		case a.b == b.b:
			return 0
		case !a.b:
			return -1
		}
		return 1
	case a.k == kStr || b.k == kStr:
		return strings.Compare(a.text(), b.text())
	}
	x, y := a.num(), b.num()
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// --- Python semantics of request values -------------------------------------
//
// Request values (from XML-RPC or JSON) are Go values: nil (None), bool,
// int64, float64, string, []any and map[string]any.

// truthy is Python's bool(v).
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	case []int64:
		return len(x) > 0
	}
	return true
}

// isFalse reports whether v is Python's False or None (`v is False or v is None`).
func isFalse(v any) bool {
	if v == nil {
		return true
	}
	b, ok := v.(bool)
	return ok && !b
}

// pyEq is Python's == between request values (True == 1, 1 == 1.0).
func pyEq(a, b any) bool {
	an, aok := pyNumber(a)
	bn, bok := pyNumber(b)
	if aok && bok {
		return an == bn
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	}
	return false
}

func pyNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// pyStr is Python's str(v).
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyRepr(v)
}

// pyRepr is Python's repr(v); error messages quote domains and values with it.
func pyRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

// pyTuple is the repr of a tuple, as Odoo prints domain leaves.
func pyTuple(items ...any) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		writeRepr(&b, it)
	}
	if len(items) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

func writeRepr(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		b.WriteString(cond(x, "True", "False"))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		b.Write(appendPyFloat(nil, x))
	case string:
		writeStrRepr(b, x)
	case []any:
		b.WriteByte('[')
		for i, it := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, it)
		}
		b.WriteByte(']')
	case []int64:
		b.WriteByte('[')
		for i, it := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.FormatInt(it, 10))
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeStrRepr(b, k)
			b.WriteString(": ")
			writeRepr(b, x[k])
		}
		b.WriteByte('}')
	default:
		b.WriteString("<object>")
	}
}

func writeStrRepr(b *strings.Builder, s string) {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatInt(int64(r)+0x100, 16)[1:])
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
}

// appendPyFloat appends repr(f) as Python prints it: the shortest digits that
// round-trip, fixed notation with at least one decimal between 1e-4 and
// 1e16, exponent notation with a two-digit exponent outside ("1e-05").
func appendPyFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	a := math.Abs(f)
	if a >= 1e-4 && a < 1e16 {
		if a < 1e15 && f == math.Trunc(f) {
			dst = strconv.AppendInt(dst, int64(f), 10)
			return append(dst, ".0"...)
		}
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
		for _, c := range dst[start:] {
			if c == '.' {
				return dst
			}
		}
		return append(dst, ".0"...)
	}
	return strconv.AppendFloat(dst, f, 'e', -1, 64)
}

// asInt converts a request value to an int64 the way Python's int() does for
// the values a client can send. ok is false for anything else.
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case bool:
		return cond[int64](x, 1, 0), true
	case int64:
		return x, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 9e18 {
			return 0, false
		}
		return int64(x), true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// asIDList reads a list of record ids (or a single id) sent by a client.
func asIDList(v any) ([]int64, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		if !x {
			return nil, nil
		}
	case int64:
		return []int64{x}, nil
	case float64:
		if n, ok := asInt(x); ok && float64(n) == x {
			return []int64{n}, nil
		}
	case []any:
		ids := make([]int64, 0, len(x))
		for _, it := range x {
			switch n := it.(type) {
			case int64:
				ids = append(ids, n)
			case float64:
				if float64(int64(n)) != n {
					return nil, typeErr("expected an integer record id, got %s", pyRepr(it))
				}
				ids = append(ids, int64(n))
			case bool:
				if n {
					return nil, typeErr("expected an integer record id, got True")
				}
			default:
				return nil, typeErr("expected an integer record id, got %s", pyRepr(it))
			}
		}
		return ids, nil
	case []int64:
		return x, nil
	}
	return nil, typeErr("expected a list of record ids, got %s", pyRepr(v))
}
