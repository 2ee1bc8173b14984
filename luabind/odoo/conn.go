package odoo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luaconv"
	"github.com/etlhost/etlhost/odoo"
)

// DefaultBatch is the page size when search_read or iter pages by id and
// the script gave no opts.batch. Odoo's practice is 500-2000 rows a page:
// a request must finish within limit_time_real (120 s).
const DefaultBatch = 1000

// readChunk is how many ids erp:read sends per call.
const readChunk = 1000

var connMethods = map[string]func(c *conn, L *lua.LState) int{
	"search_read": (*conn).searchRead,
	"iter":        (*conn).iter,
	"search":      (*conn).search,
	"count":       (*conn).count,
	"read":        (*conn).read,
	"fields":      (*conn).fieldsMethod,
	"create":      (*conn).create,
	"write":       (*conn).write,
	"unlink":      (*conn).unlink,
	"call":        (*conn).call,
	"version":     (*conn).version,
	"name_search": (*conn).nameSearch,
}

// do runs one client call through env.Block (the script's deadline and
// Ctrl+C stop it) and raises a Lua error when it fails.
func (c *conn) do(L *lua.LState, model, method string, args []any, kwargs map[string]any) any {
	return blocking(c, L, model, method, func(ctx context.Context) (any, error) {
		return c.client.Call(ctx, model, method, args, kwargs)
	})
}

// blocking runs call through env.Block and raises a Lua error when it
// fails.
func blocking[T any](c *conn, L *lua.LState, model, method string, call func(ctx context.Context) (T, error)) T {
	var res T
	err := c.st.env.Block(func(ctx context.Context) error {
		var err error
		res, err = call(ctx)
		return err
	})
	if err != nil {
		c.fail(L, model, method, err)
	}
	return res
}

// send runs a write (create, write, unlink, a method not known to be
// read-only) like do, and logs it as sent (see state.sent), failed or not.
func (c *conn) send(L *lua.LState, model, method string, args []any, kwargs map[string]any, ids []int64, values any) any {
	var res any
	err := c.st.env.Block(func(ctx context.Context) error {
		var err error
		res, err = c.client.Call(ctx, model, method, args, kwargs)
		return err
	})
	result := ""
	if err == nil && method == "create" {
		if created, idErr := odoo.AsIDs(res); idErr == nil {
			result = idsString(created)
			if len(created) == 1 {
				result = fmt.Sprint(created[0])
			}
		}
	}
	c.st.sent(c.name, model, method, ids, values, result, err)
	if err != nil {
		c.fail(L, model, method, err)
	}
	return res
}

// fail raises err, naming the call when the error does not already.
func (c *conn) fail(L *lua.LState, model, method string, err error) {
	var ce *odoo.CallError
	var f *odoo.Fault
	if !errors.As(err, &ce) && !errors.As(err, &f) && !errors.Is(err, odoo.ErrAuth) {
		name := method
		if model != "" {
			name = model + "." + method
		}
		err = fmt.Errorf("odoo: %s: %w", name, err)
	}
	c.st.raise(L, err, c.client.Config().Timeout)
}

// fields returns the model's cached field descriptions.
func (c *conn) fields(L *lua.LState, model string) *modelFields {
	return blocking(c, L, model, "fields_get", func(ctx context.Context) (*modelFields, error) {
		return c.st.m.fieldsOf(ctx, c.name, c.client, model)
	})
}

// searchOpts are the options of search_read, iter and search.
type searchOpts struct {
	fields  []string
	limit   int
	offset  int
	batch   int
	order   string
	context map[string]any
	// concurrency is how many pages are fetched at once when paging with
	// opts.batch (0: DefaultConcurrency).
	concurrency int
}

