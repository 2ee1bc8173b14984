package pg_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/luabind/task"
)

// TestAtomicWaitsForThreads: the atomic transaction commits after the
// script's light threads have finished (Env.OnSettle), even when pg was
// opened and used before the task module: a thread's late statement is in
// the commit, not refused after it.
func TestAtomicWaitsForThreads(t *testing.T) {
	t.Parallel()
	m, dsn := newModule(t, 0)
	pgtest.Exec(t, dsn, "CREATE TABLE w (id int)")
	s := luatest.New(t, luatest.Options{Script: "fix"}, m, task.Module{})
	s.Env.Atomic = true
	_, err := s.Exec("fix.lua", `local pg = require("pg")
		local db = pg.connect()
		db:exec("INSERT INTO w VALUES (1)")
		local task = require("task")
		task.spawn(function()
			task.sleep(0.05)
			db:exec("INSERT INTO w VALUES (2)")
		end)`)
	if err != nil {
		t.Fatal(errText(s, err))
	}
	if err := s.Env.Finish(); err != nil {
		t.Fatalf("Finish: %v\n%s", err, s.Logs)
	}
	s.Env.Close()
	if got := fmt.Sprint(pgtest.QueryRows(t, dsn, "SELECT id FROM w ORDER BY id")); got != "[[1] [2]]" {
		t.Fatalf("committed %s, want both rows\n%s", got, s.Logs)
	}
}

// TestAtomicSettlesPerInput: a REPL session settles after each input; an
// input's work commits, or rolls back, on its own, and the next input
// begins a new transaction.
func TestAtomicSettlesPerInput(t *testing.T) {
	t.Parallel()
	m, dsn := newModule(t, 0)
	pgtest.Exec(t, dsn, "CREATE TABLE r (id int)")
	s := luatest.New(t, luatest.Options{Script: "repl"}, m)
	s.Env.Atomic = true
	inputs := []struct {
		code string
		ok   bool
	}{
		{`db = require("pg").connect(); db:exec("INSERT INTO r VALUES (1)")`, true},
		{`db:exec("INSERT INTO r VALUES (2)"); error("changed my mind")`, false},
		{`db:exec("INSERT INTO r VALUES (3)")`, true},
	}
	for _, in := range inputs {
		_, err := s.Exec("repl", in.code)
		if (err == nil) != in.ok {
			t.Fatalf("%s: %v", in.code, err)
		}
		if err := s.Env.Settle(in.ok); err != nil {
			t.Fatalf("settle: %v", err)
		}
	}
	if got := fmt.Sprint(pgtest.QueryRows(t, dsn, "SELECT id FROM r ORDER BY id")); got != "[[1] [3]]" {
		t.Fatalf("table %s, want [[1] [3]]\n%s", got, s.Logs)
	}
	logs := s.Logs.String()
	if strings.Count(logs, "plan: committed") != 2 || strings.Count(logs, "plan: rolled back") != 1 {
		t.Fatalf("logs:\n%s", logs)
	}
}
