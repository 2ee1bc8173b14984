package odoosim

import (
	"math"
	"slices"
	"strings"
)

// call is one ORM method call being served.
type call struct {
	s     *Sim
	d     *db
	e     *env
	w     *work // what the call makes the server do, for the stats
	m     *model
	ids   []int64
	a     map[string]any
	json2 bool
}

func (c *call) compiler() *compiler { return &compiler{d: c.d, e: c.e, w: c.w} }

// methodDef is one public method of every model.
type methodDef struct {
	api       string // "model", "create" (model_create_multi) or "records"
	model     string // the one model that has the method; "" for every model
	write     bool
	operation string // access right checked: read, write, create, unlink
	params    func(major int) []param
	run       func(c *call) (any, error)
}

func fixed(ps ...param) func(int) []param { return func(int) []param { return ps } }

var methods = map[string]*methodDef{
	"search": {api: "model", operation: "read",
		params: fixed(param{name: "domain", req: true}, param{name: "offset", def: int64(0)},
			param{name: "limit"}, param{name: "order"}),
		run: mSearch},
	"search_count": {api: "model", operation: "read",
		params: fixed(param{name: "domain", req: true}, param{name: "limit"}),
		run:    mSearchCount},
	"search_read": {api: "model", operation: "read",
		params: fixed(param{name: "domain"}, param{name: "fields"}, param{name: "offset", def: int64(0)},
			param{name: "limit"}, param{name: "order"}, param{name: "load", def: "_classic_read"}),
		run: mSearchRead},
	"read": {api: "records", operation: "read",
		params: fixed(param{name: "fields"}, param{name: "load", def: "_classic_read"}),
		run:    mRead},
	"fields_get": {api: "model", operation: "read",
		params: fixed(param{name: "allfields"}, param{name: "attributes"}),
		run:    mFieldsGet},
	"name_search": {api: "model", operation: "read",
		params: func(major int) []param {
			return []param{{name: "name", def: ""}, {name: cond(major >= 18, "domain", "args")},
				{name: "operator", def: "ilike"}, {name: "limit", def: int64(100)}}
		},
		run: mNameSearch},
	"default_get": {api: "model", operation: "read",
		params: fixed(param{name: "fields_list", req: true}),
		run:    mDefaultGet},
	"exists": {api: "records", operation: "read", params: fixed(), run: mExists},
	"create": {api: "create", write: true, operation: "create",
		params: fixed(param{name: "vals_list", req: true}),
		run:    mCreate},
	"write": {api: "records", write: true, operation: "write",
		params: fixed(param{name: "vals", req: true}),
		run:    mWrite},
	"unlink": {api: "records", write: true, operation: "unlink", params: fixed(), run: mUnlink},
	"read_group": {api: "model", operation: "read",
		params: fixed(param{name: "domain", req: true}, param{name: "fields", req: true},
			param{name: "groupby", req: true}, param{name: "offset", def: int64(0)}, param{name: "limit"},
			param{name: "orderby", def: false}, param{name: "lazy", def: true}),
		run: mReadGroup},
	"check_access_rights": {api: "model",
		params: fixed(param{name: "operation", req: true}, param{name: "raise_exception", def: true}),
		run:    mCheckAccessRights},
	"context_get": {api: "model", model: "res.users", params: fixed(), run: mContextGet},
}

// searchOptsFrom reads offset, limit and order arguments.
func (c *call) searchOptsFrom() (searchOpts, error) {
	var o searchOpts
	off, _, err := argInt(c.a, "offset")
	if err != nil {
		return o, err
	}
	if off < 0 {
		return o, pgErr("errors.InvalidRowCountInResultOffsetClause", "OFFSET must not be negative")
	}
	lim, has, err := argInt(c.a, "limit")
	if err != nil {
		return o, err
	}
	if lim < 0 {
		return o, pgErr("errors.InvalidRowCountInLimitClause", "LIMIT must not be negative")
	}
	o.offset, o.limit, o.hasLimit = off, lim, has && lim > 0
	if spec, ok := c.a["order"].(string); ok {
		ord, err := parseOrder(c.m, spec)
		if err != nil {
			return o, err
		}
		if len(ord) > 0 {
			o.order = ord
		}
	} else if truthy(c.a["order"]) {
		return o, typeErr("order must be a string, not %s", pyRepr(c.a["order"]))
	}
	return o, nil
}