func parseSearchOpts(L *lua.LState, n int, fname string, allowed ...string) searchOpts {
	var o searchOpts
	t := optTable(L, n, fname)
	if t == nil {
		return o
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	t.ForEach(func(k, v lua.LValue) {
		key, isStr := k.(lua.LString)
		if !isStr || !ok[string(key)] {
			name := show(k, 40)
			if isStr {
				name = string(key)
			}
			raisef(L, "odoo: %s: unknown option %s (known: %s)", fname, name, strings.Join(allowed, ", "))
		}
		switch key {
		case "fields":
			o.fields = stringList(L, v, fname, "opts.fields")
		case "limit":
			o.limit = nonNegInt(L, v, fname, "opts.limit")
		case "offset":
			o.offset = nonNegInt(L, v, fname, "opts.offset")
		case "batch":
			o.batch = nonNegInt(L, v, fname, "opts.batch")
		case "concurrency":
			o.concurrency = nonNegInt(L, v, fname, "opts.concurrency")
		case "order":
			s, isS := v.(lua.LString)
			if !isS {
				raisef(L, "odoo: %s: opts.order must be a string like \"date desc, id\"", fname)
			}
			o.order = string(s)
		case "context":
			o.context = contextFromLua(L, v, fname)
		}
	})
	return o
}

func optTable(L *lua.LState, n int, fname string) *lua.LTable {
	v := L.Get(n)
	if v == lua.LNil {
		return nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		raisef(L, "odoo: %s: options must be a table, got %s", fname, v.Type())
	}
	return t
}

func contextFromLua(L *lua.LState, v lua.LValue, fname string) map[string]any {
	if v == lua.LNil {
		return nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		raisef(L, "odoo: %s: opts.context must be a table like {lang = \"fr_FR\", active_test = false}", fname)
	}
	g, err := luaconv.FromLua(t)
	if err != nil {
		raisef(L, "odoo: %s: opts.context: %v", fname, err)
	}
	m, ok := g.(map[string]any)
	if !ok {
		raisef(L, "odoo: %s: opts.context must be keyed by name", fname)
	}
	for k, e := range m {
		m[k] = emptyAsList(e, k, 1)
	}
	return m
}

func stringList(L *lua.LState, v lua.LValue, fname, what string) []string {
	t, ok := v.(*lua.LTable)
	if !ok {
		raisef(L, "odoo: %s: %s must be a list of field names, got %s", fname, what, v.Type())
	}
	n, isList := luaconv.ArrayLen(t)
	if !isList && n == 0 {
		isList = true
		t.ForEach(func(lua.LValue, lua.LValue) { isList = false })
	}
	if !isList {
		raisef(L, "odoo: %s: %s must be a list of field names", fname, what)
	}
	out := make([]string, n)
	for i := 1; i <= n; i++ {
		s, ok := t.RawGetInt(i).(lua.LString)
		if !ok {
			raisef(L, "odoo: %s: %s[%d] must be a string", fname, what, i)
		}
		out[i-1] = string(s)
	}
	return out
}

func nonNegInt(L *lua.LState, v lua.LValue, fname, what string) int {
	n, ok := v.(lua.LNumber)
	if !ok || float64(n) != math.Trunc(float64(n)) || n < 0 || n > math.MaxInt32 {
		raisef(L, "odoo: %s: %s must be a whole number >= 0", fname, what)
	}
	return int(n)
}

func (c *conn) domain(L *lua.LState, n int, fname, model string) []any {
	d, err := domainFromLua(L.Get(n))
	if err != nil {
		raisef(L, "odoo: %s %s: %v", fname, model, err)
	}
	return d
}

func checkModel(L *lua.LState, fname string) string {
	v := L.Get(2)
	s, ok := v.(lua.LString)
	if !ok || s == "" {
		raisef(L, "odoo: %s: the model name (argument 1) must be a string like \"account.move\", got %s", fname, v.Type())
	}
	return string(s)
}

func withID(fields []string) []string {
	if len(fields) == 0 {
		return fields
	}
	for _, f := range fields {
		if f == "id" {
			return fields
		}
	}
	return append(append(make([]string, 0, len(fields)+1), fields...), "id")
}

func (c *conn) searchReadCall(L *lua.LState, model string, domain []any, fields []string, offset, limit int, order string, context map[string]any) *odoo.Records {
	kw := map[string]any{}
	if len(fields) > 0 {
		kw["fields"] = fields
	}
	if offset > 0 {
		kw["offset"] = offset
	}
	if limit > 0 {
		kw["limit"] = limit
	}
	if order != "" {
		kw["order"] = order
	}
	if context != nil {
		kw["context"] = context
	}
	return c.records(L, model, "search_read", []any{domain}, kw)
}

// records is do for a method that returns a list of records.
func (c *conn) records(L *lua.LState, model, method string, args []any, kwargs map[string]any) *odoo.Records {
	charge := newAnswerCharge(luabind.MemoryOf(L))
	defer charge.release() // also when the call fails and raises
	return blocking(c, L, model, method, func(ctx context.Context) (*odoo.Records, error) {
		return c.client.CallRecords(charge.context(ctx), model, method, args, kwargs)
	})
}

var searchReadOpts = []string{"fields", "limit", "offset", "order", "context", "batch", "concurrency"}

// warnAllFields logs once per model and script that reading without a
// field list makes Odoo compute every field, non-stored ones included.
func (c *conn) warnAllFields(fname, model string, fields []string) {
	if len(fields) > 0 || c.st.env.Events == nil || c.st.warned[model] {
		return
	}
	if c.st.warned == nil {
		c.st.warned = map[string]bool{}
	}
	c.st.warned[model] = true
	c.st.env.Log(luabind.LevelWarn, fmt.Sprintf("odoo: %s %s without opts.fields reads every field, computed ones included (slow): name the fields you need", fname, model), nil)
}

// searchRead is erp:search_read(model, domain, opts).
func (c *conn) searchRead(L *lua.LState) int {
	model := checkModel(L, "search_read")
	domain := c.domain(L, 3, "search_read", model)
	o := parseSearchOpts(L, 4, "search_read", searchReadOpts...)
	c.warnAllFields("search_read", model, o.fields)
	conv := c.converter(model, o.fields)
	if o.batch == 0 && (o.limit > 0 || o.order != "") {
		rows := c.searchReadCall(L, model, domain, o.fields, o.offset, o.limit, o.order, o.context)
		c.st.env.CountRows(int64(rows.Len()), 0)
		out := L.CreateTable(rows.Len(), 0)
		conv.rows(L, rows, out, 0)
		L.Push(out)
		return 1
	}
	p := c.newPager(model, domain, o)
	out := L.CreateTable(0, 0)
	n := 0
	for !p.done {
		rows := p.next(L)
		if rows == nil {
			continue
		}
		conv.rows(L, rows, out, n)
		n += rows.Len()
	}
	L.Push(out)
	return 1
}

// iter is erp:iter(model, domain, opts): a generic-for iterator over the
// same rows as search_read, holding one page at a time.
func (c *conn) iter(L *lua.LState) int {
	model := checkModel(L, "iter")
	domain := c.domain(L, 3, "iter", model)
	o := parseSearchOpts(L, 4, "iter", searchReadOpts...)
	c.warnAllFields("iter", model, o.fields)
	conv := c.converter(model, o.fields)
	p := c.newPager(model, domain, o)
	var pg page
	pos := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		for pg.recs == nil || pos >= pg.recs.Len() {
			if p.done {
				pg = page{}
				L.Push(lua.LNil)
				return 1
			}
			pg, pos = page{}, 0
			if recs := p.next(L); recs != nil {
				pg = conv.prepare(L, recs)
			}
		}
		pos++
		L.Push(conv.row(L, pg, pos-1))
		return 1
	}))
	return 1
}

