package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/etlhost/etlhost/internal/pgtest"
)

// durations in go-test output vary from run to run.
var durationRe = regexp.MustCompile(`\(\d+\.\d\ds\)|\t\d+\.\d{3}s`)

func normalizeTestOutput(s string) string {
	return durationRe.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "(") {
			return "(X)"
		}
		return "\tX"
	})
}

func TestLuaTestPassing(t *testing.T) {
	t.Parallel()
	out := run(t, nil, "test", "testdata/luatest/ok")
	if out.code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", out.code, out.stdout, out.stderr)
	}
	want := "ok  \ttestdata/luatest/ok/money_test.lua\tX\n4 passed, 0 failed, 1 skipped\n"
	if got := normalizeTestOutput(out.stdout); got != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", got, want)
	}
}

func TestLuaTestVerboseAndRun(t *testing.T) {
	t.Parallel()
	out := run(t, nil, "test", "-v", "--run", "Split|Skip", "testdata/luatest/ok/money_test.lua")
	if out.code != ExitOK {
		t.Fatalf("exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}
	want := `=== RUN   TestSplit
--- PASS: TestSplit (X)
    testdata/luatest/ok/money_test.lua:13: parts [34,33,33]
=== RUN   TestSkipped
--- SKIP: TestSkipped (X)
    testdata/luatest/ok/money_test.lua:22: not on this machine
ok  	testdata/luatest/ok/money_test.lua	X
1 passed, 0 failed, 1 skipped
`
	if got := normalizeTestOutput(out.stdout); got != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", got, want)
	}
	if out := run(t, nil, "test", "--run", "(", "testdata/luatest/ok"); out.code != ExitUsage {
		t.Fatalf("bad --run: exit %d", out.code)
	}
}

func TestLuaTestFailing(t *testing.T) {
	t.Parallel()
	out := run(t, nil, "test", "testdata/luatest/bad/fail_test.lua", "testdata/luatest/ok")
	if out.code != ExitFailed {
		t.Fatalf("exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}
	want := `--- FAIL: TestEq (X)
    testdata/luatest/bad/fail_test.lua:4: sum: got 2, want 3
    testdata/luatest/bad/fail_test.lua:5: got {"a":[1,2]}, want {"a":[1,3]}
    info: still running step=2
--- FAIL: TestFatal (X)
    testdata/luatest/bad/fail_test.lua:10: before
    testdata/luatest/bad/fail_test.lua:11: cannot go on: 42
--- FAIL: TestRuntimeError (X)
    error: testdata/luatest/bad/fail_test.lua:17: attempt to index a non-table object(nil) with key 'amount'
        stack traceback:
          testdata/luatest/bad/fail_test.lua:17
--- FAIL: TestRaisesNothing (X)
    testdata/luatest/bad/fail_test.lua:25: expected an error containing "boom", got none
FAIL	testdata/luatest/bad/fail_test.lua	X
ok  	testdata/luatest/ok/money_test.lua	X
5 passed, 4 failed, 1 skipped
`
	if got := normalizeTestOutput(out.stdout); got != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", got, want)
	}
}

func TestLuaTestFileFailures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	syntax := write(t, dir, "syntax_test.lua", "function TestX(t)\n  local = 1\nend\n")
	cases := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"main chunk error", []string{"testdata/luatest/bad/broken_test.lua"}, []string{
			`testdata/luatest/bad/broken_test.lua:2: module "no_such_module" not found`,
			"FAIL\ttestdata/luatest/bad/broken_test.lua", "0 passed, 0 failed, 0 skipped"}},
		{"syntax error", []string{syntax}, []string{syntax + ":2:", "FAIL\t" + syntax}},
		{"time limit", []string{"--timeout", "300ms", "testdata/luatest/bad/hang_test.lua"}, []string{
			"--- FAIL: TestHangs", "stopped inside this test: timeout", "FAIL\ttestdata/luatest/bad/hang_test.lua",
			"1 passed, 1 failed, 0 skipped"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := run(t, nil, append([]string{"test"}, tc.args...)...)
			if out.code != ExitFailed {
				t.Fatalf("exit %d\n%s%s", out.code, out.stdout, out.stderr)
			}
			for _, w := range tc.wants {
				if !strings.Contains(out.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.stdout)
				}
			}
			if strings.Contains(out.stdout, "TestNeverRuns") || strings.Contains(out.stdout, "TestUnreached") {
				t.Errorf("a test ran after the file stopped:\n%s", out.stdout)
			}
		})
	}
}

// TestLuaTestDatabaseAndSimulator runs Lua tests that use pg against a
// test database (ETLHOST_TEST_PG_DSN) and odoo against --odoo-sim.
func TestLuaTestDatabaseAndSimulator(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ETLHOST_TEST_PG_DSN": pgtest.DSN(t)}
	out := run(t, env, "test", "-v", "--odoo-sim", "testdata/luatest/db")
	if out.code != ExitOK {
		t.Fatalf("exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}
	for _, w := range []string{"--- PASS: TestPostgres", "--- PASS: TestOdooSimulator", "server 17.0", "2 passed, 0 failed"} {
		if !strings.Contains(out.stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, out.stdout)
		}
	}
	// Without them, the same tests fail with a message naming the
	// missing connection.
	out = run(t, nil, "test", "testdata/luatest/db")
	if out.code != ExitFailed || !strings.Contains(out.stdout, "--- FAIL: TestPostgres") || !strings.Contains(out.stdout, "--- FAIL: TestOdooSimulator") {
		t.Fatalf("exit %d\n%s", out.code, out.stdout)
	}
}

func TestLuaTestFindsFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "a_test.lua", "function TestA(t) end")
	write(t, dir, "sub/b_test.lua", "function TestB(t) end")
	write(t, dir, "c.lua", "error('not a test file')")
	write(t, dir, ".hidden/d_test.lua", "error('hidden folders are skipped')")
	out := run(t, nil, "test", dir)
	if out.code != ExitOK || !strings.Contains(out.stdout, "2 passed, 0 failed") ||
		!strings.Contains(out.stdout, filepath.Join(dir, "sub", "b_test.lua")) {
		t.Fatalf("exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}
	if out := run(t, nil, "test", filepath.Join(dir, "missing_test.lua")); out.code != ExitUsage {
		t.Fatalf("missing file: exit %d", out.code)
	}
}
