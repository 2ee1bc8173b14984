package odoo

import (
	"fmt"
	"testing"
	"time"

	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// BenchmarkPagedConcurrency reads 5000 moves in pages of 250 over a
// simulator with 20 ms of latency per call, one page after another and four
// at a time, in the same run.
func BenchmarkPagedConcurrency(b *testing.B) {
	srv := odoosim.NewServer(odoosim.Options{Moves: 5000, Seed: 1, Latency: 20 * time.Millisecond})
	defer srv.Close()
	cfg := odoo.Config{URL: srv.URL, DB: "demo", User: "admin", Password: "admin", MaxInFlight: 8}
	times := map[int]time.Duration{}
	for b.Loop() {
		for _, conc := range []int{1, 4} {
			m := New(map[string]odoo.Config{"default": cfg}, Options{})
			s := luatest.New(b, luatest.Options{}, m)
			code := fmt.Sprintf(`local rows = require("odoo").connect():search_read("account.move", {}, {fields = {"name", "amount_total"}, batch = 250, concurrency = %d}) return #rows`, conc)
			start := time.Now()
			v, err := s.Exec("bench.lua", code)
			if err != nil {
				b.Fatal(err)
			}
			times[conc] += time.Since(start)
			if v.String() != "5000" {
				b.Fatalf("got %s rows", v)
			}
			m.Close()
		}
	}
	b.ReportMetric(float64(times[1].Milliseconds())/float64(b.N), "sequential-ms")
	b.ReportMetric(float64(times[4].Milliseconds())/float64(b.N), "concurrent4-ms")
	b.ReportMetric(float64(times[1])/float64(times[4]), "speedup")
}
