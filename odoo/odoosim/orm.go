package odoosim

import (
	"math"
	"regexp"
	"slices"
	"strings"
)

// env is the environment of one call: the user, the context and what
// follows from it (archived records shown or not, the allowed companies).
type env struct {
	uid        int64
	user       *User
	ctx        map[string]any
	activeTest bool
	companies  []int64
	company    int64
}

func (e *env) withActiveTest(b bool) *env {
	c := *e
	c.activeTest = b
	return &c
}

func (e *env) companyAllowed(id int64) bool { return slices.Contains(e.companies, id) }

// ruleOK applies the multi-company record rules.
func (e *env) ruleOK(d *db, m *model, r rec) bool {
	if m.companyField == "" {
		return true
	}
	if m.companyField == "id" {
		return e.companyAllowed(m.idOf(r))
	}
	v := m.field(m.companyField).get(d, r)
	return v.k != kInt || e.companyAllowed(v.i)
}

var accessVerbs = map[string]string{"read": "access", "write": "modify", "create": "create", "unlink": "delete"}

// checkAccess is check_access_rights: the accounting models need accounting
// rights.
func (e *env) checkAccess(m *model, operation string) error {
	if operation == "" {
		return nil
	}
	if m.readOnly && operation != "read" {
		return accessErr("You are not allowed to %s '%s' (%s) records.\n\n"+
			"The Odoo simulator serves this model read-only.", accessVerbs[operation], m.description, m.name)
	}
	if !m.accounting || !e.user.NoAccounting {
		return nil
	}
	return accessErr("You are not allowed to %s '%s' (%s) records.\n\n"+
		"This operation is allowed for the following groups:\n\t- %s\n\n"+
		"Contact your administrator to request access if necessary.",
		accessVerbs[operation], m.description, m.name, m.groups)
}

func (s *Sim) newEnv(u *User, ctx map[string]any) (*env, error) {
	e := &env{uid: u.ID, user: u, ctx: ctx, activeTest: true}
	if v, ok := ctx["active_test"]; ok {
		e.activeTest = truthy(v)
	}
	userCompanies := u.CompanyIDs
	if len(userCompanies) == 0 {
		for _, r := range s.db.companies.recs {
			if r != nil {
				userCompanies = append(userCompanies, r.(*Company).ID)
			}
		}
	}
	if v, ok := ctx["allowed_company_ids"]; ok && truthy(v) {
		ids, err := asIDList(v)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if !slices.Contains(userCompanies, id) {
				return nil, accessErr("Access to unauthorized or invalid companies.")
			}
		}
		e.companies = ids
	} else {
		e.companies = userCompanies
	}
	if len(e.companies) > 0 {
		e.company = e.companies[0]
	}
	return e, nil
}

// --- search ------------------------------------------------------------------

type searchOpts struct {
	offset   int64
	limit    int64
	hasLimit bool
	order    []orderTerm
}

func mentionsActive(domain []any) bool {
	for _, t := range domain {
		if l, ok := t.([]any); ok && len(l) > 0 && l[0] == "active" {
			return true
		}
	}
	return false
}

// idBounds finds the terms on id of a domain made only of terms (an
// implicit AND) — ('id', '>', n), '>=', '<', '<=', '=' and 'in' with a list
// of ids — and returns the range [lb, ub) that holds every record that can
// match and, when an 'in' term lists the ids, those ids (sorted, without
// duplicates; the ids common to every list when there are several), as
// PostgreSQL's index on id narrows such a search: paging by id starts where
// it should, and reading a chunk of ids with ('id', 'in', ids) looks at
// those ids only, not the whole table nor every id between the chunk's
// first and last. ids is nil when no term lists them. The domain is still
// evaluated on each record looked at.
func idBounds(domain []any) (lb, ub int64, ids []int64) {
	lb, ub = 1, math.MaxInt64
	for _, t := range domain {
		l, ok := t.([]any)
		if !ok {
			return 1, math.MaxInt64, nil
		}
		if len(l) != 3 || l[0] != "id" {
			continue
		}
		switch v := l[2].(type) {
		case int64:
			if v == math.MaxInt64 || v == math.MinInt64 {
				continue // no bound worth the overflow
			}
			switch l[1] {
			case ">":
				lb = max(lb, v+1)
			case ">=":
				lb = max(lb, v)
			case "<":
				ub = min(ub, v)
			case "<=":
				ub = min(ub, v+1)
			case "=":
				lb, ub = max(lb, v), min(ub, v+1)
			}
		case []any:
			if l[1] != "in" || len(v) == 0 {
				continue
			}
			list := make([]int64, 0, len(v))
			for _, e := range v {
				n, ok := e.(int64)
				if !ok {
					list = nil
					break
				}
				list = append(list, n)
			}
			if list == nil {
				continue
			}
			slices.Sort(list)
			list = slices.Compact(list)
			if list[len(list)-1] == math.MaxInt64 {
				continue
			}
			lb, ub = max(lb, list[0]), min(ub, list[len(list)-1]+1)
			if ids == nil {
				ids = list
			} else {
				ids = intersectSorted(ids, list)
			}
		}
	}
	return lb, ub, ids
}

