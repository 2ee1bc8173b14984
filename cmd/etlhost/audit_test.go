package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/etlhost/etlhost/internal/audit"
	"github.com/etlhost/etlhost/internal/pgtest"
)

// TestAuditCommand: fixes committed with exec --commit keep their result
// in the trail, and `etlhost audit` lists and filters them, from the file
// and from the table.
func TestAuditCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "audit.jsonl")
	dsn := pgtest.DSN(t)
	env := map[string]string{"ETLHOST_PG_DSN": dsn, "HOME": dir}
	cfg := write(t, dir, "etlhost.toml", "[postgres.default]\ndsn_env = \"ETLHOST_PG_DSN\"\n[audit]\nconnection = \"default\"\n")
	for _, fix := range []struct {
		code string
		exit int
	}{
		{"return {fixed = 1234567.5, note = 'first'}", ExitOK},
		{"error('the ledger does not balance')", ExitFailed},
		{"local db = pg.connect(); db:exec('CREATE TABLE t (v int)'); return {fixed = 2}", ExitOK},
	} {
		if out := run(t, env, "exec", "--commit", "--config", cfg, "--audit-file", file, "-e", fix.code); out.code != fix.exit {
			t.Fatalf("exec %q: exit %d\n%s\n%s", fix.code, out.code, out.stdout, out.stderr)
		}
	}
	recs, _, err := audit.ReadFile(file, audit.Filter{})
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if m, _ := recs[0].Result.(map[string]any); m["fixed"] != 1234567.5 || m["note"] != "first" || recs[1].Result != nil {
		t.Errorf("results kept %#v, %#v", recs[0].Result, recs[1].Result)
	}

	for _, tc := range []struct {
		name    string
		args    []string
		match   []string
		exclude []string
	}{
		{"all", nil, []string{
			`(?m)^TIME +USER +COMMAND +SCRIPT +STATUS +CHANGES +RESULT$`,
			`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +\S+ +exec +-e +ok +none +fixed=1234567.5 note=first$`,
			`(?m) failed +none +-e:1: the ledger does not balance$`,
			`(?m) ok +1 statement \(0 rows\) +fixed=2$`,
		}, nil},
		{"status", []string{"--status", "failed"}, []string{`the ledger`}, []string{`fixed=`}},
		{"last", []string{"--last", "1"}, []string{`fixed=2`}, []string{`fixed=1234567.5`, `the ledger`}},
		{"since a duration", []string{"--since", "1h"}, []string{`fixed=2`, `fixed=1234567.5`}, nil},
		{"since a date to come", []string{"--since", "2999-01-01"}, []string{`No committed fix matches \(read ` + regexp.QuoteMeta(file) + `\)`}, []string{`fixed=`}},
		{"user", []string{"--user", "nobody-at-all"}, []string{`No committed fix matches`}, nil},
		{"full", []string{"--full", "--last", "1"}, []string{`(?m)^    pg default exec CREATE TABLE t \(v int\): 0 rows$`, `(?m)^    source:\n      local db = pg.connect\(\)`, `sha256 [0-9a-f]{64}`}, nil},
		{"table", []string{"--table", "--config", cfg}, []string{`fixed=1234567.5`, `the ledger`, `fixed=2`}, nil},
		{"table and filter", []string{"--table", "--config", cfg, "--status", "ok", "--last", "1"}, []string{`fixed=2`}, []string{`fixed=1234567.5`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := run(t, env, append([]string{"audit", "--audit-file", file}, tc.args...)...)
			if out.code != ExitOK {
				t.Fatalf("exit %d\n%s", out.code, out.stderr)
			}
			for _, re := range tc.match {
				if !regexp.MustCompile(re).MatchString(out.stdout) {
					t.Errorf("stdout does not match %s:\n%s", re, out.stdout)
				}
			}
			for _, re := range tc.exclude {
				if regexp.MustCompile(re).MatchString(out.stdout) {
					t.Errorf("stdout matches %s:\n%s", re, out.stdout)
				}
			}
		})
	}

	out := run(t, env, "audit", "--audit-file", file, "--json", "--status", "ok")
	var got []audit.Record
	if err := json.Unmarshal([]byte(out.stdout), &got); err != nil || len(got) != 2 || got[1].Statements[0].Statement != "exec CREATE TABLE t (v int)" {
		t.Fatalf("--json: %v %+v\n%s", err, got, out.stdout)
	}
	if strings.Contains(out.stdout, dsn) {
		t.Error("the DSN reached the output")
	}
	for _, bad := range [][]string{{"--since", "yesterday"}, {"--last", "-1"}, {"extra"}, {"--table"}} {
		if out := run(t, map[string]string{"HOME": dir}, append([]string{"audit", "--audit-file", file}, bad...)...); out.code != ExitUsage {
			t.Errorf("audit %v: exit %d, want 2\n%s", bad, out.code, out.stderr)
		}
	}
}
