package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// TestNewThenCheckAndRun writes a script from the template, checks it,
// and runs it against the simulator and a real PostgreSQL: the template is
// a working job, not only one that compiles.
func TestNewThenCheckAndRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := run(t, nil, "new", "--dir", dir, "--description", "Invoices for the test", "factures_test_new")
	if out.code != ExitOK {
		t.Fatalf("new: exit %d\n%s", out.code, out.stderr)
	}
	path := filepath.Join(dir, "factures_test_new.lua")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--! description = Invoices for the test", "--! timeout = 15m", `local TABLE = "factures_test_new"`} {
		if !strings.Contains(string(src), want) {
			t.Errorf("the script lacks %q", want)
		}
	}
	if out := run(t, nil, "check", path); out.code != ExitOK {
		t.Fatalf("check: exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}

	sim := odoosim.NewServer(odoosim.Options{Moves: 120, Seed: 3})
	t.Cleanup(sim.Close)
	env := map[string]string{
		"ETLHOST_PG_DSN": pgtest.DSN(t), "ETLHOST_ODOO_URL": sim.URL, "ETLHOST_ODOO_DB": "demo",
		"ETLHOST_ODOO_USER": "admin", "ETLHOST_ODOO_PASSWORD": "admin",
	}
	for i := 0; i < 2; i++ { // twice: the second run replaces the rows
		out = run(t, env, "run", "--json", path)
		var rep struct {
			Scripts []struct {
				Status, Error string
				Result        map[string]any
			}
		}
		if err := json.Unmarshal([]byte(out.stdout), &rep); err != nil || out.code != ExitOK {
			t.Fatalf("run %d: exit %d (%v)\n%s", i, out.code, err, out.stderr)
		}
		if rows, _ := rep.Scripts[0].Result["rows"].(float64); rows < 1 {
			t.Fatalf("run %d: result %v", i, rep.Scripts[0].Result)
		}
	}
}

func TestNewRefusesAndValidates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	existing := write(t, dir, "mine.lua", "return 'analyst work'")
	cases := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"existing file", []string{"new", existing}, ExitFailed, "already exists"},
		{"existing name", []string{"new", "--dir", dir, "mine"}, ExitFailed, "already exists"},
		{"upper case", []string{"new", "--dir", dir, "Ventes"}, ExitUsage, "not a good script name"},
		{"dash", []string{"new", "--dir", dir, "ventes-locales"}, ExitUsage, "not a good script name"},
		{"no name", []string{"new"}, ExitUsage, "give one NAME"},
		{"not lua", []string{"new", filepath.Join(dir, "x.txt")}, ExitUsage, "ends in .lua"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := run(t, nil, tc.args...)
			if out.code != tc.code || !strings.Contains(out.stderr, tc.err) {
				t.Fatalf("exit %d (want %d), stderr:\n%s", out.code, tc.code, out.stderr)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "return 'analyst work'" {
		t.Fatalf("an existing script was overwritten: %s", b)
	}
	// A path with folders that do not exist yet.
	p := filepath.Join(dir, "etl", "deep", "sales_daily.lua")
	if out := run(t, nil, "new", "--table", "report_sales", p); out.code != ExitOK {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	if b, _ := os.ReadFile(p); !strings.Contains(string(b), `local TABLE = "report_sales"`) {
		t.Fatalf("--table not used:\n%s", b)
	}
}
