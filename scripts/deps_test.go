package scripts_test

// Dependencies and retries of the jobs, on the real PostgreSQL and the
// simulator: jobs that read the tables of the jobs they run after, and a
// job that meets an Odoo restart.

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// writeJob writes a job of the test into dir.
func writeJob(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name+".lua")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// copyJob copies a shipped job into dir, so that the jobs of a test sit
// in one folder (the names `after` gives are the file names).
func copyJob(t *testing.T, dir, job string) string {
	t.Helper()
	src, err := os.ReadFile(job)
	if err != nil {
		t.Fatal(err)
	}
	return writeJob(t, dir, strings.TrimSuffix(job, ".lua"), string(src))
}

// aging reads the table ventes_locales_upsert loads, and fails if it is
// not there or empty: it only works after that job.
const aging = `--! after = ventes_locales_upsert
local pg = require("pg")
local db = pg.connect()
local n = db:query_row("SELECT count(*) AS n FROM ventes_locales").n
if n == 0 then error("ventes_locales is empty") end
db:exec("CREATE TABLE aging AS SELECT partner, sum(amount_residual) AS due FROM ventes_locales GROUP BY partner")
return {rows = n}
`

// totals reads aging's table: it only works after aging.
const totals = `--! after = aging
local db = require("pg").connect()
return {rows = db:query_row("SELECT count(*) AS n FROM aging").n}
`

func TestDependentJobsOnRealData(t *testing.T) {
	t.Parallel()
	t.Run("a chain runs in order", func(t *testing.T) {
		t.Parallel()
		b := setup(t, odoosim.Options{Moves: 1500, Seed: 5})
		dir := t.TempDir()
		paths := []string{writeJob(t, dir, "totals", totals), writeJob(t, dir, "aging", aging), copyJob(t, dir, "ventes_locales_upsert.lua")}
		rep := b.run(context.Background(), runOpts{}, paths...)
		by := map[string]*host.Result{}
		for _, r := range rep.Scripts {
			by[r.Name] = r
			if r.Status != host.StatusOK {
				t.Fatalf("%s: %s %s", r.Name, r.Status, r.Error)
			}
		}
		loaded := pgtest.QueryRows(t, b.dsn, "SELECT count(*) FROM ventes_locales")[0][0]
		if by["aging"].Value.(map[string]any)["rows"] != loaded {
			t.Errorf("aging saw %v rows of ventes_locales, want %v", by["aging"].Value, loaded)
		}
		if rep.Scripts[0].Name != "ventes_locales_upsert" || rep.Scripts[2].Name != "totals" {
			t.Errorf("completion order %s, %s, %s", rep.Scripts[0].Name, rep.Scripts[1].Name, rep.Scripts[2].Name)
		}
	})
	t.Run("a failed middle job skips the last, not an independent one", func(t *testing.T) {
		t.Parallel()
		b := setup(t, odoosim.Options{Moves: 1500, Seed: 6})
		dir := t.TempDir()
		broken := strings.Replace(aging, "sum(amount_residual)", "sum(no_such_column)", 1)
		paths := []string{writeJob(t, dir, "totals", totals), writeJob(t, dir, "aging", broken),
			copyJob(t, dir, "ventes_locales_upsert.lua"), copyJob(t, dir, "achat_importation_upsert.lua")}
		rep := b.run(context.Background(), runOpts{}, paths...)
		want := map[string]host.Status{"ventes_locales_upsert": host.StatusOK, "achat_importation_upsert": host.StatusOK,
			"aging": host.StatusFailed, "totals": host.StatusSkipped}
		for _, r := range rep.Scripts {
			if r.Status != want[r.Name] {
				t.Errorf("%s: %s %s, want %s", r.Name, r.Status, r.Error, want[r.Name])
			}
			if r.Name == "totals" && r.Error != "skipped: aging failed" {
				t.Errorf("totals: %q", r.Error)
			}
		}
		if rep.Status != host.StatusFailed {
			t.Errorf("run %s", rep.Status)
		}
		// A bad statement is not transient: aging ran once even with retries.
		rep = b.run(context.Background(), runOpts{jobRetries: 3, backoff: func(int) time.Duration { return 0 }}, paths...)
		for _, r := range rep.Scripts {
			if r.Name == "aging" && (r.Status != host.StatusFailed || len(r.Attempts) != 1) {
				t.Errorf("aging with retries: %s after %d attempts", r.Status, len(r.Attempts))
			}
		}
	})
}

// restartingProxy forwards TCP connections to target from an address that
// refuses every connection for down first: an Odoo restarting.
func restartingProxy(t *testing.T, target string, down time.Duration) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // connection refused from now on
	var (
		mu     sync.Mutex
		closed bool
		ln     net.Listener
	)
	up := make(chan struct{})
	time.AfterFunc(down, func() {
		defer close(up)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("proxy: listen again on %s: %v", addr, err)
			return
		}
		mu.Lock()
		ln, closed = l, false
		mu.Unlock()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					s, err := net.Dial("tcp", target)
					if err != nil {
						return
					}
					defer s.Close()
					go func() { _, _ = io.Copy(s, c); s.(*net.TCPConn).CloseWrite() }()
					_, _ = io.Copy(c, s)
				}()
			}
		}()
	})
	t.Cleanup(func() {
		<-up
		mu.Lock()
		defer mu.Unlock()
		if ln != nil && !closed {
			ln.Close()
			closed = true
		}
	})
	return "http://" + addr
}

// TestRetryAfterOdooRestart: Odoo refuses connections for 2 s when the
// job starts; with one retry after 2.5 s the job succeeds on its second
// attempt and its table is complete. Without retries it fails.
func TestRetryAfterOdooRestart(t *testing.T) {
	t.Parallel()
	for _, retries := range []int{1, 0} {
		b := setup(t, odoosim.Options{Moves: 1500, Seed: 8})
		ex := expectedTables(b.sim.Snapshot())
		url := restartingProxy(t, strings.TrimPrefix(b.srv.URL, "http://"), 2*time.Second)
		start := time.Now()
		rep := b.run(context.Background(), runOpts{retries: -1, jobRetries: retries, odooURL: url,
			backoff: func(int) time.Duration { return 2500 * time.Millisecond }}, "achat_importation_upsert.lua")
		r := rep.Scripts[0]
		if retries == 0 {
			if r.Status != host.StatusFailed || !strings.Contains(r.Error, "connection refused") {
				t.Errorf("without retries: %s %q, want failed on the refused connection", r.Status, r.Error)
			}
			continue
		}
		if r.Status != host.StatusOK || len(r.Attempts) != 2 {
			t.Fatalf("%s after %d attempts: %s", r.Status, len(r.Attempts), r.Error)
		}
		first := r.Attempts[0]
		if first.Status != host.StatusFailed || !first.Transient || !strings.Contains(first.Reason+first.Error, "refused") {
			t.Errorf("first attempt %+v", first)
		}
		if time.Since(start) < 2500*time.Millisecond {
			t.Errorf("the second attempt came before the backoff")
		}
		name := "achat_importation"
		if d := diffTables(name, columnsOf[name], ex.tables[name], readTable(t, b.dsn, name, false)); d != "" {
			t.Errorf("after the retry:\n%s", d)
		}
	}
}
