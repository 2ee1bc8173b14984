package scripts_test

// Incremental loads (lib/incremental.lua): which load a run does and why,
// and two runs of a job never interleaving.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// loads runs job and returns its result's load and why.
func (b *bundle) loads(t *testing.T, o runOpts, job string) (load, why string, res *host.Result) {
	t.Helper()
	rep := b.run(context.Background(), o, job)
	res = rep.Scripts[0]
	if res.Status != host.StatusOK {
		t.Fatalf("%s: %s %s", res.Name, res.Status, res.Error)
	}
	m := res.Value.(map[string]any)
	load, _ = m["load"].(string)
	why, _ = m["why"].(string)
	return load, why, res
}

func TestWhichLoad(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 800, Seed: 21})
	const job = "ventes_locales_upsert.lua"
	every3 := runOpts{args: map[string]string{"full_every_runs": "3"}}
	for i, want := range []struct{ load, why string }{
		{"full", "the first run"},
		{"incremental", "0 records changed since the watermarks (look-back 900s)"},
		{"incremental", "0 records changed"},
		{"full", "3 runs since the last full refresh (full_every_runs)"},
		{"incremental", "0 records changed"},
	} {
		load, why, _ := b.loads(t, every3, job)
		if load != want.load || !strings.HasPrefix(why, want.why) {
			t.Errorf("run %d: %s (%s), want %s (%s)", i+1, load, why, want.load, want.why)
		}
	}
	if load, why, _ := b.loads(t, runOpts{full: true}, job); load != "full" || !strings.Contains(why, "full_refresh") {
		t.Errorf("--full-refresh: %s (%s)", load, why)
	}
	// A table whose columns are not the job's any more.
	pgtest.Exec(t, b.dsn, "ALTER TABLE ventes_locales ADD COLUMN note text")
	if load, why, _ := b.loads(t, runOpts{}, job); load != "full" || why != "the table's columns are not the ones of its last load" {
		t.Errorf("after ALTER TABLE: %s (%s)", load, why)
	}
	if load, _, _ := b.loads(t, runOpts{}, job); load != "incremental" {
		t.Errorf("after the full load of the altered table: %s", load)
	}
	// A company's country changed through its partner: the company's own
	// write_date does not move, the reference data does.
	d := b.sim.Snapshot()
	if err := b.sim.SetPartnerCountry(d.Companies[0].PartnerID, d.Countries[len(d.Countries)-1].ID); err != nil {
		t.Fatal(err)
	}
	if load, why, _ := b.loads(t, runOpts{}, job); load != "full" || why != "the reference data changed (companies' names or countries)" {
		t.Errorf("after a company's partner changed country: %s (%s)", load, why)
	}
	checkTable(t, b, "ventes_locales")
	for _, bad := range []map[string]string{{"lookback": "-1"}, {"full_every_runs": "0"}, {"if_running": "maybe"}} {
		rep := b.run(context.Background(), runOpts{args: bad}, job)
		if r := rep.Scripts[0]; r.Status != host.StatusFailed || !strings.Contains(r.Error, "--arg ") {
			t.Errorf("%v: %s %q, want failed naming the argument", bad, r.Status, r.Error)
		}
	}
}

// TestSecondRunOfAJobWaits: while another run of the job holds its
// advisory lock, a run waits (and fails at its timeout, leaving everything
// as it was), or with if_running=skip is skipped; once the lock is free it
// runs.
func TestSecondRunOfAJobWaits(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 800, Seed: 22})
	const job = "ventes_locales_upsert.lua"
	b.loads(t, runOpts{}, job)
	before := readTable(t, b.dsn, "ventes_locales", true)
	state := pgtest.QueryRows(t, b.dsn, "SELECT value::text FROM etlhost_state")
	ctx := context.Background()
	holder, err := pgx.Connect(ctx, b.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock(hashtext('etlhost incremental ventes_locales_upsert'))"); err != nil {
		t.Fatal(err)
	}
	if load, why, _ := b.loads(t, runOpts{full: true, args: map[string]string{"if_running": "skip"}}, job); load != "skipped" || !strings.Contains(why, "holds its lock") {
		t.Errorf("if_running=skip: %s (%s)", load, why)
	}
	rep := b.run(ctx, runOpts{full: true, timeout: 2 * time.Second}, job)
	if r := rep.Scripts[0]; r.Status != host.StatusTimeout || !logged(r, "waiting for another run of the job to end") {
		t.Errorf("waiting: %s %q", r.Status, r.Error)
	}
	if after := readTable(t, b.dsn, "ventes_locales", true); fmt.Sprint(after) != fmt.Sprint(before) ||
		fmtRows(pgtest.QueryRows(t, b.dsn, "SELECT value::text FROM etlhost_state")) != fmtRows(state) {
		t.Error("a run that never got the lock changed the table or the watermarks")
	}
	// Released while a run waits: that run goes on.
	done := make(chan *host.Report)
	go func() { done <- b.runQuiet(ctx, runOpts{full: true, timeout: time.Minute}, job) }()
	time.Sleep(500 * time.Millisecond)
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock(hashtext('etlhost incremental ventes_locales_upsert'))"); err != nil {
		t.Fatal(err)
	}
	if rep := <-done; rep == nil || rep.Scripts[0].Status != host.StatusOK {
		t.Fatalf("after the lock was released: %+v", rep)
	}
}

func logged(r *host.Result, msg string) bool {
	for _, l := range r.Logs {
		if l.Msg == msg {
			return true
		}
	}
	return false
}

func fmtRows(rows [][]any) string { return fmt.Sprint(rows) }

// checkTable compares one table with what a full refresh produces from the
// simulator's data now.
func checkTable(t *testing.T, b *bundle, name string) {
	t.Helper()
	ex := expectedTables(b.sim.Snapshot())
	if d := diffTables(name, columnsOf[name], ex.tables[name], readTable(t, b.dsn, name, false)); d != "" {
		t.Errorf("%s:\n%s", name, d)
	}
}
