package odoosim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/kolo/xmlrpc"
)

// rawCall posts an execute_kw search_count with its own client and context
// and returns the HTTP status (0 on a transport error) and the error.
func rawCall(ctx context.Context, client *http.Client, url string) (int, error) {
	body, _ := xmlrpc.EncodeMethodCall("execute_kw", "demo", 2, "admin", "res.country", "search_count", []any{[]any{}})
	req, err := http.NewRequestWithContext(ctx, "POST", url+"/xmlrpc/2/object", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return resp.StatusCode, err
}

// waitIdle waits until the simulator serves no request: the handler of a
// call its client gave up on has returned.
func waitIdle(t *testing.T, s *Sim) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.active.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests still being served", s.active.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitActive(t *testing.T, s *Sim, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.active.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests being served, want %d", s.active.Load(), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{Latency: 60 * time.Millisecond})
	start := time.Now()
	xrpc(t, s.URL, "common", "version")
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("call took %v with 60ms latency", d)
	}
	s.Sim().SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := rawCall(ctx, http.DefaultClient, s.URL); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("call during an hour of latency: %v", err)
	}
	waitIdle(t, s.Sim()) // the handler stopped waiting when the client left
	s.Sim().SetLatency(0)
	if st, err := rawCall(context.Background(), http.DefaultClient, s.URL); st != 200 || err != nil {
		t.Errorf("after SetLatency(0): %d %v", st, err)
	}
}

func TestFailEvery(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	sim := s.Sim()
	sim.FailEvery(3)
	var got []int
	for i := 0; i < 7; i++ {
		st, err := rawCall(context.Background(), http.DefaultClient, s.URL)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, st)
	}
	want := []int{200, 200, 500, 200, 200, 500, 200}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	}
	// Only object calls count.
	xrpc(t, s.URL, "common", "authenticate", "demo", "admin", "admin", map[string]any{})
	if n := sim.Calls(); n != 7 {
		t.Errorf("Calls() = %d, want 7", n)
	}
	sim.FailEvery(0)
	for i := 0; i < 3; i++ {
		if st, _ := rawCall(context.Background(), http.DefaultClient, s.URL); st != 200 {
			t.Errorf("FailEvery(0): HTTP %d", st)
		}
	}
}

func TestResetEvery(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	sim := s.Sim()
	sim.ResetEvery(2)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for i := 1; i <= 4; i++ {
		st, err := rawCall(context.Background(), client, s.URL)
		if i%2 == 0 {
			if err == nil {
				t.Errorf("call %d: HTTP %d, want a connection error", i, st)
			}
		} else if err != nil || st != 200 {
			t.Errorf("call %d: %d %v", i, st, err)
		}
	}
	if n := sim.Calls(); n != 4 {
		t.Errorf("Calls() = %d, want 4", n)
	}
}

func TestHang(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	sim := s.Sim()
	sim.Hang(true)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel()
	if _, err := rawCall(ctx, http.DefaultClient, s.URL); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hung call: %v", err)
	}
	waitIdle(t, sim) // the client's cancellation ended the handler

	// Hang(false) releases the calls waiting.
	done := make(chan int)
	go func() {
		st, _ := rawCall(context.Background(), http.DefaultClient, s.URL)
		done <- st
	}()
	waitActive(t, sim, 1)
	select {
	case st := <-done:
		t.Fatalf("call returned %d while hanging", st)
	case <-time.After(30 * time.Millisecond):
	}
	sim.Hang(false)
	if st := <-done; st != 200 {
		t.Errorf("released call: HTTP %d", st)
	}
}

func TestCloseReleasesHungCalls(t *testing.T) {
	t.Parallel()
	s := NewServer(Options{Data: fixture(t)})
	s.Sim().Hang(true)
	done := make(chan bool)
	go func() {
		st, err := rawCall(context.Background(), http.DefaultClient, s.URL)
		done <- err == nil && st == 200
	}()
	waitActive(t, s.Sim(), 1)
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a hung call")
	}
	if succeeded := <-done; succeeded {
		t.Error("hung call did not fail when the server closed")
	}
}

func TestJSON2Knobs(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{Version: "19.0"})
	s.Sim().FailEvery(2)
	st1, _, _ := json2(t, s.URL, "res.country", "search_count", "demo-api-key", map[string]any{"domain": D()})
	if st1 != 200 {
		t.Errorf("first JSON-2 call: %d", st1)
	}
	req, _ := http.NewRequest("POST", s.URL+"/json/2/res.country/search_count", bytes.NewReader([]byte(`{"domain": []}`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "bearer demo-api-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 || s.Sim().Calls() != 2 {
		t.Errorf("second JSON-2 call: HTTP %d, Calls %d", resp.StatusCode, s.Sim().Calls())
	}
}
