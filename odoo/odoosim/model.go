package odoosim

import (
	"strconv"
	"strings"
)

// rec is one stored record: a pointer to one of the record types of data.go.
// Records are immutable once stored (writes store a modified copy), so a
// response can keep encoding records it found while a writer goes on.
type rec = any

// field describes one field of a model: what fields_get reports and how to
// read and write its value in a record.
type field struct {
	name, typ, label, help string
	relation               string // comodel of relational fields
	co                     *model // the comodel, resolved once the models are built
	inverse                string // one2many: the many2one on the comodel
	selection              [][2]string
	required, readonly     bool
	store                  bool
	currencyField          string
	// o2mFilter restricts the comodel records of a one2many (a domain on the
	// field, like invoice_line_ids).
	o2mFilter func(r rec) bool

	get func(d *db, r rec) value
	set func(r rec, v value) // nil: computed, not writable
}

func (f *field) relational() bool {
	return f.typ == "many2one" || f.typ == "one2many" || f.typ == "many2many"
}

func (f *field) numeric() bool {
	return f.typ == "integer" || f.typ == "float" || f.typ == "monetary"
}

func (f *field) req() *field { f.required = true; return f }
func (f *field) ro() *field  { f.readonly = true; return f }
func (f *field) computed() *field {
	f.readonly, f.store, f.set = true, false, nil
	return f
}
func (f *field) withHelp(h string) *field { f.help = h; return f }

// model is one Odoo model served by the simulator.
type model struct {
	index             int // position of the model's table in db.tabs
	name, description string
	fields            []*field
	byName            map[string]*field
	defaultOrder      string
	order             []orderTerm
	recName           string
	hasActive         bool
	// companyField names the field the multi-company record rule checks:
	// "company_id" (a record of no company passes) or "id" for res.company.
	companyField string
	parentField  string
	accounting   bool     // reading needs accounting rights
	nameFields   []string // fields name_search also matches
	groups       string   // groups named in the access error
	readOnly     bool     // create, write and unlink are refused (the metadata models)

	newRec  func() rec
	copyRec func(rec) rec
	idOf    func(rec) int64
	setID   func(rec, int64)
	stamps  func(rec) (create, write *string)
	display func(d *db, r rec) string
}

func (m *model) field(name string) *field { return m.byName[name] }

func (m *model) add(fs ...*field) {
	for _, f := range fs {
		m.fields = append(m.fields, f)
		m.byName[f.name] = f
	}
}

// --- field constructors ------------------------------------------------------

func fStr[T any](typ, name, label string, p func(*T) *string) *field {
	return &field{name: name, typ: typ, label: label, store: true,
		get: func(_ *db, r rec) value { return strV(*p(r.(*T))) },
		set: func(r rec, v value) { *p(r.(*T)) = v.s },
	}
}

func fChar[T any](name, label string, p func(*T) *string) *field {
	return fStr("char", name, label, p)
}

func fDate[T any](name, label string, p func(*T) *string) *field {
	return fStr("date", name, label, p)
}

func fDatetime[T any](name, label string, p func(*T) *string) *field {
	return fStr("datetime", name, label, p)
}

func fSel[T any](name, label string, sel [][2]string, p func(*T) *string) *field {
	f := fStr("selection", name, label, p)
	f.selection = sel
	return f
}

func fBool[T any](name, label string, p func(*T) *bool) *field {
	return &field{name: name, typ: "boolean", label: label, store: true,
		get: func(_ *db, r rec) value { return boolV(*p(r.(*T))) },
		set: func(r rec, v value) { *p(r.(*T)) = v.b },
	}
}

func fInt[T any](name, label string, p func(*T) *int64) *field {
	return &field{name: name, typ: "integer", label: label, store: true,
		get: func(_ *db, r rec) value { return intV(*p(r.(*T))) },
		set: func(r rec, v value) { *p(r.(*T)) = v.i },
	}
}

func fFloat[T any](name, label string, p func(*T) *float64) *field {
	return &field{name: name, typ: "float", label: label, store: true,
		get: func(_ *db, r rec) value { return floatV(*p(r.(*T))) },
		set: func(r rec, v value) { *p(r.(*T)) = v.f },
	}
}

