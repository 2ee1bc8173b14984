package scripttest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlhost/etlhost/host"
)

// TestNumbersInMessages: t:log, error values and a failed t:eq with no
// JSON form write numbers as Lua does (1234567.5, inf), never in Go's
// exponent form.
func TestNumbersInMessages(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "n_test.lua")
	src := `function TestLog(t) t:log("total", 1234567.5, 20000000.01, 2^53) end
function TestError(t) error(1234567.5) end
function TestInf(t) t:eq(1/0, -1/0, "inf") end
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	f := Run(context.Background(), path, nil, func() (*host.Runner, func()) { return &host.Runner{}, func() {} })
	if f.Err != "" {
		t.Fatal(f.Err)
	}
	var got []string
	for _, tc := range f.Tests {
		got = append(got, tc.Name+": "+strings.Join(tc.Out, "|"))
	}
	for i, want := range []string{
		"TestLog: " + path + ":1: total 1234567.5 20000000.01 9.007199254741e+15",
		"TestError: error: 1234567.5\n",
		"TestInf: " + path + ":3: inf: got inf, want -inf",
	} {
		if i >= len(got) || !strings.HasPrefix(got[i], want) {
			t.Errorf("test %d: %q, want it to begin with %q", i+1, got, want)
		}
	}
}
