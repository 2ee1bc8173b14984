package pg

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
)

// Conn is one named PostgreSQL connection of the run's configuration.
type Conn struct {
	// Name is what scripts pass to pg.connect ("default", "warehouse").
	Name string
	// DSN is a libpq keyword/value string or a postgres:// URL. It carries
	// the password: it never reaches Lua, a log line or an error message.
	DSN string
	// MaxConns bounds the pool shared by all the run's scripts on this
	// connection; 0 means pgx's default, max(4, number of CPUs). A run with
	// more concurrent scripts than connections does not deadlock: scripts
	// wait for a free connection under their own deadline.
	MaxConns int32
}

// DefaultName is the connection pg.connect() uses without a name.
const DefaultName = "default"

// cleanupTimeout bounds the rollbacks and closes done after a script's
// context has ended (they cannot use that context, being after its end).
const cleanupTimeout = 5 * time.Second

// cancelDeadline is how long a query cancelled by the script's context may
// take to stop after PostgreSQL was asked to cancel it, before the
// connection is cut (and then discarded by the pool).
const cancelDeadline = 3 * time.Second

// Module is the `pg` Lua module. One Module serves a whole run: it owns one
// pgxpool per configured connection, created on first use and shared by
// all scripts; Close releases them.
type Module struct {
	conns  map[string]*connState
	names  []string
	mu     sync.Mutex
	closed bool
}

type connState struct {
	conn    Conn
	secrets []string // strings scrubbed from every message (password, DSN)

	once sync.Once
	pool *pgxpool.Pool
	err  error

	// stateReady is set once the etlhost_state table is known to exist.
	stateReady atomic.Bool
}

// New returns the module for the given connections. Pools are created when
// a script first connects; nothing is dialled before.
func New(conns []Conn) *Module {
	m := &Module{conns: map[string]*connState{}}
	for _, c := range conns {
		cs := &connState{conn: c}
		if c.DSN != "" {
			cs.secrets = append(cs.secrets, c.DSN)
		}
		if cfg, err := pgconn.ParseConfig(c.DSN); err == nil && len(cfg.Password) >= 3 {
			cs.secrets = append(cs.secrets, cfg.Password)
		}
		m.conns[c.Name] = cs
		m.names = append(m.names, c.Name)
	}
	sort.Strings(m.names)
	return m
}

// Name implements luabind.Module.
func (m *Module) Name() string { return "pg" }

// Close closes the pools. The host calls it when the run ends, after every
// script has ended (their connections are back by then).
func (m *Module) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	for _, cs := range m.conns {
		cs.once.Do(func() { cs.err = errors.New("the run has ended") })
		if cs.pool != nil {
			cs.pool.Close()
		}
	}
}

// pool returns the connection's pool, creating it on first use. Creating a
// pool does not dial: connections are made when acquired.
func (cs *connState) getPool() (*pgxpool.Pool, error) {
	cs.once.Do(func() {
		cfg, err := pgxpool.ParseConfig(cs.conn.DSN)
		if err != nil {
			// The parse error quotes the DSN (pgx redacts the password only
			// on a best-effort basis): say only what is wrong and where.
			cs.err = errors.New("its DSN cannot be parsed; check the configuration")
			return
		}
		if cs.conn.MaxConns > 0 {
			cfg.MaxConns = cs.conn.MaxConns
		}
		// On cancellation ask the server to stop the query (so a
		// pg_sleep(600) does not go on running server-side and the
		// connection stays usable), and cut the connection only if the
		// server does not answer in time.
		cfg.ConnConfig.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
			return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: cancelDeadline}
		}
		cfg.ConnConfig.RuntimeParams["application_name"] = "etlhost"
		// Describe every statement before running it (unnamed statements,
		// two round trips) rather than caching prepared statements: ETL
		// scripts drop and recreate tables, and a cached statement then
		// fails with "cached plan must not change result type" (or a
		// cached description decodes stale types) on whichever script of
		// the run reuses the connection. Measured: about 1.5x the time of
		// a cached statement for a one-row lookup on a local socket.
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeDescribeExec
		p, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			cs.err = fmt.Errorf("connection %q: %w", cs.conn.Name, err)
			return
		}
		cs.pool = p
	})
	return cs.pool, cs.err
}

