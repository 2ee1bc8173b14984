package main

import (
	"fmt"
	"strconv"
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
	Jobs    int // scripts at once; 0: all
	Timeout time.Duration
	// TimeoutFrom is where Timeout came from, for the host to weigh a
	// script header's timeout against it.
	TimeoutFrom host.Source
	Grace       time.Duration
	MaxMemory   int64 // bytes
	// MaxMemoryFrom is where MaxMemory came from, for the message of a
	// script stopped by it.
	MaxMemoryFrom host.Source
	// Retries of a job failing on a transient error, and where that came
	// from (a header's retries weighs against it).
	Retries     int
	RetriesFrom host.Source
	// WithDeps adds the jobs the given ones run after from their folder.
	WithDeps   bool
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

// resolveRun decides each option of a run, in one order (host.Pick, as
// k6 does): its flag, the environment, the configuration file, its default.
// A script's header timeout (--! timeout = 15m) comes between the
// environment and the configuration file: it beats [run] timeout and the
// default for that script, and is beaten by --timeout and ETLHOST_TIMEOUT
// (the host applies it when the script starts, from TimeoutFrom).
//
//	jobs        --jobs        $ETLHOST_JOBS        [run] jobs          all
//	timeout     --timeout     $ETLHOST_TIMEOUT     [run] timeout       host.DefaultTimeout
//	grace       --grace       $ETLHOST_GRACE       [run] grace         host.DefaultGrace
//	max-memory  --max-memory  $ETLHOST_MAX_MEMORY  [run] max_memory    host.DefaultMaxMemory()
//	retries     --retries     $ETLHOST_RETRIES     [run] retries       0 (a header's retries as timeout)
//	notify      --notify      $ETLHOST_NOTIFY_URL                      none
//	history     [history] connection, else "default" with --history, else none
func resolveRun(f flagValues, getenv func(string) string, cfg *host.Config) (runOptions, error) {
	o := runOptions{OdooWrites: f.Bool("odoo-writes"), LibDir: cfg.Run.Lib, WithDeps: f.Bool("with-deps")}
	var err error
	if o.Args, err = parseArgs(f.StringSlice("arg")); err != nil {
		return o, err
	}
	if f.Bool("full-refresh") {
		// What incremental loads read (scripts/lib/incremental.lua).
		o.Args["full_refresh"] = "1"
	}
	var configMemory host.Setting[int64]
	if cfg.Run.MaxMemory != "" {
		n, _ := host.ParseSize(cfg.Run.MaxMemory) // checked by LoadConfig
		configMemory = host.Given(n, host.FromConfig)
	}
	var flagMemory host.Setting[int64]
	if v := f.String("max-memory"); v != "" {
		n, err := host.ParseSize(v)
		if err != nil {
			return o, fmt.Errorf("--max-memory: %v", err)
		}
		flagMemory = host.Given(n, host.FromFlag)
	}
	envMemory, err := fromEnv(getenv, "ETLHOST_MAX_MEMORY", host.ParseSize)
	if err != nil {
		return o, err
	}
	memory := host.Pick(flagMemory, envMemory, configMemory, host.Given(host.DefaultMaxMemory(), host.FromDefault))
	o.MaxMemory, o.MaxMemoryFrom = memory.Value, memory.From

	var flagJobs host.Setting[int]
	if f.IsSet("jobs") {
		flagJobs = host.Given(f.Int("jobs"), host.FromFlag)
	}
	envJobs, err := fromEnv(getenv, "ETLHOST_JOBS", strconv.Atoi)
	if err != nil {
		return o, err
	}
	jobs := host.Pick(flagJobs, envJobs, host.Given(cfg.Run.Jobs, host.FromConfig))
	if o.Jobs = jobs.Value; o.Jobs < 0 {
		return o, fmt.Errorf("%s must be 0 (all) or more", origin(jobs.From, "--jobs", "ETLHOST_JOBS"))
	}

	timeout, err := durationSetting(f, getenv, "timeout", "ETLHOST_TIMEOUT", cfg.Run.Timeout.Duration)
	if err != nil {
		return o, err
	}
	timeout = host.Pick(timeout, host.Given(host.DefaultTimeout, host.FromDefault))
	if timeout.Value <= 0 {
		return o, fmt.Errorf("%s must be positive", origin(timeout.From, "--timeout", "ETLHOST_TIMEOUT"))
	}
	o.Timeout, o.TimeoutFrom = timeout.Value, timeout.From

	var flagRetries host.Setting[int]
	if f.IsSet("retries") {
		flagRetries = host.Given(f.Int("retries"), host.FromFlag)
	}
	envRetries, err := fromEnv(getenv, "ETLHOST_RETRIES", strconv.Atoi)
	if err != nil {
		return o, err
	}
	retries := host.Pick(flagRetries, envRetries, host.Given(cfg.Run.Retries, host.FromConfig))
	if o.Retries, o.RetriesFrom = retries.Value, retries.From; o.Retries < 0 || o.Retries > host.MaxRetries {
		return o, fmt.Errorf("%s must be from 0 to %d", origin(retries.From, "--retries", "ETLHOST_RETRIES"), host.MaxRetries)
	}

	grace, err := durationSetting(f, getenv, "grace", "ETLHOST_GRACE", cfg.Run.Grace.Duration)
	if err != nil {
		return o, err
	}
	if o.Grace = grace.Value; o.Grace <= 0 {
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

// durationSetting is the duration of --flag, $env or the configuration
// file (inFile, 0: not set), the first given in that order.
func durationSetting(f flagValues, getenv func(string) string, flag, env string, inFile time.Duration) (host.Setting[time.Duration], error) {
	var fromFlag, fromFile host.Setting[time.Duration]
	if f.IsSet(flag) {
		fromFlag = host.Given(f.Duration(flag), host.FromFlag)
	}
	if inFile > 0 {
		fromFile = host.Given(inFile, host.FromConfig)
	}
	fromEnvironment, err := fromEnv(getenv, env, time.ParseDuration)
	return host.Pick(fromFlag, fromEnvironment, fromFile), err
}

// fromEnv reads the variable name with parse; unset when the variable is
// empty, an error naming it when it does not parse.
func fromEnv[T any](getenv func(string) string, name string, parse func(string) (T, error)) (host.Setting[T], error) {
	v := getenv(name)
	if v == "" {
		return host.Setting[T]{}, nil
	}
	x, err := parse(v)
	if err != nil {
		return host.Setting[T]{}, fmt.Errorf("$%s: cannot read %q: %v", name, v, err)
	}
	return host.Given(x, host.FromEnv), nil
}

// origin names where a setting came from, for its error.
func origin(from host.Source, flag, env string) string {
	if from == host.FromEnv {
		return "$" + env
	}
	return flag
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
