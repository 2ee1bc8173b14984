package odoosim

import (
	"math/bits"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// This file evaluates Odoo domains the way odoo/osv/expression.py (Odoo 17)
// compiles them to SQL, including SQL's three-valued logic: a comparison
// with a NULL column is unknown, and NOT unknown is still unknown, so a row
// is selected only when the whole expression is TRUE.
//
// The steps follow expression.py: implicit '&' between terms
// (normalize_domain), dotted paths turned into 'any' terms (_anyfy_leaves),
// '!' pushed into the terms whose operator has a negation (the tree
// negation, 'any' <-> 'not any' included; other terms keep a NOT), operator
// normalization (normalize_leaf), then each term rewritten as parse() and
// __leaf_to_sql() do.

type tri int8

const (
	triF tri = -1 // FALSE
	triN tri = 0  // NULL (unknown)
	triT tri = 1  // TRUE
)

type evalFn func(r rec) tri

func constFn(t tri) evalFn { return func(rec) tri { return t } }

func andFn(a, b evalFn) evalFn {
	return func(r rec) tri {
		x := a(r)
		if x == triF {
			return triF
		}
		return min(x, b(r))
	}
}

func orFn(a, b evalFn) evalFn {
	return func(r rec) tri {
		x := a(r)
		if x == triT {
			return triT
		}
		return max(x, b(r))
	}
}

func notFn(a evalFn) evalFn { return func(r rec) tri { return -a(r) } }

var termOperators = map[string]bool{"=": true, "!=": true, "<=": true, "<": true, ">": true, ">=": true,
	"=?": true, "=like": true, "=ilike": true, "like": true, "not like": true, "ilike": true,
	"not ilike": true, "in": true, "not in": true, "child_of": true, "parent_of": true,
	"any": true, "not any": true}

var negation = map[string]string{"<": ">=", ">": "<=", "<=": ">", ">=": "<", "=": "!=", "!=": "=",
	"in": "not in", "like": "not like", "ilike": "not ilike", "not in": "in", "not like": "like",
	"not ilike": "ilike", "any": "not any", "not any": "any"}

var negativeOps = map[string]bool{"!=": true, "not like": true, "not ilike": true, "not in": true}

// compiler compiles domains for one call (its env: context, companies).
// The records its searches and sub-searches look at go to w, the call's
// work (nil: not counted).
type compiler struct {
	d     *db
	e     *env
	w     *work
	depth int
}

// compile turns a domain sent by a client into a predicate on records of m.
func (c *compiler) compile(m *model, domain any) (evalFn, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > 16 {
		return nil, valueErr("Domain is nested too deeply")
	}
	toks, err := domainTokens(domain)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return constFn(triT), nil
	}
	// normalize_domain's arity check.
	expected := 1
	for _, t := range toks {
		if expected == 0 {
			expected = 1
		}
		switch t {
		case "!":
		case "&", "|":
			expected++
		default:
			expected--
		}
	}
	if expected != 0 {
		return nil, valueErr("Domain %s is syntactically not correct.", pyRepr(domain))
	}
	pos := 0
	var out evalFn
	for pos < len(toks) {
		fn, err := c.expr(m, toks, &pos, false)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = fn
		} else {
			out = andFn(out, fn)
		}
	}
	return out, nil
}

func domainTokens(domain any) ([]any, error) {
	switch d := domain.(type) {
	case nil:
		return nil, nil
	case bool:
		if !d {
			return nil, nil
		}
	case []any:
		return d, nil
	}
	return nil, valueErr("Domain %s is syntactically not correct.", pyRepr(domain))
}

