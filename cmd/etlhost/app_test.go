package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlhost/etlhost/internal/pgtest"
)

type runOut struct {
	code           int
	stdout, stderr string
}

// run runs etlhost in process with a clean environment.
func run(t *testing.T, env map[string]string, args ...string) runOut {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := &App{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] }}
	code := app.Run(context.Background(), append([]string{"etlhost"}, args...))
	return runOut{code, stdout.String(), stderr.String()}
}

func write(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok := write(t, dir, "ok.lua", "return {rows = 1}")
	bad := write(t, dir, "bad.lua", "error('nope')")
	slow := write(t, dir, "slow.lua", "--! timeout = 100ms\nwhile true do end")
	badHeader := write(t, dir, "hdr.lua", "--! timeout = later\nreturn 1")
	syntax := write(t, dir, "syntax.lua", "local = 1")
	cfg := write(t, dir, "bad.toml", "[run]\njobs = -1\n")
	cases := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"all ok", []string{"run", ok}, ExitOK, ""},
		{"one failed", []string{"run", ok, bad}, ExitFailed, ""},
		{"timeout", []string{"run", slow}, ExitFailed, ""},
		{"no scripts", []string{"run"}, ExitUsage, "no script given"},
		{"unknown flag", []string{"run", "--nope", ok}, ExitUsage, "flag provided but not defined"},
		// A script that cannot run fails alone: exit 1, not a usage error.
		{"bad header", []string{"run", ok, badHeader}, ExitFailed, "hdr.lua:1: bad timeout"},
		{"syntax error", []string{"run", syntax}, ExitFailed, "syntax.lua:1:"},
		{"missing script", []string{"run", filepath.Join(dir, "missing.lua")}, ExitFailed, "cannot read script"},
		{"only test files", []string{"run", write(t, dir, "x_test.lua", "return {}")}, ExitUsage, "every script given is a test file"},
		{"bad config", []string{"run", "--config", cfg, ok}, ExitUsage, "run.jobs"},
		{"missing config", []string{"run", "--config", filepath.Join(dir, "nope.toml"), ok}, ExitUsage, "no such file"},
		{"bad arg", []string{"run", "--arg", "novalue", ok}, ExitUsage, `bad --arg "novalue"`},
		{"bad memory", []string{"run", "--max-memory", "lots", ok}, ExitUsage, "--max-memory"},
		{"bad jobs", []string{"run", "--jobs", "-2", ok}, ExitUsage, "--jobs"},
		{"unknown command", []string{"frobnicate"}, ExitUsage, "unknown command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := run(t, nil, tc.args...)
			if out.code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", out.code, tc.code, out.stderr)
			}
			if tc.err != "" && !strings.Contains(out.stderr, tc.err) {
				t.Fatalf("stderr does not contain %q:\n%s", tc.err, out.stderr)
			}
		})
	}
}

func TestRunOutputAndJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := write(t, dir, "alpha.lua", "local log = require('log')\nlocal etl = require('etl')\nlog.info('since', {since = etl.args.since})\nreturn {rows = 42, since = etl.args.since}")
	b := write(t, dir, "beta.lua", "local function f()\n  error('beta broke')\nend\nf()")
	out := run(t, nil, "run", "--json", "--arg", "since=2024-01-01", a, b)
	if out.code != ExitFailed {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	for _, want := range []string{
		"start     alpha", "alpha | info  since since=2024-01-01", "ok        alpha", "failed    beta",
		"Summary (completion order)", "rows=42", "beta.lua:2: beta broke", "Wall time", "script time", "1 ok, 1 failed",
		"stack traceback:",
	} {
		if !strings.Contains(out.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out.stderr)
		}
	}
	var rep struct {
		Status     string
		DurationMS *int64 `json:"duration_ms"`
		Scripts    []struct {
			Name, Path, Status, Error string
			Result                    map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out.stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, out.stdout)
	}
	if rep.Status != "failed" || rep.DurationMS == nil || len(rep.Scripts) != 2 {
		t.Fatalf("report %+v", rep)
	}
	byName := map[string]int{}
	for i, s := range rep.Scripts {
		byName[s.Name] = i
	}
	alpha := rep.Scripts[byName["alpha"]]
	if alpha.Status != "ok" || alpha.Result["rows"] != float64(42) || alpha.Result["since"] != "2024-01-01" || alpha.Path != a {
		t.Errorf("alpha %+v", alpha)
	}
	beta := rep.Scripts[byName["beta"]]
	if beta.Status != "failed" || !strings.Contains(beta.Error, "beta.lua:2: beta broke") || !strings.Contains(beta.Error, "stack traceback") {
		t.Errorf("beta %+v", beta)
	}
}

