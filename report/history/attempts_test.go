package history

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/host"
	store "github.com/etlhost/etlhost/internal/history"
	"github.com/etlhost/etlhost/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestSkippedAndAttempts records, in a real history, a run where a job was
// retried, one failed, one was skipped for it and one was cancelled before
// it started, then a run where all ended ok; and checks what `etlhost
// history` prints: the skipped status, counted as not ok but said apart,
// and the attempts.
func TestSkippedAndAttempts(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
	rec := &Recorder{version: "v1"}
	achat, ventes := &host.Script{Name: "achat"}, &host.Script{Name: "ventes"}
	rec.ScriptStarted(achat, t0)
	rec.ScriptStarted(ventes, t0)
	first := rec.run(&host.Report{Status: host.StatusFailed, StartedAt: t0, Duration: 5 * time.Second, Scripts: []*host.Result{
		{Name: "achat", Status: host.StatusFailed, StartedAt: t0, Duration: time.Second, Error: "achat.lua:3: boom"},
		{Name: "rapport", Status: host.StatusSkipped, StartedAt: t0.Add(time.Second), Error: "skipped: achat failed"},
		{Name: "ventes", Status: host.StatusOK, StartedAt: t0, Duration: 4 * time.Second, Value: map[string]any{"rows": float64(7)},
			Attempts: []host.Attempt{
				{Attempt: 1, StartedAt: t0, Duration: time.Second, Status: host.StatusFailed, Error: "ventes.lua:9: refused", Transient: true, Reason: "odoo: connection refused"},
				{Attempt: 2, StartedAt: t0.Add(2 * time.Second), Duration: 2 * time.Second, Status: host.StatusOK},
			}},
		{Name: "late", Status: host.StatusCancelled, StartedAt: t0.Add(time.Second), Error: "cancelled before it started: interrupted"},
	}})
	for _, tt := range []struct {
		script   string
		attempts int
		log      int
	}{{"achat", 1, 0}, {"rapport", 0, 0}, {"ventes", 2, 2}, {"late", 0, 0}} {
		for _, sr := range first.Scripts {
			if sr.Name == tt.script && (sr.Attempts != tt.attempts || len(sr.AttemptLog) != tt.log) {
				t.Errorf("%s: %d attempts, %d in the log; want %d, %d", tt.script, sr.Attempts, len(sr.AttemptLog), tt.attempts, tt.log)
			}
		}
	}

	rec = &Recorder{version: "v1"}
	for _, s := range []string{"achat", "rapport", "ventes", "late"} {
		rec.ScriptStarted(&host.Script{Name: s}, t0)
	}
	t1 := t0.Add(24 * time.Hour)
	second := rec.run(&host.Report{Status: host.StatusOK, StartedAt: t1, Duration: 3 * time.Second, Scripts: []*host.Result{
		{Name: "achat", Status: host.StatusOK, StartedAt: t1, Duration: time.Second},
		{Name: "rapport", Status: host.StatusOK, StartedAt: t1.Add(time.Second), Duration: time.Second},
		{Name: "ventes", Status: host.StatusOK, StartedAt: t1, Duration: 2 * time.Second},
		{Name: "late", Status: host.StatusOK, StartedAt: t1, Duration: time.Second},
	}})
	ctx := context.Background()
	s, err := store.Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, run := range []*store.Run{first, second} {
		if _, err := s.Record(ctx, run); err != nil {
			t.Fatal(err)
		}
	}

	for _, tt := range []struct {
		name   string
		q      store.Query
		want   []string
		absent []string
	}{
		{"all scripts", store.Query{Last: 20}, []string{
			`(?m)^ +1  \S+ \S+ +5\.0s  failed +1 ok, 1 failed, 1 skipped, 1 cancelled, 1 retried$`,
			`(?m)^ +2  \S+ \S+ +3\.0s  ok +4 ok$`,
			`(?m)^  SCRIPT +RUNS +FAILED +FAILURE RATE  RETRIED  LAST +LAST OK`,
			`(?m)^  rapport +2  1 \(1 skipped\) +50% +0  ok .* 1\.0s skipped$`,
			`(?m)^  ventes +2 +0 +0% +1  ok `,
			`(?m)^  achat +2 +1 +50% +0  ok `,
		}, []string{`ATTEMPTS`}},
		{"a skipped script", store.Query{Last: 20, Script: "rapport"}, []string{
			`(?m)^ +RUN  STARTED +DURATION  STATUS +ATTEMPTS  ROWS  ERROR$`,
			`(?m)^ +1  \S+ \S+ +0ms  skipped +0 +skipped: achat failed$`,
			`(?m)^ +2  \S+ \S+ +1\.0s  ok +1$`,
		}, []string{`RETRIED`}},
		{"a retried script", store.Query{Last: 20, Script: "ventes"}, []string{
			`(?m)^ +1  \S+ \S+ +4\.0s  ok +2 +7  retried after: odoo: connection refused$`,
			`(?m)^  SCRIPT +RUNS +FAILED +FAILURE RATE  RETRIED  LAST`,
		}, nil},
		{"a script that always ran once", store.Query{Last: 20, Script: "achat"}, []string{
			`(?m)^ +RUN  STARTED +DURATION  STATUS +ROWS  ERROR$`,
			`(?m)^ +1  \S+ \S+ +1\.0s  failed +achat\.lua:3: boom$`,
		}, []string{`ATTEMPTS`, `RETRIED`, `skipped`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			runs, err := s.Runs(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			stats, err := s.Scripts(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			WriteText(&b, runs, stats, tt.q)
			for _, re := range tt.want {
				if !regexp.MustCompile(re).MatchString(b.String()) {
					t.Errorf("lacks %s:\n%s", re, b.String())
				}
			}
			for _, re := range tt.absent {
				if regexp.MustCompile(re).MatchString(b.String()) {
					t.Errorf("has %s:\n%s", re, b.String())
				}
			}
		})
	}
}
