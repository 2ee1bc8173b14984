package host

import (
	"context"
	"runtime"
	"testing"

	"github.com/etlhost/etlhost/luabind"
)

// TestMeasureIsCloseToTheHeap: what the watchdog measures of a script's
// values is within a third of the heap they take, for the shapes scripts
// build (rows keyed by name, array rows, long arrays, big maps). An
// estimate far below the heap would let a script hold several times its
// limit. Not parallel: it reads the process heap.
func TestMeasureIsCloseToTheHeap(t *testing.T) {
	for _, src := range []string{
		"t = {} for i = 1, 200000 do t[i] = {id = i, name = 'n' .. i, v = i * 2} end",
		"t = {} for i = 1, 200000 do t[i] = {i, 'n' .. i, i * 2} end",
		"t = {} for i = 1, 1000000 do t[i] = i end",
		"t = {} for i = 1, 300000 do t['k' .. i] = i end",
		"t = {} for i = 1, 20000 do t[i] = string.rep('x', 1000) .. i end",
	} {
		runtime.GC()
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		env := &luabind.Env{Ctx: context.Background()}
		sb := &sandbox{env: env}
		g := &guard{w: &watchdog{limit: 1 << 40}, cancel: func(error) {}}
		L := sb.newState(context.Background(), g)
		if err := L.DoString(src); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		heap := float64(m1.HeapAlloc) - float64(m0.HeapAlloc)
		est := float64(g.b.measure())
		t.Logf("%-45.45s heap %6.1f MB, measured %6.1f MB", src, heap/1e6, est/1e6)
		if est < 0.65*heap || est > 1.5*heap {
			t.Errorf("%s: measured %.1f MB of a %.1f MB heap", src, est/1e6, heap/1e6)
		}
		env.Close()
		L.Close()
		L.SetGlobal("t", nil)
	}
}
