package odoosim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// RandomChanges applies n random changes, each a transaction of its own
// stamped with Options.Now, of the kinds Odoo users make between two loads,
// and returns a description of each: a payment, part or all of what is due
// (Pay); a draft posted (Post); a posted or cancelled move reset to draft
// (ResetToDraft); a draft or posted move cancelled (Cancel); a draft never
// posted deleted (DeleteDraft); a new posted invoice, bill or refund with
// one to three installments (CreateMove); an installment's due date or
// amount changed (SetInstallment); a partner's country changed or cleared
// (SetPartnerCountry, never a company's own partner); a company's country
// changed (SetCompanyCountry, rarely: it turns local documents into
// foreign ones); a partner archived (ArchivePartner). The same rng state
// and data give the same changes. A kind that finds no record it applies
// to gives way to another.
func (s *Sim) RandomChanges(rng *rand.Rand, n int) []string {
	out := make([]string, 0, n)
	for len(out) < n {
		desc := ""
		for try := 0; try < 50 && desc == ""; try++ {
			d := s.Snapshot()
			desc = s.randomChange(rng, d)
		}
		if desc == "" {
			desc = "no change possible"
		}
		out = append(out, desc)
	}
	return out
}

type changeKind struct {
	weight int
	apply  func(s *Sim, rng *rand.Rand, d *Data) string // "" when nothing applies
}

var changeKinds = []changeKind{
	{4, randomPay(false)},
	{4, randomPay(true)},
	{3, randomPost},
	{2, randomReset},
	{2, randomCancel},
	{2, randomDelete},
	{3, randomNewMove},
	{2, randomDueDate},
	{2, randomInstallmentAmount},
	{3, randomPartnerCountry},
	{1, randomCompanyCountry},
	{2, randomArchive},
}

func (s *Sim) randomChange(rng *rand.Rand, d *Data) string {
	total := 0
	for _, k := range changeKinds {
		total += k.weight
	}
	r := rng.IntN(total)
	for _, k := range changeKinds {
		if r < k.weight {
			return k.apply(s, rng, d)
		}
		r -= k.weight
	}
	return ""
}