// scrub removes the connection's secrets from a message.
func (cs *connState) scrub(s string) string {
	for _, sec := range cs.secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "xxxxx")
		}
	}
	return s
}

// Open implements luabind.Module: it builds the `pg` table for one script.
func (m *Module) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	o := &opened{m: m, env: env, sessions: map[string]*session{}}
	o.dbMeta = o.newHandleMeta(L, "pg.db")
	o.txMeta = o.newHandleMeta(L, "pg.tx")
	o.errMeta = newErrorMeta(L)

	t := L.NewTable()
	t.RawSetString("connect", L.NewFunction(o.connect))
	t.RawSetString("record", L.NewFunction(luaRecord))
	t.RawSetString("connections", L.NewFunction(func(L *lua.LState) int {
		names := L.CreateTable(len(m.names), 0)
		for _, n := range m.names {
			names.Append(lua.LString(n))
		}
		L.Push(names)
		return 1
	}))
	return t
}

// opened is the module as opened in one script's state.
type opened struct {
	m        *Module
	env      *luabind.Env
	sessions map[string]*session // by connection name
	dbMeta   *lua.LTable
	txMeta   *lua.LTable
	errMeta  *lua.LTable
}

// connect implements pg.connect(name?).
func (o *opened) connect(L *lua.LState) int {
	name := L.OptString(1, DefaultName)
	cs, ok := o.m.conns[name]
	if !ok {
		if len(o.m.names) == 0 {
			luabind.Raise(L, fmt.Sprintf("pg.connect: no connection named %q: none are configured (set ETLHOST_PG_DSN or add a [postgres.NAME] section to the config)", name))
		}
		luabind.Raise(L, fmt.Sprintf("pg.connect: no connection named %q (configured: %s)", name, strings.Join(o.m.names, ", ")))
	}
	s := o.sessions[name]
	if s == nil {
		s = &session{o: o, cs: cs, env: o.env, open: map[*txState]bool{}}
		o.sessions[name] = s
		o.env.OnClose(s.close)
	}
	L.Push(s.newHandle(L, nil))
	return 1
}

// session is one script's use of one connection: the transactions it holds
// open, its dry-run transaction, its cursors.
type session struct {
	o   *opened
	cs  *connState
	env *luabind.Env

	open   map[*txState]bool // top-level transactions holding a connection
	dry    *txState          // dry-run: the transaction all work runs in
	closed bool
	cursor int // counter for cursor names
}

// txState is a transaction (or savepoint) a handle runs its statements in.
type txState struct {
	conn   *pgxpool.Conn // set on top-level transactions, which own it
	tx     pgx.Tx
	parent *txState
	done   bool
}

// ended reports whether t or one of its parents has ended.
func (t *txState) ended() bool {
	for ; t != nil; t = t.parent {
		if t.done {
			return true
		}
	}
	return false
}

// querier is what statements run on: a pooled connection or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
	Conn() *pgx.Conn
}

// cleanupCtx is for work that must be done after the script's context has
// ended (rollbacks, releases): not cancelled with it, but bounded.
func (s *session) cleanupCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(s.env.Ctx), cleanupTimeout)
}

// acquire takes a connection from the pool, waiting under ctx (the
// script's own deadline), so an exhausted pool never deadlocks a run.
func (s *session) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	if s.closed {
		return nil, errEnded
	}
	p, err := s.cs.getPool()
	if err != nil {
		return nil, &connectError{name: s.cs.conn.Name, err: err}
	}
	c, err := p.Acquire(ctx)
	if err != nil {
		return nil, &connectError{name: s.cs.conn.Name, err: err}
	}
	return c, nil
}

var errEnded = errors.New("the script has ended; its connections are closed")

// errTxEnded is used when a tx handle is used after its function returned.
var errTxEnded = errors.New("this transaction has ended (a tx object is valid only inside its db:tx function)")

type connectError struct {
	name string
	err  error
}

func (e *connectError) Error() string {
	return fmt.Sprintf("connect to %q: %v", e.name, e.err)
}
func (e *connectError) Unwrap() error { return e.err }

