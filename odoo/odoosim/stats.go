package odoosim

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Stats is the work a simulator did since it started or since its stats
// were last reset, counted the way a real Odoo server spends it, in total
// and per model and method (ByCall). A call is counted once it has ended,
// before its client reads the end of the response; a call whose client left
// (or whose simulator closed) while it waited for its latency or for a
// worker was never served and is not counted. GET /sim/stats serves it as
// JSON.
type Stats struct {
	// Calls is the number of calls served: common (version, authenticate,
	// login...), db, object (execute_kw, execute) calls on every route
	// (XML-RPC, legacy XML-RPC, /jsonrpc), the web routes (version_info,
	// session, call_kw), JSON-2 calls and the model documents, the ones a
	// knob failed or reset included. Requests that are no call (an unknown
	// path, a GET on /xmlrpc/2/, a JSON-2 path without a model and a
	// method, the web pages "/", /web and /web/login) are not counted.
	Calls int64 `json:"calls"`
	// Examined is the number of records searches tested against a domain:
	// those of the id range a search scans (narrowed by the domain's id
	// terms, and stopped early for order by id with a limit, as PostgreSQL's
	// index on id does) and those of the searches the domain runs inside
	// itself (dotted paths, any, child_of and parent_of, names matched by
	// name_search). An offset does not spare a search the records it skips.
	// A read of ids examines none.
	Examined int64 `json:"examined"`
	// Read is the number of records whose values were returned: the rows of
	// read, search_read and name_search, and the groups of read_group
	// (whose records are examined). A search returning ids reads none,
	// nor does search_count, and the display names of many2one values are
	// not records read.
	Read int64 `json:"read"`
	// ResponseBytes is the size of the response bodies written.
	ResponseBytes int64 `json:"response_bytes"`
	// ServingSeconds is the wall time calls held a worker: decoding,
	// running, the modelled busy time (Options.CostPerCall...) and writing
	// the response; the latency and the wait for a worker are not in it.
	ServingSeconds float64 `json:"serving_seconds"`
	// ByCall splits the figures by model and method, sorted by model then
	// method. Calls without a model (common and db calls, an object call
	// that names none) have model "" and their method name
	// ("authenticate", "execute_kw"); a body that does not decode has no
	// method either. A call_kw is counted under its model and method; the
	// other web routes have model "" and their path as method
	// ("/web/session/authenticate", "/web/version"), and the model
	// documents their model and "/doc-bearer" or "/doc". Never nil, so that
	// the JSON has a list.
	ByCall []CallStats `json:"by_call"`
}

// CallStats are the figures of Stats for one model and method.
type CallStats struct {
	Model          string  `json:"model"`
	Method         string  `json:"method"`
	Calls          int64   `json:"calls"`
	Examined       int64   `json:"examined"`
	Read           int64   `json:"read"`
	ResponseBytes  int64   `json:"response_bytes"`
	ServingSeconds float64 `json:"serving_seconds"`
}

// Stats returns the work done since the simulator started or since the
// last ResetStats.
func (s *Sim) Stats() Stats { return s.stats.snapshot(false) }

// ResetStats returns the stats as they were and zeroes them, atomically:
// every call is counted in exactly one period. A call in progress counts in
// the period in which it ends. Calls (the knobs' count) is not reset.
func (s *Sim) ResetStats() Stats { return s.stats.snapshot(true) }

// work is what one call makes the server do, filled in while it is served.
// One goroutine serves a call, so it needs no lock; a nil *work counts
// nothing (searches run outside a served call).
type work struct {
	model, method  string
	examined, read int64
}

func (w *work) examine(n int64) {
	if w != nil {
		w.examined += n
	}
}

func (w *work) reads(n int) {
	if w != nil {
		w.read += int64(n)
	}
}

type callKey struct{ model, method string }

type callTotals struct {
	calls, examined, read, bytes int64
	serving                      time.Duration
}

// statsBook holds a simulator's stats. Calls add to it once, when they end,
// so one mutex suffices and a reset sees every call whole.
type statsBook struct {
	mu sync.Mutex
	by map[callKey]*callTotals
}

func (b *statsBook) add(w *work, bytes int64, serving time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.by == nil {
		b.by = map[callKey]*callTotals{}
	}
	k := callKey{w.model, w.method}
	t := b.by[k]
	if t == nil {
		t = &callTotals{}
		b.by[k] = t
	}
	t.calls++
	t.examined += w.examined
	t.read += w.read
	t.bytes += bytes
	t.serving += serving
}

func (b *statsBook) snapshot(reset bool) Stats {
	b.mu.Lock()
	by := b.by
	if reset {
		b.by = nil
	} else {
		by = copyTotals(by)
	}
	b.mu.Unlock()
	st := Stats{ByCall: make([]CallStats, 0, len(by))}
	var serving time.Duration
	for k, t := range by {
		st.Calls += t.calls
		st.Examined += t.examined
		st.Read += t.read
		st.ResponseBytes += t.bytes
		serving += t.serving
		st.ByCall = append(st.ByCall, CallStats{Model: k.model, Method: k.method, Calls: t.calls,
			Examined: t.examined, Read: t.read, ResponseBytes: t.bytes, ServingSeconds: t.serving.Seconds()})
	}
	st.ServingSeconds = serving.Seconds()
	slices.SortFunc(st.ByCall, func(a, b CallStats) int {
		return cmp.Or(cmp.Compare(a.Model, b.Model), cmp.Compare(a.Method, b.Method))
	})
	return st
}

// copyTotals copies the totals, so that they are read outside the lock.
func copyTotals(by map[callKey]*callTotals) map[callKey]*callTotals {
	out := make(map[callKey]*callTotals, len(by))
	for k, t := range by {
		c := *t
		out[k] = &c
	}
	return out
}

// countingWriter counts the bytes of the response body a call writes. It
// unwraps for http.ResponseController (resetConn hijacks through it).
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// Paths of the simulator's own routes, which are not Odoo's: they are never
// counted, delayed nor queued for a worker, and answer after Close too.
const (
	statsPath      = "/sim/stats"
	statsResetPath = "/sim/stats/reset"
)

// serveStats answers GET /sim/stats with the Stats as JSON and POST
// /sim/stats/reset with the stats as they were before it zeroed them.
func (s *Sim) serveStats(w http.ResponseWriter, r *http.Request) {
	var st Stats
	switch {
	case r.URL.Path == statsPath && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		st = s.Stats()
	case r.URL.Path == statsResetPath && r.Method == http.MethodPost:
		st = s.ResetStats()
	default:
		w.Header().Set("Allow", cond(r.URL.Path == statsPath, "GET, HEAD", "POST"))
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	b, err := json.Marshal(st)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}
