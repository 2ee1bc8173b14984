package pg_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/luabind/pg"
)

// background runs fn on a connection of its own to dsn, in a goroutine,
// and reports its error when the test ends.
func background(t *testing.T, dsn string, fn func(ctx context.Context, c *pgx.Conn) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- fn(ctx, c) }()
	t.Cleanup(func() {
		if err := <-done; err != nil {
			t.Errorf("the other connection: %v", err)
		}
		c.Close(context.Background())
		cancel()
	})
}

// holdThenAsk locks row 2 of lk on a connection of its own, then, once the
// script's statement marked deadlock-me waits for that row, asks for row 1.
func holdThenAsk(t *testing.T, dsn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := c.Begin(ctx)
	if err == nil {
		_, err = tx.Exec(ctx, "UPDATE lk SET id = id WHERE id = 2")
	}
	if err != nil {
		c.Close(context.Background())
		t.Fatal(err)
	}
	background(t, dsn, func(ctx context.Context, mon *pgx.Conn) error {
		defer c.Close(context.Background())
		defer tx.Rollback(context.Background())
		if _, err := waitingOn(ctx, mon, "deadlock-me", true); err != nil {
			return err
		}
		// Blocks until the server breaks the deadlock by failing the
		// script's transaction; then it gets the row.
		_, err := tx.Exec(ctx, "UPDATE lk SET id = id WHERE id = 1")
		return err
	})
}

