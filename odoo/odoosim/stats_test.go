package odoosim

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/kolo/xmlrpc"
)

// statsOf reads the stats over HTTP, as a benchmark does.
func statsOf(t *testing.T, url string) Stats {
	t.Helper()
	resp, err := http.Get(url + "/sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /sim/stats: HTTP %d %v", resp.StatusCode, err)
	}
	return st
}

// byCall finds the figures of model.method.
func byCall(st Stats, model, method string) (CallStats, bool) {
	for _, c := range st.ByCall {
		if c.Model == model && c.Method == method {
			return c, true
		}
	}
	return CallStats{}, false
}

// waitFor polls cond until it holds (the handlers' counters move on their
// own goroutines).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// post sends one request and returns the status and the whole body.
func postBody(ctx context.Context, url, contentType string, body []byte, headers ...string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// TestStatsCounters makes one call per case on a fresh simulator and checks
// what it counts: calls, records examined by the searches (the domain's own
// sub-searches included) and records read.
func TestStatsCounters(t *testing.T) {
	t.Parallel()
	fx := fixture(t)
	moves, partners := int64(len(fx.Moves)), int64(len(fx.Partners))
	ids := []any{int64(3), int64(5), int64(9)}
	kw := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name          string
		model, method string
		args          []any
		kwargs        map[string]any
		examined      int64
		read          int64 // -1: as many as the result has rows
	}{
		{"search scans the table", "account.move", "search", []any{D()}, nil, moves, 0},
		{"search by ids examines those ids", "account.move", "search", []any{D(L("id", "in", ids))}, nil, 3, 0},
		{"sparse ids with another term", "account.move", "search",
			[]any{D(L("state", "=", "posted"), L("id", "in", []any{int64(2), int64(11)}))}, nil, 2, 0},
		{"id range", "account.move", "search", []any{D(L("id", ">", int64(4)), L("id", "<=", int64(8)))}, nil, 4, 0},
		{"search_read by ids reads them", "account.move", "search_read", []any{D(L("id", "in", ids))},
			kw("fields", []any{"name", "partner_id"}), 3, 3},
		{"search_read of all", "account.move", "search_read", []any{D()}, kw("fields", []any{"name"}), moves, moves},
		{"read examines nothing", "account.move", "read", []any{[]any{int64(1), int64(2), int64(4)}, []any{"name", "partner_id"}}, nil, 0, 3},
		{"read of a missing id", "account.move", "read", []any{[]any{int64(1), int64(999)}}, nil, 0, 1},
		{"search_count reads nothing", "account.move", "search_count", []any{D()}, nil, moves, 0},
		{"dotted path counts the sub-search", "account.move", "search",
			[]any{D(L("partner_id.name", "ilike", "Atlas"))}, nil, moves + partners, 0},
		{"many2one by name is a name_search", "account.move", "search",
			[]any{D(L("partner_id", "=", "Paris Papeterie"))}, nil, moves + partners, 0},
		{"child_of looks at the hierarchy", "res.partner", "search", []any{D(L("id", "child_of", int64(5)))}, nil, 2 * partners, 0},
		{"one2many ids look up those lines", "account.move", "search",
			[]any{D(L("line_ids", "in", []any{int64(1), int64(2)}))}, nil, 2 + moves, 0},
		{"order id and limit stop early", "account.move", "search", []any{D()}, kw("order", "id", "limit", int64(3)), 3, 0},
		{"an offset re-examines the pages before", "account.move", "search_read", []any{D()},
			kw("order", "id", "offset", int64(5), "limit", int64(5), "fields", []any{"name"}), 10, 5},
		{"the default order scans everything", "account.move", "search_read", []any{D()},
			kw("offset", int64(5), "limit", int64(5), "fields", []any{"name"}), moves, 5},
		{"name_search reads what it finds", "res.partner", "name_search", []any{"Atlas"}, nil, partners, -1},
		{"fields_get", "account.move", "fields_get", []any{}, kw("attributes", []any{"type"}), 0, 0},
		{"a fault still counts", "account.move", "search", []any{D(L("nope", "=", 1))}, nil, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newFixtureServer(t, Options{})
			v, _ := admin(t, s).call(tc.model, tc.method, tc.args, tc.kwargs)
			want := tc.read
			if want < 0 {
				want = int64(len(v.([]any)))
			}
			st := s.Sim().Stats()
			c, ok := byCall(st, tc.model, tc.method)
			if !ok || len(st.ByCall) != 1 {
				t.Fatalf("by_call = %+v, want one entry for %s.%s", st.ByCall, tc.model, tc.method)
			}
			if c.Calls != 1 || c.Examined != tc.examined || c.Read != want {
				t.Errorf("calls %d, examined %d, read %d; want 1, %d, %d", c.Calls, c.Examined, c.Read, tc.examined, want)
			}
			if st.Calls != c.Calls || st.Examined != c.Examined || st.Read != c.Read ||
				st.ResponseBytes != c.ResponseBytes || st.ServingSeconds != c.ServingSeconds {
				t.Errorf("totals %+v differ from the only call %+v", st, c)
			}
			if c.ResponseBytes == 0 || c.ServingSeconds <= 0 {
				t.Errorf("response_bytes %d, serving_seconds %v", c.ResponseBytes, c.ServingSeconds)
			}
		})
	}
}

