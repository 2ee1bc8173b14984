package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeStats serves /sim/stats and /sim/stats/reset as the simulator does,
// with calls counted by every request to /xmlrpc.
type fakeStats struct {
	mu    sync.Mutex
	calls int64
}

func (f *fakeStats) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body := func() string {
		return fmt.Sprintf(`{"calls":%d,"examined":%d,"read":%d,"response_bytes":%d,"serving_seconds":%g,
			"by_call":[{"model":"account.move","method":"search_read","calls":%d,"examined":%d,"read":%d,"response_bytes":%d,"serving_seconds":%g}]}`,
			f.calls, 10*f.calls, 5*f.calls, 100*f.calls, 0.5*float64(f.calls), f.calls, 10*f.calls, 5*f.calls, 100*f.calls, 0.5*float64(f.calls))
	}
	switch {
	case r.URL.Path == "/xmlrpc":
		f.calls++
	case r.URL.Path == "/sim/stats" && r.Method == http.MethodGet:
		fmt.Fprint(w, body())
	case r.URL.Path == "/sim/stats/reset" && r.Method == http.MethodPost:
		fmt.Fprint(w, body())
		f.calls = 0
	default:
		http.NotFound(w, r)
	}
}

func TestStatsClient(t *testing.T) {
	srv := httptest.NewServer(&fakeStats{})
	defer srv.Close()
	ctx := context.Background()
	c := newStatsClient(srv.URL + "/")
	for i := 0; i < 3; i++ {
		resp, err := http.Get(srv.URL + "/xmlrpc")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	s, err := c.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Counters{Calls: 3, Examined: 30, Read: 15, ResponseBytes: 300, ServingSeconds: 1.5}
	if s.Counters != want {
		t.Errorf("Get: %+v, want %+v", s.Counters, want)
	}
	if len(s.ByCall) != 1 || s.ByCall[0].Model != "account.move" || s.ByCall[0].Method != "search_read" || s.ByCall[0].Counters != want {
		t.Errorf("Get by_call: %+v", s.ByCall)
	}
	s, err = c.Reset(ctx)
	if err != nil || s.Calls != 3 {
		t.Errorf("Reset returned %+v, %v; want the counters as they were (3 calls)", s.Counters, err)
	}
	if s, err = c.Get(ctx); err != nil || s.Calls != 0 {
		t.Errorf("after Reset: %+v, %v; want 0 calls", s.Counters, err)
	}
	srv.CloseClientConnections()
	c.http.CloseIdleConnections()
}

// A server without the counters answers 404: a *statusError, which makes
// the start of the simulator fail at once.
func TestStatsClientWithoutStats(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	c := newStatsClient(srv.URL)
	_, err := c.Get(context.Background())
	var se *statusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *statusError", err)
	}
	c.http.CloseIdleConnections()
}

// A simulator binary that cannot start is reported with its output.
func TestStartSimReportsAnEarlyExit(t *testing.T) {
	o := NewOptions()
	_, err := startSim(context.Background(), "/bin/false", &o, true)
	if err == nil {
		t.Fatal("startSim of /bin/false succeeded")
	}
	if want := "odoo-sim exited during start"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}
