package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestSpecs runs every executable specification in spec/ through the real
// CLI, against a real PostgreSQL and the Odoo simulator: each must end ok.
func TestSpecs(t *testing.T) {
	t.Parallel()
	specs, err := filepath.Glob("../../spec/*_spec.lua")
	if err != nil || len(specs) == 0 {
		t.Fatalf("no specs found: %v", err)
	}
	sim := odoosim.NewServer(odoosim.Options{Moves: 300, Seed: 7})
	t.Cleanup(sim.Close)
	for _, spec := range specs {
		spec := spec
		t.Run(filepath.Base(spec), func(t *testing.T) {
			t.Parallel()
			env := map[string]string{
				"ETLHOST_PG_DSN":        pgtest.DSN(t),
				"ETLHOST_ODOO_URL":      sim.URL,
				"ETLHOST_ODOO_DB":       "demo",
				"ETLHOST_ODOO_USER":     "admin",
				"ETLHOST_ODOO_PASSWORD": "admin",
			}
			out := run(t, env, "run", "--json", spec)
			var rep struct {
				Scripts []struct{ Status, Error string }
			}
			if err := json.Unmarshal([]byte(out.stdout), &rep); err != nil || len(rep.Scripts) != 1 {
				t.Fatalf("exit %d, no report (%v)\n%s", out.code, err, out.stderr)
			}
			if out.code != ExitOK {
				t.Fatalf("%s: %s\n%s", rep.Scripts[0].Status, rep.Scripts[0].Error, out.stderr)
			}
		})
	}
}
