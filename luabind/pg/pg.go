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
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/internal/secret"
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
	// ScriptConns is the per-script connection quota: how many of the
	// pool's connections one script may hold at once (open db:tx, db:iter
	// loops, copies and statements, of all its light threads), so that one
	// script cannot starve the others. 0 means the default: half the pool,
	// at least 2 (a db:iter loop whose body runs a statement needs two),
	// never more than the pool. A script's thread that already holds a
	// connection and asks for one more beyond the quota gets a usage error
	// at once (waiting could be waiting for itself); a thread holding none
	// waits for one of the script's other threads to give one back, under
	// the script's deadline. Dry and atomic runs use one connection.
	ScriptConns int32
}

// scriptQuota is the default of Conn.ScriptConns for a pool of maxConns.
func scriptQuota(maxConns, configured int32) int {
	q := max(2, maxConns/2)
	if configured > 0 {
		q = configured
	}
	return int(min(q, maxConns))
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

	// scriptConns is the per-script quota (Conn.ScriptConns), set with pool.
	scriptConns int

	// stateReady is set once the etlhost_state table is known to exist.
	stateReady atomic.Bool
}

// New returns the module for the given connections. Pools are created when
// a script first connects; nothing is dialled before.
func New(conns []Conn) *Module {
	m := &Module{conns: map[string]*connState{}}
	for _, c := range conns {
		cs := &connState{conn: c, secrets: secret.OfDSN(c.DSN)}
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
		// Nothing is cached by name client-side, so the DISCARD ALL below
		// (which deallocates every prepared statement) invalidates nothing
		// pgx relies on. copy prepares unnamed statements.
		cfg.ConnConfig.StatementCacheCapacity = 0
		cfg.ConnConfig.DescriptionCacheCapacity = 0
		// The connection's schema, read before any script runs on it: where
		// copy and replace put an unqualified table name, and where
		// etlhost_state lives, whatever a session does to its search_path.
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			var schema *string
			if err := c.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
				return err
			}
			if schema != nil {
				c.PgConn().CustomData()[schemaKey] = *schema
			}
			return nil
		}
		// A connection goes back to the pool as clean as it came: a script's
		// TEMP tables, SET parameters (search_path, statement_timeout,
		// role), prepared statements, cursors WITH HOLD, LISTEN and session
		// advisory locks end with its call (or its db:tx), and never reach
		// the next script the pool hands the connection to. pgxpool runs
		// this after the caller's Release, off its path, only for a
		// connection outside any transaction (it destroys the others); one
		// that cannot be reset is destroyed too.
		cfg.AfterRelease = func(c *pgx.Conn) bool {
			ctx, cancel := context.WithTimeout(context.Background(), cancelDeadline)
			defer cancel()
			_, err := c.PgConn().Exec(ctx, "DISCARD ALL").ReadAll()
			return err == nil
		}
		cs.scriptConns = scriptQuota(cfg.MaxConns, cs.conn.ScriptConns)
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
func (cs *connState) scrub(s string) string { return secret.Scrub(s, cs.secrets) }

// Open implements luabind.Module: it builds the `pg` table for one script.
func (m *Module) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	o := &opened{m: m, env: env, sessions: map[string]*session{}, typeMap: pgtype.NewMap()}
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
	// typeMap decodes the values of query results, after their connection
	// went back to the pool (a connection's own map is not safe to share).
	// It is used holding the Lua state only.
	typeMap *pgtype.Map
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
		s = &session{o: o, cs: cs, env: o.env, open: map[*txState]bool{}, scriptInit: newConnLock()}
		o.sessions[name] = s
		o.env.OnClose(s.close)
	}
	L.Push(s.newHandle(L, nil))
	return 1
}

// session is one script's use of one connection: the transactions it holds
// open, its script transaction (dry run, atomic), its cursors.
//
// A script may run Lua on several light threads (the task module), one at a
// time, handing over while it waits in env.Block: two threads can then be
// inside calls on the same session at once. The session's bookkeeping is
// guarded by mu, and a connection shared by several calls (a transaction and
// its savepoints, the script transaction) by its connLock, held for each
// statement.
type session struct {
	o   *opened
	cs  *connState
	env *luabind.Env

	mu     sync.Mutex
	open   map[*txState]bool // top-level transactions holding a connection
	script *txState          // DryRun or Atomic: the transaction of all the script's work
	closed bool

	scriptInit *connLock // serializes beginning the script transaction
	cursor     atomic.Int64
	quota      quota // the connections of the pool the script holds
}

