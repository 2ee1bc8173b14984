package scripts_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// TestIncrementalEqualsFullRefresh is the property of incremental loads:
// for several seeds, random changes of every kind Odoo makes (payments in
// part or in full, posting, cancelling, resetting to draft, deleting a
// draft, new invoices and bills, changed installments, a partner's or a
// company's country, an archived partner) applied between runs; after
// every incremental run each table equals, row for row and column for
// column (all but etl_loaded_at), what a full refresh produces from the
// same data.
func TestIncrementalEqualsFullRefresh(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			b := setup(t, odoosim.Options{Moves: 1200, Seed: seed})
			rng := rand.New(rand.NewPCG(uint64(seed), 99))
			// full_every_runs high: every later run is incremental.
			o := runOpts{args: map[string]string{"full_every_runs": "1000"}}
			first := mustSucceed(t, b.run(context.Background(), o, jobs...))
			for _, n := range tableNames {
				if first[n].Value.(map[string]any)["load"] != "full" {
					t.Fatalf("%s: the first run was not a full load", n)
				}
			}
			incremental := 0
			for round := 1; round <= 6; round++ {
				changes := b.sim.RandomChanges(rng, 1+rng.IntN(40))
				res := mustSucceed(t, b.run(context.Background(), o, jobs...))
				for _, n := range tableNames {
					// A company's name or country changed: a full load, on purpose.
					switch m := res[n].Value.(map[string]any); {
					case m["load"] == "incremental":
						incremental++
					case m["load"] == "full" && strings.HasPrefix(m["why"].(string), "the reference data changed"):
					default:
						t.Fatalf("round %d: %s: %v, want an incremental load", round, n, m)
					}
				}
				ex := expectedTables(b.sim.Snapshot())
				for _, n := range tableNames {
					got := readTable(t, b.dsn, n, false)
					if d := diffTables(n, columnsOf[n], ex.tables[n], got); d != "" {
						t.Fatalf("round %d, after %d changes %v:\n%s", round, len(changes), changes, d)
					}
				}
			}
			if incremental < 9 {
				t.Errorf("only %d of 18 loads were incremental: the property hardly tested them", incremental)
			}
		})
	}
}

// TestIncrementalFaults: a run that fails or is killed while it applies
// its changes leaves that job's rows and watermarks as they were, and the
// next run catches up.
func TestIncrementalFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 1200, Seed: 31})
	rng := rand.New(rand.NewPCG(31, 1))
	mustSucceed(t, b.run(context.Background(), runOpts{}, jobs...))
	stateOf := func(script string) string {
		return fmt.Sprint(pgtest.QueryRows(t, b.dsn, "SELECT value::text FROM etlhost_state WHERE script = $1", script))
	}
	for round, fault := range []string{"timeout", "backend terminated"} {
		b.sim.RandomChanges(rng, 60)
		before := readAll(t, b.dsn, true)
		states := map[string]string{}
		for _, j := range jobs {
			states[strings.TrimSuffix(j, ".lua")] = stateOf(strings.TrimSuffix(j, ".lua"))
		}
		// Every row inserted waits 2 s: an apply that inserts is caught in
		// the act.
		slowCopies(t, b.dsn, 2*time.Second)
		var rep *host.Report
		switch fault {
		case "timeout":
			rep = b.run(context.Background(), runOpts{timeout: 1500 * time.Millisecond}, jobs...)
		case "backend terminated":
			w := watchCopies(t, b.dsn, true)
			rep = b.run(context.Background(), runOpts{timeout: time.Minute}, jobs...)
			w.close()
		}
		fastCopies(t, b.dsn)
		hit := 0
		after := readAll(t, b.dsn, true)
		for _, r := range rep.Scripts {
			if r.Status == host.StatusOK {
				continue // nothing to insert: its deletions committed, as they should
			}
			hit++
			n := tableOf[r.Name]
			if fmt.Sprint(after[n]) != fmt.Sprint(before[n]) {
				t.Errorf("round %d (%s): %s failed (%s) but its table changed", round, fault, r.Name, r.Status)
			}
			if got := stateOf(r.Name); got != states[r.Name] {
				t.Errorf("round %d (%s): %s failed but its watermarks moved: %s then %s", round, fault, r.Name, states[r.Name], got)
			}
		}
		if hit == 0 {
			t.Fatalf("round %d (%s): no job was hit: the test tests nothing", round, fault)
		}
		mustSucceed(t, b.run(context.Background(), runOpts{}, jobs...))
		checkTables(t, b.dsn, expectedTables(b.sim.Snapshot()))
	}
}

// fastCopies undoes slowCopies.
func fastCopies(t *testing.T, dsn string) {
	t.Helper()
	for _, n := range tableNames {
		pgtest.Exec(t, dsn, "DROP TRIGGER slow_rows ON "+n)
	}
	pgtest.Exec(t, dsn, "DROP FUNCTION etl_test_slow_row()")
}

// TestLookBack: a change stamped before the watermark but committed (so
// visible) only after the run that set it is picked up by the next run.
func TestLookBack(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 1200, Seed: 41})
	mustSucceed(t, b.run(context.Background(), runOpts{}, jobs...))
	unpaid := unpaidMoves(b.sim.Snapshot())
	tx := b.sim.Begin() // a long Odoo transaction: its write_date is now
	for _, id := range unpaid[:10] {
		if err := tx.Pay(id, 1e9); err != nil { // paid in full: the documents leave the tables
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond) // the run's watermark is later than the transaction's stamp
	mustSucceed(t, b.run(context.Background(), runOpts{}, jobs...))
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	res := mustSucceed(t, b.run(context.Background(), runOpts{}, jobs...))
	checkTables(t, b.dsn, expectedTables(b.sim.Snapshot()))
	changed := int64(0)
	for _, n := range tableNames {
		changed += res[n].Value.(map[string]any)["changed"].(int64)
	}
	if changed == 0 {
		t.Error("the run after the commit read nothing again")
	}
	// Without the window the change would be missed: the same with lookback=0.
	b2 := setup(t, odoosim.Options{Moves: 1200, Seed: 41})
	o := runOpts{args: map[string]string{"lookback": "0"}}
	mustSucceed(t, b2.run(context.Background(), o, jobs...))
	tx = b2.sim.Begin()
	for _, id := range unpaid[:10] {
		tx.Pay(id, 1e9)
	}
	time.Sleep(1100 * time.Millisecond)
	mustSucceed(t, b2.run(context.Background(), o, jobs...))
	tx.Commit()
	mustSucceed(t, b2.run(context.Background(), o, jobs...))
	ex := expectedTables(b2.sim.Snapshot())
	missed := false
	for _, n := range tableNames {
		if diffTables(n, columnsOf[n], ex.tables[n], readTable(t, b2.dsn, n, false)) != "" {
			missed = true
		}
	}
	if !missed {
		t.Error("with lookback=0 the late commit was still read: the test does not test the window")
	}
}