func (c *compiler) expr(m *model, toks []any, pos *int, negate bool) (evalFn, error) {
	if *pos >= len(toks) {
		return nil, valueErr("Domain %s is syntactically not correct.", pyRepr(toks))
	}
	tok := toks[*pos]
	*pos++
	switch t := tok.(type) {
	case string:
		switch t {
		case "!":
			return c.expr(m, toks, pos, !negate)
		case "&", "|":
			a, err := c.expr(m, toks, pos, negate)
			if err != nil {
				return nil, err
			}
			b, err := c.expr(m, toks, pos, negate)
			if err != nil {
				return nil, err
			}
			if (t == "&") != negate {
				return andFn(a, b), nil
			}
			return orFn(a, b), nil
		}
		return nil, valueErr("Invalid leaf %s", pyRepr(t))
	case []any:
		return c.term(m, t, negate)
	}
	return nil, valueErr("Invalid leaf %s", pyRepr(tok))
}

func leafString(t []any) string { return pyTuple(t...) }

// term compiles one (left, operator, right) term, negated or not.
func (c *compiler) term(m *model, t []any, negate bool) (evalFn, error) {
	if len(t) != 3 {
		return nil, valueErr("Invalid leaf %s", leafString(t))
	}
	opRaw, ok := t[1].(string)
	if !ok {
		return nil, valueErr("Invalid leaf %s", leafString(t))
	}
	op := strings.ToLower(opRaw)
	if op == "<>" {
		op = "!="
	}
	// TRUE_LEAF (1, '=', 1) and FALSE_LEAF (0, '=', 1).
	if _, isStr := t[0].(string); !isStr {
		if n, ok := pyNumber(t[0]); ok && op == "=" && pyEq(t[2], int64(1)) && (n == 0 || n == 1) {
			res := cond(n == 1, triT, triF)
			if negate {
				res = -res
			}
			return constFn(res), nil
		}
		return nil, valueErr("Invalid leaf %s", leafString(t))
	}
	left := t[0].(string)
	if left == "" || !termOperators[op] {
		return nil, valueErr("Invalid leaf %s", leafString(t))
	}
	right := t[2]
	path, rest, dotted := strings.Cut(left, ".")
	f := m.field(path)
	if f == nil {
		return nil, valueErr("Invalid field %s.%s in leaf %s", m.name, path, leafString(t))
	}
	if dotted {
		if !f.relational() {
			return nil, valueErr("Invalid field %s in domain term %s", pyRepr(left), leafString(t))
		}
		// _anyfy_leaves: a.b op v becomes a any [(b, op, v)].
		left, op, right = path, "any", []any{[]any{rest, t[1], right}}
	}
	if op == "any" || op == "not any" {
		if !f.relational() {
			return nil, valueErr("Invalid domain term %s: operator %s needs a relational field", leafString(t), pyRepr(op))
		}
		if _, ok := right.([]any); !ok && right != nil {
			return nil, valueErr("Invalid domain term %s: the value of %s must be a domain", leafString(t), pyRepr(op))
		}
	}
	// normalize_leaf
	if _, isBool := right.(bool); isBool && (op == "in" || op == "not in") {
		op = cond(op == "in", "=", "!=")
	}
	if _, isList := right.([]any); isList && (op == "=" || op == "!=") {
		op = cond(op == "=", "in", "not in")
	}
	wrapNot := false
	if negate {
		if n, ok := negation[op]; ok {
			op = n
		} else {
			wrapNot = true
		}
	}
	fn, err := c.leaf(m, f, left, op, right, t)
	if err != nil {
		return nil, err
	}
	if wrapNot {
		fn = notFn(fn)
	}
	return fn, nil
}

