package pgtest

import (
	"context"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/etlhost/etlhost/internal/pgcluster"
)

func TestMain(m *testing.M) { Main(m) }

func TestDSNIsolatedDatabases(t *testing.T) {
	t.Parallel()
	a, b := DSN(t), DSN(t)
	if a == b {
		t.Fatalf("two calls returned the same DSN %q", a)
	}
	Exec(t, a, "CREATE TABLE only_in_a (x int)")
	Exec(t, a, "INSERT INTO only_in_a VALUES (1), (2)")
	if got := QueryRows(t, a, "SELECT count(*) FROM only_in_a"); got[0][0] != int64(2) {
		t.Fatalf("count in a = %v, want 2", got[0][0])
	}
	rows := QueryRows(t, b, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'")
	if rows[0][0] != int64(0) {
		t.Fatalf("table of database a visible in database b")
	}
}

func TestDSNDroppedAtCleanup(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("inner", func(t *testing.T) {
		dsn := DSN(t)
		rows := QueryRows(t, dsn, "SELECT current_database()")
		name = rows[0][0].(string)
		// A connection left open must not stop the drop.
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
	})
	_, pool, err := server()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %s still exists after its test ended", name)
	}
}

func TestServerNotRoot(t *testing.T) {
	t.Parallel()
	if os.Getenv(EnvDSN) != "" {
		t.Log("using " + EnvDSN + ": checking only that it answers")
	}
	dsn := DSN(t)
	rows := QueryRows(t, dsn, "SELECT current_setting('data_directory')")
	if os.Getenv(EnvDSN) != "" {
		return
	}
	dir := rows[0][0].(string)
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	uid := st.Sys().(*syscall.Stat_t).Uid
	if os.Geteuid() == 0 && uid == 0 {
		t.Fatalf("data directory %s owned by root: the server must run unprivileged", dir)
	}
	if os.Geteuid() == 0 {
		u, err := user.LookupId(strconv.Itoa(int(uid)))
		if err != nil || (u.Username != pgcluster.ClusterUser && u.Username != "nobody") {
			t.Fatalf("data directory owned by %v (%v), want %s", u, err, pgcluster.ClusterUser)
		}
	}
	// Only a Unix socket: no TCP listener.
	if got := QueryRows(t, dsn, "SELECT current_setting('listen_addresses')")[0][0]; got != "" {
		t.Fatalf("listen_addresses = %q, want empty", got)
	}
}

func TestDBName(t *testing.T) {
	t.Parallel()
	n := dbName("TestX/sub case-1 with a very long name that goes on and on and on")
	if len(n) > 63 {
		t.Fatalf("database name %q longer than 63 bytes", n)
	}
	if !strings.HasPrefix(n, "t_testx_sub_case_1") {
		t.Fatalf("database name %q", n)
	}
	if dbName("a") == dbName("a") {
		t.Fatal("two names for the same test are equal")
	}
}
