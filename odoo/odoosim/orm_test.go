package odoosim

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	o := admin(t, s)
	// Missing ids are dropped silently; the order of the ids is kept.
	r := rows(t, o.must("account.move", "read", []any{[]any{4, 999, 1}, []any{"name"}}, nil))
	if len(r) != 2 || r[0]["id"] != int64(4) || r[1]["id"] != int64(1) {
		t.Errorf("read [4, 999, 1] = %v", r)
	}
	// A single id is accepted too.
	r = rows(t, o.must("account.move", "read", []any{int64(1), []any{"name"}}, nil))
	if len(r) != 1 || r[0]["name"] != "BILL/2024/00001" {
		t.Errorf("read 1 = %v", r)
	}
	// Without fields, every field; id comes first and once.
	r = rows(t, o.must("account.move", "read", []any{[]any{1}}, nil))
	fg := o.must("account.move", "fields_get", []any{}, map[string]any{"attributes": []any{"type"}}).(map[string]any)
	if len(r[0]) != len(fg) {
		t.Errorf("read without fields: %d fields, fields_get has %d", len(r[0]), len(fg))
	}
	for _, f := range []string{"id", "name", "amount_residual_signed", "line_ids", "display_name", "create_date"} {
		if _, ok := r[0][f]; !ok {
			t.Errorf("read without fields lacks %s", f)
		}
	}
	// An empty fields list also means all fields; duplicates are merged.
	r = rows(t, o.must("res.country", "read", []any{[]any{1}, []any{}}, nil))
	if len(r[0]) < 6 {
		t.Errorf("fields=[]: %v", r[0])
	}
	r = rows(t, o.must("res.country", "read", []any{[]any{1}, []any{"code", "id", "code"}}, nil))
	if !reflect.DeepEqual(r[0], map[string]any{"id": int64(1), "code": "MA"}) {
		t.Errorf("duplicate fields: %v", r[0])
	}
	// exists
	if got := o.must("account.move", "exists", []any{[]any{1, 999}}, nil); !reflect.DeepEqual(got, []any{int64(1)}) {
		t.Errorf("exists = %v", got)
	}
}

func TestOrderAndPaging(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	o := admin(t, s)
	cases := []struct {
		order string
		want  []int64
	}{
		// account.move's _order: date desc, name desc, invoice_date desc, id desc
		{"", []int64{12, 11, 10, 5, 4, 3, 9, 2, 8, 7, 6, 1}},
		{"name, id", []int64{5, 1, 12, 2, 3, 4, 6, 11, 7, 8, 10, 9}},
		{"name desc, id desc", []int64{9, 10, 8, 7, 11, 6, 4, 3, 2, 12, 1, 5}},
		{"invoice_date desc, id", []int64{5, 10, 12, 11, 4, 3, 9, 2, 8, 7, 6, 1}},
		{"invoice_date asc nulls first, id desc", []int64{10, 5, 1, 6, 7, 8, 2, 9, 3, 4, 11, 12}},
		{"id desc", ids(1, 12)},
		{"amount_total desc, id", []int64{12, 2, 11, 1, 10, 3, 4, 6, 7, 8, 5, 9}},
		// A many2one sorts by its comodel's order (res.partner: complete_name, id desc); NULL last.
		{"partner_id, id", []int64{12, 1, 11, 9, 5, 2, 8, 3, 4, 7, 6, 10}},
		{"partner_id.id desc, id", []int64{10, 12, 9, 6, 3, 4, 5, 2, 8, 7, 1, 11}},
	}
	for _, tc := range cases {
		got := o.search("account.move", D(), map[string]any{"order": tc.order})
		want := tc.want
		if tc.order == "id desc" {
			want = slices.Clone(want)
			slices.Reverse(want)
		}
		if !slices.Equal(got, want) {
			t.Errorf("order %q:\n got  %v\n want %v", tc.order, got, want)
		}
	}
	// offset and limit; limit 0 or False means no limit.
	got := o.search("account.move", D(), map[string]any{"order": "id", "offset": 3, "limit": 4})
	if !slices.Equal(got, []int64{4, 5, 6, 7}) {
		t.Errorf("offset 3 limit 4: %v", got)
	}
	for _, lim := range []any{0, false} {
		if got := o.search("account.move", D(), map[string]any{"order": "id", "limit": lim}); len(got) != 12 {
			t.Errorf("limit %v: %d rows", lim, len(got))
		}
	}
	if got := o.search("account.move", D(), map[string]any{"order": "id", "offset": 20}); len(got) != 0 {
		t.Errorf("offset past the end: %v", got)
	}
	if n := o.must("account.move", "search_count", []any{D()}, map[string]any{"limit": 5}); n != int64(5) {
		t.Errorf("search_count limit 5 = %v", n)
	}
}

