package odoo

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind/luaconv"
	"github.com/etlhost/etlhost/odoo"
)

// fieldAttributes are the fields_get attributes the module asks for and
// erp:fields returns.
var fieldAttributes = []string{"string", "type", "relation"}

type fieldKind uint8

const (
	kindUnknown  fieldKind = iota // not in fields_get: values pass unchanged
	kindOther                     // False becomes nil
	kindBool                      // false stays false
	kindMany2one                  // [id, name] becomes {id=, name=}; False nil
	kindX2many                    // list of ids
	kindByShape                   // types not asked for: [id, name] becomes {id=, name=}; no False expected
)

type fieldInfo struct {
	kind fieldKind
	typ  string
}

// modelFields is what the module knows of a model's fields, from one
// fields_get per run.
type modelFields struct {
	byName map[string]fieldInfo
	raw    map[string]map[string]any
}

func newModelFields(raw map[string]map[string]any) *modelFields {
	mf := &modelFields{byName: make(map[string]fieldInfo, len(raw)), raw: raw}
	for name, attrs := range raw {
		typ, _ := attrs["type"].(string)
		k := kindOther
		switch typ {
		case "boolean":
			k = kindBool
		case "many2one":
			k = kindMany2one
		case "one2many", "many2many":
			k = kindX2many
		}
		mf.byName[name] = fieldInfo{kind: k, typ: typ}
	}
	return mf
}

func (mf *modelFields) kind(name string) fieldKind {
	if mf == nil {
		return kindByShape
	}
	return mf.byName[name].kind
}

// column is a field of a result with its Lua key and kind, computed once per
// call rather than once per row.
type column struct {
	name string
	key  lua.LString
	kind fieldKind
}

func (mf *modelFields) columns(fields []string) []column {
	cols := make([]column, 0, len(fields)+1)
	hasID := false
	for _, f := range fields {
		if f == "id" {
			hasID = true
		}
		cols = append(cols, column{name: f, key: lua.LString(f), kind: mf.kind(f)})
	}
	if !hasID && len(fields) > 0 {
		cols = append(cols, column{name: "id", key: "id", kind: kindOther})
	}
	return cols
}

// converter turns the decoded records of one model into Lua tables. It
// needs the model's field types only to tell a boolean field's false from
// an empty field's False; many2one values ([id, name]) are told by their
// shape. So fields_get is asked for once per model per run, and only once a
// page holds a false of a field whose type is not known yet.
type converter struct {
	c      *conn
	model  string
	fields []string
	mf     *modelFields
	cols   []column
	// meta is the metatable of the rows (see rowMeta), made with the
	// first page; without fields, metaOf is the records' fields it was
	// made for, a page with others gets its own.
	meta   *lua.LTable
	metaOf []string
}

func (c *conn) converter(model string, fields []string) *converter {
	cv := &converter{c: c, model: model, fields: fields}
	cv.use(c.st.m.cachedFields(c.name, model))
	return cv
}

func (cv *converter) use(mf *modelFields) {
	cv.mf = mf
	cv.cols = mf.columns(cv.fields)
}

// page is a page of records with, for each column of the converter, its
// position in the records' rows (-1: absent).
type page struct {
	recs *odoo.Records
	pos  []int
	meta *lua.LTable
}

// prepare loads the field types when the records need them, and maps the
// converter's columns to the records' own.
func (cv *converter) prepare(L *lua.LState, recs *odoo.Records) page {
	if cv.mf == nil && holdsFalse(recs, cv.cols) {
		cv.use(cv.c.fields(L, cv.model))
	}
	p := page{recs: recs}
	if len(cv.cols) > 0 {
		p.pos = make([]int, len(cv.cols))
		for i := range cv.cols {
			p.pos[i] = recs.Column(cv.cols[i].name)
		}
		if cv.meta == nil {
			cv.meta = cv.rowMeta(L, cv.fields)
		}
	} else if cv.meta == nil || !equalNames(cv.metaOf, recs.Fields) {
		cv.metaOf = append([]string(nil), recs.Fields...)
		cv.meta = cv.rowMeta(L, cv.metaOf)
	}
	p.meta = cv.meta
	return p
}