func pickMove(rng *rand.Rand, d *Data, ok func(mv *Move) bool) *Move {
	var c []*Move
	for i := range d.Moves {
		if ok(&d.Moves[i]) {
			c = append(c, &d.Moves[i])
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[rng.IntN(len(c))]
}

func describe(mv *Move) string {
	return fmt.Sprintf("account.move %d (%s %s, %s/%s)", mv.ID, mv.MoveType, mv.Name, mv.State, mv.PaymentState)
}

// openTerms are the receivable/payable lines of mv in d, by due date.
func openTerms(d *Data, mv *Move, all bool) []*MoveLine {
	var out []*MoveLine
	for _, l := range d.Lines(mv) {
		if l.DisplayType == "payment_term" && (all || (!l.Reconciled && l.AmountResidualCurrency != 0)) {
			out = append(out, l)
		}
	}
	return out
}

func randomPay(full bool) func(s *Sim, rng *rand.Rand, d *Data) string {
	return func(s *Sim, rng *rand.Rand, d *Data) string {
		mv := pickMove(rng, d, func(mv *Move) bool {
			return mv.State == "posted" && isDocument(mv.MoveType) && mv.AmountResidual >= 0.02 &&
				len(openTerms(d, mv, false)) > 0
		})
		if mv == nil {
			return ""
		}
		amount := mv.AmountResidual
		if !full {
			amount = roundTo(mv.AmountResidual*(0.1+0.8*rng.Float64()), 2)
			amount = min(max(amount, 0.01), mv.AmountResidual-0.01)
		}
		if err := s.Pay(mv.ID, amount); err != nil {
			return ""
		}
		return fmt.Sprintf("pay %.2f of %s: %s", amount, describe(mv), cond(full, "paid", "partial"))
	}
}

func randomPost(s *Sim, rng *rand.Rand, d *Data) string {
	mv := pickMove(rng, d, func(mv *Move) bool {
		return mv.State == "draft" && (!isPurchaseDoc(mv.MoveType) || mv.InvoiceDate != "")
	})
	if mv == nil || s.Post(mv.ID) != nil {
		return ""
	}
	return "post " + describe(mv)
}

func randomReset(s *Sim, rng *rand.Rand, d *Data) string {
	mv := pickMove(rng, d, func(mv *Move) bool { return mv.State == "posted" || mv.State == "cancel" })
	if mv == nil || s.ResetToDraft(mv.ID) != nil {
		return ""
	}
	return "reset to draft " + describe(mv)
}

func randomCancel(s *Sim, rng *rand.Rand, d *Data) string {
	mv := pickMove(rng, d, func(mv *Move) bool { return mv.State == "posted" || mv.State == "draft" })
	if mv == nil || s.Cancel(mv.ID) != nil {
		return ""
	}
	return "cancel " + describe(mv)
}

func randomDelete(s *Sim, rng *rand.Rand, d *Data) string {
	mv := pickMove(rng, d, func(mv *Move) bool { return mv.State == "draft" && !mv.PostedBefore })
	if mv == nil || s.DeleteDraft(mv.ID) != nil {
		return ""
	}
	return "delete draft " + describe(mv)
}

// companyPartners are the partners of the companies (and of the users).
func companyPartners(d *Data) map[int64]bool {
	out := map[int64]bool{}
	for _, c := range d.Companies {
		out[c.PartnerID] = true
	}
	return out
}

func randomNewMove(s *Sim, rng *rand.Rand, d *Data) string {
	if len(d.Companies) == 0 {
		return ""
	}
	co := d.Companies[rng.IntN(len(d.Companies))]
	types := []string{"out_invoice", "out_invoice", "out_invoice", "in_invoice", "in_invoice", "in_invoice",
		"out_refund", "in_refund"}
	mt := types[rng.IntN(len(types))]
	own := companyPartners(d)
	var partners []int64
	for _, p := range d.Partners {
		if p.Active && !own[p.ID] && (p.CompanyID == 0 || p.CompanyID == co.ID) {
			partners = append(partners, p.ID)
		}
	}
	if len(partners) == 0 {
		return ""
	}
	var currencies []int64
	for _, c := range d.Currencies {
		if c.Active && c.Rate > 0 {
			currencies = append(currencies, c.ID)
		}
	}
	cur := co.CurrencyID
	if len(currencies) > 0 && rng.Float64() < 0.3 {
		cur = currencies[rng.IntN(len(currencies))]
	}
	dues := [][]int{{0}, {30}, {30, 60}, {30, 60, 90}}
	due := dues[rng.IntN(len(dues))]
	if strings.HasSuffix(mt, "_refund") {
		due = []int{0}
	}
	s.mu.RLock()
	today := s.db.now().UTC()
	s.mu.RUnlock()
	nm := NewMove{MoveType: mt, CompanyID: co.ID, PartnerID: partners[rng.IntN(len(partners))], CurrencyID: cur,
		InvoiceDate: today.AddDate(0, 0, -rng.IntN(30)).Format("2006-01-02"),
		Untaxed:     roundTo(100+rng.Float64()*50000, 2), TaxPercent: []float64{0, 10, 20}[rng.IntN(3)], DueDays: due}
	id, err := s.CreateMove(nm)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("new posted %s account.move %d of res.partner %d for res.company %d, %.2f untaxed, %d installment(s)",
		mt, id, nm.PartnerID, co.ID, nm.Untaxed, len(due))
}

func randomDueDate(s *Sim, rng *rand.Rand, d *Data) string {
	mv := pickMove(rng, d, func(mv *Move) bool {
		return mv.State == "posted" && isDocument(mv.MoveType) && len(openTerms(d, mv, true)) > 0
	})
	if mv == nil {
		return ""
	}
	terms := openTerms(d, mv, true)
	l := terms[rng.IntN(len(terms))]
	day, err := time.Parse("2006-01-02", l.DateMaturity)
	if err != nil {
		return ""
	}
	delta := rng.IntN(41) - 10
	if delta == 0 {
		delta = 15
	}
	due := day.AddDate(0, 0, delta).Format("2006-01-02")
	if s.SetInstallment(l.ID, due, 0) != nil {
		return ""
	}
	return fmt.Sprintf("move installment account.move.line %d of %s due %s to %s", l.ID, describe(mv), l.DateMaturity, due)
}

func randomInstallmentAmount(s *Sim, rng *rand.Rand, d *Data) string {
	untouched := func(l *MoveLine) bool {
		return !l.Reconciled && l.AmountResidualCurrency == l.AmountCurrency && l.AmountResidual == l.Balance
	}
	ok := func(mv *Move) bool {
		terms := openTerms(d, mv, true)
		if mv.State != "posted" || len(terms) < 2 {
			return false
		}
		for _, l := range terms {
			if !untouched(l) {
				return false
			}
		}
		return true
	}
	mv := pickMove(rng, d, ok)
	if mv == nil {
		return ""
	}
	terms := openTerms(d, mv, true)
	l := terms[rng.IntN(len(terms))]
	var other *MoveLine
	for _, t := range terms {
		if t.ID != l.ID && (other == nil || t.ID > other.ID) {
			other = t
		}
	}
	both := math.Abs(l.AmountCurrency) + math.Abs(other.AmountCurrency)
	amount := roundTo(both*(0.2+0.6*rng.Float64()), 2)
	if amount <= 0 || amount >= both || amount == math.Abs(l.AmountCurrency) {
		return ""
	}
	if s.SetInstallment(l.ID, "", amount) != nil {
		return ""
	}
	return fmt.Sprintf("set installment account.move.line %d of %s to %.2f (was %.2f; line %d takes the difference)",
		l.ID, describe(mv), amount, math.Abs(l.AmountCurrency), other.ID)
}

func randomPartner(rng *rand.Rand, d *Data) *Partner {
	own := companyPartners(d)
	var c []*Partner
	for i := range d.Partners {
		if p := &d.Partners[i]; p.Active && !own[p.ID] {
			c = append(c, p)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[rng.IntN(len(c))]
}

func randomCountry(rng *rand.Rand, d *Data, not int64) int64 {
	if len(d.Countries) < 2 {
		return 0
	}
	for {
		if c := d.Countries[rng.IntN(len(d.Countries))].ID; c != not {
			return c
		}
	}
}

func randomPartnerCountry(s *Sim, rng *rand.Rand, d *Data) string {
	p := randomPartner(rng, d)
	if p == nil {
		return ""
	}
	country := randomCountry(rng, d, p.CountryID)
	if rng.Float64() < 0.1 && p.CountryID != 0 {
		country = 0
	}
	if country == p.CountryID || s.SetPartnerCountry(p.ID, country) != nil {
		return ""
	}
	return fmt.Sprintf("set country of res.partner %d (%s) from %d to %d", p.ID, p.DisplayName, p.CountryID, country)
}

func randomCompanyCountry(s *Sim, rng *rand.Rand, d *Data) string {
	if len(d.Companies) == 0 {
		return ""
	}
	co := d.Companies[rng.IntN(len(d.Companies))]
	country := randomCountry(rng, d, co.CountryID)
	if country == 0 || s.SetCompanyCountry(co.ID, country) != nil {
		return ""
	}
	return fmt.Sprintf("set country of res.company %d (%s) from %d to %d", co.ID, co.Name, co.CountryID, country)
}

func randomArchive(s *Sim, rng *rand.Rand, d *Data) string {
	p := randomPartner(rng, d)
	if p == nil || s.ArchivePartner(p.ID) != nil {
		return ""
	}
	return fmt.Sprintf("archive res.partner %d (%s)", p.ID, p.DisplayName)
}
