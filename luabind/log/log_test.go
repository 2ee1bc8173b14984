package log_test

import (
	"testing"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/luabind/log"
	"github.com/etlhost/etlhost/luabind/luatest"
)

func TestLuaSpecs(t *testing.T) {
	t.Parallel()
	luatest.RunFiles(t, "testdata/test_*.lua", func(t *testing.T) *luatest.State {
		return luatest.New(t, luatest.Options{}, log.Module{})
	})
}

func TestLinesReachTheSink(t *testing.T) {
	t.Parallel()
	s := luatest.New(t, luatest.Options{}, log.Module{})
	if _, err := s.Exec("t.lua", `local log = require("log") log.info("loaded", {rows = 2, ok = true}) log.warn("careful") log.progress(3, 9)`); err != nil {
		t.Fatal(err)
	}
	want := "info loaded ok=true rows=2\nwarn careful"
	if got := s.Logs.String(); got != want {
		t.Fatalf("log lines:\n%s\nwant:\n%s", got, want)
	}
	if s.Logs.Done != 3 || s.Logs.Total != 9 {
		t.Fatalf("progress %d/%d, want 3/9", s.Logs.Done, s.Logs.Total)
	}
}

// TestNumbersInLines: a number logged as the message is written as Lua
// writes it (1234567.5, not 1.2345675e+06); numbers in fields stay
// numbers (the JSON report writes them as such) and the line shows them
// as Lua writes them too, but for whole numbers within ±2^53, which fields
// hold as integers (luaconv.FromLua) and lines write in full, as the JSON
// report does: h=9007199254740992, not 9.007199254741e+15.
func TestNumbersInLines(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, code, want string }{
		{"message amount", `log.info(1234567.5)`, "info 1234567.5"},
		{"message cents", `log.warn(20000000.01)`, "warn 20000000.01"},
		{"message 2^53", `log.info(2^53)`, "info 9.007199254741e+15"},
		{"message 1e15", `log.info(1e15)`, "info 1e+15"},
		{"message negative zero", `log.info(-0.0)`, "info -0"},
		{"message inf", `log.info(1/0)`, "info inf"},
		{"message -inf", `log.info(-1/0)`, "info -inf"},
		{"message nan", `log.info(0/0)`, "info nan"},
		{"fields", `log.info("v", {a = 1234567.5, b = 20000000.01, c = 2e7, d = 3.0, e = 1e100, f = 0.1, g = 1/3, h = 2^53})`,
			"info v a=1234567.5 b=20000000.01 c=20000000 d=3 e=1e+100 f=0.1 g=0.33333333333333 h=9007199254740992"},
		{"nested fields", `log.info("v", {list = {1234567.5, 1e15}})`, "info v list=[1234567.5 1000000000000000]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := luatest.New(t, luatest.Options{}, log.Module{})
			if _, err := s.Exec("t.lua", `local log = require("log") `+c.code); err != nil {
				t.Fatal(err)
			}
			if got := s.Logs.String(); got != c.want {
				t.Errorf("%s logged %q, want %q", c.code, got, c.want)
			}
		})
	}
	s := luatest.New(t, luatest.Options{}, log.Module{})
	if _, err := s.Exec("t.lua", `require("log").info("v", {a = 1234567.5, n = 2e7})`); err != nil {
		t.Fatal(err)
	}
	_, _, fields, _ := event.Line(s.Logs.Events[0])
	if fields["a"] != 1234567.5 || fields["n"] != int64(20000000) {
		t.Errorf("fields %#v: want the numbers 1234567.5 and 20000000", fields)
	}
}