// rowMeta is the metatable of rows read with fields read.
func (cv *converter) rowMeta(L *lua.LState, read []string) *lua.LTable {
	var st *state
	if cv.c != nil {
		st = cv.c.st
	}
	return rowMeta(L, st, cv.model, read, func() *modelFields {
		if cv.mf == nil && cv.c != nil {
			return cv.c.st.m.cachedFields(cv.c.name, cv.model)
		}
		return cv.mf
	})
}

func equalNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// holdsFalse reports whether a record has false in one of cols (in any
// member when cols is empty).
func holdsFalse(recs *odoo.Records, cols []column) bool {
	var pos []int
	if len(cols) == 0 {
		pos = make([]int, len(recs.Fields))
		for j := range pos {
			pos[j] = j
		}
	} else {
		pos = make([]int, 0, len(cols))
		for i := range cols {
			if j := recs.Column(cols[i].name); j >= 0 {
				pos = append(pos, j)
			}
		}
	}
	for i := 0; i < recs.Len(); i++ {
		for _, j := range pos {
			if v, _ := recs.Value(i, j); v == false {
				return true
			}
		}
	}
	return false
}

// rows converts records into a Lua array, appending to dst from index
// start+1.
func (cv *converter) rows(L *lua.LState, recs *odoo.Records, dst *lua.LTable, start int) {
	p := cv.prepare(L, recs)
	for i := 0; i < recs.Len(); i++ {
		dst.RawSetInt(start+i+1, cv.row(L, p, i))
	}
}

// row converts record i of a prepared page. With columns (the requested
// fields) it reads exactly those; without, every member of the record.
// Either way the row gets the page's metatable: reading it by a field that
// was not read is an error, not nil.
func (cv *converter) row(L *lua.LState, p page, i int) *lua.LTable {
	if len(cv.cols) == 0 {
		fields := p.recs.Fields
		t := L.CreateTable(0, len(fields))
		for j, name := range fields {
			if v, ok := p.recs.Value(i, j); ok {
				if lv := valueToLua(L, cv.mf.kind(name), v); lv != lua.LNil {
					t.RawSetString(name, lv)
				}
			}
		}
		if p.meta != nil {
			t.Metatable = p.meta
		}
		return t
	}
	t := L.CreateTable(0, len(cv.cols))
	for k := range cv.cols {
		v, ok := p.recs.Value(i, p.pos[k])
		if !ok {
			continue
		}
		c := &cv.cols[k]
		if lv := valueToLua(L, c.kind, v); lv != lua.LNil {
			t.RawSetString(c.name, lv)
		}
	}
	if p.meta != nil {
		t.Metatable = p.meta
	}
	return t
}

// valueToLua applies Odoo's conventions to one field value.
func valueToLua(L *lua.LState, kind fieldKind, v any) lua.LValue {
	switch x := v.(type) {
	case string:
		return lua.LString(x)
	case int64:
		return lua.LNumber(x)
	case float64:
		return lua.LNumber(x)
	case bool:
		if !x && kind != kindBool && kind != kindUnknown {
			return lua.LNil
		}
		return lua.LBool(x)
	case nil:
		return lua.LNil
	case []any:
		if len(x) == 2 && (kind == kindMany2one || kind == kindByShape && isMany2one(x)) {
			t := L.CreateTable(0, 2)
			t.RawSetString("id", valueToLua(L, kindUnknown, x[0]))
			t.RawSetString("name", valueToLua(L, kindUnknown, x[1]))
			return t
		}
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, valueToLua(L, kindUnknown, e))
		}
		return t
	}
	return luaconv.ToLua(L, v)
}

// isMany2one tells a many2one value, [id, "name"], from a list of ids.
func isMany2one(x []any) bool {
	_, id := x[0].(int64)
	_, name := x[1].(string)
	return id && name
}

// fieldsToLua renders fields_get output for erp:fields.
func (mf *modelFields) fieldsToLua(L *lua.LState) *lua.LTable {
	t := L.CreateTable(0, len(mf.raw))
	for name, attrs := range mf.raw {
		a := L.CreateTable(0, len(attrs))
		for k, v := range attrs {
			if b, isBool := v.(bool); isBool && !b {
				continue // relation=False on non-relational fields
			}
			a.RawSetString(k, luaconv.ToLua(L, v))
		}
		t.RawSetString(name, a)
	}
	return t
}