// TestPagingByID pages a generated data set the way the client should:
// domain + [('id', '>', last)], order id, explicit limit.
func TestPagingByID(t *testing.T) {
	t.Parallel()
	s := NewServer(Options{Moves: 800, Seed: 4})
	t.Cleanup(s.Close)
	o := admin(t, s)
	dom := D(L("state", "=", "posted"))
	all := o.search("account.move", dom, nil)
	var paged []int64
	last := int64(0)
	for {
		page := rows(t, o.must("account.move", "search_read",
			[]any{append(slices.Clone(dom), L("id", ">", last))},
			map[string]any{"fields": []any{"name"}, "order": "id", "limit": 97}))
		for _, r := range page {
			paged = append(paged, r["id"].(int64))
		}
		if len(page) < 97 {
			break
		}
		last = page[len(page)-1]["id"].(int64)
	}
	if !slices.Equal(paged, all) || len(all) < 500 {
		t.Errorf("paged %d ids, search gave %d", len(paged), len(all))
	}
}

func TestFieldsGet(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	o := admin(t, s)
	fg := o.must("account.move", "fields_get", []any{}, map[string]any{"attributes": []any{"type", "string", "relation"}}).(map[string]any)
	want := map[string]map[string]any{
		"partner_id":       {"type": "many2one", "string": "Partner", "relation": "res.partner"},
		"amount_total":     {"type": "monetary", "string": "Total"},
		"invoice_date":     {"type": "date", "string": "Invoice/Bill Date"},
		"write_date":       {"type": "datetime", "string": "Last Updated on"},
		"line_ids":         {"type": "one2many", "string": "Journal Items", "relation": "account.move.line"},
		"state":            {"type": "selection", "string": "Status"},
		"posted_before":    {"type": "boolean", "string": "Posted Before"},
		"name":             {"type": "char", "string": "Number"},
		"id":               {"type": "integer", "string": "ID"},
		"invoice_date_due": {"type": "date", "string": "Due Date"},
	}
	for name, w := range want {
		if !reflect.DeepEqual(fg[name], any(w)) {
			t.Errorf("%s: %v, want %v", name, fg[name], w)
		}
	}
	// allfields filters; without attributes every attribute comes.
	fg = o.must("account.move", "fields_get", []any{[]any{"state", "nope"}}, nil).(map[string]any)
	if len(fg) != 1 {
		t.Errorf("allfields: %v", fg)
	}
	st := fg["state"].(map[string]any)
	if st["required"] != true || st["store"] != true || len(st["selection"].([]any)) != 3 {
		t.Errorf("state description: %v", st)
	}
	fg = o.must("res.partner", "fields_get", []any{}, map[string]any{"attributes": []any{"type"}}).(map[string]any)
	if fg["customer_rank"].(map[string]any)["type"] != "integer" || fg["active"].(map[string]any)["type"] != "boolean" {
		t.Errorf("partner types: %v %v", fg["customer_rank"], fg["active"])
	}
}

