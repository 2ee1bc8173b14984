// Package queue runs etlhost's jobs on River, the PostgreSQL job queue
// (github.com/riverqueue/river), so that several machines share a night's
// jobs and one of them may die without losing it: `etlhost enqueue` inserts
// jobs, `etlhost worker` runs them exactly as `etlhost run` runs a script,
// and a script's `--! schedule` header becomes a River periodic job. River
// gives the queue, its locking, retries, the rescue of a dead worker's jobs,
// unique jobs and the election of the leader that enqueues periodic jobs;
// this package only says what an etlhost job is.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/etlhost/etlhost/internal/secret"
)

// Schema holds River's tables and etlhost's own (the scripts enqueued, the
// batches waiting for dependencies), apart from the run history (schema
// etlhost) and the team's tables.
const Schema = "etlhost_queue"

// Kinds of the jobs etlhost inserts.
const (
	// KindRun runs one script (RunArgs).
	KindRun = "etlhost_run"
	// KindTick is the tick of a schedule (TickArgs): the worker that takes
	// it enqueues the scheduled job and its dependents.
	KindTick = "etlhost_schedule"
)

// migrateLock is the advisory lock every etlhost process takes to migrate
// the schema, so two workers starting at once do not race to create it.
const migrateLock = 0x65746c71 // "etlq"

// Queue is a connection to the queue: enough to enqueue, list and cancel
// jobs. A Worker works them.
type Queue struct {
	pool   *pgxpool.Pool
	client *river.Client[pgx.Tx]
}

// Open connects to the PostgreSQL of dsn, creates or migrates the schema
// (River's migrator, under an advisory lock) and returns the queue. The
// error never holds dsn's password.
func Open(ctx context.Context, dsn string) (*Queue, error) {
	pool, err := connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: Schema, Logger: quietLogger()})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("queue: %w", err)
	}
	return &Queue{pool: pool, client: client}, nil
}

// Close releases the connections.
func (q *Queue) Close() { q.pool.Close() }

// Client is the queue's River client, which inserts and lists but works
// no job (for River's UI).
func (q *Queue) Client() *river.Client[pgx.Tx] { return q.client }

func connect(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("queue: the connection string cannot be read (check its syntax; it is not shown because it may hold a password)")
	}
	secrets := secret.OfDSN(dsn)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("queue: cannot connect: %w", secret.ScrubError(err, secrets))
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("queue: cannot prepare schema %s: %w", Schema, secret.ScrubError(err, secrets))
	}
	return pool, nil
}

// tables are etlhost's own, beside River's: bundles are the scripts
// enqueued, content-addressed; batch_job holds the jobs of an enqueue that
// wait for the jobs they run after.
const tables = `
CREATE TABLE IF NOT EXISTS ` + Schema + `.bundle (
	hash text PRIMARY KEY,
	files bytea NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE SEQUENCE IF NOT EXISTS ` + Schema + `.batch_id;
CREATE TABLE IF NOT EXISTS ` + Schema + `.batch_job (
	batch bigint NOT NULL,
	job text NOT NULL,
	path text NOT NULL,
	bundle text NOT NULL REFERENCES ` + Schema + `.bundle (hash),
	after text[] NOT NULL DEFAULT '{}',
	state text NOT NULL,
	river_id bigint,
	args jsonb NOT NULL DEFAULT '{}',
	origin text NOT NULL DEFAULT '',
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (batch, job)
);
CREATE INDEX IF NOT EXISTS batch_job_waiting ON ` + Schema + `.batch_job (job) WHERE state = 'waiting';
`

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	// River's migrations each run in their own transaction (one adds an
	// enum value the next uses), so the lock is a session's, held on a
	// connection of its own while they run on others.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrateLock)); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrateLock)) //nolint:errcheck // the session's end releases it too
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+Schema); err != nil {
		return err
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: Schema, Logger: quietLogger()})
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("River's migration: %w", err)
	}
	_, err = conn.Exec(ctx, tables)
	return err
}

// quietLogger keeps River's own log at warnings: a worker's output is its
// jobs' lines.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
