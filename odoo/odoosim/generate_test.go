package odoosim

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	a, b := Generate(600, 7), Generate(600, 7)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different data")
	}
	c := Generate(600, 8)
	if reflect.DeepEqual(a.Moves, c.Moves) || reflect.DeepEqual(a.Partners, c.Partners) {
		t.Fatal("different seeds, same data")
	}
	// Through the simulator too: the snapshots of two servers agree.
	s1, s2 := NewHandler(Options{Moves: 300, Seed: 3}), NewHandler(Options{Moves: 300, Seed: 3})
	if !reflect.DeepEqual(s1.Snapshot(), s2.Snapshot()) {
		t.Fatal("two simulators with the same options differ")
	}
	if n := len(NewHandler(Options{Moves: -1}).Snapshot().Moves); n != 0 {
		t.Errorf("Moves -1 gave %d moves", n)
	}
	if n := len(NewHandler(Options{}).Snapshot().Moves); n != 200 {
		t.Errorf("default Moves gave %d moves", n)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.005 }

// TestGenerateInvariants checks, for several seeds, that the generated data
// is consistent the way Odoo's is and holds every edge case the ETL jobs
// must handle.
func TestGenerateInvariants(t *testing.T) {
	t.Parallel()
	for seed := int64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			d := NewHandler(Options{Moves: 2000, Seed: seed}).Snapshot()
			checkInvariants(t, d)
		})
	}
}