func TestNameSearchAndDefaults(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	o := admin(t, s)
	got := o.must("res.partner", "name_search", []any{"papeterie"}, nil)
	want := []any{[]any{int64(5), "Paris Papeterie"}, []any{int64(9), "Paris Papeterie, Jean Dupont"},
		[]any{int64(11), "Paris Papeterie, Marie Curie"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("name_search papeterie = %v", got)
	}
	got = o.must("res.partner", "name_search", []any{"papeterie"},
		map[string]any{"args": D(L("is_company", "=", true)), "limit": 5})
	if !reflect.DeepEqual(got, want[:1]) {
		t.Errorf("name_search with args = %v", got)
	}
	got = o.must("res.partner", "name_search", []any{"MA123"}, nil) // by VAT
	if !reflect.DeepEqual(got, []any{[]any{int64(4), "Agadir Agro"}}) {
		t.Errorf("name_search by vat = %v", got)
	}
	got = o.must("account.account", "name_search", []any{"4411"}, map[string]any{"operator": "=ilike"})
	if len(got.([]any)) != 0 {
		t.Errorf("=ilike without wildcard: %v", got)
	}
	got = o.must("res.country", "name_search", []any{""}, map[string]any{"limit": 2})
	if len(got.([]any)) != 2 {
		t.Errorf("empty name with limit: %v", got)
	}
	def := o.must("account.move", "default_get", []any{[]any{"move_type", "state", "company_id", "currency_id", "nope"}}, nil)
	wantDef := map[string]any{"move_type": "entry", "state": "draft", "company_id": int64(1), "currency_id": int64(3)}
	if !reflect.DeepEqual(def, wantDef) {
		t.Errorf("default_get = %v", def)
	}
}

func TestCreateWriteUnlink(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := newFixtureServer(t, Options{Now: clock})
	o := admin(t, s)

	id := o.must("res.partner", "create", []any{map[string]any{"name": "Nouveau SARL", "is_company": true, "country_id": 1}}, nil)
	if id != int64(13) {
		t.Fatalf("create = %v, want 13", id)
	}
	r := rows(t, o.must("res.partner", "read", []any{[]any{13}, []any{"name", "active", "country_id", "write_date", "create_date", "type"}}, nil))[0]
	want := map[string]any{"id": int64(13), "name": "Nouveau SARL", "active": true, "country_id": []any{int64(1), "Morocco"},
		"write_date": "2026-02-03 04:05:06", "create_date": "2026-02-03 04:05:06", "type": "contact"}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("created partner:\n got  %v\n want %v", r, want)
	}
	// create with a list returns a list.
	got := o.must("res.partner", "create", []any{[]any{map[string]any{"name": "A"}, map[string]any{"name": "B", "parent_id": 13}}}, nil)
	if !reflect.DeepEqual(got, []any{int64(14), int64(15)}) {
		t.Errorf("create list = %v", got)
	}
	// write updates write_date and the display names that depend on it.
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	if v := o.must("res.partner", "write", []any{[]any{13}, map[string]any{"name": "Renamed SARL", "email": false}}, nil); v != true {
		t.Errorf("write = %v", v)
	}
	r = rows(t, o.must("res.partner", "read", []any{[]any{13, 15}, []any{"display_name", "write_date"}}, nil))[0]
	if r["display_name"] != "Renamed SARL" || r["write_date"] != "2026-02-03 05:05:06" {
		t.Errorf("after write: %v", r)
	}
	r = rows(t, o.must("res.partner", "read", []any{[]any{15}, []any{"display_name"}}, nil))[0]
	if r["display_name"] != "Renamed SARL, B" {
		t.Errorf("contact's display name after the parent's rename: %v", r["display_name"])
	}
	// complete_name: the commercial company if there is one, else the parent.
	ids := o.must("res.partner", "create", []any{[]any{
		map[string]any{"name": "Solo"},
		map[string]any{"name": "", "type": "invoice", "parent_id": 5},
	}}, nil)
	kid := o.must("res.partner", "create", []any{map[string]any{"name": "Kid", "parent_id": ids.([]any)[0]}}, nil)
	r2 := rows(t, o.must("res.partner", "read", []any{[]any{kid, ids.([]any)[1]}, []any{"display_name"}}, nil))
	if r2[0]["display_name"] != "Solo, Kid" || r2[1]["display_name"] != "Paris Papeterie, Invoice Address" {
		t.Errorf("complete names: %v", r2)
	}
	// Archiving hides it from search; active_test False finds it.
	o.must("res.partner", "write", []any{[]any{14}, map[string]any{"active": false}}, nil)
	if got := o.search("res.partner", D(L("name", "=", "A")), nil); len(got) != 0 {
		t.Errorf("archived partner found: %v", got)
	}
	if got := o.search("res.partner", D(L("name", "=", "A")), map[string]any{"context": map[string]any{"active_test": false}}); !slices.Equal(got, []int64{14}) {
		t.Errorf("archived partner with active_test False: %v", got)
	}

	faults := []struct {
		name   string
		model  string
		method string
		args   []any
		code   int
		want   string
	}{
		{"unknown field", "res.partner", "write", []any{[]any{13}, map[string]any{"foo": 1}}, 1,
			"ValueError: Invalid field 'foo' on model 'res.partner'"},
		{"unknown field on create", "res.partner", "create", []any{map[string]any{"name": "x", "foo": 1}}, 1,
			"ValueError: Invalid field 'foo' on model 'res.partner'"},
		{"bad selection", "account.move", "write", []any{[]any{5}, map[string]any{"state": "bogus"}}, 1,
			"ValueError: Wrong value for account.move.state: 'bogus'"},
		{"bad date", "account.move", "write", []any{[]any{5}, map[string]any{"invoice_date": "31/12/2024"}}, 1,
			"ValueError: time data '31/12/2024' does not match format '%Y-%m-%d'"},
		{"missing many2one target", "account.move", "write", []any{[]any{5}, map[string]any{"partner_id": 999}}, 2,
			"Constraint: account_move_partner_id_fkey"},
		{"mandatory field", "account.journal", "create", []any{map[string]any{"name": "X", "type": "bank"}}, 2,
			"Field: Short Code (code)"},
		{"journal of a posted move", "account.move", "write", []any{[]any{1}, map[string]any{"journal_id": 5}}, 2,
			"You cannot edit the journal of an account move if it has been posted once."},
		{"delete a referenced partner", "res.partner", "unlink", []any{[]any{4}}, 2,
			"Constraint: account_move_partner_id_fkey"},
		{"delete a line of a posted move", "account.move.line", "unlink", []any{[]any{1}}, 2,
			"You cannot delete an item linked to a posted entry."},
		{"write one2many", "account.move", "write", []any{[]any{5}, map[string]any{"line_ids": []any{}}}, 1,
			"NotImplementedError: writing one2many fields (account.move.line_ids) is not supported by the Odoo simulator"},
	}
	for _, tc := range faults {
		f := o.fault(tc.model, tc.method, tc.args, nil)
		if f.Code != tc.code || !strings.Contains(f.String, tc.want) {
			t.Errorf("%s: fault %d %q, want %d containing %q", tc.name, f.Code, lastLine(f.String), tc.code, tc.want)
		}
	}

	// Lines follow their move: a new line shows in line_ids, with the
	// move's related values.
	lineID := o.must("account.move.line", "create", []any{map[string]any{"move_id": 5, "name": "Extra",
		"account_id": 4, "debit": 50}}, nil)
	r = rows(t, o.must("account.move.line", "read", []any{[]any{lineID}, []any{"move_name", "parent_state", "company_id",
		"balance", "currency_id", "date"}}, nil))[0]
	if r["move_name"] != "/" || r["parent_state"] != "draft" || r["balance"] != 50.0 ||
		!reflect.DeepEqual(r["company_id"], []any{int64(1), "Atlas SARL"}) || r["date"] != "2024-03-10" {
		t.Errorf("new line: %v", r)
	}
	m := rows(t, o.must("account.move", "read", []any{[]any{5}, []any{"line_ids"}}, nil))[0]
	if !reflect.DeepEqual(m["line_ids"], []any{lineID}) {
		t.Errorf("line_ids after create: %v", m["line_ids"])
	}
	// Renaming the move renames its lines' move_name.
	o.must("account.move", "write", []any{[]any{5}, map[string]any{"name": "BILL/2024/00099"}}, nil)
	r = rows(t, o.must("account.move.line", "read", []any{[]any{lineID}, []any{"move_name"}}, nil))[0]
	if r["move_name"] != "BILL/2024/00099" {
		t.Errorf("line move_name after rename: %v", r["move_name"])
	}
	// Unlink a draft move: its lines go with it; unlinking again is a no-op.
	if v := o.must("account.move", "unlink", []any{[]any{5}}, nil); v != true {
		t.Errorf("unlink = %v", v)
	}
	if got := o.search("account.move.line", D(L("id", "=", lineID)), nil); len(got) != 0 {
		t.Errorf("line of a deleted move still there")
	}
	if v := o.must("account.move", "unlink", []any{[]any{5}}, nil); v != true {
		t.Errorf("second unlink = %v", v)
	}
	// Deleting a contact's parent empties the contact's parent (set null).
	o.must("res.partner", "unlink", []any{[]any{13}}, nil)
	r = rows(t, o.must("res.partner", "read", []any{[]any{15}, []any{"parent_id", "display_name"}}, nil))[0]
	if r["parent_id"] != false || r["display_name"] != "B" {
		t.Errorf("contact after its parent's deletion: %v", r)
	}
	// Snapshot sees the writes.
	snap := s.Sim().Snapshot()
	if snap.Move(5) != nil || snap.Partner(13) != nil || snap.Partner(15).ParentID != 0 {
		t.Errorf("snapshot does not reflect the writes")
	}
}

