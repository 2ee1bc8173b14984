package odoosim

import (
	"slices"
	"strings"
)

// defaults returns the default values of a new record of m (default_get),
// given the values the caller sets.
func (x *db) defaults(e *env, m *model, vals map[*field]value) map[string]value {
	given := func(name string) (value, bool) {
		if f := m.field(name); f != nil {
			v, ok := vals[f]
			return v, ok
		}
		return value{}, false
	}
	today := x.now().UTC().Format("2006-01-02")
	out := map[string]value{}
	switch m.name {
	case "res.partner":
		out["active"] = boolV(true)
		out["type"] = strV("contact")
	case "res.company":
		out["active"] = boolV(true)
		out["currency_id"] = refV(x.companyCurrency(e.company))
	case "res.currency":
		out["active"] = boolV(true)
		out["rounding"] = floatV(0.01)
		out["decimal_places"] = intV(2)
		out["rate"] = floatV(1)
	case "account.journal":
		out["active"] = boolV(true)
		out["sequence"] = intV(10)
		out["company_id"] = refV(e.company)
	case "account.account":
		out["company_id"] = refV(e.company)
	case "account.move":
		company := e.company
		if v, ok := given("company_id"); ok && v.k == kInt {
			company = v.i
		}
		moveType := "entry"
		if v, ok := given("move_type"); ok && v.k == kStr {
			moveType = v.s
		}
		out["move_type"] = strV("entry")
		out["state"] = strV("draft")
		out["payment_state"] = strV("not_paid")
		out["name"] = strV("/")
		out["date"] = strV(today)
		out["company_id"] = refV(company)
		out["currency_id"] = refV(x.companyCurrency(company))
		jtype := "general"
		switch {
		case strings.HasPrefix(moveType, "out_"):
			jtype = "sale"
		case strings.HasPrefix(moveType, "in_"):
			jtype = "purchase"
		}
		for _, r := range x.journals.recs {
			if j, ok := r.(*Journal); ok && j.CompanyID == company && j.Type == jtype && j.Active {
				out["journal_id"] = refV(j.ID)
				break
			}
		}
	case "account.move.line":
		out["quantity"] = floatV(1)
		out["display_type"] = strV("product")
	}
	return out
}

func notNullErr(m *model, f *field) *pyErr {
	return validationErr("The operation cannot be completed:\n"+
		"- Create/update: a mandatory field is not set.\n"+
		"- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"+
		"Model: %s (%s)\nField: %s (%s)\n", m.description, m.name, f.label, f.name)
}

func (x *db) create(e *env, m *model, vals map[*field]value) (int64, error) {
	t := x.tables[m.name]
	r := m.newRec()
	id := t.next
	m.setID(r, id)
	for name, v := range x.defaults(e, m, vals) {
		if f := m.field(name); f != nil && f.set != nil {
			if _, given := vals[f]; !given {
				f.set(r, v)
			}
		}
	}
	for f, v := range vals {
		f.set(r, v)
	}
	if l, ok := r.(*MoveLine); ok {
		x.fillLineFromMove(l)
		if _, given := vals[m.field("balance")]; !given {
			l.Balance = l.Debit - l.Credit
		}
		if l.AmountCurrency == 0 && l.CurrencyID == x.companyCurrency(l.CompanyID) {
			l.AmountCurrency = l.Balance
		}
	}
	for _, f := range m.fields {
		if f.required && f.set != nil && f.get(x, r).k == kNull {
			return 0, notNullErr(m, f)
		}
	}
	if err := x.checkConstraints(m, []rec{r}); err != nil {
		return 0, err
	}
	if !e.ruleOK(x, m, r) {
		return 0, accessErr("Due to security restrictions, you are not allowed to create '%s' (%s) records.\n\n"+
			"Note: this might be a multi-company issue. Switching company may help - in Odoo, not in code!\n\n"+
			"Contact your administrator to request access if necessary.", m.description, m.name)
	}
	now := x.stamp()
	cd, wd := m.stamps(r)
	*cd, *wd = now, now
	x.prepare(m, nil, r)
	t.put(r)
	x.propagate(m, nil, r)
	return id, nil
}

