package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/etlhost/etlhost/internal/pgtest"
)

// pageAddr is the address a command printed for its web page.
var pageAddr = regexp.MustCompile(`web page on (http://[^ ]+/)`)

func fetchPage(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

// TestWorkerServesThePage runs a job on a worker started with --ui: its
// page shows the job's run from the history and River's UI lists the job;
// SIGTERM stops the page with the worker, which exits 0.
func TestWorkerServesThePage(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	write(t, dir, "etlhost.toml", "")
	w := startWorker(t, bin, dsn, dir, "--ui", "127.0.0.1:0")
	m := pageAddr.FindStringSubmatch(w.output())
	if m == nil {
		t.Fatalf("the worker did not say where its page is:\n%s", w.output())
	}
	job := write(t, dir, "vente_locale.lua", `return {rows = 3}`)
	etlhostCmd(t, bin, dsn, dir, "enqueue", "--config", filepath.Join(dir, "etlhost.toml"), job)
	waitUntil(t, 60*time.Second, "the job recorded", func() bool {
		return count(t, dsn, "SELECT count(*) FROM etlhost.script_runs WHERE script = 'vente_locale'") == 1
	})
	if code, body := fetchPage(t, m[1]); code != http.StatusOK || !strings.Contains(body, `data-job="vente_locale"`) {
		t.Errorf("the page: status %d, without the job's run:\n%s", code, body)
	}
	if code, body := fetchPage(t, m[1]+"riverui/api/jobs?state=completed"); code != http.StatusOK || !strings.Contains(body, `\"job\": \"vente_locale\"`) {
		t.Errorf("River's API: status %d, without the completed job:\n%s", code, body)
	}
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-w.done
	if code := w.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	if _, err := http.Get(m[1] + "healthz"); err == nil {
		t.Errorf("the page still answers after the worker stopped")
	}
}

// TestUICommand serves the page alone (`etlhost ui`), with and without
// River's UI, and refuses an address it cannot listen on before serving.
func TestUICommand(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	cfg := write(t, dir, "etlhost.toml", "")
	achat := write(t, dir, "achat.lua", `error("odoo: access denied")`+"\n")
	run := exec.Command(bin, "run", "--config", cfg, "--history", achat)
	run.Env = []string{"PATH=" + os.Getenv("PATH"), "ETLHOST_PG_DSN=" + dsn}
	if out, err := run.CombinedOutput(); err == nil || !strings.Contains(string(out), "in the history") {
		t.Fatalf("achat did not fail into the history:\n%s", out)
	}

	for _, tc := range []struct {
		name  string
		args  []string
		river int // the status of /riverui/
	}{
		{"with the queue", nil, http.StatusOK},
		{"history alone", []string{"--no-queue"}, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"ui", "--config", cfg, "--addr", "127.0.0.1:0"}, tc.args...)...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "ETLHOST_PG_DSN=" + dsn, "TZ=UTC"}
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill() //nolint:errcheck // after Wait it does nothing
			lines := bufio.NewScanner(stderr)
			var url string
			for url == "" && lines.Scan() {
				if m := pageAddr.FindStringSubmatch(lines.Text()); m != nil {
					url = m[1]
				}
			}
			if url == "" {
				t.Fatal("etlhost ui did not say where its page is")
			}
			go io.Copy(io.Discard, stderr) //nolint:errcheck // drain what follows
			code, body := fetchPage(t, url)
			if code != http.StatusOK || !strings.Contains(body, `data-job="achat"`) || !strings.Contains(body, "access denied") {
				t.Errorf("the page: status %d, without achat's failure:\n%s", code, body)
			}
			if code, _ := fetchPage(t, url+"riverui/"); code != tc.river {
				t.Errorf("/riverui/: status %d, want %d", code, tc.river)
			}
			_ = cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Errorf("etlhost ui after SIGTERM: %v, want exit 0", err)
			}
		})
	}

	taken := exec.Command(bin, "ui", "--config", cfg, "--addr", "no-such-host.invalid:http")
	taken.Env = []string{"PATH=" + os.Getenv("PATH"), "ETLHOST_PG_DSN=" + dsn}
	out, err := taken.CombinedOutput()
	if code := taken.ProcessState.ExitCode(); err == nil || code != ExitUsage || !strings.Contains(string(out), "cannot listen on no-such-host.invalid:http") {
		t.Errorf("a bad address: exit %d, %s; want %d and the address named", code, out, ExitUsage)
	}
}