// leaf is expression.parse() for one normalized term on field f of m.
func (c *compiler) leaf(m *model, f *field, left, op string, right any, orig []any) (evalFn, error) {
	isHier := op == "child_of" || op == "parent_of"
	switch {
	case left == "id" && isHier:
		ids, err := c.toIDs(right, m)
		if err != nil {
			return nil, err
		}
		set, err := c.hierarchy(op, ids, m, m.parentField)
		if err != nil {
			return nil, err
		}
		return inSetFn(c.d, f, set, false), nil

	case op == "any" || op == "not any":
		co := c.d.models[f.relation]
		sub, _ := right.([]any)
		if f.typ == "many2one" {
			set, err := c.subSearch(co, sub, c.e.withActiveTest(false))
			if err != nil {
				return nil, err
			}
			if op == "any" {
				return inSetFn(c.d, f, set, false), nil
			}
			// '|', (left, 'not in', ids), (left, '=', False)
			return orFn(inSetFn(c.d, f, set, true), isNullFn(c.d, f, true)), nil
		}
		set, err := c.subSearch(co, sub, c.e)
		if err != nil {
			return nil, err
		}
		return c.o2mIn(m, f, set, op == "not any"), nil

	case f.typ == "one2many":
		co := c.d.models[f.relation]
		if isHier {
			ids, err := c.toIDs(right, co)
			if err != nil {
				return nil, err
			}
			set, err := c.hierarchy(op, ids, co, co.parentField)
			if err != nil {
				return nil, err
			}
			return c.o2mIn(m, f, set, false), nil
		}
		if b, ok := right.(bool); ok && !b {
			// records with / without lines
			has := newIDSet()
			for _, r := range c.d.tables[co.name].recs {
				if r != nil {
					c.w.examine(1)
					if v := co.field(f.inverse).get(c.d, r); v.k == kInt {
						has.add(v.i)
					}
				}
			}
			neg := negativeOps[op]
			return func(r rec) tri {
				return cond(has.has(m.idOf(r)) == neg, triT, triF)
			}, nil
		}
		var set *idSet
		switch rv := right.(type) {
		case string:
			op2 := op
			if negativeOps[op] {
				op2 = negation[op]
			}
			s, err := c.nameSearchSet(co, rv, op2, c.e)
			if err != nil {
				return nil, err
			}
			set = s
		case []any:
			set = newIDSet()
			for _, it := range rv {
				if n, ok := asInt(it); ok {
					set.add(n)
				}
			}
		default:
			set = newIDSet()
			if n, ok := asInt(rv); ok {
				set.add(n)
			}
		}
		return c.o2mIn(m, f, set, negativeOps[op]), nil

	case f.typ == "many2one":
		co := c.d.models[f.relation]
		if isHier {
			ids, err := c.toIDs(right, co)
			if err != nil {
				return nil, err
			}
			if co != m {
				if co.parentField == "" {
					return nil, keyErr("parent_id")
				}
				set, err := c.hierarchy(op, ids, co, co.parentField)
				if err != nil {
					return nil, err
				}
				return inSetFn(c.d, f, set, false), nil
			}
			set, err := c.hierarchy(op, ids, m, left)
			if err != nil {
				return nil, err
			}
			return inSetFn(c.d, m.field("id"), set, false), nil
		}
		if names, ok := stringValues(right); ok {
			// resolve string-based m2o criterion into ids (name_search)
			if op == "<" || op == ">" || op == "<=" || op == ">=" {
				op = "in"
			}
			_, isList := right.([]any)
			switch {
			case !isList && op == "in":
				op = "="
			case !isList && op == "not in":
				op = "!="
			case isList && op == "=":
				op = "in"
			case isList && op == "!=":
				op = "not in"
			}
			set, err := c.nameSearchSet(co, names, op, c.e.withActiveTest(false))
			if err != nil {
				return nil, err
			}
			if negativeOps[op] {
				return orFn(inSetFn(c.d, f, set, false), isNullFn(c.d, f, true)), nil
			}
			return inSetFn(c.d, f, set, false), nil
		}
		return c.leafToSQL(m, f, op, right, orig)

	case f.typ == "datetime" && truthy(right):
		if s, ok := right.(string); ok && len(s) == 10 {
			if op == ">" || op == "<=" {
				s += " 23:59:59"
			} else {
				s += " 00:00:00"
			}
			return c.leafToSQL(m, f, op, s, orig)
		}
	}
	return c.leafToSQL(m, f, op, right, orig)
}

// stringValues reports whether right is a string or a non-empty list of
// strings, the case where a many2one is matched by name.
func stringValues(right any) (any, bool) {
	switch v := right.(type) {
	case string:
		return v, true
	case []any:
		if len(v) == 0 {
			return nil, false
		}
		for _, it := range v {
			if _, ok := it.(string); !ok {
				return nil, false
			}
		}
		return v, true
	}
	return nil, false
}

