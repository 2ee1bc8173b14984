package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/etlhost/etlhost/host"
)

// Reporter hears one job's run as `etlhost run`'s reporters hear a run
// (the text view, the history), then reports it.
type Reporter interface {
	host.Observer
	Finish(*host.Report) error
}

// Job says which job a run is, for the reporters.
type Job struct {
	ID      int64
	Name    string
	Path    string
	Attempt int
	Origin  string
}

// DefaultRescueAfter is how long a job may run before River's rescuer
// takes it for the job of a dead worker and runs it again: it must be
// longer than any job's timeout plus its grace (the worker refuses to run
// a job whose timeout is not).
const DefaultRescueAfter = time.Hour

// WorkerConfig is what a Worker needs.
type WorkerConfig struct {
	// Runner is the template of each job's run: modules, timeout, memory
	// limit, grace, arguments. Its Retries are the jobs' default retries;
	// River does the retrying.
	Runner *host.Runner
	// Jobs is how many jobs run at once (default 1).
	Jobs int
	// Reporters gives the reporters of one job's run.
	Reporters func(Job) []Reporter
	// Scheduled are the scripts whose `--! schedule` headers this worker
	// carries, with the scripts that run after them; LibDir their library.
	// Each tick reads them from this disk.
	Scheduled []*host.Script
	LibDir    string
	// Location is the time zone of the schedules (default UTC).
	Location *time.Location
	// RescueAfter: see DefaultRescueAfter.
	RescueAfter time.Duration
	// PollInterval is how often the worker looks for jobs besides River's
	// notifications (default River's, 1s).
	PollInterval time.Duration
	// FetchCooldown is the least time between two fetches of jobs (default
	// River's, 100ms): with one slot free at a time, the most jobs a slot
	// starts per second.
	FetchCooldown time.Duration
	// Stderr receives the worker's own messages.
	Stderr io.Writer
}

// Worker works the queue: a River client with etlhost's workers.
type Worker struct {
	cfg    WorkerConfig
	pool   *pgxpool.Pool
	client *river.Client[pgx.Tx]

	mu      sync.Mutex
	bundles map[string]*Bundle // by hash: a nightly batch reads each once
}

// maxCachedBundles bounds the bundles a worker keeps in memory.
const maxCachedBundles = 256

// NewWorker connects to the queue of dsn and prepares a worker; Start
// starts it.
func NewWorker(ctx context.Context, dsn string, cfg WorkerConfig) (*Worker, error) {
	if cfg.Jobs <= 0 {
		cfg.Jobs = 1
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = DefaultRescueAfter
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	pool, err := connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	w := &Worker{cfg: cfg, pool: pool, bundles: map[string]*Bundle{}}
	workers := river.NewWorkers()
	river.AddWorker[RunArgs](workers, &runWorker{w: w})
	river.AddWorker[TickArgs](workers, &tickWorker{w: w})
	periodic, err := w.periodicJobs()
	if err != nil {
		pool.Close()
		return nil, err
	}
	cooldown := cfg.FetchCooldown
	if cooldown <= 0 {
		cooldown = river.FetchCooldownDefault
	}
	if cfg.PollInterval > 0 {
		cooldown = min(cooldown, cfg.PollInterval)
	}
	w.client, err = river.NewClient(riverpgxv5.New(pool), &river.Config{
		FetchCooldown:        cooldown,
		Schema:               Schema,
		Logger:               quietLogger(),
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Jobs}},
		Workers:              workers,
		PeriodicJobs:         periodic,
		RescueStuckJobsAfter: cfg.RescueAfter,
		FetchPollInterval:    cfg.PollInterval,
		JobTimeout:           -1, // each job's own (runWorker.Timeout)
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("worker: %w", err)
	}
	return w, nil
}

// Start starts working the queue; Stop or StopAndCancel end it.
func (w *Worker) Start(ctx context.Context) error {
	if err := w.client.Start(ctx); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	return nil
}

// Stop stops taking jobs and waits for the running ones to end, until ctx
// ends.
func (w *Worker) Stop(ctx context.Context) error { return w.client.Stop(ctx) }

// StopAndCancel cancels the running jobs (each script unwinds within its
// grace; the job goes back to the queue for another worker) and waits.
func (w *Worker) StopAndCancel(ctx context.Context) error { return w.client.StopAndCancel(ctx) }

// Client is the worker's River client (for River's UI).
func (w *Worker) Client() *river.Client[pgx.Tx] { return w.client }

// Close releases the connections, after Stop.
func (w *Worker) Close() { w.pool.Close() }

