package queue

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// RunArgs are the arguments of a job that runs one script.
type RunArgs struct {
	// Job is the script's name: River keeps one job of a name pending or
	// running at a time (see insertOpts).
	Job string `json:"job" river:"unique"`
	// Path is the script's path as enqueued, for messages and the history.
	Path string `json:"path"`
	// Bundle is the hash of the files enqueued (table bundle).
	Bundle string            `json:"bundle"`
	Args   map[string]string `json:"args,omitempty"`
	// Batch is the enqueue the job belongs to: its dependents wait in it.
	Batch  int64  `json:"batch"`
	Origin string `json:"origin,omitempty"`
}

// Kind is River's name of the job's kind.
func (RunArgs) Kind() string { return KindRun }

// MaxRescues is how many times a job whose worker died is run again
// (River's rescuer puts it back) before it is given up: a job that kills
// its worker each time does not kill them all.
const MaxRescues = 3

// maxAttempts leaves River room for every retry a header may ask and for
// the rescues: the worker decides when a job stops (see Worker.decide).
const maxAttempts = 1 + 10 + MaxRescues

// unfinished are the states in which a job of a name blocks another.
var unfinished = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

func insertOpts() *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       river.QueueDefault,
		MaxAttempts: maxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: unfinished},
	}
}

// Script is one script of an enqueue, read from the disk of who enqueues.
type Script struct {
	Name, Path string
	After      []string // the jobs it runs after, all in the same Batch
	Source     []byte
}

// Batch is what one enqueue inserts: scripts, the library they share, the
// run's arguments.
type Batch struct {
	Scripts []Script
	Lib     map[string][]byte
	Args    map[string]string
	// Origin says who enqueued it, for `etlhost jobs`: "enqueue", "schedule".
	Origin string
}

// Enqueued is what became of one script of a batch.
type Enqueued struct {
	Name string
	// State: "enqueued" (River has the job, ID), "waiting" (for the jobs
	// it runs after), "duplicate" (a job of that name is already pending
	// or running: ID is that job, or 0 when it is waiting in another
	// batch).
	State string
	ID    int64
	Batch int64
}

