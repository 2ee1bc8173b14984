package host

import (
	"context"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
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

// BenchmarkConcat times `..` through the host's function (the compiled
// rewrite, numbers written by luaconv.FormatNumber) against gopher-lua's
// own OP_CONCAT on a bare state, the baseline, in the same run: strings
// only, whole numbers (ids, counts) and fractional amounts, 100 loop turns
// of one chain each per call. host/gopher-lua is the ratio.
func BenchmarkConcat(b *testing.B) {
	for _, c := range []struct{ name, body string }{
		{"strings", `local s = "a" .. "bc" .. "def"`},
		{"ints", `local s = "id=" .. i .. ";n=" .. (i * 7)`},
		{"floats", `local s = "amount=" .. (i + 0.25) .. ";rate=" .. (i / 3)`},
	} {
		b.Run(c.name, func(b *testing.B) {
			src := "function f() for i = 1, 100 do " + c.body + " end end"
			bare := lua.NewState()
			defer bare.Close()
			if err := bare.DoString(src); err != nil {
				b.Fatal(err)
			}
			s, err := (&Runner{Modules: stdModules()}).NewSession(context.Background(), "bench")
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Eval(src); err != nil {
				b.Fatal(err)
			}
			call := func(L *lua.LState) time.Duration {
				start := time.Now()
				if err := L.CallByParam(lua.P{Fn: L.GetGlobal("f"), Protect: true}); err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			var base, host time.Duration
			b.ReportAllocs()
			for b.Loop() {
				base += call(bare)
				host += call(s.L)
			}
			n := time.Duration(b.N)
			b.ReportMetric(float64(base/n)/1000, "gopher-lua-us")
			b.ReportMetric(float64(host/n)/1000, "host-us")
			b.ReportMetric(float64(host)/float64(base), "host/gopher-lua")
		})
	}
}