func fMoney[T any](name, label, currency string, p func(*T) *float64) *field {
	f := fFloat(name, label, p)
	f.typ, f.currencyField = "monetary", currency
	return f
}

func fM2O[T any](name, label, relation string, p func(*T) *int64) *field {
	return &field{name: name, typ: "many2one", label: label, relation: relation, store: true,
		get: func(_ *db, r rec) value { return refV(*p(r.(*T))) },
		set: func(r rec, v value) { *p(r.(*T)) = cond(v.k == kInt, v.i, 0) },
	}
}

// fRelated is a read-only many2one computed from the record.
func fRelated(name, label, relation string, get func(d *db, r rec) int64) *field {
	return (&field{name: name, typ: "many2one", label: label, relation: relation,
		get: func(d *db, r rec) value { return refV(get(d, r)) },
	}).computed()
}

func fO2M(name, label, relation, inverse string, get func(d *db, r rec) []int64) *field {
	return &field{name: name, typ: "one2many", label: label, relation: relation, inverse: inverse,
		store: true, get: func(d *db, r rec) value { return idsV(get(d, r)) }}
}

// --- the models --------------------------------------------------------------

var (
	selMoveType = [][2]string{{"entry", "Journal Entry"}, {"out_invoice", "Customer Invoice"},
		{"out_refund", "Customer Credit Note"}, {"in_invoice", "Vendor Bill"},
		{"in_refund", "Vendor Credit Note"}, {"out_receipt", "Sales Receipt"},
		{"in_receipt", "Purchase Receipt"}}
	selMoveState    = [][2]string{{"draft", "Draft"}, {"posted", "Posted"}, {"cancel", "Cancelled"}}
	selPaymentState = [][2]string{{"not_paid", "Not Paid"}, {"in_payment", "In Payment"},
		{"paid", "Paid"}, {"partial", "Partially Paid"}, {"reversed", "Reversed"},
		{"invoicing_legacy", "Invoicing App Legacy"}}
	selJournalType = [][2]string{{"sale", "Sales"}, {"purchase", "Purchase"}, {"cash", "Cash"},
		{"bank", "Bank"}, {"general", "Miscellaneous"}}
	selAccountType = [][2]string{{"asset_receivable", "Receivable"}, {"asset_cash", "Bank and Cash"},
		{"asset_current", "Current Assets"}, {"asset_non_current", "Non-current Assets"},
		{"asset_prepayments", "Prepayments"}, {"asset_fixed", "Fixed Assets"},
		{"liability_payable", "Payable"}, {"liability_credit_card", "Credit Card"},
		{"liability_current", "Current Liabilities"}, {"liability_non_current", "Non-current Liabilities"},
		{"equity", "Equity"}, {"equity_unaffected", "Current Year Earnings"},
		{"income", "Income"}, {"income_other", "Other Income"}, {"expense", "Expenses"},
		{"expense_depreciation", "Depreciation"}, {"expense_direct_cost", "Cost of Revenue"},
		{"off_balance", "Off-Balance Sheet"}}
	selInternalGroup = [][2]string{{"equity", "Equity"}, {"asset", "Asset"}, {"liability", "Liability"},
		{"income", "Income"}, {"expense", "Expense"}, {"off_balance", "Off Balance"}}
	selPartnerType = [][2]string{{"contact", "Contact"}, {"invoice", "Invoice Address"},
		{"delivery", "Delivery Address"}, {"other", "Other Address"}}
	selDisplayType = [][2]string{{"product", "Product"}, {"cogs", "Cost of Goods Sold"},
		{"tax", "Tax"}, {"discount", "Discount"}, {"rounding", "Rounding"},
		{"payment_term", "Payment Term"}, {"line_section", "Section"}, {"line_note", "Note"},
		{"epd", "Early Payment Discount"}}
	selCompanyType = [][2]string{{"person", "Individual"}, {"company", "Company"}}
)

