package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/etlhost/etlhost/host"
)

// TestWebhook: a run that ends ok sends nothing; one that does not POSTs
// its JSON report; errors never show the URL's path or query.
func TestWebhook(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies, agents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, string(b))
		agents = append(agents, r.Header.Get("User-Agent"))
		if strings.Contains(r.URL.Path, "refuse") {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	t.Cleanup(srv.Close)
	w, err := New(srv.URL+"/hooks/T0K3N", "etlhost/test")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(&host.Report{Status: host.StatusOK}); err != nil {
		t.Fatal(err)
	}
	failed := &host.Report{Status: host.StatusFailed, Scripts: []*host.Result{{Name: "broken", Status: host.StatusFailed, Error: "no ledger"}}}
	if err := w.Finish(failed); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(bodies) != 1 || agents[0] != "etlhost/test" {
		t.Fatalf("bodies %q, agents %q", bodies, agents)
	}
	var rep struct {
		Status  string
		Scripts []struct{ Name, Error string }
	}
	if err := json.Unmarshal([]byte(bodies[0]), &rep); err != nil || rep.Status != "failed" || rep.Scripts[0].Error != "no ledger" {
		t.Fatalf("report %+v (%v)", rep, err)
	}
	mu.Unlock()

	refused, _ := New(srv.URL+"/refuse/T0K3N?key=S3CRET", "etlhost/test")
	err = refused.Finish(failed)
	if err == nil || err.Error() != srv.URL+" answered 403 Forbidden to the report" {
		t.Fatalf("error %v", err)
	}
	if _, err := New("ftp://example.com/T0K3N", ""); err == nil || strings.Contains(err.Error(), "T0K3N") {
		t.Fatalf("bad URL: %v", err)
	}
}
