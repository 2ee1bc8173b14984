package scripttest

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/etlhost/etlhost/host"
)

// TestRun runs a file's tests through a bare runner: the order they are
// defined in, each test's status and messages, the filter, and the totals.
func TestRun(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x_test.lua")
	src := `function TestPass(t) t:log("fine") end
function TestFail(t) t:eq(1 + 1, 3, "sum") end
function TestSkip(t) t:skip("later") end
function helper() error("not a test") end
function Testing(t) error("not a test either") end
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	built, released := 0, 0
	newRunner := func() (*host.Runner, func()) {
		built++
		return &host.Runner{}, func() { released++ }
	}
	f := Run(context.Background(), path, nil, newRunner)
	if f.Err != "" || built != 1 || released != 1 {
		t.Fatalf("err %q, built %d, released %d", f.Err, built, released)
	}
	var got []string
	for _, tc := range f.Tests {
		got = append(got, tc.Name+"="+string(tc.Status)+":"+strings.Join(tc.Out, "|"))
	}
	want := []string{
		"TestPass=pass:" + path + ":1: fine",
		"TestFail=fail:" + path + ":2: sum: got 2, want 3",
		"TestSkip=skip:" + path + ":3: later",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("tests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var tot Totals
	tot.Add(f)
	if tot != (Totals{Passed: 1, Failed: 1, Skipped: 1}) || !f.Failed() {
		t.Fatalf("totals %+v, failed %v", tot, f.Failed())
	}

	f = Run(context.Background(), path, regexp.MustCompile("Pass|Skip"), newRunner)
	if len(f.Tests) != 2 || f.Failed() {
		t.Fatalf("filtered: %d tests, failed %v", len(f.Tests), f.Failed())
	}
}
