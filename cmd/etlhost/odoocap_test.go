package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/etlhost/etlhost/odoo/odoosim"
)

// TestOdooResponseCapFromConfig (issue 18, item 8): max_response_bytes of
// an [odoo.NAME] section caps one answer: a search_read bigger than it
// fails with an error naming the key, beside a script whose answers are
// small and which ends ok.
func TestOdooResponseCapFromConfig(t *testing.T) {
	t.Parallel()
	sim := odoosim.NewServer(odoosim.Options{Moves: 20, Seed: 3, Users: []odoosim.User{{ID: 2, Login: "etl", Password: "pw"}}})
	t.Cleanup(sim.Close)
	dir := t.TempDir()
	cfg := write(t, dir, "etlhost.toml", fmt.Sprintf(`[odoo.default]
url = %q
db = "demo"
user = "etl"
password = "pw"
max_response_bytes = "2KiB"
`, sim.URL))
	big := write(t, dir, "big.lua", `local erp = require("odoo").connect()
return {rows = #erp:search_read("account.move", {}, {fields = {"name", "ref", "date"}})}`)
	small := write(t, dir, "small.lua", `local erp = require("odoo").connect()
return {rows = erp:count("account.move", {})}`)
	out := run(t, nil, "run", "--config", cfg, big, small)
	if out.code != ExitFailed {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	if !strings.Contains(out.stderr, "max_response_bytes") || !strings.Contains(out.stderr, "2048 bytes") {
		t.Errorf("big: no error naming the cap:\n%s", out.stderr)
	}
	if !strings.Contains(out.stderr, "ok        small") || !strings.Contains(out.stderr, "rows=20") {
		t.Errorf("small is not ok with its 20 rows:\n%s", out.stderr)
	}
}