// TestStatsNamesCalls: calls without a model (common, db, JSON-2 and
// /web/version) are named by their method; JSON-2 calls count their records
// as XML-RPC calls do.
func TestStatsNamesCalls(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{Version: "19.0"})
	xrpc(t, s.URL, "common", "authenticate", "demo", "admin", "admin", map[string]any{})
	xrpc(t, s.URL, "common", "version")
	xrpc(t, s.URL, "db", "list")
	json2(t, s.URL, "account.move", "search_read", "demo-api-key",
		map[string]any{"domain": D(L("id", "in", []any{int64(1), int64(2)})), "fields": []any{"name"}})
	json2(t, s.URL, "account.move", "read", "demo-api-key", map[string]any{"ids": []any{int64(1)}, "fields": []any{"name"}})
	json2(t, s.URL, "account.move", "search_count", "wrong-key", map[string]any{"domain": D()})
	resp, err := http.Get(s.URL + "/web/version")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	st := s.Sim().Stats()
	type figures struct{ calls, examined, read int64 }
	want := map[callKey]figures{
		{"", "/web/version"}:             {1, 0, 0},
		{"", "authenticate"}:             {1, 0, 0},
		{"", "list"}:                     {1, 0, 0},
		{"", "version"}:                  {1, 0, 0},
		{"account.move", "read"}:         {1, 0, 1},
		{"account.move", "search_count"}: {1, 0, 0}, // refused: bad API key
		{"account.move", "search_read"}:  {1, 2, 2},
	}
	var keys []callKey
	for _, c := range st.ByCall {
		k := callKey{c.Model, c.Method}
		keys = append(keys, k)
		if got := (figures{c.Calls, c.Examined, c.Read}); got != want[k] {
			t.Errorf("%q.%q: %+v, want %+v", c.Model, c.Method, got, want[k])
		}
	}
	if len(keys) != len(want) || st.Calls != int64(len(want)) {
		t.Errorf("by_call names %v, want those of %v", keys, want)
	}
	sorted := slices.IsSortedFunc(st.ByCall, func(a, b CallStats) int {
		return cmp.Or(cmp.Compare(a.Model, b.Model), cmp.Compare(a.Method, b.Method))
	})
	if !sorted {
		t.Errorf("by_call is not sorted by model then method: %v", keys)
	}
}

