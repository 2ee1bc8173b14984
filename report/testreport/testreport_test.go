package testreport

import (
	"bytes"
	"testing"
	"time"

	"github.com/etlhost/etlhost/internal/scripttest"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	f := &scripttest.File{Path: "a_test.lua", Duration: 1500 * time.Millisecond, Logs: []string{"info: loaded"}, Tests: []*scripttest.Test{
		{Name: "TestOK", Status: scripttest.StatusPass, Duration: 10 * time.Millisecond, Out: []string{"a_test.lua:2: note"}},
		{Name: "TestBad", Status: scripttest.StatusFail, Duration: 20 * time.Millisecond, Out: []string{"error: boom\nstack traceback:\n  a_test.lua:5"}},
		{Name: "TestLater", Status: scripttest.StatusSkip},
	}}
	var b bytes.Buffer
	WriteFile(&b, f, false)
	WriteFile(&b, &scripttest.File{Path: "empty_test.lua"}, false)
	WriteFile(&b, &scripttest.File{Path: "broken_test.lua", Err: "broken_test.lua:1: boom", Logs: []string{"warn: early"}}, false)
	WriteTotals(&b, scripttest.Totals{Passed: 1, Failed: 1, Skipped: 1, BadFiles: 1})
	want := "--- FAIL: TestBad (0.02s)\n" +
		"    error: boom\n        stack traceback:\n          a_test.lua:5\n" +
		"FAIL\ta_test.lua\t1.500s\n" +
		"ok  \tempty_test.lua\t0.000s\t[no tests to run]\n" +
		"    warn: early\n    broken_test.lua:1: boom\nFAIL\tbroken_test.lua\t0.000s\n" +
		"1 passed, 1 failed, 1 skipped\n"
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	WriteFile(&b, f, true)
	want = "    info: loaded\n" +
		"=== RUN   TestOK\n--- PASS: TestOK (0.01s)\n    a_test.lua:2: note\n" +
		"=== RUN   TestBad\n--- FAIL: TestBad (0.02s)\n    error: boom\n        stack traceback:\n          a_test.lua:5\n" +
		"=== RUN   TestLater\n--- SKIP: TestLater (0.00s)\n" +
		"FAIL\ta_test.lua\t1.500s\n"
	if b.String() != want {
		t.Fatalf("verbose, got:\n%s\nwant:\n%s", b.String(), want)
	}
}