// checkWrite applies the business rules Odoo checks before a write.
func (x *db) checkWrite(m *model, recs []rec, vals map[*field]value) error {
	if m.name == "res.partner" {
		if v, ok := vals[m.field("active")]; ok && !v.b {
			for _, r := range recs {
				if p := r.(*Partner); p.Active {
					if err := x.userPartnerErr(p); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	if m.name != "account.move" {
		return nil
	}
	if v, ok := vals[m.field("journal_id")]; ok {
		for _, r := range recs {
			mv := r.(*Move)
			if mv.PostedBefore && mv.JournalID != v.i {
				return userErr("You cannot edit the journal of an account move if it has been posted once.")
			}
		}
	}
	return nil
}

// update stores a modified copy of r (records are never changed in place).
func (x *db) update(m *model, r rec, vals map[*field]value) {
	c := m.copyRec(r)
	for f, v := range vals {
		f.set(c, v)
	}
	_, wd := m.stamps(c)
	*wd = x.stamp()
	x.prepare(m, r, c)
	x.tables[m.name].put(c)
	x.propagate(m, r, c)
}

// prepare computes the stored derived values of a record about to be stored.
func (x *db) prepare(m *model, old, r rec) {
	switch n := r.(type) {
	case *Partner:
		n.DisplayName = x.completeName(n)
	case *Move:
		n.CommercialPartnerID = 0
		if n.PartnerID != 0 {
			n.CommercialPartnerID = x.commercialPartner(n.PartnerID)
		}
		if old == nil {
			n.LineIDs = nil
		}
	case *MoveLine:
		if o, ok := old.(*MoveLine); ok && o.MoveID != n.MoveID {
			x.fillLineFromMove(n)
		}
	}
}

func (x *db) fillLineFromMove(l *MoveLine) {
	mv, ok := x.moves.get(l.MoveID).(*Move)
	if !ok {
		return
	}
	l.MoveName, l.ParentState, l.Date = mv.Name, mv.State, mv.Date
	l.CompanyID, l.JournalID = mv.CompanyID, mv.JournalID
	if l.CurrencyID == 0 {
		l.CurrencyID = mv.CurrencyID
	}
}

// propagate updates the records that depend on a record just stored.
func (x *db) propagate(m *model, old, r rec) {
	stamp := func(rr rec, mm *model) {
		_, wd := mm.stamps(rr)
		*wd = x.stamp()
	}
	switch n := r.(type) {
	case *Partner:
		o, _ := old.(*Partner)
		if o != nil {
			x.syncAddress(o, n)
		}
		if o == nil || o.Name != n.Name || o.ParentID != n.ParentID || o.IsCompany != n.IsCompany {
			x.refreshChildrenNames(n.ID, 0)
		}
		if o != nil && o.ParentID == n.ParentID && o.Name == n.Name {
			return
		}
	case *Move:
		o, _ := old.(*Move)
		if o != nil && (o.Name != n.Name || o.State != n.State || o.Date != n.Date) {
			lm := x.models["account.move.line"]
			for _, id := range n.LineIDs {
				if l, ok := x.lines.get(id).(*MoveLine); ok {
					c := *l
					c.MoveName, c.ParentState, c.Date = n.Name, n.State, n.Date
					stamp(&c, lm)
					x.lines.put(&c)
				}
			}
		}
	case *Company:
		// res.company's country_id and city are the partner's (compute and
		// inverse): writing them writes the partner.
		o, _ := old.(*Company)
		if p, ok := x.partners.get(n.PartnerID).(*Partner); ok && o != nil &&
			((o.CountryID != n.CountryID && p.CountryID != n.CountryID) || (o.City != n.City && p.City != n.City)) {
			c := *p
			c.CountryID, c.City = n.CountryID, n.City
			x.putStamped(x.partners, &c)
			x.syncAddress(p, &c)
		}
	case *MoveLine:
		o, _ := old.(*MoveLine)
		if o != nil && o.MoveID == n.MoveID {
			if o.DateMaturity != n.DateMaturity {
				if mv, ok := x.moves.get(n.MoveID).(*Move); ok {
					x.refreshDue(mv)
				}
			}
			return
		}
		if o != nil {
			x.removeLineFromMove(o.MoveID, n.ID)
		}
		if mv, ok := x.moves.get(n.MoveID).(*Move); ok {
			c := *mv
			c.LineIDs = append(slices.Clip(mv.LineIDs), n.ID)
			slices.Sort(c.LineIDs)
			x.moves.put(&c)
		}
	}
}

func (x *db) removeLineFromMove(moveID, lineID int64) {
	if mv, ok := x.moves.get(moveID).(*Move); ok {
		c := *mv
		c.LineIDs = slices.DeleteFunc(slices.Clone(mv.LineIDs), func(id int64) bool { return id == lineID })
		x.moves.put(&c)
	}
}

func (x *db) refreshChildrenNames(parent int64, depth int) {
	if depth > 16 {
		return
	}
	for _, r := range x.partners.recs {
		p, ok := r.(*Partner)
		if !ok || p.ParentID != parent {
			continue
		}
		if name := x.completeName(p); name != p.DisplayName {
			c := *p
			c.DisplayName = name
			x.partners.put(&c)
		}
		x.refreshChildrenNames(p.ID, depth+1)
	}
}

// ondelete policies of the many2one fields pointing at deleted records;
// the others restrict the deletion, like PostgreSQL foreign keys.
var ondelete = map[string]string{
	"account.move.line.move_id": "cascade",
	"res.partner.parent_id":     "set null",
	"res.company.parent_id":     "set null",
}

func (x *db) unlink(m *model, recs []rec) error {
	if len(recs) == 0 {
		return nil
	}
	for _, r := range recs {
		switch n := r.(type) {
		case *Move:
			// account.move.unlink deletes the lines first: their
			// _unlink_except_posted refuses before the move's own checks.
			if n.State == "posted" {
				return userErr("You cannot delete an item linked to a posted entry.")
			}
			if n.PostedBefore && n.Name != "/" && n.Name != "" && !x.endOfChain(n) {
				return userErr("You cannot delete this entry, as it has already consumed a sequence number and " +
					"is not the last one in the chain. You should probably revert it instead.")
			}
		case *MoveLine:
			if n.ParentState == "posted" {
				return userErr("You cannot delete an item linked to a posted entry.")
			}
		}
	}
	gone := newIDSet()
	for _, r := range recs {
		gone.add(m.idOf(r))
	}
	var cascade []rec
	type nulling struct {
		t *table
		f *field
		r rec
	}
	var nulls []nulling
	for _, t := range x.tabs {
		for _, f := range t.m.fields {
			if f.typ != "many2one" || f.relation != m.name || f.set == nil {
				continue
			}
			policy := ondelete[t.m.name+"."+f.name]
			for _, r := range t.recs {
				if r == nil || (t.m == m && gone.has(t.m.idOf(r))) {
					continue
				}
				v := f.get(x, r)
				if v.k != kInt || !gone.has(v.i) {
					continue
				}
				switch policy {
				case "cascade":
					cascade = append(cascade, r)
				case "set null":
					nulls = append(nulls, nulling{t, f, r})
				default:
					return validationErr("The operation cannot be completed: another model requires the record "+
						"being deleted. If possible, archive it instead.\n\nModel: %s (%s)\nConstraint: %s_%s_fkey\n",
						t.m.description, t.m.name, strings.ReplaceAll(t.m.name, ".", "_"), f.name)
				}
			}
		}
	}
	t := x.tables[m.name]
	for _, r := range recs {
		t.del(m.idOf(r))
		if l, ok := r.(*MoveLine); ok {
			x.removeLineFromMove(l.MoveID, l.ID)
		}
	}
	for _, r := range cascade {
		x.lines.del(r.(*MoveLine).ID)
	}
	for _, n := range nulls {
		if cur := n.t.get(n.t.m.idOf(n.r)); cur != nil {
			c := n.t.m.copyRec(cur)
			n.f.set(c, nullV())
			x.prepare(n.t.m, cur, c)
			n.t.put(c)
		}
	}
	return nil
}