// o2mIn: id IN (SELECT inverse FROM comodel WHERE id IN set AND inverse IS
// NOT NULL). As in Odoo 17, the field's own domain (invoice_line_ids) is not
// applied in domains, only when reading the field.
func (c *compiler) o2mIn(m *model, f *field, set *idSet, negative bool) evalFn {
	co := c.d.models[f.relation]
	inv := co.field(f.inverse)
	owners := newIDSet()
	t := c.d.tables[co.name]
	var examined int64
	set.each(func(id int64) {
		if r := t.get(id); r != nil {
			examined++
			if v := inv.get(c.d, r); v.k == kInt {
				owners.add(v.i)
			}
		}
	})
	c.w.examine(examined)
	return func(r rec) tri {
		return cond(owners.has(m.idOf(r)) != negative, triT, triF)
	}
}

// toIDs is to_ids() of expression.parse: ids, names (name_search) or lists.
func (c *compiler) toIDs(value any, co *model) ([]int64, error) {
	switch v := value.(type) {
	case string:
		s, err := c.nameSearchSet(co, v, "ilike", c.e)
		if err != nil {
			return nil, err
		}
		return s.list(), nil
	case []any:
		if names, ok := stringValues(v); ok {
			var out []int64
			for _, n := range names.([]any) {
				s, err := c.nameSearchSet(co, n, "ilike", c.e)
				if err != nil {
					return nil, err
				}
				out = append(out, s.list()...)
			}
			return out, nil
		}
		return asIDList(v)
	case bool, int64, float64, nil:
		n, _ := asInt(v)
		if n == 0 {
			return nil, nil
		}
		return []int64{n}, nil
	}
	return nil, valueErr("Invalid value %s for a hierarchy operator", pyRepr(value))
}

// hierarchy implements child_of_domain and parent_of_domain: the given ids
// and all their descendants (or ancestors) through parentField, archived
// records included and without record rules. The records it looks at count
// as examined: every record of the model for child_of, each ancestor for
// parent_of.
func (c *compiler) hierarchy(op string, ids []int64, cm *model, parentField string) (*idSet, error) {
	pf := cm.field(parentField)
	if pf == nil || pf.relation != cm.name {
		if parentField == "" {
			return nil, keyErr("parent_id")
		}
		return nil, valueErr("Invalid parent field: %s.%s", cm.name, parentField)
	}
	t := c.d.tables[cm.name]
	out := newIDSet()
	if op == "child_of" {
		children := map[int64][]int64{}
		for _, r := range t.recs {
			if r != nil {
				c.w.examine(1)
				if p := pf.get(c.d, r); p.k == kInt {
					children[p.i] = append(children[p.i], cm.idOf(r))
				}
			}
		}
		queue := append([]int64(nil), ids...)
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			if out.has(id) {
				continue
			}
			out.add(id)
			queue = append(queue, children[id]...)
		}
		return out, nil
	}
	for _, id := range ids {
		for i := 0; id > 0 && i < 64 && !out.has(id); i++ {
			out.add(id)
			r := t.get(id)
			if r == nil {
				break
			}
			c.w.examine(1)
			p := pf.get(c.d, r)
			id = cond(p.k == kInt, p.i, 0)
		}
	}
	return out, nil
}

func (c *compiler) subSearch(co *model, domain []any, e *env) (*idSet, error) {
	sub := &compiler{d: c.d, e: e, w: c.w, depth: c.depth}
	// A subquery (id IN (SELECT ...)) has no ORDER BY: ordering by id
	// spares sorting the comodel by its default order for a set of ids.
	byID := []orderTerm{{f: co.field("id")}}
	recs, err := sub.d.searchRecs(sub, co, domain, searchOpts{order: byID})
	if err != nil {
		return nil, err
	}
	set := newIDSet()
	for _, r := range recs {
		set.add(co.idOf(r))
	}
	return set, nil
}

func (c *compiler) nameSearchSet(co *model, name any, op string, e *env) (*idSet, error) {
	sub := &compiler{d: c.d, e: e, w: c.w, depth: c.depth}
	dom := nameSearchDomain(co, name, op)
	return sub.subSearch(co, dom, e)
}

