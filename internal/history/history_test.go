package history_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlhost/etlhost/internal/history"
	"github.com/etlhost/etlhost/internal/pgcluster"
	"github.com/etlhost/etlhost/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t *testing.T, dsn string) *history.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := history.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestMigrateConcurrently opens the history from several processes' worth
// of connections at once on an empty database: each must succeed and the
// schema be migrated exactly once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := history.Open(ctx, dsn)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent open: %v", err)
	}
	rows := pgtest.QueryRows(t, dsn, "SELECT version, name FROM etlhost.schema_migrations ORDER BY version")
	if len(rows) != history.LatestVersion() {
		t.Fatalf("schema_migrations: %v", rows)
	}
	s := open(t, dsn) // once more: nothing to do
	if v, err := s.SchemaVersion(context.Background()); err != nil || v != history.LatestVersion() {
		t.Fatalf("version %d, %v", v, err)
	}
}

func ptr(n int64) *int64 { return &n }

// TestRecordAndQuery records three runs with scripts ending ok, failed,
// timeout and cancelled, then reads them back.
func TestRecordAndQuery(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.DSN(t))
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	runs := []*history.Run{
		{StartedAt: t0, Duration: 3 * time.Second, Status: "ok", Hostname: "etl1", Version: "v1", Scripts: []history.ScriptRun{
			{Name: "ventes", Path: "scripts/ventes.lua", Status: "ok", StartedAt: t0, Duration: 2 * time.Second, Rows: ptr(412), Result: json.RawMessage(`{"rows": 412}`)},
			{Name: "achats", Path: "scripts/achats.lua", Status: "ok", StartedAt: t0, Duration: time.Second, Result: json.RawMessage(`"done"`)},
		}},
		{StartedAt: t0.Add(24 * time.Hour), Duration: 15 * time.Second, Status: "failed", Scripts: []history.ScriptRun{
			{Name: "ventes", Path: "scripts/ventes.lua", Status: "timeout", StartedAt: t0.Add(24 * time.Hour), Duration: 15 * time.Second,
				Error: "timeout: the script ran longer than its 15s limit"},
			{Name: "achats", Path: "scripts/achats.lua", Status: "failed", StartedAt: t0.Add(24 * time.Hour), Duration: 500 * time.Millisecond,
				Error: "scripts/achats.lua:3: boom\n" + strings.Repeat("é", history.MaxErrorBytes)},
		}},
		{StartedAt: t0.Add(48 * time.Hour), Duration: 4 * time.Second, Status: "cancelled", Scripts: []history.ScriptRun{
			{Name: "ventes", Path: "scripts/ventes.lua", Status: "ok", StartedAt: t0.Add(48 * time.Hour), Duration: 4 * time.Second, Rows: ptr(415)},
			{Name: "achats", Path: "scripts/achats.lua", Status: "cancelled", StartedAt: t0.Add(48 * time.Hour), Duration: 3 * time.Second, Error: "cancelled: interrupted"},
		}},
	}
	var ids []int64
	for _, r := range runs {
		id, err := s.Record(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}

	got, err := s.Runs(ctx, history.Query{Last: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != ids[2] || got[1].ID != ids[1] {
		t.Fatalf("last 2 runs: %+v", got)
	}
	if got[0].Status != "cancelled" || got[0].Duration != 4*time.Second || len(got[0].Scripts) != 2 {
		t.Fatalf("newest run %+v", got[0])
	}
	failed := got[1]
	byName := map[string]history.ScriptRun{}
	for _, sr := range failed.Scripts {
		byName[sr.Name] = sr
	}
	if v := byName["ventes"]; v.Status != "timeout" || v.Duration != 15*time.Second || v.Rows != nil || !strings.Contains(v.Error, "15s limit") {
		t.Errorf("timeout result %+v", v)
	}
	if a := byName["achats"]; a.Status != "failed" || len(a.Error) > history.MaxErrorBytes+4 || !strings.HasSuffix(a.Error, "é…") {
		t.Errorf("failed result: status %s, error of %d bytes ending %q", a.Status, len(a.Error), a.Error[len(a.Error)-8:])
	}

	// Only the runs of one script, with only its results.
	oldest, err := s.Runs(ctx, history.Query{Last: 10, Script: "ventes"})
	if err != nil || len(oldest) != 3 {
		t.Fatalf("%v %+v", err, oldest)
	}
	first := oldest[2].Scripts
	if len(first) != 1 || first[0].Name != "ventes" || *first[0].Rows != 412 || string(first[0].Result) != `{"rows": 412}` {
		t.Fatalf("first run of ventes: %+v", first)
	}

	stats, err := s.Scripts(ctx, history.Query{Last: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 2 || stats[0].Name != "achats" || stats[1].Name != "ventes" {
		t.Fatalf("stats %+v", stats)
	}
	a, v := stats[0], stats[1]
	if a.Runs != 3 || a.Failures != 2 || fmt.Sprintf("%.3f", a.FailureRate) != "0.667" || a.LastStatus != "cancelled" {
		t.Errorf("achats %+v", a)
	}
	if a.LastSuccess == nil || !a.LastSuccess.Equal(t0.Add(time.Second)) {
		t.Errorf("achats last success %v", a.LastSuccess)
	}
	if fmt.Sprint(v.Durations) != "[4s 15s 2s]" || v.AvgOK != 3*time.Second || v.MaxOK != 4*time.Second || v.Failures != 1 {
		t.Errorf("ventes %+v", v)
	}
	if !v.LastRun.Equal(t0.Add(48*time.Hour + 4*time.Second)) {
		t.Errorf("ventes last run %v", v.LastRun)
	}
	// The window: the last result only.
	one, err := s.Scripts(ctx, history.Query{Last: 1, Script: "achats"})
	if err != nil || len(one) != 1 || one[0].Runs != 1 || one[0].FailureRate != 1 || one[0].LastSuccess == nil {
		t.Fatalf("%v %+v", err, one)
	}
	b, _ := json.Marshal(one[0])
	if !strings.Contains(string(b), `"durations_ms":[3000]`) || !strings.Contains(string(b), `"failure_rate":1`) {
		t.Errorf("JSON %s", b)
	}
}

func TestOpenKeepsThePassword(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, dsn := range []string{
		"postgres://etl:Sup3rS3cret@127.0.0.1:1/warehouse?connect_timeout=2",
		"host=127.0.0.1 port=1 user=etl password=Sup3rS3cret dbname=warehouse connect_timeout=2",
		"postgres://etl:Sup3rS3cret@127.0.0.1:notaport/x",
	} {
		_, err := history.Open(ctx, dsn)
		if err == nil {
			t.Fatalf("%s: no error", dsn)
		}
		if strings.Contains(err.Error(), "Sup3rS3cret") {
			t.Errorf("the password is in the error: %v", err)
		}
	}
}

// The CLI records each run after it ends and reads the history back for
// `etlhost history`.
func ExampleStore_Record() {
	dsn, stop, err := pgcluster.Start("") // a throwaway server
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()
	store, err := history.Open(ctx, dsn) // creates or migrates the etlhost schema
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	start := time.Date(2026, 11, 29, 7, 41, 0, 0, time.UTC)
	for i, status := range []string{"ok", "timeout", "ok"} {
		run := &history.Run{StartedAt: start.Add(time.Duration(i) * 24 * time.Hour), Duration: 2 * time.Second, Status: "ok",
			Scripts: []history.ScriptRun{{Name: "ventes", Path: "scripts/ventes.lua", Status: status,
				StartedAt: start.Add(time.Duration(i) * 24 * time.Hour), Duration: time.Duration(i+1) * time.Second}}}
		if status != "ok" {
			run.Status = "failed"
		}
		if _, err := store.Record(ctx, run); err != nil {
			fmt.Println(err)
			return
		}
	}
	stats, _ := store.Scripts(ctx, history.Query{Last: 10})
	for _, s := range stats {
		fmt.Printf("%s: %d runs, %.0f%% failed, durations %v\n", s.Name, s.Runs, 100*s.FailureRate, s.Durations)
	}
	// Output: ventes: 3 runs, 33% failed, durations [3s 2s 1s]
}

// TestRecordAnyText (issue 18, item 6): text PostgreSQL refuses (a NUL byte,
// invalid UTF-8, \u0000 in a result) is recorded with U+FFFD in its place,
// and the run's other results are recorded beside it.
func TestRecordAnyText(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.DSN(t))
	ctx := context.Background()
	t0 := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
	run := &history.Run{StartedAt: t0, Duration: time.Second, Status: "failed", Hostname: "etl\x001", Version: "v\xff", Scripts: []history.ScriptRun{
		{Name: "good", Path: "scripts/good.lua", Status: "ok", StartedAt: t0, Duration: time.Second, Rows: ptr(3), Result: json.RawMessage(`{"rows":3}`)},
		{Name: "nul", Path: "scripts/nul.lua", Status: "failed", StartedAt: t0, Duration: time.Second, Error: "nul.lua:1: bad\x00byte"},
		{Name: "latin1", Path: "scripts/caf\xe9.lua", Status: "failed", StartedAt: t0, Duration: time.Second, Error: "caf\xe9 cr\xe8me"},
		{Name: "result", Path: "scripts/result.lua", Status: "ok", StartedAt: t0, Duration: time.Second, Result: json.RawMessage(`{"note":"a\u0000b","ok":"\ud83d\ude00"}`)},
	}}
	id, err := s.Record(ctx, run)
	if err != nil || id == 0 {
		t.Fatalf("Record: %d, %v", id, err)
	}
	runs, err := s.Runs(ctx, history.Query{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("%v %+v", err, runs)
	}
	if runs[0].Hostname != "etl�1" || runs[0].Version != "v�" {
		t.Errorf("run %+v", runs[0])
	}
	got := map[string]history.ScriptRun{}
	for _, sr := range runs[0].Scripts {
		got[sr.Name] = sr
	}
	if g := got["good"]; g.Status != "ok" || g.Rows == nil || *g.Rows != 3 || string(g.Result) != `{"rows": 3}` {
		t.Errorf("good: %+v", g)
	}
	if g := got["nul"]; g.Status != "failed" || g.Error != "nul.lua:1: bad�byte" {
		t.Errorf("nul: %+v", g)
	}
	if g := got["latin1"]; g.Path != "scripts/caf�.lua" || g.Error != "caf� cr�me" {
		t.Errorf("latin1: %+v", g)
	}
	if g := got["result"]; string(g.Result) != `{"ok": "😀", "note": "a�b"}` {
		t.Errorf("result: %+v %s", g, g.Result)
	}
}

// TestRecordKeepsOtherScripts (issue 18, item 6): a script's result the
// database refuses (here a status its CHECK does not know) fails alone: the
// run and its other results are recorded, and the error names that script.
func TestRecordKeepsOtherScripts(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.DSN(t))
	ctx := context.Background()
	t0 := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
	run := &history.Run{StartedAt: t0, Duration: time.Second, Status: "failed", Scripts: []history.ScriptRun{
		{Name: "before", Path: "before.lua", Status: "ok", StartedAt: t0, Duration: time.Second, Rows: ptr(1)},
		{Name: "odd", Path: "odd.lua", Status: "exploded", StartedAt: t0, Duration: time.Second},
		{Name: "after", Path: "after.lua", Status: "failed", StartedAt: t0, Duration: time.Second, Error: "after.lua:1: boom"},
	}}
	id, err := s.Record(ctx, run)
	if id == 0 || err == nil || !strings.Contains(err.Error(), `"odd"`) || strings.Contains(err.Error(), "before") {
		t.Fatalf("Record: %d, %v", id, err)
	}
	runs, rerr := s.Runs(ctx, history.Query{})
	if rerr != nil || len(runs) != 1 || runs[0].ID != id {
		t.Fatalf("%v %+v", rerr, runs)
	}
	var names []string
	for _, sr := range runs[0].Scripts {
		names = append(names, sr.Name+" "+sr.Status)
	}
	if fmt.Sprint(names) != "[after failed before ok]" {
		t.Errorf("recorded %v (error %v)", names, err)
	}
}