func domainArg(v any) ([]any, error) {
	toks, err := domainTokens(v)
	if err != nil {
		return nil, err
	}
	return toks, nil
}

func (c *call) search() ([]rec, error) {
	dom, err := domainArg(c.a["domain"])
	if err != nil {
		return nil, err
	}
	o, err := c.searchOptsFrom()
	if err != nil {
		return nil, err
	}
	return c.d.searchRecs(c.compiler(), c.m, dom, o)
}

func mSearch(c *call) (any, error) {
	recs, err := c.search()
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i] = c.m.idOf(r)
	}
	return ids, nil
}

func mSearchCount(c *call) (any, error) {
	dom, err := domainArg(c.a["domain"])
	if err != nil {
		return nil, err
	}
	lim, has, err := argInt(c.a, "limit")
	if err != nil {
		return nil, err
	}
	recs, err := c.d.searchRecs(c.compiler(), c.m, dom, searchOpts{limit: lim, hasLimit: has && lim > 0,
		order: []orderTerm{{f: c.m.field("id")}}})
	if err != nil {
		return nil, err
	}
	return int64(len(recs)), nil
}

func mSearchRead(c *call) (any, error) {
	fields, err := argFields(c.m, c.a["fields"])
	if err != nil {
		return nil, err
	}
	recs, err := c.search()
	if err != nil {
		return nil, err
	}
	c.w.reads(len(recs))
	return &recordsResult{m: c.m, recs: recs, fields: fields, classic: c.a["load"] == "_classic_read"}, nil
}

// records returns the records of c.ids that exist, failing on those the
// record rules hide.
func (c *call) records(operation string) ([]rec, []int64, error) {
	t := c.d.tables[c.m.name]
	recs := make([]rec, 0, len(c.ids))
	var missing []int64
	for _, id := range c.ids {
		r := t.get(id)
		if r == nil {
			missing = append(missing, id)
			continue
		}
		if !c.e.ruleOK(c.d, c.m, r) {
			return nil, nil, accessErr("Due to security restrictions, you are not allowed to %s '%s' (%s) records.\n\n"+
				"Records: %s (id=%d)\nUser: %s (id=%d)\n\n"+
				"Note: this might be a multi-company issue. Switching company may help - in Odoo, not in code!\n\n"+
				"Contact your administrator to request access if necessary.",
				accessVerbs[operation], c.m.description, c.m.name, c.m.display(c.d, r), id,
				c.e.user.Login, c.e.uid)
		}
		recs = append(recs, r)
	}
	return recs, missing, nil
}

func mRead(c *call) (any, error) {
	fields, err := argFields(c.m, c.a["fields"])
	if err != nil {
		return nil, err
	}
	recs, _, err := c.records("read")
	if err != nil {
		return nil, err
	}
	c.w.reads(len(recs))
	return &recordsResult{m: c.m, recs: recs, fields: fields, classic: c.a["load"] == "_classic_read"}, nil
}

func mExists(c *call) (any, error) {
	t := c.d.tables[c.m.name]
	out := []int64{}
	for _, id := range c.ids {
		if t.get(id) != nil {
			out = append(out, id)
		}
	}
	return out, nil
}

func describeField(f *field) omap {
	d := omap{{"type", f.typ}, {"string", f.label}}
	if f.help != "" {
		d = append(d, kv{"help", f.help})
	}
	d = append(d, kv{"readonly", f.readonly}, kv{"required", f.required}, kv{"store", f.store},
		kv{"searchable", true}, kv{"sortable", f.store && f.typ != "one2many"},
		kv{"groupable", f.store && f.typ != "one2many"}, kv{"manual", false},
		kv{"company_dependent", false}, kv{"name", f.name})
	if f.relational() {
		d = append(d, kv{"relation", f.relation}, kv{"context", omap{}}, kv{"domain", []any{}})
	}
	if f.typ == "one2many" {
		d = append(d, kv{"relation_field", f.inverse})
	}
	if f.typ == "selection" {
		sel := make([]any, len(f.selection))
		for i, s := range f.selection {
			sel[i] = []any{s[0], s[1]}
		}
		d = append(d, kv{"selection", sel})
	}
	if f.typ == "monetary" {
		d = append(d, kv{"currency_field", f.currencyField})
	}
	if f.typ == "char" || f.typ == "text" {
		d = append(d, kv{"translate", false})
	}
	return d
}

