package odoosim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// table holds the records of one model, indexed by id (recs[id], nil when
// the id is free). Iterating recs visits records in id order.
type table struct {
	m    *model
	recs []rec
	n    int
	next int64
}

func (t *table) get(id int64) rec {
	if id <= 0 || id >= int64(len(t.recs)) {
		return nil
	}
	return t.recs[id]
}

func (t *table) put(r rec) {
	id := t.m.idOf(r)
	for int64(len(t.recs)) <= id {
		t.recs = append(t.recs, nil)
	}
	if t.recs[id] == nil {
		t.n++
	}
	t.recs[id] = r
	if id >= t.next {
		t.next = id + 1
	}
}

func (t *table) del(id int64) {
	if t.get(id) != nil {
		t.recs[id] = nil
		t.n--
	}
}

// db is the simulator's in-memory database. The Sim's RWMutex guards it.
type db struct {
	models map[string]*model
	// indexed are the fields a search narrows by besides id (index.go).
	indexed indexSet
	tables  map[string]*table
	tabs    []*table // by model.index
	now     func() time.Time
	// at is the write_date of the transaction being applied ("" outside
	// one: stamp reads the clock).
	at string

	countries, currencies, companies, partners *table
	journals, accounts, moves, lines           *table
	users                                      *table
}

const maxFixtureID = 50_000_000

func newDB(d *Data, now func() time.Time, users []User, major int, indexes []string) (*db, error) {
	x := &db{models: buildModels(major), tables: map[string]*table{}, now: now}
	indexed, err := newIndexSet(x.models, append(append([]string{}, odooIndexes...), indexes...))
	if err != nil {
		return nil, err
	}
	x.indexed = indexed
	x.tabs = make([]*table, len(x.models))
	for name, m := range x.models {
		x.tables[name] = &table{m: m, recs: []rec{nil}, next: 1}
		x.tabs[m.index] = x.tables[name]
	}
	x.countries = x.tables["res.country"]
	x.currencies = x.tables["res.currency"]
	x.companies = x.tables["res.company"]
	x.partners = x.tables["res.partner"]
	x.journals = x.tables["account.journal"]
	x.accounts = x.tables["account.account"]
	x.moves = x.tables["account.move"]
	x.lines = x.tables["account.move.line"]
	x.users = x.tables["res.users"]

	load := func(t *table, n int, at func(i int) rec) {
		if err != nil {
			return
		}
		t.recs = make([]rec, 1, n+1)
		for i := 0; i < n; i++ {
			r := at(i)
			id := t.m.idOf(r)
			if id <= 0 || id > maxFixtureID {
				err = fmt.Errorf("odoosim: %s record with invalid id %d", t.m.name, id)
				return
			}
			if t.get(id) != nil {
				err = fmt.Errorf("odoosim: two %s records with id %d", t.m.name, id)
				return
			}
			t.put(r)
		}
	}
	load(x.countries, len(d.Countries), func(i int) rec { return &d.Countries[i] })
	load(x.currencies, len(d.Currencies), func(i int) rec { return &d.Currencies[i] })
	load(x.companies, len(d.Companies), func(i int) rec { return &d.Companies[i] })
	load(x.partners, len(d.Partners), func(i int) rec { return &d.Partners[i] })
	load(x.journals, len(d.Journals), func(i int) rec { return &d.Journals[i] })
	load(x.accounts, len(d.Accounts), func(i int) rec { return &d.Accounts[i] })
	load(x.moves, len(d.Moves), func(i int) rec { return &d.Moves[i] })
	load(x.lines, len(d.MoveLines), func(i int) rec { return &d.MoveLines[i] })
	if err != nil {
		return nil, err
	}
	x.fillMeta(users)
	if err := x.checkRefs(); err != nil {
		return nil, err
	}
	// Derived values the simulator maintains.
	for _, r := range x.partners.recs {
		if r != nil {
			p := r.(*Partner)
			p.DisplayName = x.completeName(p)
		}
	}
	lineIDs := map[int64][]int64{}
	for _, r := range x.lines.recs {
		if r != nil {
			l := r.(*MoveLine)
			lineIDs[l.MoveID] = append(lineIDs[l.MoveID], l.ID)
			x.fillLineFromMove(l) // related stored fields: move_name, parent_state, date, company, journal
		}
	}
	for _, r := range x.moves.recs {
		if r != nil {
			m := r.(*Move)
			m.LineIDs = lineIDs[m.ID]
		}
	}
	return x, nil
}

