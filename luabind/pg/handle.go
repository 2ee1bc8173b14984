package pg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luaconv"
)

// iterBatch is how many rows db:iter fetches per round trip.
const iterBatch = 500

// handle is the Go side of a Lua db or tx object.
type handle struct {
	s  *session
	tx *txState // nil for db
}

// newHandleMeta builds the metatable of db or tx objects (same methods).
func (o *opened) newHandleMeta(L *lua.LState, kind string) *lua.LTable {
	methods := L.NewTable()
	for name, fn := range map[string]lua.LGFunction{
		"query":       o.query,
		"query_row":   o.queryRow,
		"exec":        o.exec,
		"iter":        o.iter,
		"copy":        o.copy,
		"tx":          o.tx,
		"replace":     o.replace,
		"get_state":   o.getState,
		"set_state":   o.setState,
		"quote_ident": quoteIdent,
		"close":       func(*lua.LState) int { return 0 },
	} {
		methods.RawSetString(name, L.NewFunction(fn))
	}
	mt := L.NewTable()
	mt.RawSetString("__index", methods)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		h := checkHandle(L)
		L.Push(lua.LString(fmt.Sprintf("%s(%s)", kind, h.s.cs.conn.Name)))
		return 1
	}))
	mt.RawSetString("__metatable", lua.LString(kind))
	return mt
}

func (s *session) newHandle(L *lua.LState, t *txState) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = &handle{s: s, tx: t}
	if t == nil {
		ud.Metatable = s.o.dbMeta
	} else {
		ud.Metatable = s.o.txMeta
	}
	return ud
}

// checkHandle returns the db or tx passed as self (see luabind.CheckSelf).
func checkHandle(L *lua.LState) *handle {
	return luabind.CheckSelf[*handle](L, "db", "pg db or tx")
}

// reraise raises err: a Lua error from a callback as it was, anything else
// as a pg error value.
func (s *session) reraise(L *lua.LState, op string, err error) {
	var lr *luaRaised
	if errors.As(err, &lr) {
		L.Error(lr.value, 0)
	}
	s.raise(L, op, err)
}

// query implements db:query(sql, ...) -> rows, columns.
func (o *opened) query(L *lua.LState) int {
	return o.doQuery(L, "query", false)
}

// queryRow implements db:query_row(sql, ...) -> row or nil, columns.
func (o *opened) queryRow(L *lua.LState) int {
	return o.doQuery(L, "query_row", true)
}

func (o *opened) doQuery(L *lua.LState, op string, one bool) int {
	h := checkHandle(L)
	sql := L.CheckString(2)
	if err := checkStatement(sql); err != nil {
		h.s.raise(L, op, err)
	}
	args, err := params(L, 3)
	if err != nil {
		h.s.raise(L, op, err)
	}
	raw := rawResult{mem: luabind.MemoryOf(L)}
	defer raw.release()
	limit := 0
	if one {
		limit = 1
	}
	err = h.s.run(L, h.tx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		return raw.read(rows, limit)
	})
	if err != nil {
		h.s.raise(L, op, err)
	}
	// Converted once the wait is over, holding the Lua state.
	rc := newResultConv(L, o.typeMap, raw.fds)
	n := raw.rowCount()
	h.s.env.CountRows(int64(n), 0)
	if one {
		if n == 0 {
			L.Push(lua.LNil)
		} else {
			row, err := raw.convertRow(L, rc, 0)
			if err != nil {
				h.s.raise(L, op, err)
			}
			L.Push(row)
		}
	} else {
		out := L.CreateTable(n, 0)
		for i := 0; i < n; i++ {
			row, err := raw.convertRow(L, rc, i)
			if err != nil {
				h.s.raise(L, op, err)
			}
			out.RawSetInt(i+1, row)
		}
		L.Push(out)
	}
	L.Push(rc.columnNames(L))
	return 2
}

