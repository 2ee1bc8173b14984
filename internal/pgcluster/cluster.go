// Package pgcluster starts and stops throwaway PostgreSQL clusters: the
// system's initdb and postgres (PATH, then /usr/lib/postgresql/*/bin) run in
// a temporary directory, listening only on a Unix socket there, with
// durability turned off (fsync=off). As root the server runs as the
// unprivileged user etlhost-pgtest (created when missing). A server dies
// with the process that started it (parent-death signal), and CleanStale
// removes the directories such dead runs leave behind.
//
// It is for tests, demos and benchmarks, never for data anyone keeps:
// `etlhost demo` and `etlhost bench` use it directly, and the test helpers
// of internal/pgtest build on it. It must not import package testing
// (directly or not), so that the release binary does not link it.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// ClusterUser is the unprivileged OS user a cluster runs as when the caller
// is root (initdb and postgres refuse to run as root). It is created with
// useradd when missing; "nobody" is the fallback when it cannot be.
const ClusterUser = "etlhost-pgtest"

// dirPrefix names the temporary directories of clusters, so that the
// directories of dead runs can be found and removed (CleanStale).
const dirPrefix = "etlhost-pgtest-"

// ownerFile in a cluster directory holds the pid of the process that started
// the cluster; when that process is gone the cluster is stale.
const ownerFile = "owner.pid"

// InstallHint says what to install when no PostgreSQL can be found.
const InstallHint = "install PostgreSQL (Debian/Ubuntu: apt-get install postgresql) " +
	"or set ETLHOST_TEST_PG_DSN to a server where the user may CREATE DATABASE"

// ErrNoPostgres is returned (wrapped) when no initdb/postgres binaries exist.
var ErrNoPostgres = errors.New("no PostgreSQL server binaries (initdb, postgres) found in PATH or /usr/lib/postgresql/*/bin")

// BinDir returns the directory holding initdb and postgres: the one of
// initdb in PATH when postgres sits beside it (following symlinks, as
// Debian's /usr/bin wrappers are not the real binaries), otherwise the newest
// /usr/lib/postgresql/*/bin.
func BinDir() (string, error) {
	ok := func(dir string) bool {
		for _, b := range []string{"initdb", "postgres"} {
			if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.IsDir() {
				return false
			}
		}
		return true
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && ok(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if ok(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first ("9.6" < "15": compare numerically).
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dirs[i])), 64)
		vj, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dirs[j])), 64)
		return vi > vj
	})
	for _, d := range dirs {
		if ok(d) {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

// Start starts a throwaway PostgreSQL cluster in dir (a new temporary
// directory when dir is ""), listening only on a Unix socket in that
// directory, with durability turned off for speed (fsync=off): it is for
// tests and demos, never for data anyone keeps. When dir already holds a
// cluster made by an earlier Start, it is started again as it is.
//
// It returns a DSN for the superuser "postgres" on database "postgres"
// (trust authentication: the socket directory is the access control), and
// stop, which shuts the server down and, when Start made the
// directory, removes it.
//
// The server is started directly (not through pg_ctl) with the kernel's
// parent-death signal set, so it dies with the process that started it even
// when that process is killed; stale directories of such runs are removed
// by CleanStale.
func Start(dir string) (dsn string, stop func() error, err error) {
	bin, err := BinDir()
	if err != nil {
		return "", nil, err
	}
	cred, err := clusterCredential()
	if err != nil {
		return "", nil, err
	}
	owned := false
	if dir == "" {
		dir, err = os.MkdirTemp(tempRoot(), dirPrefix)
		if err != nil {
			return "", nil, fmt.Errorf("make cluster directory: %w", err)
		}
		owned = true
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("make cluster directory: %w", err)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", nil, err
	}
	fail := func(err error) (string, func() error, error) {
		if owned {
			os.RemoveAll(dir)
		}
		return "", nil, err
	}
	if len(dir)+len("/.s.PGSQL.5432") > 100 {
		return fail(fmt.Errorf("cluster directory %s is too long for a Unix socket path", dir))
	}
	// Written whole or not at all (a concurrent CleanStale must never read
	// it half written).
	tmp := filepath.Join(dir, ownerFile+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fail(fmt.Errorf("write owner file: %w", err))
	}
	if err := os.Rename(tmp, filepath.Join(dir, ownerFile)); err != nil {
		return fail(fmt.Errorf("write owner file: %w", err))
	}
	if err := chownTree(dir, cred); err != nil {
		return fail(err)
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		cmd := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
			"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
		cmd.Dir = dir
		cmd.Env = clusterEnv()
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fail(fmt.Errorf("initdb in %s: %w\n%s", data, err, tail(out, 2000)))
		}
	}

	logPath := filepath.Join(dir, "postgres.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fail(fmt.Errorf("open server log: %w", err))
	}
	args := []string{"-D", data, "-k", dir, "-p", "5432",
		"-c", "listen_addresses=",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "shared_buffers=32MB",
		"-c", "max_connections=200",
		"-c", "unix_socket_permissions=0777",
		"-c", "timezone=UTC",
		"-c", "log_min_messages=warning",
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Dir = dir
	cmd.Env = clusterEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	// SIGQUIT is postgres' "immediate shutdown": the postmaster stops its
	// children and exits at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}

	started := make(chan error, 1)
	exited := make(chan struct{})
	var waitErr error
	go func() {
		// The parent-death signal fires when the *thread* that forked the
		// child exits. Lock this goroutine to its thread and keep it
		// blocked in Wait for the server's lifetime, so the thread lives
		// exactly as long as the server (or the whole process).
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			close(exited)
			runtime.UnlockOSThread()
			return
		}
		started <- nil
		waitErr = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	if err := <-started; err != nil {
		logf.Close()
		return fail(fmt.Errorf("start postgres: %w", err))
	}
	dsn = fmt.Sprintf("host=%s port=5432 user=postgres dbname=postgres sslmode=disable", dir)

	stop = func() error {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Signal(syscall.SIGINT) // fast shutdown
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Signal(syscall.SIGQUIT)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					_ = cmd.Process.Kill()
					<-exited
				}
			}
		}
		if owned {
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("remove cluster directory: %w", err)
			}
		}
		return nil
	}

	// Wait until the server accepts connections.
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := pgconn.Connect(ctx, dsn)
		cancel()
		if err == nil {
			c.Close(context.Background())
			return dsn, stop, nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			stop()
			return "", nil, fmt.Errorf("postgres exited during start (%v):\n%s", waitErr, tail(log, 2000))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			stop()
			return "", nil, fmt.Errorf("postgres did not accept connections within 60s: %w\n%s", err, tail(log, 2000))
		}
	}
}

