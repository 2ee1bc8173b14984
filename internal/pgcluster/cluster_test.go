package pgcluster

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
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
	os.Exit(m.Run())
}

// TestNoTestingImport keeps the promise that lets the etlhost binary start
// clusters (demo, bench) without linking package testing: neither this
// package nor the binary depends on it.
func TestNoTestingImport(t *testing.T) {
	t.Parallel()
	for _, pkg := range []string{".", "../../cmd/etlhost"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == "testing" {
				t.Errorf("%s depends on package testing (find the importer with: go list -f '{{.ImportPath}} {{.Imports}}' -deps %s | grep -w testing)", pkg, pkg)
			}
		}
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"host=/tmp/x port=5432 user=postgres dbname=postgres", "host=/tmp/x port=5432 user=postgres dbname=postgres dbname=t_1"},
		{"postgres://u:p@h:5432/db?sslmode=disable", "postgres://u:p@h:5432/t_1?sslmode=disable"},
		{"postgresql://h/", "postgresql://h/t_1"},
	} {
		if got := WithDatabase(tc.in, "t_1"); got != tc.want {
			t.Errorf("WithDatabase(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// The last dbname wins in keyword/value form: check pgx agrees.
	cfg, err := pgx.ParseConfig(WithDatabase("host=/tmp/x dbname=postgres", "t_1"))
	if err != nil || cfg.Database != "t_1" {
		t.Fatalf("pgx reads database %q (%v), want t_1", cfg.Database, err)
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

// TestStartGivenDir starts a cluster in a caller-owned directory, restarts
// it on the same data, and checks stop leaves the directory (the caller's)
// but stops the server.
func TestStartGivenDir(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("/tmp", "pgtest-given-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	dsn, stop, err := Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	execSQL(t, dsn, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)")
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
	dsn, stop, err = Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if got := queryOne(t, dsn, "SELECT x FROM kept"); got != int32(7) {
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
	dsn, _, err := Start("")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	host := strings.TrimPrefix(strings.Fields(dsn)[0], "host=")
	fmt.Printf("CLUSTER %s\n", host)
	time.Sleep(5 * time.Minute)
	os.Exit(1)
}

// execSQL runs sql on dsn (pgtest's helpers build on this package, so its
// tests cannot use them).
func execSQL(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// queryOne returns the first column of the one row sql returns.
func queryOne(t *testing.T, dsn, sql string) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v any
	if err := conn.QueryRow(ctx, sql).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}
