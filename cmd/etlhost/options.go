package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/audit"
	"github.com/etlhost/etlhost/internal/bench"
)

// Defaults of the options, each written once: the flags' help shows them
// and resolveRun falls back on them. The timeout and grace defaults are the
// host's own.
const (
	// DefaultConfirmOver is how many changes (Odoo records written,
	// PostgreSQL rows affected) a commit may plan before etlhost asks for
	// confirmation.
	DefaultConfirmOver = 20
	// DefaultTestTimeout is the time limit of one test file.
	DefaultTestTimeout = 5 * time.Minute
	// The simulator's generated data of demo, odoo-sim and bench.
	defaultSimMoves = bench.DefaultMoves
	defaultSimSeed  = bench.DefaultSeed

	defaultJobsText   = "all"
	defaultMemoryText = "a quarter of the machine's memory"
)

var (
	defaultTimeoutText = durationText(host.DefaultTimeout)
	defaultGraceText   = durationText(host.DefaultGrace)
)

// durationText writes d as people do: 10m, 3s, 1h30m (not 10m0s).
func durationText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// flagValues are the flags of a command: a *cli.Context (the tests give a
// table of their own).
type flagValues interface {
	IsSet(name string) bool
	Bool(name string) bool
	Int(name string) int
	Duration(name string) time.Duration
	String(name string) string
	StringSlice(name string) []string
}

// runOptions are the settings of a run of `run`, `exec`, `repl` and
// `demo`, each decided in resolveRun alone.
type runOptions struct {
	Jobs       int // scripts at once; 0: all
	Timeout    time.Duration
	Grace      time.Duration
	MaxMemory  int64 // bytes
	Args       map[string]string
	OdooWrites bool // every script may write to Odoo
	// LibDir is [run] lib; "" when the caller decides (lib/ beside the
	// scripts).
	LibDir string
	// NotifyURL is the webhook of --notify ("" for none).
	NotifyURL string
	// HistoryConn is the PostgreSQL connection the run is recorded on (""
	// for none).
	HistoryConn string
}

// resolveRun decides each option of a run from, first to last: its flag,
// the environment, the configuration file, its default. A script's header
// timeout (--! timeout = 15m) beats all of them for that script: the host
// applies it when the script starts.
//
//	jobs        --jobs        [run] jobs          all
//	timeout     --timeout     [run] timeout       host.DefaultTimeout
//	grace       --grace       [run] grace         host.DefaultGrace
//	max-memory  --max-memory  [run] max_memory    host.DefaultMaxMemory()
//	notify      --notify      $ETLHOST_NOTIFY_URL none
//	history     [history] connection, else "default" with --history, else none
func resolveRun(f flagValues, getenv func(string) string, cfg *host.Config) (runOptions, error) {
	o := runOptions{OdooWrites: f.Bool("odoo-writes"), LibDir: cfg.Run.Lib}
	var err error
	if o.Args, err = parseArgs(f.StringSlice("arg")); err != nil {
		return o, err
	}

	o.MaxMemory = host.DefaultMaxMemory()
	if cfg.Run.MaxMemory != "" {
		o.MaxMemory, _ = host.ParseSize(cfg.Run.MaxMemory) // checked by LoadConfig
	}
	if s := f.String("max-memory"); s != "" {
		if o.MaxMemory, err = host.ParseSize(s); err != nil {
			return o, fmt.Errorf("--max-memory: %v", err)
		}
	}

	o.Jobs = cfg.Run.Jobs
	if f.IsSet("jobs") {
		if o.Jobs = f.Int("jobs"); o.Jobs < 0 {
			return o, fmt.Errorf("--jobs must be 0 (all) or more")
		}
	}

	o.Timeout = cfg.Run.Timeout.Duration
	if f.IsSet("timeout") {
		if o.Timeout = f.Duration("timeout"); o.Timeout <= 0 {
			return o, fmt.Errorf("--timeout must be positive")
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = host.DefaultTimeout
	}

	o.Grace = cfg.Run.Grace.Duration
	if f.IsSet("grace") {
		o.Grace = f.Duration("grace")
	}
	if o.Grace <= 0 {
		o.Grace = host.DefaultGrace
	}

	// A webhook URL often holds a token, which a command line shows to
	// every user of the machine: hence the variable.
	if o.NotifyURL = f.String("notify"); o.NotifyURL == "" {
		o.NotifyURL = getenv("ETLHOST_NOTIFY_URL")
	}

	switch {
	case cfg.History.Connection != "":
		o.HistoryConn = cfg.History.Connection
	case f.Bool("history"):
		o.HistoryConn = "default"
	}
	return o, nil
}

// resolveAudit decides where the audit records of `exec --commit` and
// `repl --commit` go: the file of --audit-file, else [audit] file, else
// audit.DefaultFile; and the table etlhost_audit of the [audit] connection,
// else of the [history] connection, else none.
func resolveAudit(f flagValues, getenv func(string) string, cfg *host.Config) (audit.Options, error) {
	var o audit.Options
	if o.File = f.String("audit-file"); o.File == "" {
		o.File = cfg.Audit.File
	}
	if o.File == "" {
		var err error
		if o.File, err = audit.DefaultFile(getenv); err != nil {
			return o, err
		}
	}
	name := cfg.Audit.Connection
	if name == "" {
		name = cfg.History.Connection
	}
	if name != "" {
		o.DSN, o.ConnName = cfg.Postgres[name].DSN, name
	}
	return o, nil
}

// parseArgs reads --arg key=value pairs.
func parseArgs(pairs []string) (map[string]string, error) {
	args := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("bad --arg %q: expected key=value", p)
		}
		args[strings.TrimSpace(k)] = v
	}
	return args, nil
}
