package luabind

import (
	lua "github.com/yuin/gopher-lua"
)

// CheckSelf returns the object a method was called on, its argument 1: a
// userdata whose Value is a T. A method called with a dot instead of a
// colon (`erp.search_read(model)` for `erp:search_read(model)`) gets the
// script's first argument there instead, and the error names the fix with
// the method's name as the script called it:
//
//	job.lua:5: search_read: call it with a colon: erp:search_read(...)
//
// receiver is what the module's examples call the object ("erp", "db"); the
// host's hints put the script's own name for it in the message when the
// line shows it. what names the object in the error for another module's
// userdata ("odoo connection").
func CheckSelf[T any](L *lua.LState, receiver, what string) T {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if v, ok := ud.Value.(T); ok {
			return v
		}
		L.ArgError(1, what+" expected, got another module's object")
	}
	method := "method"
	if dbg, ok := L.GetStack(0); ok {
		if _, err := L.GetInfo("n", dbg, lua.LNil); err == nil && isName(dbg.Name) {
			method = dbg.Name
		}
	}
	Raise(L, method+": call it with a colon: "+receiver+":"+method+"(...)")
	var zero T
	return zero
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
