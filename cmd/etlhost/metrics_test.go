package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// The metrics file itself is tested in report/metrics; this is its flag.
func TestMetricsFileUnwritable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok := write(t, dir, "ok.lua", "return 1")
	out := run(t, nil, "run", "--metrics-file", filepath.Join(dir, "missing", "x.prom"), ok)
	// The run's outcome decides the exit code; the failure is reported.
	if out.code != ExitOK || !strings.Contains(out.stderr, "--metrics-file: cannot create a temporary file") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
}
