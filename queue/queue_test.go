package queue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/etl"
	"github.com/etlhost/etlhost/queue"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// results collects what the workers' reporters heard, by job name.
type results struct {
	mu  sync.Mutex
	got map[string][]*host.Result
}

func (r *results) reporter(queue.Job) []queue.Reporter { return []queue.Reporter{r} }

func (*results) ScriptStarted(*host.Script, time.Time) {}
func (*results) ScriptEvent(*host.Script, host.Event)  {}
func (*results) ScriptFinished(*host.Result)           {}
func (r *results) Finish(rep *host.Report) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, res := range rep.Scripts {
		r.got[res.Name] = append(r.got[res.Name], res)
	}
	return nil
}

func (r *results) of(name string) []*host.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*host.Result(nil), r.got[name]...)
}

// waitFor polls the queue until every job of names is finalized.
func waitFor(t *testing.T, q *queue.Queue, names ...string) map[string]queue.Listed {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		jobs, err := q.List(context.Background(), queue.ListQuery{Last: 200})
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]queue.Listed{}
		for _, j := range jobs {
			if j.Kind == queue.KindRun {
				if _, seen := byName[j.Job]; !seen {
					byName[j.Job] = j // the newest
				}
			}
		}
		done := true
		for _, n := range names {
			if j, ok := byName[n]; !ok || j.FinalizedAt == nil {
				done = false
			}
		}
		if done {
			return byName
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs %v did not all end within a minute: %+v", names, byName)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func startWorker(t *testing.T, dsn string, res *results, jobs int) *queue.Worker {
	t.Helper()
	w, err := queue.NewWorker(context.Background(), dsn, queue.WorkerConfig{
		Runner: &host.Runner{Timeout: time.Minute, Modules: []luabind.Module{etl.Module{}}}, Jobs: jobs, Reporters: res.reporter, PollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.StopAndCancel(ctx); err != nil {
			t.Error(err)
		}
		w.Close()
	})
	return w
}