func (w *Worker) bundle(ctx context.Context, hash string) (*Bundle, error) {
	w.mu.Lock()
	b := w.bundles[hash]
	w.mu.Unlock()
	if b != nil {
		return b, nil
	}
	b, err := loadBundle(ctx, w.pool, hash)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	if len(w.bundles) >= maxCachedBundles {
		clear(w.bundles)
	}
	w.bundles[hash] = b
	w.mu.Unlock()
	return b, nil
}

// runWorker runs the jobs of kind KindRun.
type runWorker struct {
	river.WorkerDefaults[RunArgs]
	w *Worker
}

// Timeout is the workers' rescue_after: the host stops the script at its
// own, shorter, timeout (Work refuses a job whose timeout is not), so this
// one is River's backstop, and it is what River's rescuer waits for before
// it takes a running job for a dead worker's (a job without a timeout is
// never rescued).
func (rw *runWorker) Timeout(*river.Job[RunArgs]) time.Duration { return rw.w.cfg.RescueAfter }

// Output is what a job records in River's metadata (its "output"), which
// `etlhost jobs` and River's UI show.
type Output struct {
	Status     host.Status `json:"status"`
	DurationMS int64       `json:"duration_ms"`
	Rows       int64       `json:"rows_loaded,omitempty"`
	Error      string      `json:"error,omitempty"`
	// Retry says the worker asked River for another attempt.
	Retry bool `json:"retry,omitempty"`
}

// transientPrefix starts the error of an attempt River is asked to retry:
// counting them tells how many retries a job has had.
const transientPrefix = "transient failure: "

func (rw *runWorker) Work(ctx context.Context, job *river.Job[RunArgs]) error {
	w := rw.w
	a := job.Args
	info := Job{ID: job.ID, Name: a.Job, Path: a.Path, Attempt: job.Attempt, Origin: a.Origin}
	retried, rescued := 0, 0
	for _, e := range job.Errors {
		switch {
		case strings.HasPrefix(e.Error, transientPrefix):
			retried++
		case strings.Contains(e.Error, "rescued"):
			rescued++
		}
	}
	s, lib, err := rw.script(ctx, a)
	if err == nil && rescued > MaxRescues {
		err = fmt.Errorf("not run again: its worker stopped %d times while it ran (killed, or lost its database connection)", rescued)
	}
	if err != nil {
		res := &host.Result{Name: a.Job, Path: a.Path, Status: host.StatusFailed, StartedAt: time.Now(), Error: err.Error()}
		return rw.end(ctx, job, info, &host.Report{Status: host.StatusFailed, StartedAt: res.StartedAt, Scripts: []*host.Result{res}}, res)
	}
	r := *w.cfg.Runner
	r.LibFS, r.LibDir = lib.LibFS(), ""
	r.Args = merge(r.Args, a.Args)
	retries := r.RetriesFor(s)
	r.Retries, r.RetriesFrom = 0, host.FromFlag // River retries; the job runs one attempt here
	if limit := r.TimeoutFor(s) + r.Grace + host.DefaultGrace; limit >= w.cfg.RescueAfter {
		res := &host.Result{Name: a.Job, Path: a.Path, Status: host.StatusFailed, StartedAt: time.Now(),
			Error: fmt.Sprintf("%s: its timeout (%v) and grace reach the workers' rescue_after (%v): River would take it for the job of a dead worker and run it twice; raise [worker] rescue_after or lower the timeout", a.Path, r.TimeoutFor(s), w.cfg.RescueAfter)}
		return rw.end(ctx, job, info, &host.Report{Status: host.StatusFailed, StartedAt: res.StartedAt, Scripts: []*host.Result{res}}, res)
	}
	reporters := w.cfg.Reporters(info)
	obs := make(host.Observers, len(reporters))
	for i, rp := range reporters {
		obs[i] = rp
	}
	r.Observer = obs
	rep, err := r.Run(ctx, []*host.Script{s})
	if err != nil {
		return fmt.Errorf("%s: %w", a.Path, err) // cannot happen for one script without after; River retries
	}
	res := rep.Scripts[0]
	retry := res.Status == host.StatusFailed && res.Transient && res.OdooWrites == 0 && retried < retries
	if retry {
		res.Error += fmt.Sprintf("\nretried by the queue (retry %d of %d)", retried+1, retries)
	}
	for _, rp := range reporters {
		if err := rp.Finish(rep); err != nil {
			fmt.Fprintf(w.cfg.Stderr, "etlhost worker: job %d %s: %v\n", job.ID, a.Job, err)
		}
	}
	if retry {
		rw.output(ctx, res, true)
		return errors.New(transientPrefix + res.Reason + ": " + host.FirstLine(res.Error))
	}
	if res.Status == host.StatusCancelled && !errors.Is(context.Cause(ctx), rivertype.ErrJobCancelledRemotely) && res.OdooWrites == 0 {
		// The worker is stopping (its second signal): the job goes back
		// to the queue, whole, for another worker. Its load was atomic.
		fmt.Fprintf(w.cfg.Stderr, "etlhost worker: job %d %s stopped with the worker: back to the queue\n", job.ID, a.Job)
		return river.JobSnooze(0)
	}
	return rw.end(ctx, job, info, nil, res)
}

