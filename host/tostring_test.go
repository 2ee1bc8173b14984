package host

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// tostring, print and string.format("%s") show a table, function,
// coroutine or userdata as its type and an id, never a host address: the
// same object always gives the same id, two objects two ids, and a
// __tostring function still decides. It runs beside a well-behaved script.
func TestToStringShowsNoHostAddress(t *testing.T) {
	t.Parallel()
	paths := writeScripts(t, t.TempDir(), map[string]string{
		"ids.lua": `
local t, u = {}, {}
local co = coroutine.create(function() end)
print(t, print)
assert(tostring(t) == tostring(t), "the same table gives two ids")
assert(tostring(t) ~= tostring(u), "two tables give one id")
local named = setmetatable({}, {__tostring = function() return "named" end})
return {
  table = tostring(t), format = string.format("%s", t), func = tostring(print),
  lua_func = tostring(function() end), thread = tostring(co),
  named = tostring(named), meta_not_function = tostring(setmetatable({}, {__tostring = "x"})),
  same_in_format = string.format("%s", t) == tostring(t),
}`,
		"canary.lua": `local s = 0 for i = 1, 100 do s = s + i end return {sum = s, n = tostring(12), b = tostring(true), s = tostring("x"), nil_ = tostring(nil)}`,
	})
	_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules()}, paths)
	if res := by["canary"]; res.Status != StatusOK || fmt.Sprint(res.Value) != "map[b:true n:12 nil_:nil s:x sum:5050]" {
		t.Fatalf("canary: %s %v %s", res.Status, res.Value, res.Error)
	}
	res := by["ids"]
	if res.Status != StatusOK {
		t.Fatalf("ids: %s", res.Error)
	}
	v := res.Value.(map[string]any)
	id := regexp.MustCompile(`^(table|function|thread): 0x[0-9a-f]{16}$`)
	for _, k := range []string{"table", "format", "func", "lua_func", "thread", "meta_not_function"} {
		s, _ := v[k].(string)
		if !id.MatchString(s) {
			t.Errorf("%s prints as %q, want its type and a 16-digit id", k, s)
		}
	}
	if !strings.HasPrefix(v["thread"].(string), "thread: ") || !strings.HasPrefix(v["func"].(string), "function: ") {
		t.Errorf("types: %v", v)
	}
	if v["named"] != "named" || v["same_in_format"] != true {
		t.Errorf("named %v, same in format %v", v["named"], v["same_in_format"])
	}
	if len(res.Logs) != 1 || !regexp.MustCompile(`^table: 0x[0-9a-f]{16}\tfunction: 0x[0-9a-f]{16}$`).MatchString(res.Logs[0].Msg) {
		t.Errorf("print logged %+v", res.Logs)
	}
	if strings.Contains(fmt.Sprint(v), "0xc0") {
		t.Errorf("a Go heap address shows: %v", v)
	}
}

// An error value without __tostring (error({})) is reported by its
// content, with no address.
func TestErrorValueShowsNoHostAddress(t *testing.T) {
	t.Parallel()
	paths := writeScripts(t, t.TempDir(), map[string]string{"err.lua": `error({code = 1})`})
	_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules()}, paths)
	res := by["err"]
	if res.Status != StatusFailed || !strings.Contains(res.Error, "error object map[code:1]") || strings.Contains(res.Error, "0x") {
		t.Fatalf("%s: %q", res.Status, res.Error)
	}
}
