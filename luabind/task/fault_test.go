package task_test

import (
	"errors"
	"net"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luatest"
	luaodoo "github.com/etlhost/etlhost/luabind/odoo"
	"github.com/etlhost/etlhost/luabind/task"
	"github.com/etlhost/etlhost/odoo"
)

// refusedOdoo is the odoo module with its connection pointed at a local
// port nobody listens on: every call raises a transient error value.
func refusedOdoo(t *testing.T) *luaodoo.Module {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	m := luaodoo.New(map[string]odoo.Config{"default": {URL: "http://" + addr, DB: "demo", User: "admin", Password: "admin", Retries: -1}}, luaodoo.Options{})
	t.Cleanup(m.Close)
	return m
}

var refused = luabind.Fault{Transient: true, Reason: "odoo: connection refused"}

// TestThreadErrorsKeepTheirFault: the error value a binding raised in a
// light thread reaches the parent as that very value, whichever way the
// parent waits, so the host still knows it as transient; one nobody waited
// for fails the script's end with it (ThreadError.Value).
func TestThreadErrorsKeepTheirFault(t *testing.T) {
	t.Parallel()
	const fetch = `local task = require("task")
local erp = require("odoo").connect()
local function fetch() return erp:search_read("res.partner", {}, {fields = {"name"}, limit = 1}) end
`
	cases := []struct{ name, code string }{
		{"task.wait", `task.wait(task.spawn(fetch))`},
		{"h:wait", `task.spawn(fetch):wait()`},
		{"task.wait of several", `task.wait(task.spawn(function() return 1 end), task.spawn(fetch))`},
		{"task.wait_all", `task.wait_all({task.spawn(function() return 1 end), task.spawn(fetch)})`},
		{"task.map", `task.map({1, 2, 3}, function() return fetch() end, {concurrency = 2})`},
		{"sem:with", `local sem = task.semaphore(1); task.wait(task.spawn(function() return sem:with(fetch) end))`},
		{"caught and raised again", `local ok, e = pcall(task.wait, task.spawn(fetch)); error(e)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := luatest.New(t, luatest.Options{}, task.Module{}, refusedOdoo(t))
			_, err := s.Exec("job.lua", fetch+tc.code)
			var ae *lua.ApiError
			if !errors.As(err, &ae) {
				t.Fatalf("want a Lua error, got %v", err)
			}
			if _, ok := ae.Object.(*lua.LTable); !ok {
				t.Fatalf("the parent got %s, not the thread's error value", ae.Object)
			}
			if f, ok := s.Env.FaultOf(ae.Object); !ok || f != refused {
				t.Fatalf("fault %+v (recorded: %v), want %+v", f, ok, refused)
			}
		})
	}

	t.Run("nobody waited", func(t *testing.T) {
		t.Parallel()
		s := luatest.New(t, luatest.Options{}, task.Module{}, refusedOdoo(t))
		if _, err := s.Exec("job.lua", fetch+"task.spawn(fetch)"); err != nil {
			t.Fatal(err)
		}
		err := s.Env.Finish()
		var te *task.ThreadError
		if !errors.As(err, &te) {
			t.Fatalf("Finish: %v, want a *task.ThreadError", err)
		}
		if f, ok := s.Env.FaultOf(te.Value); !ok || f != refused {
			t.Fatalf("fault %+v (recorded: %v), want %+v", f, ok, refused)
		}
		var ev interface{ ErrorValue() lua.LValue }
		if !errors.As(err, &ev) || ev.ErrorValue() != te.Value {
			t.Fatal("the error does not give its value through ErrorValue")
		}
		// The message shows the error through its __tostring.
		for _, want := range []string{"light thread started at job.lua:", "failed and nobody waited for it: job.lua:3: odoo: ", "connection refused"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q lacks %q", err, want)
			}
		}
	})
}
