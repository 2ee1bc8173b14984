package etl_test

import (
	"context"
	"math"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind/etl"
	"github.com/etlhost/etlhost/luabind/luatest"
)

func TestLuaSpecs(t *testing.T) {
	t.Parallel()
	luatest.RunFiles(t, "testdata/test_*.lua", func(t *testing.T) *luatest.State {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		t.Cleanup(cancel)
		return luatest.New(t, luatest.Options{Ctx: ctx, Script: "spec", Args: map[string]string{"since": "2024-01-01"}}, etl.Module{})
	})
}

func TestDeadlineWithoutTimeoutIsHuge(t *testing.T) {
	t.Parallel()
	s := luatest.New(t, luatest.Options{}, etl.Module{})
	v, err := s.Exec("t.lua", `return require("etl").deadline()`)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(float64(v.(lua.LNumber)), 1) {
		t.Fatalf("deadline() = %v, want +Inf", v)
	}
}

func TestDeadlineCountsDown(t *testing.T) {
	t.Parallel()
	start := time.Now()
	now := start
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(90*time.Second))
	defer cancel()
	s := luatest.New(t, luatest.Options{Ctx: ctx}, etl.Module{Now: func() time.Time { return now }})
	now = start.Add(30 * time.Second)
	v, err := s.Exec("t.lua", `return require("etl").deadline()`)
	if err != nil {
		t.Fatal(err)
	}
	if v.(lua.LNumber) != 60 {
		t.Fatalf("deadline() = %v, want 60", v)
	}
}

// TestNoDryRunFlag: a script cannot tell a dry run from the run that
// commits (issue 18: with etl.dry_run a script could do nothing while its
// plan was shown and everything once confirmed).
func TestNoDryRunFlag(t *testing.T) {
	t.Parallel()
	for _, dry := range []bool{false, true} {
		s := luatest.New(t, luatest.Options{DryRun: dry}, etl.Module{})
		v, err := s.Exec("t.lua", `local etl = require("etl")
			local keys = {}
			for k in pairs(etl) do keys[#keys + 1] = k end
			table.sort(keys)
			return tostring(etl.dry_run) .. " " .. table.concat(keys, ",")`)
		if err != nil {
			t.Fatal(err)
		}
		if want := "nil arg,args,deadline,name"; v.String() != want {
			t.Fatalf("dry run %v: etl has %q, want %q (the same in both)", dry, v, want)
		}
	}
}
