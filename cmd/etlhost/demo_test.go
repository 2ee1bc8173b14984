package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/host"
)

// demoClusterDir finds the cluster directory the demo announced.
func demoClusterDir(t *testing.T, stderr string) string {
	t.Helper()
	m := regexp.MustCompile(`throwaway cluster in (\S+)\)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("the demo did not say where its cluster is:\n%s", stderr)
	}
	return m[1]
}

func checkCleanedUp(t *testing.T, stderr string) {
	t.Helper()
	if !strings.Contains(stderr, "demo: stopped the Odoo simulator and PostgreSQL") {
		t.Errorf("the demo did not report stopping what it started:\n%s", stderr)
	}
	if _, err := os.Stat(demoClusterDir(t, stderr)); !os.IsNotExist(err) {
		t.Errorf("the cluster directory is still there after the demo (%v)", err)
	}
}

// TestDemo runs `etlhost demo` in process on a small data set: it finds
// scripts/ in the repository, runs the three jobs as `etlhost run` does
// (their summary), prints rows of each table, cleans up, and exits 0.
func TestDemo(t *testing.T) {
	t.Parallel()
	out := run(t, nil, "demo", "--moves", "400", "--seed", "3", "--rows", "2")
	if out.code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", out.code, out.stdout, out.stderr)
	}
	// Each shipped job ends ok; an analyst's own job in scripts/ may be
	// there too, so the count is not checked.
	for _, re := range []string{`Summary \(completion order\)`, `(?m)^  ok +\S+  achat_importation_upsert `,
		`(?m)^  ok +\S+  ventes_locales_upsert `, `(?m)^  ok +\S+  achats_locaux_echeance_upsert `} {
		if !regexp.MustCompile(re).MatchString(out.stderr) {
			t.Errorf("stderr does not match %s:\n%s", re, out.stderr)
		}
	}
	for _, table := range []string{"achat_importation", "ventes_locales", "achats_locaux_echeance"} {
		re := regexp.MustCompile(`(?m)^` + table + `: (\d+) rows \(the first 2\)\n  (odoo_move_id|odoo_line_id) .*\n  \d+ .*\n  \d+ `)
		if !re.MatchString(out.stdout) {
			t.Errorf("stdout does not show two rows of %s:\n%s", table, out.stdout)
		}
	}
	if strings.Contains(out.stdout, "etl_loaded_at") || strings.Contains(out.stdout, "etlhost_state") {
		t.Errorf("the demo shows etl_loaded_at or etlhost_state:\n%s", out.stdout)
	}
	checkCleanedUp(t, out.stderr)
}

// TestDemoInterrupted cancels the demo as Ctrl+C does while its jobs wait
// for a slow Odoo: the jobs are cancelled, everything is stopped and
// removed, the exit code is 130.
func TestDemoInterrupted(t *testing.T) {
	t.Parallel()
	var stdout, stderr lockedBuffer
	app := &App{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		for !strings.Contains(stderr.String(), "start ") {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		cancel(host.ErrInterrupted)
	}()
	code := app.Run(ctx, []string{"etlhost", "demo", "--moves", "300", "--latency", "400ms"})
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, ExitInterrupted, stderr.String())
	}
	if !strings.Contains(stderr.String(), "cancelled") {
		t.Errorf("the summary does not show cancelled jobs:\n%s", stderr.String())
	}
	if strings.Contains(stdout.String(), "rows") {
		t.Errorf("an interrupted demo still printed tables:\n%s", stdout.String())
	}
	checkCleanedUp(t, stderr.String())
}

// TestDemoBench runs the bench on a tiny data set, once per figure: it
// prints both comparisons with their ratios (speed itself is not asserted).
func TestDemoBench(t *testing.T) {
	t.Parallel()
	out := run(t, nil, "demo", "--bench", "--moves", "150", "--reps", "1")
	if out.code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", out.code, out.stdout, out.stderr)
	}
	for _, re := range []string{
		`bench: 150 moves \(seed 1\), median wall time of 1 whole runs each; Odoo max_in_flight 8; \d+ CPUs`,
		`latency 5ms:\n  the three scripts one after another \(--jobs 1\) +\d+\.\d{3}s`,
		`\n  the three scripts together +\d+\.\d{3}s`,
		`together vs one after another: \d+\.\d\dx faster`,
		`latency 50ms, the three scripts together:\n  before: without light threads \(testdata/sequential\) +\d+\.\d{3}s`,
		`\n  after: the scripts with task concurrency +\d+\.\d{3}s`,
		`after vs before: \d+\.\d\dx faster`,
	} {
		if !regexp.MustCompile(re).MatchString(out.stdout) {
			t.Errorf("bench output does not match %q:\n%s", re, out.stdout)
		}
	}
	checkCleanedUp(t, out.stderr)
}

// TestDemoUsage: wrong flags are usage errors, before anything starts.
func TestDemoUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"demo", "extra"},
		{"demo", "--moves", "-1"},
		{"demo", "--bench", "--jobs", "1"},
		{"demo", "--scripts", "/nonexistent"},
		{"demo", "--scripts", t.TempDir()}, // no .lua in it
	} {
		out := run(t, nil, args...)
		if out.code != ExitUsage || strings.Contains(out.stderr, "PostgreSQL started") {
			t.Errorf("%v: exit %d, want %d before starting anything\n%s", args, out.code, ExitUsage, out.stderr)
		}
	}
}

// TestDemoWithAFourthJob: an analyst's own job beside the shipped ones (a
// copy of scripts/ with one more, and a test file) changes nothing for
// them: each ends ok, the fourth too, and the test file is not run.
func TestDemoWithAFourthJob(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../scripts")); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "receivables_aged.lua", "local odoo = require('odoo')\nlocal erp = odoo.connect()\nreturn {rows = erp:count('account.move', {{'move_type', '=', 'out_invoice'}})}")
	write(t, dir, "receivables_aged_test.lua", "error('a test file ran as a job')")
	out := run(t, nil, "demo", "--scripts", dir, "--moves", "300", "--seed", "5", "--rows", "1")
	if out.code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", out.code, out.stdout, out.stderr)
	}
	for _, job := range []string{"achat_importation_upsert", "ventes_locales_upsert", "achats_locaux_echeance_upsert", "receivables_aged"} {
		if !regexp.MustCompile(`(?m)^  ok +\S+  ` + job + ` `).MatchString(out.stderr) {
			t.Errorf("%s did not end ok:\n%s", job, out.stderr)
		}
	}
	if !strings.Contains(out.stderr, "receivables_aged_test.lua is a test file, not a job: not run") {
		t.Errorf("no note for the test file:\n%s", out.stderr)
	}
	checkCleanedUp(t, out.stderr)
}