// TestTimeoutPrecedence: a script header's timeout beats the configuration
// file's and the default, and is beaten by --timeout and $ETLHOST_TIMEOUT
// (flag, environment, header, file, default).
func TestTimeoutPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := write(t, dir, "etlhost.toml", "[run]\ntimeout = \"100ms\"\n")
	patient := write(t, dir, "patient.lua", "--! timeout = 30s\nrequire('task').sleep(0.4)\nreturn 'done'")
	hasty := write(t, dir, "hasty.lua", "--! timeout = 100ms\nrequire('task').sleep(0.4)\nreturn 'done'")
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		script string
		code   int
	}{
		{"the header beats the file", nil, []string{"--config", cfg}, patient, ExitOK},
		{"the header beats the default", nil, nil, hasty, ExitFailed},
		{"the flag beats the header", nil, []string{"--timeout", "100ms"}, patient, ExitFailed},
		{"the flag beats a shorter header", nil, []string{"--timeout", "1m"}, hasty, ExitOK},
		{"the environment beats the header", map[string]string{"ETLHOST_TIMEOUT": "100ms"}, nil, patient, ExitFailed},
		{"the flag beats the environment", map[string]string{"ETLHOST_TIMEOUT": "100ms"}, []string{"--timeout", "1m"}, patient, ExitOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := run(t, tc.env, append(append([]string{"run"}, tc.args...), tc.script)...)
			if out.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", out.code, tc.code, out.stderr)
			}
			if tc.code == ExitFailed && !strings.Contains(out.stderr, "timeout: the script ran longer than its 100ms limit") {
				t.Fatalf("not a timeout of 100ms:\n%s", out.stderr)
			}
		})
	}
}

func TestJobsFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var paths []string
	for _, n := range []string{"a", "b", "c"} {
		paths = append(paths, write(t, dir, n+".lua", "require('task').sleep(0.2)"))
	}
	out := run(t, nil, append([]string{"run", "--json", "--jobs", "1"}, paths...)...)
	if out.code != ExitOK {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	var rep struct {
		DurationMS   int64 `json:"duration_ms"`
		ScriptTimeMS int64 `json:"script_time_ms"`
	}
	if err := json.Unmarshal([]byte(out.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	// One at a time: the wall time is at least the sum of the sleeps.
	if rep.DurationMS < 600 {
		t.Fatalf("with --jobs 1 three 200ms scripts took %dms of wall time", rep.DurationMS)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := write(t, dir, "good.lua", "return 1")
	bad1 := write(t, dir, "bad1.lua", "local x = 1\nlocal = 2\n")
	bad2 := write(t, dir, "bad2.lua", "--! timeout = x\n")
	out := run(t, nil, "check", good, bad1, bad2)
	if out.code != ExitFailed {
		t.Fatalf("exit %d", out.code)
	}
	lines := strings.Split(strings.TrimSpace(out.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], bad1+":2: ") || !strings.HasPrefix(lines[1], bad2+":1: bad timeout") {
		t.Fatalf("check printed:\n%s", out.stdout)
	}
	if out := run(t, nil, "check", good); out.code != ExitOK {
		t.Fatalf("check of a good script: exit %d %s", out.code, out.stderr)
	}
}

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out := run(t, nil, args...)
		if out.code != ExitOK || !strings.Contains(out.stdout, "etlhost") {
			t.Errorf("%v: exit %d, stdout %q", args, out.code, out.stdout)
		}
	}
	out := run(t, nil, "--help")
	for _, want := range []string{"run", "check", "Exit codes", "--! timeout"} {
		if !strings.Contains(out.stdout, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	out = run(t, nil, "run", "--help")
	for _, want := range []string{"--jobs", "--timeout", "--max-memory", "--json", "--config", "--arg", "Examples"} {
		if !strings.Contains(out.stdout, want) {
			t.Errorf("run --help lacks %q", want)
		}
	}
}

// TestScriptConnsFromConfig: [postgres.NAME] script_conns reaches the pg
// module: with a quota of 1, a script that opens a second loop while the
// first holds the connection gets the quota error, naming it.
func TestScriptConnsFromConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := write(t, dir, "etlhost.toml", "[postgres.default]\ndsn_env = \"ETLHOST_PG_DSN\"\nmax_conns = 4\nscript_conns = 1\n")
	p := write(t, dir, "loops.lua", `local db = require("pg").connect()
for _ in db:iter("SELECT 1") do
  for _ in db:iter("SELECT 2") do end
end`)
	out := run(t, map[string]string{"ETLHOST_PG_DSN": pgtest.DSN(t)}, "run", "--config", cfg, p)
	if out.code != ExitFailed || !strings.Contains(out.stderr, "connection quota exceeded") || !strings.Contains(out.stderr, "1") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
}