// intersectSorted returns the ids in both sorted lists.
func intersectSorted(a, b []int64) []int64 {
	out := make([]int64, 0, min(len(a), len(b)))
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}

// searchRecs is _search + the fetch: the records of m matching domain,
// with active_test and record rules applied, ordered, offset and limited.
// The records it looks at (those of the narrowed id range, or of the ids
// listed, that exist) are counted as examined on the compiler's work.
func (x *db) searchRecs(c *compiler, m *model, domain []any, o searchOpts) ([]rec, error) {
	if err := c.e.checkAccess(m, "read"); err != nil {
		return nil, err
	}
	fn, err := c.compile(m, domain)
	if err != nil {
		return nil, err
	}
	order := o.order
	if order == nil {
		order = m.order
	}
	byID := len(order) == 1 && order[0].f.name == "id" && !order[0].desc
	stopAt := -1
	if byID && o.hasLimit {
		stopAt = int(o.offset + o.limit)
	}
	var active *field
	if m.hasActive && c.e.activeTest && !mentionsActive(domain) {
		active = m.field("active")
	}
	t := x.tables[m.name]
	lb, ub, ids := idBounds(domain)
	indexed, err := x.narrowing(c, m, domain)
	if err != nil {
		return nil, err
	}
	ub = min(ub, int64(len(t.recs)))
	var out []rec
	var examined int64
	// The records looked at are those of the range [lb, ub) or, when the
	// domain lists ids, those of the list within the range.
	for k := 0; ; k++ {
		var id int64
		if ids != nil {
			if k >= len(ids) {
				break
			}
			if id = ids[k]; id < lb || id >= ub {
				continue
			}
		} else if id = lb + int64(k); id >= ub {
			break
		}
		r := t.recs[id]
		if r == nil || (indexed != nil && indexed(r) != triT) {
			continue
		}
		examined++
		if active != nil && !active.get(x, r).b {
			continue
		}
		if !c.e.ruleOK(x, m, r) || fn(r) != triT {
			continue
		}
		out = append(out, r)
		if len(out) == stopAt {
			break
		}
	}
	c.w.examine(examined)
	if !byID {
		x.sortRecs(m, out, order)
	}
	if o.offset > 0 {
		if o.offset >= int64(len(out)) {
			out = nil
		} else {
			out = out[o.offset:]
		}
	}
	if o.hasLimit && int64(len(out)) > o.limit {
		out = out[:o.limit]
	}
	return out, nil
}

// --- order -------------------------------------------------------------------

type orderTerm struct {
	f     *field
	desc  bool
	nulls int // 0 default (PostgreSQL: NULLS LAST ascending, FIRST descending), 1 first, 2 last
	rawID bool
}

var regexOrder = regexp.MustCompile(`(?i)^(\s*([a-z0-9:_]+|"[a-z0-9:_]+")(\.id)?(\s+(desc|asc))?(\s+(nulls)\s+(first|last))?\s*(,|$))+$`)

// parseOrder reads an "order" specification ("date desc, id").
func parseOrder(m *model, spec string) ([]orderTerm, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	if !regexOrder.MatchString(spec) || strings.HasSuffix(strings.TrimSpace(spec), ",") {
		return nil, valueErr(`Invalid "order" specified (%s). A valid "order" specification is a `+
			`comma-separated list of valid field names (optionally followed by asc/desc for the direction)`, spec)
	}
	var out []orderTerm
	for _, part := range strings.Split(spec, ",") {
		words := strings.Fields(part)
		name := strings.Trim(words[0], `"`)
		var t orderTerm
		if n, ok := strings.CutSuffix(name, ".id"); ok {
			name, t.rawID = n, true
		}
		f := m.field(name)
		if f == nil {
			return nil, invalidField(m.name, name)
		}
		t.f = f
		for i := 1; i < len(words); i++ {
			switch strings.ToLower(words[i]) {
			case "desc":
				t.desc = true
			case "first":
				t.nulls = 1
			case "last":
				t.nulls = 2
			}
		}
		if !f.store || f.typ == "one2many" {
			continue // Odoo ignores what it cannot sort on
		}
		out = append(out, t)
	}
	if out == nil {
		out = []orderTerm{}
	}
	return out, nil
}

type sortKey struct {
	get        func(r rec) value
	desc       bool
	nullsFirst bool
}

// sortKeys flattens an order: a many2one sorts by its comodel's order.
func (x *db) sortKeys(m *model, order []orderTerm, depth int) []sortKey {
	var keys []sortKey
	for _, t := range order {
		f := t.f
		nullsFirst := cond(t.nulls == 0, t.desc, t.nulls == 1)
		if f.typ == "many2one" && !t.rawID && depth == 0 {
			co := x.models[f.relation]
			ct := x.tables[co.name]
			for _, k := range x.sortKeys(co, co.order, depth+1) {
				inner := k
				keys = append(keys, sortKey{
					get: func(r rec) value {
						v := f.get(x, r)
						if v.k != kInt {
							return nullV()
						}
						cr := ct.get(v.i)
						if cr == nil {
							return nullV()
						}
						return inner.get(cr)
					},
					desc:       inner.desc != t.desc,
					nullsFirst: cond(t.nulls == 0, inner.desc != t.desc, t.nulls == 1),
				})
			}
			continue
		}
		keys = append(keys, sortKey{get: func(r rec) value { return f.get(x, r) }, desc: t.desc, nullsFirst: nullsFirst})
	}
	return keys
}

