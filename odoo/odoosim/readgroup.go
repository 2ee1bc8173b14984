package odoosim

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// read_group(domain, fields, groupby, offset=0, limit=None, orderby=False,
// lazy=True), as Odoo 17's BaseModel.read_group returns it (odoo/models.py,
// read_group and _read_group_format_result): one dict per group with the
// groupby values (a many2one as [id, display_name], a date grouped by
// granularity as its label, "January 2024"), the count (<field>_count when
// lazy, __count otherwise), the aggregates, __range for date groupbys,
// __domain (the group's records) and, when lazy leaves groupbys over,
// __context.

var regexFieldAgg = regexp.MustCompile(`^(\w+)(?::(\w+)(?:\((\w+)\))?)?$`)

var aggregateFuncs = map[string]bool{"count": true, "count_distinct": true, "sum": true, "avg": true,
	"max": true, "min": true, "bool_and": true, "bool_or": true}

// READ_GROUP_DISPLAY_FORMAT in babel patterns, rendered for en_US.
var granularities = map[string]bool{"day": true, "week": true, "month": true, "quarter": true, "year": true}

type groupbySpec struct {
	spec string // as given: "partner_id", "date:month"
	f    *field
	gran string // date granularity; "" for other fields
}

type aggregateSpec struct {
	key string // name in the result
	f   *field
	fn  string
}

type rgGroup struct {
	key   []value // one per groupby: the value, or the range start of a date
	recs  []rec
	order []value
}