func mFieldsGet(c *call) (any, error) {
	var only map[string]bool
	if l, ok := c.a["allfields"].([]any); ok && len(l) > 0 {
		only = map[string]bool{}
		for _, it := range l {
			if s, ok := it.(string); ok {
				only[s] = true
			}
		}
	}
	var attrs map[string]bool
	if l, ok := c.a["attributes"].([]any); ok && len(l) > 0 {
		attrs = map[string]bool{}
		for _, it := range l {
			if s, ok := it.(string); ok {
				attrs[s] = true
			}
		}
	} else if s, ok := c.a["attributes"].(string); ok {
		attrs = map[string]bool{s: true}
	}
	out := omap{}
	for _, f := range c.m.fields {
		if only != nil && !only[f.name] {
			continue
		}
		desc := describeField(f)
		if attrs != nil {
			kept := omap{}
			for _, p := range desc {
				if attrs[p.k] {
					kept = append(kept, p)
				}
			}
			desc = kept
		}
		out = append(out, kv{f.name, desc})
	}
	return out, nil
}

func mNameSearch(c *call) (any, error) {
	name := c.a["name"]
	if isFalse(name) {
		name = ""
	}
	op, _ := c.a["operator"].(string)
	if op == "" {
		op = "ilike"
	}
	extra := c.a[cond(c.s.major >= 18, "domain", "args")]
	extraDom, err := domainArg(extra)
	if err != nil {
		return nil, err
	}
	dom := nameSearchDomain(c.m, name, op)
	// Top-level expressions are AND-ed: the extra domain, then the name test.
	dom = append(slices.Clone(extraDom), dom...)
	lim, has, err := argInt(c.a, "limit")
	if err != nil {
		return nil, err
	}
	recs, err := c.d.searchRecs(c.compiler(), c.m, dom, searchOpts{limit: lim, hasLimit: has && lim > 0})
	if err != nil {
		return nil, err
	}
	c.w.reads(len(recs)) // their display names are returned
	out := make([]any, len(recs))
	for i, r := range recs {
		out[i] = []any{c.m.idOf(r), c.m.display(c.d, r)}
	}
	return out, nil
}

func mDefaultGet(c *call) (any, error) {
	names, ok := c.a["fields_list"].([]any)
	if !ok {
		return nil, typeErr("fields_list must be a list of field names, not %s", pyRepr(c.a["fields_list"]))
	}
	defs := c.d.defaults(c.e, c.m, nil)
	out := omap{}
	for _, it := range names {
		name, _ := it.(string)
		f := c.m.field(name)
		if f == nil {
			continue
		}
		if v, ok := defs[name]; ok {
			out = append(out, kv{name, plainValue(c.d, f, v, false)})
		}
	}
	return out, nil
}

// plainValue turns a field value into what read returns for it.
func plainValue(d *db, f *field, v value, classic bool) any {
	switch v.k {
	case kNull:
		switch {
		case f.numeric():
			if f.typ == "integer" {
				return int64(0)
			}
			return 0.0
		case f.typ == "one2many" || f.typ == "many2many":
			return []int64{}
		}
		return false
	case kBool:
		return v.b
	case kInt:
		if f.typ == "many2one" && classic {
			return []any{v.i, d.displayName(f.co, v.i)}
		}
		return v.i
	case kFloat:
		return v.f
	case kStr:
		return v.s
	case kIDs:
		if v.ids == nil {
			return []int64{}
		}
		return v.ids
	}
	return false
}

// --- writes --------------------------------------------------------------------

