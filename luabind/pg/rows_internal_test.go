package pg

import (
	"math"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

// FuzzDecodeNumeric checks the direct binary numeric decoder against pgx's
// own (through big.Int) on numbers given as text.
func FuzzDecodeNumeric(f *testing.F) {
	for _, s := range []string{"0", "-0.5", "12.34", "123456789.123456789", "-0.0001", "1e20", "99999999999999.99",
		"0.000000000000000000001", "NaN", "Infinity", "-Infinity", "10000", "-12345678901234567890.0987654321"} {
		f.Add(s)
	}
	m := pgtype.NewMap()
	f.Fuzz(func(t *testing.T, s string) {
		var n pgtype.Numeric
		if err := n.Scan(s); err != nil || !n.Valid {
			return
		}
		bin, err := m.Encode(pgtype.NumericOID, pgtype.BinaryFormatCode, n, nil)
		if err != nil {
			return
		}
		want, err := n.Float64Value()
		if err != nil {
			return
		}
		got, err := decodeNumeric(bin)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if got != want.Float64 && !(math.IsNaN(got) && math.IsNaN(want.Float64)) {
			t.Fatalf("%q: got %v, pgx says %v", s, got, want.Float64)
		}
	})
}

// FuzzParseDate checks the fast date parser against time.Parse.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-01-31", "2024-02-30", "1999-12-31", "0001-01-01", "9999-12-31", "2024-1-31", "infinity"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		days, ok := parseDate(s)
		if s == "infinity" || s == "-infinity" {
			return
		}
		if ok {
			if got := formatDate(days); got != s {
				t.Fatalf("%q read as %d days, which is %q", s, days, got)
			}
		}
	})
}