// nameSearchDomain is _name_search's domain: the record name (and, for some
// models, other identifying fields) compared with the operator.
func nameSearchDomain(co *model, name any, op string) []any {
	if s, ok := name.(string); ok && s == "" && (op == "like" || op == "ilike") {
		return nil
	}
	fields := append([]string{co.recName}, co.nameFields...)
	var dom []any
	for i := 1; i < len(fields); i++ {
		dom = append(dom, cond(negativeOps[op], "&", "|"))
	}
	for _, f := range fields {
		dom = append(dom, []any{f, op, name})
	}
	return dom
}

// --- __leaf_to_sql ----------------------------------------------------------

func isNullFn(d *db, f *field, null bool) evalFn {
	return func(r rec) tri {
		return cond((f.get(d, r).k == kNull) == null, triT, triF)
	}
}

// inSetFn is (col IN set) or (col NOT IN set): unknown on a NULL column.
func inSetFn(d *db, f *field, set *idSet, not bool) evalFn {
	return func(r rec) tri {
		v := f.get(d, r)
		if v.k == kNull {
			return triN
		}
		return cond(set.has(v.i) != not, triT, triF)
	}
}

func (c *compiler) leafToSQL(m *model, f *field, op string, right any, orig []any) (evalFn, error) {
	d := c.d
	get := func(r rec) value { return f.get(d, r) }
	if op == "=?" {
		if isFalse(right) {
			return constFn(triT), nil
		}
		op = "="
	}
	if op == "in" || op == "not in" {
		not := op == "not in"
		switch rv := right.(type) {
		case bool:
			return isNullFn(d, f, rv == not), nil
		case []any:
			var params []any
			checkNull := false
			if f.typ == "boolean" {
				for _, b := range []bool{true, false} {
					for _, it := range rv {
						if pyEq(it, b) {
							params = append(params, b)
							break
						}
					}
				}
				for _, it := range rv {
					if pyEq(it, false) {
						checkNull = true
					}
				}
			} else {
				for _, it := range rv {
					if !isFalse(it) {
						params = append(params, it)
					}
				}
				checkNull = len(params) < len(rv)
			}
			var base evalFn
			if len(params) > 0 {
				set := newValueSet()
				for _, p := range params {
					v, err := convertRight(f, p)
					if err != nil {
						return nil, err
					}
					set.add(v)
				}
				base = func(r rec) tri {
					v := get(r)
					if v.k == kNull {
						return triN
					}
					return cond(set.has(v) != not, triT, triF)
				}
			} else {
				base = constFn(cond(not, triT, triF))
			}
			switch {
			case (!not && checkNull) || (not && !checkNull):
				base = orFn(base, isNullFn(d, f, true))
			case not && checkNull:
				base = andFn(base, isNullFn(d, f, false))
			}
			return base, nil
		}
		return nil, valueErr("Invalid domain term %s", leafString(orig))
	}
	if f.typ == "boolean" && (op == "=" || op == "!=") {
		if b, ok := right.(bool); ok {
			want := b != (op == "!=")
			return func(r rec) tri {
				v := get(r)
				return cond(v.k != kNull && v.b == want || v.k == kNull && !want, triT, triF)
			}, nil
		}
	}
	if op == "=" && isFalse(right) {
		return isNullFn(d, f, true), nil
	}
	if op == "!=" && isFalse(right) {
		return isNullFn(d, f, false), nil
	}
	needWildcard := op == "like" || op == "ilike" || op == "not like" || op == "not ilike"
	var base evalFn
	if strings.HasSuffix(op, "like") {
		pat := pyStr(right)
		if needWildcard {
			pat = "%" + pat + "%"
		}
		match := likeMatcher(pat, strings.HasSuffix(op, "ilike"))
		not := strings.HasPrefix(op, "not ")
		base = func(r rec) tri {
			v := get(r)
			if v.k == kNull {
				return triN
			}
			return cond(match(v.text()) != not, triT, triF)
		}
	} else {
		rv, err := convertRight(f, right)
		if err != nil {
			return nil, err
		}
		var test func(c int) bool
		switch op {
		case "=":
			test = func(c int) bool { return c == 0 }
		case "!=":
			test = func(c int) bool { return c != 0 }
		case "<":
			test = func(c int) bool { return c < 0 }
		case "<=":
			test = func(c int) bool { return c <= 0 }
		case ">":
			test = func(c int) bool { return c > 0 }
		case ">=":
			test = func(c int) bool { return c >= 0 }
		default:
			return nil, valueErr("Invalid operator %s in domain term %s", pyRepr(op), leafString(orig))
		}
		if rv.k == kNull {
			base = constFn(triN)
		} else {
			base = func(r rec) tri {
				v := get(r)
				if v.k == kNull {
					return triN
				}
				return cond(test(compareValues(v, rv)), triT, triF)
			}
		}
	}
	if (needWildcard && !truthy(right)) || (truthy(right) && negativeOps[op]) {
		base = orFn(base, isNullFn(d, f, true))
	}
	return base, nil
}

