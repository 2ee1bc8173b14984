// Package testreport writes the results of `etlhost test` (see
// internal/scripttest) in go test's format: a "--- FAIL: TestX (0.01s)"
// block per failed test with its messages, "ok" or "FAIL" per file, then
// "N passed, N failed, N skipped".
package testreport

import (
	"fmt"
	"io"
	"strings"

	"github.com/etlhost/etlhost/internal/scripttest"
)

// WriteFile writes one file's results: the failed tests with their
// messages, and the file's own error and the lines it logged outside its
// tests when it failed itself; verbose writes every test with its
// messages, and those lines always.
func WriteFile(w io.Writer, f *scripttest.File, verbose bool) {
	if verbose || f.Err != "" {
		for _, l := range f.Logs {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	for _, tc := range f.Tests {
		status := map[scripttest.Status]string{scripttest.StatusPass: "PASS", scripttest.StatusSkip: "SKIP", scripttest.StatusFail: "FAIL", "": "FAIL"}[tc.Status]
		if verbose {
			fmt.Fprintf(w, "=== RUN   %s\n", tc.Name)
		}
		if verbose || status == "FAIL" {
			fmt.Fprintf(w, "--- %s: %s (%.2fs)\n", status, tc.Name, tc.Duration.Seconds())
			for _, l := range tc.Out {
				fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(l, "\n", "\n        "))
			}
		}
	}
	if f.Err != "" {
		fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(f.Err, "\n", "\n    "))
	}
	note := ""
	if len(f.Tests) == 0 && f.Err == "" {
		note = "\t[no tests to run]"
	}
	if f.Failed() {
		fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n", f.Path, f.Duration.Seconds())
	} else {
		fmt.Fprintf(w, "ok  \t%s\t%.3fs%s\n", f.Path, f.Duration.Seconds(), note)
	}
}

// WriteTotals writes the last line: how many tests passed, failed and were
// skipped.
func WriteTotals(w io.Writer, t scripttest.Totals) {
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", t.Passed, t.Failed, t.Skipped)
}
