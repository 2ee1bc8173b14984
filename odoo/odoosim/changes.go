package odoosim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The changes Odoo makes to the records when business happens — payments
// reconciled, documents posted, reset to draft, cancelled or deleted,
// partners moving — with the write_date stamps Odoo gives them: every
// record whose stored values a change writes, including the stored computed
// and related fields Odoo flushes (BaseModel._write stamps them too), gets
// the write_date of the transaction's start (cr.now()), in whole seconds.
// Each helper of Sim is one transaction; Begin starts a long one whose
// changes carry Begin's time but become visible only at Commit.

// Tx is a transaction of changes (see Sim.Begin). Its methods are those of
// Sim that change data; each checks its change against the data as the
// transaction would leave it and returns the error the change meets, and
// nothing is visible to reads until Commit. A Tx is not safe for concurrent
// use.
type Tx struct {
	s     *Sim
	start time.Time
	ops   []func(x *db) error
	done  bool
}

// Begin starts a long transaction: its changes are stamped with the time
// of Begin (Options.Now) and become visible at Commit, all at once, as
// Odoo's rows are stamped with cr.now() when the transaction started and
// seen by others when it commits. A reader between Begin and Commit sees
// the old values; after Commit, the rows it changed carry write_dates older
// than what other transactions may have committed meanwhile.
func (s *Sim) Begin() *Tx { return &Tx{s: s, start: s.opts.Now()} }

var errTxDone = errors.New("odoosim: the transaction is committed or rolled back")

// do checks op against the data as the transaction leaves it, without
// making anything visible, and keeps it for Commit.
func (t *Tx) do(op func(x *db) error) error {
	if t.done {
		return errTxDone
	}
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	ops := append(slices.Clip(t.ops), op)
	if err := t.s.db.apply(t.start, ops, true); err != nil {
		return err
	}
	t.ops = ops
	return nil
}

// Commit applies the transaction's changes at once, stamped with Begin's
// time. If a change no longer applies (the data changed since), nothing is
// applied and the error is returned.
func (t *Tx) Commit() error {
	if t.done {
		return errTxDone
	}
	t.done = true
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	return t.s.db.apply(t.start, t.ops, false)
}

// Rollback drops the transaction's changes.
func (t *Tx) Rollback() { t.done, t.ops = true, nil }

// change runs op as a transaction of its own, starting now.
func (s *Sim) change(op func(x *db) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.apply(s.opts.Now(), []func(*db) error{op}, false)
}

// saved is the state of every table, to roll a transaction back. Records
// are never changed in place, so copying the slices of pointers is enough.
type saved struct {
	recs [][]rec
	n    []int
	next []int64
}

func (x *db) save() saved {
	s := saved{recs: make([][]rec, len(x.tabs)), n: make([]int, len(x.tabs)), next: make([]int64, len(x.tabs))}
	for i, t := range x.tabs {
		s.recs[i], s.n[i], s.next[i] = slices.Clone(t.recs), t.n, t.next
	}
	return s
}

func (x *db) restore(s saved) {
	for i, t := range x.tabs {
		t.recs, t.n, t.next = s.recs[i], s.n[i], s.next[i]
	}
}

// apply runs ops as one transaction started at start: all of them or, on
// the first error, none. With dry, nothing is kept either way.
func (x *db) apply(start time.Time, ops []func(*db) error, dry bool) error {
	st := x.save()
	x.at = stampOf(start)
	defer func() { x.at = "" }()
	for _, op := range ops {
		if err := op(x); err != nil {
			x.restore(st)
			return err
		}
	}
	if dry {
		x.restore(st)
	}
	return nil
}