// waitingOn polls until a backend of the test's database other than c's
// runs a statement containing marker and, when lock is set, waits for a
// lock; it returns that backend's pid.
func waitingOn(ctx context.Context, c *pgx.Conn, marker string, lock bool) (int32, error) {
	for {
		var pid int32
		err := c.QueryRow(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
			AND query LIKE '%' || $1 || '%' AND ($2 = false OR wait_event_type = 'Lock')`, marker, lock).Scan(&pid)
		if err == nil {
			return pid, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no backend ran %q: %w", marker, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestFaultsRecorded: every pg error value a call raises carries the
// classification the host retries on: transient for a refused connection,
// a serialization failure, a deadlock, a backend terminated by an
// administrator, too many connections; not for bad SQL, a database that
// does not exist, a misuse of the API or the script's own deadline.
func TestFaultsRecorded(t *testing.T) {
	t.Parallel()
	closed := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().(*net.TCPAddr)
		ln.Close()
		return fmt.Sprintf("host=127.0.0.1 port=%d user=etl dbname=x connect_timeout=5", addr.Port)
	}
	cases := []struct {
		name string
		// setup prepares the database dsn (a fresh one) and returns the
		// DSN the module connects with.
		setup func(t *testing.T, dsn string) string
		ctx   time.Duration // the script's deadline (0: none)
		code  string
		kind  string
		want  luabind.Fault
	}{
		{
			name:  "connection refused",
			setup: func(t *testing.T, _ string) string { return closed(t) },
			code:  `db:query("SELECT 1")`, kind: pg.KindConnect,
			want: luabind.Fault{Transient: true, Reason: "pg: connection refused"},
		},
		{
			name: "serialization failure",
			setup: func(t *testing.T, dsn string) string {
				pgtest.Exec(t, dsn, "CREATE TABLE acct (id int PRIMARY KEY, v int); INSERT INTO acct VALUES (1, 0)")
				return dsn
			},
			// other() commits an update of the row the transaction then
			// updates from its older snapshot.
			code: `db:tx(function(tx)
					tx:query_row("SELECT v FROM acct WHERE id = 1")
					other()
					tx:exec("UPDATE acct SET v = v + 1 WHERE id = 1")
				end, {isolation = "serializable"})`,
			kind: pg.KindSQL,
			want: luabind.Fault{Transient: true, Reason: "pg: serialization failure (40001)"},
		},
		{
			name: "deadlock",
			setup: func(t *testing.T, dsn string) string {
				pgtest.Exec(t, dsn, "CREATE TABLE lk (id int PRIMARY KEY); INSERT INTO lk VALUES (1), (2)")
				return dsn
			},
			// other() holds row 2 and, once the script waits for it,
			// asks for row 1, which the script holds: the script has
			// waited longest, so its backend finds the deadlock.
			code: `db:tx(function(tx)
					tx:exec("UPDATE lk SET id = id WHERE id = 1")
					other()
					tx:exec("UPDATE lk SET id = id WHERE id = 2 /* deadlock-me */")
				end)`,
			kind: pg.KindSQL,
			want: luabind.Fault{Transient: true, Reason: "pg: deadlock detected (40P01)"},
		},
		{
			name:  "backend terminated by an administrator",
			setup: func(t *testing.T, dsn string) string { return dsn },
			code:  `other() db:query("SELECT pg_sleep(30) /* terminate-me */")`,
			kind:  pg.KindSQL,
			want:  luabind.Fault{Transient: true, Reason: "pg: admin shutdown (57P01)"},
		},
		{
			name: "no server socket",
			setup: func(t *testing.T, _ string) string {
				return "host=" + t.TempDir() + " user=etl dbname=x connect_timeout=5"
			},
			code: `db:query("SELECT 1")`, kind: pg.KindConnect,
			want: luabind.Fault{Transient: true, Reason: "pg: no server socket"},
		},
		{
			name:  "connection lost between statements",
			setup: func(t *testing.T, dsn string) string { return dsn },
			code: `db:tx(function(tx)
					other(tx:query_row("SELECT pg_backend_pid() AS pid").pid)
					tx:query("SELECT 1")
				end)`,
			kind: "client",
			want: luabind.Fault{Transient: true, Reason: "pg: connection lost"},
		},
		{
			name: "too many connections",
			setup: func(t *testing.T, dsn string) string {
				role := fmt.Sprintf("full_%d", time.Now().UnixNano())
				pgtest.Exec(t, dsn, "CREATE ROLE "+role+" LOGIN CONNECTION LIMIT 0")
				t.Cleanup(func() { pgtest.Exec(t, dsn, "DROP ROLE IF EXISTS "+role) })
				return dsn + " user=" + role
			},
			code: `db:query("SELECT 1")`, kind: pg.KindConnect,
			want: luabind.Fault{Transient: true, Reason: "pg: too many connections (53300)"},
		},
		{
			name:  "a database that does not exist",
			setup: func(t *testing.T, dsn string) string { return dsn + " dbname=etlhost_no_such_db" },
			code:  `db:query("SELECT 1")`, kind: pg.KindConnect,
			want: luabind.Fault{Reason: "pg: SQLSTATE 3D000"},
		},
		{
			name:  "bad SQL",
			setup: func(t *testing.T, dsn string) string { return dsn },
			code:  `db:query("SELEC 1")`, kind: pg.KindSQL,
			want: luabind.Fault{Reason: "pg: SQLSTATE 42601"},
		},
		{
			name: "a unique violation",
			setup: func(t *testing.T, dsn string) string {
				pgtest.Exec(t, dsn, "CREATE TABLE u (id int PRIMARY KEY); INSERT INTO u VALUES (1)")
				return dsn
			},
			code: `db:exec("INSERT INTO u VALUES (1)")`, kind: pg.KindSQL,
			want: luabind.Fault{Reason: "pg: SQLSTATE 23505"},
		},
		{
			name:  "a value that does not convert",
			setup: func(t *testing.T, dsn string) string { return dsn },
			code:  `db:query("SELECT 9007199254740993::int8 AS big")`, kind: pg.KindValue,
			want: luabind.Fault{Reason: "pg: value error"},
		},
		{
			name:  "a parameter the driver cannot encode",
			setup: func(t *testing.T, dsn string) string { return dsn },
			code:  `db:query("SELECT $1::int", {})`, kind: "client",
			want: luabind.Fault{Reason: "pg: client error"},
		},
		{
			name:  "a transaction used after its end",
			setup: func(t *testing.T, dsn string) string { return dsn },
			code:  `local kept; db:tx(function(tx) kept = tx end); kept:query("SELECT 1")`,
			kind:  pg.KindUsage,
			want:  luabind.Fault{Reason: "pg: usage error"},
		},
		{
			name:  "the script's deadline",
			setup: func(t *testing.T, dsn string) string { return dsn },
			ctx:   300 * time.Millisecond,
			code:  `db:query("SELECT pg_sleep(600)")`, kind: pg.KindStopped,
			want: luabind.Fault{Reason: "pg: stopped: the script's time is up"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dsn := pgtest.DSN(t)
			m, _ := newModuleDSN(t, tc.setup(t, dsn))
			opts := luatest.Options{}
			if tc.ctx > 0 {
				ctx, cancel := context.WithTimeoutCause(context.Background(), tc.ctx, errors.New("the script's time is up"))
				defer cancel()
				opts.Ctx = ctx
			}
			s := luatest.New(t, opts, m)
			s.L.SetGlobal("other", s.L.NewFunction(func(L *lua.LState) int {
				switch tc.name {
				case "serialization failure":
					pgtest.Exec(t, dsn, "UPDATE acct SET v = 10 WHERE id = 1")
				case "deadlock":
					holdThenAsk(t, dsn)
				case "connection lost between statements":
					// Terminated while idle, the backend is gone (the
					// second argument waits for it) before the next
					// statement.
					pgtest.Exec(t, dsn, "SELECT pg_terminate_backend($1, 10000)", int32(L.CheckInt(1)))
				case "backend terminated by an administrator":
					background(t, dsn, func(ctx context.Context, c *pgx.Conn) error {
						pid, err := waitingOn(ctx, c, "terminate-me", false)
						if err != nil {
							return err
						}
						_, err = c.Exec(ctx, "SELECT pg_terminate_backend($1)", pid)
						return err
					})
				}
				return 0
			}))
			kind, got := luatest.RaisedFault(t, s, "local db = require('pg').connect()\n"+tc.code)
			if kind != tc.kind || got != tc.want {
				t.Fatalf("kind %q, fault %+v; want kind %q, fault %+v", kind, got, tc.kind, tc.want)
			}
		})
	}
}
