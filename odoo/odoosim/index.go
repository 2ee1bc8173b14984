package odoosim

import (
	"fmt"
	"strconv"
	"strings"
)

// odooIndexes are the stored fields besides id that Odoo 17's own schema
// indexes and that the simulator's counting models: account.move.line's
// move_id (index=True in account/models/account_move_line.py), so that
// reading the lines of some moves looks at those lines only. write_date
// is not among them: Odoo does not index it (Options.Indexes adds it, as a
// database administrator would for incremental readers).
var odooIndexes = []string{"account.move.line.move_id"}

// indexSet is the fields a search narrows by, per model.
type indexSet map[string]map[string]bool

// newIndexSet checks and collects "model.field" names: each must be a
// stored field of a model the simulator serves.
func newIndexSet(models map[string]*model, names []string) (indexSet, error) {
	set := indexSet{}
	for _, n := range names {
		i := strings.LastIndex(n, ".")
		if i < 0 {
			return nil, fmt.Errorf("index %q: expected model.field, like account.move.write_date", n)
		}
		m := models[n[:i]]
		if m == nil {
			return nil, fmt.Errorf("index %q: no model %s", n, n[:i])
		}
		f := m.field(n[i+1:])
		if f == nil || !f.store || f.typ == "one2many" || f.typ == "many2many" {
			return nil, fmt.Errorf("index %q: %s has no stored field %s", n, m.name, n[i+1:])
		}
		if set[m.name] == nil {
			set[m.name] = map[string]bool{}
		}
		set[m.name][f.name] = true
	}
	return set, nil
}

// narrowing is the part of a search's domain that an index serves: the
// terms of the top-level AND on indexed fields with an operator an index
// answers (comparisons, =, in). A record that fails them is never looked
// at, as PostgreSQL's index scan would skip it; the records it passes are
// examined as before. nil when no index serves the domain.
func (x *db) narrowing(c *compiler, m *model, domain []any) (evalFn, error) {
	fields := x.indexed[m.name]
	if len(fields) == 0 {
		return nil, nil
	}
	var terms []any
	for _, t := range domain {
		l, ok := t.([]any)
		if !ok {
			return nil, nil // an operator: not a plain AND of terms
		}
		name, _ := l[0].(string)
		op, _ := l[1].(string)
		if len(l) == 3 && fields[name] {
			switch op {
			case "=", "in", "<", "<=", ">", ">=":
				terms = append(terms, t)
			}
		}
	}
	if len(terms) == 0 {
		return nil, nil
	}
	// Compiled without counting: looking a record up in an index is not
	// examining it.
	quiet := &compiler{d: c.d, e: c.e, w: &work{}}
	return quiet.compile(m, terms)
}

// CheckIndexes says what is wrong with the index names of Options.Indexes
// for a simulator of Odoo version (nil: nothing), before NewHandler would
// panic on them.
func CheckIndexes(version string, names []string) error {
	major := 17
	if v, err := strconv.Atoi(strings.SplitN(version, ".", 2)[0]); err == nil {
		major = v
	}
	_, err := newIndexSet(buildModels(major), names)
	return err
}
