package log_test

import (
	"testing"

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
