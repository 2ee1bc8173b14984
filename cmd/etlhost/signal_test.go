package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds etlhost once for the tests that need a real process
// (signals).
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "etlhost")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// TestInterruptExits130 sends SIGINT to a running etlhost: every script is
// cancelled, the summary printed, the JSON report written, exit code 130.
func TestInterruptExits130(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	a := write(t, dir, "sleeper.lua", "require('task').sleep(120)")
	b := write(t, dir, "spinner.lua", "while true do end")
	c := write(t, dir, "quick.lua", "return 1")
	cmd := exec.Command(bin, "run", "--json", a, b, c)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var all []string
	started := 0
	deadline := time.After(30 * time.Second)
	for started < 2 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("etlhost ended early:\n%s", strings.Join(all, "\n"))
			}
			all = append(all, l)
			if strings.Contains(l, "start     sleeper") || strings.Contains(l, "start     spinner") {
				started++
			}
		case <-deadline:
			t.Fatalf("scripts did not start:\n%s", strings.Join(all, "\n"))
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		all = append(all, l)
	}
	err = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	out := strings.Join(all, "\n")
	if code != ExitInterrupted {
		t.Fatalf("exit %d (%v), want 130\n%s", code, err, out)
	}
	for _, want := range []string{"interrupted", "cancelled sleeper", "cancelled spinner", "Summary"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var rep struct{ Status string }
	if err := json.Unmarshal([]byte(stdout.String()), &rep); err != nil || rep.Status != "cancelled" {
		t.Errorf("report %q (%v)", stdout.String(), err)
	}
}
