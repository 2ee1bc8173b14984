// Package json is the Lua module `json`.
//
//	local json = require("json")
//	local s = json.encode({a = 1, list = {1, 2}})   -- '{"a":1,"list":[1,2]}' (keys sorted)
//	local s = json.encode(v, {indent = "  "})       -- pretty
//	local v = json.decode('{"a": [1, null, 2]}')    -- JSON null becomes nil
//
// json.decode raises an error for a document nested deeper than 100 levels
// (luaconv.MaxDepth: a value inside more than 100 arrays or objects), the
// deepest a Lua value converts, rather than return the deeper part as nil.
// json.encode raises one for such a table too.
//
// Conventions are those of every etlhost module (package luaconv): a table
// with keys 1..n is an array, any other table an object, the empty table an
// empty object; whole numbers print without a fraction.
package json

import (
	"bytes"
	"encoding/json"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luaconv"
)

// MaxInputBytes bounds what json.decode accepts.
const MaxInputBytes = 64 << 20

// Module is the `json` module. It has no shared state.
type Module struct{}

// Name implements luabind.Module.
func (Module) Name() string { return "json" }

// Open implements luabind.Module.
func (Module) Open(L *lua.LState, _ *luabind.Env) lua.LValue {
	t := L.NewTable()
	t.RawSetString("encode", L.NewFunction(encode))
	t.RawSetString("decode", L.NewFunction(decode))
	return t
}

func encode(L *lua.LState) int {
	arg := L.CheckAny(1)
	// Size the output before converting: a string referenced many times
	// is written each time, so a table of 400 references to 32 MiB would
	// be 12.8 GB of JSON. Escapes may make the output longer than this
	// estimate; the output is checked again below before it is kept.
	est := luabind.PlainSize(arg, luabind.MaxStringBytes)
	luabind.CheckBuild(L, "json.encode", 2*est)
	v, err := luaconv.FromLua(arg)
	if err != nil {
		L.RaiseError("json.encode: %v", err)
	}
	indent := ""
	if opts := luabind.CheckOptTable(L, 2); opts != nil {
		if s, ok := opts.RawGetString("indent").(lua.LString); ok {
			indent = string(s)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		L.RaiseError("json.encode: %v", err)
	}
	if buf.Len() > luabind.MaxStringBytes {
		L.RaiseError("json.encode: result of %d bytes is over the limit of %d bytes for one string (memory limit)", buf.Len(), luabind.MaxStringBytes)
	}
	L.Push(lua.LString(strings.TrimSuffix(buf.String(), "\n")))
	return 1
}

func decode(L *lua.LState) int {
	s := L.CheckString(1)
	if len(s) > MaxInputBytes {
		L.RaiseError("json.decode: input of %d bytes is over the limit of %d", len(s), MaxInputBytes)
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		L.RaiseError("json.decode: %v", err)
	}
	if dec.More() {
		L.RaiseError("json.decode: unexpected data after the JSON value")
	}
	if tooDeep(v, 0) {
		L.RaiseError("json.decode: the document nests deeper than %d levels, the limit for Lua values", luaconv.MaxDepth)
	}
	L.Push(luaconv.ToLua(L, v))
	return 1
}

// tooDeep tells whether v holds a value below more than luaconv.MaxDepth
// arrays or objects, which luaconv.ToLua would drop (as nil) instead of
// converting. depth is v's own nesting (0 for the document). The walk is
// bounded: encoding/json refuses documents nested deeper than 10000.
func tooDeep(v any, depth int) bool {
	if depth > luaconv.MaxDepth {
		return true
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if tooDeep(e, depth+1) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if tooDeep(e, depth+1) {
				return true
			}
		}
	}
	return false
}
