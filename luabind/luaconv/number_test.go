package luaconv

import (
	"math"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// numberCases are numbers with the text Lua 5.1 writes for them: C's
// printf("%.14g") as glibc prints it (checked against a C program), and
// "nan" for every NaN. gopher-lua's LNumber.String writes the ones marked
// with a different text.
var numberCases = []struct {
	name string
	f    float64
	want string
}{
	{"amount", 1234567.5, "1234567.5"},            // gopher-lua: 1.2345675e+06
	{"cents", 20000000.01, "20000000.01"},         // 2.000000001e+07
	{"2e7", 2e7, "20000000"},                      //
	{"3.0", 3.0, "3"},                             //
	{"negative zero", math.Copysign(0, -1), "-0"}, // 0
	{"zero", 0, "0"},
	{"1e15", 1e15, "1e+15"}, // 1000000000000000
	{"1e14", 1e14, "1e+14"}, // 100000000000000
	{"14 digits", 99999999999999, "99999999999999"},
	{"15 digits", 123456789012345, "1.2345678901234e+14"}, // a tie: to even
	{"1e100", 1e100, "1e+100"},
	{"0.1", 0.1, "0.1"},
	{"0.1+0.2", 0.1 + 0.2, "0.3"}, // 0.30000000000000004
	{"1/3", 1.0 / 3, "0.33333333333333"},
	{"2^53", 1 << 53, "9.007199254741e+15"}, // 9007199254740992
	{"-amount", -1234567.5, "-1234567.5"},
	{"-2e7", -2e7, "-20000000"},
	{"1e-5", 1e-5, "1e-05"},
	{"0.0001", 0.0001, "0.0001"},
	{"smallest", 5e-324, "4.9406564584125e-324"},
	{"largest", math.MaxFloat64, "1.7976931348623e+308"},
	{"1e21", 1e21, "1e+21"},
	{"inf", math.Inf(1), "inf"},    // +Inf
	{"-inf", math.Inf(-1), "-inf"}, // -Inf
	{"nan", math.NaN(), "nan"},     // NaN
	{"negative nan", math.Copysign(math.NaN(), -1), "nan"},
}

func TestFormatNumber(t *testing.T) {
	for _, c := range numberCases {
		t.Run(c.name, func(t *testing.T) {
			if got := FormatNumber(c.f); got != c.want {
				t.Errorf("FormatNumber(%v) = %q, want %q", c.f, got, c.want)
			}
			if got := string(AppendNumber([]byte("x="), c.f)); got != "x="+c.want {
				t.Errorf("AppendNumber(%v) = %q, want %q", c.f, got, "x="+c.want)
			}
			if got := NumberString(lua.LNumber(c.f)); got != c.want {
				t.Errorf("NumberString(%v) = %q, want %q", c.f, got, c.want)
			}
			if got, ok := ToString(lua.LNumber(c.f)); got != c.want || !ok {
				t.Errorf("ToString(%v) = %q %v, want %q", c.f, got, ok, c.want)
			}
		})
	}
	if s, ok := ToString(lua.LString("1e+06")); s != "1e+06" || !ok {
		t.Errorf("ToString of a string: %q %v", s, ok)
	}
	if s, ok := ToString(lua.LTrue); s != "" || ok {
		t.Errorf("ToString of a boolean: %q %v", s, ok)
	}
}

// cG is C's %.<p>g as the C standard defines it (7.21.6.1), built from
// correctly rounded %e and %f conversions: with X the exponent of %.<p-1>e,
// %f with precision p-1-X when p > X >= -4, %e with precision p-1
// otherwise; then trailing zeros, and a trailing decimal point, go. It is
// the reference FormatNumber is checked against (it shares no code path
// with strconv's 'g').
func cG(f float64, p int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', p-1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	x, err := strconv.Atoi(exp)
	if err != nil {
		panic(e)
	}
	trim := func(s string) string {
		if strings.Contains(s, ".") {
			s = strings.TrimRight(s, "0")
			s = strings.TrimSuffix(s, ".")
		}
		return s
	}
	if p > x && x >= -4 {
		return trim(strconv.FormatFloat(f, 'f', p-1-x, 64))
	}
	sign := "+"
	if x < 0 {
		sign, x = "-", -x
	}
	xs := strconv.Itoa(x)
	if len(xs) < 2 {
		xs = "0" + xs
	}
	return trim(mant) + "e" + sign + xs
}

// The reference agrees with the C outputs of the table, so it can stand
// for C in the fuzz test.
func TestFormatNumberReference(t *testing.T) {
	for _, c := range numberCases {
		if got := cG(c.f, 14); got != c.want {
			t.Errorf("reference %%.14g of %v = %q, want %q", c.f, got, c.want)
		}
	}
}

// FuzzFormatNumber: FormatNumber is C's %.14g for every float64 (a bit
// pattern, so NaNs, infinities, subnormals and both zeros all occur), and
// it reads back as a number within %.14g's rounding.
func FuzzFormatNumber(f *testing.F) {
	for _, c := range numberCases {
		f.Add(math.Float64bits(c.f))
	}
	for _, v := range []float64{12345678901234.5, 0.000123456789012345, 1e-4, 9.99999999999995e-5, 99999999999999.5, 1e13 + 0.5} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		got := FormatNumber(v)
		if want := cG(v, 14); got != want {
			t.Fatalf("FormatNumber(%v) = %q, C's %%.14g writes %q", v, got, want)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		back, err := strconv.ParseFloat(got, 64)
		if err != nil {
			t.Fatalf("FormatNumber(%v) = %q does not read back: %v", v, got, err)
		}
		if v != 0 && math.Abs(back-v) > math.Abs(v)*1e-13 {
			t.Fatalf("FormatNumber(%v) = %q reads back as %v", v, got, back)
		}
	})
}

// Sprint writes plain values as fmt.Sprint does, but for numbers, which it
// writes as Lua does.
func TestSprint(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{1234567.5, "1234567.5"},
		{20000000.01, "20000000.01"},
		{int64(20000000), "20000000"},
		{2e7, "20000000"},
		{float32(0.5), "0.5"},
		{1e100, "1e+100"},
		{math.Inf(-1), "-inf"},
		{nil, "<nil>"},
		{true, "true"},
		{"x 1e+06", "x 1e+06"},
		{[]any{1234567.5, "a", int64(2)}, "[1234567.5 a 2]"},
		{map[string]any{"b": 20000000.01, "a": []any{1.0 / 3}}, "map[a:[0.33333333333333] b:20000000.01]"},
		{lua.LNumber(2e7 + 0.01), "20000000.01"},
		{int(7), "7"},
	} {
		if got := Sprint(c.v); got != c.want {
			t.Errorf("Sprint(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// A number used as a table key becomes the key's text as tostring writes
// it.
func TestFromLuaNumberKeys(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	tb := L.NewTable()
	tb.RawSet(lua.LNumber(1234567.5), lua.LString("a"))
	tb.RawSet(lua.LNumber(0.1+0.2), lua.LString("b"))
	tb.RawSet(lua.LNumber(1e100), lua.LString("c"))
	v, err := FromLua(tb)
	if err != nil {
		t.Fatal(err)
	}
	if got := Sprint(v); got != "map[0.3:b 1234567.5:a 1e+100:c]" {
		t.Errorf("keys: %s", got)
	}
}

func BenchmarkFormatNumber(b *testing.B) {
	for _, c := range []struct {
		name string
		f    float64
	}{{"int", 123456}, {"amount", 1234567.5}, {"third", 1.0 / 3}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = FormatNumber(c.f)
			}
		})
	}
}
