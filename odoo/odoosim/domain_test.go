package odoosim

import (
	"slices"
	"strings"
	"testing"
)

// L builds a domain term.
func L(field, op string, v any) []any { return []any{field, op, v} }

// D builds a domain.
func D(items ...any) []any {
	if items == nil {
		return []any{}
	}
	return items
}

// The fixture (testdata/small.json), for reading the expectations:
//
//	move name             type        state  payment    partner(country)  co cur date       invoice    total    residual
//	 1   BILL/2024/00001  in_invoice  posted not_paid    4 Agadir (MA)     1 MAD 2024-01-10 2024-01-10  1200     1200
//	 2   BILL/2024/00002  in_invoice  posted partial     6 Hudson (US)     1 USD 2024-02-15 2024-02-14  5000     2000
//	 3   BILL/2024/00003  in_invoice  posted paid        8 Old, archived   1 MAD 2024-03-01 2024-03-01   600        0
//	 4   BILL/2024/00004  in_invoice  posted not_paid    8 Old, archived   1 MAD 2024-03-05 2024-03-05   300      300
//	 5   /                in_invoice  draft  not_paid    7 Ghost (none)    1 MAD 2024-03-10 -              50       50
//	 6   INV/2024/00001   out_invoice posted not_paid    9 Jean (FR) of 5  2 EUR 2024-01-20 2024-01-20   240      240
//	 7   INV/2024/00002   out_invoice posted in_payment  5 Paris (FR)      2 EUR 2024-02-01 2024-02-01   120        0
//	 8   INV/2024/00003   out_invoice cancel not_paid    6 Hudson (US)     2 USD 2024-02-10 2024-02-10    99.5     99.5
//	 9   RINV/2024/00001  out_refund  posted not_paid   10 Café (FR)       2 EUR 2024-02-20 2024-02-20    30       30
//	10   MISC/2024/00001  entry       posted not_paid    -                 1 MAD 2024-03-31 -            1000        0
//	11   INV/2024/00001   out_invoice posted partial     4 Agadir (MA)     1 MAD 2024-04-02 2024-04-02  1500.75   500.25
//	12   BILL/2024/00001  in_invoice  posted not_paid   12 100% (US)       2 USD 2024-04-10 2024-04-10 10000    10000
//
// Partners 9 (Jean Dupont) and 11 (Marie Curie) are contacts under 5 (Paris
// Papeterie); 11 is under 9. Moves 1, 2, 6, 10 and 11 have lines: 3 and 6
// are payable lines with a negative residual, 5 and 13 are reconciled
// installments, 15 is a section line of move 6.
var domainCases = []struct {
	name   string
	model  string // default account.move
	domain []any
	ctx    map[string]any
	want   []int64
}{
	{name: "empty domain is TRUE", domain: D(), want: ids(1, 12)},
	{name: "=", domain: D(L("state", "=", "posted")), want: []int64{1, 2, 3, 4, 6, 7, 9, 10, 11, 12}},
	{name: "!= on a set column", domain: D(L("state", "!=", "posted")), want: []int64{5, 8}},
	{name: "<> is !=", domain: D(L("state", "<>", "posted")), want: []int64{5, 8}},
	{name: "operator case is ignored", domain: D(L("name", "ILIKE", "bill")), want: []int64{1, 2, 3, 4, 12}},
	{name: "in", domain: D(L("payment_state", "in", []any{"not_paid", "partial"})), want: []int64{1, 2, 4, 5, 6, 8, 9, 10, 11, 12}},
	{name: "unpaid as Odoo's filter reads it", domain: D(L("state", "=", "posted"), L("payment_state", "in", []any{"not_paid", "partial"})),
		want: []int64{1, 2, 4, 6, 9, 10, 11, 12}},
	{name: "= False is IS NULL", domain: D(L("partner_id", "=", false)), want: []int64{10}},
	{name: "!= False is IS NOT NULL", domain: D(L("partner_id", "!=", false)), want: []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12}},
	{name: "many2one = id", domain: D(L("partner_id", "=", 4)), want: []int64{1, 11}},
	{name: "!= value also matches NULL", domain: D(L("partner_id", "!=", 4)), want: []int64{2, 3, 4, 5, 6, 7, 8, 9, 10, 12}},
	{name: "in ids", domain: D(L("partner_id", "in", []any{4, 8})), want: []int64{1, 3, 4, 11}},
	{name: "not in matches NULL", domain: D(L("partner_id", "not in", []any{4, 8})), want: []int64{2, 5, 6, 7, 8, 9, 10, 12}},
	{name: "False inside in matches NULL", domain: D(L("partner_id", "in", []any{4, false})), want: []int64{1, 10, 11}},
	{name: "False inside not in excludes NULL", domain: D(L("partner_id", "not in", []any{4, false})), want: []int64{2, 3, 4, 5, 6, 7, 8, 9, 12}},
	{name: "in [] is FALSE", domain: D(L("partner_id", "in", []any{})), want: nil},
	{name: "not in [] is TRUE", domain: D(L("partner_id", "not in", []any{})), want: ids(1, 12)},
	{name: "= with a list is in", domain: D(L("move_type", "=", []any{"in_invoice", "in_refund"})), want: []int64{1, 2, 3, 4, 5, 12}},
	{name: "in False is = False", domain: D(L("partner_id", "in", false)), want: []int64{10}},
	{name: "not in False is != False", domain: D(L("invoice_date", "not in", false)), want: []int64{1, 2, 3, 4, 6, 7, 8, 9, 11, 12}},
	{name: "many2one by name", domain: D(L("partner_id", "=", "Agadir Agro")), want: []int64{1, 11}},
	{name: "many2one ilike name (contacts' complete names too)", domain: D(L("partner_id", "ilike", "papeterie")), want: []int64{6, 7}},
	{name: "many2one not ilike name matches NULL", domain: D(L("partner_id", "not ilike", "papeterie")), want: []int64{1, 2, 3, 4, 5, 8, 9, 10, 11, 12}},
	{name: "many2one by archived partner name", domain: D(L("partner_id", "=", "Old Vendor SARL")), want: []int64{3, 4}},
	{name: "dotted path", domain: D(L("partner_id.country_id.code", "=", "MA")), want: []int64{1, 3, 4, 11}},
	{name: "dotted path != excludes no partner and no country", domain: D(L("partner_id.country_id.code", "!=", "MA")), want: []int64{2, 6, 7, 8, 9, 12}},
	{name: "negated dotted path is not any", domain: D("!", L("partner_id.country_id.code", "=", "MA")), want: []int64{2, 5, 6, 7, 8, 9, 10, 12}},
	{name: "path to False", domain: D(L("partner_id.country_id", "=", false)), want: []int64{5}},
	{name: "path to a NULL-free column", domain: D(L("partner_id.country_id.code", "=", false)), want: nil},
	{name: "path sees archived records", domain: D(L("partner_id.active", "=", false)), want: []int64{3, 4}},
	{name: "path on a boolean", domain: D(L("partner_id.is_company", "=", false)), want: []int64{6}},
	{name: "path two levels", domain: D(L("partner_id.parent_id.name", "=", "Paris Papeterie")), want: []int64{6}},
	{name: "any", domain: D(L("partner_id", "any", D(L("country_id.code", "=", "US")))), want: []int64{2, 8, 12}},
	{name: "not any matches NULL", domain: D(L("partner_id", "not any", D(L("country_id.code", "=", "US")))), want: []int64{1, 3, 4, 5, 6, 7, 9, 10, 11}},
	{name: "child_of", domain: D(L("partner_id", "child_of", 5)), want: []int64{6, 7}},
	{name: "child_of by name", domain: D(L("partner_id", "child_of", "Paris Papeterie")), want: []int64{6, 7}},
	{name: "parent_of", domain: D(L("partner_id", "parent_of", 11)), want: []int64{6, 7}},
	{name: "parent_of a root", domain: D(L("partner_id", "parent_of", []any{4})), want: []int64{1, 11}},
	{name: "child_of a company with a branch", domain: D(L("company_id", "child_of", 1)), want: []int64{1, 2, 3, 4, 5, 10, 11}},
	{name: "parent_of a branch", domain: D(L("company_id", "parent_of", 3)), want: []int64{1, 2, 3, 4, 5, 10, 11}},
	{name: "child_of False is FALSE", domain: D(L("partner_id", "child_of", false)), want: nil},
	{name: ">", domain: D(L("amount_total", ">", 1000)), want: []int64{1, 2, 11, 12}},
	{name: ">=", domain: D(L("amount_total", ">=", 1200)), want: []int64{1, 2, 11, 12}},
	{name: "<", domain: D(L("amount_total", "<", 100)), want: []int64{5, 8, 9}},
	{name: "<= with a float", domain: D(L("amount_total", "<=", 99.5)), want: []int64{5, 8, 9}},
	{name: "number = 0", domain: D(L("amount_residual", "=", 0)), want: []int64{3, 7, 10}},
	{name: "number != 0 (falsy right: no NULL branch)", domain: D(L("amount_residual", "!=", 0)), want: []int64{1, 2, 4, 5, 6, 8, 9, 11, 12}},
	{name: "number compared with a string", domain: D(L("amount_total", "=", "1200")), want: []int64{1}},
	{name: "in mixed numbers", domain: D(L("amount_total", "in", []any{1200, "30"})), want: []int64{1, 9}},
	{name: "date = False", domain: D(L("invoice_date", "=", false)), want: []int64{5, 10}},
	{name: "date >", domain: D(L("invoice_date", ">", "2024-03-01")), want: []int64{4, 11, 12}},
	{name: "date <= never matches NULL", domain: D(L("invoice_date", "<=", "2024-02-01")), want: []int64{1, 6, 7}},
	{name: "date compared with a datetime", domain: D(L("invoice_date", "<", "2024-02-10 15:00:00")), want: []int64{1, 6, 7}},
	{name: "negated comparison does not match NULL", domain: D("!", L("invoice_date", ">", "2024-03-01")), want: []int64{1, 2, 3, 6, 7, 8, 9}},
	{name: "=? False is TRUE", domain: D(L("invoice_date", "=?", false)), want: ids(1, 12)},
	{name: "=? value is =", domain: D(L("invoice_date", "=?", "2024-03-05")), want: []int64{4}},
	{name: "negated =? keeps NOT: NULL stays out", domain: D("!", L("partner_id", "=?", 4)), want: []int64{2, 3, 4, 5, 6, 7, 8, 9, 12}},
	{name: "datetime >= a date: from 00:00:00", domain: D(L("write_date", ">=", "2024-03-20")), want: []int64{2, 3, 10, 11, 12}},
	{name: "datetime > a date: after 23:59:59", domain: D(L("write_date", ">", "2024-03-20")), want: []int64{10, 11, 12}},
	{name: "datetime <= a date: up to 23:59:59", domain: D(L("write_date", "<=", "2024-03-20")), want: ids(1, 9)},
	{name: "datetime =", domain: D(L("write_date", "=", "2024-03-20 16:30:00")), want: []int64{2, 3}},
	{name: "like wraps in %", domain: D(L("name", "like", "BILL")), want: []int64{1, 2, 3, 4, 12}},
	{name: "like is case-sensitive", domain: D(L("name", "like", "bill")), want: nil},
	{name: "ilike", domain: D(L("name", "ilike", "bill")), want: []int64{1, 2, 3, 4, 12}},
	{name: "not ilike", domain: D(L("name", "not ilike", "bill")), want: []int64{5, 6, 7, 8, 9, 10, 11}},
	{name: "=like uses the pattern as given", domain: D(L("name", "=like", "INV/%")), want: []int64{6, 7, 8, 11}},
	{name: "=like without wildcard is equality", domain: D(L("name", "=like", "INV")), want: nil},
	{name: "=ilike", domain: D(L("name", "=ilike", "inv/2024/00001")), want: []int64{6, 11}},
	{name: "like keeps _ as a wildcard", domain: D(L("name", "like", "INV/2024/0000_")), want: []int64{6, 7, 8, 9, 11}},
	{name: "char = False", domain: D(L("ref", "=", false)), want: []int64{2, 3, 4, 5, 6, 7, 8, 9, 11, 12}},
	{name: "char != value matches NULL", domain: D(L("ref", "!=", "FAC-001")), want: ids(2, 12)},
	{name: "like '' matches everything, NULL too", domain: D(L("ref", "like", "")), want: ids(1, 12)},
	{name: "not like matches NULL", domain: D(L("ref", "not like", "FAC")), want: ids(2, 12)},
	{name: "ilike on a char", domain: D(L("ref", "ilike", "loyer")), want: []int64{10}},
	{name: "in strings", domain: D(L("ref", "in", []any{"FAC-001", "Loyer mars"})), want: []int64{1, 10}},
	{name: "not in strings matches NULL", domain: D(L("ref", "not in", []any{"FAC-001"})), want: ids(2, 12)},
	{name: "not in with False excludes NULL", domain: D(L("ref", "not in", []any{"FAC-001", false})), want: []int64{10}},
	{name: "many2one path to a code", domain: D(L("currency_id.name", "=", "USD")), want: []int64{2, 8, 12}},
	{name: "journal type", domain: D(L("journal_id.type", "=", "purchase")), want: []int64{1, 2, 3, 4, 5, 12}},
	{name: "one2many = False: no lines", domain: D(L("line_ids", "=", false)), want: []int64{3, 4, 5, 7, 8, 9, 12}},
	{name: "one2many != False: has lines", domain: D(L("line_ids", "!=", false)), want: []int64{1, 2, 6, 10, 11}},
	{name: "one2many in ids", domain: D(L("line_ids", "in", []any{3})), want: []int64{1}},
	{name: "one2many path", domain: D(L("line_ids.account_id.account_type", "=", "liability_payable")), want: []int64{1, 2}},
	{name: "one2many any", domain: D(L("line_ids", "any", D(L("reconciled", "=", true)))), want: []int64{2, 11}},
	{name: "one2many not any", domain: D(L("line_ids", "not any", D(L("reconciled", "=", true)))), want: []int64{1, 3, 4, 5, 6, 7, 8, 9, 10, 12}},
	{name: "one2many with a domain of its own", domain: D(L("invoice_line_ids.display_type", "=", "line_section")), want: []int64{6}},
	{name: "one2many path to a negative residual", domain: D(L("line_ids.amount_residual", "<", 0)), want: []int64{1, 2}},
	{name: "|", domain: D("|", L("state", "=", "draft"), L("state", "=", "cancel")), want: []int64{5, 8}},
	{name: "! distributes over |", domain: D("!", "|", L("state", "=", "draft"), L("state", "=", "cancel")), want: []int64{1, 2, 3, 4, 6, 7, 9, 10, 11, 12}},
	{name: "implicit &", domain: D(L("move_type", "=", "in_invoice"), L("state", "=", "posted")), want: []int64{1, 2, 3, 4, 12}},
	{name: "| then implicit &", domain: D("|", L("move_type", "=", "out_invoice"), L("move_type", "=", "out_refund"), L("company_id", "=", 2)), want: []int64{6, 7, 8, 9}},
	{name: "explicit & inside |", domain: D("|", "&", L("state", "=", "draft"), L("company_id", "=", 1), L("id", "=", 12)), want: []int64{5, 12}},
	{name: "double negation", domain: D("!", "!", L("state", "=", "draft")), want: []int64{5}},
	{name: "TRUE leaf", domain: D([]any{1, "=", 1}), want: ids(1, 12)},
	{name: "FALSE leaf", domain: D([]any{0, "=", 1}), want: nil},
	{name: "negated FALSE leaf", domain: D("!", []any{0, "=", 1}), want: ids(1, 12)},
	{name: "id >", domain: D(L("id", ">", 10)), want: []int64{11, 12}},
	{name: "id in with a missing id", domain: D(L("id", "in", []any{1, 2, 99})), want: []int64{1, 2}},
	{name: "moves of an archived partner are not hidden", domain: D(L("partner_id", "=", 8)), want: []int64{3, 4}},
	{name: "commercial partner by name", domain: D(L("commercial_partner_id.name", "=", "Paris Papeterie")), want: []int64{6, 7}},

	{model: "res.partner", name: "archived partners hidden by default", domain: D(), want: []int64{1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12}},
	{model: "res.partner", name: "active_test False shows them", domain: D(), ctx: map[string]any{"active_test": false}, want: ids(1, 12)},
	{model: "res.partner", name: "a domain on active disables the default", domain: D(L("active", "=", false)), want: []int64{8}},
	{model: "res.partner", name: "active in [True, False]", domain: D(L("active", "in", []any{true, false})), want: ids(1, 12)},
	{model: "res.partner", name: "like with a literal % in the value", domain: D(L("name", "like", "100%")), want: []int64{12}},
	{model: "res.partner", name: "like with _", domain: D(L("name", "like", "Pure_Oil")), want: []int64{12}},
	{model: "res.partner", name: "=like with an escaped %", domain: D(L("name", "=like", `100\%%`)), want: []int64{12}},
	{model: "res.partner", name: "=ilike with accents", domain: D(L("name", "=ilike", "café%")), want: []int64{10}},
	{model: "res.partner", name: "ilike with accents", domain: D(L("name", "ilike", "CAFÉ")), want: []int64{10}},
	{model: "res.partner", name: "display_name of contacts", domain: D(L("display_name", "ilike", "papeterie,")), want: []int64{9, 11}},
	{model: "res.partner", name: "no country", domain: D(L("country_id", "=", false)), want: []int64{7}},
	{model: "res.partner", name: "self many2one child_of", domain: D(L("parent_id", "child_of", 5)), want: []int64{5, 9, 11}},
	{model: "res.partner", name: "id child_of", domain: D(L("id", "child_of", []any{9})), want: []int64{9, 11}},
	{model: "res.partner", name: "id parent_of", domain: D(L("id", "parent_of", 11)), want: []int64{5, 9, 11}},
	{model: "res.partner", name: "one2many != False", domain: D(L("child_ids", "!=", false)), want: []int64{5, 9}},
	{model: "res.partner", name: "company_id = False", domain: D(L("company_id", "=", false)), want: []int64{1, 2, 3, 4, 5, 6, 7, 9, 11, 12}},
	{model: "res.partner", name: "boolean = False", domain: D(L("is_company", "=", false)), want: []int64{9, 11}},
	{model: "res.partner", name: "boolean != True", domain: D(L("is_company", "!=", true)), want: []int64{9, 11}},
	{model: "res.country", name: "in codes", domain: D(L("code", "in", []any{"MA", "FR"})), want: []int64{1, 2}},
	{model: "res.currency", name: "archived currencies hidden", domain: D(), want: []int64{1, 2, 3}},
	{model: "account.move.line", name: "unpaid installments", domain: D(L("account_id.account_type", "=", "liability_payable"),
		L("reconciled", "=", false), L("amount_residual", "!=", 0)), want: []int64{3, 6}},
	{model: "account.move.line", name: "section lines have no account", domain: D(L("account_id", "=", false)), want: []int64{15}},
	{model: "account.move.line", name: "lines by move state", domain: D(L("parent_state", "=", "posted"), L("move_id.move_type", "=", "out_invoice")),
		want: []int64{7, 8, 9, 12, 13, 14, 15}},
}

