package odoo_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luatest"
	luaodoo "github.com/etlhost/etlhost/luabind/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
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
	for p := m.peak.Load(); k > p && !m.peak.CompareAndSwap(p, k); p = m.peak.Load() {
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

// TestAnswersCountAgainstTheMemoryLimit (issue 18, item 3): an Odoo answer
// is charged to the script's memory as it is read: one too big for the
// script's limit stops the script while it is read, and a read that fits
// gives its charge back once its rows are Lua values.
func TestAnswersCountAgainstTheMemoryLimit(t *testing.T) {
	t.Parallel()
	cfg, _ := simConfig(t, odoosim.Options{Moves: 3000, Seed: 5})
	cfg.MaxResponseBytes = 1 << 30
	m := newModule(t, cfg, luaodoo.Options{})
	run := func(limit int64, code string) (*limitedMemory, error) {
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		ctx, cancelT := context.WithTimeout(ctx, time.Minute)
		defer cancelT()
		mem := &limitedMemory{stop: cancel}
		mem.limit.Store(limit)
		s := luatest.New(t, luatest.Options{Ctx: luabind.WithMemory(ctx, mem)}, m)
		_, err := s.Exec("big.lua", code)
		s.Env.Close()
		if errors.Is(context.Cause(ctx), errOverLimit) && err == nil {
			t.Fatal("stopped, yet the script ended without error")
		}
		return mem, err
	}
	// Every field of every move line, in one answer: some megabytes.
	big := `local erp = require("odoo").connect()
return #erp:search_read("account.move.line", {}, {limit = 1000000, order = "id"})`
	mem, err := run(1<<20, big)
	if err == nil {
		t.Fatal("an answer far over the limit was read whole")
	}
	if p := mem.peak.Load(); p > 4<<20 {
		t.Errorf("charged up to %d bytes past a 1 MiB limit before stopping", p)
	}
	if k := mem.kept.Load(); k != 0 {
		t.Errorf("%d bytes still charged after the script", k)
	}
	// Paged reads fit: each page is charged while read, then given back.
	mem, err = run(1<<30, `local erp = require("odoo").connect()
local n = 0
for _ in erp:iter("account.move", {}, {fields = {"name", "amount_total"}, batch = 200}) do n = n + 1 end
return n`)
	if err != nil {
		t.Fatal(err)
	}
	if mem.peak.Load() == 0 {
		t.Error("the answers were not charged")
	}
	if k := mem.kept.Load(); k != 0 {
		t.Errorf("%d bytes still charged after the read", k)
	}
}
