package history

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migration is one version of the schema. Migrations only ever add: an
// older etlhost keeps working on a database migrated by a newer one.
type migration struct {
	Version int
	Name    string
	SQL     string
}

// migrations in order; a released one is never edited, only followed.
var migrations = []migration{
	{1, "runs and script results", `
CREATE TABLE etlhost.runs (
	id              bigserial PRIMARY KEY,
	started_at      timestamptz NOT NULL,
	duration_ms     bigint NOT NULL,
	status          text NOT NULL CHECK (status IN ('ok', 'failed', 'cancelled')),
	hostname        text NOT NULL DEFAULT '',
	etlhost_version text NOT NULL DEFAULT ''
);
CREATE INDEX runs_started_at ON etlhost.runs (started_at DESC);
CREATE TABLE etlhost.script_runs (
	run_id      bigint NOT NULL REFERENCES etlhost.runs (id) ON DELETE CASCADE,
	script      text NOT NULL,
	path        text NOT NULL,
	status      text NOT NULL CHECK (status IN ('ok', 'failed', 'timeout', 'cancelled')),
	started_at  timestamptz NOT NULL,
	duration_ms bigint NOT NULL,
	rows        bigint,
	error       text,
	result      jsonb,
	PRIMARY KEY (run_id, script)
);
CREATE INDEX script_runs_script ON etlhost.script_runs (script, started_at DESC);
COMMENT ON TABLE etlhost.runs IS 'etlhost run history: one row per etlhost run, written by the host after the run';
COMMENT ON TABLE etlhost.script_runs IS 'etlhost run history: one row per script of a run';
`},
	// A job not run because one it runs after did not end ok is skipped;
	// a job that may be retried keeps its attempts. An older etlhost
	// writes neither column: its results count one attempt.
	{2, "skipped status and attempts", `
ALTER TABLE etlhost.script_runs DROP CONSTRAINT script_runs_status_check;
ALTER TABLE etlhost.script_runs ADD CONSTRAINT script_runs_status_check
	CHECK (status IN ('ok', 'failed', 'timeout', 'skipped', 'cancelled'));
ALTER TABLE etlhost.script_runs
	ADD COLUMN attempts integer NOT NULL DEFAULT 1 CHECK (attempts >= 0),
	ADD COLUMN attempt_log jsonb;
COMMENT ON COLUMN etlhost.script_runs.attempts IS 'how many times the job ran: 0 when it never started (skipped, cancelled before it started), more than 1 when it was retried';
COMMENT ON COLUMN etlhost.script_runs.attempt_log IS 'the attempts of a job that may be retried, in order: attempt, started_at, duration_ms, status, error, transient, reason';
`},
}

// LatestVersion is the schema version this etlhost writes.
func LatestVersion() int { return migrations[len(migrations)-1].Version }

// migrationLock is the advisory lock key under which the schema is
// migrated ("etlhost" in ASCII): concurrent runs wait for each other
// rather than racing to create the same tables.
const migrationLock int64 = 0x65746c686f7374

// migrate applies the missing migrations up to version, all in one
// transaction under the advisory lock (released at commit or rollback).
func (s *Store) migrate(ctx context.Context, version int) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("cannot lock the history schema for migration: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS etlhost;
			CREATE TABLE IF NOT EXISTS etlhost.schema_migrations (
				version    integer PRIMARY KEY,
				name       text NOT NULL,
				applied_at timestamptz NOT NULL DEFAULT now()
			)`); err != nil {
			return fmt.Errorf("cannot create the history schema (the role needs CREATE on the database): %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM etlhost.schema_migrations").Scan(&current); err != nil {
			return fmt.Errorf("cannot read the history schema's version: %w", err)
		}
		for _, m := range migrations {
			if m.Version <= current || m.Version > version {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("history schema migration %d (%s): %w", m.Version, m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO etlhost.schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
				return fmt.Errorf("history schema migration %d: %w", m.Version, err)
			}
		}
		return nil
	})
}

// SchemaVersion is the version the database's history schema is at.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM etlhost.schema_migrations").Scan(&v)
	return v, err
}
