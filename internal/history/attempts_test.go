package history_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/internal/history"
	"github.com/etlhost/etlhost/internal/pgtest"
)

// TestRecordSkippedAndAttempts: a skipped job and a job's attempts are
// recorded and read back; a skipped result counts as not ok in a script's
// figures, and apart (Skipped), and a result that took several attempts
// counts as retried.
func TestRecordSkippedAndAttempts(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.DSN(t))
	ctx := context.Background()
	t0 := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
	retried := []history.Attempt{
		{Attempt: 1, StartedAt: t0, Duration: 500 * time.Millisecond, Status: "failed", Error: "ventes.lua:9: connection refused",
			Transient: true, Reason: "odoo: connection refused"},
		{Attempt: 2, StartedAt: t0.Add(2 * time.Second), Duration: time.Second, Status: "ok"},
	}
	runs := []*history.Run{
		{StartedAt: t0, Duration: 3 * time.Second, Status: "failed", Scripts: []history.ScriptRun{
			{Name: "achat", Path: "achat.lua", Status: "failed", StartedAt: t0, Duration: time.Second, Error: "achat.lua:3: boom", Attempts: 1},
			{Name: "rapport", Path: "rapport.lua", Status: "skipped", StartedAt: t0.Add(time.Second), Error: "skipped: achat failed"},
			{Name: "ventes", Path: "ventes.lua", Status: "ok", StartedAt: t0, Duration: 3 * time.Second, Attempts: 2, AttemptLog: retried},
		}},
		{StartedAt: t0.Add(time.Hour), Duration: time.Second, Status: "ok", Scripts: []history.ScriptRun{
			{Name: "achat", Path: "achat.lua", Status: "ok", StartedAt: t0.Add(time.Hour), Duration: time.Second, Attempts: 1},
			{Name: "rapport", Path: "rapport.lua", Status: "ok", StartedAt: t0.Add(time.Hour + time.Second), Duration: time.Second, Attempts: 1},
			{Name: "ventes", Path: "ventes.lua", Status: "ok", StartedAt: t0.Add(time.Hour), Duration: time.Second, Attempts: 1,
				AttemptLog: []history.Attempt{{Attempt: 1, StartedAt: t0.Add(time.Hour), Duration: time.Second, Status: "ok"}}},
		}},
	}
	for _, r := range runs {
		if _, err := s.Record(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Runs(ctx, history.Query{Last: 2})
	if err != nil || len(got) != 2 {
		t.Fatalf("%v %+v", err, got)
	}
	first := map[string]history.ScriptRun{}
	for _, sr := range got[1].Scripts {
		first[sr.Name] = sr
	}
	tests := []struct {
		script      string
		status, err string
		attempts    int
		log         string
	}{
		{"achat", "failed", "achat.lua:3: boom", 1, "[]"},
		{"rapport", "skipped", "skipped: achat failed", 0, "[]"},
		{"ventes", "ok", "", 2, fmt.Sprint(retried)},
	}
	for _, tt := range tests {
		sr := first[tt.script]
		if sr.Status != tt.status || sr.Error != tt.err || sr.Attempts != tt.attempts || fmt.Sprint(sr.AttemptLog) != tt.log {
			t.Errorf("%s: status %q, error %q, %d attempts %v; want %q, %q, %d %s", tt.script, sr.Status, sr.Error, sr.Attempts, sr.AttemptLog,
				tt.status, tt.err, tt.attempts, tt.log)
		}
	}
	b, _ := json.Marshal(first["ventes"])
	if !strings.Contains(string(b), `"attempts":2,"attempt_log":[{"attempt":1,"started_at":"2026-12-04T07:00:00Z","status":"failed","error":"ventes.lua:9: connection refused","transient":true,"reason":"odoo: connection refused","duration_ms":500},`) {
		t.Errorf("JSON %s", b)
	}

	stats, err := s.Scripts(ctx, history.Query{Last: 10})
	if err != nil {
		t.Fatal(err)
	}
	figures := map[string]string{}
	for _, st := range stats {
		figures[st.Name] = fmt.Sprintf("runs=%d failures=%d skipped=%d retried=%d rate=%.1f last=%s statuses=%v",
			st.Runs, st.Failures, st.Skipped, st.Retried, st.FailureRate, st.LastStatus, st.Statuses)
	}
	for name, want := range map[string]string{
		"achat":   "runs=2 failures=1 skipped=0 retried=0 rate=0.5 last=ok statuses=[ok failed]",
		"rapport": "runs=2 failures=1 skipped=1 retried=0 rate=0.5 last=ok statuses=[ok skipped]",
		"ventes":  "runs=2 failures=0 skipped=0 retried=1 rate=0.0 last=ok statuses=[ok ok]",
	} {
		if figures[name] != want {
			t.Errorf("%s: %s, want %s", name, figures[name], want)
		}
	}
}

// TestMigrateToVersion2: a database an older etlhost migrated to version 1
// (and recorded a run in) is migrated: its results count one attempt, a
// skipped result is accepted, an unknown status still refused, and the
// older etlhost's own insert, which knows nothing of attempts, still works.
func TestMigrateToVersion2(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	old, err := history.OpenAt(ctx, dsn, 1)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	pgtest.Exec(t, dsn, `INSERT INTO etlhost.runs (started_at, duration_ms, status) VALUES ($1, 1000, 'ok')`, t0)
	pgtest.Exec(t, dsn, `INSERT INTO etlhost.script_runs (run_id, script, path, status, started_at, duration_ms)
		SELECT id, 'ventes', 'ventes.lua', 'ok', $1, 1000 FROM etlhost.runs`, t0)
	if v, err := old.SchemaVersion(ctx); err != nil || v != 1 {
		t.Fatalf("version %d, %v", v, err)
	}
	old.Close()

	s := open(t, dsn)
	if v, err := s.SchemaVersion(ctx); err != nil || v != history.LatestVersion() || v < 2 {
		t.Fatalf("version %d, %v", v, err)
	}
	runs, err := s.Runs(ctx, history.Query{})
	if err != nil || len(runs) != 1 || len(runs[0].Scripts) != 1 {
		t.Fatalf("%v %+v", err, runs)
	}
	if sr := runs[0].Scripts[0]; sr.Attempts != 1 || sr.AttemptLog != nil {
		t.Errorf("a result of version 1: %+v", sr)
	}
	for _, tt := range []struct {
		status string
		ok     bool
	}{{"skipped", true}, {"exploded", false}} {
		_, err := s.Record(ctx, &history.Run{StartedAt: t0, Status: "failed", Scripts: []history.ScriptRun{
			{Name: tt.status, Path: tt.status + ".lua", Status: tt.status, StartedAt: t0}}})
		if (err == nil) != tt.ok {
			t.Errorf("status %s: %v", tt.status, err)
		}
	}
	pgtest.Exec(t, dsn, `INSERT INTO etlhost.script_runs (run_id, script, path, status, started_at, duration_ms)
		SELECT id, 'achat', 'achat.lua', 'ok', $1, 1000 FROM etlhost.runs ORDER BY id LIMIT 1`, t0)
	rows := pgtest.QueryRows(t, dsn, `SELECT attempts, attempt_log IS NULL FROM etlhost.script_runs WHERE script = 'achat'`)
	if fmt.Sprint(rows) != "[[1 true]]" {
		t.Errorf("an older etlhost's row: %v", rows)
	}
}
