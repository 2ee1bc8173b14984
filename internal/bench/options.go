package bench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Defaults of Options, the figures `etlhost bench` uses when no flag says
// otherwise: an Odoo of 20000 moves that answers in 50 ms plus the work
// it does, one request at a time, like a small production server with one
// worker. The costs are set so that the Python baseline's server time on the
// simulator (about 2 s at 20000 moves) falls within what an independent
// single-worker Odoo spent serving it (1.9-2.7 s).
const (
	DefaultMoves       = 20000
	DefaultSeed        = 1
	DefaultLatency     = 50 * time.Millisecond
	DefaultWorkers     = 1
	DefaultCostCall    = 2 * time.Millisecond
	DefaultCostExamine = 2 * time.Microsecond
	DefaultCostRead    = 100 * time.Microsecond
	DefaultRounds      = 5
	DefaultScripts     = "scripts/*.lua"
	// DefaultBaseline is where the Python baseline sits in the project's
	// workspace, relative to a checkout of the repository.
	DefaultBaseline = "../shared/baseline"
	// DefaultPython is the interpreter the baseline is written for
	// (Debian's, with python3-psycopg2).
	DefaultPython = "/usr/bin/python3"
)

// baselineFiles are the files of the baseline folder the bench runs.
var baselineFiles = []string{"run_all_etls.py", "verify.py", "schema.sql"}

// Options configure a bench. Use NewOptions for the defaults; a zero
// Options is invalid (no rounds, no binary).
type Options struct {
	// Exe is the etlhost binary: it serves the simulator (etlhost odoo-sim)
	// and runs the scripts (etlhost run), each in a process of its own.
	// `etlhost bench` passes os.Executable().
	Exe string

	// The simulator, passed to `etlhost odoo-sim` as the flags of the same
	// names. Moves must be positive; Workers at least 1; the durations not
	// negative. The second simulator, the one verify.py reads, gets the same
	// Moves and Seed and neither latency nor costs.
	Moves       int
	Seed        int64
	Latency     time.Duration
	Workers     int
	CostCall    time.Duration
	CostExamine time.Duration
	CostRead    time.Duration

	// Rounds is how many times each side runs (at least 1); the order
	// alternates, baseline first in odd rounds, etlhost first in even ones.
	Rounds int

	// Baseline is the folder of the Python baseline (run_all_etls.py,
	// verify.py, schema.sql). Empty: etlhost runs alone, and BaselineWhy
	// says why in the output.
	Baseline string
	// BaselineWhy says why Baseline is empty ("no ../shared/baseline
	// here"); ignored when Baseline is set.
	BaselineWhy string
	// Python runs the baseline (default DefaultPython). Without it or
	// without psycopg2 etlhost runs alone, and the output says so.
	Python string

	// Scripts is a glob of the ETL scripts etlhost runs (DefaultScripts);
	// lib/ beside them is their library, as for `etlhost run`.
	Scripts string

	// Log receives progress lines as the bench goes (nil: none).
	Log io.Writer
}

// NewOptions returns the defaults. Exe and Baseline are left for the
// caller (see DefaultBaselineDir).
func NewOptions() Options {
	return Options{
		Moves:       DefaultMoves,
		Seed:        DefaultSeed,
		Latency:     DefaultLatency,
		Workers:     DefaultWorkers,
		CostCall:    DefaultCostCall,
		CostExamine: DefaultCostExamine,
		CostRead:    DefaultCostRead,
		Rounds:      DefaultRounds,
		Python:      DefaultPython,
		Scripts:     DefaultScripts,
	}
}

// DefaultBaselineDir is DefaultBaseline made absolute when that folder
// exists, else "" and the reason to print.
func DefaultBaselineDir() (dir, why string) {
	abs, err := filepath.Abs(DefaultBaseline)
	if err != nil {
		return "", err.Error()
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return "", fmt.Sprintf("no baseline folder %s here (a clone of the repository alone has none; give --baseline DIR)", DefaultBaseline)
	}
	return abs, ""
}

// Validate checks the options and returns the first problem, naming the
// flag, so `etlhost bench` stops before starting anything (exit code 2).
func (o *Options) Validate() error {
	switch {
	case o.Exe == "":
		return errors.New("no etlhost binary to run (Options.Exe)")
	case o.Moves <= 0:
		return fmt.Errorf("--moves must be positive (got %d)", o.Moves)
	case o.Workers < 1:
		return fmt.Errorf("--workers must be at least 1 (got %d)", o.Workers)
	case o.Rounds < 1:
		return fmt.Errorf("--rounds must be at least 1 (got %d)", o.Rounds)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--latency", o.Latency}, {"--cost-call", o.CostCall}, {"--cost-examine", o.CostExamine}, {"--cost-read", o.CostRead}} {
		if d.v < 0 {
			return fmt.Errorf("%s cannot be negative (got %v)", d.flag, d.v)
		}
	}
	if o.Baseline != "" {
		st, err := os.Stat(o.Baseline)
		if err != nil || !st.IsDir() {
			return fmt.Errorf("--baseline %s: not a folder", o.Baseline)
		}
		for _, f := range baselineFiles {
			if _, err := os.Stat(filepath.Join(o.Baseline, f)); err != nil {
				return fmt.Errorf("--baseline %s: no %s in it", o.Baseline, f)
			}
		}
	}
	if _, err := o.scriptPaths(); err != nil {
		return err
	}
	return nil
}

// scriptPaths expands Scripts into sorted absolute paths: the child runs
// in a folder of its own and must find them (and lib/ beside them) from
// there.
func (o *Options) scriptPaths() ([]string, error) {
	matches, err := filepath.Glob(o.Scripts)
	if err != nil {
		return nil, fmt.Errorf("--scripts %q: %v", o.Scripts, err)
	}
	var paths []string
	for _, m := range matches {
		if st, err := os.Stat(m); err != nil || st.IsDir() {
			continue
		}
		abs, err := filepath.Abs(m)
		if err != nil {
			return nil, err
		}
		paths = append(paths, abs)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("--scripts %q: no script matches (run from the repository, or give --scripts 'DIR/*.lua')", o.Scripts)
	}
	slices.Sort(paths)
	return paths, nil
}