// script is the job's script, compiled from the bundle enqueued, and its
// library.
func (rw *runWorker) script(ctx context.Context, a RunArgs) (*host.Script, *Bundle, error) {
	b, err := rw.w.bundle(ctx, a.Bundle)
	if err != nil {
		return nil, nil, err
	}
	s, err := host.CompileScript(a.Job, a.Path, b.Source, rw.w.cfg.Runner.HeaderKeys())
	if err != nil {
		return nil, nil, err
	}
	s.After = nil // the queue ran what it runs after
	return s, b, nil
}

// bookkeeping bounds the queue's own writes at a job's end: they must
// happen even when the job's context ended (a cancelled job is recorded).
const bookkeeping = 30 * time.Second

// end is a job's last attempt: it records the output, the job's state in
// its batches (enqueuing or skipping its dependents), and ends the River
// job: completed when ok, else cancelled, River's only way for a worker to
// end a job for good (the output, `etlhost jobs` and the history say
// failed or timeout). failedEarly is the report of a job that could not
// start (its bundle, its header): its reporters hear it here.
func (rw *runWorker) end(ctx context.Context, job *river.Job[RunArgs], info Job, failedEarly *host.Report, res *host.Result) error {
	w := rw.w
	if failedEarly != nil {
		rw.report(info, failedEarly)
	}
	rw.output(ctx, res, false)
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeeping)
	defer cancel()
	tx, err := w.pool.Begin(bctx)
	if err != nil {
		return fmt.Errorf("recording the end of the job: %w", err)
	}
	defer tx.Rollback(bctx) //nolint:errcheck // after Commit it does nothing
	skipped, err := finish(bctx, tx, w.client, job.ID, string(res.Status))
	if err != nil {
		return fmt.Errorf("recording the end of the job: %w", err)
	}
	if res.Status == host.StatusOK {
		// Completed in the transaction that enqueues its dependents: a
		// worker dying here leaves both undone, and the job runs again.
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](bctx, tx, job); err != nil {
			return fmt.Errorf("completing the job: %w", err)
		}
	}
	if err := tx.Commit(bctx); err != nil {
		return fmt.Errorf("recording the end of the job: %w", err)
	}
	for _, sk := range skipped {
		now := time.Now()
		res := &host.Result{Name: sk.Name, Path: sk.Path, Status: host.StatusSkipped, StartedAt: now, Error: "skipped: " + strings.Join(sk.Why, ", ")}
		rw.report(Job{Name: sk.Name, Path: sk.Path, Origin: info.Origin}, &host.Report{Status: host.StatusFailed, StartedAt: now, Scripts: []*host.Result{res}})
	}
	if res.Status == host.StatusOK {
		return nil
	}
	return river.JobCancel(fmt.Errorf("%s: %s", res.Status, host.FirstLine(res.Error)))
}

// report tells the job's reporters about a result the runner did not
// produce (a job that could not start, one skipped).
func (rw *runWorker) report(info Job, rep *host.Report) {
	for _, rp := range rw.w.cfg.Reporters(info) {
		for _, res := range rep.Scripts {
			rp.ScriptFinished(res)
		}
		if err := rp.Finish(rep); err != nil {
			fmt.Fprintf(rw.w.cfg.Stderr, "etlhost worker: job %s: %v\n", info.Name, err)
		}
	}
}

func (rw *runWorker) output(ctx context.Context, res *host.Result, retry bool) {
	out := Output{Status: res.Status, DurationMS: res.Duration.Milliseconds(), Rows: res.RowsLoaded, Error: truncate(host.FirstLine(res.Error), 1000), Retry: retry}
	if err := river.RecordOutput(ctx, out); err != nil {
		fmt.Fprintf(rw.w.cfg.Stderr, "etlhost worker: job %s: output not recorded: %v\n", res.Name, err)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n-- // not inside a UTF-8 sequence
	}
	return s[:n] + "…"
}

func merge(base, over map[string]string) map[string]string {
	if len(over) == 0 {
		return base
	}
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}
