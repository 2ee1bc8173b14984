package pg_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/luabind/pg"
	"github.com/etlhost/etlhost/luabind/task"
)

// The tests of issue 18 (items 1, 2 and 4): a script written to break the
// run, beside a well-behaved one that must end ok with its table correct.

// TestSessionStateDoesNotLeak: whatever session state a script leaves on a
// pooled connection (TEMP table, search_path, statement_timeout, prepared
// statement, LISTEN, advisory lock, cursor WITH HOLD, application_name,
// SET ROLE) is gone when the
// next script gets that connection (a pool of one: it is the same one), and
// that script's replace writes the table it names, public.rep.
func TestSessionStateDoesNotLeak(t *testing.T) {
	t.Parallel()
	m, dsn := newModule(t, 1)
	pgtest.Exec(t, dsn, `CREATE SCHEMA shadow;
		CREATE TABLE public.rep (id int, v text); INSERT INTO public.rep VALUES (1, 'old');
		CREATE TABLE shadow.rep (id int, v text); INSERT INTO shadow.rep VALUES (7, 'shadow')`)
	role := fmt.Sprintf("leak_%d", time.Now().UnixNano())
	pgtest.Exec(t, dsn, "CREATE ROLE "+role+" NOLOGIN; GRANT "+role+" TO current_user")
	t.Cleanup(func() { pgtest.Exec(t, dsn, "DROP ROLE IF EXISTS "+role) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	abuser := luatest.New(t, luatest.Options{Ctx: ctx, Script: "abuser"}, m)
	if _, err := abuser.Exec("abuser.lua", `local db = require("pg").connect()
		db:exec("CREATE TEMP TABLE rep (id int, v text)")
		db:exec("SET search_path TO shadow")
		db:exec("SET statement_timeout = '50ms'")
		db:exec("SET application_name = 'abuser'")
		db:exec("PREPARE leak AS SELECT 1")
		db:exec("LISTEN leak")
		db:query("SELECT pg_advisory_lock(42)")
		db:exec("DECLARE held CURSOR WITH HOLD FOR SELECT 1")
		db:exec("SET ROLE `+role+`")`); err != nil {
		t.Fatal(errText(abuser, err))
	}
	// The abuser is still running (its state open) when the next script
	// comes.
	good := luatest.New(t, luatest.Options{Ctx: ctx, Script: "good"}, m)
	v, err := good.Exec("good.lua", `local db = require("pg").connect()
		local r = db:replace("rep", {"id", "v"}, {{1, "new"}, {2, "new"}})
		assert(r.deleted == 1 and r.inserted == 2, "replace: deleted " .. r.deleted .. " inserted " .. r.inserted)
		db:copy("rep", {"id", "v"}, {{3, "copied"}})
		db:set_state("since", "2024-01-31")
		db:query("SELECT pg_sleep(0.2)") -- the abuser's statement_timeout would cancel it
		local s = db:query_row([[SELECT current_setting('search_path') AS path,
			current_setting('statement_timeout') AS timeout,
			current_setting('application_name') AS app,
			current_user = session_user AS own_role,
			(SELECT count(*) FROM pg_prepared_statements) AS prepared,
			(SELECT count(*) FROM pg_listening_channels()) AS listening,
			(SELECT count(*) FROM pg_cursors WHERE name = 'held') AS cursors,
			(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks,
			(SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()) AS temps]])
		return string.format("%s|%s|%s|%s|%d|%d|%d|%d|%d", s.path, s.timeout, s.app, tostring(s.own_role), s.prepared, s.listening, s.cursors, s.locks, s.temps)`)
	if err != nil {
		t.Fatalf("the well-behaved script failed: %s", errText(good, err))
	}
	if want := `"$user", public|0|etlhost|true|0|0|0|0|0`; v.String() != want {
		t.Errorf("the next script's session: %s, want %s", v, want)
	}
	if got := fmt.Sprint(pgtest.QueryRows(t, dsn, "SELECT id, v FROM public.rep ORDER BY id")); got != "[[1 new] [2 new] [3 copied]]" {
		t.Errorf("public.rep: %s, want the replaced and copied rows", got)
	}
	if got := fmt.Sprint(pgtest.QueryRows(t, dsn, "SELECT id, v FROM shadow.rep ORDER BY id")); got != "[[7 shadow]]" {
		t.Errorf("shadow.rep: %s, want it untouched", got)
	}
	if n := count(t, dsn, "SELECT count(*) FROM public.etlhost_state WHERE script = 'good'"); n != 1 {
		t.Errorf("%d watermarks in public.etlhost_state, want 1", n)
	}
}

// TestTargetIgnoresSession: copy, replace and set_state resolve an
// unqualified table in the connection's schema whatever the script's own
// session did (search_path, a TEMP table of the same name), in a db:tx as
// in an atomic run; pg_temp.name reaches the temporary table.
func TestTargetIgnoresSession(t *testing.T) {
	t.Parallel()
	for _, atomic := range []bool{false, true} {
		t.Run(fmt.Sprintf("atomic=%v", atomic), func(t *testing.T) {
			t.Parallel()
			m, dsn := newModule(t, 0)
			pgtest.Exec(t, dsn, `CREATE SCHEMA shadow;
				CREATE TABLE public.rep (id int, v text); INSERT INTO public.rep VALUES (1, 'old');
				CREATE TABLE shadow.rep (id int, v text); INSERT INTO shadow.rep VALUES (7, 'shadow')`)
			s := luatest.New(t, luatest.Options{Script: "fix"}, m)
			s.Env.Atomic = atomic
			_, err := s.Exec("fix.lua", `local db = require("pg").connect()
				db:tx(function(tx)
					tx:exec("CREATE TEMP TABLE rep (id int, v text)")
					tx:exec("SET search_path TO shadow")
					local r = tx:replace("rep", {"id", "v"}, {{1, "new"}})
					assert(r.deleted == 1, "deleted " .. r.deleted)
					tx:copy("rep", {"id", "v"}, {{2, "copied"}})
					tx:copy("pg_temp.rep", {"id", "v"}, {{9, "temp"}})
					assert(tx:query_row("SELECT count(*) AS n FROM pg_temp.rep").n == 1)
					tx:set_state("k", 1)
				end)`)
			if err != nil {
				t.Fatal(errText(s, err))
			}
			if err := s.Env.Finish(); err != nil {
				t.Fatal(err)
			}
			s.Env.Close()
			if got := fmt.Sprint(pgtest.QueryRows(t, dsn, "SELECT id, v FROM public.rep ORDER BY id")); got != "[[1 new] [2 copied]]" {
				t.Errorf("public.rep: %s", got)
			}
			if got := fmt.Sprint(pgtest.QueryRows(t, dsn, "SELECT id, v FROM shadow.rep ORDER BY id")); got != "[[7 shadow]]" {
				t.Errorf("shadow.rep: %s", got)
			}
			if n := count(t, dsn, "SELECT count(*) FROM public.etlhost_state"); n != 1 {
				t.Errorf("%d watermarks in public.etlhost_state", n)
			}
		})
	}
}

// txControl lists transaction control a script may not send, as analysts
// (or adversaries) write it, with the statement the error names.
var txControl = []struct{ sql, names string }{
	{"COMMIT", "COMMIT"},
	{"commit", "COMMIT"},
	{"/* leading */ -- a line\n\t  CoMmIt", "COMMIT"},
	{"/* a /* nested */ comment */ commit work", "COMMIT"},
	{";; commit;", "COMMIT"},
	{"END", "END"},
	{"ROLLBACK", "ROLLBACK"},
	{"rollback to savepoint a", "ROLLBACK TO"},
	{"ABORT", "ABORT"},
	{"BEGIN", "BEGIN"},
	{"start transaction read write", "START TRANSACTION"},
	{"SAVEPOINT a", "SAVEPOINT"},
	{"RELEASE SAVEPOINT a", "RELEASE"},
	{"release a", "RELEASE"},
	{"PREPARE TRANSACTION 'x'", "PREPARE TRANSACTION"},
	{"COMMIT PREPARED 'x'", "COMMIT PREPARED"},
	{"ROLLBACK PREPARED 'x'", "ROLLBACK PREPARED"},
	{"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "SET TRANSACTION"},
	{"set local transaction read only", "SET LOCAL TRANSACTION"},
	{"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "SET SESSION CHARACTERISTICS"},
	{"SET transaction_read_only = on", "SET transaction_read_only"},
	{"DISCARD ALL", "DISCARD"},
	{"discard temp", "DISCARD"},
}

// TestNoTransactionControl: no statement a script sends ends or escapes the
// transaction the host holds (issue 18's reproducer: "INSERT ...; COMMIT"
// committed a dry run). Transaction control is refused in every mode with a
// usage error naming it; several statements in one call are refused by the
// server (one statement per call, on every path: exec with and without
// parameters, query, iter, replace's where); a DO block's COMMIT is refused
// by the server inside the host's transaction. A well-behaved script runs
// beside it.
func TestNoTransactionControl(t *testing.T) {
	t.Parallel()
	var list strings.Builder
	for _, tc := range txControl {
		fmt.Fprintf(&list, "{%q, %q},\n", tc.sql, tc.names)
	}
	abuse := `local db = require("pg").connect()
		local refused = {` + list.String() + `}
		-- refused by the server: several statements (the issue's reproducer),
		-- a DO block's COMMIT (each in a nested tx, so the host's transaction
		-- goes on)
		local function server(code, fn)
			local ok, e = pcall(db.tx, db, fn)
			assert(not ok and type(e) == "table" and e.sqlstate == code, code .. ": " .. tostring(e))
			return e
		end
		local e = server("42601", function(tx) tx:exec("INSERT INTO t VALUES (2, 'x'); COMMIT") end)
		assert(e.hint:find("one statement per call", 1, true), e.hint)
		server("42601", function(tx) tx:exec("INSERT INTO t VALUES ($1, 'x'); COMMIT", 2) end)
		server("42601", function(tx) tx:exec("INSERT INTO t VALUES (2, 'x'); ROLLBACK; INSERT INTO t VALUES (3, 'x')") end)
		server("42601", function(tx) tx:query("INSERT INTO t VALUES (2, 'x') RETURNING id; COMMIT") end)
		server("42601", function(tx) tx:query_row("SELECT 1; END") end)
		server("42601", function(tx) for _ in tx:iter("SELECT 1; COMMIT") do end end)
		server("42601", function(tx) tx:replace("t", {"id", "v"}, {{4, "x"}}, {where = "false; COMMIT"}) end)
		server("2D000", function(tx) tx:exec("DO $$ BEGIN INSERT INTO t VALUES (5, 'do'); COMMIT; END $$") end)
		for _, c in ipairs(refused) do
			for _, method in ipairs({"exec", "query", "query_row", "iter"}) do
				local ok, e = pcall(db[method], db, c[1])
				assert(not ok, method .. " " .. c[1] .. ": not refused")
				assert(type(e) == "table" and e.kind == "usage", method .. " " .. c[1] .. ": " .. tostring(e))
				assert(e.message:find(c[2] .. " is transaction control", 1, true) and e.message:find("db:tx", 1, true),
					method .. " " .. c[1] .. ": " .. e.message)
			end
			local ok, e = pcall(db.tx, db, function(tx) tx:exec(c[1]) end)
			assert(not ok and e.kind == "usage", "tx:exec " .. c[1] .. ": " .. tostring(e))
		end
		-- the same words where they are not transaction control pass
		assert(db:query_row("SELECT 'COMMIT' AS c, 1 AS \"commit\"").c == "COMMIT")
		assert(db:exec("/* commit */ UPDATE t SET v = v WHERE id = 1") == 1)
		db:exec("INSERT INTO t VALUES (6, 'mine')")
		assert(db:query_row("SELECT count(*) AS n FROM t").n == 2)`

	for _, mode := range []string{"dry run", "atomic, then fails", "plain"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			m, dsn := newModule(t, 4)
			pgtest.Exec(t, dsn, "CREATE TABLE t (id int, v text); INSERT INTO t VALUES (1, 'a'); CREATE TABLE good (id int, v text)")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			bad := luatest.New(t, luatest.Options{Ctx: ctx, Script: "abuser", DryRun: mode == "dry run"}, m)
			bad.Env.Atomic = mode == "atomic, then fails"
			good := luatest.New(t, luatest.Options{Ctx: ctx, Script: "good"}, m)
			code := abuse
			if bad.Env.Atomic {
				code += "\nerror('fails after its changes')"
			}
			var wg sync.WaitGroup
			var badErr, goodErr error
			wg.Add(2)
			go func() {
				defer wg.Done()
				defer bad.Env.Close()
				_, badErr = bad.Exec("abuser.lua", code)
			}()
			go func() {
				defer wg.Done()
				defer good.Env.Close()
				_, goodErr = good.Exec("good.lua", `local db = require("pg").connect()
					for i = 1, 20 do
						db:tx(function(tx) tx:exec("INSERT INTO good VALUES ($1, 'tx')", i) end)
					end
					db:replace("good", {"id", "v"}, {{1, "replaced"}, {2, "replaced"}}, {where = "id <= 2"})`)
			}()
			wg.Wait()
			if goodErr != nil {
				t.Fatalf("the well-behaved script failed: %s", errText(good, goodErr))
			}
			switch {
			case bad.Env.Atomic:
				if badErr == nil || !strings.Contains(badErr.Error(), "fails after its changes") {
					t.Errorf("abuser: %v", errText(bad, badErr))
				}
			case badErr != nil:
				t.Errorf("abuser: %s", errText(bad, badErr))
			}
			want := "[[1 a] [6 mine]]"
			if mode != "plain" {
				want = "[[1 a]]" // rolled back: the dry run, the failed atomic run
			}
			if got := fmt.Sprint(pgtest.QueryRows(t, dsn, "SELECT id, v FROM t ORDER BY id")); got != want {
				t.Errorf("table t after the abuser: %s, want %s", got, want)
			}
			if n := count(t, dsn, "SELECT count(*) FROM good"); n != 20 {
				t.Errorf("%d rows in the good table, want 20", n)
			}
			if n := count(t, dsn, "SELECT count(*) FROM good WHERE v = 'replaced'"); n != 2 {
				t.Errorf("%d replaced rows in the good table, want 2", n)
			}
		})
	}
}

// TestConnectionQuota: a script opening ten db:iter loops gets, beyond its
// quota (2 of a pool of 4), a usage error naming the quota at once, not a
// hang; a well-behaved script beside it keeps running.
func TestConnectionQuota(t *testing.T) {
	t.Parallel()
	m, dsn := newModule(t, 4)
	pgtest.Exec(t, dsn, "CREATE TABLE good (id int, v text)")
	ready := make(chan struct{})
	goodDone := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bad := luatest.New(t, luatest.Options{Ctx: ctx, Script: "abuser"}, m)
	var readyOnce sync.Once
	bad.L.SetGlobal("ready", bad.L.NewFunction(func(*lua.LState) int { readyOnce.Do(func() { close(ready) }); return 0 }))
	bad.L.SetGlobal("hold", bad.L.NewFunction(func(*lua.LState) int {
		select {
		case <-goodDone:
		case <-time.After(15 * time.Second):
		}
		return 0
	}))
	type outcome struct {
		v       lua.LValue
		err     error
		elapsed time.Duration
	}
	badOut := make(chan outcome, 1)
	start := time.Now()
	go func() {
		defer bad.Env.Close()
		v, err := bad.Exec("abuser.lua", `local db = require("pg").connect()
			local its, err = {}, nil
			for i = 1, 10 do
				local ok, it = pcall(db.iter, db, "SELECT g FROM generate_series(1, 100000) g")
				if not ok then err = it break end
				it()
				its[#its + 1] = it
			end
			ready()
			hold()
			return string.format("%d|%s|%s", #its, err and err.kind, err and err.message)`)
		badOut <- outcome{v, err, time.Since(start)}
	}()
	select {
	case <-ready:
	case <-time.After(time.Second):
	}
	readyAt := time.Since(start)
	gctx, gcancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer gcancel()
	good := luatest.New(t, luatest.Options{Ctx: gctx, Script: "good"}, m)
	_, goodErr := good.Exec("good.lua", `local db = require("pg").connect()
		assert(db:query_row("SELECT 1 AS one").one == 1)
		db:replace("good", {"id", "v"}, {{1, "a"}, {2, "b"}})
		local n = 0
		for r in db:iter("SELECT id FROM good") do n = n + db:query_row("SELECT $1::int AS id", r.id).id end
		assert(n == 3)`)
	close(goodDone)
	good.Env.Close()
	out := <-badOut
	if goodErr != nil {
		t.Errorf("the well-behaved script failed beside the abuser: %s", errText(good, goodErr))
	}
	if got := fmt.Sprint(pgtest.QueryRows(t, dsn, "SELECT id, v FROM good ORDER BY id")); got != "[[1 a] [2 b]]" {
		t.Errorf("good table: %s", got)
	}
	if out.err != nil {
		t.Fatalf("abuser: %s", errText(bad, out.err))
	}
	parts := strings.SplitN(out.v.String(), "|", 3)
	if len(parts) != 3 || parts[0] != "2" || parts[1] != pg.KindUsage ||
		!strings.Contains(parts[2], "quota") || !strings.Contains(parts[2], `(2; by default half the pool`) {
		t.Fatalf("abuser got %s, want 2 loops then a usage error naming the quota (2)", out.v)
	}
	if readyAt > 900*time.Millisecond {
		t.Errorf("the script over quota waited %v for its error", readyAt)
	}
}

// TestConnectionQuotaLightThreads: the quota counts the connections of all
// of a script's light threads; a thread holding none waits for the others
// to give one back (none fails), a thread holding one and asking beyond
// the quota gets the error at once.
func TestConnectionQuotaLightThreads(t *testing.T) {
	t.Parallel()
	m, dsn := newModule(t, 4) // quota 2
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := luatest.New(t, luatest.Options{Ctx: ctx}, m, task.Module{})
	v, err := s.Exec("threads.lua", `local pg, task = require("pg"), require("task")
		local db = pg.connect()
		db:exec("CREATE TABLE lt (id int)")
		task.map({1, 2, 3, 4, 5, 6}, function(i)
			db:tx(function(tx)
				tx:query("SELECT pg_sleep(0.05)")
				tx:exec("INSERT INTO lt VALUES ($1)", i)
			end)
		end)
		local ok, e = pcall(db.tx, db, function(tx)
			for r in db:iter("SELECT 1 AS x") do -- a second connection: within the quota
				db:query("SELECT 1") -- a third, while this thread holds two
			end
		end)
		assert(not ok and e.kind == "usage" and e.message:find("quota", 1, true), tostring(e))
		return db:query_row("SELECT count(*) AS n FROM lt").n`)
	if err != nil {
		t.Fatal(errText(s, err))
	}
	if v != lua.LNumber(6) {
		t.Fatalf("%v rows, want 6", v)
	}
	if n := count(t, dsn, "SELECT count(*) FROM lt"); n != 6 {
		t.Fatalf("%d rows committed, want 6", n)
	}
}