// exec implements db:exec(sql, ...) -> rows affected.
func (o *opened) exec(L *lua.LState) int {
	h := checkHandle(L)
	sql := L.CheckString(2)
	if err := checkStatement(sql); err != nil {
		h.s.raise(L, "exec", err)
	}
	args, err := params(L, 3)
	if err != nil {
		h.s.raise(L, "exec", err)
	}
	var n int64
	err = h.s.run(L, h.tx, func(ctx context.Context, q querier) error {
		tag, err := execOne(ctx, q, sql, args)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		h.s.raise(L, "exec", err)
	}
	h.s.plan("exec "+shortSQL(sql), n, 0)
	L.Push(lua.LNumber(n))
	return 1
}

// iter implements db:iter(sql, ...): an iterator over the rows, fetched
// iterBatch at a time through a server-side cursor. The cursor lives in a
// transaction: the handle's (so other statements can run on the same
// transaction between rows), the dry-run one, or one of its own that ends
// with the iteration (or, if the loop is left early, with the script).
func (o *opened) iter(L *lua.LState) int {
	h := checkHandle(L)
	s := h.s
	// A trailing semicolon would end the DECLARE before the query's end.
	sql := strings.TrimRight(strings.TrimSpace(L.CheckString(2)), "; \t\n")
	if err := checkStatement(sql); err != nil {
		s.raise(L, "iter", err)
	}
	args, err := params(L, 3)
	if err != nil {
		s.raise(L, "iter", err)
	}
	it := &iterator{s: s, host: h.tx, name: fmt.Sprintf("etlhost_iter_%d", s.cursor.Add(1))}
	err = s.env.Block(func(ctx context.Context) error {
		if s.isClosed() {
			return errEnded
		}
		if it.host == nil {
			if s.scriptMode() {
				st, err := s.scriptTx(ctx, L)
				if err != nil {
					return err
				}
				it.host = st
			} else {
				t, err := s.begin(ctx, L, nil, pgx.TxOptions{})
				if err != nil {
					return err
				}
				it.host, it.own = t, true
			}
		}
		return it.host.with(ctx, L, func() error {
			_, err := execOne(ctx, it.host.tx, "DECLARE "+it.name+" NO SCROLL CURSOR FOR "+sql, args)
			return err
		})
	})
	if err != nil {
		it.end(L, false)
		s.raise(L, "iter", err)
	}
	L.Push(L.NewFunction(it.next))
	return 1
}

type iterator struct {
	s         *session
	host      *txState
	own       bool // host is a transaction of the iterator's own
	name      string
	rc        *resultConv
	buf       []*lua.LTable
	pos       int
	exhausted bool // the last fetch returned fewer rows than asked
	done      bool
}

func (it *iterator) next(L *lua.LState) int {
	if it.done {
		L.Push(lua.LNil)
		return 1
	}
	if it.pos >= len(it.buf) {
		it.buf, it.pos = it.buf[:0], 0
		if !it.exhausted {
			if err := it.fetch(L); err != nil {
				it.end(L, false)
				it.s.raise(L, "iter", err)
			}
		}
		if len(it.buf) == 0 {
			if err := it.end(L, true); err != nil {
				it.s.raise(L, "iter", err)
			}
			L.Push(lua.LNil)
			return 1
		}
	}
	row := it.buf[it.pos]
	it.buf[it.pos] = nil
	it.pos++
	L.Push(row)
	return 1
}

func (it *iterator) fetch(L *lua.LState) error {
	if it.s.isClosed() {
		return errEnded
	}
	if it.host.ended() {
		return errTxEnded
	}
	raw := rawResult{mem: luabind.MemoryOf(L)}
	defer raw.release()
	err := it.s.env.Block(func(ctx context.Context) error {
		return it.host.with(ctx, L, func() error {
			rows, err := it.host.tx.Query(ctx, fmt.Sprintf("FETCH FORWARD %d FROM %s", iterBatch, it.name), pgx.QueryExecModeDescribeExec)
			if err != nil {
				return err
			}
			return raw.read(rows, 0)
		})
	})
	if err != nil {
		return err
	}
	if it.rc == nil {
		it.rc = newResultConv(L, it.s.o.typeMap, raw.fds)
	}
	n := raw.rowCount()
	it.s.env.CountRows(int64(n), 0)
	for i := 0; i < n; i++ {
		row, err := raw.convertRow(L, it.rc, i)
		if err != nil {
			return err
		}
		it.buf = append(it.buf, row)
	}
	if n < iterBatch {
		it.exhausted = true
	}
	return nil
}

// end closes the cursor (ok) and ends the iterator's own transaction.
func (it *iterator) end(L *lua.LState, ok bool) error {
	if it.done {
		return nil
	}
	it.done = true
	it.buf = nil
	if it.host == nil || it.host.ended() {
		return nil
	}
	if it.own {
		if !ok {
			return it.s.finish(context.Background(), L, it.host, false)
		}
		return it.s.env.Block(func(ctx context.Context) error { return it.s.finish(ctx, L, it.host, true) })
	}
	if ok {
		return it.s.env.Block(func(ctx context.Context) error {
			return it.host.with(ctx, L, func() error {
				_, err := it.host.tx.Exec(ctx, "CLOSE "+it.name)
				return err
			})
		})
	}
	return nil
}

// checkColumns reads the columns argument: a non-empty array of distinct
// names.
func checkColumns(L *lua.LState, n int) []string {
	t := L.CheckTable(n)
	cnt, ok := luaconv.ArrayLen(t)
	if !ok || cnt == 0 {
		L.ArgError(n, "columns must be a non-empty array of column names")
	}
	cols := make([]string, cnt)
	seen := map[string]bool{}
	for i := 1; i <= cnt; i++ {
		s, ok := t.RawGetInt(i).(lua.LString)
		if !ok || s == "" {
			L.ArgError(n, fmt.Sprintf("column %d is not a name", i))
		}
		if seen[string(s)] {
			L.ArgError(n, fmt.Sprintf("column %q named twice", string(s)))
		}
		seen[string(s)] = true
		cols[i-1] = string(s)
	}
	return cols
}

func checkRows(L *lua.LState, n int) *rowSource {
	switch v := L.Get(n).(type) {
	case *lua.LTable:
		return &rowSource{L: L, tab: v, n: v.Len()}
	case *lua.LFunction:
		return &rowSource{L: L, fn: v}
	}
	L.ArgError(n, "rows must be an array of rows or a function returning the next row (nil at the end)")
	return nil
}

func checkTable(L *lua.LState, n int) pgx.Identifier {
	id, err := parseTable(L.CheckString(n))
	if err != nil {
		L.ArgError(n, err.Error())
	}
	return id
}

// copy implements db:copy(table, columns, rows) -> count.
func (o *opened) copy(L *lua.LState) int {
	h := checkHandle(L)
	table := checkTable(L, 2)
	cols := checkColumns(L, 3)
	src := checkRows(L, 4)
	n, err := func() (int64, error) {
		q, release, err := h.s.hold(L, h.tx)
		if err != nil {
			return 0, err
		}
		defer release()
		target, err := resolveTable(q.Conn(), table)
		if err != nil {
			return 0, err
		}
		var ct *copyTarget
		if err := h.s.env.Block(func(ctx context.Context) error {
			var err error
			ct, err = prepareCopy(ctx, q.Conn(), target, cols)
			return err
		}); err != nil {
			return 0, err
		}
		return h.s.streamCopy(q.Conn(), ct, src)
	}()
	if err != nil {
		h.s.reraise(L, "copy", err)
	}
	h.s.env.CountRows(0, n)
	h.s.plan("copy into "+L.CheckString(2), n, 0)
	L.Push(lua.LNumber(n))
	return 1
}

var isolationLevels = map[string]pgx.TxIsoLevel{
	"read committed":  pgx.ReadCommitted,
	"repeatable read": pgx.RepeatableRead,
	"serializable":    pgx.Serializable,
}

// tx implements db:tx(fn, opts?) and tx:tx(fn): fn(tx) runs in a
// transaction (a savepoint when nested) committed when fn returns and
// rolled back when it raises; the error is raised again. fn's results are
// returned.
func (o *opened) tx(L *lua.LState) int {
	h := checkHandle(L)
	s := h.s
	fn := L.CheckFunction(2)
	var txOpts pgx.TxOptions
	if opts := luabind.CheckOptTable(L, 3); opts != nil {
		opts.ForEach(func(k, v lua.LValue) {
			switch k.String() {
			case "isolation":
				lvl, ok := isolationLevels[strings.ToLower(v.String())]
				if !ok {
					L.ArgError(3, "isolation must be 'read committed', 'repeatable read' or 'serializable'")
				}
				txOpts.IsoLevel = lvl
			case "read_only":
				if lua.LVAsBool(v) {
					txOpts.AccessMode = pgx.ReadOnly
				}
			default:
				L.ArgError(3, fmt.Sprintf("unknown option %q (isolation, read_only)", k.String()))
			}
		})
		if h.tx != nil || s.scriptMode() {
			if txOpts != (pgx.TxOptions{}) {
				L.ArgError(3, "isolation and read_only apply to a top-level transaction only, not to a nested one (savepoint), nor in a dry run or an atomic run")
			}
		}
	}
	var t *txState
	err := s.env.Block(func(ctx context.Context) error {
		var err error
		t, err = s.begin(ctx, L, h.tx, txOpts)
		return err
	})
	if err != nil {
		s.raise(L, "tx", err)
	}
	base := L.GetTop()
	L.Push(fn)
	L.Push(s.newHandle(L, t))
	if callErr := L.PCall(1, lua.MultRet, nil); callErr != nil {
		_ = s.finish(context.Background(), L, t, false)
		var ae *lua.ApiError
		if errors.As(callErr, &ae) {
			L.Error(ae.Object, 0)
		}
		L.RaiseError("%s", callErr.Error())
	}
	err = s.env.Block(func(ctx context.Context) error { return s.finish(ctx, L, t, true) })
	if !t.done.Load() {
		_ = s.finish(context.Background(), L, t, false)
	}
	if err != nil {
		s.raise(L, "tx commit", err)
	}
	return L.GetTop() - base
}

// replace implements db:replace(table, columns, rows, opts) ->
// {deleted = n, inserted = m}.
func (o *opened) replace(L *lua.LState) int {
	h := checkHandle(L)
	s := h.s
	table := checkTable(L, 2)
	cols := checkColumns(L, 3)
	src := checkRows(L, 4)
	var where string
	var args []any
	lock := true
	if opts := luabind.CheckOptTable(L, 5); opts != nil {
		var bad error
		opts.ForEach(func(k, v lua.LValue) {
			switch k.String() {
			case "where":
				w, ok := v.(lua.LString)
				if !ok {
					L.ArgError(5, "opts.where must be SQL text")
				}
				where = string(w)
			case "args":
				t, ok := v.(*lua.LTable)
				if !ok {
					L.ArgError(5, "opts.args must be an array")
				}
				args, bad = tableParams(t)
			case "lock":
				lock = lua.LVAsBool(v)
			default:
				L.ArgError(5, fmt.Sprintf("unknown option %q (where, args, lock)", k.String()))
			}
		})
		if bad != nil {
			s.raise(L, "replace", bad)
		}
		if len(args) > 0 && where == "" {
			L.ArgError(5, "opts.args given without opts.where")
		}
	}
	var deleted, inserted int64
	var t *txState
	err := s.env.Block(func(ctx context.Context) error {
		var err error
		if t, err = s.begin(ctx, L, h.tx, pgx.TxOptions{}); err != nil {
			return err
		}
		// Hold the transaction's connection until the replace ends.
		if err := t.lock.lock(ctx, L); err != nil {
			_ = s.finish(ctx, L, t, false)
			return err
		}
		return nil
	})
	if err == nil {
		err = func() error {
			target, err := resolveTable(t.tx.Conn(), table)
			if err != nil {
				return err
			}
			var ct *copyTarget
			if err := s.env.Block(func(ctx context.Context) error {
				var err error
				if ct, err = prepareCopy(ctx, t.tx.Conn(), target, cols); err != nil {
					return err
				}
				if lock {
					// Writers of the table wait for the replace (two
					// replaces must not interleave their DELETE and COPY);
					// readers do not.
					if _, err := t.tx.Exec(ctx, "LOCK TABLE "+target.Sanitize()+" IN SHARE ROW EXCLUSIVE MODE"); err != nil {
						return err
					}
				}
				del := "DELETE FROM " + target.Sanitize()
				if where != "" {
					del += " WHERE " + where
				}
				tag, err := execOne(ctx, t.tx, del, args)
				deleted = tag.RowsAffected()
				return err
			}); err != nil {
				return err
			}
			if inserted, err = s.streamCopy(t.tx.Conn(), ct, src); err != nil {
				return err
			}
			return s.env.Block(func(ctx context.Context) error { return s.endTx(ctx, t, true) })
		}()
		if !t.done.Load() {
			_ = s.endTx(context.Background(), t, false)
		}
		t.lock.unlock()
		s.release(t)
	}
	if err != nil {
		s.reraise(L, "replace", err)
	}
	s.env.CountRows(0, inserted)
	s.plan("replace "+L.CheckString(2), inserted, deleted)
	res := L.CreateTable(0, 2)
	res.RawSetString("deleted", lua.LNumber(deleted))
	res.RawSetString("inserted", lua.LNumber(inserted))
	L.Push(res)
	return 1
}

// quoteIdent implements db:quote_ident(name): name as an SQL identifier.
func quoteIdent(L *lua.LState) int {
	checkHandle(L)
	L.Push(lua.LString(pgx.Identifier{L.CheckString(2)}.Sanitize()))
	return 1
}

// The watermark table: one row per script and key, in the connection's
// schema (stateTable).
const (
	stateTableName = "etlhost_state"
	createStateSQL = `CREATE TABLE IF NOT EXISTS %s (
	script     text        NOT NULL,
	key        text        NOT NULL,
	value      jsonb       NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (script, key)
)`
)

// stateTable is etlhost_state in the connection's schema (see
// resolveTable): a script's SET search_path or TEMP TABLE etlhost_state
// does not move the watermarks.
func stateTable(q querier) string {
	if schema := connSchema(q.Conn()); schema != "" {
		return pgx.Identifier{schema, stateTableName}.Sanitize()
	}
	return pgx.Identifier{stateTableName}.Sanitize()
}

// stateExists reports whether etlhost_state exists (as q sees it). When q
// is outside a transaction the answer is committed and is remembered.
func (s *session) stateExists(ctx context.Context, q querier) (bool, error) {
	if s.cs.stateReady.Load() {
		return true, nil
	}
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", stateTable(q)).Scan(&exists); err != nil {
		return false, err
	}
	if exists && q.Conn().PgConn().TxStatus() == 'I' {
		s.cs.stateReady.Store(true)
	}
	return exists, nil
}

