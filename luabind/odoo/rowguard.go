package odoo

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
)

// rowMeta builds the metatable shared by the rows of one call, read with
// the fields read (id included). A row stays a plain table holding the
// values that are set, so pairs, json.encode and luaconv see what they saw
// before; the metatable only answers keys the row does not hold: nil for a
// field that was read and is empty in Odoo, an error for any other name,
// since a misspelt field would otherwise read as an empty one and load
// NULL. There is no __newindex: scripts add keys to rows (row.extra = 1).
//
// known, when not nil, gives the model's fields when the module knows them,
// to tell a field that exists but was not asked for from a misspelt one.
func rowMeta(L *lua.LState, st *state, model string, read []string, known func() *modelFields) *lua.LTable {
	set := make(map[string]struct{}, len(read)+1)
	names := make([]string, 0, len(read)+1)
	for _, f := range read {
		if _, dup := set[f]; !dup {
			set[f] = struct{}{}
			names = append(names, f)
		}
	}
	if _, ok := set["id"]; !ok {
		set["id"] = struct{}{}
		names = append(names, "id")
	}
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		k, isString := L.Get(2).(lua.LString)
		if !isString {
			L.Push(lua.LNil) // positional or other keys: not fields
			return 1
		}
		if _, ok := set[string(k)]; ok {
			L.Push(lua.LNil) // read, and empty in Odoo
			return 1
		}
		var mf *modelFields
		if known != nil {
			mf = known()
		}
		raiseUnread(L, st, model, string(k), names, mf)
		return 0
	}))
	return mt
}

// maxNamesShown bounds the fields listed in an unread-field error (a read
// without fields has every field of the model).
const maxNamesShown = 40

// raiseUnread raises the error of reading field, which was not read, from a
// row of model.
func raiseUnread(L *lua.LState, st *state, model, field string, read []string, mf *modelFields) {
	shown := read
	more := ""
	if len(shown) > maxNamesShown {
		shown, more = shown[:maxNamesShown], fmt.Sprintf(", ... (%d more)", len(read)-maxNamesShown)
	}
	msg := fmt.Sprintf("odoo: %s: field %q was not read (fields read: %s%s)", model, field, strings.Join(shown, ", "), more)
	if _, exists := mf.byNameOK(field); exists {
		msg += "; add it to the fields of the call"
	} else if s := closest(field, read); s != "" {
		msg += "; did you mean " + s + "?"
	}
	if st == nil || st.errMeta == nil {
		L.RaiseError("%s", msg)
	}
	t := L.CreateTable(0, 5)
	t.RawSetString("kind", lua.LString(KindField))
	t.RawSetString("message", lua.LString(msg))
	t.RawSetString("model", lua.LString(model))
	t.RawSetString("field", lua.LString(field))
	t.RawSetString("where", lua.LString(strings.TrimSuffix(L.Where(1), ":")))
	L.SetMetatable(t, st.errMeta)
	st.env.Raised(t, luabind.Fault{Reason: "odoo: field not read"})
	L.Error(t, 0)
}

func (mf *modelFields) byNameOK(name string) (fieldInfo, bool) {
	if mf == nil {
		return fieldInfo{}, false
	}
	fi, ok := mf.byName[name]
	return fi, ok
}

// closest returns the name of names nearest to s, when it is near enough
// to be what was meant: a few edits (case aside), or the same words in
// another order (invoice_due_date for invoice_date_due). "" otherwise.
func closest(s string, names []string) string {
	ls := strings.ToLower(s)
	best, bestD := "", -1
	for _, n := range names {
		ln := strings.ToLower(n)
		d := editDistance(ls, ln)
		if sameWords(ls, ln) {
			d = min(d, 1)
		}
		if limit := max(len(ls), len(ln)) / 3; d > max(limit, 1) {
			continue
		}
		if bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// sameWords reports whether a and b are the same words (split on "_") in
// another order.
func sameWords(a, b string) bool {
	if len(a) != len(b) || a == b {
		return false
	}
	wa, wb := strings.Split(a, "_"), strings.Split(b, "_")
	if len(wa) != len(wb) || len(wa) < 2 {
		return false
	}
	count := map[string]int{}
	for _, w := range wa {
		count[w]++
	}
	for _, w := range wb {
		if count[w] == 0 {
			return false
		}
		count[w]--
	}
	return true
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