// convertRight is field.convert_to_column for a value compared with f.
func convertRight(f *field, v any) (value, error) {
	switch f.typ {
	case "char", "text", "selection", "html":
		if v == nil {
			return nullV(), nil
		}
		return value{k: kStr, s: pyStr(v)}, nil
	case "boolean":
		return boolV(truthy(v)), nil
	case "integer":
		if s, ok := v.(string); ok {
			n, ok := asInt(s)
			if !ok {
				return value{}, valueErr("invalid literal for int() with base 10: %s", pyRepr(s))
			}
			return intV(n), nil
		}
		if v == nil {
			return nullV(), nil
		}
		if x, ok := v.(float64); ok {
			return floatV(x), nil
		}
		n, ok := asInt(v)
		if !ok {
			return value{}, typeErr("int() argument must be a string or a number, not %s", pyRepr(v))
		}
		return intV(n), nil
	case "many2one", "one2many":
		switch x := v.(type) {
		case float64:
			return floatV(x), nil
		case nil:
			return nullV(), nil
		case bool:
			// convert_to_column keeps the boolean; PostgreSQL refuses it.
			return value{}, pgErr("errors.UndefinedFunction", "operator does not exist: integer = boolean")
		}
		n, ok := asInt(v)
		if !ok {
			return value{}, valueErr("invalid input syntax for type integer: %s", pyRepr(v))
		}
		return intV(n), nil
	case "float", "monetary":
		switch x := v.(type) {
		case string:
			fl, ok := parsePyFloat(x)
			if !ok {
				return value{}, valueErr("could not convert string to float: %s", pyRepr(x))
			}
			return floatV(fl), nil
		case nil:
			return nullV(), nil
		}
		n, ok := pyNumber(v)
		if !ok {
			return value{}, typeErr("float() argument must be a string or a real number, not %s", pyRepr(v))
		}
		return floatV(n), nil
	case "date":
		s, err := toDate(v)
		return strV(s), err
	case "datetime":
		s, err := toDatetime(v)
		return strV(s), err
	}
	return value{k: kStr, s: pyStr(v)}, nil
}

// toDate is fields.Date.to_date for request values: "YYYY-MM-DD", or the
// date part of a datetime string.
func toDate(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case bool:
		if !x {
			return "", nil
		}
	case string:
		if x == "" {
			return "", nil
		}
		s := x
		if len(s) > 10 {
			s = s[:10]
		}
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return "", valueErr("time data %s does not match format '%%Y-%%m-%%d'", pyRepr(s))
		}
		return s, nil
	}
	return "", typeErr("%s (type %T) cannot be converted to a date", pyRepr(v), v)
}

