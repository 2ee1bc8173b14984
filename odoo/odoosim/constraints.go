package odoosim

import "strings"

// The data rules Odoo 17 enforces on create and write that the simulator
// checks: the models' SQL constraints (_sql_constraints), reported as
// odoo/service/model.py's _as_validation_error reports an IntegrityError
// ("The operation cannot be completed: <the constraint's message>"), and
// the @api.constrains that refuse parent cycles.

// sqlConstraint is one CHECK or UNIQUE constraint of a model.
type sqlConstraint struct {
	message string
	// unique lists the fields of a UNIQUE constraint (NULLs never clash).
	unique []string
	// check is a CHECK constraint: false when the record breaks it.
	check func(r rec) bool
}

var sqlConstraints = map[string][]sqlConstraint{
	// odoo/addons/base/models/res_partner.py: check_name.
	"res.partner": {{message: "Contacts require a name", check: func(r rec) bool {
		p := r.(*Partner)
		return p.Type != "contact" || p.Name != ""
	}}},
	// res_country.py: name_uniq, code_uniq.
	"res.country": {
		{message: "The name of the country must be unique!", unique: []string{"name"}},
		{message: "The code of the country must be unique!", unique: []string{"code"}},
	},
	// res_currency.py: unique_name, rounding_gt_zero.
	"res.currency": {
		{message: "The currency code must be unique!", unique: []string{"name"}},
		{message: "The rounding factor must be greater than 0!", check: func(r rec) bool {
			return r.(*Currency).Rounding > 0
		}},
	},
	// addons/account/models/account_journal.py: code_company_uniq.
	"account.journal": {{message: "Journal codes must be unique per company.", unique: []string{"company_id", "code"}}},
	// account_account.py: code_company_uniq.
	"account.account": {{message: "The code of the account must be unique per company !",
		unique: []string{"code", "company_id"}}},
	// account_move_line.py: check_credit_debit.
	"account.move.line": {{message: "Wrong credit or debit value in accounting entry!", check: func(r rec) bool {
		l := r.(*MoveLine)
		return l.DisplayType == "line_section" || l.DisplayType == "line_note" || l.Credit*l.Debit == 0
	}}},
}

// cycleMessages are the messages of the _check_parent_id constraints.
var cycleMessages = map[string]string{
	"res.partner": "You cannot create recursive Partner hierarchies.",
	"res.company": "You cannot create recursive companies.",
}

// checkConstraints checks the records about to be stored (new ones, or
// modified copies of stored ones) against m's constraints, the other
// stored records and each other.
func (x *db) checkConstraints(m *model, cands []rec) error {
	for _, c := range sqlConstraints[m.name] {
		for i, r := range cands {
			if c.check != nil && !c.check(r) {
				return validationErr("The operation cannot be completed: %s", c.message)
			}
			if c.unique != nil && x.clashes(m, c.unique, r, cands[:i]) {
				return validationErr("The operation cannot be completed: %s", c.message)
			}
		}
	}
	if msg, ok := cycleMessages[m.name]; ok {
		for _, r := range cands {
			if x.hasCycle(m, r, cands) {
				return validationErr("%s", msg)
			}
		}
	}
	return nil
}

func uniqueKey(x *db, m *model, fields []string, r rec) (string, bool) {
	var b strings.Builder
	for _, name := range fields {
		v := m.field(name).get(x, r)
		if v.k == kNull {
			return "", false
		}
		b.WriteString(v.text())
		b.WriteByte(0)
	}
	return b.String(), true
}

// clashes reports whether r has the same values of fields as another
// record: a stored one that is not being written, or an earlier candidate.
func (x *db) clashes(m *model, fields []string, r rec, earlier []rec) bool {
	key, ok := uniqueKey(x, m, fields, r)
	if !ok {
		return false
	}
	id := m.idOf(r)
	for _, o := range earlier {
		if k, ok := uniqueKey(x, m, fields, o); ok && k == key {
			return true
		}
	}
	for _, o := range x.tables[m.name].recs {
		if o == nil || m.idOf(o) == id {
			continue
		}
		if k, ok := uniqueKey(x, m, fields, o); ok && k == key {
			return true
		}
	}
	return false
}

// hasCycle is _has_cycle on m.parentField: following the parents of r
// (candidates win over stored records) comes back to r.
func (x *db) hasCycle(m *model, r rec, cands []rec) bool {
	pf := m.field(m.parentField)
	byID := map[int64]rec{}
	for _, c := range cands {
		byID[m.idOf(c)] = c
	}
	start := m.idOf(r)
	cur := r
	for i := 0; i < 1000; i++ {
		v := pf.get(x, cur)
		if v.k != kInt {
			return false
		}
		if v.i == start {
			return true
		}
		next, ok := byID[v.i]
		if !ok {
			next = x.tables[m.name].get(v.i)
		}
		if next == nil {
			return false
		}
		cur = next
	}
	return true
}
