package host

import (
	"context"
	"fmt"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
)

const trivialScript = "local x = 1 + 1 return {rows = x}"

// BenchmarkBareState is the baseline: what gopher-lua costs on its own for
// a trivial script (a default state, compile once, run).
func BenchmarkBareState(b *testing.B) {
	s, err := CompileScript("t", "t.lua", []byte(trivialScript), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		L := lua.NewState()
		L.Push(L.NewFunctionFromProto(s.proto))
		if err := L.PCall(0, 1, nil); err != nil {
			b.Fatal(err)
		}
		L.Close()
	}
}

// BenchmarkScriptOverhead is the host's cost of one script: a sandboxed
// state, the modules reachable, a context with a deadline, the protected
// call with its message handler, the conversion of the result, on its own
// goroutine as the runner does it.
func BenchmarkScriptOverhead(b *testing.B) {
	s, err := CompileScript("t", "t.lua", []byte(trivialScript), nil)
	if err != nil {
		b.Fatal(err)
	}
	r := &Runner{Modules: stdModules(), MaxMemory: 1 << 30}
	wd := newWatchdog(r.MaxMemory)
	defer wd.stop()
	mods := map[string]luabind.Module{}
	for _, m := range r.Modules {
		mods[m.Name()] = m
	}
	b.ReportAllocs()
	for b.Loop() {
		res := r.runOne(context.Background(), s, mods, nil, wd)
		if res.Status != StatusOK {
			b.Fatal(res.Error)
		}
	}
}

// BenchmarkRun1000 runs 1000 trivial scripts in one run, all at once and
// with --jobs 2, and reports the cost per script.
func BenchmarkRun1000(b *testing.B) {
	var scripts []*Script
	for i := 0; i < 1000; i++ {
		s, err := CompileScript(fmt.Sprintf("s%d", i), fmt.Sprintf("s%d.lua", i), []byte(trivialScript), nil)
		if err != nil {
			b.Fatal(err)
		}
		scripts = append(scripts, s)
	}
	for _, jobs := range []int{0, 2} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			r := &Runner{Modules: stdModules(), Jobs: jobs, MaxMemory: 1 << 30}
			b.ReportAllocs()
			var total time.Duration
			for b.Loop() {
				start := time.Now()
				rep, err := r.Run(context.Background(), scripts)
				if err != nil || rep.Status != StatusOK {
					b.Fatal(err, rep.Status)
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "us/script")
		})
	}
}