// newModel builds a model with the fields every model has (id, display_name,
// create_date, write_date) around the given ones.
func newModel[T any](name, description, order, recName string, idp func(*T) *int64,
	stamps func(*T) (*string, *string), display func(d *db, r *T) string) *model {
	m := &model{name: name, description: description, defaultOrder: order, recName: recName,
		byName:  map[string]*field{},
		newRec:  func() rec { return new(T) },
		copyRec: func(r rec) rec { c := *r.(*T); return &c },
		idOf:    func(r rec) int64 { return *idp(r.(*T)) },
		setID:   func(r rec, id int64) { *idp(r.(*T)) = id },
		stamps:  func(r rec) (*string, *string) { return stamps(r.(*T)) },
		display: func(d *db, r rec) string { return display(d, r.(*T)) },
	}
	m.add((&field{name: "id", typ: "integer", label: "ID", store: true,
		get: func(_ *db, r rec) value { return intV(*idp(r.(*T))) }}).ro())
	return m
}

// finish adds the fields every model ends with.
func (m *model) finish() *model {
	disp := m.display
	stamps := m.stamps
	m.add(
		(&field{name: "display_name", typ: "char", label: "Display Name",
			get: func(d *db, r rec) value { return strV(disp(d, r)) }}).computed(),
		(&field{name: "create_date", typ: "datetime", label: "Created on", store: true,
			get: func(_ *db, r rec) value { c, _ := stamps(r); return strV(*c) }}).ro(),
		(&field{name: "write_date", typ: "datetime", label: "Last Updated on", store: true,
			get: func(_ *db, r rec) value { _, w := stamps(r); return strV(*w) }}).ro(),
	)
	return m
}

