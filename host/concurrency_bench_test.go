package host_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/log"
	odoomod "github.com/etlhost/etlhost/luabind/odoo"
	"github.com/etlhost/etlhost/luabind/task"
	"github.com/etlhost/etlhost/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// BenchmarkTenOdooCalls: ten Odoo calls of 100 ms each from one script, one
// after another and spawned as light threads, against one call, in the same
// run. Goal: spawned within 1.5x of a single call.
func BenchmarkTenOdooCalls(b *testing.B) {
	sim := odoosim.NewServer(odoosim.Options{Moves: 50, Seed: 1, Latency: 100 * time.Millisecond})
	defer sim.Close()
	mods := func() []luabind.Module {
		return []luabind.Module{log.Module{}, task.Module{}, odoomod.New(map[string]odoo.Config{
			"default": {URL: sim.URL, DB: "demo", User: "admin", Password: "admin", MaxInFlight: 10},
		}, odoomod.Options{})}
	}
	dir := b.TempDir()
	scripts := map[string]string{
		"single":     `local erp = require("odoo").connect() erp:version() local t = os.clock() erp:count("account.move", {})`,
		"sequential": `local erp = require("odoo").connect() erp:version() for i = 1, 10 do erp:count("account.move", {{"id", ">", i}}) end`,
		"spawned": `local erp = require("odoo").connect() erp:version()
local task = require("task")
local hs = {}
for i = 1, 10 do hs[i] = task.spawn(function() return erp:count("account.move", {{"id", ">", i}}) end) end
task.wait_all(hs)`,
	}
	loaded := map[string]*host.Script{}
	for name, src := range scripts {
		p := filepath.Join(dir, name+".lua")
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
		s, err := host.LoadScript(p, nil)
		if err != nil {
			b.Fatal(err)
		}
		loaded[name] = s
	}
	// Each run logs in once (version) before timing matters; what is timed
	// is the whole script, so the login is in all three.
	timeOne := func(name string) time.Duration {
		r := &host.Runner{Modules: mods()}
		start := time.Now()
		rep, err := r.Run(context.Background(), []*host.Script{loaded[name]})
		if err != nil || rep.Status != host.StatusOK {
			b.Fatalf("%s: %v %+v", name, err, rep.Scripts[0].Error)
		}
		return time.Since(start)
	}
	var single, seq, spawned time.Duration
	for b.Loop() {
		single += timeOne("single")
		seq += timeOne("sequential")
		spawned += timeOne("spawned")
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64((single / n).Milliseconds()), "single-ms")
	b.ReportMetric(float64((seq / n).Milliseconds()), "sequential10-ms")
	b.ReportMetric(float64((spawned / n).Milliseconds()), "spawned10-ms")
	b.ReportMetric(float64(spawned)/float64(single), "spawned/single")
	b.ReportMetric(float64(seq)/float64(spawned), "sequential/spawned")
}
