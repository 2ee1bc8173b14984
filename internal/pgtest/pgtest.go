// Package pgtest gives tests a real PostgreSQL: every call to DSN returns a
// connection string to a fresh, empty database of its own, dropped when the
// test ends, so tests run in parallel without seeing each other's tables.
//
// The server is the one named by ETLHOST_TEST_PG_DSN when that is set (its
// user must be allowed to CREATE DATABASE; PostgreSQL 13 or newer, for DROP
// DATABASE ... WITH (FORCE)). Otherwise pgtest starts a throwaway cluster
// (internal/pgcluster), once per test binary, from the system's initdb and
// postgres (PATH, then /usr/lib/postgresql/*/bin), in a temporary directory,
// listening only on a Unix socket there, with fsync off. As root it runs the
// server as the unprivileged user etlhost-pgtest (created when missing).
//
// When no server can be had, tests fail (they do not skip) with a message
// saying what to install: a green run means the database code really ran.
//
// A package whose tests use DSN calls Main from TestMain, so the cluster is
// stopped and its directory removed when the tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Without it the server still dies with the test binary (parent-death
// signal), and the next run removes the leftover directory.
//
// pgtest imports package testing: only tests may import it. Code that ships
// in the etlhost binary (the demo, the bench command) uses pgcluster.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etlhost/etlhost/internal/pgcluster"
)

// EnvDSN names the environment variable that points tests at an existing
// server instead of a throwaway cluster.
const EnvDSN = "ETLHOST_TEST_PG_DSN"

var (
	once    sync.Once
	baseDSN string
	admin   *pgxpool.Pool
	stopFn  func() error
	initErr error
	mu      sync.Mutex // guards stopFn/admin at Stop
)

func server() (string, *pgxpool.Pool, error) {
	once.Do(func() {
		if dsn := os.Getenv(EnvDSN); dsn != "" {
			baseDSN = dsn
		} else {
			pgcluster.CleanStale()
			dsn, stop, err := pgcluster.Start("")
			if err != nil {
				initErr = err
				return
			}
			baseDSN, stopFn = dsn, stop
		}
		cfg, err := pgxpool.ParseConfig(baseDSN)
		if err != nil {
			// The parse error may quote the DSN: say only where it came from.
			initErr = fmt.Errorf("the DSN in %s (or of the test cluster) cannot be parsed", EnvDSN)
			return
		}
		cfg.MaxConns = 4
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		if err == nil {
			err = p.Ping(ctx)
		}
		if err != nil {
			initErr = fmt.Errorf("connect to the test server: %w", err)
			return
		}
		admin = p
	})
	return baseDSN, admin, initErr
}

// DSN returns a DSN to a new empty database on the test server, dropped
// (with any connections still open to it) when t ends. It fails t when no
// PostgreSQL can be had.
func DSN(t testing.TB) string {
	t.Helper()
	base, pool, err := server()
	if err != nil {
		t.Fatalf("pgtest: no PostgreSQL for tests: %v\n%s", err, pgcluster.InstallHint)
	}
	name := dbName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return pgcluster.WithDatabase(base, name)
}

// dbName makes a database name from the test's name (for whoever looks at
// the server while a test runs) and a random suffix.
func dbName(test string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	return "t_" + b.String() + "_" + hex.EncodeToString(rnd[:])
}

// Stop stops the throwaway cluster, if one was started, and removes its
// directory. Main calls it; it is safe to call more than once.
func Stop() error {
	mu.Lock()
	defer mu.Unlock()
	if admin != nil {
		admin.Close()
		admin = nil
	}
	if stopFn != nil {
		err := stopFn()
		stopFn = nil
		return err
	}
	return nil
}

// Main runs the tests of a package, then stops the cluster. Call it from
// TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: stop the test cluster: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Exec runs sql (with $n args) on dsn and fails t on error. It returns the
// rows affected.
func Exec(t testing.TB, dsn, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	withConn(t, dsn, sql, func(ctx context.Context, conn *pgx.Conn) error {
		tag, err := conn.Exec(ctx, sql, args...)
		n = tag.RowsAffected()
		return err
	})
	return n
}

// QueryRows runs sql (with $n args) on dsn and returns every row's values as
// pgx decodes them (int32/int64, string, time.Time, pgtype.Numeric, ...);
// cast in SQL (::text, ::float8) for easy comparison. It fails t on error.
func QueryRows(t testing.TB, dsn, sql string, args ...any) [][]any {
	t.Helper()
	out := [][]any{}
	withConn(t, dsn, sql, func(ctx context.Context, conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return err
			}
			out = append(out, vals)
		}
		return rows.Err()
	})
	return out
}

// withConn runs fn on a connection of its own to dsn, failing t (with the
// statement) on any error.
func withConn(t testing.TB, dsn, sql string, fn func(context.Context, *pgx.Conn) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(context.Background())
	if err := fn(ctx, conn); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}
