package queue

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/etlhost/etlhost/host"
)

// TickArgs are the arguments of a schedule's tick: the scheduled script and
// those that run after it, as the leader's disk held them at the tick. The
// worker that takes it enqueues them as `etlhost enqueue` would.
type TickArgs struct {
	Job  string    `json:"job" river:"unique"`
	Tick time.Time `json:"tick" river:"unique"`
	// Schedule is the header's value, for `etlhost jobs`.
	Schedule string            `json:"schedule"`
	Scripts  []Script          `json:"scripts"`
	Lib      map[string][]byte `json:"lib,omitempty"`
}

// Kind is River's name of the job's kind.
func (TickArgs) Kind() string { return KindTick }

// tickWorker enqueues a tick's batch, in the transaction that completes the
// tick: each tick enqueues its jobs once.
type tickWorker struct {
	river.WorkerDefaults[TickArgs]
	w *Worker
}

func (tw *tickWorker) Work(ctx context.Context, job *river.Job[TickArgs]) error {
	tx, err := tw.w.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	b := &Batch{Scripts: job.Args.Scripts, Lib: job.Args.Lib, Origin: "schedule " + job.Args.Schedule}
	out, err := enqueueTx(ctx, tx, tw.w.client, b)
	if err != nil {
		return fmt.Errorf("schedule of %s: %w", job.Args.Job, err)
	}
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	for _, e := range out {
		if e.State == "duplicate" {
			fmt.Fprintf(tw.w.cfg.Stderr, "etlhost worker: schedule %s: %s is still pending or running (job %d): not enqueued again\n", job.Args.Schedule, e.Name, e.ID)
		}
	}
	return nil
}

// zoned reads a schedule in the configuration's time zone.
type zoned struct {
	s   host.Schedule
	loc *time.Location
}

func (z zoned) Next(t time.Time) time.Time { return z.s.Next(t.In(z.loc)) }

// periodicJobs are River periodic jobs of the scheduled scripts: River's
// leader inserts a tick of each when it is due.
func (w *Worker) periodicJobs() ([]*river.PeriodicJob, error) {
	var jobs []*river.PeriodicJob
	for _, s := range w.cfg.Scheduled {
		if s.Schedule == nil {
			continue
		}
		sched := zoned{s.Schedule, w.cfg.Location}
		jobs = append(jobs, river.NewPeriodicJob(sched, func() (river.JobArgs, *river.InsertOpts) {
			args, err := w.tick(s, sched, time.Now())
			if err != nil {
				fmt.Fprintf(w.cfg.Stderr, "etlhost worker: schedule of %s: %v; this tick is not enqueued\n", s.Name, err)
				return nil, nil
			}
			// One tick of a job, whichever leader inserts it: unique by its
			// arguments (job and tick) in every state River keeps.
			return args, &river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
		}, &river.PeriodicJobOpts{ID: "etlhost:" + s.Name}))
	}
	return jobs, nil
}

// tick reads the scheduled script s, those of the worker's scripts that
// run after it (and after nothing outside), and the library, from disk.
func (w *Worker) tick(s *host.Script, sched zoned, now time.Time) (TickArgs, error) {
	// The tick is the schedule's time, not the instant River's leader
	// came round to it: two leaders insert the same arguments.
	tick := sched.Next(now.Add(-time.Minute))
	if tick.After(now) {
		tick = now.Truncate(time.Second)
	}
	batch := dependents(s, w.cfg.Scheduled)
	args := TickArgs{Job: s.Name, Tick: tick.UTC(), Schedule: s.Header["schedule"]}
	for _, d := range batch {
		src, err := os.ReadFile(d.Path)
		if err != nil {
			return args, err
		}
		after := d.After
		if d == s {
			after = nil
		}
		args.Scripts = append(args.Scripts, Script{Name: d.Name, Path: d.Path, After: after, Source: src})
	}
	lib, err := ReadLib(w.cfg.LibDir)
	if err != nil {
		return args, err
	}
	args.Lib = lib
	return args, nil
}

// dependents is s and the scripts among all that run after it, directly or
// not, with every job they run after in the set and no schedule of their
// own: the batch a tick of s enqueues.
func dependents(s *host.Script, all []*host.Script) []*host.Script {
	set := []*host.Script{s}
	in := map[string]bool{s.Name: true}
	for changed := true; changed; {
		changed = false
		for _, c := range all {
			if in[c.Name] || c.Schedule != nil || len(c.After) == 0 {
				continue
			}
			if !slices.ContainsFunc(c.After, func(dep string) bool { return !in[dep] }) {
				set = append(set, c)
				in[c.Name] = true
				changed = true
			}
		}
	}
	return set
}

// NextRun is one coming tick of a schedule.
type NextRun struct {
	Job      string
	Schedule string
	At       []time.Time
}

// NextRuns lists the next n ticks of each scheduled script after now, in
// the time zone loc.
func NextRuns(scripts []*host.Script, loc *time.Location, now time.Time, n int) []NextRun {
	var out []NextRun
	for _, s := range scripts {
		if s.Schedule == nil {
			continue
		}
		nr := NextRun{Job: s.Name, Schedule: s.Header["schedule"]}
		t := now.In(loc)
		for range n {
			t = s.Schedule.Next(t)
			if t.IsZero() {
				break
			}
			nr.At = append(nr.At, t)
		}
		out = append(out, nr)
	}
	return out
}
