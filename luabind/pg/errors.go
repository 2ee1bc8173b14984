package pg

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
)

// Error kinds, in the `kind` field of a Lua error value. The odoo module's
// error values have the same shape (kind, code, message, where) and share
// "stopped".
const (
	KindSQL     = "sql"     // the server refused the statement (sqlstate set)
	KindConnect = "connect" // no connection could be made (sqlstate set when the server answered)
	KindStopped = "stopped" // the script's deadline or Ctrl+C stopped the call
	KindValue   = "value"   // a value could not be converted (column named)
	KindUsage   = "usage"   // the API was misused (a tx used after its end, ...)
)

// valueError is a conversion failure, naming the column (and the row, for
// copy).
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

// usageError is a misuse of the API that is not an argument type error.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// newErrorMeta builds the metatable of pg error values: tostring(e) gives
// "file:line: pg: ERROR: message (SQLSTATE xxxxx)" (with DETAIL and HINT
// lines when the server sent them), and `"..." .. e` works.
func newErrorMeta(L *lua.LState) *lua.LTable {
	mt := L.NewTable()
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(errorText(L.CheckTable(1))))
		return 1
	}))
	mt.RawSetString("__concat", L.NewFunction(func(L *lua.LState) int {
		str := func(v lua.LValue) string {
			if t, ok := v.(*lua.LTable); ok && L.GetMetatable(t) == mt {
				return errorText(t)
			}
			return L.ToStringMeta(v).String()
		}
		L.Push(lua.LString(str(L.Get(1)) + str(L.Get(2))))
		return 1
	}))
	mt.RawSetString("__metatable", lua.LString("pg.error"))
	return mt
}

func field(t *lua.LTable, k string) string {
	if s, ok := t.RawGetString(k).(lua.LString); ok {
		return string(s)
	}
	return ""
}

// errorText renders an error value.
func errorText(t *lua.LTable) string {
	var b strings.Builder
	if w := field(t, "where"); w != "" {
		b.WriteString(w)
		b.WriteString(": ")
	}
	b.WriteString("pg: ")
	if field(t, "kind") == KindSQL {
		b.WriteString(field(t, "severity"))
		b.WriteString(": ")
		b.WriteString(field(t, "message"))
		b.WriteString(" (SQLSTATE ")
		b.WriteString(field(t, "sqlstate"))
		b.WriteString(")")
	} else {
		if op := field(t, "op"); op != "" {
			b.WriteString(op)
			b.WriteString(": ")
		}
		b.WriteString(field(t, "message"))
	}
	if d := field(t, "detail"); d != "" {
		b.WriteString("\nDETAIL: ")
		b.WriteString(d)
	}
	if h := field(t, "hint"); h != "" {
		b.WriteString("\nHINT: ")
		b.WriteString(h)
	}
	return b.String()
}

// where returns "file:line" of the innermost Lua function on the stack
// (the script line that called into pg).
func where(L *lua.LState) string {
	for level := 1; level < 20; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			return ""
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			return ""
		}
		if dbg.What != "G" && dbg.CurrentLine > 0 {
			return dbg.Source + ":" + itoa(dbg.CurrentLine)
		}
	}
	return ""
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// errorValue builds the Lua error value for err raised by operation op.
func (s *session) errorValue(L *lua.LState, op string, err error) *lua.LTable {
	t := L.CreateTable(0, 8)
	t.RawSetString("op", lua.LString(op))
	t.RawSetString("where", lua.LString(where(L)))
	t.RawSetString("connection", lua.LString(s.cs.conn.Name))
	scrub := s.cs.scrub
	set := func(k, v string) {
		if v != "" {
			t.RawSetString(k, lua.LString(scrub(v)))
		}
	}
	var (
		stopped *luabind.StoppedError
		pgErr   *pgconn.PgError
		connErr *connectError
		valErr  *valueError
		useErr  *usageError
		quoErr  *quotaError
	)
	switch {
	case errors.As(err, &stopped):
		set("kind", KindStopped)
		set("message", op+" stopped: "+stopped.Cause.Error())
		t.RawSetString("op", lua.LNil)
	case errors.As(err, &connErr):
		set("kind", KindConnect)
		set("message", connErr.Error())
		if errors.As(err, &pgErr) {
			set("sqlstate", pgErr.Code)
		}
	case errors.As(err, &pgErr):
		set("kind", KindSQL)
		set("severity", pgErr.Severity)
		set("sqlstate", pgErr.Code)
		set("message", pgErr.Message)
		set("detail", pgErr.Detail)
		set("hint", pgErr.Hint)
		if pgErr.Code == "42601" && pgErr.Hint == "" && strings.Contains(pgErr.Message, "multiple commands") {
			set("hint", multipleStatementsHint)
		}
		set("constraint", pgErr.ConstraintName)
		set("table", pgErr.TableName)
		set("column", pgErr.ColumnName)
		if pgErr.Position > 0 {
			t.RawSetString("position", lua.LNumber(pgErr.Position))
		}
	case errors.As(err, &valErr):
		set("kind", KindValue)
		set("message", valErr.msg)
	case errors.As(err, &useErr), errors.As(err, &quoErr), errors.Is(err, errTxEnded), errors.Is(err, errEnded):
		set("kind", KindUsage)
		set("message", err.Error())
	default:
		set("kind", KindConnect)
		if !isConnErr(err) {
			set("kind", "client")
		}
		set("message", err.Error())
	}
	if code := t.RawGetString("sqlstate"); code != lua.LNil {
		t.RawSetString("code", code) // the shape odoo's errors share: kind, code, message
	}
	L.SetMetatable(t, s.o.errMeta)
	return t
}

func isConnErr(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

// raise raises err as a pg error value, recording its classification (see
// classify) with the Env. It does not return.
func (s *session) raise(L *lua.LState, op string, err error) {
	t := s.errorValue(L, op, err)
	s.env.Raised(t, classify(field(t, "kind"), err))
	L.Error(t, 0)
}