func parseGroupby(m *model, v any) ([]string, error) {
	var out []string
	switch g := v.(type) {
	case string:
		out = []string{g}
	case []any:
		for _, it := range g {
			s, ok := it.(string)
			if !ok {
				return nil, typeErr("groupby must be a list of field names, not %s", pyRepr(v))
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	default:
		if truthy(v) {
			return nil, typeErr("groupby must be a list of field names, not %s", pyRepr(v))
		}
	}
	return out, nil
}

func groupbyOf(m *model, spec string) (groupbySpec, error) {
	name, gran, hasGran := strings.Cut(spec, ":")
	f := m.field(name)
	if f == nil {
		return groupbySpec{}, invalidField(m.name, name)
	}
	if !f.store || f.typ == "one2many" {
		return groupbySpec{}, valueErr("Field %s.%s is not a stored field, only stored fields (regular or many2many) "+
			"are valid for the 'groupby' parameter", m.name, name)
	}
	g := groupbySpec{spec: spec, f: f}
	if f.typ == "date" || f.typ == "datetime" {
		g.gran = cond(hasGran, gran, "month")
		if !granularities[g.gran] {
			return groupbySpec{}, valueErr("Granularity %s is invalid", pyRepr(g.gran))
		}
	} else if hasGran {
		return groupbySpec{}, valueErr("Granularity set on a no-datetime field or property: %s", pyRepr(spec))
	}
	return g, nil
}

// dateStart truncates a date or datetime value to its granularity
// (PostgreSQL's date_trunc; weeks start on Monday) and returns the range.
func dateRange(v string, gran string) (start, end time.Time, ok bool) {
	t, err := time.Parse("2006-01-02 15:04:05", v)
	if err != nil {
		if t, err = time.Parse("2006-01-02", v); err != nil {
			return
		}
	}
	y, mo, d := t.Date()
	switch gran {
	case "day":
		start = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
		end = start.AddDate(0, 0, 1)
	case "week":
		start = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
		start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7))
		end = start.AddDate(0, 0, 7)
	case "month":
		start = time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
		end = start.AddDate(0, 1, 0)
	case "quarter":
		start = time.Date(y, time.Month((int(mo)-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
		end = start.AddDate(0, 3, 0)
	case "year":
		start = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		end = start.AddDate(1, 0, 0)
	}
	return start, end, true
}

// dateLabel is the group's label (READ_GROUP_DISPLAY_FORMAT with babel,
// en_US): "05 Jan 2024", "W1 2024", "January 2024", "Q1 2024", "2024".
func dateLabel(t time.Time, gran string) string {
	switch gran {
	case "day":
		return t.Format("02 Jan 2006")
	case "week":
		y, w := t.ISOWeek()
		return "W" + strconv.Itoa(w) + " " + strconv.Itoa(y)
	case "quarter":
		return "Q" + strconv.Itoa((int(t.Month())-1)/3+1) + " " + t.Format("2006")
	case "year":
		return t.Format("2006")
	}
	return t.Format("January 2006")
}

func mReadGroup(c *call) (any, error) {
	m := c.m
	dom, err := domainArg(c.a["domain"])
	if err != nil {
		return nil, err
	}
	groupby, err := parseGroupby(m, c.a["groupby"])
	if err != nil {
		return nil, err
	}
	lazy := truthy(c.a["lazy"])
	lazyGroupby := groupby
	if lazy && len(groupby) > 1 {
		lazyGroupby = groupby[:1]
	}
	gbs := make([]groupbySpec, len(lazyGroupby))
	for i, spec := range lazyGroupby {
		if gbs[i], err = groupbyOf(m, spec); err != nil {
			return nil, err
		}
	}
	countKey := "__count"
	if lazy && len(lazyGroupby) == 1 {
		countKey = strings.Split(lazyGroupby[0], ":")[0] + "_count"
	}
	aggs, err := readGroupAggregates(m, c.a["fields"], groupby)
	if err != nil {
		return nil, err
	}
	recs, err := c.d.searchRecs(c.compiler(), m, dom, searchOpts{order: []orderTerm{{f: m.field("id")}}})
	if err != nil {
		return nil, err
	}

	// Group the records, in the order of their first record.
	var groups []*rgGroup
	index := map[string]*rgGroup{}
	for _, r := range recs {
		key := make([]value, len(gbs))
		var sb strings.Builder
		for i, g := range gbs {
			v := g.f.get(c.d, r)
			if g.gran != "" && v.k == kStr {
				if start, _, ok := dateRange(v.s, g.gran); ok {
					v = strV(start.Format(cond(g.f.typ == "date", "2006-01-02", "2006-01-02 15:04:05")))
				}
			}
			key[i] = v
			sb.WriteString(strconv.Itoa(int(v.k)))
			sb.WriteByte(':')
			sb.WriteString(v.text())
			sb.WriteByte(0)
		}
		k := sb.String()
		grp := index[k]
		if grp == nil {
			grp = &rgGroup{key: key}
			index[k] = grp
			groups = append(groups, grp)
		}
		grp.recs = append(grp.recs, r)
	}
	if len(gbs) == 0 {
		groups = []*rgGroup{{recs: recs}} // one row, even without records
	}

	rows := make([]omap, len(groups))
	for i, grp := range groups {
		row := make(omap, 0, len(gbs)+len(aggs)+4)
		for j, g := range gbs {
			row = append(row, kv{g.spec, c.groupValue(g, grp.key[j])})
		}
		row = append(row, kv{countKey, int64(len(grp.recs))})
		for _, a := range aggs {
			row = append(row, kv{a.key, aggregate(c.d, a, grp.recs)})
		}
		var ranges omap
		var extra []any
		for j, g := range gbs {
			v := grp.key[j]
			if g.gran != "" {
				if v.k != kStr {
					ranges = append(ranges, kv{g.spec, false})
					extra = andLeaves(extra, []any{g.f.name, "=", false})
					continue
				}
				start, end, _ := dateRange(v.s, g.gran)
				layout := cond(g.f.typ == "date", "2006-01-02", "2006-01-02 15:04:05")
				from, to := start.Format(layout), end.Format(layout)
				ranges = append(ranges, kv{g.spec, omap{{"from", from}, {"to", to}}})
				extra = andDomains(extra, []any{"&", []any{g.f.name, ">=", from}, []any{g.f.name, "<", to}})
				continue
			}
			extra = andLeaves(extra, []any{g.f.name, "=", plainGroupValue(g.f, v)})
		}
		if ranges != nil {
			row = append(row, kv{"__range", ranges})
		}
		row = append(row, kv{"__domain", andDomains(slices.Clone(dom), extra)})
		if lazy && len(groupby) > len(lazyGroupby) {
			rest := make([]any, 0, len(groupby)-1)
			for _, g := range groupby[len(lazyGroupby):] {
				rest = append(rest, g)
			}
			row = append(row, kv{"__context", omap{{"group_by", rest}}})
		}
		rows[i] = row
	}

	if err := c.sortGroups(groups, rows, gbs, aggs, countKey); err != nil {
		return nil, err
	}
	off, _, err := argInt(c.a, "offset")
	if err != nil {
		return nil, err
	}
	lim, hasLim, err := argInt(c.a, "limit")
	if err != nil {
		return nil, err
	}
	if off > 0 {
		rows = rows[min(int(off), len(rows)):]
	}
	if hasLim && lim > 0 && int(lim) < len(rows) {
		rows = rows[:lim]
	}
	c.w.reads(len(rows))
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out, nil
}

// readGroupAggregates reads the fields argument: "name" (a stored numeric
// field not grouped by, summed), "name:agg" and "alias:agg(name)".
func readGroupAggregates(m *model, v any, groupby []string) ([]aggregateSpec, error) {
	var specs []any
	switch f := v.(type) {
	case []any:
		specs = f
	case string:
		specs = []any{f}
	default:
		if truthy(v) {
			return nil, typeErr("fields must be a list of field names, not %s", pyRepr(v))
		}
	}
	var out []aggregateSpec
	for _, it := range specs {
		spec, ok := it.(string)
		if !ok {
			return nil, typeErr("field specifications must be strings, not %s", pyRepr(it))
		}
		if spec == "__count" || spec == "sequence" {
			continue
		}
		mm := regexFieldAgg.FindStringSubmatch(spec)
		if mm == nil {
			return nil, userErr("Invalid field specification %s.", pyRepr(spec))
		}
		name, fn, fname := mm[1], strings.ToLower(mm[2]), mm[3]
		fieldName := name
		if fname != "" {
			fieldName = fname
		}
		f := m.field(fieldName)
		if f == nil {
			return nil, invalidField(m.name, fieldName)
		}
		if fn == "" {
			grouped := false
			for _, g := range groupby {
				grouped = grouped || strings.Split(g, ":")[0] == name
			}
			if !f.store || !f.numeric() || f.name == "id" || grouped {
				continue
			}
			fn = "sum"
		}
		if !aggregateFuncs[fn] {
			return nil, valueErr("Invalid aggregate function %s.", pyRepr(fn))
		}
		if !f.store {
			return nil, valueErr("Cannot aggregate field %s.", pyRepr(fieldName))
		}
		out = append(out, aggregateSpec{key: name, f: f, fn: fn})
	}
	return out, nil
}

// aggregate computes one aggregate over a group's records, as PostgreSQL
// does (NULLs ignored; sums of amounts without binary float noise).
func aggregate(d *db, a aggregateSpec, recs []rec) any {
	var vals []value
	for _, r := range recs {
		if v := a.f.get(d, r); v.k != kNull {
			vals = append(vals, v)
		}
	}
	switch a.fn {
	case "count":
		return int64(len(vals))
	case "count_distinct":
		n := int64(0)
		seen := map[string]bool{}
		for _, v := range vals {
			k := strconv.Itoa(int(v.k)) + v.text()
			if !seen[k] {
				seen[k] = true
				n++
			}
		}
		return n
	case "bool_and", "bool_or":
		and := a.fn == "bool_and"
		if len(vals) == 0 {
			return nil
		}
		res := and
		for _, v := range vals {
			if and {
				res = res && v.b
			} else {
				res = res || v.b
			}
		}
		return res
	case "max", "min":
		if len(vals) == 0 {
			return false
		}
		best := vals[0]
		for _, v := range vals[1:] {
			c := compareValues(v, best)
			if (a.fn == "max" && c > 0) || (a.fn == "min" && c < 0) {
				best = v
			}
		}
		return plainValue(d, a.f, best, false)
	}
	// sum, avg
	if a.f.typ == "integer" && a.fn == "sum" {
		var n int64
		for _, v := range vals {
			n += v.i
		}
		return n
	}
	var sum float64
	for _, v := range vals {
		sum += v.num()
	}
	if a.fn == "avg" {
		if len(vals) == 0 {
			return false
		}
		return sum / float64(len(vals))
	}
	return math.Round(sum*1e6) / 1e6
}

// groupValue is a group's value of one groupby as read_group returns it.
func (c *call) groupValue(g groupbySpec, v value) any {
	if g.gran != "" {
		if v.k != kStr {
			return false
		}
		start, _, _ := dateRange(v.s, g.gran)
		return dateLabel(start, g.gran)
	}
	if g.f.typ == "many2one" {
		if v.k != kInt {
			return false
		}
		return []any{v.i, c.d.displayName(g.f.co, v.i)}
	}
	return plainGroupValue(g.f, v)
}

func plainGroupValue(f *field, v value) any {
	switch v.k {
	case kNull:
		if f.numeric() {
			return plainValue(nil, f, v, false)
		}
		return false
	case kBool:
		return v.b
	case kInt:
		return v.i
	case kFloat:
		return v.f
	case kStr:
		return v.s
	}
	return false
}

// andLeaves and andDomains are odoo.osv.expression.AND of normalized
// domains.
func andLeaves(d []any, leaf []any) []any { return andDomains(d, []any{leaf}) }

func andDomains(a, b []any) []any {
	var parts [][]any
	for _, d := range [][]any{a, b} {
		if len(d) > 0 {
			parts = append(parts, normalizeDomain(d))
		}
	}
	var out []any
	for i := 1; i < len(parts); i++ {
		out = append(out, "&")
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	if out == nil {
		return []any{[]any{int64(1), "=", int64(1)}}
	}
	return out
}

// normalizeDomain is expression.normalize_domain: explicit '&' operators.
func normalizeDomain(d []any) []any {
	var out []any
	expected := 1
	for _, t := range d {
		if expected == 0 {
			out = append([]any{"&"}, out...)
			expected = 1
		}
		switch t {
		case "&", "|":
			expected++
		case "!":
		default:
			expected--
		}
		out = append(out, t)
	}
	return out
}

// sortGroups orders the groups by orderby, default the groupbys: a
// many2one by its comodel's order, a date by time, NULL last.
func (c *call) sortGroups(groups []*rgGroup, rows []omap, gbs []groupbySpec, aggs []aggregateSpec, countKey string) error {
	type term struct {
		gb   int // index in gbs, or -1
		key  string
		desc bool
	}
	var terms []term
	spec, _ := c.a["orderby"].(string)
	if strings.TrimSpace(spec) == "" {
		for i := range gbs {
			terms = append(terms, term{gb: i})
		}
	} else {
		for _, part := range strings.Split(spec, ",") {
			words := strings.Fields(part)
			if len(words) == 0 || len(words) > 2 || (len(words) == 2 && !strings.EqualFold(words[1], "asc") &&
				!strings.EqualFold(words[1], "desc")) {
				return valueErr("Invalid order %s for read_group", pyRepr(spec))
			}
			t := term{gb: -1, key: words[0], desc: len(words) == 2 && strings.EqualFold(words[1], "desc")}
			for i, g := range gbs {
				if g.spec == words[0] || g.f.name == words[0] {
					t.gb = i
				}
			}
			if t.gb < 0 {
				ok := words[0] == countKey || words[0] == "__count"
				for _, a := range aggs {
					ok = ok || a.key == words[0]
				}
				if !ok {
					return valueErr("Order %s is neither a groupby nor an aggregate of read_group", pyRepr(words[0]))
				}
				if words[0] == "__count" {
					t.key = countKey
				}
			}
			terms = append(terms, t)
		}
	}
	if len(terms) == 0 || len(groups) < 2 {
		return nil
	}
	type sk struct {
		v    value
		desc bool
	}
	keys := make([][]sk, len(groups))
	for i, grp := range groups {
		for _, t := range terms {
			if t.gb >= 0 {
				g := gbs[t.gb]
				v := grp.key[t.gb]
				if g.f.typ == "many2one" && v.k == kInt {
					co := g.f.co
					cr := c.d.tables[co.name].get(v.i)
					for _, k := range c.d.sortKeys(co, co.order, 1) {
						cv := nullV()
						if cr != nil {
							cv = k.get(cr)
						}
						keys[i] = append(keys[i], sk{cv, k.desc != t.desc})
					}
					continue
				}
				if g.f.typ == "many2one" {
					for range c.d.sortKeys(g.f.co, g.f.co.order, 1) {
						keys[i] = append(keys[i], sk{nullV(), t.desc})
					}
					continue
				}
				keys[i] = append(keys[i], sk{v, t.desc})
				continue
			}
			var v value
			for _, p := range rows[i] {
				if p.k == t.key {
					switch x := p.v.(type) {
					case int64:
						v = intV(x)
					case float64:
						v = floatV(x)
					case string:
						v = strV(x)
					}
				}
			}
			keys[i] = append(keys[i], sk{v, t.desc})
		}
	}
	idx := make([]int, len(groups))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		for j := range keys[a] {
			va, vb := keys[a][j], keys[b][j]
			an, bn := va.v.k == kNull, vb.v.k == kNull
			switch {
			case an && bn:
				continue
			case an: // NULLS LAST ascending, FIRST descending
				return cond(va.desc, -1, 1)
			case bn:
				return cond(va.desc, 1, -1)
			}
			if r := compareValues(va.v, vb.v); r != 0 {
				return cond(va.desc, -r, r)
			}
		}
		return 0
	})
	sortedRows := make([]omap, len(rows))
	for i, j := range idx {
		sortedRows[i] = rows[j]
	}
	copy(rows, sortedRows)
	return nil
}