func checkInvariants(t *testing.T, d *Data) {
	t.Helper()
	countries := map[int64]bool{}
	currencies := map[string]bool{}
	for _, c := range d.Companies {
		countries[c.CountryID] = true
		currencies[d.Currency(c.CurrencyID).Name] = true
	}
	if len(d.Companies) < 2 || len(countries) < 2 || len(currencies) < 2 {
		t.Errorf("companies: %d in %d countries with %d currencies", len(d.Companies), len(countries), len(currencies))
	}
	for _, code := range []string{"MAD", "EUR", "USD", "CNY"} {
		found := false
		for _, c := range d.Currencies {
			found = found || (c.Name == code && c.Active)
		}
		if !found {
			t.Errorf("no active currency %s", code)
		}
	}

	seen := map[string]int{}
	see := func(k string) { seen[k]++ }
	var postedInvoices, paidInvoices int
	moveCurrencies := map[int64]bool{}
	for i := range d.Moves {
		mv := &d.Moves[i]
		co := d.Company(mv.CompanyID)
		see("type " + mv.MoveType)
		see("state " + mv.State)
		moveCurrencies[mv.CurrencyID] = true
		if mv.CurrencyID != co.CurrencyID {
			see("foreign currency")
		}
		if mv.State == "draft" && mv.InvoiceDate == "" && mv.MoveType != "entry" {
			see("draft without invoice date")
		}
		if mv.MoveType == "entry" && mv.InvoiceDateDue == "" {
			see("entry without due date")
		}
		if mv.WriteDate < mv.CreateDate {
			t.Errorf("move %d written before created", mv.ID)
		}
		lines := d.Lines(mv)
		if len(lines) != len(mv.LineIDs) || len(lines) == 0 {
			t.Errorf("move %d: %d lines for %d ids", mv.ID, len(lines), len(mv.LineIDs))
			continue
		}
		var balance float64
		var terms []*MoveLine
		maxMaturity := ""
		for _, l := range lines {
			balance += l.Balance
			if l.MoveName != mv.Name || l.ParentState != mv.State || l.CompanyID != mv.CompanyID || l.MoveID != mv.ID {
				t.Errorf("line %d does not follow move %d", l.ID, mv.ID)
			}
			if !near(l.Debit-l.Credit, l.Balance) {
				t.Errorf("line %d: debit %v credit %v balance %v", l.ID, l.Debit, l.Credit, l.Balance)
			}
			if l.DisplayType == "payment_term" {
				terms = append(terms, l)
				maxMaturity = max(maxMaturity, l.DateMaturity)
			}
		}
		if !near(balance, 0) {
			t.Errorf("move %d is not balanced: %v", mv.ID, balance)
		}
		if mv.MoveType == "entry" {
			continue
		}
		isInvoice := mv.MoveType == "in_invoice" || mv.MoveType == "out_invoice"
		if mv.State == "posted" && isInvoice {
			postedInvoices++
			if mv.PaymentState == "paid" || mv.PaymentState == "in_payment" {
				paidInvoices++
			}
		}
		if mv.InvoiceDate != "" && mv.InvoiceDateDue != maxMaturity {
			t.Errorf("move %d: invoice_date_due %s, latest installment %s", mv.ID, mv.InvoiceDateDue, maxMaturity)
		}
		// Residuals: the move's is the sum of its open installments, in the
		// document currency; payable lines of bills are negative.
		var open float64
		var reconciled, partialLines int
		for _, l := range terms {
			acc := d.Account(l.AccountID)
			want := map[bool]string{true: "asset_receivable", false: "liability_payable"}[strings.HasPrefix(mv.MoveType, "out_")]
			if acc.AccountType != want {
				t.Errorf("line %d of %s on a %s account", l.ID, mv.MoveType, acc.AccountType)
			}
			if l.DateMaturity == "" {
				t.Errorf("installment %d without a due date", l.ID)
			}
			open += l.AmountResidualCurrency
			if mv.MoveType == "in_invoice" && (l.AmountResidual > 0 || l.Balance >= 0) {
				t.Errorf("payable line %d of a bill: balance %v residual %v", l.ID, l.Balance, l.AmountResidual)
			}
			if l.Reconciled != (l.AmountResidual == 0) {
				t.Errorf("line %d: reconciled %v with residual %v", l.ID, l.Reconciled, l.AmountResidual)
			}
			if l.Reconciled {
				reconciled++
			} else if !near(l.AmountResidualCurrency, l.AmountCurrency) {
				partialLines++
			}
		}
		if !near(math.Abs(open), mv.AmountResidual) {
			t.Errorf("move %d: amount_residual %v, open installments %v", mv.ID, mv.AmountResidual, open)
		}
		if !near(mv.AmountUntaxed+mv.AmountTax, mv.AmountTotal) {
			t.Errorf("move %d: %v + %v != %v", mv.ID, mv.AmountUntaxed, mv.AmountTax, mv.AmountTotal)
		}
		switch mv.PaymentState {
		case "paid", "in_payment", "reversed":
			if mv.AmountResidual != 0 {
				t.Errorf("%s move %d with residual %v", mv.PaymentState, mv.ID, mv.AmountResidual)
			}
		case "partial":
			see("partial")
			if mv.AmountResidual <= 0 || mv.AmountResidual >= mv.AmountTotal {
				t.Errorf("partial move %d: residual %v of %v", mv.ID, mv.AmountResidual, mv.AmountTotal)
			}
			if mv.MoveType == "in_invoice" && reconciled > 0 {
				see("partial bill with a paid installment")
			}
			if partialLines > 0 {
				see("partly paid installment")
			}
		case "not_paid":
			if mv.State == "posted" && !near(mv.AmountResidual, mv.AmountTotal) {
				t.Errorf("unpaid move %d: residual %v of %v", mv.ID, mv.AmountResidual, mv.AmountTotal)
			}
		}
		if mv.MoveType == "in_invoice" {
			see(fmt.Sprintf("bill with %d installments", len(terms)))
		}
		// The edge cases of the three ETL jobs.
		unpaid := mv.State == "posted" && (mv.PaymentState == "not_paid" || mv.PaymentState == "partial")
		if !unpaid || (mv.MoveType != "in_invoice" && mv.MoveType != "out_invoice") {
			continue
		}
		p := d.Partner(mv.PartnerID)
		cp := d.Partner(mv.CommercialPartnerID)
		kind := map[bool]string{true: "vendor", false: "customer"}[mv.MoveType == "in_invoice"]
		where := "no country"
		if cp.CountryID != 0 {
			where = map[bool]string{true: "local", false: "foreign"}[cp.CountryID == co.CountryID]
		}
		see("unpaid " + kind + " " + where)
		if !p.Active {
			see("archived unpaid " + kind + " " + where)
		}
		if p.ParentID != 0 {
			see("unpaid to a contact")
		}
	}
	if len(moveCurrencies) < 3 {
		t.Errorf("moves use %d currencies", len(moveCurrencies))
	}
	if ratio := float64(paidInvoices) / float64(postedInvoices); ratio < 0.3 || ratio > 0.5 {
		t.Errorf("%.0f%% of the posted invoices and bills are paid, want about 40%%", ratio*100)
	}
	for _, k := range []string{
		"type in_invoice", "type out_invoice", "type in_refund", "type out_refund", "type entry",
		"type out_receipt", "type in_receipt", "state draft", "state posted", "state cancel",
		"foreign currency", "draft without invoice date", "entry without due date", "partial",
		"partial bill with a paid installment", "partly paid installment",
		"bill with 1 installments", "bill with 2 installments", "bill with 3 installments",
		"unpaid vendor local", "unpaid vendor foreign", "unpaid vendor no country",
		"unpaid customer local", "unpaid customer foreign", "unpaid customer no country",
		"archived unpaid vendor local", "archived unpaid vendor foreign",
		"archived unpaid customer local", "archived unpaid customer foreign", "unpaid to a contact",
	} {
		if seen[k] == 0 {
			t.Errorf("no %s", k)
		}
	}
	var archived, noCountry int
	for _, p := range d.Partners {
		if !p.Active {
			archived++
		}
		if p.CountryID == 0 {
			noCountry++
		}
	}
	if archived == 0 || noCountry == 0 {
		t.Errorf("%d archived partners, %d without country", archived, noCountry)
	}
}