// ensureState creates etlhost_state when missing. Two scripts may try at
// once: the loser's CREATE waits for the winner's, then fails on the
// catalog's unique index (23505) or finds the table or its row type
// (42P07, 42710); all mean the table is there. The attempt runs in a savepoint so a failure does not
// abort the caller's transaction.
func (s *session) ensureState(ctx context.Context, q querier) error {
	if ok, err := s.stateExists(ctx, q); err != nil || ok {
		return err
	}
	sub, err := q.Begin(ctx)
	if err != nil {
		return err
	}
	if _, err := sub.Exec(ctx, fmt.Sprintf(createStateSQL, stateTable(q))); err != nil {
		cctx, cancel := s.cleanupCtx()
		_ = sub.Rollback(cctx)
		cancel()
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P07" || pe.Code == "42710") {
			return nil
		}
		return err
	}
	return sub.Commit(ctx)
}

// getState implements db:get_state(key) -> value or nil.
func (o *opened) getState(L *lua.LState) int {
	h := checkHandle(L)
	key := L.CheckString(2)
	var raw []byte
	err := h.s.run(L, h.tx, func(ctx context.Context, q querier) error {
		ok, err := h.s.stateExists(ctx, q)
		if err != nil || !ok {
			return err
		}
		err = q.QueryRow(ctx, "SELECT value FROM "+stateTable(q)+" WHERE script = $1 AND key = $2", h.s.env.Script, key).Scan(&raw)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		h.s.raise(L, "get_state", err)
	}
	if raw == nil {
		L.Push(lua.LNil)
		return 1
	}
	v, err := jsonToLua(L, "value", raw)
	if err != nil {
		h.s.raise(L, "get_state", err)
	}
	L.Push(v)
	return 1
}

// setState implements db:set_state(key, value): value (any plain Lua
// value; nil deletes the key) is stored as JSON for this script, in the
// handle's transaction when it is a tx.
func (o *opened) setState(L *lua.LState) int {
	h := checkHandle(L)
	key := L.CheckString(2)
	val := L.Get(3)
	var js []byte
	if val != lua.LNil {
		g, err := luaconv.FromLua(val)
		if err != nil {
			h.s.raise(L, "set_state", &valueError{msg: "value: " + err.Error()})
		}
		if js, err = json.Marshal(g); err != nil {
			h.s.raise(L, "set_state", &valueError{msg: "value: " + err.Error()})
		}
	}
	err := h.s.run(L, h.tx, func(ctx context.Context, q querier) error {
		if err := h.s.ensureState(ctx, q); err != nil {
			return err
		}
		if js == nil {
			_, err := q.Exec(ctx, "DELETE FROM "+stateTable(q)+" WHERE script = $1 AND key = $2", h.s.env.Script, key)
			return err
		}
		_, err := q.Exec(ctx, `INSERT INTO `+stateTable(q)+` (script, key, value, updated_at) VALUES ($1, $2, $3, now())
ON CONFLICT (script, key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`,
			h.s.env.Script, key, string(js))
		return err
	})
	if err != nil {
		h.s.raise(L, "set_state", err)
	}
	h.s.plan("set_state "+key, 1, 0)
	return 0
}
