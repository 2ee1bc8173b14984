package odoosim

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
)

// The record types below are the simulator's tables, one per Odoo model.
// Field names follow Odoo 17 (the JSON tags are the Odoo field names).
// Conventions: an empty string is an unset char, date or datetime field (Odoo
// sends False), a zero id is an unset many2one. Dates are "YYYY-MM-DD",
// datetimes "YYYY-MM-DD HH:MM:SS" in UTC. Amounts are rounded to the
// currency's decimals.

// Country is res.country.
type Country struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Code       string `json:"code"`
	CurrencyID int64  `json:"currency_id"`
	PhoneCode  int64  `json:"phone_code"`
	CreateDate string `json:"create_date"`
	WriteDate  string `json:"write_date"`
}

// Currency is res.currency. Rate is the number of units of this currency for
// one euro; the simulator converts amounts between currencies with it.
type Currency struct {
	ID            int64   `json:"id"`
	Name          string  `json:"name"` // ISO code, "EUR"
	FullName      string  `json:"full_name"`
	Symbol        string  `json:"symbol"`
	Rounding      float64 `json:"rounding"`
	DecimalPlaces int64   `json:"decimal_places"`
	Active        bool    `json:"active"`
	Rate          float64 `json:"rate"`
	CreateDate    string  `json:"create_date"`
	WriteDate     string  `json:"write_date"`
}

// Company is res.company.
type Company struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	PartnerID  int64  `json:"partner_id"`
	CountryID  int64  `json:"country_id"`
	CurrencyID int64  `json:"currency_id"`
	ParentID   int64  `json:"parent_id"`
	VAT        string `json:"vat"`
	City       string `json:"city"`
	Active     bool   `json:"active"`
	CreateDate string `json:"create_date"`
	WriteDate  string `json:"write_date"`
}

// Partner is res.partner. DisplayName is Odoo's complete_name ("Parent,
// Contact" for a contact of a company); the simulator maintains it from Name
// and ParentID.
type Partner struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	DisplayName  string `json:"display_name"`
	ParentID     int64  `json:"parent_id"`
	IsCompany    bool   `json:"is_company"`
	Type         string `json:"type"` // contact, invoice, delivery, other
	CountryID    int64  `json:"country_id"`
	Street       string `json:"street"`
	City         string `json:"city"`
	Email        string `json:"email"`
	Phone        string `json:"phone"`
	VAT          string `json:"vat"`
	Ref          string `json:"ref"`
	CompanyID    int64  `json:"company_id"`
	Active       bool   `json:"active"`
	CustomerRank int64  `json:"customer_rank"`
	SupplierRank int64  `json:"supplier_rank"`
	Color        int64  `json:"color"`
	CreateDate   string `json:"create_date"`
	WriteDate    string `json:"write_date"`
}

// Journal is account.journal.
type Journal struct {
	ID               int64  `json:"id"`
	Name             string `json:"name"`
	Code             string `json:"code"`
	Type             string `json:"type"` // sale, purchase, cash, bank, general
	CompanyID        int64  `json:"company_id"`
	CurrencyID       int64  `json:"currency_id"`
	DefaultAccountID int64  `json:"default_account_id"`
	Sequence         int64  `json:"sequence"`
	Active           bool   `json:"active"`
	CreateDate       string `json:"create_date"`
	WriteDate        string `json:"write_date"`
}

// Account is account.account.
type Account struct {
	ID          int64  `json:"id"`
	Code        string `json:"code"`
	Name        string `json:"name"`
	AccountType string `json:"account_type"` // asset_receivable, liability_payable, income, expense, ...
	CompanyID   int64  `json:"company_id"`
	CurrencyID  int64  `json:"currency_id"`
	Reconcile   bool   `json:"reconcile"`
	Deprecated  bool   `json:"deprecated"`
	CreateDate  string `json:"create_date"`
	WriteDate   string `json:"write_date"`
}

// Move is account.move (invoices, bills, refunds, receipts and entries).
// Amount* are in the document currency (CurrencyID) and positive;
// Amount*Signed are in the company currency, negative for bills and
// customer refunds, as in Odoo 17. AmountResidual is the sum of the open
// residuals of the payable/receivable lines, in the document currency.
// LineIDs is maintained by the simulator from the lines' MoveID.
type Move struct {
	ID                   int64   `json:"id"`
	Name                 string  `json:"name"` // "/" for a draft never posted
	Ref                  string  `json:"ref"`
	MoveType             string  `json:"move_type"`
	State                string  `json:"state"`
	PaymentState         string  `json:"payment_state"`
	PartnerID            int64   `json:"partner_id"`
	CommercialPartnerID  int64   `json:"commercial_partner_id"`
	CompanyID            int64   `json:"company_id"`
	CurrencyID           int64   `json:"currency_id"`
	JournalID            int64   `json:"journal_id"`
	Date                 string  `json:"date"`
	InvoiceDate          string  `json:"invoice_date"`
	InvoiceDateDue       string  `json:"invoice_date_due"`
	InvoiceOrigin        string  `json:"invoice_origin"`
	PaymentReference     string  `json:"payment_reference"`
	AmountUntaxed        float64 `json:"amount_untaxed"`
	AmountTax            float64 `json:"amount_tax"`
	AmountTotal          float64 `json:"amount_total"`
	AmountResidual       float64 `json:"amount_residual"`
	AmountUntaxedSigned  float64 `json:"amount_untaxed_signed"`
	AmountTotalSigned    float64 `json:"amount_total_signed"`
	AmountResidualSigned float64 `json:"amount_residual_signed"`
	PostedBefore         bool    `json:"posted_before"`
	LineIDs              []int64 `json:"line_ids"`
	CreateDate           string  `json:"create_date"`
	WriteDate            string  `json:"write_date"`
}