// toDatetime is fields.Datetime.to_datetime: "YYYY-MM-DD HH:MM:SS" (a bare
// date is midnight).
func toDatetime(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case bool:
		if !x {
			return "", nil
		}
	case string:
		if x == "" {
			return "", nil
		}
		if len(x) == 10 {
			if _, err := time.Parse("2006-01-02", x); err == nil {
				return x + " 00:00:00", nil
			}
		}
		s := x
		if len(s) > 19 {
			s = s[:19]
		}
		if _, err := time.Parse("2006-01-02 15:04:05", s); err != nil {
			return "", valueErr("time data %s does not match format '%%Y-%%m-%%d %%H:%%M:%%S'", pyRepr(x))
		}
		return s, nil
	}
	return "", typeErr("%s (type %T) cannot be converted to a datetime", pyRepr(v), v)
}

// likeMatcher compiles a SQL LIKE pattern: % is any run of characters, _ one
// character, a backslash escapes the next character.
func likeMatcher(pattern string, ci bool) func(string) bool {
	plain := !strings.ContainsAny(pattern, `%_\`)
	if plain {
		if ci {
			lp := strings.ToLower(pattern)
			return func(s string) bool { return strings.ToLower(s) == lp }
		}
		return func(s string) bool { return s == pattern }
	}
	if len(pattern) >= 2 && pattern[0] == '%' && pattern[len(pattern)-1] == '%' {
		inner := pattern[1 : len(pattern)-1]
		if !strings.ContainsAny(inner, `%_\`) {
			if ci {
				li := strings.ToLower(inner)
				return func(s string) bool { return strings.Contains(strings.ToLower(s), li) }
			}
			return func(s string) bool { return strings.Contains(s, inner) }
		}
	}
	var b strings.Builder
	b.WriteString("(?s)")
	if ci {
		b.WriteString("(?i)")
	}
	b.WriteByte('^')
	for i := 0; i < len(pattern); {
		r, size := utf8.DecodeRuneInString(pattern[i:])
		i += size
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteByte('.')
		case '\\':
			if i < len(pattern) {
				r2, s2 := utf8.DecodeRuneInString(pattern[i:])
				i += s2
				b.WriteString(regexp.QuoteMeta(string(r2)))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteByte('$')
	re, err := regexp.Compile(b.String())
	if err != nil {
		return func(string) bool { return false }
	}
	return re.MatchString
}

// --- sets --------------------------------------------------------------------

// idSet is a set of record ids (a bitmap: ids are small and dense).
type idSet struct{ bits []uint64 }

func newIDSet() *idSet { return &idSet{} }

func (s *idSet) add(id int64) {
	if id <= 0 || id > maxFixtureID {
		return
	}
	w := int(id >> 6)
	for len(s.bits) <= w {
		s.bits = append(s.bits, 0)
	}
	s.bits[w] |= 1 << (uint(id) & 63)
}

func (s *idSet) has(id int64) bool {
	if id <= 0 {
		return false
	}
	w := int(id >> 6)
	return w < len(s.bits) && s.bits[w]&(1<<(uint(id)&63)) != 0
}

func (s *idSet) each(fn func(id int64)) {
	for w, word := range s.bits {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			fn(int64(w)<<6 | int64(b))
			word &^= 1 << uint(b)
		}
	}
}

func (s *idSet) list() []int64 {
	var out []int64
	s.each(func(id int64) { out = append(out, id) })
	return out
}

// valueSet holds the converted values of an 'in' list.
type valueSet struct {
	strs  map[string]struct{}
	nums  map[float64]struct{}
	bools [2]bool
}

func newValueSet() *valueSet {
	return &valueSet{strs: map[string]struct{}{}, nums: map[float64]struct{}{}}
}

func (s *valueSet) add(v value) {
	switch v.k {
	case kStr:
		s.strs[v.s] = struct{}{}
	case kBool:
		s.bools[cond(v.b, 1, 0)] = true
	case kInt, kFloat:
		s.nums[v.num()] = struct{}{}
	}
}

func (s *valueSet) has(v value) bool {
	switch v.k {
	case kStr:
		_, ok := s.strs[v.s]
		return ok
	case kBool:
		return s.bools[cond(v.b, 1, 0)]
	case kInt, kFloat:
		_, ok := s.nums[v.num()]
		return ok
	}
	return false
}
