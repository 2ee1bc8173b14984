package pretty

import (
	"fmt"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/host"
)

func TestQuoteLua(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"a\"b\\c\nd\te", `"a\"b\\c\nd\te"`},
		{"\x01\x7f", `"\1\127"`},
		{"bad \xff byte", `"bad \255 byte"`},
		{"é", `"é"`},
	}
	for _, tc := range cases {
		if got := quoteLua(tc.in); got != tc.want {
			t.Errorf("quoteLua(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// BenchmarkPrettyPrint prints a list of 1000 rows (the printer shows the
// first 50 and a count), against fmt.Sprint of those 50 rows as Go values
// (the baseline).
func BenchmarkPrettyPrint(b *testing.B) {
	r := &host.Runner{}
	s, err := r.NewSession(b.Context(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	vals, err := s.Eval(`local rows = {}; for i = 1, 1000 do rows[i] = {id = i, name = "partner " .. i, amount = i * 1.5} end; return rows`)
	if err != nil {
		b.Fatal(err)
	}
	goRows := make([]map[string]any, 1000)
	for i := range goRows {
		goRows[i] = map[string]any{"id": i + 1, "name": fmt.Sprint("partner ", i+1), "amount": float64(i+1) * 1.5}
	}
	b.Run("baseline fmt.Sprint", func(b *testing.B) {
		for b.Loop() {
			_ = fmt.Sprint(goRows[:printItems])
		}
	})
	b.Run("pretty", func(b *testing.B) {
		for b.Loop() {
			_ = Values([]lua.LValue{vals[0]}, s.Tostring)
		}
	})
}
