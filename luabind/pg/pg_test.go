package pg_test

import (
	"testing"

	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/luabind/pg"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newModule returns a pg module whose "default" connection is a fresh
// database, closed when the test ends.
func newModule(t testing.TB, maxConns int32) (*pg.Module, string) {
	t.Helper()
	dsn := pgtest.DSN(t)
	m := pg.New([]pg.Conn{{Name: "default", DSN: dsn, MaxConns: maxConns}})
	t.Cleanup(m.Close)
	return m, dsn
}

// newModuleDSN returns a pg module whose "default" connection is dsn.
func newModuleDSN(t testing.TB, dsn string) (*pg.Module, string) {
	m := pg.New([]pg.Conn{{Name: "default", DSN: dsn}})
	t.Cleanup(m.Close)
	return m, dsn
}

func TestLuaSpecs(t *testing.T) {
	t.Parallel()
	luatest.RunFiles(t, "testdata/test_*.lua", func(t *testing.T) *luatest.State {
		t.Parallel()
		m, _ := newModule(t, 0)
		return luatest.New(t, luatest.Options{Script: "lua_test"}, m)
	})
}

// TestRowsAreCounted: rows read and loaded are reported to the host's row
// counter.
func TestRowsAreCounted(t *testing.T) {
	t.Parallel()
	m, _ := newModule(t, 2)
	s := luatest.New(t, luatest.Options{}, m)
	_, err := s.Exec("count.lua", `local db = require("pg").connect()
db:exec("CREATE TABLE c (id int)")
db:copy("c", {"id"}, {{1}, {2}, {3}})
db:replace("c", {"id"}, {{4}, {5}})
local rows = db:query("SELECT id FROM c")
for r in db:iter("SELECT generate_series(1, 7) AS n") do end`)
	if err != nil {
		t.Fatal(err)
	}
	if s.Logs.Loaded != 5 || s.Logs.Fetched != 9 {
		t.Fatalf("loaded %d fetched %d, want 5 and 9", s.Logs.Loaded, s.Logs.Fetched)
	}
}