// run runs fn on the handle's querier inside env.Block: the handle's
// transaction, the dry-run transaction, or a connection taken from the pool
// for this call only.
func (s *session) run(t *txState, fn func(ctx context.Context, q querier) error) error {
	if s.closed {
		return errEnded
	}
	if t != nil {
		if t.ended() {
			return errTxEnded
		}
		return s.env.Block(func(ctx context.Context) error { return fn(ctx, t.tx) })
	}
	if s.env.DryRun {
		return s.env.Block(func(ctx context.Context) error {
			dt, err := s.dryTx(ctx)
			if err != nil {
				return err
			}
			return fn(ctx, dt.tx)
		})
	}
	return s.env.Block(func(ctx context.Context) error {
		c, err := s.acquire(ctx)
		if err != nil {
			return err
		}
		defer c.Release()
		return fn(ctx, c)
	})
}

// dryTx returns the dry-run transaction, beginning it on first use.
func (s *session) dryTx(ctx context.Context) (*txState, error) {
	if s.dry != nil {
		return s.dry, nil
	}
	c, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		c.Release()
		return nil, err
	}
	s.dry = &txState{conn: c, tx: tx}
	s.log(luabind.LevelInfo, "plan: dry run: the changes below are made in a transaction that is rolled back at the end of the script",
		map[string]any{"connection": s.cs.conn.Name})
	return s.dry, nil
}

// begin starts a transaction for db:tx / tx:tx: a savepoint inside the
// parent (or the dry-run transaction), or a new transaction on a connection
// of its own.
func (s *session) begin(ctx context.Context, parent *txState, opts pgx.TxOptions) (*txState, error) {
	if parent == nil && s.env.DryRun {
		dt, err := s.dryTx(ctx)
		if err != nil {
			return nil, err
		}
		parent = dt
	}
	if parent != nil {
		if parent.ended() {
			return nil, errTxEnded
		}
		tx, err := parent.tx.Begin(ctx)
		if err != nil {
			return nil, err
		}
		return &txState{tx: tx, parent: parent}, nil
	}
	c, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.BeginTx(ctx, opts)
	if err != nil {
		c.Release()
		return nil, err
	}
	t := &txState{conn: c, tx: tx}
	s.open[t] = true
	return t, nil
}

// finish commits (commit=true) or rolls back t, and releases its connection
// when it owns one. A rollback runs even when the script's context has
// ended, so the connection goes back to the pool clean.
func (s *session) finish(ctx context.Context, t *txState, commit bool) error {
	if t.done {
		return nil
	}
	t.done = true
	var err error
	if commit {
		err = t.tx.Commit(ctx)
	} else {
		cctx, cancel := s.cleanupCtx()
		err = t.tx.Rollback(cctx)
		cancel()
		if errors.Is(err, pgx.ErrTxClosed) {
			err = nil
		}
	}
	if t.conn != nil {
		delete(s.open, t)
		// A connection whose transaction could not be ended cleanly is
		// not idle: the pool destroys it instead of reusing it.
		t.conn.Release()
		t.conn = nil
	}
	return err
}

// close ends the script's use of the connection: open transactions and
// cursors are rolled back, the dry-run transaction too, and connections go
// back to the pool.
func (s *session) close() {
	if s.closed {
		return
	}
	for t := range s.open {
		_ = s.finish(context.Background(), t, false)
	}
	if s.dry != nil {
		if err := s.finish(context.Background(), s.dry, false); err != nil {
			s.log(luabind.LevelWarn, "plan: rolling back the dry run failed: "+s.cs.scrub(err.Error()), nil)
		} else {
			s.log(luabind.LevelInfo, "plan: dry run rolled back: nothing was changed", map[string]any{"connection": s.cs.conn.Name})
		}
	}
	s.closed = true
}

// plan reports a data-changing statement in dry-run mode.
func (s *session) plan(what string, rows int64, fields map[string]any) {
	if !s.env.DryRun {
		return
	}
	if fields == nil {
		fields = map[string]any{}
	}
	fields["rows"] = rows
	fields["connection"] = s.cs.conn.Name
	s.log(luabind.LevelInfo, "plan: "+what, fields)
}

func (s *session) log(level luabind.Level, msg string, fields map[string]any) {
	if s.env.Log != nil {
		s.env.Log.Log(level, msg, fields)
	}
}

// shortSQL shortens a statement for a log line.
func shortSQL(sql string) string {
	sql = strings.Join(strings.Fields(sql), " ")
	if len(sql) > 200 {
		sql = sql[:200] + "..."
	}
	return sql
}
