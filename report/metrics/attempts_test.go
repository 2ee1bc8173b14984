package metrics

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/etlhost/etlhost/host"
)

// TestMetricsSkippedAndAttempts: a job skipped because the one it runs
// after failed has its skipped status series at 1 and no attempt; a
// retried job's attempts are its count; a job cancelled before it started
// ran none. The first run is a real one, the second a report of the host's
// retries.
func TestMetricsSkippedAndAttempts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := write(t, dir, "bad.lua", "error('boom')")
	after := write(t, dir, "rapport.lua", "--! after = bad\nreturn {rows = 1}")
	solo := write(t, dir, "solo.lua", "return {rows = 2}")
	real := filepath.Join(dir, "real.prom")
	if st := runWithMetrics(t, real, bad, after, solo); st != host.StatusFailed {
		t.Fatalf("run %s", st)
	}

	t0 := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
	f := &File{Path: filepath.Join(dir, "retries.prom")}
	f.ScriptStarted(&host.Script{Name: "ventes"}, t0)
	f.ScriptStarted(&host.Script{Name: "once"}, t0)
	if err := f.Finish(&host.Report{Status: host.StatusCancelled, StartedAt: t0, Duration: time.Minute, Scripts: []*host.Result{
		{Name: "ventes", Status: host.StatusOK, StartedAt: t0, Duration: time.Minute, Attempts: []host.Attempt{
			{Attempt: 1, Status: host.StatusFailed, Transient: true}, {Attempt: 2, Status: host.StatusFailed, Transient: true}, {Attempt: 3, Status: host.StatusOK}}},
		{Name: "once", Status: host.StatusOK, StartedAt: t0, Duration: time.Second},
		{Name: "late", Status: host.StatusCancelled, StartedAt: t0, Error: "cancelled before it started: interrupted"},
	}}); err != nil {
		t.Fatal(err)
	}

	files := map[string]map[string]*promFamily{}
	for _, p := range []string{real, f.Path} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if files[p], err = parseProm(string(data)); err != nil {
			t.Fatalf("%v\n%s", err, data)
		}
	}
	for _, tt := range []struct {
		file   string
		want   float64
		name   string
		labels []string
	}{
		{real, 1, "etlhost_script_status", []string{"script", "rapport", "status", "skipped"}},
		{real, 0, "etlhost_script_status", []string{"script", "rapport", "status", "failed"}},
		{real, 0, "etlhost_script_status", []string{"script", "solo", "status", "skipped"}},
		{real, 1, "etlhost_run_scripts", []string{"status", "skipped"}},
		{real, 1, "etlhost_run_scripts", []string{"status", "failed"}},
		{real, 0, "etlhost_script_attempts", []string{"script", "rapport"}},
		{real, 1, "etlhost_script_attempts", []string{"script", "bad"}},
		{real, 1, "etlhost_script_attempts", []string{"script", "solo"}},
		{f.Path, 3, "etlhost_script_attempts", []string{"script", "ventes"}},
		{f.Path, 1, "etlhost_script_attempts", []string{"script", "once"}},
		{f.Path, 0, "etlhost_script_attempts", []string{"script", "late"}},
		{f.Path, 0, "etlhost_run_scripts", []string{"status", "skipped"}},
	} {
		got, ok := value(t, files[tt.file], tt.name, tt.labels...)
		if !ok || got != tt.want {
			t.Errorf("%s: %s%v = %v (present %v), want %v", filepath.Base(tt.file), tt.name, tt.labels, got, ok, tt.want)
		}
	}
}
