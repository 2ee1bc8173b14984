package pg_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/luabind/luatest"
)

// TestQueryStopsAtTheMemoryLimit (issue 18, item 3): a query whose result
// is far larger than the script's limit is counted as its rows are read
// and stops at the limit, instead of being read whole (2.5 GB of rows took
// the host down).
func TestQueryStopsAtTheMemoryLimit(t *testing.T) {
	t.Parallel()
	m, _ := newModule(t, 2)
	parent, cancelT := context.WithTimeout(context.Background(), time.Minute)
	defer cancelT()
	mem, ctx, cancel := luatest.NewMemory(parent, 32<<20)
	defer cancel(nil)
	s := luatest.New(t, luatest.Options{Ctx: ctx}, m)
	start := time.Now()
	v, err := s.Exec("big.lua", `local db = require("pg").connect()
local ok, err = pcall(db.query, db, "SELECT repeat('x', 1000) AS pad FROM generate_series(1, 1000000)")
if ok then return "read " .. #err .. " rows" end
return tostring(err)`)
	// Past the limit the account stops the script, as the host's does:
	// the query fails, and the script's next instruction.
	if !errors.Is(context.Cause(ctx), luatest.ErrOverLimit) {
		t.Fatalf("the script was not stopped at its limit: %v %v", v, err)
	}
	if err == nil || !strings.Contains(err.Error(), "context canceled") && !strings.Contains(err.Error(), "memory limit") {
		t.Fatalf("want the script stopped, got %v %v", v, err)
	}
	if p := mem.Peak(); p > 40<<20 {
		t.Errorf("charged up to %d bytes before stopping", p)
	}
	if k := mem.Kept(); k != 0 {
		t.Errorf("%d bytes still charged after the query", k)
	}
	t.Logf("stopped after %v", time.Since(start))
}