// TestBatchWithDependencies enqueues three jobs, one of them running after
// the two others and using the library, one failing and one depending on
// it: the worker runs the version enqueued, the dependent of the ok jobs
// runs after them, the dependent of the failed one is skipped, and a
// second enqueue while the first is pending is not doubled.
func TestBatchWithDependencies(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	q, err := queue.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	batch := &queue.Batch{
		Scripts: []queue.Script{
			{Name: "achat", Path: "scripts/achat.lua", Source: []byte(`return {rows = require("dates").n}`)},
			{Name: "ventes", Path: "scripts/ventes.lua", Source: []byte(`return {rows = 2}`)},
			{Name: "rapport", Path: "scripts/rapport.lua", After: []string{"achat", "ventes"}, Source: []byte(`--! after = achat, ventes
return {rows = 3, who = require("etl").args.who}`)},
			{Name: "casse", Path: "scripts/casse.lua", Source: []byte(`error("boom")`)},
			{Name: "apres_casse", Path: "scripts/apres_casse.lua", After: []string{"casse"}, Source: []byte(`--! after = casse
return 1`)},
		},
		Lib:    map[string][]byte{"dates.lua": []byte(`return {n = 41}`)},
		Args:   map[string]string{"who": "nightly"},
		Origin: "enqueue",
	}
	out, err := q.Enqueue(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, e := range out {
		states[e.Name] = e.State
	}
	if states["achat"] != "enqueued" || states["rapport"] != "waiting" || states["apres_casse"] != "waiting" {
		t.Fatalf("first enqueue: %+v", out)
	}
	again, err := q.Enqueue(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range again {
		if e.State != "duplicate" {
			t.Errorf("second enqueue of %s while the first is pending: %s, want duplicate", e.Name, e.State)
		}
	}

	res := &results{got: map[string][]*host.Result{}}
	startWorker(t, dsn, res, 2)
	jobs := waitFor(t, q, "achat", "ventes", "rapport", "casse")
	for name, want := range map[string]string{"achat": "completed", "ventes": "completed", "rapport": "completed", "casse": "cancelled"} {
		if jobs[name].State != want {
			t.Errorf("%s: River state %s, want %s (%+v)", name, jobs[name].State, want, jobs[name])
		}
	}
	if jobs["casse"].Status != "failed" || !strings.Contains(jobs["casse"].Error, "boom") {
		t.Errorf("casse: status %q error %q, want failed with boom", jobs["casse"].Status, jobs["casse"].Error)
	}
	if _, ok := jobs["apres_casse"]; ok {
		t.Errorf("apres_casse was enqueued though casse failed: %+v", jobs["apres_casse"])
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(res.of("apres_casse")) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if r := res.of("apres_casse"); len(r) != 1 || r[0].Status != host.StatusSkipped || r[0].Error != "skipped: casse failed" {
		t.Errorf("apres_casse: %+v, want one skipped result saying casse failed", r)
	}
	achat, rapport := res.of("achat"), res.of("rapport")
	if len(achat) != 1 || len(rapport) != 1 {
		t.Fatalf("achat ran %d times, rapport %d: want once each", len(achat), len(rapport))
	}
	if v, _ := achat[0].Value.(map[string]any); fmt.Sprint(v["rows"]) != "41" {
		t.Errorf("achat returned %v: want rows 41 from the library enqueued", achat[0].Value)
	}
	if v, _ := rapport[0].Value.(map[string]any); v["who"] != "nightly" {
		t.Errorf("rapport returned %v: want the enqueue's argument who=nightly", rapport[0].Value)
	}
	if ventes := res.of("ventes"); rapport[0].StartedAt.Before(achat[0].StartedAt.Add(achat[0].Duration)) || rapport[0].StartedAt.Before(ventes[0].StartedAt.Add(ventes[0].Duration)) {
		t.Errorf("rapport started before achat and ventes ended")
	}
}

// TestNextRuns lists a schedule's ticks in the configuration's time zone.
func TestNextRuns(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	s, err := host.CompileScript("nightly", "nightly.lua", []byte("--! schedule = 0 2 * * *\nreturn 1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 1, 30, 0, 0, time.UTC) // 02:30 in Paris
	runs := queue.NextRuns([]*host.Script{s}, paris, now, 2)
	if len(runs) != 1 || len(runs[0].At) != 2 {
		t.Fatalf("%+v", runs)
	}
	want := []time.Time{time.Date(2026, 12, 6, 2, 0, 0, 0, paris), time.Date(2026, 12, 7, 2, 0, 0, 0, paris)}
	for i, at := range runs[0].At {
		if !at.Equal(want[i]) {
			t.Errorf("tick %d: %v, want %v", i, at, want[i])
		}
	}
	for _, bad := range []string{"0 2 * *", "CRON_TZ=Europe/Paris 0 2 * * *", "61 * * * *"} {
		_, err := host.CompileScript("x", "x.lua", []byte("--! schedule = "+bad+"\nreturn 1"), nil)
		if err == nil || !strings.Contains(err.Error(), "x.lua:1: bad schedule") {
			t.Errorf("schedule %q: %v, want x.lua:1: bad schedule", bad, err)
		}
	}
}

// TestAbusiveJobsFailAlone runs, on one worker, a job that eats memory, one
// that hangs, and one whose stored script was tampered with in the queue's
// table after it was enqueued, beside a well-behaved job: each of the
// three fails alone, with its reason, and the good one ends ok.
func TestAbusiveJobsFailAlone(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	q, err := queue.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	out, err := q.Enqueue(ctx, &queue.Batch{Scripts: []queue.Script{
		{Name: "glouton", Path: "glouton.lua", Source: []byte(`local t = {} for i = 1, 1e8 do t[i] = string.rep("x", 64) .. i end`)},
		{Name: "bloque", Path: "bloque.lua", Source: []byte("--! timeout = 1s\nwhile true do end")},
		{Name: "trafique", Path: "trafique.lua", Source: []byte(`return {rows = 1}`)},
		{Name: "sage", Path: "sage.lua", Source: []byte(`return {rows = 7}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var tampered int64
	for _, e := range out {
		if e.Name == "trafique" {
			tampered = e.ID
		}
	}
	// What a script with the queue's database role could do: swap the
	// stored files of a job for its own.
	pgtest.Exec(t, dsn, `UPDATE etlhost_queue.bundle SET files = (SELECT files FROM etlhost_queue.bundle b2 WHERE b2.hash = (SELECT args->>'bundle' FROM etlhost_queue.river_job WHERE args->>'job' = 'glouton'))
		WHERE hash = (SELECT args->>'bundle' FROM etlhost_queue.river_job WHERE id = $1)`, tampered)

	res := &results{got: map[string][]*host.Result{}}
	w, err := queue.NewWorker(ctx, dsn, queue.WorkerConfig{
		Runner: &host.Runner{Timeout: time.Minute, MaxMemory: 64 << 20}, Jobs: 4, Reporters: res.reporter, PollInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := w.StopAndCancel(ctx); err != nil {
			t.Error(err)
		}
		w.Close()
	}()
	jobs := waitFor(t, q, "glouton", "bloque", "trafique", "sage")
	for name, want := range map[string]struct{ status, err string }{
		"glouton":  {"failed", "memory limit"},
		"bloque":   {"timeout", "timeout"},
		"trafique": {"failed", "does not match its hash"},
		"sage":     {"ok", ""},
	} {
		j := jobs[name]
		if j.Status != want.status || !strings.Contains(j.Error, want.err) {
			t.Errorf("%s: status %q error %q, want %q with %q", name, j.Status, j.Error, want.status, want.err)
		}
	}
	if r := res.of("sage"); len(r) != 1 || r[0].Status != host.StatusOK {
		t.Errorf("sage: %+v", r)
	}
}

// TestCancelWaitingBatch cancels a job before any worker took it: the job
// that runs after it is skipped, never enqueued.
func TestCancelWaitingBatch(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	q, err := queue.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	out, err := q.Enqueue(ctx, &queue.Batch{Scripts: []queue.Script{
		{Name: "amont", Path: "amont.lua", Source: []byte(`return 1`)},
		{Name: "aval", Path: "aval.lua", After: []string{"amont"}, Source: []byte("--! after = amont\nreturn 2")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	j, err := q.Cancel(ctx, out[0].ID)
	if err != nil || j.State != "cancelled" {
		t.Fatalf("cancel: %+v %v", j, err)
	}
	if _, err := q.Cancel(ctx, 1<<40); !errors.Is(err, queue.ErrNoSuchJob) {
		t.Errorf("cancel of no job: %v, want ErrNoSuchJob", err)
	}
	got := pgtest.QueryRows(t, dsn, "SELECT job, state FROM etlhost_queue.batch_job ORDER BY job")
	if fmt.Sprint(got) != "[[amont cancelled] [aval skipped]]" {
		t.Errorf("batch: %v, want amont cancelled and aval skipped", got)
	}
	if n := pgtest.QueryRows(t, dsn, "SELECT count(*) FROM etlhost_queue.river_job")[0][0]; n != int64(1) {
		t.Errorf("%v jobs in the queue, want 1 (aval never enqueued)", n)
	}
}
