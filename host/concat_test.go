package host

import (
	"context"
	"strings"
	"testing"
)

// TestConcatKeepsLuaSemantics: the compile-time rewrite of `..` into the
// host's capped concatenation changes no result: numbers print as
// tostring does, __concat works from either side and in chains, errors
// name the line and the types, and concatenations inside functions,
// library modules and REPL inputs all go through it.
func TestConcatKeepsLuaSemantics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	paths := writeScripts(t, dir, map[string]string{
		"lib/greet.lua": "return {hi = function(n) return 'hi ' .. n .. '!' end}",
		"values.lua": `local mt = {__concat = function(a, b)
  local x = type(a) == "table" and a.v or a
  local y = type(b) == "table" and b.v or b
  return "<" .. x .. "|" .. y .. ">"
end}
local o = setmetatable({v = "o"}, mt)
local function up() return "a" .. 1 .. 2.5 .. -3 .. 1e20 end
return {
  up(),
  "x" .. o, o .. "y", "p" .. "q" .. o .. "r",
  (("a" .. "b") .. "c") .. ("d" .. "e"),
  require("greet").hi("Ana"),
  #("x" .. string.rep("y", 10000)),
}`,
		"bad.lua":   "local t = {}\nlocal s = 'a' ..\n  t",
		"nilv.lua":  "return 'a' .. nil",
		"plain.lua": "return 1 + 2",
	})
	_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules(), LibDir: dir + "/lib"}, paths)
	got, _ := by["values"].Value.([]any)
	want := []any{"a12.5-31e+20", "<x|o>", "<o|y>", "pq<o|r>", "abcde", "hi Ana!", int64(10001)}
	if len(got) != len(want) {
		t.Fatalf("values: %s %v %q", by["values"].Status, by["values"].Value, by["values"].Error)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("value %d: %#v, want %#v", i+1, got[i], want[i])
		}
	}
	if e := by["bad"].Error; !strings.Contains(e, "bad.lua:2: cannot perform concat operation between string and table") {
		t.Errorf("bad: %q", e)
	}
	if e := by["nilv"].Error; !strings.Contains(e, "nilv.lua:1: cannot perform concat operation between string and nil") {
		t.Errorf("nilv: %q", e)
	}
	if by["plain"].Value != int64(3) {
		t.Errorf("plain: %v", by["plain"].Value)
	}

	r := &Runner{Modules: stdModules()}
	s, err := r.NewSession(context.Background(), "repl")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Eval("x = 'a' .. 1"); err != nil {
		t.Fatal(err)
	}
	vals, err := s.Eval("x .. 'b'")
	if err != nil || len(vals) != 1 || vals[0].String() != "a1b" {
		t.Fatalf("repl: %v %v", vals, err)
	}
}