func buildModels(major int) map[string]*model {
	ms := map[string]*model{}
	put := func(m *model) {
		ord, err := parseOrder(m, m.defaultOrder)
		if err != nil {
			panic("odoosim: bad default order of " + m.name + ": " + err.Error())
		}
		m.order = ord
		m.index = len(ms)
		ms[m.name] = m
	}
	defer func() {
		for _, m := range ms {
			for _, f := range m.fields {
				if f.relation != "" {
					f.co = ms[f.relation]
				}
			}
		}
	}()

	// res.country
	co := newModel("res.country", "Country", "name", "name",
		func(r *Country) *int64 { return &r.ID },
		func(r *Country) (*string, *string) { return &r.CreateDate, &r.WriteDate },
		func(_ *db, r *Country) string { return r.Name })
	co.add(
		fChar("name", "Country Name", func(r *Country) *string { return &r.Name }).req(),
		fChar("code", "Country Code", func(r *Country) *string { return &r.Code }).
			withHelp("The ISO country code in two chars."),
		fM2O("currency_id", "Currency", "res.currency", func(r *Country) *int64 { return &r.CurrencyID }),
		fInt("phone_code", "Country Calling Code", func(r *Country) *int64 { return &r.PhoneCode }),
	)
	co.nameFields = []string{"code"}
	put(co.finish())

	// res.currency
	cu := newModel("res.currency", "Currency", "active desc, name", "name",
		func(r *Currency) *int64 { return &r.ID },
		func(r *Currency) (*string, *string) { return &r.CreateDate, &r.WriteDate },
		func(_ *db, r *Currency) string { return r.Name })
	cu.add(
		fChar("name", "Currency", func(r *Currency) *string { return &r.Name }).req().
			withHelp("Currency Code (ISO 4217)"),
		fChar("full_name", "Name", func(r *Currency) *string { return &r.FullName }),
		fChar("symbol", "Symbol", func(r *Currency) *string { return &r.Symbol }).req(),
		fFloat("rounding", "Rounding Factor", func(r *Currency) *float64 { return &r.Rounding }),
		fInt("decimal_places", "Decimal Places", func(r *Currency) *int64 { return &r.DecimalPlaces }).computed(),
		fBool("active", "Active", func(r *Currency) *bool { return &r.Active }),
		fFloat("rate", "Current Rate", func(r *Currency) *float64 { return &r.Rate }).computed(),
	)
	cu.hasActive = true
	cu.nameFields = []string{"full_name"}
	put(cu.finish())

	// res.company
	cp := newModel("res.company", "Companies", "sequence, name", "name",
		func(r *Company) *int64 { return &r.ID },
		func(r *Company) (*string, *string) { return &r.CreateDate, &r.WriteDate },
		func(_ *db, r *Company) string { return r.Name })
	cp.add(
		fChar("name", "Company Name", func(r *Company) *string { return &r.Name }).req(),
		fM2O("partner_id", "Partner", "res.partner", func(r *Company) *int64 { return &r.PartnerID }).req(),
		fM2O("country_id", "Country", "res.country", func(r *Company) *int64 { return &r.CountryID }),
		fM2O("currency_id", "Currency", "res.currency", func(r *Company) *int64 { return &r.CurrencyID }).req(),
		fM2O("parent_id", "Parent Company", "res.company", func(r *Company) *int64 { return &r.ParentID }),
		fChar("vat", "Tax ID", func(r *Company) *string { return &r.VAT }),
		fChar("city", "City", func(r *Company) *string { return &r.City }),
		fBool("active", "Active", func(r *Company) *bool { return &r.Active }),
		(&field{name: "sequence", typ: "integer", label: "Sequence", store: true,
			get: func(_ *db, r rec) value { return intV(10) }}).ro(),
	)
	cp.hasActive = true
	cp.companyField = "id"
	cp.parentField = "parent_id"
	put(cp.finish())

	// res.partner
	pa := newModel("res.partner", "Contact", "complete_name ASC, id DESC", "complete_name",
		func(r *Partner) *int64 { return &r.ID },
		func(r *Partner) (*string, *string) { return &r.CreateDate, &r.WriteDate },
		func(_ *db, r *Partner) string { return r.DisplayName })
	pa.add(
		fChar("name", "Name", func(r *Partner) *string { return &r.Name }),
		(&field{name: "complete_name", typ: "char", label: "Complete Name", store: true,
			get: func(_ *db, r rec) value { return strV(r.(*Partner).DisplayName) }}).ro(),
		fM2O("parent_id", "Related Company", "res.partner", func(r *Partner) *int64 { return &r.ParentID }),
		fO2M("child_ids", "Contact", "res.partner", "parent_id", func(d *db, r rec) []int64 {
			return d.childIDs(r.(*Partner).ID)
		}).computed(),
		fRelated("commercial_partner_id", "Commercial Entity", "res.partner", func(d *db, r rec) int64 {
			return d.commercialPartner(r.(*Partner).ID)
		}),
		fBool("is_company", "Is a Company", func(r *Partner) *bool { return &r.IsCompany }),
		(&field{name: "company_type", typ: "selection", label: "Company Type", selection: selCompanyType,
			get: func(_ *db, r rec) value {
				return strV(cond(r.(*Partner).IsCompany, "company", "person"))
			}}).computed(),
		fSel("type", "Address Type", selPartnerType, func(r *Partner) *string { return &r.Type }),
		fM2O("country_id", "Country", "res.country", func(r *Partner) *int64 { return &r.CountryID }),
		fChar("street", "Street", func(r *Partner) *string { return &r.Street }),
		fChar("city", "City", func(r *Partner) *string { return &r.City }),
		fChar("email", "Email", func(r *Partner) *string { return &r.Email }),
		fChar("phone", "Phone", func(r *Partner) *string { return &r.Phone }),
		fChar("vat", "Tax ID", func(r *Partner) *string { return &r.VAT }),
		fChar("ref", "Reference", func(r *Partner) *string { return &r.Ref }),
		fM2O("company_id", "Company", "res.company", func(r *Partner) *int64 { return &r.CompanyID }),
		fBool("active", "Active", func(r *Partner) *bool { return &r.Active }),
		fInt("customer_rank", "Customer Rank", func(r *Partner) *int64 { return &r.CustomerRank }),
		fInt("supplier_rank", "Supplier Rank", func(r *Partner) *int64 { return &r.SupplierRank }),
		fInt("color", "Color Index", func(r *Partner) *int64 { return &r.Color }),
	)
	pa.hasActive = true
	pa.companyField = "company_id"
	pa.parentField = "parent_id"
	pa.nameFields = []string{"email", "ref", "vat"}
	put(pa.finish())

	// account.journal
	jo := newModel("account.journal", "Journal", "sequence, type, code", "name",
		func(r *Journal) *int64 { return &r.ID },
		func(r *Journal) (*string, *string) { return &r.CreateDate, &r.WriteDate },
		func(_ *db, r *Journal) string { return r.Name })
	jo.add(
		fChar("name", "Journal Name", func(r *Journal) *string { return &r.Name }).req(),
		fChar("code", "Short Code", func(r *Journal) *string { return &r.Code }).req(),
		fSel("type", "Type", selJournalType, func(r *Journal) *string { return &r.Type }).req(),
		fM2O("company_id", "Company", "res.company", func(r *Journal) *int64 { return &r.CompanyID }).req(),
		fM2O("currency_id", "Currency", "res.currency", func(r *Journal) *int64 { return &r.CurrencyID }),
		fM2O("default_account_id", "Default Account", "account.account",
			func(r *Journal) *int64 { return &r.DefaultAccountID }),
		fInt("sequence", "Sequence", func(r *Journal) *int64 { return &r.Sequence }),
		fBool("active", "Active", func(r *Journal) *bool { return &r.Active }),
	)
	jo.hasActive = true
	jo.companyField = "company_id"
	jo.accounting = true
	jo.nameFields = []string{"code"}
	jo.groups = "Accounting/Billing"
	put(jo.finish())

	// account.account
	ac := newModel("account.account", "Account", "code, company_id", "name",
		func(r *Account) *int64 { return &r.ID },
		func(r *Account) (*string, *string) { return &r.CreateDate, &r.WriteDate },
		func(_ *db, r *Account) string { return strings.TrimSpace(r.Code + " " + r.Name) })
	ac.add(
		fChar("code", "Code", func(r *Account) *string { return &r.Code }).req(),
		fChar("name", "Account Name", func(r *Account) *string { return &r.Name }).req(),
		fSel("account_type", "Type", selAccountType, func(r *Account) *string { return &r.AccountType }).req(),
		(&field{name: "internal_group", typ: "selection", label: "Internal Group", selection: selInternalGroup,
			get: func(_ *db, r rec) value { return strV(internalGroup(r.(*Account).AccountType)) }}).computed(),
		fM2O("company_id", "Company", "res.company", func(r *Account) *int64 { return &r.CompanyID }).req(),
		fM2O("currency_id", "Account Currency", "res.currency", func(r *Account) *int64 { return &r.CurrencyID }),
		fBool("reconcile", "Allow Reconciliation", func(r *Account) *bool { return &r.Reconcile }),
		fBool("deprecated", "Deprecated", func(r *Account) *bool { return &r.Deprecated }),
	)
	ac.companyField = "company_id"
	ac.accounting = true
	ac.nameFields = []string{"code"}
	ac.groups = "Accounting/Billing"
	put(ac.finish())

	// account.move
	mv := newModel("account.move", "Journal Entry", "date desc, name desc, invoice_date desc, id desc", "name",
		func(r *Move) *int64 { return &r.ID },
		func(r *Move) (*string, *string) { return &r.CreateDate, &r.WriteDate },
		func(_ *db, r *Move) string { return moveDisplayName(r) })
	mv.add(
		fChar("name", "Number", func(r *Move) *string { return &r.Name }),
		fChar("ref", "Reference", func(r *Move) *string { return &r.Ref }),
		fSel("move_type", "Type", selMoveType, func(r *Move) *string { return &r.MoveType }).req(),
		fSel("state", "Status", selMoveState, func(r *Move) *string { return &r.State }).req(),
		fSel("payment_state", "Payment Status", selPaymentState, func(r *Move) *string { return &r.PaymentState }),
		fM2O("partner_id", "Partner", "res.partner", func(r *Move) *int64 { return &r.PartnerID }),
		fM2O("commercial_partner_id", "Commercial Entity", "res.partner",
			func(r *Move) *int64 { return &r.CommercialPartnerID }),
		fM2O("company_id", "Company", "res.company", func(r *Move) *int64 { return &r.CompanyID }).req(),
		fRelated("company_currency_id", "Company Currency", "res.currency", func(d *db, r rec) int64 {
			return d.companyCurrency(r.(*Move).CompanyID)
		}),
		fM2O("currency_id", "Currency", "res.currency", func(r *Move) *int64 { return &r.CurrencyID }).req(),
		fM2O("journal_id", "Journal", "account.journal", func(r *Move) *int64 { return &r.JournalID }).req(),
		fDate("date", "Date", func(r *Move) *string { return &r.Date }).req(),
		fDate("invoice_date", "Invoice/Bill Date", func(r *Move) *string { return &r.InvoiceDate }),
		fDate("invoice_date_due", "Due Date", func(r *Move) *string { return &r.InvoiceDateDue }),
		fChar("invoice_origin", "Origin", func(r *Move) *string { return &r.InvoiceOrigin }),
		fChar("payment_reference", "Payment Reference", func(r *Move) *string { return &r.PaymentReference }),
		fMoney("amount_untaxed", "Untaxed Amount", "currency_id", func(r *Move) *float64 { return &r.AmountUntaxed }).ro(),
		fMoney("amount_tax", "Tax", "currency_id", func(r *Move) *float64 { return &r.AmountTax }).ro(),
		fMoney("amount_total", "Total", "currency_id", func(r *Move) *float64 { return &r.AmountTotal }).ro(),
		fMoney("amount_residual", "Amount Due", "currency_id", func(r *Move) *float64 { return &r.AmountResidual }).ro(),
		fMoney("amount_untaxed_signed", "Untaxed Amount Signed", "company_currency_id",
			func(r *Move) *float64 { return &r.AmountUntaxedSigned }).ro(),
		fMoney("amount_total_signed", "Total Signed", "company_currency_id",
			func(r *Move) *float64 { return &r.AmountTotalSigned }).ro(),
		fMoney("amount_residual_signed", "Amount Due Signed", "company_currency_id",
			func(r *Move) *float64 { return &r.AmountResidualSigned }).ro(),
		fBool("posted_before", "Posted Before", func(r *Move) *bool { return &r.PostedBefore }).ro(),
		fO2M("line_ids", "Journal Items", "account.move.line", "move_id", func(_ *db, r rec) []int64 {
			return r.(*Move).LineIDs
		}),
	)
	invLines := fO2M("invoice_line_ids", "Invoice lines", "account.move.line", "move_id",
		func(d *db, r rec) []int64 { return d.invoiceLineIDs(r.(*Move)) })
	invLines.o2mFilter = isInvoiceLine
	mv.add(invLines)
	mv.companyField = "company_id"
	mv.accounting = true
	mv.nameFields = []string{"ref"}
	mv.groups = "Accounting/Billing"
	put(mv.finish())

	// account.move.line
	li := newModel("account.move.line", "Journal Item", "date desc, move_name desc, id", "name",
		func(r *MoveLine) *int64 { return &r.ID },
		func(r *MoveLine) (*string, *string) { return &r.CreateDate, &r.WriteDate },
		func(_ *db, r *MoveLine) string {
			if r.Name != "" && r.Name != r.MoveName {
				return r.MoveName + " " + r.Name
			}
			return r.MoveName
		})
	li.add(
		fM2O("move_id", "Journal Entry", "account.move", func(r *MoveLine) *int64 { return &r.MoveID }).req(),
		fChar("move_name", "Number", func(r *MoveLine) *string { return &r.MoveName }).ro(),
		fSel("parent_state", "Status", selMoveState, func(r *MoveLine) *string { return &r.ParentState }).ro(),
		fInt("sequence", "Sequence", func(r *MoveLine) *int64 { return &r.Sequence }),
		fSel("display_type", "Display Type", selDisplayType, func(r *MoveLine) *string { return &r.DisplayType }),
		fChar("name", "Label", func(r *MoveLine) *string { return &r.Name }),
		fDate("date", "Date", func(r *MoveLine) *string { return &r.Date }).ro(),
		fDate("date_maturity", "Due Date", func(r *MoveLine) *string { return &r.DateMaturity }),
		fM2O("account_id", "Account", "account.account", func(r *MoveLine) *int64 { return &r.AccountID }),
		fM2O("partner_id", "Partner", "res.partner", func(r *MoveLine) *int64 { return &r.PartnerID }),
		fM2O("company_id", "Company", "res.company", func(r *MoveLine) *int64 { return &r.CompanyID }).ro(),
		fRelated("company_currency_id", "Company Currency", "res.currency", func(d *db, r rec) int64 {
			return d.companyCurrency(r.(*MoveLine).CompanyID)
		}),
		fM2O("currency_id", "Currency", "res.currency", func(r *MoveLine) *int64 { return &r.CurrencyID }).req(),
		fM2O("journal_id", "Journal", "account.journal", func(r *MoveLine) *int64 { return &r.JournalID }).ro(),
		fMoney("debit", "Debit", "company_currency_id", func(r *MoveLine) *float64 { return &r.Debit }),
		fMoney("credit", "Credit", "company_currency_id", func(r *MoveLine) *float64 { return &r.Credit }),
		fMoney("balance", "Balance", "company_currency_id", func(r *MoveLine) *float64 { return &r.Balance }),
		fMoney("amount_currency", "Amount in Currency", "currency_id",
			func(r *MoveLine) *float64 { return &r.AmountCurrency }),
		fMoney("amount_residual", "Residual Amount", "company_currency_id",
			func(r *MoveLine) *float64 { return &r.AmountResidual }).ro().
			withHelp("The residual amount on a journal item expressed in the company currency."),
		fMoney("amount_residual_currency", "Residual Amount in Currency", "currency_id",
			func(r *MoveLine) *float64 { return &r.AmountResidualCurrency }).ro().
			withHelp("The residual amount on a journal item expressed in its currency (possibly not the company currency)."),
		fFloat("quantity", "Quantity", func(r *MoveLine) *float64 { return &r.Quantity }),
		fFloat("price_unit", "Unit Price", func(r *MoveLine) *float64 { return &r.PriceUnit }),
		fMoney("price_subtotal", "Subtotal", "currency_id", func(r *MoveLine) *float64 { return &r.PriceSubtotal }).ro(),
		fBool("reconciled", "Reconciled", func(r *MoveLine) *bool { return &r.Reconciled }).ro(),
		fChar("matching_number", "Matching #", func(r *MoveLine) *string { return &r.MatchingNumber }).ro(),
	)
	li.companyField = "company_id"
	li.accounting = true
	li.groups = "Accounting/Billing"
	put(li.finish())

	for _, m := range metaModels(major) {
		put(m)
	}
	return ms
}

func internalGroup(accountType string) string {
	if accountType == "off_balance" {
		return "off_balance"
	}
	g, _, _ := strings.Cut(accountType, "_")
	return g
}

func isInvoiceLine(r rec) bool {
	switch r.(*MoveLine).DisplayType {
	case "product", "line_section", "line_note":
		return true
	}
	return false
}

// moveDisplayName is Odoo 17's _get_move_display_name.
func moveDisplayName(m *Move) string {
	if m.State == "draft" && (m.Name == "" || m.Name == "/") {
		label := map[string]string{
			"out_invoice": "Draft Invoice", "out_refund": "Draft Credit Note",
			"in_invoice": "Draft Bill", "in_refund": "Draft Vendor Credit Note",
			"out_receipt": "Draft Sales Receipt", "in_receipt": "Draft Purchase Receipt",
			"entry": "Draft Entry"}[m.MoveType]
		if label == "" {
			label = "Draft Entry"
		}
		return label + " (* " + strconv.FormatInt(m.ID, 10) + ")"
	}
	if m.Name == "" {
		return "/"
	}
	return m.Name
}
