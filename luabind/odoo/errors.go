package odoo

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/odoo"
)

// Error kinds, in the `kind` field of a Lua error value. pg's error values
// have the same shape (kind, code, message, where) and share "stopped".
const (
	KindStopped = "stopped" // the script's deadline, Ctrl+C or memory limit stopped the call
	KindFault   = "fault"   // Odoo answered with a fault (code: the fault code)
	KindAuth    = "auth"    // Odoo refused the login
	KindTimeout = "timeout" // no answer within the connection's timeout
	KindHTTP    = "http"    // an unexpected HTTP status (code: the status)
	KindConnect = "connect" // the server could not be reached, or the connection broke
	KindClient  = "client"  // anything else (a malformed answer, an answer too large)
	KindField   = "field"   // a row read by a field the call did not read (see rowMeta)
)

// raise turns a client error into a Lua error at the script's position:
// an error value (a table) with fields kind, code (for faults and HTTP
// errors), message and where, plus traceback (fault code 1), model and
// method for faults. Its tostring is "scripts/x.lua:12: odoo: fault 2:
// Record does not exist or has been deleted" for a fault and
// "scripts/x.lua:12: odoo: res.partner.read: ..." otherwise, so pcall can
// inspect it and an unhandled one reads well. It records how the error is
// classified (see classify) with the Env before raising it; callTimeout is the
// connection's per-call timeout, for the reason.
func (st *state) raise(L *lua.LState, err error, callTimeout time.Duration) {
	t := L.CreateTable(0, 8)
	set := func(k, v string) {
		if v != "" {
			t.RawSetString(k, lua.LString(v))
		}
	}
	var (
		f       *odoo.Fault
		stopped *luabind.StoppedError
		httpErr *odoo.HTTPError
		timeout interface{ Timeout() bool }
	)
	msg := err.Error()
	if !strings.HasPrefix(msg, "odoo") {
		msg = "odoo: " + msg
	}
	switch {
	case errors.As(err, &f):
		set("kind", KindFault)
		t.RawSetString("code", lua.LNumber(f.Code))
		msg = f.Message
		set("traceback", f.Traceback)
		set("model", f.Model)
		set("method", f.Method)
	case errors.As(err, &stopped):
		set("kind", KindStopped)
	case errors.Is(err, odoo.ErrAuth):
		set("kind", KindAuth)
	case errors.As(err, &httpErr):
		set("kind", KindHTTP)
		t.RawSetString("code", lua.LNumber(httpErr.Status))
	case errors.As(err, &timeout) && timeout.Timeout():
		set("kind", KindTimeout)
	case isTransport(err):
		set("kind", KindConnect)
	default:
		set("kind", KindClient)
	}
	set("message", msg)
	set("where", strings.TrimSuffix(L.Where(1), ":"))
	L.SetMetatable(t, st.errMeta)
	st.env.Raised(t, classify(lua.LVAsString(t.RawGetString("kind")), err, callTimeout))
	L.Error(t, 0)
}

// isTransport tells errors of the connection itself: refused, reset,
// broken, unreachable.
func isTransport(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	return errors.As(err, &opErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED)
}

// raisef raises a string error with the script's position.
func raisef(L *lua.LState, format string, args ...any) {
	L.RaiseError("%s", fmt.Sprintf(format, args...))
}

// errorToString is the __tostring of error values.
func errorToString(L *lua.LState) int {
	t := L.CheckTable(1)
	s := lua.LVAsString(t.RawGetString("message"))
	if lua.LVAsString(t.RawGetString("kind")) == KindFault {
		s = fmt.Sprintf("odoo: fault %s: %s", lua.LVAsString(t.RawGetString("code")), s)
	}
	if where := lua.LVAsString(t.RawGetString("where")); where != "" {
		s = where + ": " + s
	}
	L.Push(lua.LString(s))
	return 1
}
