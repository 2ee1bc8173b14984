package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// hook is a webhook receiver that records what it is sent.
type hook struct {
	mu     sync.Mutex
	bodies []string
	ctypes []string
	status int
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Method == http.MethodPost {
		h.bodies = append(h.bodies, string(b))
		h.ctypes = append(h.ctypes, r.Header.Get("Content-Type"))
	}
	if h.status != 0 {
		w.WriteHeader(h.status)
	}
}

func TestNotifyOnFailure(t *testing.T) {
	t.Parallel()
	h := &hook{}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ok := write(t, dir, "fine.lua", "return {rows = 2}")
	bad := write(t, dir, "broken.lua", "error('no ledger')")

	// A successful run sends nothing.
	if out := run(t, nil, "run", "--notify", srv.URL+"/hooks/T0K3N", ok); out.code != ExitOK {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	// A failed run POSTs the JSON report, the URL coming from the
	// environment this time.
	out := run(t, map[string]string{"ETLHOST_NOTIFY_URL": srv.URL + "/hooks/T0K3N"}, "run", ok, bad)
	if out.code != ExitFailed {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.bodies) != 1 {
		t.Fatalf("%d notifications, want 1", len(h.bodies))
	}
	if h.ctypes[0] != "application/json" {
		t.Errorf("content type %q", h.ctypes[0])
	}
	var rep struct {
		Status     string
		DurationMS *int64 `json:"duration_ms"`
		Scripts    []struct{ Name, Status, Error string }
	}
	if err := json.Unmarshal([]byte(h.bodies[0]), &rep); err != nil {
		t.Fatalf("body is not the JSON report: %v\n%s", err, h.bodies[0])
	}
	if rep.Status != "failed" || rep.DurationMS == nil || len(rep.Scripts) != 2 {
		t.Fatalf("report %+v", rep)
	}
	for _, s := range rep.Scripts {
		if s.Name == "broken" && (s.Status != "failed" || !strings.Contains(s.Error, "no ledger")) {
			t.Errorf("broken: %+v", s)
		}
	}
}

func TestNotifyErrorsKeepTheToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := write(t, dir, "broken.lua", "error('no ledger')")

	// The server refuses: reported, exit code unchanged.
	srv := httptest.NewServer(&hook{status: http.StatusForbidden})
	t.Cleanup(srv.Close)
	var printed []string
	out := run(t, nil, "run", "--notify", srv.URL+"/hooks/T0K3N?key=S3CRET", bad)
	printed = append(printed, out.stderr)
	if out.code != ExitFailed || !strings.Contains(out.stderr, "--notify: "+srv.URL+" answered 403 Forbidden") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	// Nobody listens.
	down := httptest.NewServer(&hook{})
	url := down.URL
	down.Close()
	out = run(t, nil, "run", "--notify", url+"/hooks/T0K3N?key=S3CRET", bad)
	printed = append(printed, out.stderr)
	if out.code != ExitFailed || !strings.Contains(out.stderr, "--notify: cannot POST the report to "+url) {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	// A bad URL is reported before the run.
	out = run(t, nil, "run", "--notify", "ftp://example.com/T0K3N", bad)
	printed = append(printed, out.stderr)
	if out.code != ExitFailed || !strings.HasPrefix(out.stderr, "etlhost: --notify: expected an http:// or https:// URL; no notification will be sent") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	for _, o := range printed {
		if strings.Contains(o, "T0K3N") || strings.Contains(o, "S3CRET") {
			t.Errorf("the webhook's token was printed:\n%s", o)
		}
	}
}