// search is erp:search(model, domain, opts) -> ids.
func (c *conn) search(L *lua.LState) int {
	model := checkModel(L, "search")
	domain := c.domain(L, 3, "search", model)
	o := parseSearchOpts(L, 4, "search", "limit", "offset", "order", "context")
	kw := map[string]any{}
	if o.offset > 0 {
		kw["offset"] = o.offset
	}
	if o.limit > 0 {
		kw["limit"] = o.limit
	}
	if o.order != "" {
		kw["order"] = o.order
	}
	if o.context != nil {
		kw["context"] = o.context
	}
	v := c.do(L, model, "search", []any{domain}, kw)
	ids, err := odoo.AsIDs(v)
	if err != nil {
		c.fail(L, model, "search", err)
	}
	L.Push(idsToLua(L, ids))
	return 1
}

// count is erp:count(model, domain, opts) -> number.
func (c *conn) count(L *lua.LState) int {
	model := checkModel(L, "count")
	domain := c.domain(L, 3, "count", model)
	o := parseSearchOpts(L, 4, "count", "context")
	var kw map[string]any
	if o.context != nil {
		kw = map[string]any{"context": o.context}
	}
	v := c.do(L, model, "search_count", []any{domain}, kw)
	n, ok := v.(int64)
	if !ok {
		raisef(L, "odoo: count %s: expected a number, got %T", model, v)
	}
	L.Push(lua.LNumber(n))
	return 1
}

func idsToLua(L *lua.LState, ids []int64) *lua.LTable {
	t := L.CreateTable(len(ids), 0)
	for i, id := range ids {
		t.RawSetInt(i+1, lua.LNumber(id))
	}
	return t
}