// checkRefs verifies that every many2one of the data set points at an
// existing record, as PostgreSQL's foreign keys would.
func (x *db) checkRefs() error {
	for _, t := range x.tabs {
		for _, f := range t.m.fields {
			if f.typ != "many2one" || !f.store || f.set == nil {
				continue
			}
			co := x.tables[f.relation]
			for _, r := range t.recs {
				if r == nil {
					continue
				}
				v := f.get(x, r)
				if v.k == kInt && co.get(v.i) == nil {
					return fmt.Errorf("odoosim: %s(%d).%s points at missing %s(%d)",
						t.m.name, t.m.idOf(r), f.name, f.relation, v.i)
				}
			}
		}
	}
	return nil
}

// stamp is the write_date of a write made now: the transaction's start time
// in whole seconds, UTC (what Odoo sends over RPC of cr.now(), which it
// stores with microseconds).
func (x *db) stamp() string {
	if x.at != "" {
		return x.at
	}
	return stampOf(x.now())
}

// completeName is res.partner's complete_name (Odoo 17 _get_complete_name):
// a contact is shown as "Company, Contact", the company being its
// commercial partner if that is a company, else its direct parent.
func (x *db) completeName(p *Partner) string {
	name := p.Name
	if p.ParentID != 0 {
		if name == "" {
			name = map[string]string{"invoice": "Invoice Address", "delivery": "Delivery Address",
				"other": "Other Address"}[p.Type]
		}
		if !p.IsCompany {
			prefix := ""
			// p is not a company and has a parent: its commercial partner is
			// its parent's (p itself may not be stored yet).
			if cp, ok := x.partners.get(x.commercialPartner(p.ParentID)).(*Partner); ok && cp.IsCompany {
				prefix = cp.Name
			} else if parent, ok := x.partners.get(p.ParentID).(*Partner); ok {
				prefix = parent.Name
			}
			name = prefix + ", " + name
		}
	}
	return strings.TrimSpace(name)
}

func (x *db) commercialPartner(id int64) int64 {
	p, ok := x.partners.get(id).(*Partner)
	for i := 0; ok && i < 32; i++ {
		if p.IsCompany || p.ParentID == 0 {
			return p.ID
		}
		var next *Partner
		next, ok = x.partners.get(p.ParentID).(*Partner)
		if ok {
			p = next
		}
	}
	if p != nil {
		return p.ID
	}
	return id
}

func (x *db) childIDs(id int64) []int64 {
	var out []int64
	for _, r := range x.partners.recs {
		if r != nil && r.(*Partner).ParentID == id && r.(*Partner).Active {
			out = append(out, r.(*Partner).ID)
		}
	}
	return out
}

func (x *db) companyCurrency(companyID int64) int64 {
	if c, ok := x.companies.get(companyID).(*Company); ok {
		return c.CurrencyID
	}
	return 0
}

func (x *db) invoiceLineIDs(m *Move) []int64 {
	var out []int64
	for _, id := range m.LineIDs {
		if l := x.lines.get(id); l != nil && isInvoiceLine(l) {
			out = append(out, id)
		}
	}
	return out
}

// displayName is the display name of the record id of model m ("" if gone).
func (x *db) displayName(m *model, id int64) string {
	r := x.tabs[m.index].get(id)
	if r == nil {
		return ""
	}
	return m.display(x, r)
}

// snapshot deep-copies every table into a Data.
func (x *db) snapshot() *Data {
	d := &Data{}
	collect := func(t *table, add func(r rec)) {
		for _, r := range t.recs {
			if r != nil {
				add(r)
			}
		}
	}
	d.Countries = make([]Country, 0, x.countries.n)
	collect(x.countries, func(r rec) { d.Countries = append(d.Countries, *r.(*Country)) })
	d.Currencies = make([]Currency, 0, x.currencies.n)
	collect(x.currencies, func(r rec) { d.Currencies = append(d.Currencies, *r.(*Currency)) })
	d.Companies = make([]Company, 0, x.companies.n)
	collect(x.companies, func(r rec) { d.Companies = append(d.Companies, *r.(*Company)) })
	d.Partners = make([]Partner, 0, x.partners.n)
	collect(x.partners, func(r rec) { d.Partners = append(d.Partners, *r.(*Partner)) })
	d.Journals = make([]Journal, 0, x.journals.n)
	collect(x.journals, func(r rec) { d.Journals = append(d.Journals, *r.(*Journal)) })
	d.Accounts = make([]Account, 0, x.accounts.n)
	collect(x.accounts, func(r rec) { d.Accounts = append(d.Accounts, *r.(*Account)) })
	d.Moves = make([]Move, 0, x.moves.n)
	collect(x.moves, func(r rec) {
		m := *r.(*Move)
		m.LineIDs = slices.Clone(m.LineIDs)
		d.Moves = append(d.Moves, m)
	})
	d.MoveLines = make([]MoveLine, 0, x.lines.n)
	collect(x.lines, func(r rec) { d.MoveLines = append(d.MoveLines, *r.(*MoveLine)) })
	return d
}