// MoveLine is account.move.line (journal items). Debit, Credit, Balance and
// AmountResidual are in the company currency; AmountCurrency and
// AmountResidualCurrency in the line's currency. Payable lines of a vendor
// bill are credits: their balance and residuals are negative.
type MoveLine struct {
	ID                     int64   `json:"id"`
	MoveID                 int64   `json:"move_id"`
	MoveName               string  `json:"move_name"`
	ParentState            string  `json:"parent_state"`
	Sequence               int64   `json:"sequence"`
	DisplayType            string  `json:"display_type"` // product, tax, payment_term, line_section, line_note
	Name                   string  `json:"name"`
	Date                   string  `json:"date"`
	DateMaturity           string  `json:"date_maturity"`
	AccountID              int64   `json:"account_id"`
	PartnerID              int64   `json:"partner_id"`
	CompanyID              int64   `json:"company_id"`
	CurrencyID             int64   `json:"currency_id"`
	JournalID              int64   `json:"journal_id"`
	Debit                  float64 `json:"debit"`
	Credit                 float64 `json:"credit"`
	Balance                float64 `json:"balance"`
	AmountCurrency         float64 `json:"amount_currency"`
	AmountResidual         float64 `json:"amount_residual"`
	AmountResidualCurrency float64 `json:"amount_residual_currency"`
	Quantity               float64 `json:"quantity"`
	PriceUnit              float64 `json:"price_unit"`
	PriceSubtotal          float64 `json:"price_subtotal"`
	Reconciled             bool    `json:"reconciled"`
	MatchingNumber         string  `json:"matching_number"`
	CreateDate             string  `json:"create_date"`
	WriteDate              string  `json:"write_date"`
}

// Data is the whole content of a simulator: every record of every model,
// each slice sorted by ID. Snapshot returns a deep copy; Options.Data seeds
// a simulator with a hand-built data set.
type Data struct {
	Countries  []Country  `json:"res.country"`
	Currencies []Currency `json:"res.currency"`
	Companies  []Company  `json:"res.company"`
	Partners   []Partner  `json:"res.partner"`
	Journals   []Journal  `json:"account.journal"`
	Accounts   []Account  `json:"account.account"`
	Moves      []Move     `json:"account.move"`
	MoveLines  []MoveLine `json:"account.move.line"`
}

// LoadData reads a data set written as JSON (the keys are model names, the
// records use Odoo field names), for fixtures kept under testdata/.
func LoadData(path string) (*Data, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read simulator data: %w", err)
	}
	var d Data
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("parse simulator data %s: %w", path, err)
	}
	return &d, nil
}

func findByID[T any](s []T, id int64, idOf func(*T) int64) *T {
	i := sort.Search(len(s), func(i int) bool { return idOf(&s[i]) >= id })
	if i < len(s) && idOf(&s[i]) == id {
		return &s[i]
	}
	return nil
}

// Country returns the country with that id, or nil. The lookups of Data
// binary-search the slices, which are sorted by id.
func (d *Data) Country(id int64) *Country {
	return findByID(d.Countries, id, func(r *Country) int64 { return r.ID })
}

// Currency returns the currency with that id, or nil.
func (d *Data) Currency(id int64) *Currency {
	return findByID(d.Currencies, id, func(r *Currency) int64 { return r.ID })
}

// Company returns the company with that id, or nil.
func (d *Data) Company(id int64) *Company {
	return findByID(d.Companies, id, func(r *Company) int64 { return r.ID })
}

// Partner returns the partner with that id, or nil.
func (d *Data) Partner(id int64) *Partner {
	return findByID(d.Partners, id, func(r *Partner) int64 { return r.ID })
}

// Journal returns the journal with that id, or nil.
func (d *Data) Journal(id int64) *Journal {
	return findByID(d.Journals, id, func(r *Journal) int64 { return r.ID })
}

// Account returns the account with that id, or nil.
func (d *Data) Account(id int64) *Account {
	return findByID(d.Accounts, id, func(r *Account) int64 { return r.ID })
}

// Move returns the move with that id, or nil.
func (d *Data) Move(id int64) *Move {
	return findByID(d.Moves, id, func(r *Move) int64 { return r.ID })
}

// MoveLine returns the journal item with that id, or nil.
func (d *Data) MoveLine(id int64) *MoveLine {
	return findByID(d.MoveLines, id, func(r *MoveLine) int64 { return r.ID })
}

// Lines returns the journal items of a move, in id order.
func (d *Data) Lines(m *Move) []*MoveLine {
	out := make([]*MoveLine, 0, len(m.LineIDs))
	for _, id := range m.LineIDs {
		if l := d.MoveLine(id); l != nil {
			out = append(out, l)
		}
	}
	return out
}

// clone returns a deep copy of d.
func (d *Data) clone() *Data {
	c := &Data{
		Countries:  slices.Clone(d.Countries),
		Currencies: slices.Clone(d.Currencies),
		Companies:  slices.Clone(d.Companies),
		Partners:   slices.Clone(d.Partners),
		Journals:   slices.Clone(d.Journals),
		Accounts:   slices.Clone(d.Accounts),
		Moves:      slices.Clone(d.Moves),
		MoveLines:  slices.Clone(d.MoveLines),
	}
	for i := range c.Moves {
		c.Moves[i].LineIDs = slices.Clone(c.Moves[i].LineIDs)
	}
	return c
}