// TestStatsResponseBytes: response_bytes is the length of the body the
// client received, for results streamed in chunks, faults, JSON-2 errors
// and the knobs' error page.
func TestStatsResponseBytes(t *testing.T) {
	t.Parallel()
	xml := func(method string, args ...any) []byte {
		b, err := xmlrpc.EncodeMethodCall(method, args...)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	jsonBody := func(v any) []byte { b, _ := json.Marshal(v); return b }
	auth := []string{"Authorization", "bearer demo-api-key"}
	cases := []struct {
		name        string
		opts        Options
		failEvery   int
		path, ctype string
		body        []byte
		headers     []string
		minLen      int
	}{
		{"search_read of every move, several chunks", Options{Moves: 1500, Seed: 3}, 0, "/xmlrpc/2/object", "text/xml",
			xml("execute_kw", "demo", 2, "admin", "account.move", "search_read", []any{D()}, map[string]any{}), nil, 2 * chunkSize},
		{"a fault", Options{}, 0, "/xmlrpc/2/object", "text/xml",
			xml("execute_kw", "demo", 2, "admin", "account.move", "search", []any{D(L("nope", "=", 1))}), nil, 1},
		{"common", Options{}, 0, "/xmlrpc/2/common", "text/xml", xml("version"), nil, 1},
		{"the knob's error page", Options{}, 1, "/xmlrpc/2/object", "text/xml",
			xml("execute_kw", "demo", 2, "admin", "res.country", "search", []any{D()}), nil, 1},
		{"JSON-2 result", Options{Version: "19.0", Moves: 300}, 0, "/json/2/account.move/search_read", "application/json",
			jsonBody(map[string]any{"domain": D()}), auth, 1},
		{"JSON-2 error", Options{Version: "19.0"}, 0, "/json/2/account.move/search_read", "application/json",
			jsonBody(map[string]any{"domain": D(L("nope", "=", 1))}), auth, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newFixtureServer(t, tc.opts)
			s.Sim().FailEvery(tc.failEvery)
			_, raw, err := postBody(context.Background(), s.URL+tc.path, tc.ctype, tc.body, tc.headers...)
			if err != nil {
				t.Fatal(err)
			}
			st := s.Sim().Stats()
			if st.Calls != 1 || st.ResponseBytes != int64(len(raw)) || len(raw) < tc.minLen {
				t.Errorf("calls %d, response_bytes %d; the client received %d bytes (at least %d expected)",
					st.Calls, st.ResponseBytes, len(raw), tc.minLen)
			}
		})
	}
}

// TestStatsReset: ResetStats returns the stats as they were and zeroes
// them; by_call is an empty list, not null, after a reset.
func TestStatsReset(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	o := admin(t, s)
	o.must("account.move", "search", []any{D()}, nil)
	o.must("account.move", "search", []any{D()}, nil)
	before := s.Sim().Stats()
	got := s.Sim().ResetStats()
	if got.Calls != 2 || got.Examined != 2*int64(len(fixture(t).Moves)) || len(got.ByCall) != 1 ||
		got.ResponseBytes != before.ResponseBytes {
		t.Errorf("ResetStats returned %+v, the stats were %+v", got, before)
	}
	after := s.Sim().Stats()
	if after.Calls != 0 || after.Examined != 0 || after.ResponseBytes != 0 || after.ServingSeconds != 0 ||
		after.ByCall == nil || len(after.ByCall) != 0 {
		t.Errorf("after the reset: %+v", after)
	}
	if b, _ := json.Marshal(after); !bytes.Contains(b, []byte(`"by_call":[]`)) {
		t.Errorf("JSON after a reset: %s", b)
	}
	o.must("res.country", "search_count", []any{D()}, nil)
	if st := s.Sim().Stats(); st.Calls != 1 || st.ByCall[0].Model != "res.country" {
		t.Errorf("the call after the reset: %+v", st)
	}
	if n := s.Sim().Calls(); n != 3 {
		t.Errorf("Calls() = %d, want 3: it is not reset", n)
	}
}

