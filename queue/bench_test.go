package queue_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/queue"
)

// trivial is the script of the throughput benchmarks: what is measured is
// what the host and the queue add to a job, not the job.
const trivial = "return {rows = 1}"

// nobody hears the benchmarks' jobs.
func nobody(queue.Job) []queue.Reporter { return nil }

// BenchmarkThroughput runs trivial jobs: through `etlhost run`'s runner
// one after another (the baseline of a job's cost), and through the queue
// with one and two workers (each a River client of its own, as two
// processes are), one and four jobs at once each. Each op is one job; the
// metric jobs/s is the same figure turned round.
func BenchmarkThroughput(b *testing.B) {
	dsn := pgtest.DSN(b)
	b.Run("run", func(b *testing.B) {
		s, err := host.CompileScript("trivial", "trivial.lua", []byte(trivial), nil)
		if err != nil {
			b.Fatal(err)
		}
		r := &host.Runner{Jobs: 1}
		b.ResetTimer()
		for range b.N {
			rep, err := r.Run(context.Background(), []*host.Script{s})
			if err != nil || rep.Status != host.StatusOK {
				b.Fatalf("%v %+v", err, rep)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	})
	for _, cooldown := range []time.Duration{river.FetchCooldownDefault, 5 * time.Millisecond} {
		for _, tt := range []struct{ workers, jobs int }{{1, 1}, {2, 1}, {1, 4}, {2, 4}} {
			b.Run(fmt.Sprintf("queue/cooldown-%v/%d-workers/%d-jobs", cooldown, tt.workers, tt.jobs), func(b *testing.B) {
				benchQueue(b, dsn, tt.workers, tt.jobs, cooldown)
			})
		}
	}
}

func benchQueue(b *testing.B, dsn string, workers, jobs int, cooldown time.Duration) {
	ctx := context.Background()
	q, err := queue.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	pgtest.Exec(b, dsn, "TRUNCATE etlhost_queue.river_job, etlhost_queue.batch_job")
	batch := &queue.Batch{}
	for i := range b.N {
		batch.Scripts = append(batch.Scripts, queue.Script{Name: fmt.Sprintf("job_%d", i), Path: "trivial.lua", Source: []byte(trivial)})
	}
	if _, err := q.Enqueue(ctx, batch); err != nil {
		b.Fatal(err)
	}
	completed := make(chan struct{}, b.N)
	var ws []*queue.Worker
	for range workers {
		w, err := queue.NewWorker(ctx, dsn, queue.WorkerConfig{Runner: &host.Runner{}, Jobs: jobs, Reporters: nobody, FetchCooldown: cooldown})
		if err != nil {
			b.Fatal(err)
		}
		events, cancel := w.Client().Subscribe(river.EventKindJobCompleted)
		defer cancel()
		go func() {
			for range events {
				completed <- struct{}{}
			}
		}()
		ws = append(ws, w)
	}
	b.ResetTimer()
	for _, w := range ws {
		if err := w.Start(ctx); err != nil {
			b.Fatal(err)
		}
	}
	for range b.N {
		select {
		case <-completed:
		case <-time.After(time.Minute):
			b.Fatal("no job completed for a minute")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	for _, w := range ws {
		if err := w.Stop(ctx); err != nil {
			b.Error(err)
		}
		w.Close()
	}
}
