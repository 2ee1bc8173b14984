package odoo

import (
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/odoo"
)

// raise turns a client error into a Lua error at the script's position.
//
// A fault becomes an error value (a table) with fields code, message,
// traceback (code 1 only), model, method and where, whose tostring is
// "scripts/x.lua:12: odoo: fault 2: Record does not exist or has been
// deleted", so pcall can inspect it and an unhandled one reads well. Every
// other error (transport, login, deadline) is a string error with the
// position.
func (st *state) raise(L *lua.LState, err error) {
	var f *odoo.Fault
	if errors.As(err, &f) {
		t := L.CreateTable(0, 7)
		t.RawSetString("code", lua.LNumber(f.Code))
		t.RawSetString("message", lua.LString(f.Message))
		if f.Traceback != "" {
			t.RawSetString("traceback", lua.LString(f.Traceback))
		}
		if f.Model != "" {
			t.RawSetString("model", lua.LString(f.Model))
		}
		if f.Method != "" {
			t.RawSetString("method", lua.LString(f.Method))
		}
		t.RawSetString("where", lua.LString(strings.TrimSuffix(L.Where(1), ":")))
		L.SetMetatable(t, st.errMeta)
		L.Error(t, 0)
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "odoo") {
		msg = "odoo: " + msg
	}
	L.RaiseError("%s", msg)
}

// raisef raises a string error with the script's position.
func raisef(L *lua.LState, format string, args ...any) {
	L.RaiseError("%s", fmt.Sprintf(format, args...))
}

// faultToString is the __tostring of fault error values.
func faultToString(L *lua.LState) int {
	t := L.CheckTable(1)
	where := lua.LVAsString(t.RawGetString("where"))
	code := lua.LVAsString(t.RawGetString("code"))
	msg := lua.LVAsString(t.RawGetString("message"))
	s := fmt.Sprintf("odoo: fault %s: %s", code, msg)
	if where != "" {
		s = where + ": " + s
	}
	L.Push(lua.LString(s))
	return 1
}
