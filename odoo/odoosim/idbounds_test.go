package odoosim

import (
	"math"
	"slices"
	"testing"
)

func TestIDBounds(t *testing.T) {
	t.Parallel()
	all := [2]int64{1, math.MaxInt64}
	for _, tc := range []struct {
		name   string
		domain []any
		want   [2]int64
		ids    []int64 // nil: no list
	}{
		{"none", []any{}, all, nil},
		{"other fields", []any{[]any{"state", "=", "posted"}}, all, nil},
		{"greater", []any{[]any{"id", ">", int64(10)}}, [2]int64{11, math.MaxInt64}, nil},
		{"range", []any{[]any{"id", ">=", int64(10)}, []any{"id", "<=", int64(20)}}, [2]int64{10, 21}, nil},
		{"less", []any{[]any{"id", "<", int64(5)}}, [2]int64{1, 5}, nil},
		{"equal", []any{[]any{"id", "=", int64(7)}}, [2]int64{7, 8}, nil},
		{"in", []any{[]any{"state", "=", "posted"}, []any{"id", "in", []any{int64(30), int64(4), int64(12), int64(4)}}},
			[2]int64{4, 31}, []int64{4, 12, 30}},
		{"in and greater", []any{[]any{"id", "in", []any{int64(30), int64(4)}}, []any{"id", ">", int64(9)}},
			[2]int64{10, 31}, []int64{4, 30}},
		{"two ins", []any{[]any{"id", "in", []any{int64(3), int64(5), int64(8)}}, []any{"id", "in", []any{int64(8), int64(2), int64(3)}}},
			[2]int64{3, 9}, []int64{3, 8}},
		{"empty in", []any{[]any{"id", "in", []any{}}}, all, nil},
		{"in with False", []any{[]any{"id", "in", []any{int64(3), false}}}, all, nil},
		{"not in", []any{[]any{"id", "not in", []any{int64(3)}}}, all, nil},
		{"or", []any{"|", []any{"id", "=", int64(3)}, []any{"id", "=", int64(9)}}, all, nil},
		{"or with in", []any{"|", []any{"id", "in", []any{int64(3)}}, []any{"state", "=", "draft"}}, all, nil},
		{"huge", []any{[]any{"id", "<=", int64(math.MaxInt64)}}, all, nil},
	} {
		lb, ub, ids := idBounds(tc.domain)
		if got := [2]int64{lb, ub}; got != tc.want {
			t.Errorf("%s: idBounds = %v, want %v", tc.name, got, tc.want)
		}
		if !slices.Equal(ids, tc.ids) || (ids == nil) != (tc.ids == nil) {
			t.Errorf("%s: ids = %v, want %v", tc.name, ids, tc.ids)
		}
	}
}

// TestSearchByIDChunk: a search with ('id', 'in', ids) finds exactly the
// matching records among those ids, as a scan of the whole table does.
func TestSearchByIDChunk(t *testing.T) {
	t.Parallel()
	s := NewHandler(Options{Moves: 300, Seed: 4})
	x := s.db
	users := DefaultUsers()
	e, err := s.newEnv(&users[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &compiler{d: x, e: e}
	m := x.models["account.move"]
	base := []any{[]any{"state", "=", "posted"}}
	full, err := x.searchRecs(c, m, base, searchOpts{order: []orderTerm{{f: m.field("id")}}})
	if err != nil {
		t.Fatal(err)
	}
	ids := []any{int64(250), int64(3), int64(77), int64(78), int64(140)}
	want := map[int64]bool{}
	for _, r := range full {
		for _, id := range ids {
			if m.idOf(r) == id.(int64) {
				want[id.(int64)] = true
			}
		}
	}
	got, err := x.searchRecs(c, m, append(base, []any{"id", "in", ids}), searchOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("got %d records, want %d (and some)", len(got), len(want))
	}
	for _, r := range got {
		if !want[m.idOf(r)] {
			t.Errorf("unexpected record %d", m.idOf(r))
		}
	}
}