// connLock serializes the statements sent on one connection. It is
// context-aware, and refuses (rather than deadlocks) a nested use by the
// Lua thread already holding it: a rows function of db:copy querying the
// transaction the copy is running on.
//
// It also holds sections: a nested transaction (savepoint) on a connection
// that several light threads share (a tx passed to them, the script
// transaction of a dry or atomic run) belongs to the thread that began it
// until it ends. PostgreSQL's savepoints form a stack: another thread's
// savepoint or statements interleaved with it would be released or undone
// with it. Other threads' statements on the connection wait for the
// section's end.
type connLock struct {
	ch    chan struct{}
	owner atomic.Pointer[lua.LState]

	mu       sync.Mutex
	sec      *lua.LState   // the thread inside a section, or nil
	secDepth int           // its nesting
	secFree  chan struct{} // closed when the section ends
}

func newConnLock() *connLock { return &connLock{ch: make(chan struct{}, 1)} }

var errBusy = &usageError{msg: "the transaction's connection is busy with a statement of this same thread " +
	"(a copy or replace whose rows function uses the same transaction); use db, or build the rows first"}

// waitSection waits until no other thread than L is inside a section.
func (l *connLock) waitSection(ctx context.Context, L *lua.LState) error {
	for {
		l.mu.Lock()
		if l.sec == nil || l.sec == L {
			l.mu.Unlock()
			return nil
		}
		wait := l.secFree
		l.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// inForeignSection reports whether another thread than L is in a section.
func (l *connLock) inForeignSection(L *lua.LState) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sec != nil && l.sec != L
}

// enterSection makes L the owner of the connection's nested transactions
// (reentrant for L).
func (l *connLock) enterSection(ctx context.Context, L *lua.LState) error {
	for {
		if err := l.waitSection(ctx, L); err != nil {
			return err
		}
		l.mu.Lock()
		if l.sec == nil || l.sec == L {
			if l.sec == nil {
				l.secFree = make(chan struct{})
			}
			l.sec = L
			l.secDepth++
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
	}
}

func (l *connLock) leaveSection() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.secDepth--
	if l.secDepth == 0 {
		l.sec = nil
		close(l.secFree)
		l.secFree = nil
	}
}

// lock takes the connection for one statement of thread L (nil: cleanup
// code, which waits for no section).
func (l *connLock) lock(ctx context.Context, L *lua.LState) error {
	if L != nil && l.owner.Load() == L {
		return errBusy
	}
	for {
		if L != nil {
			if err := l.waitSection(ctx, L); err != nil {
				return err
			}
		}
		select {
		case l.ch <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		// A section may have begun between the wait and the lock.
		if L != nil && l.inForeignSection(L) {
			<-l.ch
			continue
		}
		l.owner.Store(L)
		return nil
	}
}

func (l *connLock) unlock() {
	l.owner.Store(nil)
	<-l.ch
}

// txState is a transaction (or savepoint) a handle runs its statements in.
type txState struct {
	conn   *pgxpool.Conn // set on top-level transactions, which own it
	holder *lua.LState   // the thread conn is counted against (quota)
	tx     pgx.Tx
	parent *txState
	lock   *connLock // shared with the parent: one connection
	done   atomic.Bool
	// section is set on a nested transaction that holds its connection's
	// section (see connLock) until it ends.
	section bool
}

// ended reports whether t or one of its parents has ended.
func (t *txState) ended() bool {
	for ; t != nil; t = t.parent {
		if t.done.Load() {
			return true
		}
	}
	return false
}

// with runs f holding t's connection.
func (t *txState) with(ctx context.Context, L *lua.LState, f func() error) error {
	if err := t.lock.lock(ctx, L); err != nil {
		return err
	}
	defer t.lock.unlock()
	if t.ended() {
		return errTxEnded
	}
	return f()
}

// endTx commits or rolls back t; the caller holds its connection. A
// rollback runs even when the script's context has ended, so the
// connection goes back to the pool clean.
func (s *session) endTx(ctx context.Context, t *txState, commit bool) error {
	if !t.done.CompareAndSwap(false, true) {
		return nil
	}
	if t.section {
		defer t.lock.leaveSection()
	}
	if commit {
		return t.tx.Commit(ctx)
	}
	cctx, cancel := s.cleanupCtx()
	defer cancel()
	err := t.tx.Rollback(cctx)
	if errors.Is(err, pgx.ErrTxClosed) {
		err = nil
	}
	return err
}

// release gives back the connection of an ended top-level transaction. A
// connection whose transaction could not be ended cleanly is not idle: the
// pool destroys it instead of reusing it.
func (s *session) release(t *txState) {
	if t.conn == nil {
		return
	}
	s.mu.Lock()
	delete(s.open, t)
	s.mu.Unlock()
	s.give(t.conn, t.holder)
	t.conn = nil
}

// finish ends t (commit or roll back) and releases its connection. L is the
// calling Lua thread (nil from cleanup code).
func (s *session) finish(ctx context.Context, L *lua.LState, t *txState, commit bool) error {
	if t.done.Load() {
		return nil
	}
	lockCtx := ctx
	if !commit {
		c, cancel := s.cleanupCtx()
		defer cancel()
		lockCtx = c
	}
	if err := t.lock.lock(lockCtx, L); err != nil {
		// Another thread of the script still runs a statement on the
		// connection: leave the connection to it (the pool gets it back
		// when the script's calls end) rather than race it.
		if t.section && t.done.CompareAndSwap(false, true) {
			t.lock.leaveSection()
		}
		return err
	}
	err := s.endTx(ctx, t, commit)
	t.lock.unlock()
	s.release(t)
	return err
}

func (s *session) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// scriptMode reports whether all the script's work goes through one
// transaction.
func (s *session) scriptMode() bool { return s.env.DryRun || s.env.Atomic }

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

// acquire takes a connection from the pool for thread L, within the
// script's quota, waiting under ctx (the script's own deadline), so an
// exhausted pool never deadlocks a run. give returns it.
func (s *session) acquire(ctx context.Context, L *lua.LState) (*pgxpool.Conn, error) {
	if s.isClosed() {
		return nil, errEnded
	}
	p, err := s.cs.getPool()
	if err != nil {
		return nil, &connectError{name: s.cs.conn.Name, err: err}
	}
	if err := s.quota.take(ctx, L, s.cs.scriptConns, s.cs.conn.Name); err != nil {
		return nil, err
	}
	c, err := p.Acquire(ctx)
	if err != nil {
		s.quota.give(L)
		return nil, &connectError{name: s.cs.conn.Name, err: err}
	}
	return c, nil
}

// give returns a connection taken by acquire for thread L.
func (s *session) give(c *pgxpool.Conn, L *lua.LState) {
	c.Release()
	s.quota.give(L)
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
// transaction, the script transaction, or a connection taken from the pool
// for this call only. fn must not touch Lua values: the script's other light
// threads may run meanwhile.
func (s *session) run(L *lua.LState, t *txState, fn func(ctx context.Context, q querier) error) error {
	if s.isClosed() {
		return errEnded
	}
	if t == nil && s.scriptMode() {
		return s.env.Block(func(ctx context.Context) error {
			st, err := s.scriptTx(ctx, L)
			if err != nil {
				return err
			}
			return st.with(ctx, L, func() error { return fn(ctx, st.tx) })
		})
	}
	if t != nil {
		if t.ended() {
			return errTxEnded
		}
		return s.env.Block(func(ctx context.Context) error {
			return t.with(ctx, L, func() error { return fn(ctx, t.tx) })
		})
	}
	return s.env.Block(func(ctx context.Context) error {
		c, err := s.acquire(ctx, L)
		if err != nil {
			return err
		}
		defer s.give(c, L)
		return fn(ctx, c)
	})
}

// hold takes the handle's connection for a call that alternates waits
// (each in env.Block) with Lua work between them (db:copy): the handle's
// transaction or the script transaction (their lock held), or a connection
// from the pool. release gives it back.
func (s *session) hold(L *lua.LState, t *txState) (q querier, release func(), err error) {
	if s.isClosed() {
		return nil, nil, errEnded
	}
	if t != nil && t.ended() {
		return nil, nil, errTxEnded
	}
	err = s.env.Block(func(ctx context.Context) error {
		if t == nil && s.scriptMode() {
			st, err := s.scriptTx(ctx, L)
			if err != nil {
				return err
			}
			t = st
		}
		if t == nil {
			c, err := s.acquire(ctx, L)
			if err != nil {
				return err
			}
			q, release = c, func() { s.give(c, L) }
			return nil
		}
		if err := t.lock.lock(ctx, L); err != nil {
			return err
		}
		if t.ended() {
			t.lock.unlock()
			return errTxEnded
		}
		q, release = t.tx, t.lock.unlock
		return nil
	})
	return q, release, err
}

// scriptTx returns the script transaction (dry run or atomic), beginning
// it on first use (by thread L).
func (s *session) scriptTx(ctx context.Context, L *lua.LState) (*txState, error) {
	s.mu.Lock()
	st := s.script
	s.mu.Unlock()
	if st != nil {
		return st, nil
	}
	if err := s.scriptInit.lock(ctx, nil); err != nil {
		return nil, err
	}
	defer s.scriptInit.unlock()
	s.mu.Lock()
	st = s.script
	s.mu.Unlock()
	if st != nil {
		return st, nil
	}
	c, err := s.acquire(ctx, L)
	if err != nil {
		return nil, err
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		s.give(c, L)
		return nil, err
	}
	st = &txState{conn: c, holder: L, tx: tx, lock: newConnLock()}
	s.mu.Lock()
	s.script = st
	s.mu.Unlock()
	s.tx(event.Begun, "")
	if !s.env.DryRun {
		s.env.OnSettle(s.settleScript)
	}
	return st, nil
}

// settleScript ends the atomic script transaction once the script's
// outcome is known (env.OnSettle: after every OnFinish function, so after
// the task module has waited for the light threads that may still use it,
// whatever the order the modules were opened in): committed when ok, rolled
// back otherwise. A failed commit fails the script. A REPL session settles
// after each input; the next statement begins a new transaction.
func (s *session) settleScript(ok bool) error {
	s.mu.Lock()
	st := s.script
	s.script = nil
	s.mu.Unlock()
	if st == nil || st.done.Load() {
		return nil
	}
	if !ok {
		if err := s.finish(context.Background(), nil, st, false); err != nil {
			s.tx(event.RollbackFailed, s.cs.scrub(err.Error()))
			return nil
		}
		s.tx(event.RolledBack, "")
		return nil
	}
	if err := s.finish(s.env.Ctx, nil, st, true); err != nil {
		s.tx(event.RolledBack, "")
		return fmt.Errorf("pg: committing the script's work on %q failed, nothing was changed: %s", s.cs.conn.Name, s.cs.scrub(err.Error()))
	}
	s.tx(event.Committed, "")
	return nil
}

// begin starts a transaction for db:tx / tx:tx: a savepoint inside the
// parent (or the script transaction), or a new transaction on a connection
// of its own.
func (s *session) begin(ctx context.Context, L *lua.LState, parent *txState, opts pgx.TxOptions) (*txState, error) {
	if s.isClosed() {
		return nil, errEnded
	}
	if parent == nil && s.scriptMode() {
		st, err := s.scriptTx(ctx, L)
		if err != nil {
			return nil, err
		}
		parent = st
	}
	if parent != nil {
		if err := parent.lock.enterSection(ctx, L); err != nil {
			return nil, err
		}
		var tx pgx.Tx
		err := parent.with(ctx, L, func() error {
			var err error
			tx, err = parent.tx.Begin(ctx)
			return err
		})
		if err != nil {
			parent.lock.leaveSection()
			return nil, err
		}
		return &txState{tx: tx, parent: parent, lock: parent.lock, section: true}, nil
	}
	c, err := s.acquire(ctx, L)
	if err != nil {
		return nil, err
	}
	tx, err := c.BeginTx(ctx, opts)
	if err != nil {
		s.give(c, L)
		return nil, err
	}
	t := &txState{conn: c, holder: L, tx: tx, lock: newConnLock()}
	s.mu.Lock()
	s.open[t] = true
	s.mu.Unlock()
	return t, nil
}

// close ends the script's use of the connection: open transactions and
// cursors are rolled back, the script transaction too unless committed,
// and connections go back to the pool.
func (s *session) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	open := make([]*txState, 0, len(s.open))
	for t := range s.open {
		open = append(open, t)
	}
	st := s.script
	s.mu.Unlock()
	for _, t := range open {
		if err := s.finish(context.Background(), nil, t, false); err != nil {
			s.log(luabind.LevelWarn, "pg: a transaction left open could not be rolled back: "+s.cs.scrub(err.Error()), nil)
		}
	}
	if st == nil || st.done.Load() {
		return
	}
	if err := s.finish(context.Background(), nil, st, false); err != nil {
		s.tx(event.RollbackFailed, s.cs.scrub(err.Error()))
	} else {
		s.tx(event.RolledBack, "")
	}
}

// plan reports a data-changing statement in dry-run and atomic modes (the
// changes a fix makes, for its review and its audit trail): a Statement
// event.
func (s *session) plan(what string, rows, deleted int64) {
	if !s.scriptMode() {
		return
	}
	s.env.Emit(event.Statement{Connection: s.cs.conn.Name, Text: what, Rows: rows, Deleted: deleted, DryRun: s.env.DryRun})
}

// tx reports a step of the script's transaction: a Transaction event.
func (s *session) tx(outcome event.Outcome, err string) {
	s.env.Emit(event.Transaction{Connection: s.cs.conn.Name, Outcome: outcome, DryRun: s.env.DryRun, Err: err})
}

func (s *session) log(level luabind.Level, msg string, fields map[string]any) {
	s.env.Log(level, msg, fields)
}

// shortSQL shortens a statement for a log line.
func shortSQL(sql string) string {
	sql = strings.Join(strings.Fields(sql), " ")
	if len(sql) > 200 {
		sql = sql[:200] + "..."
	}
	return sql
}