// idsFromLua reads an id or a list of ids; single tells which.
func idsFromLua(L *lua.LState, n int, fname string) (ids []int64, single bool) {
	v := L.Get(n)
	switch x := v.(type) {
	case lua.LNumber:
		id, ok := wholeID(x)
		if !ok {
			raisef(L, "odoo: %s: id %s is not a whole number", fname, show(x, 20))
		}
		return []int64{id}, true
	case *lua.LTable:
		cnt, isList := luaconv.ArrayLen(x)
		if !isList {
			raisef(L, "odoo: %s: ids must be a list of numbers, got %s", fname, show(x, 60))
		}
		ids = make([]int64, cnt)
		for i := 1; i <= cnt; i++ {
			num, ok := x.RawGetInt(i).(lua.LNumber)
			id, whole := wholeID(num)
			if !ok || !whole {
				raisef(L, "odoo: %s: ids[%d] must be a whole number, got %s", fname, i, show(x.RawGetInt(i), 40))
			}
			ids[i-1] = id
		}
		return ids, false
	}
	raisef(L, "odoo: %s: expected an id or a list of ids, got %s", fname, v.Type())
	return nil, false
}

func wholeID(n lua.LNumber) (int64, bool) {
	f := float64(n)
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// read is erp:read(model, ids, fields, opts). With a list of ids it returns
// a list of rows (missing records are left out, as Odoo does); with a single
// id, that row or nil.
func (c *conn) read(L *lua.LState) int {
	model := checkModel(L, "read")
	ids, single := idsFromLua(L, 3, "read")
	var fields []string
	if v := L.Get(4); v != lua.LNil {
		fields = stringList(L, v, "read", "fields")
	}
	o := parseSearchOpts(L, 5, "read", "context")
	kw := map[string]any{}
	if len(fields) > 0 {
		kw["fields"] = withID(fields)
	}
	if o.context != nil {
		kw["context"] = o.context
	}
	real := ids
	hasPlanned := false
	for _, id := range ids {
		if id < 0 {
			hasPlanned = true
			break
		}
	}
	if hasPlanned {
		real = nil
		for _, id := range ids {
			if id > 0 {
				real = append(real, id)
			}
		}
	}
	rows := &odoo.Records{}
	for start := 0; start < len(real); start += readChunk {
		end := min(start+readChunk, len(real))
		rows.AppendRecords(c.records(L, model, "read", []any{real[start:end]}, kw))
	}
	if hasPlanned {
		rows = c.withPlanned(model, ids, fields, rows)
	}
	c.st.env.CountRows(int64(rows.Len()), 0)
	conv := c.converter(model, fields)
	if single {
		if rows.Len() == 0 {
			L.Push(lua.LNil)
		} else {
			L.Push(conv.row(L, conv.prepare(L, rows), 0))
		}
		return 1
	}
	out := L.CreateTable(rows.Len(), 0)
	conv.rows(L, rows, out, 0)
	L.Push(out)
	return 1
}

// withPlanned returns the records of ids in their order, the planned ones
// (negative ids of a dry run) as read would show them.
func (c *conn) withPlanned(model string, ids []int64, fields []string, read *odoo.Records) *odoo.Records {
	byID := make(map[int64]int, read.Len())
	idCol := read.Column("id")
	for i := 0; i < read.Len(); i++ {
		if v, ok := read.Value(i, idCol); ok {
			if id, isInt := v.(int64); isInt {
				byID[id] = i
			}
		}
	}
	out := &odoo.Records{}
	for _, id := range ids {
		if id < 0 {
			if r, ok := c.st.plannedRow(model, id, fields); ok {
				out.Append(r)
			}
		} else if i, ok := byID[id]; ok {
			out.Append(read.Map(i))
		}
	}
	return out
}

// fieldsMethod is erp:fields(model): name -> {string=, type=, relation=}.
func (c *conn) fieldsMethod(L *lua.LState) int {
	model := checkModel(L, "fields")
	L.Push(c.fields(L, model).fieldsToLua(L))
	return 1
}

// refuse raises the error a write without a grant gets.
func (c *conn) refuse(L *lua.LState, model, method string) {
	why := ""
	if method != "create" && method != "write" && method != "unlink" {
		why = fmt.Sprintf(" (%s is not known to be read-only)", method)
	}
	raisef(L, "odoo: write to %s refused%s: add \"--! %s = %s\" to the script header or run with --odoo-writes",
		model, why, HeaderWrites, model)
}

// mayWrite reports whether a write is sent (true) or planned (false), and
// raises when it is refused.
func (c *conn) mayWrite(L *lua.LState, model, method string) bool {
	if c.st.env.DryRun {
		return false
	}
	if !c.st.granted(model) {
		c.refuse(L, model, method)
	}
	return true
}

// create is erp:create(model, vals) -> id, or erp:create(model, {vals, ...})
// -> ids.
func (c *conn) create(L *lua.LState) int {
	model := checkModel(L, "create")
	t, ok := L.Get(3).(*lua.LTable)
	if !ok {
		raisef(L, "odoo: create %s: values must be a table keyed by field name", model)
	}
	var list []map[string]any
	if n, isList := luaconv.ArrayLen(t); isList && n > 0 {
		for i := 1; i <= n; i++ {
			vals, err := valsFromLua(t.RawGetInt(i))
			if err != nil {
				raisef(L, "odoo: create %s: record %d: %v", model, i, err)
			}
			list = append(list, vals)
		}
	} else {
		vals, err := valsFromLua(t)
		if err != nil {
			raisef(L, "odoo: create %s: %v", model, err)
		}
		if len(vals) == 0 && t.Len() > 0 {
			raisef(L, "odoo: create %s: values must be a table keyed by field name", model)
		}
		list = []map[string]any{vals}
	}
	multi := t.Len() > 0
	if !c.mayWrite(L, model, "create") {
		ids := make([]int64, len(list))
		for i, vals := range list {
			ids[i] = c.st.placeholder(model, vals)
			c.st.plan(model, "create", nil, vals, fmt.Sprint(ids[i]))
		}
		if multi {
			L.Push(idsToLua(L, ids))
		} else {
			L.Push(lua.LNumber(ids[0]))
		}
		return 1
	}
	var arg any = list[0]
	if multi {
		l := make([]any, len(list))
		for i, v := range list {
			l[i] = v
		}
		arg = l
	}
	v := c.send(L, model, "create", []any{arg}, nil, nil, arg)
	if multi {
		ids, err := odoo.AsIDs(v)
		if err != nil {
			c.fail(L, model, "create", err)
		}
		L.Push(idsToLua(L, ids))
		return 1
	}
	if l, isList := v.([]any); isList && len(l) == 1 {
		v = l[0]
	}
	id, ok := v.(int64)
	if !ok {
		raisef(L, "odoo: create %s: expected an id, got %T", model, v)
	}
	L.Push(lua.LNumber(id))
	return 1
}

func hasPlaceholder(ids []int64) bool {
	for _, id := range ids {
		if id < 0 {
			return true
		}
	}
	return false
}

// write is erp:write(model, ids, vals) -> true.
func (c *conn) write(L *lua.LState) int {
	model := checkModel(L, "write")
	ids, _ := idsFromLua(L, 3, "write")
	vals, err := valsFromLua(L.Get(4))
	if err != nil {
		raisef(L, "odoo: write %s: %v", model, err)
	}
	if !c.mayWrite(L, model, "write") || hasPlaceholder(ids) {
		c.st.plan(model, "write", ids, vals, "")
		L.Push(lua.LTrue)
		return 1
	}
	c.send(L, model, "write", []any{ids, vals}, nil, ids, vals)
	L.Push(lua.LTrue)
	return 1
}

// unlink is erp:unlink(model, ids) -> true.
func (c *conn) unlink(L *lua.LState) int {
	model := checkModel(L, "unlink")
	ids, _ := idsFromLua(L, 3, "unlink")
	if !c.mayWrite(L, model, "unlink") || hasPlaceholder(ids) {
		c.st.plan(model, "unlink", ids, nil, "")
		L.Push(lua.LTrue)
		return 1
	}
	c.send(L, model, "unlink", []any{ids}, nil, ids, nil)
	L.Push(lua.LTrue)
	return 1
}

// call is erp:call(model, method, args, kwargs): any method, the result
// converted as plain values (False stays false: the module does not know
// the result's fields). Methods not known to be read-only need a grant.
func (c *conn) call(L *lua.LState) int {
	model := checkModel(L, "call")
	method := L.CheckString(3)
	var args []any
	if v := L.Get(4); v != lua.LNil {
		t, ok := v.(*lua.LTable)
		if !ok {
			raisef(L, "odoo: call %s.%s: args must be a list, got %s", model, method, v.Type())
		}
		if n, isList := luaconv.ArrayLen(t); !isList && n == 0 && !isEmpty(t) {
			raisef(L, "odoo: call %s.%s: args must be a list (put named arguments in kwargs)", model, method)
		}
		g, err := valueFromLua(t)
		if err != nil {
			raisef(L, "odoo: call %s.%s: args: %v", model, method, err)
		}
		args, ok = g.([]any)
		if !ok {
			raisef(L, "odoo: call %s.%s: args must be a list (put named arguments in kwargs)", model, method)
		}
	}
	var kwargs map[string]any
	if v := L.Get(5); v != lua.LNil {
		if _, ok := v.(*lua.LTable); !ok {
			raisef(L, "odoo: call %s.%s: kwargs must be a table keyed by name, got %s", model, method, v.Type())
		}
		kw, err := valsFromLua(v)
		if err != nil {
			raisef(L, "odoo: call %s.%s: kwargs: %v", model, method, err)
		}
		if ctx, ok := kw["context"].([]any); ok && len(ctx) == 0 {
			kw["context"] = map[string]any{}
		}
		kwargs = kw
	}
	var v any
	if !odoo.IsReadOnly(method) {
		var ids []int64
		if len(args) > 0 {
			ids, _ = odoo.AsIDs(args[0])
		}
		values := map[string]any{"args": args, "kwargs": kwargs}
		if !c.mayWrite(L, model, method) || hasPlaceholder(ids) {
			c.st.plan(model, method, ids, values, "")
			L.Push(lua.LTrue)
			return 1
		}
		v = c.send(L, model, method, args, kwargs, ids, values)
	} else {
		v = c.do(L, model, method, args, kwargs)
	}
	L.Push(luaconv.ToLua(L, v))
	return 1
}

func isEmpty(t *lua.LTable) bool {
	empty := true
	t.ForEach(func(lua.LValue, lua.LValue) { empty = false })
	return empty
}

// version is erp:version().
func (c *conn) version(L *lua.LState) int {
	var v odoo.VersionInfo
	err := c.st.env.Block(func(ctx context.Context) error {
		var err error
		v, err = c.client.Version(ctx)
		return err
	})
	if err != nil {
		c.fail(L, "", "version", err)
	}
	t := L.CreateTable(0, 5)
	t.RawSetString("server_version", lua.LString(v.ServerVersion))
	t.RawSetString("server_version_info", luaconv.ToLua(L, v.ServerVersionInfo))
	t.RawSetString("server_serie", lua.LString(v.ServerSerie))
	t.RawSetString("protocol_version", lua.LNumber(v.ProtocolVersion))
	t.RawSetString("major", lua.LNumber(v.Major))
	L.Push(t)
	return 1
}

// nameSearch is erp:name_search(model, name, opts) -> {{id=, name=}, ...}.
func (c *conn) nameSearch(L *lua.LState) int {
	model := checkModel(L, "name_search")
	name := L.OptString(3, "")
	t := optTable(L, 4, "name_search")
	kw := map[string]any{"name": name}
	if t != nil {
		t.ForEach(func(k, v lua.LValue) {
			switch k {
			case lua.LString("domain"):
				d, err := domainFromLua(v)
				if err != nil {
					raisef(L, "odoo: name_search %s: %v", model, err)
				}
				kw["domain"] = d
			case lua.LString("operator"):
				kw["operator"] = lua.LVAsString(v)
			case lua.LString("limit"):
				kw["limit"] = nonNegInt(L, v, "name_search", "opts.limit")
			case lua.LString("context"):
				kw["context"] = contextFromLua(L, v, "name_search")
			default:
				raisef(L, "odoo: name_search: unknown option %s (known: domain, operator, limit, context)", lua.LVAsString(k))
			}
		})
	}
	v := c.do(L, model, "name_search", nil, kw)
	l, ok := v.([]any)
	if !ok {
		raisef(L, "odoo: name_search %s: expected a list, got %T", model, v)
	}
	out := L.CreateTable(len(l), 0)
	var meta *lua.LTable
	if len(l) > 0 {
		meta = rowMeta(L, c.st, model, []string{"id", "name"}, nil)
	}
	for i, e := range l {
		p, ok := e.([]any)
		if !ok || len(p) != 2 {
			raisef(L, "odoo: name_search %s: expected {id, name} pairs", model)
		}
		r := L.CreateTable(0, 2)
		r.RawSetString("id", valueToLua(L, kindUnknown, p[0]))
		r.RawSetString("name", valueToLua(L, kindUnknown, p[1]))
		r.Metatable = meta
		out.RawSetInt(i+1, r)
	}
	L.Push(out)
	return 1
}
