package odoosim

import (
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a clock the tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// t0 is after every generated stamp (the last payments are reconciled in
// 2026); its fraction of a second must not
// reach the wire.
var t0 = time.Date(2026, 6, 1, 10, 0, 0, 500_000_000, time.UTC)

const t0Stamp = "2026-06-01 10:00:00"

func changeServer(t *testing.T) (*Server, *testClock, *odoo) {
	t.Helper()
	clk := &testClock{t: t0.Add(-time.Hour)}
	s := NewServer(Options{Moves: 400, Seed: 3, Now: clk.Now})
	t.Cleanup(s.Close)
	return s, clk, admin(t, s)
}

var allModels = []string{"res.company", "res.partner", "account.move", "account.move.line"}

// changedSince is what an incremental load asks: the ids of each model
// with write_date >= stamp, archived records included.
func changedSince(o *odoo, stamp string) map[string][]int64 {
	o.t.Helper()
	out := map[string][]int64{}
	for _, m := range allModels {
		ids := o.search(m, []any{[]any{"write_date", ">=", stamp}},
			map[string]any{"context": map[string]any{"active_test": false}})
		if len(ids) > 0 {
			out[m] = ids
		}
	}
	return out
}

func readOne(o *odoo, model string, id int64, fields ...string) map[string]any {
	o.t.Helper()
	fs := make([]any, len(fields))
	for i, f := range fields {
		fs[i] = f
	}
	rs := rows(o.t, o.must(model, "read", []any{[]any{id}, fs},
		map[string]any{"context": map[string]any{"active_test": false}}))
	if len(rs) != 1 {
		o.t.Fatalf("read %s(%d): %d records", model, id, len(rs))
	}
	return rs[0]
}

func lineIDsOf(d *Data, mv *Move, keep func(l *MoveLine) bool) []int64 {
	var out []int64
	for _, l := range d.Lines(mv) {
		if keep == nil || keep(l) {
			out = append(out, l.ID)
		}
	}
	return out
}

func isTerm(l *MoveLine) bool { return l.DisplayType == "payment_term" }

func findMove(t *testing.T, d *Data, ok func(mv *Move) bool) *Move {
	t.Helper()
	for i := range d.Moves {
		if ok(&d.Moves[i]) {
			return &d.Moves[i]
		}
	}
	t.Fatal("the generated data has no such move")
	return nil
}

// TestChanges applies each helper at t0 and checks, over XML-RPC, that
// write_date >= t0 finds exactly the records the change writes, that they
// read as Odoo would leave them, and that the snapshot agrees.
func TestChanges(t *testing.T) {
	t.Parallel()
	type env struct {
		t   *testing.T
		s   *Sim
		o   *odoo
		clk *testClock
		d   *Data // before the change
	}
	for _, tc := range []struct {
		name string
		// run makes the change at t0 and returns the records it must have
		// stamped; then it checks the values.
		run func(e *env) map[string][]int64
	}{
		{"pay part of an invoice", func(e *env) map[string][]int64 {
			mv := findMove(e.t, e.d, func(mv *Move) bool {
				return mv.MoveType == "out_invoice" && mv.State == "posted" && mv.PaymentState == "not_paid" &&
					len(lineIDsOf(e.d, mv, isTerm)) >= 2
			})
			terms := lineIDsOf(e.d, mv, isTerm)
			first := e.d.MoveLine(terms[0])
			amount := roundTo(first.AmountResidualCurrency/2, 2)
			if err := e.s.Pay(mv.ID, amount); err != nil {
				e.t.Fatal(err)
			}
			r := readOne(e.o, "account.move", mv.ID, "payment_state", "amount_residual", "write_date")
			if r["payment_state"] != "partial" || !near(r["amount_residual"].(float64), mv.AmountResidual-amount) ||
				r["write_date"] != t0Stamp {
				e.t.Errorf("move after a partial payment: %v, want partial, %.2f, %s", r, mv.AmountResidual-amount, t0Stamp)
			}
			l := readOne(e.o, "account.move.line", first.ID, "amount_residual_currency", "reconciled", "matching_number")
			if !near(l["amount_residual_currency"].(float64), first.AmountResidualCurrency-amount) || l["reconciled"] != false ||
				!strings.HasPrefix(l["matching_number"].(string), "P") {
				e.t.Errorf("first installment after a partial payment: %v", l)
			}
			return map[string][]int64{"account.move": {mv.ID}, "account.move.line": {first.ID}}
		}},
		{"pay a bill in full", func(e *env) map[string][]int64 {
			mv := findMove(e.t, e.d, func(mv *Move) bool {
				return mv.MoveType == "in_invoice" && mv.State == "posted" && mv.PaymentState == "partial"
			})
			open := lineIDsOf(e.d, mv, func(l *MoveLine) bool { return isTerm(l) && !l.Reconciled })
			if err := e.s.Pay(mv.ID, mv.AmountResidual+100); err != nil {
				e.t.Fatal(err)
			}
			r := readOne(e.o, "account.move", mv.ID, "payment_state", "amount_residual", "amount_residual_signed")
			if r["payment_state"] != "paid" || r["amount_residual"] != 0.0 || r["amount_residual_signed"] != 0.0 {
				e.t.Errorf("bill paid in full: %v", r)
			}
			for _, id := range open {
				l := readOne(e.o, "account.move.line", id, "amount_residual", "amount_residual_currency", "reconciled")
				if l["reconciled"] != true || l["amount_residual"] != 0.0 || l["amount_residual_currency"] != 0.0 {
					e.t.Errorf("line %d of a paid bill: %v", id, l)
				}
			}
			if err := e.s.Pay(mv.ID, 1); err == nil {
				e.t.Error("paying a paid bill again: no error")
			}
			return map[string][]int64{"account.move": {mv.ID}, "account.move.line": open}
		}},
		{"post a draft invoice", func(e *env) map[string][]int64 {
			mv := findMove(e.t, e.d, func(mv *Move) bool {
				return mv.MoveType == "out_invoice" && mv.State == "draft" && !mv.PostedBefore && mv.InvoiceDate == ""
			})
			if err := e.s.Post(mv.ID); err != nil {
				e.t.Fatal(err)
			}
			r := readOne(e.o, "account.move", mv.ID, "state", "name", "invoice_date", "invoice_date_due", "posted_before", "date")
			if r["state"] != "posted" || !regexp.MustCompile(`^INV/2026/\d{5}$`).MatchString(r["name"].(string)) ||
				r["invoice_date"] != "2026-06-01" || r["date"] != "2026-06-01" || r["posted_before"] != true ||
				r["invoice_date_due"] == false {
				e.t.Errorf("posted draft: %v", r)
			}
			for _, id := range mv.LineIDs {
				l := readOne(e.o, "account.move.line", id, "parent_state", "move_name")
				if l["parent_state"] != "posted" || l["move_name"] != r["name"] {
					e.t.Errorf("line %d of a posted move: %v", id, l)
				}
			}
			if f := e.o.fault("account.move", "action_post", []any{[]any{mv.ID}}, nil); f.Code != 2 ||
				!strings.Contains(f.String, "is already posted.") {
				e.t.Errorf("posting twice: fault %d %q", f.Code, lastLine(f.String))
			}
			return map[string][]int64{"account.move": {mv.ID}, "account.move.line": mv.LineIDs}
		}},
		{"a bill without date cannot be posted", func(e *env) map[string][]int64 {
			mv := findMove(e.t, e.d, func(mv *Move) bool {
				return mv.MoveType == "in_invoice" && mv.State == "draft" && mv.InvoiceDate == ""
			})
			const msg = "The Bill/Refund date is required to validate this document."
			if err := e.s.Post(mv.ID); err == nil || !strings.HasSuffix(err.Error(), ": "+msg) {
				e.t.Errorf("Post: %v, want %q", err, msg)
			}
			if f := e.o.fault("account.move", "action_post", []any{[]any{mv.ID}}, nil); f.Code != 2 || lastLine(f.String) != msg {
				e.t.Errorf("action_post: fault %d %q", f.Code, lastLine(f.String))
			}
			return nil
		}},
		{"reset a paid invoice to draft", func(e *env) map[string][]int64 {
			mv := findMove(e.t, e.d, func(mv *Move) bool {
				return mv.MoveType == "out_invoice" && mv.State == "posted" && mv.PaymentState == "paid"
			})
			if err := e.s.ResetToDraft(mv.ID); err != nil {
				e.t.Fatal(err)
			}
			r := readOne(e.o, "account.move", mv.ID, "state", "payment_state", "amount_residual", "name")
			if r["state"] != "draft" || r["payment_state"] != "not_paid" || !near(r["amount_residual"].(float64), mv.AmountTotal) ||
				r["name"] != mv.Name {
				e.t.Errorf("reset paid invoice: %v, want draft, not_paid, %.2f, %s", r, mv.AmountTotal, mv.Name)
			}
			for _, id := range lineIDsOf(e.d, mv, isTerm) {
				l := readOne(e.o, "account.move.line", id, "reconciled", "amount_residual", "balance", "matching_number", "parent_state")
				if l["reconciled"] != false || l["amount_residual"] != l["balance"] || l["matching_number"] != false ||
					l["parent_state"] != "draft" {
					e.t.Errorf("unreconciled line %d: %v", id, l)
				}
			}
			if err := e.s.ResetToDraft(mv.ID); err == nil {
				e.t.Error("resetting a draft: no error")
			}
			return map[string][]int64{"account.move": {mv.ID}, "account.move.line": mv.LineIDs}
		}},
		{"cancel a posted bill", func(e *env) map[string][]int64 {
			mv := findMove(e.t, e.d, func(mv *Move) bool {
				return mv.MoveType == "in_invoice" && mv.State == "posted" && mv.PaymentState == "partial"
			})
			if err := e.s.Cancel(mv.ID); err != nil {
				e.t.Fatal(err)
			}
			r := readOne(e.o, "account.move", mv.ID, "state", "payment_state", "amount_residual")
			if r["state"] != "cancel" || r["payment_state"] != "not_paid" || !near(r["amount_residual"].(float64), mv.AmountTotal) {
				e.t.Errorf("cancelled bill: %v", r)
			}
			const msg = "Only draft journal entries can be cancelled."
			if err := e.s.Cancel(mv.ID); err == nil || !strings.HasSuffix(err.Error(), ": "+msg) {
				e.t.Errorf("cancelling twice: %v, want %q", err, msg)
			}
			return map[string][]int64{"account.move": {mv.ID}, "account.move.line": mv.LineIDs}
		}},
		{"delete a draft", func(e *env) map[string][]int64 {
			mv := findMove(e.t, e.d, func(mv *Move) bool { return mv.State == "draft" && !mv.PostedBefore })
			if err := e.s.DeleteDraft(mv.ID); err != nil {
				e.t.Fatal(err)
			}
			if ids := e.o.search("account.move", []any{[]any{"id", "=", mv.ID}}, nil); len(ids) != 0 {
				e.t.Errorf("deleted draft still found: %v", ids)
			}
			if ids := e.o.search("account.move.line", []any{[]any{"move_id", "=", mv.ID}}, nil); len(ids) != 0 {
				e.t.Errorf("lines of the deleted draft still found: %v", ids)
			}
			if e.s.Snapshot().Move(mv.ID) != nil {
				e.t.Error("deleted draft in the snapshot")
			}
			return nil // a deletion stamps nothing
		}},
		{"posted moves cannot be deleted", func(e *env) map[string][]int64 {
			mv := findMove(e.t, e.d, func(mv *Move) bool { return mv.State == "posted" })
			const msg = "You cannot delete an item linked to a posted entry."
			if err := e.s.DeleteDraft(mv.ID); err == nil || !strings.HasSuffix(err.Error(), ": "+msg) {
				e.t.Errorf("DeleteDraft of a posted move: %v, want %q", err, msg)
			}
			if f := e.o.fault("account.move", "unlink", []any{[]any{mv.ID}}, nil); f.Code != 2 || lastLine(f.String) != msg {
				e.t.Errorf("unlink of a posted move: fault %d %q", f.Code, lastLine(f.String))
			}
			// Reset to draft, it can go if it is the last of its sequence.
			last := findMove(e.t, e.d, func(m *Move) bool {
				return m.State == "posted" && e.s.db.endOfChain(m)
			})
			if _, f := e.o.call("account.move", "button_draft", []any{[]any{last.ID}}, nil); f == nil ||
				lastLine(f.String) != "TypeError: cannot marshal None unless allow_none is enabled" {
				e.t.Errorf("button_draft over XML-RPC: %v, want Odoo's None fault", f)
			}
			if got := readOne(e.o, "account.move", last.ID, "state")["state"]; got != "draft" {
				e.t.Errorf("button_draft faulted but must have committed: state %v", got)
			}
			e.o.must("account.move", "unlink", []any{[]any{last.ID}}, nil)
			notLast := findMove(e.t, e.d, func(m *Move) bool {
				return m.State == "posted" && m.MoveType == "out_invoice" && !e.s.db.endOfChain(m)
			})
			e.o.call("account.move", "button_draft", []any{[]any{notLast.ID}}, nil)
			if f := e.o.fault("account.move", "unlink", []any{[]any{notLast.ID}}, nil); f.Code != 2 ||
				!strings.Contains(f.String, "is not the last one in the chain") {
				e.t.Errorf("unlink of a reset move within its chain: fault %d %q", f.Code, lastLine(f.String))
			}
			return map[string][]int64{"account.move": {notLast.ID}, "account.move.line": notLast.LineIDs}
		}},
		{"partner country follows to contacts", func(e *env) map[string][]int64 {
			// A company with a contact (follows the address), an invoice
			// address (does not) and an archived contact (not reached).
			e.clk.Set(t0.Add(-time.Minute))
			parent := int64(e.o.must("res.partner", "create", []any{map[string]any{"name": "Parent SA", "is_company": true, "country_id": 2}}, nil).(int64))
			contact := e.o.must("res.partner", "create", []any{map[string]any{"name": "C", "parent_id": parent, "country_id": 2}}, nil).(int64)
			invoice := e.o.must("res.partner", "create", []any{map[string]any{"name": "I", "parent_id": parent, "type": "invoice", "country_id": 2}}, nil).(int64)
			gone := e.o.must("res.partner", "create", []any{map[string]any{"name": "G", "parent_id": parent, "country_id": 2, "active": false}}, nil).(int64)
			grand := e.o.must("res.partner", "create", []any{map[string]any{"name": "GC", "parent_id": contact, "country_id": 2}}, nil).(int64)
			e.clk.Set(t0)
			if err := e.s.SetPartnerCountry(parent, 5); err != nil {
				e.t.Fatal(err)
			}
			for id, want := range map[int64]any{parent: int64(5), contact: int64(5), invoice: int64(2), gone: int64(2), grand: int64(2)} {
				if got := readOne(e.o, "res.partner", id, "country_id")["country_id"].([]any)[0]; got != want {
					e.t.Errorf("res.partner %d country %v, want %v", id, got, want)
				}
			}
			return map[string][]int64{"res.partner": {parent, contact}}
		}},
		{"partner country written over RPC", func(e *env) map[string][]int64 {
			e.clk.Set(t0.Add(-time.Minute))
			parent := e.o.must("res.partner", "create", []any{map[string]any{"name": "P", "is_company": true, "country_id": 1, "city": "Rabat"}}, nil).(int64)
			contact := e.o.must("res.partner", "create", []any{map[string]any{"name": "C", "parent_id": parent, "country_id": 1, "city": "Rabat"}}, nil).(int64)
			e.clk.Set(t0)
			e.o.must("res.partner", "write", []any{[]any{parent}, map[string]any{"country_id": 3, "city": "Chicago"}}, nil)
			r := readOne(e.o, "res.partner", contact, "country_id", "city")
			if r["country_id"].([]any)[0] != int64(3) || r["city"] != "Chicago" {
				e.t.Errorf("contact after its parent's write: %v", r)
			}
			return map[string][]int64{"res.partner": {parent, contact}}
		}},
		{"company country", func(e *env) map[string][]int64 {
			if err := e.s.SetCompanyCountry(2, 5); err != nil {
				e.t.Fatal(err)
			}
			if c := readOne(e.o, "res.company", 2, "country_id")["country_id"].([]any)[0]; c != int64(5) {
				e.t.Errorf("company country %v", c)
			}
			if c := readOne(e.o, "res.partner", 2, "country_id")["country_id"].([]any)[0]; c != int64(5) {
				e.t.Errorf("company partner country %v", c)
			}
			if d := e.s.Snapshot(); d.Company(2).CountryID != 5 || d.Partner(2).CountryID != 5 {
				e.t.Error("the snapshot misses the company's country")
			}
			return map[string][]int64{"res.company": {2}, "res.partner": {2}}
		}},
		{"company country written over RPC", func(e *env) map[string][]int64 {
			e.o.must("res.company", "write", []any{[]any{1}, map[string]any{"country_id": 2}}, nil)
			if c := readOne(e.o, "res.partner", 1, "country_id")["country_id"].([]any)[0]; c != int64(2) {
				e.t.Errorf("company partner country %v", c)
			}
			return map[string][]int64{"res.company": {1}, "res.partner": {1}}
		}},
		{"a company's partner moving stamps no company", func(e *env) map[string][]int64 {
			e.o.must("res.partner", "write", []any{[]any{3}, map[string]any{"country_id": 2}}, nil)
			if c := readOne(e.o, "res.company", 3, "country_id", "write_date"); c["country_id"].([]any)[0] != int64(2) ||
				c["write_date"] == t0Stamp {
				e.t.Errorf("company 3 after its partner moved: %v, want country 2 and its old write_date", c)
			}
			return map[string][]int64{"res.partner": {3}}
		}},
		{"archive a partner", func(e *env) map[string][]int64 {
			var p *Partner
			for i := range e.d.Partners {
				if q := &e.d.Partners[i]; q.Active && q.ID > 3 {
					p = q
					break
				}
			}
			if err := e.s.ArchivePartner(p.ID); err != nil {
				e.t.Fatal(err)
			}
			if r := readOne(e.o, "res.partner", p.ID, "active"); r["active"] != false {
				e.t.Errorf("archived partner: %v", r)
			}
			if ids := e.o.search("res.partner", []any{[]any{"id", "=", p.ID}}, nil); len(ids) != 0 {
				e.t.Error("archived partner found without active_test")
			}
			const msg = "You cannot archive contacts linked to an active user."
			if err := e.s.ArchivePartner(1); err == nil || !strings.Contains(err.Error(), "ValidationError: "+msg) {
				e.t.Errorf("archiving a user's partner: %v", err)
			}
			if f := e.o.fault("res.partner", "write", []any{[]any{1}, map[string]any{"active": false}}, nil); f.Code != 2 ||
				!strings.Contains(f.String, msg) {
				e.t.Errorf("archiving a user's partner over RPC: fault %d %q", f.Code, f.String)
			}
			return map[string][]int64{"res.partner": {p.ID}}
		}},
		{"new posted bill with installments", func(e *env) map[string][]int64 {
			id, err := e.s.CreateMove(NewMove{MoveType: "in_invoice", CompanyID: 2, PartnerID: 10, CurrencyID: 2,
				InvoiceDate: "2026-05-05", Untaxed: 1000, TaxPercent: 20, DueDays: []int{30, 60, 90}})
			if err != nil {
				e.t.Fatal(err)
			}
			d := e.s.Snapshot()
			mv := d.Move(id)
			if mv == nil || mv.State != "posted" || mv.PaymentState != "not_paid" || mv.AmountTotal != 1200 ||
				mv.AmountResidual != 1200 || mv.InvoiceDateDue != "2026-08-03" || !strings.HasPrefix(mv.Name, "BILL/2026/") ||
				mv.AmountTotalSigned >= 0 || mv.CreateDate != t0Stamp {
				e.t.Fatalf("new bill: %+v", mv)
			}
			var bal, terms float64
			n := 0
			for _, l := range d.Lines(mv) {
				bal += l.Balance
				if isTerm(l) {
					n++
					terms += l.AmountCurrency
					if l.ParentState != "posted" || l.MoveName != mv.Name || l.AmountResidualCurrency != l.AmountCurrency {
						e.t.Errorf("installment %+v", l)
					}
				}
			}
			if n != 3 || !near(terms, -1200) || !near(bal, 0) {
				e.t.Errorf("new bill lines: %d installments for %.2f, balance %.2f", n, terms, bal)
			}
			r := readOne(e.o, "account.move", id, "state", "amount_residual")
			if r["state"] != "posted" || r["amount_residual"] != 1200.0 {
				e.t.Errorf("new bill over RPC: %v", r)
			}
			return map[string][]int64{"account.move": {id}, "account.move.line": mv.LineIDs}
		}},
		{"installment due date", func(e *env) map[string][]int64 {
			mv := findMove(e.t, e.d, func(mv *Move) bool {
				return mv.State == "posted" && mv.MoveType == "in_invoice" && len(lineIDsOf(e.d, mv, isTerm)) >= 2
			})
			terms := lineIDsOf(e.d, mv, isTerm)
			first, last := e.d.MoveLine(terms[0]), e.d.MoveLine(terms[len(terms)-1])
			// The first installment moves within the terms: the move's due
			// date stays.
			if err := e.s.SetInstallment(first.ID, first.DateMaturity[:8]+"01", 0); err != nil {
				e.t.Fatal(err)
			}
			if got := changedSince(e.o, t0Stamp); !reflect.DeepEqual(got, map[string][]int64{"account.move.line": {first.ID}}) {
				e.t.Errorf("after moving the first installment: %v", got)
			}
			e.o.must("account.move.line", "write", []any{[]any{last.ID}, map[string]any{"date_maturity": "2027-02-01"}}, nil)
			if got := readOne(e.o, "account.move", mv.ID, "invoice_date_due")["invoice_date_due"]; got != "2027-02-01" {
				e.t.Errorf("invoice_date_due %v after the last installment moved", got)
			}
			return map[string][]int64{"account.move": {mv.ID}, "account.move.line": {first.ID, last.ID}}
		}},
		{"installment amount", func(e *env) map[string][]int64 {
			mv := findMove(e.t, e.d, func(mv *Move) bool {
				if mv.State != "posted" || mv.PaymentState != "not_paid" || !isDocument(mv.MoveType) {
					return false
				}
				return len(lineIDsOf(e.d, mv, isTerm)) >= 2
			})
			terms := lineIDsOf(e.d, mv, isTerm)
			first, last := e.d.MoveLine(terms[0]), e.d.MoveLine(terms[len(terms)-1])
			amount := roundTo(math.Abs(first.AmountCurrency)+1, 2)
			if err := e.s.SetInstallment(first.ID, "", amount); err != nil {
				e.t.Fatal(err)
			}
			d := e.s.Snapshot()
			var bal, due float64
			for _, l := range d.Lines(d.Move(mv.ID)) {
				bal += l.Balance
				if isTerm(l) {
					due += math.Abs(l.AmountResidualCurrency)
				}
			}
			if !near(bal, 0) || !near(due, mv.AmountResidual) || !near(math.Abs(d.MoveLine(first.ID).AmountCurrency), amount) {
				e.t.Errorf("after changing an installment: balance %.2f, due %.2f (want %.2f)", bal, due, mv.AmountResidual)
			}
			return map[string][]int64{"account.move.line": {first.ID, last.ID}}
		}},
		{"business methods over RPC", func(e *env) map[string][]int64 {
			mv := findMove(e.t, e.d, func(mv *Move) bool {
				return mv.MoveType == "out_invoice" && mv.State == "draft" && mv.InvoiceDate != ""
			})
			if v := e.o.must("account.move", "action_post", []any{[]any{mv.ID}}, nil); v != false {
				e.t.Errorf("action_post returned %v, want False", v)
			}
			e.o.call("account.move", "button_cancel", []any{[]any{mv.ID}}, nil) // None: a fault, committed
			if s := readOne(e.o, "account.move", mv.ID, "state")["state"]; s != "cancel" {
				e.t.Errorf("after button_cancel: %v", s)
			}
			if f := e.o.fault("account.move", "button_cancel", []any{[]any{mv.ID}}, nil); f.Code != 2 ||
				lastLine(f.String) != "Only draft journal entries can be cancelled." {
				e.t.Errorf("cancelling a cancelled move: %d %q", f.Code, lastLine(f.String))
			}
			// All or nothing: a failing record rolls the call back.
			other := findMove(e.t, e.d, func(m *Move) bool { return m.State == "draft" && m.ID != mv.ID && m.InvoiceDate != "" })
			if f := e.o.fault("account.move", "action_post", []any{[]any{other.ID, mv.ID}}, nil); f.Code != 2 {
				e.t.Errorf("action_post of a cancelled move: fault %d", f.Code)
			}
			if s := readOne(e.o, "account.move", other.ID, "state")["state"]; s != "draft" {
				e.t.Errorf("a failed action_post left move %d %v", other.ID, s)
			}
			return map[string][]int64{"account.move": {mv.ID}, "account.move.line": mv.LineIDs}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, clk, o := changeServer(t)
			e := &env{t: t, s: srv.Sim(), o: o, clk: clk, d: srv.Sim().Snapshot()}
			if got := changedSince(o, t0Stamp); len(got) != 0 {
				t.Fatalf("records stamped before the change: %v", got)
			}
			clk.Set(t0)
			want := tc.run(e)
			for m, ids := range want {
				ids = slices.Clone(ids)
				slices.Sort(ids)
				want[m] = slices.Compact(ids)
			}
			got := changedSince(o, t0Stamp)
			if len(want) == 0 && len(got) == 0 {
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("write_date >= %s finds %v, want %v", t0Stamp, got, want)
			}
			// The stamps are t0 to the second, in the snapshot too.
			d := srv.Sim().Snapshot()
			for _, id := range want["account.move"] {
				if mv := d.Move(id); mv != nil && mv.WriteDate != t0Stamp {
					t.Errorf("account.move %d write_date %q in the snapshot", id, mv.WriteDate)
				}
			}
		})
	}
}

// TestLongTransaction: a transaction's changes are invisible until Commit,
// then carry Begin's time, older than what committed meanwhile.
func TestLongTransaction(t *testing.T) {
	t.Parallel()
	srv, clk, o := changeServer(t)
	s := srv.Sim()
	d := s.Snapshot()
	var unpaid []*Move
	for i := range d.Moves {
		if mv := &d.Moves[i]; mv.State == "posted" && mv.MoveType == "out_invoice" && mv.PaymentState == "not_paid" {
			unpaid = append(unpaid, mv)
		}
	}
	a, b := unpaid[0], unpaid[1]
	clk.Set(t0)
	tx := s.Begin()
	if err := tx.Pay(a.ID, a.AmountResidual); err != nil {
		t.Fatal(err)
	}
	if err := tx.SetPartnerCountry(a.PartnerID, 7); err != nil {
		t.Fatal(err)
	}
	if err := tx.Pay(a.ID, 1); err == nil {
		t.Error("paying again within the transaction: no error (the transaction must see its own payment)")
	}
	if err := tx.DeleteDraft(a.ID); err == nil {
		t.Error("deleting a posted move within the transaction: no error")
	}
	id, err := tx.CreateMove(NewMove{MoveType: "out_invoice", CompanyID: 1, PartnerID: b.PartnerID, Untaxed: 50})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Pay(id, 10); err != nil {
		t.Errorf("paying the transaction's new move: %v", err)
	}

	t1 := t0.Add(90 * time.Second)
	clk.Set(t1)
	if err := s.Pay(b.ID, b.AmountResidual); err != nil {
		t.Fatal(err)
	}
	// A load now sees b, not the transaction.
	if r := readOne(o, "account.move", a.ID, "payment_state", "write_date"); r["payment_state"] != "not_paid" ||
		r["write_date"] != a.WriteDate {
		t.Errorf("move paid in an open transaction reads %v before Commit", r)
	}
	if ids := o.search("account.move", []any{[]any{"id", "=", id}}, nil); len(ids) != 0 {
		t.Errorf("the transaction's new move is visible before Commit")
	}
	if got := changedSince(o, t0Stamp)["account.move"]; !reflect.DeepEqual(got, []int64{b.ID}) {
		t.Errorf("before Commit, moves changed since t0: %v, want [%d]", got, b.ID)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Pay(a.ID, 1); err != errTxDone {
		t.Errorf("using a committed transaction: %v", err)
	}
	r := readOne(o, "account.move", a.ID, "payment_state", "write_date")
	if r["payment_state"] != "paid" || r["write_date"] != t0Stamp {
		t.Errorf("after Commit: %v, want paid and stamped %s (Begin), not %s", r, t0Stamp, stampOf(t1))
	}
	if p := readOne(o, "res.partner", a.PartnerID, "country_id", "write_date"); p["country_id"].([]any)[0] != int64(7) ||
		p["write_date"] != t0Stamp {
		t.Errorf("partner after Commit: %v", p)
	}
	nm := readOne(o, "account.move", id, "payment_state", "write_date", "create_date")
	if nm["payment_state"] != "partial" || nm["write_date"] != t0Stamp || nm["create_date"] != t0Stamp {
		t.Errorf("the transaction's new move: %v", nm)
	}
	// A watermark taken after b's change misses the transaction: what an
	// incremental load must allow for.
	if got := changedSince(o, stampOf(t1))["account.move"]; !reflect.DeepEqual(got, []int64{b.ID}) {
		t.Errorf("moves changed since t1: %v, want only [%d]", got, b.ID)
	}

	// A transaction that no longer applies at Commit applies nothing.
	tx2 := s.Begin()
	var c *Move
	for _, mv := range unpaid[2:] {
		if d.Partner(mv.PartnerID).Active && mv.PartnerID > 3 {
			c = mv
			break
		}
	}
	if err := tx2.ArchivePartner(c.PartnerID); err != nil {
		t.Fatal(err)
	}
	if err := tx2.Post(c.ID); err == nil {
		t.Error("posting a posted move in a transaction: no error")
	}
	if err := tx2.Pay(c.ID, c.AmountResidual); err != nil {
		t.Fatal(err)
	}
	if err := s.Pay(c.ID, c.AmountResidual); err != nil {
		t.Fatal(err)
	}
	if err := tx2.Commit(); err == nil {
		t.Error("Commit of a payment of a move paid meanwhile: no error")
	}
	if p := readOne(o, "res.partner", c.PartnerID, "active"); p["active"] != true {
		t.Error("a failed Commit archived the partner")
	}
}

// TestWriteStampsSeconds: one RPC call is one transaction, stamped once,
// to the second, whatever the clock's fraction.
func TestWriteStampsSeconds(t *testing.T) {
	t.Parallel()
	srv, clk, o := changeServer(t)
	clk.Set(t0)
	o.must("res.partner", "write", []any{[]any{4, 5, 6}, map[string]any{"color": 3}}, nil)
	for _, id := range []int64{4, 5, 6} {
		if w := readOne(o, "res.partner", id, "write_date")["write_date"]; w != t0Stamp {
			t.Errorf("res.partner %d write_date %v, want %s", id, w, t0Stamp)
		}
	}
	if w := srv.Sim().Snapshot().Partner(5).WriteDate; w != t0Stamp {
		t.Errorf("snapshot write_date %q", w)
	}
}

// TestBusinessMethodsJSON2: over JSON-2 the business methods answer as
// Odoo 19's: False for action_post, null for button_draft, 422 for a user
// error.
func TestBusinessMethodsJSON2(t *testing.T) {
	t.Parallel()
	clk := &testClock{t: t0}
	srv := NewServer(Options{Moves: 200, Seed: 3, Now: clk.Now, Version: "19.0"})
	t.Cleanup(srv.Close)
	d := srv.Sim().Snapshot()
	mv := findMove(t, d, func(mv *Move) bool { return mv.State == "posted" && mv.MoveType == "out_invoice" })
	ids := map[string]any{"ids": []any{mv.ID}}
	if code, v, _ := json2(t, srv.URL, "account.move", "button_draft", "demo-api-key", ids); code != 200 || v != nil {
		t.Errorf("button_draft: %d %v, want 200 null", code, v)
	}
	if code, v, _ := json2(t, srv.URL, "account.move", "action_post", "demo-api-key", ids); code != 200 || v != false {
		t.Errorf("action_post: %d %v, want 200 false", code, v)
	}
	if code, v, _ := json2(t, srv.URL, "account.move", "action_post", "demo-api-key", ids); code != 422 ||
		!strings.Contains(v.(map[string]any)["message"].(string), "is already posted.") {
		t.Errorf("action_post twice: %d %v, want 422 already posted", code, v)
	}
	if got := srv.Sim().Snapshot().Move(mv.ID); got.State != "posted" || got.WriteDate != t0Stamp {
		t.Errorf("after button_draft and action_post: %s, write_date %s", got.State, got.WriteDate)
	}
}
