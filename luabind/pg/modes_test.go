package pg_test

import (
	"fmt"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/luabind/task"
)

// TestAtomic: with Env.Atomic all the script's work is one transaction,
// committed when the script finishes without error, rolled back otherwise.
func TestAtomic(t *testing.T) {
	t.Parallel()
	const fix = `local pg = require("pg")
		local db = pg.connect()
		db:exec("UPDATE a SET v = 'fixed' WHERE id <= $1", 2)
		db:copy("a", {"id", "v"}, {{4, "new"}})
		db:tx(function(tx) tx:exec("DELETE FROM a WHERE id = 3") end)
		db:set_state("fixed", true)
		assert(pg.connect():query_row("SELECT count(*) AS n FROM a WHERE v = 'fixed'").n == 2)
	`
	setup := func(t *testing.T) (*luatest.State, string) {
		m, dsn := newModule(t, 0)
		pgtest.Exec(t, dsn, "CREATE TABLE a (id int, v text); INSERT INTO a VALUES (1, 'a'), (2, 'b'), (3, 'c')")
		s := luatest.New(t, luatest.Options{Script: "fix"}, m)
		s.Env.Atomic = true
		return s, dsn
	}
	const before = "[[1 a] [2 b] [3 c]]"
	table := func(t *testing.T, dsn string) string {
		return fmt.Sprint(pgtest.QueryRows(t, dsn, "SELECT id, v FROM a ORDER BY id"))
	}

	t.Run("commits when the script finishes", func(t *testing.T) {
		t.Parallel()
		s, dsn := setup(t)
		if _, err := s.Exec("fix.lua", fix); err != nil {
			t.Fatal(errText(s, err))
		}
		if got := table(t, dsn); got != before {
			t.Fatalf("changes visible before the script finished: %s", got)
		}
		if err := s.Env.Finish(); err != nil {
			t.Fatal(err)
		}
		s.Env.Close()
		if got := table(t, dsn); got != "[[1 fixed] [2 fixed] [4 new]]" {
			t.Fatalf("after commit: %s", got)
		}
		if n := count(t, dsn, "SELECT count(*) FROM etlhost_state WHERE script = 'fix'"); n != 1 {
			t.Fatalf("%d watermarks", n)
		}
		logs := s.Logs.String()
		for _, want := range []string{"plan: exec UPDATE a SET v = 'fixed' WHERE id <= $1 connection=default rows=2", "plan: committed"} {
			if !strings.Contains(logs, want) {
				t.Errorf("logs lack %q:\n%s", want, logs)
			}
		}
	})
	t.Run("commits nothing when the script fails half way", func(t *testing.T) {
		t.Parallel()
		s, dsn := setup(t)
		if _, err := s.Exec("fix.lua", fix+"\nerror('something else went wrong')"); err == nil {
			t.Fatal("the script did not fail")
		}
		s.Env.Close()
		if got := table(t, dsn); got != before {
			t.Fatalf("a failed script committed: %s", got)
		}
		if !strings.Contains(s.Logs.String(), "plan: rolled back: the script did not finish, nothing was changed") {
			t.Errorf("logs:\n%s", s.Logs.String())
		}
	})
	t.Run("a failed commit fails the script", func(t *testing.T) {
		t.Parallel()
		s, dsn := setup(t)
		pgtest.Exec(t, dsn, "ALTER TABLE a ADD CONSTRAINT a_id UNIQUE (id) DEFERRABLE INITIALLY DEFERRED")
		if _, err := s.Exec("fix.lua", fix+"\ndb:exec('INSERT INTO a VALUES (1, $1)', 'dup')"); err != nil {
			t.Fatal(errText(s, err))
		}
		err := s.Env.Finish()
		if err == nil || !strings.Contains(err.Error(), "nothing was changed") || !strings.Contains(err.Error(), "a_id") {
			t.Fatalf("Finish: %v", err)
		}
		s.Env.Close()
		if got := table(t, dsn); got != before {
			t.Fatalf("after a failed commit: %s", got)
		}
	})
}

// TestLightThreads: several light threads of one script share its
// connections safely: the pool, a transaction passed to them, the dry-run
// transaction.
func TestLightThreads(t *testing.T) {
	t.Parallel()
	for _, dry := range []bool{false, true} {
		t.Run(fmt.Sprintf("dry=%v", dry), func(t *testing.T) {
			t.Parallel()
			m, dsn := newModule(t, 2)
			pgtest.Exec(t, dsn, "CREATE TABLE th (id int, who text)")
			s := luatest.New(t, luatest.Options{DryRun: dry}, m, task.Module{})
			s.L.SetGlobal("DRY", lua.LBool(dry))
			v, err := s.Exec("threads.lua", `local pg, task = require("pg"), require("task")
				local db = pg.connect()
				-- more threads than connections, each with its own statements and transactions
				task.map({1, 2, 3, 4, 5, 6}, function(i)
					db:exec("INSERT INTO th VALUES ($1, 'map')", i)
					db:tx(function(tx)
						tx:query("SELECT pg_sleep(0.02)")
						tx:exec("INSERT INTO th VALUES ($1, 'tx')", i)
					end)
					for row in db:iter("SELECT id FROM th WHERE id = $1", i) do end
					return db:query_row("SELECT count(*) AS n FROM th").n
				end)
				-- transactions of several threads, one failing: only its work is undone
				-- (in a dry run they are savepoints of one transaction, taken in turn)
				local hs = {}
				for i = 11, 16 do
					hs[#hs + 1] = task.spawn(function()
						return pcall(db.tx, db, function(tx)
							tx:exec("INSERT INTO th VALUES ($1, 'tx2')", i)
							tx:query("SELECT pg_sleep(0.01)")
							if i == 13 then error("undo 13") end
							tx:tx(function(sp) sp:exec("UPDATE th SET who = 'nested' WHERE id = $1", i) end)
						end)
					end)
				end
				task.wait_all(hs)
				assert(db:query_row("SELECT count(*) AS n FROM th WHERE who = 'nested'").n == 5)
				assert(db:query_row("SELECT count(*) AS n FROM th WHERE id = 13").n == 0)
				if not DRY then
					-- one top-level transaction used by several threads
					db:tx(function(tx)
						task.map({7, 8, 9, 10}, function(i)
							tx:exec("INSERT INTO th VALUES ($1, 'shared')", i)
							tx:copy("th", {"id", "who"}, {{i, "copied"}})
							return tx:query_row("SELECT count(*) AS n FROM th").n
						end)
					end)
				else
					for i = 7, 10 do db:copy("th", {"id", "who"}, {{i, "shared"}, {i, "copied"}}) end
				end
				-- a copy whose rows function uses the copy's own transaction is refused
				local ok, e = pcall(db.tx, db, function(tx)
					local n = 0
					tx:copy("th", {"id"}, function()
						n = n + 1
						if n < 3 then return {tx:query_row("SELECT 1 AS one").one} end
					end)
				end)
				assert(not ok and tostring(e):find("busy", 1, true), tostring(e))
				return db:query_row("SELECT count(*) AS n FROM th").n`)
			if err != nil {
				t.Fatal(errText(s, err))
			}
			if v.String() != "25" {
				t.Fatalf("the script saw %v rows, want 25", v)
			}
			if err := s.Env.Finish(); err != nil {
				t.Fatal(err)
			}
			s.Env.Close()
			want := int64(25)
			if dry {
				want = 0
			}
			if n := count(t, dsn, "SELECT count(*) FROM th"); n != want {
				t.Fatalf("%d rows in the table after the script, want %d", n, want)
			}
		})
	}
}