func ids(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestDomains(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	o := admin(t, s)
	for _, tc := range domainCases {
		model := tc.model
		if model == "" {
			model = "account.move"
		}
		t.Run(model+"/"+tc.name, func(t *testing.T) {
			o := *o
			o.t = t
			kw := map[string]any{}
			if tc.ctx != nil {
				kw["context"] = tc.ctx
			}
			got := o.search(model, tc.domain, kw)
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("search(%s)\n got  %v\n want %v", pyRepr(tc.domain), got, tc.want)
			}
			// search_count agrees with search.
			kwc := map[string]any{}
			if tc.ctx != nil {
				kwc["context"] = tc.ctx
			}
			n := o.must(model, "search_count", []any{tc.domain}, kwc)
			if n != int64(len(tc.want)) {
				t.Errorf("search_count = %v, want %d", n, len(tc.want))
			}
		})
	}
}

func TestDomainErrors(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	o := admin(t, s)
	cases := []struct {
		domain any
		want   string // last line of the traceback
	}{
		{D(L("foo", "=", 1)), "ValueError: Invalid field account.move.foo in leaf ('foo', '=', 1)"},
		{D([]any{"state", "="}), "ValueError: Invalid leaf ('state', '=')"},
		{D(L("state", "bogus", 1)), "ValueError: Invalid leaf ('state', 'bogus', 1)"},
		{D("&", L("state", "=", "posted")), "ValueError: Domain ['&', ['state', '=', 'posted']] is syntactically not correct."},
		{D("|"), "ValueError: Domain ['|'] is syntactically not correct."},
		{"state", "ValueError: Domain 'state' is syntactically not correct."},
		{D("state"), "ValueError: Invalid leaf 'state'"},
		{D(L("name.foo", "=", 1)), "ValueError: Invalid field 'name.foo' in domain term ('name.foo', '=', 1)"},
		{D(L("partner_id.foo", "=", 1)), "ValueError: Invalid field res.partner.foo in leaf ('foo', '=', 1)"},
		{D(L("invoice_date", "=", "yesterday")), "ValueError: time data 'yesterday' does not match format '%Y-%m-%d'"},
		{D(L("amount_total", ">", "abc")), "ValueError: could not convert string to float: 'abc'"},
		{D(L("state", "in", "posted")), "ValueError: Invalid domain term ('state', 'in', 'posted')"},
		{D(L("state", "any", D())), "ValueError: Invalid domain term ('state', 'any', []): operator 'any' needs a relational field"},
		{D(L("journal_id", "child_of", 1)), "KeyError: 'parent_id'"},
		// normalize_leaf makes it partner_id = True, which PostgreSQL refuses.
		{D(L("partner_id", "in", true)), "psycopg2.errors.UndefinedFunction: operator does not exist: integer = boolean"},
	}
	for _, tc := range cases {
		f := o.fault("account.move", "search", []any{tc.domain}, nil)
		if f.Code != 1 {
			t.Errorf("%s: fault code %d, want 1", pyRepr(tc.domain), f.Code)
		}
		if got := lastLine(f.String); got != tc.want {
			t.Errorf("%s:\n got  %q\n want %q", pyRepr(tc.domain), got, tc.want)
		}
		if !strings.HasPrefix(f.String, "Traceback (most recent call last):\n") {
			t.Errorf("%s: fault string is not a traceback: %q", pyRepr(tc.domain), f.String)
		}
	}
}
