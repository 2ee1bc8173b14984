package scripts_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// unpaidMoves are the ids of the posted invoices and bills not fully paid.
func unpaidMoves(d *odoosim.Data) []int64 {
	var ids []int64
	for _, m := range d.Moves {
		if m.State == "posted" && (m.MoveType == "in_invoice" || m.MoveType == "out_invoice") &&
			(m.PaymentState == "not_paid" || m.PaymentState == "partial") {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// BenchmarkIncremental measures, in one run on one simulator (a single
// worker with latency and a per-call and per-record cost, as the
// side-by-side bench), what the three jobs cost Odoo and the wall clock
// for a full refresh, for an incremental run with nothing changed, and for
// an incremental run after 1% of the moves were paid (partly or fully),
// and reports the incremental figures as ratios of the full one's; with
// Odoo's own indexes, and with an index on write_date (which Odoo does not
// create: the searches for what changed then look at the changed records
// only, as PostgreSQL would):
//
//	go test ./scripts/ -run XXX -bench Incremental -benchtime 3x
func BenchmarkIncremental(b *testing.B) {
	for _, bc := range []struct {
		name    string
		indexes []string
	}{
		{"odoo-indexes", nil}, // Odoo's schema: no index on write_date
		{"write_date-index", []string{"account.move.write_date", "account.move.line.write_date", "res.partner.write_date"}},
	} {
		b.Run(bc.name, func(b *testing.B) { benchIncremental(b, bc.indexes) })
	}
}

func benchIncremental(b *testing.B, indexes []string) {
	const moves = 20000
	data := odoosim.Generate(moves, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	type figures struct {
		examined, read float64
		wall           time.Duration
	}
	var full, none, some figures
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// A simulator of its own: the changes of an earlier round would be
		// in this round's look-back window.
		srv := odoosim.NewServer(odoosim.Options{Data: data, Latency: 5 * time.Millisecond, Workers: 1,
			CostPerCall: 2 * time.Millisecond, CostPerExamined: 2 * time.Microsecond, CostPerRead: 100 * time.Microsecond,
			Indexes: indexes})
		sim := srv.Sim()
		unpaid := unpaidMoves(data)
		bun := &bundle{srv: srv, sim: sim, dsn: pgtest.DSN(b)}
		measure := func(o runOpts) figures {
			sim.ResetStats()
			start := time.Now()
			rep := bun.runQuiet(context.Background(), o, jobs...)
			wall := time.Since(start)
			if rep == nil || rep.Status != host.StatusOK {
				b.Fatalf("run failed: %+v", rep)
			}
			st := sim.ResetStats()
			return figures{float64(st.Examined), float64(st.Read), wall}
		}
		b.StartTimer()
		f := measure(runOpts{full: true})
		n := measure(runOpts{})
		for k := 0; k < moves/100 && len(unpaid) > 0; k++ {
			j := rng.IntN(len(unpaid))
			id := unpaid[j]
			unpaid[j], unpaid = unpaid[len(unpaid)-1], unpaid[:len(unpaid)-1] // each paid once
			if err := sim.Pay(id, float64(1+rng.IntN(500))); err != nil {
				b.Fatal(err)
			}
		}
		s := measure(runOpts{})
		srv.Close()
		full.examined += f.examined
		full.read += f.read
		full.wall += f.wall
		none.examined += n.examined
		none.read += n.read
		none.wall += n.wall
		some.examined += s.examined
		some.read += s.read
		some.wall += s.wall
	}
	b.ReportMetric(none.examined/full.examined, "examined-nochange/full")
	b.ReportMetric(none.read/full.read, "read-nochange/full")
	b.ReportMetric(float64(none.wall)/float64(full.wall), "wall-nochange/full")
	b.ReportMetric(some.examined/full.examined, "examined-1pct/full")
	b.ReportMetric(some.read/full.read, "read-1pct/full")
	b.ReportMetric(float64(some.wall)/float64(full.wall), "wall-1pct/full")
	b.ReportMetric(full.examined/float64(b.N), "examined-full/op")
}
