package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRunDependencies: `etlhost run` and `check` with `after` headers:
// usage errors with exact messages, --only, --with-deps, skipped jobs.
func TestRunDependencies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := write(t, dir, "a.lua", "return {rows = 1}")
	b := write(t, dir, "b.lua", "--! after = a\nerror('b broke')")
	c := write(t, dir, "c.lua", "--! after = b\nreturn {rows = 3}")
	d := write(t, dir, "d.lua", "--! after = a\nreturn {rows = 4}")
	cyc := t.TempDir()
	x := write(t, cyc, "x.lua", "--! after = y\nreturn {}")
	y := write(t, cyc, "y.lua", "--! after = x\nreturn {}")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // regexps on stderr (stdout for check)
	}{
		{"a failed job skips its dependents", []string{"run", a, b, c, d}, ExitFailed, []string{
			`(?m)^  skipped +\S+  c +skipped: b failed$`, `(?m)^  ok +\S+  d +rows=4$`, `2 ok, 1 failed, 1 skipped`,
			`(?m)^\S+ waiting   c \(after b\)$`}},
		{"unknown", []string{"run", c}, ExitUsage, []string{regexp.QuoteMeta(c + ":1: c runs after b, which is not among the scripts given: add " + filepath.Join(dir, "b.lua") + " to the command (etlhost run --with-deps takes it from " + dir + "/)")}},
		{"cycle", []string{"run", x, y}, ExitUsage, []string{regexp.QuoteMeta("a dependency cycle: x -> y -> x (the after headers at " + x + ":1, " + y + ":1)")}},
		{"only with deps", []string{"run", "--only", "d", "--with-deps", filepath.Join(dir, "d.lua")}, ExitOK, []string{`(?m)^  ok +\S+  a +rows=1$`, `(?m)^  ok +\S+  d +rows=4$`, `(?m)2 ok$`}},
		{"only, no such job", []string{"run", "--only", "zzz", a}, ExitUsage, []string{`run --only zzz: no script of that name among the 1 given`}},
		{"only without deps", []string{"run", "--only", "d", a, d}, ExitUsage, []string{`d runs after a, which is not among the scripts given`}},
		{"bad retries", []string{"run", "--retries", "11", a}, ExitUsage, []string{`--retries must be from 0 to 10`}},
		{"bad retries in the environment", []string{"run", a}, ExitUsage, nil}, // set below
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if tc.name == "bad retries in the environment" {
				env["ETLHOST_RETRIES"] = "-1"
				tc.want = []string{`\$ETLHOST_RETRIES must be from 0 to 10`}
			}
			out := run(t, env, tc.args...)
			if out.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", out.code, tc.code, out.stderr)
			}
			for _, re := range tc.want {
				if !regexp.MustCompile(re).MatchString(out.stderr) {
					t.Errorf("stderr does not match %s:\n%s", re, out.stderr)
				}
			}
		})
	}
	// check validates the graph without running anything.
	out := run(t, nil, "check", x, y)
	if out.code != ExitFailed || !strings.Contains(out.stdout, "a dependency cycle: x -> y -> x") {
		t.Errorf("check a cycle: exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}
	out = run(t, nil, "check", c)
	if out.code != ExitFailed || !strings.Contains(out.stdout, "c runs after b, which is not among the scripts given") {
		t.Errorf("check an unknown name: exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}
	if out := run(t, nil, "check", a, b, c, d); out.code != ExitOK {
		t.Errorf("check a good graph: exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}
}

// exec runs a fix once: an after header is a usage error (not a crash), and
// neither a header's retries nor $ETLHOST_RETRIES make it run again.
func TestExecNeitherWaitsNorRetries(t *testing.T) {
	t.Parallel()
	out := run(t, nil, "exec", "-e", "--! after = other\nreturn 1")
	if out.code != ExitUsage || !strings.Contains(out.stderr, "-e:1: exec runs one fix on its own: the header's after has no meaning here") {
		t.Errorf("after: exit %d\n%s", out.code, out.stderr)
	}
	dir := t.TempDir()
	cfg := write(t, dir, "etlhost.toml", "[odoo.default]\nurl = \"http://127.0.0.1:1\"\ndb = \"x\"\nuser = \"u\"\npassword = \"p\"\nretries = 0\n")
	out = run(t, map[string]string{"ETLHOST_RETRIES": "2"}, "exec", "--config", cfg, "-e", "--! retries = 3\nreturn odoo.connect():count('res.partner')")
	if out.code != ExitFailed || strings.Contains(out.stderr, "trying again") || !strings.Contains(out.stderr, "connection refused") {
		t.Errorf("retries: exit %d\n%s", out.code, out.stderr)
	}
}
