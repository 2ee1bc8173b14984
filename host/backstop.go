package host

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The process-wide backstop.
//
// Per-script limits can add up to more than the machine has, and what
// they measure is an estimate. So, whatever --max-memory says, a monitor
// watches the memory the Go runtime holds against what the process may use
// (the machine's memory, its cgroup's memory.max or limit_in_bytes, or its
// RLIMIT_AS, whichever is lowest): past backstopShare of it, every script
// measures itself and the largest one is stopped (failed, "memory limit"),
// one at a time, before the kernel's OOM killer takes the whole host. The
// Go heap's soft limit (GOMEMLIMIT) is set to the same mark unless the
// environment sets one, so garbage is collected before live memory is the
// only thing left.

const (
	backstopInterval = 10 * time.Millisecond
	backstopShare    = 0.85
	// backstopPause lets a stopped script unwind and its memory be
	// collected before the next one is chosen.
	backstopPause = time.Second
)

// backstopGen asks every script to measure itself (see vmContext.poll).
var backstopGen atomic.Uint64

var backstop struct {
	mu      sync.Mutex
	budgets map[*budget]struct{}
	running bool
	once    sync.Once
	mark    int64 // of the memory the Go runtime holds
	asMark  int64 // of the address space, under RLIMIT_AS (0: none)
}

// watchBackstop puts b under the backstop until forget is called.
func watchBackstop(b *budget) (forget func()) {
	backstop.once.Do(func() {
		ram, as := processMemoryLimit()
		backstop.mark = int64(float64(ram) * backstopShare)
		if as > 0 {
			backstop.asMark = int64(float64(as) * backstopShare)
		}
		if os.Getenv("GOMEMLIMIT") == "" && debug.SetMemoryLimit(-1) == math.MaxInt64 {
			debug.SetMemoryLimit(backstop.mark)
		}
	})
	backstop.mu.Lock()
	if backstop.budgets == nil {
		backstop.budgets = map[*budget]struct{}{}
	}
	backstop.budgets[b] = struct{}{}
	if !backstop.running {
		backstop.running = true
		go backstopLoop()
	}
	backstop.mu.Unlock()
	return func() {
		backstop.mu.Lock()
		delete(backstop.budgets, b)
		backstop.mu.Unlock()
	}
}

func backstopLoop() {
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	t := time.NewTicker(backstopInterval)
	defer t.Stop()
	var lastStop time.Time
	for range t.C {
		backstop.mu.Lock()
		if len(backstop.budgets) == 0 {
			backstop.running = false
			backstop.mu.Unlock()
			return
		}
		backstop.mu.Unlock()
		metrics.Read(sample)
		held := int64(sample[0].Value.Uint64()) - int64(sample[1].Value.Uint64())
		over := held - backstop.mark
		if backstop.asMark > 0 {
			// Under an address-space limit what counts is the process's
			// virtual size, thread stacks and C arenas included.
			if vsz := virtualSize(); vsz > 0 {
				over = max(over, vsz-backstop.asMark)
			}
		}
		if over <= 0 {
			continue
		}
		backstopGen.Add(1)
		if time.Since(lastStop) < backstopPause {
			continue
		}
		if backstopStopLargest(over) {
			lastStop = time.Now()
		}
	}
}

// virtualSize is the process's address space in bytes (0: unknown).
func virtualSize() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	pages, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// backstopStopLargest stops the script that holds the most, by its latest
// estimate.
func backstopStopLargest(over int64) bool {
	backstop.mu.Lock()
	var largest *budget
	var most int64
	for b := range backstop.budgets {
		if u := b.used(); !b.stopped.Load() && u > most {
			largest, most = b, u
		}
	}
	backstop.mu.Unlock()
	if largest == nil {
		return false
	}
	// What the host had left for this script: its share is what it holds
	// minus what the process is over the mark.
	left := max(0, most-over)
	err := &MemoryError{Limit: left, Used: most}
	if largest.stopped.CompareAndSwap(false, true) && largest.cancel != nil {
		largest.cancel(err)
		go runtime.GC()
	}
	return true
}

// processMemoryLimit is the memory the process may use: the lower of the
// machine's memory and its cgroup's limit; and its address-space limit
// (0: none).
func processMemoryLimit() (ram, as int64) {
	limit := int64(math.MaxInt64)
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb > 0 {
					limit = min(limit, kb*1024)
				}
			}
		}
	}
	if data, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 {
				continue
			}
			var files []string
			switch {
			case parts[0] == "0" && parts[1] == "":
				files = []string{"/sys/fs/cgroup" + parts[2] + "/memory.max", "/sys/fs/cgroup/unified" + parts[2] + "/memory.max"}
			case strings.Contains(","+parts[1]+",", ",memory,"):
				files = []string{"/sys/fs/cgroup/memory" + parts[2] + "/memory.limit_in_bytes"}
			}
			for _, f := range files {
				if data, err := os.ReadFile(f); err == nil {
					if n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64); err == nil && n > 0 {
						limit = min(limit, n)
					}
				}
			}
		}
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err == nil && rl.Cur < math.MaxInt64 {
		as = int64(rl.Cur)
	}
	if limit == math.MaxInt64 {
		limit = 8 << 30
	}
	return limit, as
}
