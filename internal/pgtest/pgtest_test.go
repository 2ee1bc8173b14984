package pgtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	if os.Getenv("PGTEST_CHILD_DIR") != "" {
		childCluster()
		return
	}
	Main(m)
}

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
		if err != nil || (u.Username != ClusterUser && u.Username != "nobody") {
			t.Fatalf("data directory owned by %v (%v), want %s", u, err, ClusterUser)
		}
	}
	// Only a Unix socket: no TCP listener.
	if got := QueryRows(t, dsn, "SELECT current_setting('listen_addresses')")[0][0]; got != "" {
		t.Fatalf("listen_addresses = %q, want empty", got)
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"host=/tmp/x port=5432 user=postgres dbname=postgres", "host=/tmp/x port=5432 user=postgres dbname=postgres dbname=t_1"},
		{"postgres://u:p@h:5432/db?sslmode=disable", "postgres://u:p@h:5432/t_1?sslmode=disable"},
		{"postgresql://h/", "postgresql://h/t_1"},
	} {
		if got := withDatabase(tc.in, "t_1"); got != tc.want {
			t.Errorf("withDatabase(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// The last dbname wins in keyword/value form: check pgx agrees.
	cfg, err := pgx.ParseConfig(withDatabase("host=/tmp/x dbname=postgres", "t_1"))
	if err != nil || cfg.Database != "t_1" {
		t.Fatalf("pgx reads database %q (%v), want t_1", cfg.Database, err)
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

func TestBinDir(t *testing.T) {
	t.Parallel()
	dir, err := BinDir()
	if err != nil {
		t.Fatalf("%v: %s", err, InstallHint)
	}
	for _, b := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			t.Fatalf("BinDir %s has no %s", dir, b)
		}
	}
}

// TestStartClusterGivenDir starts a second cluster in a caller-owned
// directory, restarts it on the same data, and checks stop leaves the
// directory (the caller's) but stops the server.
func TestStartClusterGivenDir(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("/tmp", "pgtest-given-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	dsn, stop, err := StartCluster(dir)
	if err != nil {
		t.Fatal(err)
	}
	Exec(t, dsn, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err != nil {
		t.Fatalf("stop removed the caller's directory: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := pgx.Connect(ctx, dsn); err == nil {
		c.Close(ctx)
		t.Fatal("server still accepts connections after stop")
	}
	dsn, stop, err = StartCluster(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if got := QueryRows(t, dsn, "SELECT x FROM kept")[0][0]; got != int32(7) {
		t.Fatalf("after restart kept.x = %v, want 7", got)
	}
}

func TestCleanStale(t *testing.T) {
	t.Parallel()
	// A pid that is surely dead: a finished child of ours.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	mk := func(pid int) string {
		d, err := os.MkdirTemp(tempRoot(), dirPrefix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, ownerFile), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	staleDir, liveDir := mk(dead), mk(os.Getpid())
	CleanStale()
	if _, err := os.Stat(staleDir); !os.IsNotExist(err) {
		t.Fatalf("stale directory %s not removed (%v)", staleDir, err)
	}
	if _, err := os.Stat(liveDir); err != nil {
		t.Fatalf("directory of a live process removed: %v", err)
	}
}

// TestServerDiesWithParent kills (SIGKILL) a process that started a
// cluster and checks the server goes away with it, then that CleanStale
// removes the directory left behind.
func TestServerDiesWithParent(t *testing.T) {
	t.Parallel()
	marker, err := os.MkdirTemp("", "pgtest-child-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(marker)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PGTEST_CHILD_DIR="+marker)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not report its cluster: %v", err)
	}
	var clusterDir string
	if _, err := fmt.Sscanf(line, "CLUSTER %s", &clusterDir); err != nil {
		t.Fatalf("child said %q", line)
	}
	pm, err := os.ReadFile(filepath.Join(clusterDir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(pm), "\n")
	pid, _ := strconv.Atoi(first)
	if !alive(pid) {
		t.Fatalf("postmaster %d not running", pid)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// Bounded wait, not a timing assertion: the server must be gone.
	for i := 0; i < 300 && alive(pid); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if alive(pid) {
		syscall.Kill(pid, syscall.SIGQUIT)
		t.Fatalf("postmaster %d survived its parent's death", pid)
	}
	CleanStale()
	if _, err := os.Stat(clusterDir); !os.IsNotExist(err) {
		t.Fatalf("CleanStale left %s (%v)", clusterDir, err)
	}
}

// childCluster is the child of TestServerDiesWithParent: it starts a
// cluster, reports it, and waits to be killed.
func childCluster() {
	dsn, _, err := StartCluster("")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	host := strings.TrimPrefix(strings.Fields(dsn)[0], "host=")
	fmt.Printf("CLUSTER %s\n", host)
	time.Sleep(5 * time.Minute)
	os.Exit(1)
}

func ExampleStartCluster() {
	dsn, stop, err := StartCluster("")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close(context.Background())
	var n int
	_ = conn.QueryRow(context.Background(), "SELECT 40 + 2").Scan(&n)
	fmt.Println(n)
	// Output: 42
}
