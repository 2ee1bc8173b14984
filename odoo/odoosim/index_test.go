package odoosim

import (
	"strings"
	"testing"
)

// TestIndexesNarrowSearches: a search whose top-level terms compare an
// indexed field examines only the records those terms let through, as an
// index scan would: Odoo's own index on account.move.line's move_id always,
// one on write_date only when the database has it (Options.Indexes).
func TestIndexesNarrowSearches(t *testing.T) {
	t.Parallel()
	fx := fixture(t)
	var lines12 int64
	for _, l := range fx.MoveLines {
		if l.MoveID == 1 || l.MoveID == 2 {
			lines12++
		}
	}
	const since = "2024-03-20 00:00:00"
	var recent int64
	for _, m := range fx.Moves {
		if m.WriteDate >= since {
			recent++
		}
	}
	if lines12 == 0 || recent == 0 || recent == int64(len(fx.Moves)) {
		t.Fatalf("the fixture does not test this: %d lines, %d recent of %d moves", lines12, recent, len(fx.Moves))
	}
	byWriteDate := []any{D(L("write_date", ">=", since))}
	for _, tc := range []struct {
		name     string
		indexes  []string
		model    string
		args     []any
		examined int64
	}{
		{"the lines of some moves", nil, "account.move.line", []any{D(L("move_id", "in", []any{int64(1), int64(2)}))}, lines12},
		{"with another term", nil, "account.move.line", []any{D(L("move_id", "=", int64(1)), L("display_type", "=", "payment_term"))}, lines12 - countLines(fx, 2)},
		{"under an OR: no index", nil, "account.move.line", []any{D("|", L("move_id", "=", int64(1)), L("move_id", "=", int64(2)))}, int64(len(fx.MoveLines))},
		{"write_date is not indexed in Odoo", nil, "account.move", byWriteDate, int64(len(fx.Moves))},
		{"an index on write_date", []string{"account.move.write_date"}, "account.move", byWriteDate, recent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newFixtureServer(t, Options{Indexes: tc.indexes})
			if _, err := admin(t, s).call(tc.model, "search", tc.args, nil); err != nil {
				t.Fatal(err)
			}
			if got := s.Sim().Stats().Examined; got != tc.examined {
				t.Errorf("examined %d, want %d", got, tc.examined)
			}
		})
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), `index "account.move.nope": account.move has no stored field nope`) {
			t.Errorf("a bad index: %v", p)
		}
	}()
	NewHandler(Options{Data: fx, Indexes: []string{"account.move.nope"}})
}

func countLines(d *Data, move int64) int64 {
	var n int64
	for _, l := range d.MoveLines {
		if l.MoveID == move {
			n++
		}
	}
	return n
}
