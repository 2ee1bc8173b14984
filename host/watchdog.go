package host

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/etlhost/etlhost/luabind"
)

// watchdogInterval is how often the watchdog reads the heap size. Reading
// runtime/metrics costs about a microsecond.
const watchdogInterval = 10 * time.Millisecond

// heapMetric is the heap occupied by objects, live or not yet swept: it
// moves with every allocation, unlike the live heap, which is only known
// after a collection.
const heapMetric = "/memory/classes/heap/objects:bytes"

// watchdog enforces the per-script memory limit. gopher-lua has no
// allocator hook, so a script's usage is estimated: each change of the heap
// is charged to the scripts that were running Lua code when it happened
// (scripts waiting inside a blocking call are not charged). With one script
// computing at a time the estimate is exact; with several it is shared
// between them. Memory freed after a script ends is first credited to that
// script's charge, so it does not lower the others'.
type watchdog struct {
	limit int64
	mu    sync.Mutex
	// charged is each running script's estimate.
	charged map[*luabind.Env]*watched
	// pendingFree is memory of ended scripts not yet seen freed.
	pendingFree int64
	last        int64
	sample      []metrics.Sample
	quit        chan struct{}
	done        chan struct{}
}

type watched struct {
	cancel  context.CancelCauseFunc
	charged int64
}

func newWatchdog(limit int64) *watchdog {
	w := &watchdog{limit: limit, charged: map[*luabind.Env]*watched{},
		sample: []metrics.Sample{{Name: heapMetric}}, quit: make(chan struct{}), done: make(chan struct{})}
	w.last = w.read()
	go w.loop()
	return w
}

func (w *watchdog) read() int64 {
	metrics.Read(w.sample)
	if w.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(w.sample[0].Value.Uint64())
}

func (w *watchdog) add(env *luabind.Env, cancel context.CancelCauseFunc) {
	w.mu.Lock()
	w.charged[env] = &watched{cancel: cancel}
	w.mu.Unlock()
}

func (w *watchdog) remove(env *luabind.Env) {
	w.mu.Lock()
	if s, ok := w.charged[env]; ok {
		w.pendingFree += s.charged
		delete(w.charged, env)
	}
	w.mu.Unlock()
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
			w.check(w.read())
		}
	}
}

// check charges the heap change since the last reading and stops the
// scripts over the limit.
func (w *watchdog) check(cur int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delta := cur - w.last
	w.last = cur
	if delta < 0 && w.pendingFree > 0 {
		credit := min(-delta, w.pendingFree)
		w.pendingFree -= credit
		delta += credit
	}
	if delta == 0 || len(w.charged) == 0 {
		return
	}
	var computing []*watched
	for env, s := range w.charged {
		if !env.Waiting() {
			computing = append(computing, s)
		}
	}
	if len(computing) == 0 {
		for _, s := range w.charged {
			computing = append(computing, s)
		}
	}
	share := delta / int64(len(computing))
	freed := false
	for _, s := range computing {
		s.charged = max(s.charged+share, 0)
		if s.charged > w.limit {
			s.cancel(&MemoryError{Limit: w.limit, Used: s.charged})
			freed = true
		}
	}
	if freed {
		// Let the stopped script's memory go before the next readings.
		go runtime.GC()
	}
}
