package host

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
)

// budget is one script's memory account (luabind.Memory): what its Lua
// values took when last measured, what it built since, and what the host
// keeps for it on the Go side. Build checks before a string is built, so a
// script is stopped before the allocation, not after.
type budget struct {
	limit  int64 // 0: no per-script limit (the backstop still applies)
	cancel context.CancelCauseFunc
	main   *lua.LState

	mu      sync.Mutex
	threads map[*lua.LState]struct{}

	lua      atomic.Int64 // Lua values at the last measurement
	grown    atomic.Int64 // bytes built through Build since then
	kept     atomic.Int64 // held on the Go side (Keep, KeepLine)
	lines    atomic.Int64
	measured atomic.Uint64 // the watchdog generation last measured
	stopped  atomic.Bool
}

func newBudget(limit int64, cancel context.CancelCauseFunc, L *lua.LState) *budget {
	return &budget{limit: limit, cancel: cancel, main: L, threads: map[*lua.LState]struct{}{}}
}

// used is the current estimate.
func (b *budget) used() int64 { return b.lua.Load() + b.grown.Load() + b.kept.Load() }

// measure walks every thread of the script; it runs on a goroutine that
// runs the script's Lua code (the others are parked: they hold no baton).
func (b *budget) measure() int64 {
	stopAt := int64(1) << 62
	if b.limit > 0 {
		stopAt = b.limit
	}
	m := &measurer{seen: map[any]bool{}, stopAt: stopAt}
	m.value(b.main.G.Global)
	m.value(b.main.G.Registry)
	m.thread(b.main)
	b.mu.Lock()
	ths := make([]*lua.LState, 0, len(b.threads))
	for th := range b.threads {
		ths = append(ths, th)
	}
	b.mu.Unlock()
	for _, th := range ths {
		m.thread(th)
	}
	b.lua.Store(m.total)
	b.grown.Store(0)
	return m.total
}

// stop ends the script with a MemoryError (once) and returns it.
func (b *budget) stop(used int64) error {
	err := &MemoryError{Limit: b.limit, Used: used}
	if b.stopped.CompareAndSwap(false, true) && b.cancel != nil {
		b.cancel(err)
		go runtime.GC() // return the script's memory soon
	}
	return err
}

func (b *budget) over(used int64) bool { return b.limit > 0 && used > b.limit }

// Build implements luabind.Memory.
func (b *budget) Build(L *lua.LState, n int64) error {
	if b.stopped.Load() {
		return &MemoryError{Limit: b.limit, Used: b.used()}
	}
	if b.over(b.used() + n) {
		// The estimate counts everything built since the last measurement,
		// garbage included: measure before refusing.
		b.measure()
		if used := b.lua.Load() + b.kept.Load() + n; b.over(used) {
			return b.stop(used)
		}
	}
	b.grown.Add(n)
	return nil
}

// Keep implements luabind.Memory.
func (b *budget) Keep(n int64) error {
	k := b.kept.Add(n)
	if used := b.lua.Load() + k; b.over(used) {
		return b.stop(used)
	}
	return nil
}

// Release implements luabind.Memory.
func (b *budget) Release(n int64) { b.kept.Add(-n) }

// reportCost is what a byte kept for the report costs when the report is
// written: the JSON report is encoded in memory (a result's own encoding,
// then the report's buffer, which grows by doubling).
const reportCost = 4

// KeepLine implements luabind.Memory: the runner keeps the first
// MaxLogLines lines of a script for its result.
func (b *budget) KeepLine(n int64) error {
	if b.lines.Add(1) > MaxLogLines {
		return nil
	}
	return b.Keep(reportCost*n + 64)
}

// Thread implements luabind.Memory.
func (b *budget) Thread(th *lua.LState) func() {
	b.mu.Lock()
	b.threads[th] = struct{}{}
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.threads, th)
		b.mu.Unlock()
	}
}

// poll measures the script when the watchdog asked for a new round, and
// stops it when it is over its limit. Only one of its threads measures per
// round.
func (b *budget) poll(gen uint64) {
	old := b.measured.Load()
	if old == gen || !b.measured.CompareAndSwap(old, gen) || b.stopped.Load() {
		return
	}
	b.measure()
	if used := b.lua.Load() + b.kept.Load(); b.over(used) {
		b.stop(used)
	}
}

// checkResult refuses a returned value whose report would not fit the
// script's limit: the report keeps it and writes every occurrence of a
// string referenced many times.
func (b *budget) checkResult(v lua.LValue) error {
	if b.limit <= 0 || v == lua.LNil {
		return nil
	}
	size := reportCost * luabind.PlainSize(v, b.limit)
	if used := b.lua.Load() + b.kept.Load() + size; b.over(used) {
		return fmt.Errorf("the returned value: %w", b.stop(used))
	}
	return nil
}

// Reading a thread's value stack: gopher-lua keeps it in an unexported
// registry, which no API walks below the current call (varargs, the
// frames of waiting callers). Its layout is read once with reflect; when
// it is not what we expect, measurement falls back to the debug API.
var regLayout = func() (l struct {
	ok              bool
	reg, array, top uintptr
}) {
	st := reflect.TypeOf(lua.LState{})
	f, ok := st.FieldByName("reg")
	if !ok || f.Type.Kind() != reflect.Pointer || f.Type.Elem().Kind() != reflect.Struct {
		return
	}
	rt := f.Type.Elem()
	a, ok1 := rt.FieldByName("array")
	t, ok2 := rt.FieldByName("top")
	if !ok1 || !ok2 || a.Type != reflect.TypeOf([]lua.LValue(nil)) || t.Type.Kind() != reflect.Int {
		return
	}
	l.ok, l.reg, l.array, l.top = true, f.Offset, a.Offset, t.Offset
	return
}()

// stackOf returns a thread's value stack (up to its top) and its capacity.
func stackOf(L *lua.LState) (vals []lua.LValue, capacity int, ok bool) {
	if !regLayout.ok {
		return nil, 0, false
	}
	reg := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), regLayout.reg))
	if reg == nil {
		return nil, 0, false
	}
	arr := *(*[]lua.LValue)(unsafe.Add(reg, regLayout.array))
	top := *(*int)(unsafe.Add(reg, regLayout.top))
	if top < 0 || top > len(arr) {
		top = len(arr)
	}
	return arr[:top], cap(arr), true
}