func TestAllowedCompanies(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	o := admin(t, s)
	ctx := func(ids ...any) map[string]any {
		return map[string]any{"context": map[string]any{"allowed_company_ids": ids}}
	}
	if got := o.search("account.move", D(), ctx(2)); !slices.Equal(got, []int64{6, 7, 8, 9, 12}) {
		t.Errorf("company 2: %v", got)
	}
	if got := o.search("account.move", D(), ctx(1, 3)); !slices.Equal(got, []int64{1, 2, 3, 4, 5, 10, 11}) {
		t.Errorf("companies 1, 3: %v", got)
	}
	if got := o.search("res.company", D(), ctx(1, 3)); !slices.Equal(got, []int64{1, 3}) {
		t.Errorf("res.company: %v", got)
	}
	// Partners of no company are shared; partner 10 belongs to company 2.
	if got := o.search("res.partner", D(L("id", "in", []any{4, 10})), ctx(1)); !slices.Equal(got, []int64{4}) {
		t.Errorf("partners for company 1: %v", got)
	}
	// Without the key, every company of the user.
	if got := o.search("account.move", D(), nil); len(got) != 12 {
		t.Errorf("no allowed_company_ids: %d moves", len(got))
	}
	// Reading a record of another company is an access error.
	f := o.fault("account.move", "read", []any{[]any{6}, []any{"name"}}, ctx(1))
	if f.Code != 4 || !strings.HasPrefix(f.String, "Due to security restrictions, you are not allowed to access 'Journal Entry' (account.move) records.") {
		t.Errorf("read of another company: %d %q", f.Code, f.String)
	}
	// Subsearches apply the rules too: company 1 cannot see partner 10.
	if got := o.search("account.move", D(L("partner_id.name", "ilike", "café")), ctx(1, 2)); !slices.Equal(got, []int64{9}) {
		t.Errorf("path through partner 10 with its company allowed: %v", got)
	}
	// The demo user only has company 1.
	demo := &odoo{t: t, url: s.URL, db: "demo", uid: 6, pw: "demo"}
	if got := demo.search("res.partner", D(L("id", "in", []any{4, 10})), nil); !slices.Equal(got, []int64{4}) {
		t.Errorf("demo user partners: %v", got)
	}
	if f := demo.fault("res.partner", "search", []any{D()}, ctx(2)); f.Code != 4 {
		t.Errorf("demo user asking for company 2: %v", f)
	}
}

// TestConcurrentCalls runs readers, writers and snapshots at once (for the
// race detector) and checks that every read saw whole records.
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	s := NewServer(Options{Moves: 300, Seed: 2})
	t.Cleanup(s.Close)
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			o := admin(t, s)
			for i := 0; i < 15; i++ {
				switch w {
				case 0:
					id := int64(10 + i)
					o.must("res.partner", "write", []any{[]any{id}, map[string]any{"name": "Renamed " + string(rune('A'+i))}}, nil)
					o.must("res.partner", "create", []any{map[string]any{"name": "New", "parent_id": id}}, nil)
				case 1:
					s.Sim().Snapshot()
				default:
					r := rows(t, o.must("account.move", "search_read", []any{D(L("partner_id", "!=", false))},
						map[string]any{"fields": []any{"partner_id", "name"}, "limit": 200}))
					for _, row := range r {
						if p, ok := row["partner_id"].([]any); !ok || len(p) != 2 {
							errs <- "partial record"
						}
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
