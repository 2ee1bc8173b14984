package pg_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/luabind/pg"
)

// luaErr returns the pg error value raised by a chunk, as fields.
func luaErrFields(t *testing.T, err error) map[string]string {
	t.Helper()
	var ae *lua.ApiError
	if !errors.As(err, &ae) {
		t.Fatalf("want a Lua error, got %v", err)
	}
	tab, ok := ae.Object.(*lua.LTable)
	if !ok {
		t.Fatalf("want a pg error value (a table), got %s", ae.Object)
	}
	out := map[string]string{}
	tab.ForEach(func(k, v lua.LValue) { out[k.String()] = v.String() })
	return out
}

// errText renders an error of a chunk as the host would (pg error values
// through their __tostring).
func errText(s *luatest.State, err error) string {
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		return s.L.ToStringMeta(ae.Object).String()
	}
	return fmt.Sprint(err)
}

func count(t *testing.T, dsn, sql string) int64 {
	t.Helper()
	return pgtest.QueryRows(t, dsn, sql)[0][0].(int64)
}

// waitFor polls cond for up to 10s (a bound, not a timing assertion).
func waitFor(cond func() bool) bool {
	for i := 0; i < 200; i++ {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// TestCancelAtDeadline: a running query stops at the script's deadline,
// server-side too; its transaction is rolled back; the pool still works.
func TestCancelAtDeadline(t *testing.T) {
	t.Parallel()
	m, dsn := newModule(t, 2)
	pgtest.Exec(t, dsn, "CREATE TABLE t (x int)")
	cases := []struct{ name, code string }{
		{"query", `db:query("SELECT pg_sleep(600)")`},
		{"exec", `db:exec("SELECT pg_sleep(600)")`},
		{"in tx", `db:tx(function(tx) tx:exec("INSERT INTO t VALUES (1)"); tx:query("SELECT pg_sleep(600)") end)`},
		{"in savepoint", `db:tx(function(tx) tx:exec("INSERT INTO t VALUES (2)"); tx:tx(function(sp) sp:exec("SELECT pg_sleep(600)") end) end)`},
		{"iter", `for r in db:iter("SELECT pg_sleep(600)") do end`},
		{"copy", `db:copy("t", {"x"}, function() local r = db:query_row("SELECT 1 AS one, pg_sleep(600)") return {r.one} end)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cause := errors.New("the script's time is up")
			ctx, cancel := context.WithTimeoutCause(context.Background(), time.Second, cause)
			defer cancel()
			s := luatest.New(t, luatest.Options{Ctx: ctx}, m)
			_, err := s.Exec("slow.lua", "local db = require('pg').connect()\n"+tc.code)
			if err == nil {
				t.Fatal("a 600s query returned without error")
			}
			f := luaErrFields(t, err)
			if f["kind"] != pg.KindStopped || !strings.Contains(f["message"], "the script's time is up") || f["where"] != "slow.lua:2" {
				t.Fatalf("error fields %v, want kind stopped, the cause, where slow.lua:2", f)
			}
			s.Env.Close()
			// The server stopped the query (not just the client).
			if !waitFor(func() bool {
				return count(t, dsn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()") == 0
			}) {
				t.Fatal("pg_sleep(600) still running on the server after the deadline")
			}
			if n := count(t, dsn, "SELECT count(*) FROM t"); n != 0 {
				t.Fatalf("%d rows of the cancelled transaction committed", n)
			}
			// The pool still serves (pool size 2: more calls than connections).
			s2 := luatest.New(t, luatest.Options{}, m)
			v, err := s2.Exec("after.lua", `local db = require('pg').connect()
				local n = 0
				for i = 1, 3 do n = n + db:query_row("SELECT 1 AS one").one end
				return n`)
			if err != nil || v != lua.LNumber(3) {
				t.Fatalf("pool after cancellation: %v %v", v, err)
			}
		})
	}
}

// TestPoolExhaustion: more scripts than connections, each holding a
// transaction; all finish, none deadlocks.
func TestPoolExhaustion(t *testing.T) {
	t.Parallel()
	m, dsn := newModule(t, 1)
	pgtest.Exec(t, dsn, "CREATE TABLE t (id int)")
	const n = 5
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	states := make([]*luatest.State, n)
	for i := range states {
		states[i] = luatest.New(t, luatest.Options{Ctx: ctx, Script: fmt.Sprintf("s%d", i)}, m)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, s := range states {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.Env.Close()
			_, errs[i] = s.Exec("hold.lua", fmt.Sprintf(`local db = require("pg").connect()
				db:tx(function(tx)
					tx:exec("INSERT INTO t VALUES ($1)", %d)
					tx:query("SELECT pg_sleep(0.05)")
					tx:set_state("done", true)
				end)
				for row in db:iter("SELECT id FROM t") do end
				return db:get_state("done")`, i))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("script %d: %v", i, err)
		}
	}
	if got := count(t, dsn, "SELECT count(*) FROM t"); got != n {
		t.Fatalf("%d rows, want %d", got, n)
	}
	if got := count(t, dsn, "SELECT count(*) FROM etlhost_state"); got != n {
		t.Fatalf("%d watermarks, want %d", got, n)
	}
}

// TestPoolWaitUnderDeadline: a script waiting for a connection stops at its
// own deadline; a script that needs a second connection while holding the
// only one fails at its deadline rather than hanging.
func TestPoolWaitUnderDeadline(t *testing.T) {
	t.Parallel()
	m, _ := newModule(t, 1)
	holder := luatest.New(t, luatest.Options{Script: "holder"}, m)
	started := make(chan struct{})
	holder.L.SetGlobal("started", holder.L.NewFunction(func(*lua.LState) int { close(started); return 0 }))
	done := make(chan error, 1)
	go func() {
		_, err := holder.Exec("holder.lua", `local db = require("pg").connect()
			db:tx(function(tx) started(); tx:query("SELECT pg_sleep(2)") end)`)
		holder.Env.Close()
		done <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	waiter := luatest.New(t, luatest.Options{Ctx: ctx, Script: "waiter"}, m)
	_, err := waiter.Exec("waiter.lua", "local db = require('pg').connect()\ndb:query('SELECT 1')")
	if f := luaErrFields(t, err); f["kind"] != pg.KindStopped {
		t.Fatalf("waiting script: %v, want kind stopped", f)
	}
	if err := <-done; err != nil {
		t.Fatalf("holding script: %v", err)
	}

	// A thread that holds a connection and asks for another beyond its
	// quota (here the whole pool: 1) would wait for itself: it gets a usage
	// error naming the quota at once.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel2()
	self := luatest.New(t, luatest.Options{Ctx: ctx2, Script: "self"}, m)
	start := time.Now()
	_, err = self.Exec("self.lua", `local db = require("pg").connect()
		db:tx(function(tx) db:query("SELECT 1") end)`)
	if f := luaErrFields(t, err); f["kind"] != pg.KindUsage || !strings.Contains(f["message"], "quota") {
		t.Fatalf("self-blocking script: %v, want kind usage naming the quota", f)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the self-blocking script waited %v for its own connection", d)
	}
	self.Env.Close()
	// The connection is back: the pool serves again.
	s := luatest.New(t, luatest.Options{}, m)
	if _, err := s.Exec("ok.lua", "require('pg').connect():query('SELECT 1')"); err != nil {
		t.Fatal(err)
	}
}

// TestReplaceReadersNeverSeeEmpty: a reader polling during a slow replace
// sees the old rows or the new ones, never none and never a mix.
func TestReplaceReadersNeverSeeEmpty(t *testing.T) {
	t.Parallel()
	m, dsn := newModule(t, 0)
	pgtest.Exec(t, dsn, "CREATE TABLE r (id int, v text); INSERT INTO r SELECT g, 'old' FROM generate_series(1, 1000) g")
	s := luatest.New(t, luatest.Options{}, m)
	var replacing atomic.Bool
	s.L.SetGlobal("pause", s.L.NewFunction(func(*lua.LState) int {
		replacing.Store(true)
		time.Sleep(5 * time.Millisecond)
		return 0
	}))

	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	stop := make(chan struct{})
	type seen struct{ total, fresh int64 }
	var observed []seen
	var during int
	readerDone := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				readerDone <- nil
				return
			default:
			}
			var o seen
			if err := conn.QueryRow(context.Background(), "SELECT count(*), count(*) FILTER (WHERE v = 'new') FROM r").Scan(&o.total, &o.fresh); err != nil {
				readerDone <- err
				return
			}
			observed = append(observed, o)
			if replacing.Load() {
				during++
			}
		}
	}()
	v, err := s.Exec("replace.lua", `local db = require("pg").connect()
		local i = 0
		local res = db:replace("r", {"id", "v"}, function()
			i = i + 1
			if i % 50 == 0 then pause() end
			if i <= 1500 then return {i, "new"} end
		end)
		return res.deleted * 10000 + res.inserted`)
	replacing.Store(false)
	close(stop)
	if rerr := <-readerDone; rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if v != lua.LNumber(1000*10000+1500) {
		t.Fatalf("replace returned %v", v)
	}
	for _, o := range observed {
		if !(o == seen{1000, 0} || o == seen{1500, 1500}) {
			t.Fatalf("a reader saw %d rows (%d new): neither the old table nor the new one", o.total, o.fresh)
		}
	}
	if during < 5 {
		t.Fatalf("only %d reads happened during the replace: the test proves nothing", during)
	}
	t.Logf("%d reads during the replace, %d in all", during, len(observed))
	if got := count(t, dsn, "SELECT count(*) FROM r WHERE v = 'new'"); got != 1500 {
		t.Fatalf("after the replace %d new rows, want 1500", got)
	}
}

// TestSecretsNeverInErrors: connection failures do not show the password
// or the DSN, wherever the failure happens.
func TestSecretsNeverInErrors(t *testing.T) {
	t.Parallel()
	const secret = "S3cretPassw0rd"
	good := pgtest.DSN(t)
	cases := []struct{ name, dsn string }{
		{"wrong password", wrongPasswordDSN(t, good, secret)},
		{"no such socket", "host=/nonexistent-etlhost port=5432 user=etl password=" + secret + " dbname=x connect_timeout=2"},
		{"refused URL", "postgres://etl:" + secret + "@127.0.0.1:1/x?connect_timeout=2"},
		{"unparsable URL", "postgres://etl:" + secret + "@[::1/x"},
		{"bad keyword", "host=/tmp password=" + secret + " nosuchkey=1"},
		{"server refuses the role", good + " user=no_such_role password=" + secret},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := pg.New([]pg.Conn{{Name: "default", DSN: tc.dsn}})
			defer m.Close()
			s := luatest.New(t, luatest.Options{}, m)
			_, err := s.Exec("connect.lua", `local db = require("pg").connect()
				assert(not tostring(db):find("`+secret+`"))
				db:query("SELECT 1")`)
			if err == nil {
				t.Fatal("query on a broken connection succeeded")
			}
			f := luaErrFields(t, err)
			text := s.L.ToStringMeta(err.(*lua.ApiError).Object).String()
			all := fmt.Sprint(f) + text + s.Logs.String()
			if f["kind"] != pg.KindConnect {
				t.Errorf("kind %q, want connect", f["kind"])
			}
			if tc.name == "wrong password" && f["sqlstate"] != "28P01" {
				t.Errorf("sqlstate %q, want 28P01 (invalid password)", f["sqlstate"])
			}
			if strings.Contains(all, secret) || strings.Contains(all, tc.dsn) {
				t.Fatalf("the error shows a secret: %s", all)
			}
			if !strings.HasPrefix(text, "connect.lua:3: pg: ") {
				t.Fatalf("error text %q lacks the script position", text)
			}
			t.Logf("%s", text)
		})
	}
}

// wrongPasswordDSN makes the server ask a new role for its password
// (scram-sha-256 in pg_hba.conf, for that role only) and returns a DSN
// giving it the wrong one.
func wrongPasswordDSN(t *testing.T, dsn, wrong string) string {
	t.Helper()
	role := fmt.Sprintf("pw_%d", time.Now().UnixNano())
	pgtest.Exec(t, dsn, "CREATE ROLE "+role+" LOGIN PASSWORD 'TheR1ghtOne'")
	t.Cleanup(func() { pgtest.Exec(t, dsn, "DROP ROLE IF EXISTS "+role) })
	hba := pgtest.QueryRows(t, dsn, "SELECT current_setting('hba_file')")[0][0].(string)
	old, err := os.ReadFile(hba)
	if err != nil {
		t.Fatalf("the test needs to edit the server's pg_hba.conf (%v); run it against the throwaway cluster", err)
	}
	line := fmt.Sprintf("local all %s scram-sha-256\nhost all %s 0.0.0.0/0 scram-sha-256\n", role, role)
	if err := os.WriteFile(hba, append([]byte(line), old...), 0o600); err != nil {
		t.Fatalf("edit pg_hba.conf: %v", err)
	}
	pgtest.Exec(t, dsn, "SELECT pg_reload_conf()")
	t.Cleanup(func() {
		cur, err := os.ReadFile(hba)
		if err == nil {
			os.WriteFile(hba, []byte(strings.Replace(string(cur), line, "", 1)), 0o600)
			pgtest.Exec(t, dsn, "SELECT pg_reload_conf()")
		}
	})
	// The reload is asynchronous: wait until the role is asked for a password.
	bad := dsn + " user=" + role + " password=" + wrong
	if !waitFor(func() bool {
		c, err := pgx.Connect(context.Background(), bad)
		if err == nil {
			c.Close(context.Background())
			return false
		}
		return strings.Contains(err.Error(), "password authentication failed")
	}) {
		t.Fatal("the server did not start asking for the password")
	}
	return bad
}

// TestDryRun: the script's changes are visible to it, reported as plan
// lines with rows affected, and rolled back at its end.
func TestDryRun(t *testing.T) {
	t.Parallel()
	m, dsn := newModule(t, 0)
	pgtest.Exec(t, dsn, "CREATE TABLE d (id int, v text); INSERT INTO d VALUES (1, 'a'), (2, 'b'), (3, 'c')")
	s := luatest.New(t, luatest.Options{DryRun: true, Script: "fix"}, m)
	v, err := s.Exec("fix.lua", `local pg = require("pg")
		local db = pg.connect()
		local n = db:exec("UPDATE d SET v = 'x' WHERE id <= $1", 2)
		assert(db:query_row("SELECT count(*) AS n FROM d WHERE v = 'x'").n == 2, "own changes visible")
		db:copy("d", {"id", "v"}, {{4, "d"}})
		db:replace("d", {"id", "v"}, {{9, "z"}}, {where = "id = 1"})
		db:tx(function(tx) tx:exec("DELETE FROM d WHERE id = 3") end)
		db:set_state("since", "2024-01-31")
		assert(db:get_state("since") == "2024-01-31")
		-- another connect() of the same script shares the dry-run transaction
		-- (3 rows + 1 copied, 1 replaced, 1 deleted)
		assert(pg.connect():query_row("SELECT count(*) AS n FROM d").n == 3)
		local seen = 0
		for _ in db:iter("SELECT * FROM d") do seen = seen + 1 end
		assert(seen == 3)
		return n`)
	if err != nil {
		t.Fatal(err)
	}
	if v != lua.LNumber(2) {
		t.Fatalf("exec returned %v, want 2", v)
	}
	s.Env.Close()
	got := pgtest.QueryRows(t, dsn, "SELECT id, v FROM d ORDER BY id")
	if fmt.Sprint(got) != "[[1 a] [2 b] [3 c]]" {
		t.Fatalf("dry run changed the table: %v", got)
	}
	if n := count(t, dsn, "SELECT count(*) FROM pg_class WHERE relname = 'etlhost_state'"); n != 0 {
		t.Fatal("dry run left the etlhost_state table")
	}
	logs := s.Logs.String()
	for _, want := range []string{
		"info plan: exec UPDATE d SET v = 'x' WHERE id <= $1 connection=default rows=2",
		"info plan: copy into d connection=default rows=1",
		"info plan: replace d connection=default deleted=1 rows=1",
		"info plan: exec DELETE FROM d WHERE id = 3 connection=default rows=1",
		"info plan: set_state since connection=default rows=1",
		"info plan: dry run rolled back: nothing was changed",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, dsn) {
		t.Fatal("logs show the DSN")
	}
}

// TestStateTableCreatedConcurrently: scripts creating etlhost_state at the
// same moment all succeed.
func TestStateTableCreatedConcurrently(t *testing.T) {
	t.Parallel()
	for round := 0; round < 3; round++ {
		m, dsn := newModule(t, 0)
		const n = 6
		states := make([]*luatest.State, n)
		for i := range states {
			states[i] = luatest.New(t, luatest.Options{Script: fmt.Sprintf("s%d", i)}, m)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n)
		for i, s := range states {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = s.Exec("state.lua", fmt.Sprintf(`local db = require("pg").connect()
					if %d %% 2 == 0 then db:set_state("k", %d) else db:tx(function(tx) tx:set_state("k", %d) end) end`, i, i, i))
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d script %d: %v", round, i, errText(states[i], err))
			}
		}
		if got := count(t, dsn, "SELECT count(*) FROM etlhost_state"); got != n {
			t.Fatalf("%d watermarks, want %d", got, n)
		}
	}
}

// TestScriptEndReleasesConnections: a loop left early and a script ending
// return their connections (pool of one).
func TestScriptEndReleasesConnections(t *testing.T) {
	t.Parallel()
	m, dsn := newModule(t, 1)
	s := luatest.New(t, luatest.Options{}, m)
	if _, err := s.Exec("early.lua", `local db = require("pg").connect()
		for row in db:iter("SELECT g FROM generate_series(1, 10000) g") do
			if row.g == 2 then break end
		end`); err != nil {
		t.Fatal(err)
	}
	if n := count(t, dsn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'"); n != 1 {
		t.Fatalf("%d connections idle in transaction while the script runs, want 1 (the cursor's)", n)
	}
	s.Env.Close()
	if n := count(t, dsn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'"); n != 0 {
		t.Fatalf("%d connections left idle in transaction after the script ended", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s2 := luatest.New(t, luatest.Options{Ctx: ctx}, m)
	if _, err := s2.Exec("next.lua", "require('pg').connect():query('SELECT 1')"); err != nil {
		t.Fatalf("the next script could not get the connection back: %v", err)
	}
	// After the end, the script's objects refuse to work.
	_, err := s.Exec("late.lua", "require('pg').connect():query('SELECT 1')")
	if f := luaErrFields(t, err); f["kind"] != pg.KindUsage {
		t.Fatalf("use after the script's end: %v", f)
	}
}

func TestNoConnectionsConfigured(t *testing.T) {
	t.Parallel()
	m := pg.New(nil)
	defer m.Close()
	s := luatest.New(t, luatest.Options{}, m)
	_, err := s.Exec("none.lua", "require('pg').connect()")
	if err == nil || !strings.Contains(err.Error(), "none are configured") || !strings.Contains(err.Error(), "none.lua:1:") {
		t.Fatalf("got %v", err)
	}
}

func TestNamedConnections(t *testing.T) {
	t.Parallel()
	a, b := pgtest.DSN(t), pgtest.DSN(t)
	m := pg.New([]pg.Conn{{Name: "default", DSN: a}, {Name: "warehouse", DSN: b}})
	defer m.Close()
	pgtest.Exec(t, b, "CREATE TABLE only_in_warehouse (x int)")
	s := luatest.New(t, luatest.Options{}, m)
	v, err := s.Exec("two.lua", `local pg = require("pg")
		local w = pg.connect("warehouse")
		assert(tostring(w) == "pg.db(warehouse)")
		w:exec("INSERT INTO only_in_warehouse VALUES (1)")
		local ok = pcall(pg.connect().exec, pg.connect(), "INSERT INTO only_in_warehouse VALUES (1)")
		assert(not ok, "the default connection is another database")
		return table.concat(pg.connections(), ",")`)
	if err != nil {
		t.Fatal(err)
	}
	if v.String() != "default,warehouse" {
		t.Fatalf("connections %v", v)
	}
	if n := count(t, b, "SELECT count(*) FROM only_in_warehouse"); n != 1 {
		t.Fatalf("%d rows in warehouse", n)
	}
}

// TestCopyStoresExactValues checks on the server side what copy stored.
func TestCopyStoresExactValues(t *testing.T) {
	t.Parallel()
	m, dsn := newModule(t, 0)
	pgtest.Exec(t, dsn, "CREATE TABLE c (n numeric(16,2), d date, ts timestamp, tz timestamptz, i8 bigint, f4 real, s smallint, u uuid, a date[], iv interval)")
	s := luatest.New(t, luatest.Options{}, m)
	if _, err := s.Exec("copy.lua", `require("pg").connect():copy("c", {"n", "d", "ts", "tz", "i8", "f4", "s", "u", "a", "iv"}, {
		{12.34, "2024-01-31", "2024-01-31 10:11:12.123456", "2024-01-31T10:11:12+02:00", 9007199254740992, 1.5, -3,
		 "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", {"2024-01-01", "2024-12-31"}, "1 day 02:00:00"},
		{"0.10", "1999-12-31", "1900-01-01 00:00:00", "2100-06-30 23:59:59.5Z", "-42", "2.25", "7", nil, {}, nil},
	})`); err != nil {
		t.Fatal(errText(s, err))
	}
	got := pgtest.QueryRows(t, dsn, "SELECT n::text, d::text, ts::text, tz AT TIME ZONE 'UTC', i8::text, f4::text, s::text, u::text, a::text, iv::text FROM c ORDER BY d DESC")
	want := "[[12.34 2024-01-31 2024-01-31 10:11:12.123456 2024-01-31 08:11:12 +0000 UTC 9007199254740992 1.5 -3 a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 {2024-01-01,2024-12-31} 1 day 02:00:00] " +
		"[0.10 1999-12-31 1900-01-01 00:00:00 2100-06-30 23:59:59.5 +0000 UTC -42 2.25 7 <nil> {} <nil>]]"
	if fmt.Sprint(got) != want {
		t.Fatalf("stored\n%v\nwant\n%v", got, want)
	}
}
