package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// isoStamp is the time a text view's line starts with in a file or a pipe
// (the tests' stderr is a buffer).
const isoStamp = `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:Z|[+-]\d\d:\d\d)`

// One script that does not compile fails alone: the others run, the
// summary and the JSON report carry its file:line message, exit 1, and no
// usage hint.
func TestBrokenScriptFailsAloneInARun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := write(t, dir, "good.lua", "return {rows = 3}")
	broken := write(t, dir, "broken.lua", "local x = 1\nif x = 2 then end\n")
	nothing := write(t, dir, "nothing.lua", "local x = 1")
	test := write(t, dir, "good_test.lua", "error('a test file ran as a job')")
	out := run(t, nil, "run", "--json", good, broken, nothing, test)
	if out.code != ExitFailed {
		t.Fatalf("exit %d, want 1\n%s", out.code, out.stderr)
	}
	if strings.Contains(out.stderr, "--help") {
		t.Errorf("a broken script is not a usage error:\n%s", out.stderr)
	}
	for _, re := range []string{
		`(?m)^  ok +\S+  good +rows=3$`,
		`(?m)^  failed +\S+  broken +` + regexp.QuoteMeta(broken) + `:2: `,
		`(?m)^  ok +\S+  nothing +\(see the note below\)$`,
		`(?m)^note: nothing returned nothing: end the script with a table such as ` + "`return \\{rows = n\\}`",
		`(?m)^note: ` + regexp.QuoteMeta(test) + " is a test file, not a job: not run \\(run it with `etlhost test ",
		`(?m)^` + isoStamp + ` start     good$`,
	} {
		if !regexp.MustCompile(re).MatchString(out.stderr) {
			t.Errorf("stderr does not match %s:\n%s", re, out.stderr)
		}
	}
	var rep struct {
		Notes   []string
		Scripts []struct{ Name, Status, Error, Note string }
	}
	if err := json.Unmarshal([]byte(out.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Scripts) != 3 || len(rep.Notes) != 1 {
		t.Fatalf("report %+v", rep)
	}
	for _, s := range rep.Scripts {
		if s.Name == "broken" && (s.Status != "failed" || !strings.Contains(s.Error, "broken.lua:2:")) {
			t.Errorf("broken in the report: %+v", s)
		}
		if s.Name == "nothing" && !strings.HasPrefix(s.Note, "returned nothing") {
			t.Errorf("nothing in the report: %+v", s)
		}
	}
	// check stays the pre-flight that refuses it.
	if chk := run(t, nil, "check", good, broken); chk.code != ExitFailed || !strings.Contains(chk.stdout, "broken.lua:2:") {
		t.Errorf("check: exit %d\n%s", chk.code, chk.stderr)
	}
}

// The same error in several scripts (a connection none can open) is
// printed once in full.
func TestSameErrorReportedOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var paths []string
	for _, n := range []string{"a", "b", "c"} {
		paths = append(paths, write(t, dir, n+".lua", "local pg = require('pg')\nlocal db = pg.connect()\nreturn {}"))
	}
	out := run(t, nil, append([]string{"run", "--jobs", "1"}, paths...)...)
	if out.code != ExitFailed {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	const msg = `no connection named "default"`
	// As it happens, in the summary's row, in full below it: for a alone.
	if n := strings.Count(out.stderr, msg); n != 3 {
		t.Errorf("the message appears %d times, want 3 (for a only):\n%s", n, out.stderr)
	}
	if n := strings.Count(out.stderr, "the same error as a"); n != 4 {
		t.Errorf("%d repeats point at a, want 4:\n%s", n, out.stderr)
	}
	if !strings.Contains(out.stderr, "\na, b, c (failed):\n") {
		t.Errorf("the full error is not printed once for a, b, c:\n%s", out.stderr)
	}
}

// exec and exec -e see the modules as globals, as the REPL does.
func TestExecModulesAreGlobals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := write(t, dir, "fix.lua", "log.info('from a file', {json = type(json)})\nreturn {pg = type(pg), etl = type(etl)}")
	for _, args := range [][]string{
		{"exec", "-e", "log.info('from -e', {json = type(json)}); return {pg = type(pg), etl = type(etl)}"},
		{"exec", file},
	} {
		out := run(t, nil, args...)
		if out.code != ExitOK || !strings.Contains(out.stderr, "json=table") || !strings.Contains(out.stdout, `"etl":"table"`) || !strings.Contains(out.stdout, `"pg":"table"`) {
			t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, out.code, out.stdout, out.stderr)
		}
	}
}
