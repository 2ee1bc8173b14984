package host

import (
	"context"
	"runtime/metrics"
	"sync/atomic"
	"time"
	"unsafe"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
)

// The memory limit.
//
// gopher-lua has no allocator hook and no memory accounting, and a state
// may only be read by its own goroutine. So the limit works in two parts:
//
//   - the watchdog goroutine reads the process heap every few milliseconds
//     (runtime/metrics, about a microsecond). While it stays under the
//     limit nothing else happens. Past it, the watchdog asks every running
//     script to measure itself, by bumping a generation number;
//   - each state runs with a vmContext, whose Done method gopher-lua calls
//     before every instruction on the state's own goroutine. Every few
//     thousand instructions it looks at the generation; when asked, it walks
//     what the script can reach (globals, registry, the locals and upvalues
//     of its call stack, coroutines) and stops the script when that is over
//     its limit.
//
// Only the script over its limit stops; the others go on. A script waiting
// in a binding measures itself when it runs Lua code again.

const (
	watchdogInterval = 10 * time.Millisecond
	// heapMetric moves with every allocation, unlike the live heap, which
	// is only known after a collection.
	heapMetric = "/memory/classes/heap/objects:bytes"
	// pollMask: the generation is checked every 4096 instructions.
	pollMask = 1<<12 - 1
	// remeasureEvery bounds how long a script over its limit can go
	// unmeasured while the heap stays high.
	remeasureEvery = time.Second
)

type watchdog struct {
	limit   int64
	gen     atomic.Uint64
	sample  []metrics.Sample
	trigger int64
	// lastRound is when measurements were last asked for.
	lastRound time.Time
	quit      chan struct{}
	done      chan struct{}
}

func newWatchdog(limit int64) *watchdog {
	w := &watchdog{limit: limit, trigger: limit, sample: []metrics.Sample{{Name: heapMetric}},
		quit: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w
}

func (w *watchdog) heap() int64 {
	metrics.Read(w.sample)
	if w.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(w.sample[0].Value.Uint64())
}

func (w *watchdog) stop() {
	close(w.quit)
	<-w.done
}

func (w *watchdog) loop() {
	defer close(w.done)
	t := time.NewTicker(watchdogInterval)
	defer t.Stop()
	for {
		select {
		case <-w.quit:
			return
		case <-t.C:
			w.check(w.heap())
		}
	}
}

// check asks for measurements when the heap passes the trigger. Several
// scripts may together hold more than one script's limit without any being
// over it: the trigger then sits a quarter above the heap, so measuring
// stays rare, and follows the heap down when memory is freed. While the heap
// stays over the limit, scripts are also measured every remeasureEvery.
func (w *watchdog) check(heap int64) {
	now := time.Now()
	switch {
	case heap > w.trigger, heap > w.limit && now.Sub(w.lastRound) > remeasureEvery:
		w.gen.Add(1)
		w.lastRound = now
		w.trigger = heap + heap/4
	default:
		w.trigger = max(w.limit, min(w.trigger, heap+heap/4))
	}
}

// guard is one script's (or one light thread's) side of the watchdog.
type guard struct {
	w      *watchdog
	L      *lua.LState
	seen   uint64
	cancel context.CancelCauseFunc
	b      *budget // the script's account, found through the context
}

// vmContext is the context a state runs with: the script's context, plus
// a hook into gopher-lua's per-instruction check.
type vmContext struct {
	context.Context
	n     uint32
	guard *guard
}

// Done is called by the VM before every instruction, on the state's
// goroutine only (bindings and the runner use the plain context).
func (c *vmContext) Done() <-chan struct{} {
	c.n++
	if c.n&pollMask == 0 {
		c.poll()
	}
	return c.Context.Done()
}

// poll runs on the state's goroutine: when the watchdog or the backstop
// asked for a new round, the script measures itself (all its threads),
// once per round whichever thread polls first.
func (c *vmContext) poll() {
	g := c.guard
	var gen uint64
	if g != nil {
		gen = g.w.gen.Load()
	}
	gen += backstopGen.Load() << 32
	if g == nil && gen == 0 {
		return
	}
	if g != nil {
		if gen == g.seen {
			return
		}
		g.seen = gen
	}
	if g != nil && g.b == nil {
		g.b, _ = luabind.MemoryFrom(c.Context).(*budget)
	}
	var b *budget
	if g != nil {
		b = g.b
	} else {
		b, _ = luabind.MemoryFrom(c.Context).(*budget)
	}
	if b != nil {
		b.poll(gen)
	}
}

// measureState estimates the bytes a state can reach. It stops counting
// once past stopAt. The figures are estimates of gopher-lua's layout.
func measureState(L *lua.LState, stopAt int64) int64 {
	m := &measurer{seen: map[any]bool{}, stopAt: stopAt}
	m.value(L.G.Global)
	m.value(L.Get(lua.RegistryIndex))
	m.thread(L)
	return m.total
}

type measurer struct {
	seen   map[any]bool
	total  int64
	stopAt int64
}

func (m *measurer) over() bool { return m.total > m.stopAt }

func (m *measurer) thread(L *lua.LState) {
	if m.seen[L] {
		return
	}
	m.seen[L] = true
	m.total += 4096 // the call frames and the state itself
	if vals, capacity, ok := stackOf(L); ok {
		// The whole value stack, varargs and waiting callers' frames
		// included; its slots cost what they hold, even above the top.
		m.total += int64(capacity) * 16
		for _, v := range vals {
			if m.over() {
				return
			}
			if v != nil {
				m.value(v)
			}
		}
		return
	}
	for level := 0; level <= CallStackSize && !m.over(); level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if fn, err := L.GetInfo("f", dbg, lua.LNil); err == nil {
			m.value(fn)
		}
		for i := 1; ; i++ {
			name, v := L.GetLocal(dbg, i)
			if name == "" {
				break
			}
			m.value(v)
		}
	}
}