// Enqueue inserts the batch in one transaction: nothing of it is enqueued
// when any part fails.
func (q *Queue) Enqueue(ctx context.Context, b *Batch) ([]Enqueued, error) {
	tx, err := q.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("enqueue: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	out, err := enqueueTx(ctx, tx, q.client, b)
	if err != nil {
		return nil, fmt.Errorf("enqueue: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("enqueue: %w", err)
	}
	return out, nil
}

// enqueueLock serialises enqueues, so two of the same batch cannot both
// see no waiting job of a name.
const enqueueLock = 0x65746c65 // "etle"

func enqueueTx(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], b *Batch) ([]Enqueued, error) {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(enqueueLock)); err != nil {
		return nil, err
	}
	var batch int64
	if err := tx.QueryRow(ctx, "SELECT nextval('"+Schema+".batch_id')").Scan(&batch); err != nil {
		return nil, err
	}
	args := b.Args
	if args == nil {
		args = map[string]string{}
	}
	var out []Enqueued
	for _, s := range b.Scripts {
		hash, err := storeBundle(ctx, tx, &Bundle{Source: s.Source, Lib: b.Lib})
		if err != nil {
			return nil, err
		}
		e := Enqueued{Name: s.Name, Batch: batch}
		var riverID *int64
		if len(s.After) == 0 {
			res, err := client.InsertTx(ctx, tx, RunArgs{Job: s.Name, Path: s.Path, Bundle: hash, Args: b.Args, Batch: batch, Origin: b.Origin}, insertOpts())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.Name, err)
			}
			e.ID, e.State = res.Job.ID, "enqueued"
			if res.UniqueSkippedAsDuplicate {
				e.State = "duplicate"
			}
			riverID = &e.ID
		} else {
			var waiting bool
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+Schema+`.batch_job WHERE job = $1 AND state = 'waiting')`, s.Name).Scan(&waiting)
			if err != nil {
				return nil, err
			}
			e.State = "waiting"
			if waiting {
				e.State = "duplicate"
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO `+Schema+`.batch_job (batch, job, path, bundle, after, state, river_id, args, origin)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, batch, s.Name, s.Path, hash, nonNil(s.After), e.State, riverID, args, b.Origin)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	// A job waiting for one that was a duplicate waits for that one.
	if _, err := advance(ctx, tx, client, batch); err != nil {
		return nil, err
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// final states of a job in a batch; the others are enqueued, waiting and
// duplicate.
var final = []string{"ok", "failed", "timeout", "cancelled", "skipped"}

// Skipped is a job of a batch that was not run because a job it runs after
// did not end ok: the worker records it in the history as `run` would.
type Skipped struct {
	Name, Path string
	Why        []string // "achat failed"
}

// advance enqueues the jobs of batch whose dependencies all ended ok, and
// marks skipped those with one that did not, until nothing changes.
func advance(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], batch int64) ([]Skipped, error) {
	var skipped []Skipped
	for {
		type row struct {
			job, path, bundle, origin string
			after                     []string
			args                      map[string]string
		}
		rows, err := tx.Query(ctx, `SELECT job, path, bundle, after, args, origin FROM `+Schema+`.batch_job WHERE batch = $1 AND state = 'waiting' ORDER BY job`, batch)
		if err != nil {
			return nil, err
		}
		waiting, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var w row
			err := r.Scan(&w.job, &w.path, &w.bundle, &w.after, &w.args, &w.origin)
			return w, err
		})
		if err != nil {
			return nil, err
		}
		states := map[string]string{}
		rows, err = tx.Query(ctx, `SELECT job, state FROM `+Schema+`.batch_job WHERE batch = $1`, batch)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var job, state string
			if err := rows.Scan(&job, &state); err != nil {
				return nil, err
			}
			states[job] = state
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		changed := false
		for _, w := range waiting {
			ready := true
			var why []string
			for _, dep := range w.after {
				st := states[dep]
				switch {
				case !slices.Contains(final, st):
					ready = false
				case st != "ok":
					why = append(why, dep+" "+endedAs(st))
				}
			}
			if !ready {
				continue
			}
			changed = true
			if len(why) > 0 {
				if _, err := tx.Exec(ctx, `UPDATE `+Schema+`.batch_job SET state = 'skipped', updated_at = now() WHERE batch = $1 AND job = $2`, batch, w.job); err != nil {
					return nil, err
				}
				skipped = append(skipped, Skipped{Name: w.job, Path: w.path, Why: why})
				continue
			}
			res, err := client.InsertTx(ctx, tx, RunArgs{Job: w.job, Path: w.path, Bundle: w.bundle, Args: w.args, Batch: batch, Origin: w.origin}, insertOpts())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", w.job, err)
			}
			state := "enqueued"
			if res.UniqueSkippedAsDuplicate {
				state = "duplicate"
			}
			if _, err := tx.Exec(ctx, `UPDATE `+Schema+`.batch_job SET state = $3, river_id = $4, updated_at = now() WHERE batch = $1 AND job = $2`, batch, w.job, state, res.Job.ID); err != nil {
				return nil, err
			}
		}
		if !changed {
			return skipped, nil
		}
	}
}

// finish records how the River job id ended in every batch that holds it
// (its own, and those where it stood for a duplicate), and advances them.
func finish(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], id int64, state string) ([]Skipped, error) {
	rows, err := tx.Query(ctx, `UPDATE `+Schema+`.batch_job SET state = $2, updated_at = now() WHERE river_id = $1 AND state IN ('enqueued', 'duplicate') RETURNING batch`, id, state)
	if err != nil {
		return nil, err
	}
	batches, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	var skipped []Skipped
	for _, b := range batches {
		s, err := advance(ctx, tx, client, b)
		if err != nil {
			return nil, err
		}
		skipped = append(skipped, s...)
	}
	return skipped, nil
}

// endedAs says how a job a skipped one runs after ended, as `run` says it.
func endedAs(state string) string {
	switch state {
	case "timeout":
		return "timed out"
	case "skipped":
		return "was skipped"
	default:
		return state
	}
}
