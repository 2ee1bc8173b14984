package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Listed is one job as `etlhost jobs` shows it.
type Listed struct {
	ID    int64  `json:"id"`
	Kind  string `json:"kind"`
	Job   string `json:"job"`
	Path  string `json:"path,omitempty"`
	State string `json:"state"` // River's
	// Status is etlhost's outcome when the job ended (ok, failed, timeout,
	// cancelled), from its output.
	Status      string     `json:"status,omitempty"`
	Attempt     int        `json:"attempt"`
	Origin      string     `json:"origin,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ScheduledAt time.Time  `json:"scheduled_at"`
	AttemptedAt *time.Time `json:"attempted_at,omitempty"`
	FinalizedAt *time.Time `json:"finalized_at,omitempty"`
	Error       string     `json:"error,omitempty"`
	Worker      string     `json:"worker,omitempty"`
}

// ListQuery filters the jobs listed.
type ListQuery struct {
	// States are River's states (none: all).
	States []string
	// Job keeps the jobs of one name.
	Job string
	// Last is how many of the most recent jobs (default 50).
	Last int
}

// List lists the most recent jobs, newest first.
func (q *Queue) List(ctx context.Context, lq ListQuery) ([]Listed, error) {
	n := lq.Last
	if n <= 0 {
		n = 50
	}
	params := river.NewJobListParams().Kinds(KindRun, KindTick).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(n)
	if len(lq.States) > 0 {
		var states []rivertype.JobState
		for _, s := range lq.States {
			states = append(states, rivertype.JobState(s))
		}
		params = params.States(states...)
	}
	if lq.Job != "" {
		params = params.Where("args->>'job' = @job", river.NamedArgs{"job": lq.Job})
	}
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	var out []Listed
	for _, j := range res.Jobs {
		out = append(out, listed(j))
	}
	return out, nil
}

func listed(j *rivertype.JobRow) Listed {
	l := Listed{ID: j.ID, Kind: j.Kind, State: string(j.State), Attempt: j.Attempt, CreatedAt: j.CreatedAt,
		ScheduledAt: j.ScheduledAt, AttemptedAt: j.AttemptedAt, FinalizedAt: j.FinalizedAt}
	if len(j.AttemptedBy) > 0 {
		l.Worker = j.AttemptedBy[len(j.AttemptedBy)-1]
	}
	var args struct {
		Job, Path, Origin, Schedule string
	}
	_ = json.Unmarshal(j.EncodedArgs, &args) // etlhost's kinds: their args decode
	l.Job, l.Path, l.Origin = args.Job, args.Path, args.Origin
	if j.Kind == KindTick {
		l.Origin = "schedule " + args.Schedule
	}
	var meta struct {
		Output *Output `json:"output"`
	}
	if json.Unmarshal(j.Metadata, &meta) == nil && meta.Output != nil {
		l.Status, l.Error = string(meta.Output.Status), meta.Output.Error
	}
	if l.Error == "" && len(j.Errors) > 0 {
		l.Error = j.Errors[len(j.Errors)-1].Error
	}
	return l
}

// ErrNoSuchJob is the error of Cancel for an ID the queue does not hold.
var ErrNoSuchJob = errors.New("no such job")

// Cancel cancels the job id: a job not yet running never runs; a running
// one's script is cancelled (River tells its worker, whose script unwinds
// within its grace; an atomic load leaves its table as it was). It returns
// the job as it stands.
func (q *Queue) Cancel(ctx context.Context, id int64) (Listed, error) {
	j, err := q.client.JobCancel(ctx, id)
	if errors.Is(err, rivertype.ErrNotFound) {
		return Listed{}, fmt.Errorf("cancel %d: %w", id, ErrNoSuchJob)
	}
	if err != nil {
		return Listed{}, fmt.Errorf("cancel %d: %w", id, err)
	}
	if j.State == rivertype.JobStateCancelled && j.Kind == KindRun {
		// It will never run: the jobs waiting for it in its batch are
		// skipped now (a running job's worker does it when the script
		// has stopped).
		if err := q.ended(ctx, id, "cancelled"); err != nil {
			return listed(j), fmt.Errorf("cancel %d: the jobs that run after it: %w", id, err)
		}
	}
	return listed(j), nil
}

// ended records how job id ended in its batches, outside a worker.
func (q *Queue) ended(ctx context.Context, id int64, state string) error {
	tx, err := q.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	if _, err := finish(ctx, tx, q.client, id, state); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Get returns the job id.
func (q *Queue) Get(ctx context.Context, id int64) (Listed, error) {
	j, err := q.client.JobGet(ctx, id)
	if errors.Is(err, rivertype.ErrNotFound) {
		return Listed{}, fmt.Errorf("job %d: %w", id, ErrNoSuchJob)
	}
	if err != nil {
		return Listed{}, fmt.Errorf("job %d: %w", id, err)
	}
	return listed(j), nil
}