// TestStatsHTTP: GET /sim/stats and POST /sim/stats/reset serve the stats
// as JSON in the documented shape; they are not calls and never wait for
// latency.
func TestStatsHTTP(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	admin(t, s).must("account.move", "search_read", []any{D(L("id", "<=", int64(2)))}, map[string]any{"fields": []any{"name"}})
	s.Sim().SetLatency(time.Hour) // the stats routes must not wait for it
	client := &http.Client{Timeout: 30 * time.Second}

	resp, err := client.Get(s.URL + "/sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /sim/stats: HTTP %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	var shape map[string]any
	if err := json.Unmarshal(raw, &shape); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	wantTop := []string{"by_call", "calls", "examined", "read", "response_bytes", "serving_seconds"}
	wantCall := []string{"calls", "examined", "method", "model", "read", "response_bytes", "serving_seconds"}
	calls := shape["by_call"].([]any)
	if !slices.Equal(keys(shape), wantTop) || len(calls) != 1 || !slices.Equal(keys(calls[0].(map[string]any)), wantCall) {
		t.Fatalf("GET /sim/stats shape: %s", raw)
	}
	one := calls[0].(map[string]any)
	if shape["calls"] != 1.0 || shape["examined"] != 2.0 || shape["read"] != 2.0 ||
		one["model"] != "account.move" || one["method"] != "search_read" {
		t.Errorf("GET /sim/stats: %s", raw)
	}

	resp, err = client.Post(s.URL+"/sim/stats/reset", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var old Stats
	err = json.NewDecoder(resp.Body).Decode(&old)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || old.Calls != 1 || old.Read != 2 {
		t.Errorf("POST /sim/stats/reset: HTTP %d %v %+v", resp.StatusCode, err, old)
	}
	if st := statsOf(t, s.URL); st.Calls != 0 || len(st.ByCall) != 0 {
		t.Errorf("after POST /sim/stats/reset: %+v", st)
	}

	for _, tc := range []struct{ method, path, allow string }{
		{"POST", "/sim/stats", "GET, HEAD"},
		{"GET", "/sim/stats/reset", "POST"},
	} {
		req, _ := http.NewRequest(tc.method, s.URL+tc.path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: HTTP %d, Allow %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	if st := s.Sim().Stats(); st.Calls != 0 {
		t.Errorf("the stats routes were counted: %+v", st)
	}
}

// TestWorkersSerializeCalls: with one worker, a second call waits while the
// first holds the worker for its busy time, and each call's serving time
// includes its busy time.
func TestWorkersSerializeCalls(t *testing.T) {
	t.Parallel()
	const cost = 150 * time.Millisecond
	s := newFixtureServer(t, Options{Workers: 1, CostPerCall: cost})
	sim := s.Sim()
	done := make(chan error, 2)
	call := func() {
		st, err := rawCall(context.Background(), http.DefaultClient, s.URL)
		if err == nil && st != 200 {
			err = errors.New(http.StatusText(st))
		}
		done <- err
	}
	go call()
	waitFor(t, "the first call holds the worker", func() bool { return sim.serving.Load() == 1 })
	go call()
	waitFor(t, "the second call waits for it", func() bool { return sim.waiting.Load() == 1 })
	if n := sim.serving.Load(); n != 1 {
		t.Fatalf("%d calls hold the only worker", n)
	}
	// The stats answer while the worker is held; no call has ended yet.
	if st := statsOf(t, s.URL); st.Calls != 0 {
		t.Errorf("calls %d before either call ended", st.Calls)
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	st := sim.Stats()
	c, _ := byCall(st, "res.country", "search_count")
	if st.Calls != 2 || c.Calls != 2 || st.ServingSeconds < 2*cost.Seconds() {
		t.Errorf("calls %d (%d search_count), serving %.3fs, want 2 and at least %.3fs", st.Calls, c.Calls, st.ServingSeconds, 2*cost.Seconds())
	}
}

// TestLatencyHoldsNoWorker: a call in its latency (the network) leaves the
// only worker free for others.
func TestLatencyHoldsNoWorker(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{Workers: 1, Latency: time.Hour})
	sim := s.Sim()
	ctx, cancel := context.WithCancel(context.Background())
	slow := make(chan error, 1)
	go func() {
		_, err := rawCall(ctx, http.DefaultClient, s.URL)
		slow <- err
	}()
	waitActive(t, sim, 1)
	sim.SetLatency(0)
	if st, err := rawCall(context.Background(), http.DefaultClient, s.URL); st != 200 || err != nil {
		t.Errorf("a call while another is in its latency: %d %v", st, err)
	}
	cancel()
	if err := <-slow; !errors.Is(err, context.Canceled) {
		t.Errorf("the call in its hour of latency: %v", err)
	}
	waitIdle(t, sim)
	if st := sim.Stats(); st.Calls != 1 {
		t.Errorf("calls %d, want 1: the call given up in its latency was not served", st.Calls)
	}
}

// TestWorkerWaitEnds: a call waiting for a worker stops waiting when its
// client goes away, and is then neither served nor counted; Close releases
// the call holding the worker and those waiting.
func TestWorkerWaitEnds(t *testing.T) {
	t.Parallel()
	for _, closeSim := range []bool{false, true} {
		name := map[bool]string{false: "client cancels", true: "simulator closes"}[closeSim]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(Options{Data: fixture(t), Workers: 1, CostPerCall: time.Hour})
			defer s.Close()
			sim := s.Sim()
			ctxA, cancelA := context.WithCancel(context.Background())
			defer cancelA()
			ctxB, cancelB := context.WithCancel(context.Background())
			defer cancelB()
			a, b := make(chan error, 1), make(chan error, 1)
			call := func(ctx context.Context, out chan<- error) {
				st, err := rawCall(ctx, http.DefaultClient, s.URL)
				if err == nil && st != 200 {
					err = errors.New(http.StatusText(st))
				}
				out <- err
			}
			go call(ctxA, a)
			waitFor(t, "the first call holds the worker", func() bool { return sim.serving.Load() == 1 })
			go call(ctxB, b)
			waitFor(t, "the second call waits", func() bool { return sim.waiting.Load() == 1 })
			if closeSim {
				closed := make(chan struct{})
				go func() { s.Close(); close(closed) }()
				select {
				case <-closed:
				case <-time.After(10 * time.Second):
					t.Fatal("Close blocked on calls holding or waiting for a worker")
				}
				if errA, errB := <-a, <-b; errA == nil || errB == nil {
					t.Errorf("calls succeeded across Close: %v, %v", errA, errB)
				}
				if st := sim.Stats(); st.Calls != 1 || sim.Calls() != 1 {
					t.Errorf("calls %d (Calls() %d), want 1: the call holding the worker", st.Calls, sim.Calls())
				}
				return
			}
			cancelB()
			if err := <-b; !errors.Is(err, context.Canceled) {
				t.Errorf("the waiting call: %v", err)
			}
			waitFor(t, "the waiting call leaves", func() bool { return sim.waiting.Load() == 0 })
			if st := sim.Stats(); st.Calls != 0 {
				t.Errorf("calls %d while the first still holds the worker", st.Calls)
			}
			cancelA()
			if err := <-a; !errors.Is(err, context.Canceled) {
				t.Errorf("the call holding the worker: %v", err)
			}
			waitIdle(t, sim)
			st := sim.Stats()
			if st.Calls != 1 || len(st.ByCall) != 1 || st.ByCall[0].Calls != 1 || sim.Calls() != 1 {
				t.Errorf("stats %+v (Calls() %d): only the call that held the worker was served", st, sim.Calls())
			}
		})
	}
}

// TestCostBusyTime: the busy time grows with the records examined and read
// (lower bounds only: a timer never fires early).
func TestCostBusyTime(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{CostPerExamined: 2 * time.Millisecond})
	o := admin(t, s)
	o.must("account.move", "search_count", []any{D()}, nil)
	moves := len(fixture(t).Moves)
	if st := s.Sim().ResetStats(); st.ServingSeconds < float64(moves)*0.002 {
		t.Errorf("search_count of %d moves at 2ms each served in %.3fs", moves, st.ServingSeconds)
	}
	s.Sim().SetCost(0, 0, 10*time.Millisecond)
	o.must("account.move", "read", []any{[]any{int64(1), int64(2), int64(3)}, []any{"name"}}, nil)
	if st := s.Sim().Stats(); st.ServingSeconds < 0.030 {
		t.Errorf("read of 3 records at 10ms each served in %.3fs", st.ServingSeconds)
	}
}

func TestBusyFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                 string
		call, examined, read time.Duration
		w                    work
		want                 time.Duration
	}{
		{"off", 0, 0, 0, work{examined: 1000, read: 10}, 0},
		{"per call", 2 * time.Millisecond, 0, 0, work{}, 2 * time.Millisecond},
		{"all three", 2 * time.Millisecond, 5 * time.Microsecond, 100 * time.Microsecond,
			work{examined: 1000, read: 10}, 2*time.Millisecond + 5*time.Millisecond + time.Millisecond},
		{"negative is off", -time.Second, -time.Second, -time.Second, work{examined: 5, read: 5}, 0},
		{"saturates", time.Hour, time.Hour, time.Hour, work{examined: math.MaxInt64 / 2, read: 3}, math.MaxInt64},
	} {
		s := NewHandler(Options{Moves: -1})
		s.SetCost(tc.call, tc.examined, tc.read)
		if got := s.busyFor(&tc.w); got != tc.want {
			t.Errorf("%s: busyFor = %v, want %v", tc.name, got, tc.want)
		}
	}
}
