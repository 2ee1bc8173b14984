package luaconv

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Numbers as text.
//
// Lua 5.1 writes a number as text with C's printf("%.14g") (LUAI_NUMFFORMAT):
// 1234567.5, 20000000.01, 3, 1e+15, 0.33333333333333. gopher-lua's
// LNumber.String uses fmt.Sprint, which writes 1.2345675e+06 and
// 9007199254740992, so everything in etlhost that turns a number into text
// (`..`, tostring, print, string.format's %s, the string library, log
// fields, the summary, the REPL) goes through FormatNumber instead.

// maxPlainInt bounds the whole numbers %.14g writes without an exponent:
// 14 digits at most (1e14 already has 15 and is written 1e+14).
const maxPlainInt = 1e14

// FormatNumber is f as Lua 5.1 writes it (C's "%.14g"): at most 14
// significant digits, no trailing zeros, an exponent of at least two
// digits when it is below -4 or above 13 ("1e+15", "1e-05"), "-0" for
// negative zero, and "inf", "-inf" and "nan" as glibc writes them (a NaN is
// "nan" whatever its sign bit).
func FormatNumber(f float64) string {
	if f == math.Trunc(f) && f > -maxPlainInt && f < maxPlainInt && (f != 0 || !math.Signbit(f)) {
		return strconv.FormatInt(int64(f), 10)
	}
	var buf [32]byte
	return string(appendFloat(buf[:0], f))
}

// AppendNumber appends FormatNumber(f) to dst.
func AppendNumber(dst []byte, f float64) []byte {
	if f == math.Trunc(f) && f > -maxPlainInt && f < maxPlainInt && (f != 0 || !math.Signbit(f)) {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return appendFloat(dst, f)
}

func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	// strconv's 'g' with a precision is C's %g: the same choice between
	// the two forms (exponent < -4 or >= precision), trailing zeros
	// removed, a signed exponent of two digits at least, ties of exact
	// decimals rounded to even as glibc does.
	return strconv.AppendFloat(dst, f, 'g', 14, 64)
}

// NumberString is FormatNumber of a Lua number.
func NumberString(n lua.LNumber) string { return FormatNumber(float64(n)) }

// ToString is Lua's conversion of a value to a string where a string is
// expected (lua_tolstring): a string is itself, a number is written as
// FormatNumber writes it; ok is false for any other value.
func ToString(v lua.LValue) (s string, ok bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return FormatNumber(float64(x)), true
	}
	return "", false
}

// Tostring is tostring(v) for a host that shows a value: a number as
// FormatNumber writes it, a string as itself, any other value as
// L.ToStringMeta gives it (its __tostring metamethod, or its String).
func Tostring(L *lua.LState, v lua.LValue) string {
	if s, ok := ToString(v); ok {
		return s
	}
	return L.ToStringMeta(v).String()
}

// Sprint is fmt.Sprint of a plain Go value (the shapes FromLua returns: nil,
// bool, string, int64, float64, []any, map[string]any), with numbers
// written as Lua writes them: map[amount:1234567.5 n:3] rather than
// map[amount:1.2345675e+06 n:3]. Other types print as fmt.Sprint prints
// them, but for their float64 and float32 values.
func Sprint(v any) string {
	var b strings.Builder
	sprint(&b, v, 0)
	return b.String()
}

func sprint(b *strings.Builder, v any, depth int) {
	if depth > MaxDepth {
		b.WriteString("…")
		return
	}
	switch x := v.(type) {
	case float64:
		b.WriteString(FormatNumber(x))
	case float32:
		b.WriteString(FormatNumber(float64(x)))
	case lua.LNumber:
		b.WriteString(FormatNumber(float64(x)))
	case string:
		b.WriteString(x)
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(' ')
			}
			sprint(b, e, depth+1)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("map[")
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(k)
			b.WriteByte(':')
			sprint(b, x[k], depth+1)
		}
		b.WriteByte(']')
	default:
		fmt.Fprint(b, x)
	}
}