func stampOf(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

// --- the changes ---------------------------------------------------------------

// Pay registers a payment of amount (in the move's currency) on a posted
// move and reconciles it with its open receivable/payable lines, the
// earliest due first, as Odoo's payment register does: each line it
// reaches gets a new amount_residual and amount_residual_currency, and
// reconciled and matching_number ("A<move id>" when fully paid, "P<move
// id>" when partly) when its residual is zero; the move gets a new
// amount_residual, amount_residual_signed and payment_state ('paid' when
// nothing is left, else 'partial'). Those records, and only those, get a
// new write_date. An amount above what is due pays it all. The payment
// itself (account.payment and its journal entry) is not created.
func (s *Sim) Pay(moveID int64, amount float64) error {
	return s.change(func(x *db) error { return x.pay(moveID, amount) })
}

// Pay is Sim.Pay in the transaction.
func (t *Tx) Pay(moveID int64, amount float64) error {
	return t.do(func(x *db) error { return x.pay(moveID, amount) })
}

// Post posts a draft move as account.move.action_post does: state
// 'posted', posted_before, a sequence number (JOURNAL/YEAR/NNNNN, RJOURNAL
// for refunds) if it has none; a customer document without invoice date
// gets today's (and its accounting date follows), a vendor one is refused
// ("The Bill/Refund date is required to validate this document."); the
// commercial partner's customer_rank or supplier_rank grows (by SQL in
// Odoo: no write_date). The move and all its lines (parent_state, and
// move_name and date when they change) get a new write_date.
func (s *Sim) Post(moveID int64) error {
	return s.change(func(x *db) error { return x.post(moveID) })
}

// Post is Sim.Post in the transaction.
func (t *Tx) Post(moveID int64) error { return t.do(func(x *db) error { return x.post(moveID) }) }

// ResetToDraft resets a posted or cancelled move to draft, as
// button_draft does: its lines are unreconciled first (the payments are
// taken off: amount_residual back to the full amount, reconciled false, no
// matching_number), so the move is 'not_paid' again with its whole amount
// due. The move and all its lines get a new write_date.
func (s *Sim) ResetToDraft(moveID int64) error {
	return s.change(func(x *db) error { return x.resetToDraft(moveID) })
}

// ResetToDraft is Sim.ResetToDraft in the transaction.
func (t *Tx) ResetToDraft(moveID int64) error {
	return t.do(func(x *db) error { return x.resetToDraft(moveID) })
}

// Cancel cancels a draft or posted move, as button_cancel does (a posted
// move is reset to draft first, payments taken off). The move and all its
// lines get a new write_date.
func (s *Sim) Cancel(moveID int64) error {
	return s.change(func(x *db) error { return x.cancel(moveID) })
}

// Cancel is Sim.Cancel in the transaction.
func (t *Tx) Cancel(moveID int64) error { return t.do(func(x *db) error { return x.cancel(moveID) }) }

// DeleteDraft deletes a draft move and its lines, as unlink does; nothing
// is stamped (a deletion shows in no write_date). It fails on a move that
// is not a draft, and with Odoo's messages on one that unlink refuses (see
// the package doc).
func (s *Sim) DeleteDraft(moveID int64) error {
	return s.change(func(x *db) error { return x.deleteDraft(moveID) })
}

// DeleteDraft is Sim.DeleteDraft in the transaction.
func (t *Tx) DeleteDraft(moveID int64) error {
	return t.do(func(x *db) error { return x.deleteDraft(moveID) })
}

// SetPartnerCountry sets a partner's country_id, as a write does: the
// partner gets a new write_date, and so do its active child contacts of
// type 'contact', whose address follows their parent's (Odoo's
// _children_sync/update_address; invoice, delivery and other addresses
// keep theirs, and grandchildren are not reached). When the partner is a
// company's, the company's country_id follows without a new write_date:
// res.company.country_id is not stored in Odoo, it is computed from the
// partner. countryID 0 clears the country.
func (s *Sim) SetPartnerCountry(partnerID, countryID int64) error {
	return s.change(func(x *db) error { return x.setPartnerCountry(partnerID, countryID) })
}

// SetPartnerCountry is Sim.SetPartnerCountry in the transaction.
func (t *Tx) SetPartnerCountry(partnerID, countryID int64) error {
	return t.do(func(x *db) error { return x.setPartnerCountry(partnerID, countryID) })
}

// SetCompanyCountry sets a company's country_id, as a write on res.company
// does: the company gets a new write_date, and its partner too (the
// field's inverse writes the partner's country), with the partner's
// contacts as SetPartnerCountry says.
func (s *Sim) SetCompanyCountry(companyID, countryID int64) error {
	return s.change(func(x *db) error { return x.setCompanyCountry(companyID, countryID) })
}

// SetCompanyCountry is Sim.SetCompanyCountry in the transaction.
func (t *Tx) SetCompanyCountry(companyID, countryID int64) error {
	return t.do(func(x *db) error { return x.setCompanyCountry(companyID, countryID) })
}

// ArchivePartner archives a partner (active = false): it gets a new
// write_date; its contacts and documents are not touched. Odoo refuses to
// archive the partner of an active user (a company's partner, here).
func (s *Sim) ArchivePartner(partnerID int64) error {
	return s.change(func(x *db) error { return x.archivePartner(partnerID) })
}

// ArchivePartner is Sim.ArchivePartner in the transaction.
func (t *Tx) ArchivePartner(partnerID int64) error {
	return t.do(func(x *db) error { return x.archivePartner(partnerID) })
}

// NewMove describes an invoice, bill or refund for CreateMove.
type NewMove struct {
	// MoveType is out_invoice, in_invoice, out_refund or in_refund.
	MoveType  string
	CompanyID int64
	// PartnerID is the customer or vendor (a contact is allowed: the lines
	// carry its commercial partner).
	PartnerID int64
	// CurrencyID is the document's currency (0: the company's).
	CurrencyID int64
	// InvoiceDate is the invoice (and accounting) date, "YYYY-MM-DD"
	// (default: today, by Options.Now).
	InvoiceDate string
	// Untaxed is the untaxed amount in the document currency (one product
	// line); TaxPercent adds a tax line.
	Untaxed    float64
	TaxPercent float64
	// DueDays are the installments' due dates, in days after the invoice
	// date (default: one installment, due in 30 days). The total is split
	// evenly, the last installment taking the rounding.
	DueDays []int
	// Draft leaves the move in draft instead of posting it.
	Draft bool
}

// CreateMove creates an invoice, bill or refund with its product line, tax
// line and one receivable/payable line per installment, posted unless
// nm.Draft, and returns its id. The move and its lines get the write_date
// (and create_date) of the transaction.
func (s *Sim) CreateMove(nm NewMove) (int64, error) {
	var id int64
	err := s.change(func(x *db) (err error) { id, err = x.createMove(nm); return err })
	return id, err
}

// CreateMove is Sim.CreateMove in the transaction. The id is the one the
// move gets if nothing else creates a move before Commit.
func (t *Tx) CreateMove(nm NewMove) (int64, error) {
	var id int64
	err := t.do(func(x *db) (err error) { id, err = x.createMove(nm); return err })
	return id, err
}

// SetInstallment changes an installment (a receivable/payable line of an
// invoice or bill): its date_maturity when dateMaturity is not "", and its
// amount (in the document currency, positive) when amount is not 0, the
// difference being taken from or given to the move's last other
// installment so that the move stays balanced; both installments must be
// still wholly unpaid. The lines changed get a new write_date, and the
// move when its invoice_date_due (the latest due date) changes.
func (s *Sim) SetInstallment(lineID int64, dateMaturity string, amount float64) error {
	return s.change(func(x *db) error { return x.setInstallment(lineID, dateMaturity, amount) })
}

// SetInstallment is Sim.SetInstallment in the transaction.
func (t *Tx) SetInstallment(lineID int64, dateMaturity string, amount float64) error {
	return t.do(func(x *db) error { return x.setInstallment(lineID, dateMaturity, amount) })
}

// --- implementations -------------------------------------------------------------

func (x *db) moveOf(id int64) (*Move, error) {
	mv, ok := x.moves.get(id).(*Move)
	if !ok {
		return nil, fmt.Errorf("odoosim: no account.move %d", id)
	}
	return mv, nil
}

// putStamped stores r with the transaction's write_date.
func (x *db) putStamped(t *table, r rec) {
	_, wd := t.m.stamps(r)
	*wd = x.stamp()
	t.put(r)
}

func (x *db) decimals(currencyID int64) int {
	if c, ok := x.currencies.get(currencyID).(*Currency); ok {
		return int(c.DecimalPlaces)
	}
	return 2
}

func roundTo(v float64, dec int) float64 {
	p := math.Pow(10, float64(dec))
	r := math.Round(math.Abs(v)*p) / p
	if v < 0 {
		return -r
	}
	return r
}

func sign(v float64) float64 { return cond(v < 0, -1.0, 1.0) }

// termLines are the receivable/payable lines of a move, by due date.
func (x *db) termLines(mv *Move) []*MoveLine {
	var out []*MoveLine
	for _, id := range mv.LineIDs {
		l, ok := x.lines.get(id).(*MoveLine)
		if !ok {
			continue
		}
		acc, _ := x.accounts.get(l.AccountID).(*Account)
		if l.DisplayType == "payment_term" || (acc != nil &&
			(acc.AccountType == "asset_receivable" || acc.AccountType == "liability_payable")) {
			out = append(out, l)
		}
	}
	slices.SortStableFunc(out, func(a, b *MoveLine) int {
		if c := strings.Compare(a.DateMaturity, b.DateMaturity); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out
}

// residualSign is the sign of amount_*_signed: negative for bills, vendor
// receipts and customer refunds.
func residualSign(moveType string) float64 {
	out, refund := strings.HasPrefix(moveType, "out_"), strings.HasSuffix(moveType, "_refund")
	return cond(out != refund, 1.0, -1.0)
}

// refreshResidual recomputes a move's residual amounts from its term lines
// (the stored computed fields of account.move) into c.
func (x *db) refreshResidual(c *Move, terms []*MoveLine) {
	var doc, comp float64
	for _, l := range terms {
		doc += math.Abs(l.AmountResidualCurrency)
		comp += math.Abs(l.AmountResidual)
	}
	c.AmountResidual = roundTo(doc, x.decimals(c.CurrencyID))
	c.AmountResidualSigned = roundTo(residualSign(c.MoveType)*comp, x.decimals(x.companyCurrency(c.CompanyID)))
}

func (x *db) pay(moveID int64, amount float64) error {
	mv, err := x.moveOf(moveID)
	if err != nil {
		return err
	}
	if mv.State != "posted" {
		return fmt.Errorf("odoosim: account.move %d is %s: only posted moves can be paid", moveID, mv.State)
	}
	dec, cdec := x.decimals(mv.CurrencyID), x.decimals(x.companyCurrency(mv.CompanyID))
	left := roundTo(amount, dec)
	if left <= 0 {
		return fmt.Errorf("odoosim: payment amount %v is not positive", amount)
	}
	terms := x.termLines(mv)
	open := false
	for _, l := range terms {
		open = open || (!l.Reconciled && l.AmountResidualCurrency != 0)
	}
	if !open {
		return fmt.Errorf("odoosim: account.move %d has nothing left to pay", moveID)
	}
	for i, l := range terms {
		if left <= 0 || l.Reconciled || l.AmountResidualCurrency == 0 {
			continue
		}
		openDoc := math.Abs(l.AmountResidualCurrency)
		take := math.Min(openDoc, left)
		left = roundTo(left-take, dec)
		rest := roundTo(openDoc-take, dec)
		c := *l
		c.AmountResidualCurrency = sign(l.AmountCurrency) * rest
		if rest == 0 {
			c.AmountResidual, c.Reconciled = 0, true
			c.MatchingNumber = "A" + strconv.FormatInt(mv.ID, 10)
		} else {
			ratio := rest / math.Abs(cond(l.AmountCurrency != 0, l.AmountCurrency, l.Balance))
			c.AmountResidual = roundTo(l.Balance*ratio, cdec)
			c.MatchingNumber = "P" + strconv.FormatInt(mv.ID, 10)
		}
		x.putStamped(x.lines, &c)
		terms[i] = &c
	}
	c := *mv
	x.refreshResidual(&c, terms)
	c.PaymentState = cond(c.AmountResidual == 0, "paid", "partial")
	x.putStamped(x.moves, &c)
	return nil
}

// restampLines gives a move's new name, state and date to its lines
// (related stored fields), stamping every line.
func (x *db) restampLines(mv *Move) {
	for _, id := range mv.LineIDs {
		if l, ok := x.lines.get(id).(*MoveLine); ok {
			c := *l
			c.MoveName, c.ParentState, c.Date = mv.Name, mv.State, mv.Date
			x.putStamped(x.lines, &c)
		}
	}
}

func isSaleDoc(t string) bool     { return strings.HasPrefix(t, "out_") }
func isPurchaseDoc(t string) bool { return strings.HasPrefix(t, "in_") }
func isDocument(t string) bool    { return isSaleDoc(t) || isPurchaseDoc(t) }

// nextName is the next sequence number of a move's journal and year.
func (x *db) nextName(mv *Move) string {
	code := ""
	if j, ok := x.journals.get(mv.JournalID).(*Journal); ok {
		code = j.Code
	}
	if strings.HasSuffix(mv.MoveType, "_refund") {
		code = "R" + code
	}
	prefix := code + "/" + mv.Date[:min(4, len(mv.Date))] + "/"
	last := 0
	for _, r := range x.moves.recs {
		o, ok := r.(*Move)
		if !ok || o.JournalID != mv.JournalID || !strings.HasPrefix(o.Name, prefix) {
			continue
		}
		if n, err := strconv.Atoi(o.Name[len(prefix):]); err == nil && n > last {
			last = n
		}
	}
	return fmt.Sprintf("%s%05d", prefix, last+1)
}

func (x *db) post(moveID int64) error {
	mv, err := x.moveOf(moveID)
	if err != nil {
		return err
	}
	if mv.State != "draft" {
		return userErr("The entry %s (id %d) is already posted.", mv.Name, mv.ID)
	}
	c := *mv
	if c.InvoiceDate == "" {
		switch {
		case isSaleDoc(c.MoveType):
			c.InvoiceDate = x.today()
			c.Date = c.InvoiceDate
		case isPurchaseDoc(c.MoveType):
			return userErr("The Bill/Refund date is required to validate this document.")
		}
	}
	if c.Name == "/" || c.Name == "" {
		c.Name = x.nextName(&c)
		if c.MoveType == "out_invoice" && c.PaymentReference == "" {
			c.PaymentReference = c.Name
		}
	}
	c.State, c.PostedBefore = "posted", true
	terms := x.termLines(&c)
	for _, l := range terms {
		if l.DateMaturity == "" || (mv.InvoiceDate == "" && c.InvoiceDate != "") {
			lc := *l
			lc.DateMaturity = c.InvoiceDate
			x.lines.put(&lc) // stamped with the others just below
		}
	}
	if c.MoveType != "entry" {
		c.InvoiceDateDue = x.latestDue(x.termLines(&c))
	}
	x.putStamped(x.moves, &c)
	x.restampLines(&c)
	x.bumpRank(&c)
	return nil
}

func (x *db) today() string { return x.now().UTC().Format("2006-01-02") }

func (x *db) latestDue(terms []*MoveLine) string {
	due := ""
	for _, l := range terms {
		due = max(due, l.DateMaturity)
	}
	return due
}

// bumpRank is _increase_rank: an UPDATE by SQL, no write_date.
func (x *db) bumpRank(mv *Move) {
	p, ok := x.partners.get(mv.CommercialPartnerID).(*Partner)
	if !ok {
		return
	}
	c := *p
	switch {
	case isSaleDoc(mv.MoveType):
		c.CustomerRank++
	case isPurchaseDoc(mv.MoveType):
		c.SupplierRank++
	default:
		return
	}
	x.partners.put(&c)
}

func (x *db) resetToDraft(moveID int64) error {
	mv, err := x.moveOf(moveID)
	if err != nil {
		return err
	}
	if mv.State != "posted" && mv.State != "cancel" {
		return userErr("Only posted/cancelled journal entries can be reset to draft.")
	}
	x.toDraft(mv)
	return nil
}

// toDraft unreconciles the move's lines and makes it a draft.
func (x *db) toDraft(mv *Move) {
	terms := x.termLines(mv)
	for i, l := range terms {
		c := *l
		c.AmountResidual, c.AmountResidualCurrency = l.Balance, l.AmountCurrency
		c.Reconciled, c.MatchingNumber = false, ""
		x.lines.put(&c) // stamped by restampLines
		terms[i] = &c
	}
	c := *mv
	c.State, c.PaymentState = "draft", "not_paid"
	if len(terms) > 0 {
		x.refreshResidual(&c, terms)
	}
	x.putStamped(x.moves, &c)
	x.restampLines(&c)
}

func (x *db) cancel(moveID int64) error {
	mv, err := x.moveOf(moveID)
	if err != nil {
		return err
	}
	if mv.State == "posted" {
		x.toDraft(mv)
		mv, _ = x.moveOf(moveID)
	}
	if mv.State != "draft" {
		return userErr("Only draft journal entries can be cancelled.")
	}
	c := *mv
	c.State = "cancel"
	x.putStamped(x.moves, &c)
	x.restampLines(&c)
	return nil
}

func (x *db) deleteDraft(moveID int64) error {
	mv, err := x.moveOf(moveID)
	if err != nil {
		return err
	}
	if mv.State != "draft" {
		if mv.State == "posted" {
			return userErr("You cannot delete an item linked to a posted entry.")
		}
		return fmt.Errorf("odoosim: account.move %d is %s, not a draft", moveID, mv.State)
	}
	return x.unlink(x.models["account.move"], []rec{mv})
}

func (x *db) partnerOf(id int64) (*Partner, error) {
	p, ok := x.partners.get(id).(*Partner)
	if !ok {
		return nil, fmt.Errorf("odoosim: no res.partner %d", id)
	}
	return p, nil
}

func (x *db) checkCountry(id int64) error {
	if id != 0 && x.countries.get(id) == nil {
		return fmt.Errorf("odoosim: no res.country %d", id)
	}
	return nil
}

func (x *db) setPartnerCountry(partnerID, countryID int64) error {
	p, err := x.partnerOf(partnerID)
	if err != nil {
		return err
	}
	if err := x.checkCountry(countryID); err != nil {
		return err
	}
	c := *p
	c.CountryID = countryID
	x.putStamped(x.partners, &c)
	x.syncAddress(p, &c)
	return nil
}

// syncAddress is what a partner's new address does to the records that
// follow it: its child contacts of type 'contact' (update_address, stamped)
// and its company (res.company's address fields are computed from the
// partner, not stored in Odoo: no write_date).
func (x *db) syncAddress(old, n *Partner) {
	if old.CountryID == n.CountryID && old.City == n.City && old.Street == n.Street {
		return
	}
	for _, r := range x.partners.recs {
		ch, ok := r.(*Partner)
		if !ok || ch.ParentID != n.ID || !ch.Active || ch.Type != "contact" {
			continue
		}
		c := *ch
		if old.CountryID != n.CountryID {
			c.CountryID = n.CountryID
		}
		if old.City != n.City {
			c.City = n.City
		}
		if old.Street != n.Street {
			c.Street = n.Street
		}
		x.putStamped(x.partners, &c)
	}
	for _, r := range x.companies.recs {
		co, ok := r.(*Company)
		if !ok || co.PartnerID != n.ID || (co.CountryID == n.CountryID && co.City == n.City) {
			continue
		}
		c := *co
		c.CountryID, c.City = n.CountryID, n.City
		x.companies.put(&c)
	}
}

func (x *db) setCompanyCountry(companyID, countryID int64) error {
	co, ok := x.companies.get(companyID).(*Company)
	if !ok {
		return fmt.Errorf("odoosim: no res.company %d", companyID)
	}
	if err := x.checkCountry(countryID); err != nil {
		return err
	}
	c := *co
	c.CountryID = countryID
	x.putStamped(x.companies, &c)
	if p, ok := x.partners.get(co.PartnerID).(*Partner); ok && p.CountryID != countryID {
		pc := *p
		pc.CountryID = countryID
		x.putStamped(x.partners, &pc)
		x.syncAddress(p, &pc)
	}
	return nil
}

// userPartnerErr is res.partner.write's refusal to archive the partner of
// an active user.
func (x *db) userPartnerErr(p *Partner) error {
	var names []string
	for _, r := range x.users.recs {
		if u, ok := r.(*resUser); ok && u.Active && u.PartnerID == p.ID {
			names = append(names, u.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return validationErr("You cannot archive contacts linked to an active user.\n"+
		"Ask an administrator to archive their associated user first.\n\nLinked active users :\n%s",
		strings.Join(names, ", "))
}

func (x *db) archivePartner(partnerID int64) error {
	p, err := x.partnerOf(partnerID)
	if err != nil {
		return err
	}
	if !p.Active {
		return fmt.Errorf("odoosim: res.partner %d is already archived", partnerID)
	}
	if err := x.userPartnerErr(p); err != nil {
		return err
	}
	c := *p
	c.Active = false
	x.putStamped(x.partners, &c)
	return nil
}

func (x *db) accountOf(company int64, types ...string) int64 {
	for _, typ := range types {
		for _, r := range x.accounts.recs {
			if a, ok := r.(*Account); ok && a.CompanyID == company && a.AccountType == typ && !a.Deprecated {
				return a.ID
			}
		}
	}
	return 0
}

func (x *db) createMove(nm NewMove) (int64, error) {
	switch nm.MoveType {
	case "out_invoice", "in_invoice", "out_refund", "in_refund":
	default:
		return 0, fmt.Errorf("odoosim: CreateMove makes invoices, bills and refunds, not %q", nm.MoveType)
	}
	co, ok := x.companies.get(nm.CompanyID).(*Company)
	if !ok {
		return 0, fmt.Errorf("odoosim: no res.company %d", nm.CompanyID)
	}
	if _, err := x.partnerOf(nm.PartnerID); err != nil {
		return 0, err
	}
	cur := cond(nm.CurrencyID != 0, nm.CurrencyID, co.CurrencyID)
	docCur, ok1 := x.currencies.get(cur).(*Currency)
	compCur, ok2 := x.currencies.get(co.CurrencyID).(*Currency)
	if !ok1 || !ok2 || docCur.Rate <= 0 || compCur.Rate <= 0 {
		return 0, fmt.Errorf("odoosim: no usable res.currency %d", cur)
	}
	if nm.Untaxed <= 0 {
		return 0, fmt.Errorf("odoosim: CreateMove needs a positive untaxed amount")
	}
	out, refund := isSaleDoc(nm.MoveType), strings.HasSuffix(nm.MoveType, "_refund")
	jtype := cond(out, "sale", "purchase")
	var journal int64
	for _, r := range x.journals.recs {
		if j, ok := r.(*Journal); ok && j.CompanyID == co.ID && j.Type == jtype && j.Active {
			journal = j.ID
			break
		}
	}
	term := x.accountOf(co.ID, cond(out, "asset_receivable", "liability_payable"))
	prod := x.accountOf(co.ID, cond(out, "income", "expense"))
	taxAcc := x.accountOf(co.ID, cond(out, "liability_current", "asset_current"))
	if journal == 0 || term == 0 || prod == 0 || (nm.TaxPercent != 0 && taxAcc == 0) {
		return 0, fmt.Errorf("odoosim: res.company %d has no %s journal or accounts for %s", co.ID, jtype, nm.MoveType)
	}
	invDate := nm.InvoiceDate
	if invDate == "" {
		invDate = x.today()
	}
	day, err := time.Parse("2006-01-02", invDate)
	if err != nil {
		return 0, fmt.Errorf("odoosim: bad invoice date %q", invDate)
	}
	due := nm.DueDays
	if len(due) == 0 {
		due = []int{30}
	}
	dec, cdec := int(docCur.DecimalPlaces), int(compCur.DecimalPlaces)
	toComp := func(v float64) float64 { return roundTo(v*compCur.Rate/docCur.Rate, cdec) }
	untaxed := roundTo(nm.Untaxed, dec)
	tax := roundTo(untaxed*nm.TaxPercent/100, dec)
	total := untaxed + tax
	untaxedComp, taxComp := toComp(untaxed), toComp(tax)
	totalComp := untaxedComp + taxComp
	dir := cond(out != refund, -1.0, 1.0) // sign of the product lines' balance

	commercial := x.commercialPartner(nm.PartnerID)
	id := x.moves.next
	now := x.stamp()
	mv := &Move{ID: id, Name: "/", MoveType: nm.MoveType, State: "draft", PaymentState: "not_paid",
		PartnerID: nm.PartnerID, CommercialPartnerID: commercial, CompanyID: co.ID, CurrencyID: cur,
		JournalID: journal, Date: invDate, InvoiceDate: invDate,
		AmountUntaxed: untaxed, AmountTax: tax, AmountTotal: total,
		AmountUntaxedSigned: residualSign(nm.MoveType) * untaxedComp,
		AmountTotalSigned:   residualSign(nm.MoveType) * totalComp,
		CreateDate:          now, WriteDate: now}
	lineID := x.lines.next
	add := func(l MoveLine) {
		l.ID, l.MoveID, l.MoveName, l.ParentState, l.Date = lineID, id, mv.Name, mv.State, mv.Date
		l.PartnerID, l.CompanyID, l.CurrencyID, l.JournalID = commercial, co.ID, cur, journal
		l.Debit, l.Credit = math.Max(l.Balance, 0), math.Max(-l.Balance, 0)
		l.CreateDate, l.WriteDate = now, now
		x.lines.put(&l)
		mv.LineIDs = append(mv.LineIDs, lineID)
		lineID++
	}
	add(MoveLine{Sequence: 10, DisplayType: "product", Name: cond(out, "Vente de marchandises", "Achats de marchandises"),
		AccountID: prod, Quantity: 1, PriceUnit: untaxed, PriceSubtotal: untaxed,
		Balance: dir * untaxedComp, AmountCurrency: dir * untaxed})
	if tax != 0 {
		add(MoveLine{Sequence: 100, DisplayType: "tax", Name: "TVA " + strconv.FormatFloat(nm.TaxPercent, 'f', -1, 64) + "%",
			AccountID: taxAcc, Balance: dir * taxComp, AmountCurrency: dir * tax})
	}
	n := float64(len(due))
	var doneDoc, doneComp float64
	for k, d := range due {
		part, partComp := roundTo(total/n, dec), roundTo(totalComp/n, cdec)
		if k == len(due)-1 {
			part, partComp = roundTo(total-doneDoc, dec), roundTo(totalComp-doneComp, cdec)
		}
		doneDoc += part
		doneComp += partComp
		l := MoveLine{Sequence: int64(1000 + k), DisplayType: "payment_term", AccountID: term,
			DateMaturity: day.AddDate(0, 0, d).Format("2006-01-02"),
			Balance:      -dir * partComp, AmountCurrency: -dir * part,
			AmountResidual: -dir * partComp, AmountResidualCurrency: -dir * part}
		if len(due) > 1 {
			l.Name = "installment #" + strconv.Itoa(k+1)
		}
		add(l)
	}
	mv.AmountResidual = total
	mv.AmountResidualSigned = mv.AmountTotalSigned
	mv.InvoiceDateDue = x.latestDue(x.termLines(mv))
	x.moves.put(mv)
	if nm.Draft {
		return id, nil
	}
	return id, x.post(id)
}

func (x *db) setInstallment(lineID int64, dateMaturity string, amount float64) error {
	l, ok := x.lines.get(lineID).(*MoveLine)
	if !ok {
		return fmt.Errorf("odoosim: no account.move.line %d", lineID)
	}
	mv, err := x.moveOf(l.MoveID)
	if err != nil {
		return err
	}
	terms := x.termLines(mv)
	if !slices.ContainsFunc(terms, func(t *MoveLine) bool { return t.ID == lineID }) {
		return fmt.Errorf("odoosim: account.move.line %d is not an installment", lineID)
	}
	if dateMaturity != "" {
		if _, err := time.Parse("2006-01-02", dateMaturity); err != nil {
			return fmt.Errorf("odoosim: bad date %q", dateMaturity)
		}
	}
	untouched := func(t *MoveLine) bool {
		return !t.Reconciled && t.AmountResidualCurrency == t.AmountCurrency && t.AmountResidual == t.Balance
	}
	c := *l
	if dateMaturity != "" {
		c.DateMaturity = dateMaturity
	}
	if amount != 0 {
		dec, cdec := x.decimals(mv.CurrencyID), x.decimals(x.companyCurrency(mv.CompanyID))
		amount = roundTo(math.Abs(amount), dec)
		var other *MoveLine
		for _, t := range terms {
			if t.ID != lineID && (other == nil || t.ID > other.ID) {
				other = t
			}
		}
		switch {
		case other == nil:
			return fmt.Errorf("odoosim: account.move %d has a single installment", mv.ID)
		case !untouched(l) || !untouched(other):
			return fmt.Errorf("odoosim: installments %d and %d of account.move %d must be unpaid", lineID, other.ID, mv.ID)
		}
		diff := amount - math.Abs(l.AmountCurrency)
		left := roundTo(math.Abs(other.AmountCurrency)-diff, dec)
		if left <= 0 {
			return fmt.Errorf("odoosim: account.move.line %d cannot give %v to installment %d", other.ID, diff, lineID)
		}
		rate := 1.0
		if l.AmountCurrency != 0 {
			rate = math.Abs(l.Balance / l.AmountCurrency)
		}
		s := sign(l.AmountCurrency)
		bal := roundTo(s*amount*rate, cdec)
		oc := *other
		oc.Balance = roundTo(other.Balance-(bal-l.Balance), cdec)
		oc.AmountCurrency = sign(other.AmountCurrency) * left
		oc.AmountResidual, oc.AmountResidualCurrency = oc.Balance, oc.AmountCurrency
		oc.Debit, oc.Credit = math.Max(oc.Balance, 0), math.Max(-oc.Balance, 0)
		c.Balance, c.AmountCurrency = bal, s*amount
		c.AmountResidual, c.AmountResidualCurrency = c.Balance, c.AmountCurrency
		c.Debit, c.Credit = math.Max(c.Balance, 0), math.Max(-c.Balance, 0)
		x.putStamped(x.lines, &oc)
	}
	x.putStamped(x.lines, &c)
	x.refreshDue(mv)
	return nil
}

// refreshDue recomputes invoice_date_due (stored computed: the latest due
// date of the installments) and stamps the move when it changes.
func (x *db) refreshDue(mv *Move) {
	if mv.MoveType == "entry" || mv.InvoiceDate == "" {
		return
	}
	due := x.latestDue(x.termLines(mv))
	if due != mv.InvoiceDateDue {
		c := *mv
		c.InvoiceDateDue = due
		x.putStamped(x.moves, &c)
	}
}

// endOfChain is _is_end_of_seq_chain for one move: no move of its journal
// has a later number with the same prefix.
func (x *db) endOfChain(mv *Move) bool {
	i := strings.LastIndexByte(mv.Name, '/')
	n, err := strconv.Atoi(mv.Name[i+1:])
	if i < 0 || err != nil {
		return true
	}
	prefix := mv.Name[:i+1]
	for _, r := range x.moves.recs {
		o, ok := r.(*Move)
		if !ok || o.ID == mv.ID || o.JournalID != mv.JournalID || !strings.HasPrefix(o.Name, prefix) {
			continue
		}
		if m, err := strconv.Atoi(o.Name[len(prefix):]); err == nil && m > n {
			return false
		}
	}
	return true
}

// --- the business methods served over RPC -------------------------------------------

func init() {
	for name, op := range map[string]func(x *db, id int64) error{
		"action_post":   (*db).post,
		"button_draft":  (*db).resetToDraft,
		"button_cancel": (*db).cancel,
	} {
		methods[name] = &methodDef{api: "records", model: "account.move", write: true, operation: "write",
			params: fixed(), run: businessMethod(name, op)}
	}
}

// businessMethod runs op on each record of the call, all or none (a
// failure rolls the call back, as Odoo's transaction). action_post returns
// False; button_draft and button_cancel return None, which XML-RPC cannot
// marshal: Odoo answers a fault after committing (see serveXMLRPC).
func businessMethod(name string, op func(x *db, id int64) error) func(c *call) (any, error) {
	return func(c *call) (any, error) {
		recs, missing, err := c.records("write")
		if err != nil {
			return nil, err
		}
		if len(missing) > 0 {
			return nil, recordMissing(c.m.name, missing, c.e.uid)
		}
		st := c.d.save()
		for _, r := range recs {
			if err := op(c.d, c.m.idOf(r)); err != nil {
				c.d.restore(st)
				return nil, err
			}
		}
		if name == "action_post" {
			return false, nil
		}
		return nil, nil
	}
}
