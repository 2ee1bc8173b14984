package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	store "github.com/etlhost/etlhost/internal/history"
	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/queue"
	"github.com/etlhost/etlhost/report/web"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var t0 = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

func ptr(n int64) *int64 { return &n }

// nightly records three nights: vente always ok; achat ok, ok, then
// failed with an error that holds markup.
func nightly(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	for night := range 3 {
		at := t0.Add(time.Duration(night) * 24 * time.Hour)
		achat := store.ScriptRun{Name: "achat", Path: "scripts/achat.lua", Status: "ok", StartedAt: at,
			Duration: time.Duration(2+night) * time.Second, Rows: ptr(int64(100 + night)), Attempts: 1}
		status := "ok"
		if night == 2 {
			achat.Status, achat.Rows, achat.Duration = "failed", nil, 500*time.Millisecond
			achat.Error = `scripts/achat.lua:12: <script>alert("x")</script> odoo: access denied`
			status = "failed"
		}
		run := &store.Run{StartedAt: at, Duration: 5 * time.Second, Status: status, Hostname: "etl1", Version: "test", Scripts: []store.ScriptRun{
			{Name: "vente", Path: "scripts/vente.lua", Status: "ok", StartedAt: at, Duration: time.Second, Rows: ptr(7), Attempts: 1},
			achat,
		}}
		if _, err := s.Record(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
}

func openStore(t *testing.T, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, h http.Handler, method, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func TestPage(t *testing.T) {
	t.Parallel()
	s := openStore(t, pgtest.DSN(t))
	nightly(t, s)
	paris := time.FixedZone("CET", 3600)
	h := web.New(s, nil, web.Options{Location: paris, Now: func() time.Time { return t0.Add(72 * time.Hour) }, Refresh: time.Minute})
	res, body := get(t, h, http.MethodGet, "/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	for header, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
	} {
		if got := res.Header.Get(header); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q in it", header, got, want)
		}
	}
	achat := strings.Index(body, `data-job="achat"`)
	vente := strings.Index(body, `data-job="vente"`)
	if achat < 0 || vente < 0 {
		t.Fatalf("a job is missing from the page:\n%s", body)
	}
	if achat > vente {
		t.Errorf("the failing job achat should come before vente")
	}
	achatHTML, venteHTML := body[achat:vente], body[vente:]
	for _, want := range []string{
		`data-status="failed"`,
		`<span class="badge failed">failed</span>`,
		`33% (1 of 3)`,                   // failure rate
		`<dd class="last-rows">101</dd>`, // rows of the last ok run, not of the failed one
		`2026-12-02 03:00:00 CET`,        // last success, in the page's zone
		`<rect class="bar failed"`,       // the failed night in the chart
		`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; odoo: access denied`, // the error, escaped
		`avg 2.5s, max 3s`,
	} {
		if !strings.Contains(achatHTML, want) {
			t.Errorf("achat's section lacks %q:\n%s", want, achatHTML)
		}
	}
	if strings.Contains(body, `<script>`) {
		t.Errorf("the page holds a script element: the error was not escaped")
	}
	if n := strings.Count(achatHTML, `<rect class="bar `); n != 3 {
		t.Errorf("achat's chart has %d bars, want 3", n)
	}
	for _, want := range []string{`data-status="ok"`, `0% (0 of 3)`, `<dd class="last-rows">7</dd>`} {
		if !strings.Contains(venteHTML, want) {
			t.Errorf("vente's section lacks %q", want)
		}
	}
	if strings.Contains(venteHTML, `class="error"`) {
		t.Errorf("vente never failed but shows an error")
	}
	for _, want := range []string{`<meta http-equiv="refresh" content="60">`, `1 of 2 job(s) not ok`, `as of 2026-12-04 03:00:00 CET`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "/riverui/") {
		t.Errorf("the page links to River's UI, which is not served")
	}
}

// TestPageShowsEachJobsOwnRuns: a worker records every job as a run of its
// own, so a job run every minute must not push a nightly one off the page.
func TestPageShowsEachJobsOwnRuns(t *testing.T) {
	t.Parallel()
	s := openStore(t, pgtest.DSN(t))
	ctx := context.Background()
	record := func(name string, at time.Time) {
		t.Helper()
		if _, err := s.Record(ctx, &store.Run{StartedAt: at, Status: "ok", Scripts: []store.ScriptRun{
			{Name: name, Path: "scripts/" + name + ".lua", Status: "ok", StartedAt: at, Duration: time.Second, Attempts: 1},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	record("nightly", t0)
	for i := range 30 {
		record("minutely", t0.Add(time.Duration(i+1)*time.Minute))
	}
	recent, err := s.Recent(ctx, store.Query{Last: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(recent["nightly"]) != 1 || len(recent["minutely"]) != 5 {
		t.Fatalf("recent: nightly %d, minutely %d; want 1 and 5", len(recent["nightly"]), len(recent["minutely"]))
	}
	if got := recent["minutely"][0].StartedAt; !got.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("minutely's newest run started %v", got)
	}
	_, body := get(t, web.New(s, nil, web.Options{Runs: 5}), http.MethodGet, "/")
	if !strings.Contains(body, `data-job="nightly"`) {
		t.Errorf("the nightly job fell off the page")
	}
	if n := strings.Count(body, `<rect class="bar ok"`); n != 6 {
		t.Errorf("%d bars, want 1 + 5", n)
	}
}

func TestEmptyHistory(t *testing.T) {
	t.Parallel()
	s := openStore(t, pgtest.DSN(t))
	res, body := get(t, web.New(s, nil, web.Options{Refresh: -1}), http.MethodGet, "/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "No runs recorded yet") {
		t.Fatalf("status %d:\n%s", res.StatusCode, body)
	}
	if strings.Contains(body, `http-equiv="refresh"`) {
		t.Errorf("a negative Refresh still reloads the page")
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	s := openStore(t, pgtest.DSN(t))
	h := web.New(s, nil, web.Options{})
	tests := []struct {
		method, path string
		status       int
		body, allow  string
	}{
		{http.MethodGet, "/healthz", http.StatusOK, "ok\n", ""},
		{http.MethodHead, "/", http.StatusOK, "", ""},
		{http.MethodPost, "/", http.StatusMethodNotAllowed, "read-only", "GET, HEAD"},
		{http.MethodDelete, "/healthz", http.StatusMethodNotAllowed, "read-only", "GET, HEAD"},
		{http.MethodGet, "/nothing-here", http.StatusNotFound, "not found", ""},
		{http.MethodGet, "/riverui/", http.StatusNotFound, "not found", ""}, // no River client given
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			res, body := get(t, h, tt.method, tt.path)
			if res.StatusCode != tt.status || !strings.Contains(body, tt.body) {
				t.Errorf("status %d, body %q; want %d with %q", res.StatusCode, body, tt.status, tt.body)
			}
			if got := res.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
		})
	}
}

func TestHealthzWhenTheDatabaseIsGone(t *testing.T) {
	t.Parallel()
	s, err := store.Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	h := web.New(s, nil, web.Options{})
	s.Close()
	if res, body := get(t, h, http.MethodGet, "/healthz"); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d (%q), want 503", res.StatusCode, body)
	}
	if res, _ := get(t, h, http.MethodGet, "/"); res.StatusCode != http.StatusInternalServerError {
		t.Errorf("page status %d, want 500", res.StatusCode)
	}
}

// riverUI serves the page with River's UI over the queue of dsn.
func riverUI(t *testing.T, dsn string, s *store.Store) http.Handler {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	q, err := queue.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
	river, err := web.RiverUI(ctx, q.Client(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return web.New(s, river, web.Options{})
}

func TestRiverUI(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	s := openStore(t, dsn)
	nightly(t, s)
	h := riverUI(t, dsn, s)
	res, body := get(t, h, http.MethodGet, "/riverui/")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("River's UI: status %d, %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.Contains(body, `id="root"`) {
		t.Errorf("River's UI page lacks its root element:\n%s", body)
	}
	res, body = get(t, h, http.MethodGet, "/riverui/api/queues")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(body), "{") {
		t.Errorf("River's API: status %d, %s", res.StatusCode, body)
	}
	if res, _ := get(t, h, http.MethodGet, "/riverui"); res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/riverui/" {
		t.Errorf("/riverui: status %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, body := get(t, h, http.MethodGet, "/"); !strings.Contains(body, `href="/riverui/"`) {
		t.Errorf("the page does not link to River's UI")
	}
}
