package history

import (
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/host"
	store "github.com/etlhost/etlhost/internal/history"
)

// TestRun: the record of a run holds each script's outcome and its rows.
func TestRun(t *testing.T) {
	t.Parallel()
	r := &Recorder{version: "v1.2.3"}
	at := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	run := r.run(&host.Report{Status: host.StatusFailed, StartedAt: at, Duration: time.Minute, Scripts: []*host.Result{
		{Name: "loader", Status: host.StatusOK, Value: map[string]any{"rows": float64(412)}},
		{Name: "broken", Status: host.StatusFailed, Error: "no ledger"},
	}})
	if run.Status != "failed" || run.Version != "v1.2.3" || !run.StartedAt.Equal(at) || len(run.Scripts) != 2 {
		t.Fatalf("%+v", run)
	}
	if l := run.Scripts[0]; l.Rows == nil || *l.Rows != 412 || string(l.Result) != `{"rows":412}` {
		t.Fatalf("loader %+v", l)
	}
	if b := run.Scripts[1]; b.Rows != nil || b.Result != nil || b.Error != "no ledger" {
		t.Fatalf("broken %+v", b)
	}
}

func TestWriteTextEmpty(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	WriteText(&b, nil, nil, store.Query{Last: 20})
	if b.String() != "No run in the history yet (record runs with etlhost run --history).\n" {
		t.Fatalf("%q", b.String())
	}
	b.Reset()
	WriteText(&b, nil, nil, store.Query{Last: 20, Script: "loader"})
	if b.String() != "No run of loader in the history.\n" {
		t.Fatalf("%q", b.String())
	}
}

func TestOpenUnknownConnection(t *testing.T) {
	t.Parallel()
	cfg := &host.Config{Postgres: map[string]host.PostgresConn{}}
	if _, err := Open(cfg, "default"); err == nil || !strings.Contains(err.Error(), "no default PostgreSQL connection") {
		t.Fatalf("%v", err)
	}
	if _, err := Open(cfg, "warehouse"); err == nil || err.Error() != `no PostgreSQL connection named "warehouse"` {
		t.Fatalf("%v", err)
	}
}
