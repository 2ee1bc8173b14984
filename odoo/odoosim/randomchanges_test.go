package odoosim

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestRandomChanges applies random changes and checks what any change must
// keep: every record whose values changed has a new write_date (but for
// the values Odoo writes without one: partner ranks, a company's country
// that follows its partner), the moves stay consistent with their lines,
// only drafts disappear, and the same seed gives the same changes.
func TestRandomChanges(t *testing.T) {
	t.Parallel()
	run := func() ([]string, *Data, *Data) {
		srv, clk, _ := changeServer(t)
		before := srv.Sim().Snapshot()
		clk.Set(t0)
		desc := srv.Sim().RandomChanges(rand.New(rand.NewPCG(7, 8)), 150)
		return desc, before, srv.Sim().Snapshot()
	}
	desc, before, after := run()
	desc2, _, after2 := run()
	if !reflect.DeepEqual(desc, desc2) || !reflect.DeepEqual(after, after2) {
		t.Fatal("RandomChanges is not deterministic")
	}
	kinds := map[string]int{}
	for _, s := range desc {
		kinds[strings.Fields(s)[0]]++
	}
	for _, k := range []string{"pay", "post", "reset", "cancel", "delete", "new", "move", "set", "archive"} {
		if kinds[k] == 0 {
			t.Errorf("no change of kind %q in %v", k, kinds)
		}
	}
	for i := range before.Moves {
		mv := &before.Moves[i]
		now := after.Move(mv.ID)
		if now == nil {
			if mv.State != "draft" {
				t.Errorf("%s move %d deleted", mv.State, mv.ID)
			}
			continue
		}
		c := *now
		c.WriteDate = mv.WriteDate
		if !reflect.DeepEqual(&c, mv) && now.WriteDate != t0Stamp {
			t.Errorf("account.move %d changed without a new write_date:\n%+v\n%+v", mv.ID, mv, now)
		}
	}
	for i := range before.MoveLines {
		l := &before.MoveLines[i]
		if now := after.MoveLine(l.ID); now != nil && *now != *l && now.WriteDate != t0Stamp {
			t.Errorf("account.move.line %d changed without a new write_date:\n%+v\n%+v", l.ID, l, now)
		}
	}
	for i := range before.Partners {
		p := &before.Partners[i]
		now := *after.Partner(p.ID)
		now.CustomerRank, now.SupplierRank = p.CustomerRank, p.SupplierRank
		if now != *p && now.WriteDate != t0Stamp {
			t.Errorf("res.partner %d changed without a new write_date:\n%+v\n%+v", p.ID, p, now)
		}
	}
	for _, mv := range after.Moves {
		var bal, due, dueComp float64
		for _, l := range after.Lines(&mv) {
			bal += l.Balance
			if l.ParentState != mv.State || l.MoveName != mv.Name || l.Date != mv.Date {
				t.Errorf("line %d of move %d: %s %s %s, move %s %s %s", l.ID, mv.ID, l.ParentState, l.MoveName, l.Date,
					mv.State, mv.Name, mv.Date)
			}
			if isTerm(l) {
				due += math.Abs(l.AmountResidualCurrency)
				dueComp += math.Abs(l.AmountResidual)
				if l.Reconciled != (l.AmountResidualCurrency == 0) {
					t.Errorf("line %d: reconciled %v with %.2f due", l.ID, l.Reconciled, l.AmountResidualCurrency)
				}
			}
		}
		if !near(bal, 0) {
			t.Errorf("move %d unbalanced by %.2f", mv.ID, bal)
		}
		if mv.MoveType == "entry" || mv.PaymentState == "reversed" {
			continue
		}
		if !near(due, mv.AmountResidual) {
			t.Errorf("move %d: amount_residual %.2f, its installments %.2f", mv.ID, mv.AmountResidual, due)
		}
		switch {
		case mv.State != "posted" && mv.PaymentState != "not_paid",
			mv.State == "posted" && mv.AmountResidual == 0 && mv.PaymentState != "paid" && mv.PaymentState != "in_payment",
			mv.State == "posted" && mv.AmountResidual != 0 && near(mv.AmountResidual, mv.AmountTotal) && mv.PaymentState != "not_paid",
			mv.State == "posted" && mv.AmountResidual != 0 && !near(mv.AmountResidual, mv.AmountTotal) && mv.PaymentState != "partial":
			t.Errorf("move %d: %s/%s with %.2f of %.2f due", mv.ID, mv.State, mv.PaymentState, mv.AmountResidual, mv.AmountTotal)
		}
		if mv.State == "posted" && (mv.Name == "/" || !mv.PostedBefore) {
			t.Errorf("posted move %d named %q, posted_before %v", mv.ID, mv.Name, mv.PostedBefore)
		}
	}
	for _, co := range after.Companies {
		if p := after.Partner(co.PartnerID); p.CountryID != co.CountryID {
			t.Errorf("company %d in country %d, its partner in %d", co.ID, co.CountryID, p.CountryID)
		}
	}
}
