package pg_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luatest"
)

// limitedMemory is a script's memory account with a limit, as the host
// gives one: past the limit it stops the script (cancels its context).
type limitedMemory struct {
	limit, kept, peak atomic.Int64
	stop              context.CancelCauseFunc
}

var errOverLimit = errors.New("memory limit: over the test's limit")

func (m *limitedMemory) Build(*lua.LState, int64) error { return nil }
func (m *limitedMemory) Keep(n int64) error {
	k := m.kept.Add(n)
	if k > m.peak.Load() {
		m.peak.Store(k)
	}
	if k > m.limit.Load() {
		m.stop(errOverLimit)
		return errOverLimit
	}
	return nil
}
func (m *limitedMemory) Release(n int64)                    { m.kept.Add(-n) }
func (m *limitedMemory) KeepLine(int64) error               { return nil }
func (m *limitedMemory) Thread(*lua.LState) (forget func()) { return func() {} }

// TestQueryStopsAtTheMemoryLimit (issue 18, item 3): a query whose result
// is far larger than the script's limit is counted as its rows are read
// and stops at the limit, instead of being read whole (2.5 GB of rows took
// the host down).
func TestQueryStopsAtTheMemoryLimit(t *testing.T) {
	t.Parallel()
	m, _ := newModule(t, 2)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	ctx, cancelT := context.WithTimeout(ctx, time.Minute)
	defer cancelT()
	mem := &limitedMemory{stop: cancel}
	mem.limit.Store(32 << 20)
	s := luatest.New(t, luatest.Options{Ctx: luabind.WithMemory(ctx, mem)}, m)
	start := time.Now()
	v, err := s.Exec("big.lua", `local db = require("pg").connect()
local ok, err = pcall(db.query, db, "SELECT repeat('x', 1000) AS pad FROM generate_series(1, 1000000)")
if ok then return "read " .. #err .. " rows" end
return tostring(err)`)
	// Past the limit the account stops the script, as the host's does:
	// the query fails, and the script's next instruction.
	if !errors.Is(context.Cause(ctx), errOverLimit) {
		t.Fatalf("the script was not stopped at its limit: %v %v", v, err)
	}
	if err == nil || !strings.Contains(err.Error(), "context canceled") && !strings.Contains(err.Error(), "memory limit") {
		t.Fatalf("want the script stopped, got %v %v", v, err)
	}
	if p := mem.peak.Load(); p > 40<<20 {
		t.Errorf("charged up to %d bytes before stopping", p)
	}
	if k := mem.kept.Load(); k != 0 {
		t.Errorf("%d bytes still charged after the query", k)
	}
	t.Logf("stopped after %v", time.Since(start))
}