func (x *db) sortRecs(m *model, recs []rec, order []orderTerm) {
	keys := x.sortKeys(m, order, 0)
	if len(keys) == 0 || len(recs) < 2 {
		return
	}
	k := len(keys)
	vals := make([]value, len(recs)*k)
	for i, r := range recs {
		for j, key := range keys {
			vals[i*k+j] = key.get(r)
		}
	}
	idx := make([]int, len(recs))
	for i := range idx {
		idx[i] = i
	}
	// pdqsort with the position (id order) as the last key: stable and fast.
	slices.SortFunc(idx, func(a, b int) int {
		for j, key := range keys {
			va, vb := vals[a*k+j], vals[b*k+j]
			an, bn := va.k == kNull, vb.k == kNull
			switch {
			case an && bn:
				continue
			case an:
				return cond(key.nullsFirst, -1, 1)
			case bn:
				return cond(key.nullsFirst, 1, -1)
			}
			c := compareValues(va, vb)
			if c != 0 {
				return cond(key.desc, -c, c)
			}
		}
		return a - b
	})
	sorted := make([]rec, len(recs))
	for i, j := range idx {
		sorted[i] = recs[j]
	}
	copy(recs, sorted)
}

// --- results -------------------------------------------------------------------

// kv and omap are an ordered dict (Python dicts keep insertion order).
type kv struct {
	k string
	v any
}
type omap []kv

// recordsResult is the result of read and search_read: encoded straight from
// the records, chunk by chunk, without building dicts.
type recordsResult struct {
	m       *model
	recs    []rec
	fields  []*field
	classic bool // load='_classic_read': many2one as [id, display_name]
}

// --- method binding ------------------------------------------------------------

type param struct {
	name string
	def  any
	req  bool
}

// bind binds positional and keyword arguments to a method's parameters as
// Python does, with Python's messages.
func bind(qual string, params []param, args []any, kwargs map[string]any, json2 bool) (map[string]any, error) {
	out := make(map[string]any, len(params))
	if len(args) > len(params) {
		nreq := 1
		for _, p := range params {
			if p.req {
				nreq++
			}
		}
		return nil, typeErr("%s() takes from %d to %d positional arguments but %d were given",
			qual, nreq, len(params)+1, len(args)+1)
	}
	for i, a := range args {
		out[params[i].name] = a
	}
	for k, v := range kwargs {
		found := false
		for _, p := range params {
			if p.name == k {
				found = true
				break
			}
		}
		if !found {
			if json2 {
				return nil, httpErr(422, "got an unexpected keyword argument %s", pyRepr(k))
			}
			return nil, typeErr("%s() got an unexpected keyword argument %s", qual, pyRepr(k))
		}
		if _, dup := out[k]; dup {
			return nil, typeErr("%s() got multiple values for argument %s", qual, pyRepr(k))
		}
		out[k] = v
	}
	var missing []string
	for _, p := range params {
		if _, ok := out[p.name]; !ok {
			if p.req {
				missing = append(missing, pyRepr(p.name))
				continue
			}
			out[p.name] = p.def
		}
	}
	if len(missing) > 0 {
		if json2 {
			return nil, httpErr(422, "missing a required argument: %s", missing[0])
		}
		return nil, typeErr("%s() missing %d required positional argument%s: %s", qual,
			len(missing), cond(len(missing) > 1, "s", ""), strings.Join(missing, " and "))
	}
	return out, nil
}

func argInt(args map[string]any, name string) (int64, bool, error) {
	v := args[name]
	if isFalse(v) {
		return 0, false, nil
	}
	n, ok := asInt(v)
	if !ok {
		if _, isStr := v.(string); isStr {
			return 0, false, typeErr("'<' not supported between instances of 'str' and 'int'")
		}
		return 0, false, typeErr("%s must be an integer, not %s", name, pyRepr(v))
	}
	return n, true, nil
}

func argFields(m *model, v any) ([]*field, error) {
	if !truthy(v) {
		return m.fields, nil
	}
	list, ok := v.([]any)
	if !ok {
		if s, isStr := v.(string); isStr {
			list = []any{s}
		} else {
			return nil, typeErr("fields must be a list of field names, not %s", pyRepr(v))
		}
	}
	out := make([]*field, 0, len(list)+1)
	seen := map[string]bool{"id": true}
	out = append(out, m.field("id"))
	for _, it := range list {
		name, ok := it.(string)
		if !ok {
			return nil, typeErr("field names must be strings, not %s", pyRepr(it))
		}
		if seen[name] {
			continue
		}
		f := m.field(name)
		if f == nil {
			return nil, invalidField(m.name, name)
		}
		seen[name] = true
		out = append(out, f)
	}
	return out, nil
}
