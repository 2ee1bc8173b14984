package odoo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/odoo"
)

// HeaderWrites is the script header key that grants writes:
// `--! odoo-writes = res.partner, account.move` (or `*` for every model).
const HeaderWrites = "odoo-writes"

// Options are run-wide settings of the module.
type Options struct {
	// WriteAll grants writes to every model for every script of the run
	// (the --odoo-writes flag, or `etlhost exec --commit`).
	WriteAll bool
}

// Module is the `odoo` module. Its clients (one per configured connection,
// created on first use) and its fields_get cache are shared by every script
// of the run; Close releases them when the run ends.
type Module struct {
	conns map[string]odoo.Config
	opts  Options

	mu      sync.Mutex
	clients map[string]*odoo.Client
	fields  map[fieldsKey]*fieldsEntry
}

type fieldsKey struct{ conn, model string }

type fieldsEntry struct {
	lock chan struct{} // one loader at a time; a channel so waiting takes ctx
	mf   *modelFields
}

// New returns the module for a run. conns maps connection names ("default",
// "warehouse") to their configuration; secrets stay on the Go side.
func New(conns map[string]odoo.Config, opts Options) *Module {
	return &Module{
		conns:   conns,
		opts:    opts,
		clients: map[string]*odoo.Client{},
		fields:  map[fieldsKey]*fieldsEntry{},
	}
}

// Name implements luabind.Module.
func (m *Module) Name() string { return "odoo" }

// HeaderKeys implements luabind.HeaderKeys.
func (m *Module) HeaderKeys() []string { return []string{HeaderWrites} }

// Close releases the clients' idle connections.
func (m *Module) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.clients {
		c.Close()
	}
}

// client returns the shared client of connection name, creating it.
func (m *Module) client(name string) (*odoo.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.clients[name]; ok {
		return c, nil
	}
	cfg, ok := m.conns[name]
	if !ok {
		if len(m.conns) == 0 {
			return nil, fmt.Errorf("odoo.connect: no Odoo connection is configured (set ETLHOST_ODOO_URL, ETLHOST_ODOO_DB, ETLHOST_ODOO_USER and ETLHOST_ODOO_PASSWORD, or add [odoo.%s] to the config file)", name)
		}
		names := make([]string, 0, len(m.conns))
		for n := range m.conns {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("odoo.connect: no Odoo connection named %q (configured: %s)", name, strings.Join(names, ", "))
	}
	c, err := odoo.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("odoo.connect(%q): %w", name, err)
	}
	m.clients[name] = c
	return c, nil
}

// fieldsOf returns the cached field descriptions of model on a connection,
// loading them once per run.
func (m *Module) fieldsOf(ctx context.Context, conn string, c *odoo.Client, model string) (*modelFields, error) {
	key := fieldsKey{conn, model}
	m.mu.Lock()
	e, ok := m.fields[key]
	if !ok {
		e = &fieldsEntry{lock: make(chan struct{}, 1)}
		m.fields[key] = e
	}
	m.mu.Unlock()
	select {
	case e.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	defer func() { <-e.lock }()
	if e.mf != nil {
		return e.mf, nil
	}
	raw, err := c.FieldsGet(ctx, model, fieldAttributes)
	if err != nil {
		return nil, err
	}
	e.mf = newModelFields(raw)
	return e.mf, nil
}

// cachedFields returns the field descriptions of model if a script of the
// run has loaded them, else nil; it never calls Odoo.
func (m *Module) cachedFields(conn, model string) *modelFields {
	m.mu.Lock()
	e, ok := m.fields[fieldsKey{conn, model}]
	m.mu.Unlock()
	if !ok {
		return nil
	}
	select {
	case e.lock <- struct{}{}:
		defer func() { <-e.lock }()
		return e.mf
	default:
		return nil // being loaded: the caller loads (waits) if it needs them
	}
}

// state is the module's part for one script.
type state struct {
	m        *Module
	env      *luabind.Env
	writeAll bool
	writes   map[string]bool
	connMeta *lua.LTable
	errMeta  *lua.LTable
	conns    map[string]lua.LValue

	nextPlaceholder int64
	planned         map[int64]*plannedRecord
	warned          map[string]bool // models warned about reading every field
}

// Open implements luabind.Module.
func (m *Module) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	st := &state{m: m, env: env, writeAll: m.opts.WriteAll, writes: map[string]bool{}, conns: map[string]lua.LValue{}}
	for _, model := range strings.Split(env.Header[HeaderWrites], ",") {
		model = strings.TrimSpace(model)
		switch model {
		case "":
		case "*":
			st.writeAll = true
		default:
			st.writes[model] = true
		}
	}
	st.errMeta = L.NewTable()
	st.errMeta.RawSetString("__tostring", L.NewFunction(errorToString))
	st.errMeta.RawSetString("__metatable", lua.LString("odoo.error"))
	st.connMeta = L.NewTable()
	methods := L.NewTable()
	for name, fn := range connMethods {
		fn := fn
		methods.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			return fn(st.check(L), L)
		}))
	}
	st.connMeta.RawSetString("__index", methods)
	st.connMeta.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		c := st.check(L)
		L.Push(lua.LString(fmt.Sprintf("odoo connection %q", c.name)))
		return 1
	}))
	st.connMeta.RawSetString("__metatable", lua.LString("odoo connection"))

	mod := L.NewTable()
	mod.RawSetString("connect", L.NewFunction(st.connect))
	return mod
}

// connect is odoo.connect(name?).
func (st *state) connect(L *lua.LState) int {
	name := L.OptString(1, "default")
	if v, ok := st.conns[name]; ok {
		L.Push(v)
		return 1
	}
	c, err := st.m.client(name)
	if err != nil {
		luabind.Raise(L, err.Error())
	}
	ud := L.NewUserData()
	ud.Value = &conn{st: st, name: name, client: c}
	L.SetMetatable(ud, st.connMeta)
	st.conns[name] = ud
	L.Push(ud)
	return 1
}

// check returns the connection passed as self (see luabind.CheckSelf).
func (st *state) check(L *lua.LState) *conn {
	return luabind.CheckSelf[*conn](L, "erp", "odoo connection")
}

// granted reports whether the script may write to model.
func (st *state) granted(model string) bool {
	return st.writeAll || st.writes[model]
}

// conn is one connection object in a script.
type conn struct {
	st     *state
	name   string
	client *odoo.Client
}
