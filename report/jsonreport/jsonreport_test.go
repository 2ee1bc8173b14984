package jsonreport

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/host"
)

func TestWriter(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	rep := &host.Report{Status: host.StatusOK, Duration: 1500 * time.Millisecond,
		Scripts: []*host.Result{{Name: "alpha", Status: host.StatusOK, Duration: time.Second, Value: map[string]any{"rows": 42}}}}
	if err := (&Writer{W: &b}).Finish(rep); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Status       string
		DurationMS   int64 `json:"duration_ms"`
		ScriptTimeMS int64 `json:"script_time_ms"`
		Scripts      []struct {
			Name       string
			DurationMS int64 `json:"duration_ms"`
			Result     map[string]any
		}
	}
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != "ok" || got.DurationMS != 1500 || got.ScriptTimeMS != 1000 || got.Scripts[0].Result["rows"] != float64(42) {
		t.Fatalf("%+v", got)
	}
	if !strings.HasPrefix(b.String(), "{\n  \"status\"") {
		t.Fatalf("not indented:\n%s", b.String())
	}
}

// TestWriterStatusesAndAttempts: a skipped job carries its status and why,
// a retried one its attempts (the last is what its status reports), and a
// job that may not be retried has no attempts at all.
func TestWriterStatusesAndAttempts(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
	rep := &host.Report{Status: host.StatusFailed, StartedAt: t0, Duration: 4 * time.Second, Scripts: []*host.Result{
		{Name: "achat", Status: host.StatusFailed, StartedAt: t0, Duration: time.Second, Error: "achat.lua:3: boom"},
		{Name: "ventes", Status: host.StatusOK, StartedAt: t0, Duration: 3 * time.Second, Value: map[string]any{"rows": 7},
			Attempts: []host.Attempt{
				{Attempt: 1, StartedAt: t0, Duration: 500 * time.Millisecond, Status: host.StatusFailed, Error: "ventes.lua:9: connection refused", Transient: true, Reason: "odoo: connection refused"},
				{Attempt: 2, StartedAt: t0.Add(2 * time.Second), Duration: time.Second, Status: host.StatusOK},
			}},
		{Name: "rapport", Status: host.StatusSkipped, StartedAt: t0.Add(time.Second), Error: "skipped: achat failed"},
	}}
	var b strings.Builder
	if err := (&Writer{W: &b}).Finish(rep); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Scripts []map[string]any
	}
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		script, path string
		want         any
	}{
		{"achat", "status", "failed"},
		{"achat", "attempts", nil},
		{"rapport", "status", "skipped"},
		{"rapport", "error", "skipped: achat failed"},
		{"rapport", "duration_ms", float64(0)},
		{"rapport", "attempts", nil},
		{"ventes", "status", "ok"},
		{"ventes", "attempts", `[{"attempt":1,"duration_ms":500,"error":"ventes.lua:9: connection refused","reason":"odoo: connection refused","started_at":"2026-12-04T07:00:00Z","status":"failed","transient":true},` +
			`{"attempt":2,"duration_ms":1000,"started_at":"2026-12-04T07:00:02Z","status":"ok"}]`},
	}
	byName := map[string]map[string]any{}
	for _, s := range got.Scripts {
		byName[s["name"].(string)] = s
	}
	for _, tt := range tests {
		v := byName[tt.script][tt.path]
		if l, ok := v.([]any); ok {
			enc, _ := json.Marshal(l)
			v = string(enc)
		}
		if v != tt.want {
			t.Errorf("%s.%s = %v, want %v", tt.script, tt.path, v, tt.want)
		}
	}
}