// convertWrite converts a value sent for field f to what the field stores,
// with the checks Odoo and PostgreSQL make.
func (c *call) convertWrite(f *field, v any) (value, error) {
	m := c.m
	switch f.typ {
	case "char", "text", "html":
		if isFalse(v) {
			return nullV(), nil
		}
		return strV(pyStr(v)), nil
	case "selection":
		if isFalse(v) {
			return nullV(), nil
		}
		s, ok := v.(string)
		if ok {
			for _, opt := range f.selection {
				if opt[0] == s {
					return strV(s), nil
				}
			}
		}
		return value{}, valueErr("Wrong value for %s.%s: %s", m.name, f.name, pyRepr(v))
	case "boolean":
		return boolV(truthy(v)), nil
	case "integer":
		if isFalse(v) {
			return intV(0), nil
		}
		n, ok := asInt(v)
		if !ok {
			return value{}, valueErr("invalid literal for int() with base 10: %s", pyRepr(v))
		}
		if n > math.MaxInt32 || n < math.MinInt32 {
			return value{}, pgErr("errors.NumericValueOutOfRange", "integer out of range")
		}
		return intV(n), nil
	case "float", "monetary":
		if isFalse(v) {
			return floatV(0), nil
		}
		x, err := convertRight(f, v)
		if err != nil {
			return value{}, err
		}
		return floatV(x.num()), nil
	case "date":
		s, err := toDate(v)
		return strV(s), err
	case "datetime":
		s, err := toDatetime(v)
		return strV(s), err
	case "many2one":
		if isFalse(v) {
			return nullV(), nil
		}
		if l, ok := v.([]any); ok && len(l) > 0 {
			v = l[0]
		}
		n, ok := asInt(v)
		if _, isStr := v.(string); isStr || !ok {
			return value{}, valueErr("Wrong value for %s.%s: %s", m.name, f.name, pyRepr(v))
		}
		if c.d.tables[f.relation].get(n) == nil {
			return value{}, validationErr("The operation cannot be completed: another model requires the record "+
				"being deleted. If possible, archive it instead.\n\nModel: %s (%s)\nConstraint: %s_%s_fkey\n",
				m.description, m.name, strings.ReplaceAll(m.name, ".", "_"), f.name)
		}
		return refV(n), nil
	case "one2many", "many2many":
		return value{}, newErr("NotImplementedError", 1, 500,
			"writing %s fields (%s.%s) is not supported by the Odoo simulator", f.typ, m.name, f.name)
	}
	return value{}, valueErr("cannot write field %s", f.name)
}

// prepareVals checks and converts a vals dict.
func (c *call) prepareVals(v any) (map[*field]value, error) {
	vals, ok := v.(map[string]any)
	if !ok {
		return nil, typeErr("vals must be a dict of field values, not %s", pyRepr(v))
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := map[*field]value{}
	for _, k := range keys {
		f := c.m.field(k)
		if f == nil {
			return nil, invalidField(c.m.name, k)
		}
		if f.set == nil && f.typ != "one2many" {
			continue // computed: Odoo ignores it
		}
		cv, err := c.convertWrite(f, vals[k])
		if err != nil {
			return nil, err
		}
		out[f] = cv
	}
	return out, nil
}

func mCreate(c *call) (any, error) {
	single := false
	var list []any
	switch v := c.a["vals_list"].(type) {
	case map[string]any:
		single, list = true, []any{v}
	case []any:
		list = v
	default:
		return nil, typeErr("create() expects a dict or a list of dicts, not %s", pyRepr(v))
	}
	ids := make([]int64, 0, len(list))
	prepared := make([]map[*field]value, len(list))
	for i, it := range list {
		vals, err := c.prepareVals(it)
		if err != nil {
			return nil, err
		}
		prepared[i] = vals
	}
	for _, vals := range prepared {
		id, err := c.d.create(c.e, c.m, vals)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if single {
		return ids[0], nil
	}
	return ids, nil
}

func mWrite(c *call) (any, error) {
	vals, err := c.prepareVals(c.a["vals"])
	if err != nil {
		return nil, err
	}
	recs, missing, err := c.records("write")
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, recordMissing(c.m.name, missing, c.e.uid)
	}
	if err := c.d.checkWrite(c.m, recs, vals); err != nil {
		return nil, err
	}
	cands := make([]rec, len(recs))
	for i, r := range recs {
		cands[i] = c.m.copyRec(r)
		for f, v := range vals {
			f.set(cands[i], v)
		}
	}
	if err := c.d.checkConstraints(c.m, cands); err != nil {
		return nil, err
	}
	for _, r := range recs {
		c.d.update(c.m, r, vals)
	}
	return true, nil
}

func mUnlink(c *call) (any, error) {
	recs, _, err := c.records("unlink")
	if err != nil {
		return nil, err
	}
	if err := c.d.unlink(c.m, recs); err != nil {
		return nil, err
	}
	return true, nil
}
