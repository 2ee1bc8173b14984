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
