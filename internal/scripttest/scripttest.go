// Package scripttest runs the analysts' Lua tests of scripts (`etlhost
// test`): in each *_test.lua file, every global function whose name starts
// with Test (TestTotals, Test_rounding), in the order they are defined,
// after the file's main chunk has run. Each file runs through a
// host.Runner, in the scripts' sandbox and a fresh state, and each test
// gets a t object (t:log, t:error, t:fatal, t:skip, t:eq, t:raises, ...;
// Stub describes it for editors). Run gives one file's results as a File;
// printing them is the job of report/testreport.
package scripttest

import (
	"context"
	_ "embed" // the t object's LuaLS stub
	"fmt"
	"regexp"
	"time"

	"github.com/etlhost/etlhost/host"
)

// Stub is the LuaLS definition file (etlhost_testing.lua, starting with
// ---@meta) of the t object, class etlhost.T, that `etlhost stubs` writes.
//
//go:embed etlhost_testing.lua
var Stub string

// Status is a test's outcome.
type Status string

// The outcomes of a test; a test that never finished has none ("") and
// counts as failed.
const (
	StatusPass Status = "pass"
	StatusFail Status = "fail"
	StatusSkip Status = "skip"
)

// Test is one test's result.
type Test struct {
	Name     string
	Line     int // where its function is defined
	Status   Status
	Duration time.Duration
	Out      []string // its messages and log lines, in order
}

// File is one test file's result.
type File struct {
	Path     string
	Duration time.Duration
	Tests    []*Test // in the order they ran
	// Err is a failure of the file itself: it does not compile, its main
	// chunk raised an error, or it ran past its time limit outside a test.
	Err  string
	Logs []string // lines logged outside any test
}

// Failed reports whether the file failed: itself, or one of its tests.
func (f *File) Failed() bool {
	if f.Err != "" {
		return true
	}
	for _, tc := range f.Tests {
		if tc.Status != StatusPass && tc.Status != StatusSkip {
			return true
		}
	}
	return false
}

// Totals counts the results of test files.
type Totals struct {
	Passed, Failed, Skipped int // tests
	BadFiles                int // files that failed themselves (File.Err)
}

// Add counts f's results.
func (t *Totals) Add(f *File) {
	for _, tc := range f.Tests {
		switch tc.Status {
		case StatusPass:
			t.Passed++
		case StatusSkip:
			t.Skipped++
		default:
			t.Failed++
		}
	}
	if f.Err != "" {
		t.BadFiles++
	}
}

// Run runs the tests of the file at path whose name matches filter (nil:
// all of them) and returns their results; a failure of the file is
// File.Err, never an error of Run.
//
// newRunner builds the runner of this file with fresh modules (and
// whatever they use, a simulator say), so that files do not see each
// other's state; done releases them after the run. Run adds its own module
// and observer to the runner and runs the file alone (Jobs 1); an empty
// LibDir becomes the file's script library: lib/ beside the file, else the
// lib folder holding it, else lib/ in the nearest folder above, up to the
// working directory. The runner's Timeout is the time limit of the file.
// The File's Duration includes building and releasing the runner.
func Run(ctx context.Context, path string, filter *regexp.Regexp, newRunner func() (r *host.Runner, done func())) *File {
	start := time.Now()
	out := &File{Path: path}
	defer func() { out.Duration = time.Since(start) }()

	r, done := newRunner()
	defer done()
	drv := &driver{filter: filter, file: out}
	r.Modules = append(r.Modules[:len(r.Modules):len(r.Modules)], drv)
	r.Jobs, r.Observer = 1, drv
	if r.LibDir == "" {
		r.LibDir = findLib(path)
	}
	s, err := loadTestScript(path, r.HeaderKeys())
	if err != nil {
		out.Err = err.Error()
		return out
	}
	rep, err := r.Run(ctx, []*host.Script{s})
	if err != nil {
		out.Err = err.Error()
		return out
	}
	drv.mu.Lock()
	defer drv.mu.Unlock()
	if res := rep.Scripts[0]; res.Status != host.StatusOK && !drv.stopped {
		out.Err = res.Error
		if drv.cur != nil {
			// The file stopped (time limit, Ctrl+C) inside this test.
			drv.cur.Status = StatusFail
			drv.cur.Duration = time.Since(drv.curStart)
			drv.cur.Out = append(drv.cur.Out, fmt.Sprintf("stopped inside this test: %s", host.FirstLine(res.Error)))
			out.Err = ""
		}
	}
	return out
}
