package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/internal/leakcheck"
)

// TestMain fails the run when a goroutine of the package (a sampler never
// stopped) outlives the tests.
func TestMain(m *testing.M) { os.Exit(leakcheck.Check(m.Run(), "internal/bench.")) }

// shChild is a shell snippet that holds about mb megabytes in a variable
// for a while: a child process with a known floor for its peak RSS, made
// of nothing but /bin/sh, head and tr.
func shChild(mb int, hold string) string {
	return fmt.Sprintf(`(x=$(head -c %d /dev/zero | tr '\0' a); sleep %s; echo ${#x} >/dev/null)`, mb<<20, hold)
}

// The baseline's shape: a runner starting three children and waiting for
// them. The sampler sums the children's peaks and keeps the runner's apart.
func TestRunMeasuredTreeSumsTheChildren(t *testing.T) {
	script := strings.Join([]string{shChild(8, "0.3"), shChild(8, "0.3"), shChild(8, "0.3")}, " & ") + " & wait"
	m, out, err := runMeasured(context.Background(), childSpec{Path: "/bin/sh", Args: []string{"-c", script}, Tree: true})
	if err != nil {
		t.Fatalf("runMeasured: %v\n%s", err, out)
	}
	if m.Children != 3 {
		t.Errorf("summed %d children, want 3", m.Children)
	}
	// Each child holds 8 MiB in a shell variable (and had it in its
	// command substitution's buffer): at least that each.
	if min := int64(3 * 8 << 20); m.PeakRSS < min {
		t.Errorf("peak RSS of the children %d bytes, want at least %d", m.PeakRSS, min)
	}
	if m.RootRSS <= 0 {
		t.Errorf("runner's peak RSS %d, want > 0", m.RootRSS)
	}
	if m.RootRSS >= m.PeakRSS {
		t.Errorf("runner's peak %d should be apart from (and smaller than) its children's %d", m.RootRSS, m.PeakRSS)
	}
	if m.Wall < 300*time.Millisecond {
		t.Errorf("wall %v, want at least the children's 0.3s", m.Wall)
	}
	if m.CPU() <= 0 {
		t.Errorf("CPU %v, want > 0 (the children's tr and head, waited for)", m.CPU())
	}
}

func TestTreeSamplerSeesAShortChild(t *testing.T) {
	m, out, err := runMeasured(context.Background(), childSpec{Path: "/bin/sh", Args: []string{"-c", "sleep 0.2 & wait"}, Tree: true})
	if err != nil {
		t.Fatalf("runMeasured: %v\n%s", err, out)
	}
	if m.Children != 1 || m.PeakRSS <= 0 {
		t.Errorf("children %d, their peak %d bytes: want 1 child with a VmHWM > 0", m.Children, m.PeakRSS)
	}
}

// A single process (etlhost's side): the peak is the child's Maxrss.
func TestRunMeasuredSingleProcess(t *testing.T) {
	m, out, err := runMeasured(context.Background(), childSpec{Path: "/bin/sh", Args: []string{"-c", shChild(16, "0")}})
	if err != nil {
		t.Fatalf("runMeasured: %v\n%s", err, out)
	}
	if m.PeakRSS < 16<<20 {
		t.Errorf("peak RSS %d bytes, want at least 16 MiB", m.PeakRSS)
	}
	if m.Children != 0 || m.RootRSS != 0 {
		t.Errorf("a single process has no tree figures: %+v", m)
	}
}

func TestRunMeasuredFailureCarriesTheOutput(t *testing.T) {
	_, out, err := runMeasured(context.Background(), childSpec{Path: "/bin/sh", Args: []string{"-c", "echo to stdout; echo to stderr >&2; exit 3"}})
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("err = %v, want exit status 3", err)
	}
	if got := string(out); !strings.Contains(got, "to stdout") || !strings.Contains(got, "to stderr") {
		t.Errorf("output %q lacks the child's stdout and stderr", got)
	}
}

func TestRunMeasuredEnvAndDir(t *testing.T) {
	dir := t.TempDir()
	_, out, err := runMeasured(context.Background(), childSpec{Path: "/bin/sh", Args: []string{"-c", `echo "$BENCH_X"; pwd`},
		Env: []string{"BENCH_X=hello", "PATH=/usr/bin:/bin"}, Dir: dir})
	if err != nil {
		t.Fatalf("runMeasured: %v\n%s", err, out)
	}
	if want := "hello\n" + dir + "\n"; string(out) != want {
		t.Errorf("output %q, want %q", out, want)
	}
}

// Cancelling stops the child with SIGTERM and returns the cause.
func TestRunMeasuredCancelled(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	errStop := fmt.Errorf("stop now")
	time.AfterFunc(100*time.Millisecond, func() { cancel(errStop) })
	start := time.Now()
	_, _, err := runMeasured(ctx, childSpec{Path: "/bin/sh", Args: []string{"-c", "sleep 30"}, Tree: true})
	if err != errStop {
		t.Errorf("err = %v, want the cause %v", err, errStop)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to stop", d)
	}
}

func TestStatFields(t *testing.T) {
	// A command name with spaces and a parenthesis, as proc(5) allows.
	line := "4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 123 456 789\n"
	f, err := statFields([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if f[0] != "S" || f[1] != "17" || f[11] != "250" || f[12] != "50" {
		t.Errorf("fields %q: want state S, parent 17, utime 250, stime 50", f[:13])
	}
	if _, err := statFields([]byte("4242 no parenthesis")); err == nil {
		t.Error("a line without the command's parenthesis parsed")
	}
}

func TestProcessCPUAndPPid(t *testing.T) {
	// Spend some CPU, then read our own.
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	d, err := processCPU(os.Getpid())
	if err != nil || d <= 0 {
		t.Errorf("processCPU(self) = %v, %v; want > 0", d, err)
	}
	if p, err := readPPid(os.Getpid()); err != nil || p != os.Getppid() {
		t.Errorf("readPPid(self) = %d, %v; want %d", p, err, os.Getppid())
	}
	if _, err := processCPU(1 << 30); err == nil {
		t.Error("processCPU of no process succeeded")
	}
}

// childPids finds a child both through /proc/PID/task/*/children and by
// scanning /proc.
func TestChildPids(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var pid int
	go func() {
		defer close(done)
		_, _, _ = runMeasured(ctx, childSpec{Path: "/bin/sh", Args: []string{"-c", "sleep 20 & wait"}})
	}()
	// Find our child, the sh, then its child, the sleep.
	deadline := time.Now().Add(5 * time.Second)
	for pid == 0 && time.Now().Before(deadline) {
		for _, c := range scanChildren(os.Getpid()) {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c)); err == nil && strings.Contains(string(b), "sleep 20") {
				if len(childPids(c)) == 1 {
					pid = c
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer func() { cancel(); <-done }()
	if pid == 0 {
		t.Fatal("did not find the sh child and its sleep")
	}
	if a, b := childPids(pid), scanChildren(pid); len(a) != 1 || len(b) != 1 || a[0] != b[0] {
		t.Errorf("children of %d: %v from task/*/children, %v from scanning /proc", pid, a, b)
	}
}