func (m *measurer) value(v lua.LValue) {
	if m.over() {
		return
	}
	switch x := v.(type) {
	case lua.LNumber:
		m.total += 8
	case lua.LString:
		if len(x) >= 256 {
			// Long strings are shared, not copied, when a script stores
			// one in many places: count each once.
			p := unsafe.StringData(string(x))
			if m.seen[p] {
				return
			}
			m.seen[p] = true
		}
		m.total += 16 + int64(len(x))
	case *lua.LTable:
		if m.seen[x] {
			return
		}
		m.seen[x] = true
		// Calibrated on gopher-lua v1.1.2 (live heap after a collection):
		// an array slot costs 16 bytes (20 with the slack of its growth), a hash entry about 140 and a hash
		// part about 300 before its first entries; a number stored in a
		// table is boxed (8 bytes). 200k rows keyed by three names measure
		// within 10% of the heap they take, array rows within 15%.
		m.total += 96
		n := x.Len()
		hashed := false
		x.ForEach(func(k, e lua.LValue) {
			if m.over() {
				return
			}
			if kn, isNum := k.(lua.LNumber); isNum && kn >= 1 && int(kn) <= n && lua.LNumber(int(kn)) == kn {
				m.total += 20 // with the slack of a doubling array
			} else {
				if !hashed {
					hashed = true
					m.total += 300
				}
				m.total += 140
				m.value(k)
			}
			m.value(e)
		})
		if x.Metatable != nil {
			m.value(x.Metatable)
		}
	case *lua.LFunction:
		if m.seen[x] {
			return
		}
		m.seen[x] = true
		m.total += 64
		for _, uv := range x.Upvalues {
			m.value(uv.Value())
		}
	case *lua.LUserData:
		if m.seen[x] {
			return
		}
		m.seen[x] = true
		m.total += 64
		if x.Metatable != nil {
			m.value(x.Metatable)
		}
		if h, ok := x.Value.(luabind.Holder); ok {
			h.HeldValues(m.value)
		}
	case *lua.LState:
		m.thread(x)
	}
}