// WithDatabase returns dsn pointing at database name, for both URL and
// keyword/value DSNs (in the latter the last dbname wins, in libpq as in
// pgx). Start's DSNs are keyword/value.
func WithDatabase(dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			u.Path = "/" + name
			return u.String()
		}
	}
	return dsn + " dbname=" + name
}

// CleanStale removes the cluster directories under the temporary directory
// whose starting process is gone (a test binary killed before it could stop
// its server), stopping any server still running in them. Directories of
// live processes are left alone, so concurrent test binaries are safe.
func CleanStale() {
	dirs, _ := filepath.Glob(filepath.Join(tempRoot(), dirPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || perr != nil {
			// Being set up right now, or not ours: leave it unless old.
			if st, err := os.Stat(d); err != nil || time.Since(st.ModTime()) < time.Hour {
				continue
			}
		} else if alive(pid) {
			continue
		}
		if pm, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid")); err == nil {
			line, _, _ := strings.Cut(string(pm), "\n")
			if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && alive(pid) && isPostgres(pid) {
				_ = syscall.Kill(pid, syscall.SIGQUIT)
				for i := 0; i < 50 && alive(pid); i++ {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}
		_ = os.RemoveAll(d)
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func isPostgres(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(b, []byte("postgres"))
}

// tempRoot is where cluster directories go: os.TempDir unless its path is
// too long for a socket path, then /tmp.
func tempRoot() string {
	d := os.TempDir()
	if len(d) > 60 {
		return "/tmp"
	}
	return d
}

func clusterEnv() []string {
	return []string{"PATH=/usr/bin:/bin", "LANG=C", "LC_ALL=C", "TZ=UTC"}
}

// clusterCredential returns the credential to run the server with: nil when
// not root (run as ourselves), else ClusterUser's (created when missing) or
// nobody's.
func clusterCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(ClusterUser)
	if err != nil {
		// Several test binaries may race to create the user: retry the
		// lookup after a failed useradd.
		for i := 0; i < 5 && err != nil; i++ {
			out, uerr := exec.Command("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
				"--shell", "/usr/sbin/nologin", "--user-group", ClusterUser).CombinedOutput()
			u, err = user.Lookup(ClusterUser)
			if err != nil && uerr != nil && !bytes.Contains(out, []byte("lock")) {
				break
			}
			if err != nil {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	if err != nil {
		if u, err = user.Lookup("nobody"); err != nil {
			return nil, fmt.Errorf("running as root, and neither user %s (useradd failed) nor nobody exists to run postgres as", ClusterUser)
		}
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %s has a non-numeric uid/gid", u.Username)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

func chownTree(dir string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(p, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("give %s to the cluster user: %w", p, err)
		}
		return nil
	})
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
