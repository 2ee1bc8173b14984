package odoo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/etlhost/etlhost/luabind/luatest"
	luaodoo "github.com/etlhost/etlhost/luabind/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// TestAnswersCountAgainstTheMemoryLimit (issue 18, item 3): an Odoo answer
// is charged to the script's memory as it is read: one too big for the
// script's limit stops the script while it is read, and a read that fits
// gives its charge back once its rows are Lua values.
func TestAnswersCountAgainstTheMemoryLimit(t *testing.T) {
	t.Parallel()
	cfg, _ := simConfig(t, odoosim.Options{Moves: 3000, Seed: 5})
	cfg.MaxResponseBytes = 1 << 30
	m := newModule(t, cfg, luaodoo.Options{})
	run := func(limit int64, code string) (*luatest.Memory, error) {
		parent, cancelT := context.WithTimeout(context.Background(), time.Minute)
		defer cancelT()
		mem, ctx, cancel := luatest.NewMemory(parent, limit)
		defer cancel(nil)
		s := luatest.New(t, luatest.Options{Ctx: ctx}, m)
		_, err := s.Exec("big.lua", code)
		s.Env.Close()
		if errors.Is(context.Cause(ctx), luatest.ErrOverLimit) && err == nil {
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
	if p := mem.Peak(); p > 4<<20 {
		t.Errorf("charged up to %d bytes past a 1 MiB limit before stopping", p)
	}
	if k := mem.Kept(); k != 0 {
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
	if mem.Peak() == 0 {
		t.Error("the answers were not charged")
	}
	if k := mem.Kept(); k != 0 {
		t.Errorf("%d bytes still charged after the read", k)
	}
}
