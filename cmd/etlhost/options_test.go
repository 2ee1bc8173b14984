package main

import (
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/host"
)

// fakeFlags are the flags given on a command line, for resolveRun.
type fakeFlags map[string]any

func (f fakeFlags) IsSet(name string) bool { _, ok := f[name]; return ok }
func (f fakeFlags) Bool(name string) bool  { v, _ := f[name].(bool); return v }
func (f fakeFlags) Int(name string) int    { v, _ := f[name].(int); return v }
func (f fakeFlags) String(name string) string {
	v, _ := f[name].(string)
	return v
}
func (f fakeFlags) Duration(name string) time.Duration {
	v, _ := f[name].(time.Duration)
	return v
}
func (f fakeFlags) StringSlice(name string) []string {
	v, _ := f[name].([]string)
	return v
}

// TestResolveRun: each option comes from its flag, else the environment,
// else the configuration file, else its default.
func TestResolveRun(t *testing.T) {
	t.Parallel()
	fileCfg := func() *host.Config {
		c := &host.Config{}
		c.Run.Jobs = 3
		c.Run.Timeout.Duration = 20 * time.Minute
		c.Run.Grace.Duration = 5 * time.Second
		c.Run.MaxMemory = "1GiB"
		c.Run.Lib = "etl/lib"
		return c
	}
	env := map[string]string{"ETLHOST_NOTIFY_URL": "https://hooks.example.com/env"}
	cases := []struct {
		name  string
		flags fakeFlags
		env   map[string]string
		cfg   *host.Config
		want  runOptions
		err   string
	}{
		{name: "defaults", cfg: &host.Config{},
			want: runOptions{Timeout: host.DefaultTimeout, Grace: host.DefaultGrace, MaxMemory: host.DefaultMaxMemory()}},
		{name: "config file", cfg: fileCfg(),
			want: runOptions{Jobs: 3, Timeout: 20 * time.Minute, TimeoutFrom: host.FromConfig, Grace: 5 * time.Second, MaxMemory: 1 << 30, LibDir: "etl/lib"}},
		{name: "flags beat the file", cfg: fileCfg(),
			flags: fakeFlags{"jobs": 1, "timeout": 90 * time.Second, "grace": time.Second, "max-memory": "512MiB", "odoo-writes": true},
			want:  runOptions{Jobs: 1, Timeout: 90 * time.Second, TimeoutFrom: host.FromFlag, Grace: time.Second, MaxMemory: 512 << 20, LibDir: "etl/lib", OdooWrites: true}},
		{name: "--jobs 0 is all, over the file", cfg: fileCfg(), flags: fakeFlags{"jobs": 0},
			want: runOptions{Jobs: 0, Timeout: 20 * time.Minute, TimeoutFrom: host.FromConfig, Grace: 5 * time.Second, MaxMemory: 1 << 30, LibDir: "etl/lib"}},
		{name: "--grace 0 is the default", cfg: fileCfg(), flags: fakeFlags{"grace": time.Duration(0)},
			want: runOptions{Jobs: 3, Timeout: 20 * time.Minute, TimeoutFrom: host.FromConfig, Grace: host.DefaultGrace, MaxMemory: 1 << 30, LibDir: "etl/lib"}},
		{name: "notify from the environment", cfg: &host.Config{}, env: env,
			want: runOptions{Timeout: host.DefaultTimeout, Grace: host.DefaultGrace, MaxMemory: host.DefaultMaxMemory(), NotifyURL: "https://hooks.example.com/env"}},
		{name: "--notify beats the environment", cfg: &host.Config{}, env: env, flags: fakeFlags{"notify": "https://hooks.example.com/flag"},
			want: runOptions{Timeout: host.DefaultTimeout, Grace: host.DefaultGrace, MaxMemory: host.DefaultMaxMemory(), NotifyURL: "https://hooks.example.com/flag"}},
		{name: "--history records on default", cfg: &host.Config{}, flags: fakeFlags{"history": true},
			want: runOptions{Timeout: host.DefaultTimeout, Grace: host.DefaultGrace, MaxMemory: host.DefaultMaxMemory(), HistoryConn: "default"}},
		{name: "[history] connection beats --history", cfg: &host.Config{History: host.HistorySettings{Connection: "warehouse"}}, flags: fakeFlags{"history": true},
			want: runOptions{Timeout: host.DefaultTimeout, Grace: host.DefaultGrace, MaxMemory: host.DefaultMaxMemory(), HistoryConn: "warehouse"}},
		{name: "args", cfg: &host.Config{}, flags: fakeFlags{"arg": []string{"since=2024-01-01", " k =a=b"}},
			want: runOptions{Timeout: host.DefaultTimeout, Grace: host.DefaultGrace, MaxMemory: host.DefaultMaxMemory(),
				Args: map[string]string{"since": "2024-01-01", "k": "a=b"}}},
		{name: "bad arg", cfg: &host.Config{}, flags: fakeFlags{"arg": []string{"novalue"}}, err: `bad --arg "novalue"`},
		{name: "bad memory", cfg: &host.Config{}, flags: fakeFlags{"max-memory": "lots"}, err: "--max-memory"},
		{name: "bad jobs", cfg: &host.Config{}, flags: fakeFlags{"jobs": -2}, err: "--jobs must be 0 (all) or more"},
		{name: "bad timeout", cfg: &host.Config{}, flags: fakeFlags{"timeout": time.Duration(0)}, err: "--timeout must be positive"},
		{name: "the environment beats the file", cfg: fileCfg(),
			env:  map[string]string{"ETLHOST_JOBS": "2", "ETLHOST_TIMEOUT": "45s", "ETLHOST_GRACE": "2s", "ETLHOST_MAX_MEMORY": "256MiB"},
			want: runOptions{Jobs: 2, Timeout: 45 * time.Second, TimeoutFrom: host.FromEnv, Grace: 2 * time.Second, MaxMemory: 256 << 20, LibDir: "etl/lib"}},
		{name: "flags beat the environment", cfg: fileCfg(),
			env:   map[string]string{"ETLHOST_JOBS": "2", "ETLHOST_TIMEOUT": "45s", "ETLHOST_GRACE": "2s", "ETLHOST_MAX_MEMORY": "256MiB"},
			flags: fakeFlags{"jobs": 1, "timeout": 90 * time.Second, "grace": time.Second, "max-memory": "512MiB"},
			want:  runOptions{Jobs: 1, Timeout: 90 * time.Second, TimeoutFrom: host.FromFlag, Grace: time.Second, MaxMemory: 512 << 20, LibDir: "etl/lib"}},
		{name: "bad variable", cfg: &host.Config{}, env: map[string]string{"ETLHOST_TIMEOUT": "soon"}, err: `$ETLHOST_TIMEOUT: cannot read "soon"`},
		{name: "bad jobs variable", cfg: &host.Config{}, env: map[string]string{"ETLHOST_JOBS": "-1"}, err: "$ETLHOST_JOBS must be 0 (all) or more"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := resolveRun(tc.flags, func(k string) string { return tc.env[k] }, tc.cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.Args == nil {
				tc.want.Args = map[string]string{}
			}
			if got.Jobs != tc.want.Jobs || got.Timeout != tc.want.Timeout || got.TimeoutFrom != tc.want.TimeoutFrom || got.Grace != tc.want.Grace ||
				got.MaxMemory != tc.want.MaxMemory || got.OdooWrites != tc.want.OdooWrites || got.LibDir != tc.want.LibDir ||
				got.NotifyURL != tc.want.NotifyURL || got.HistoryConn != tc.want.HistoryConn || len(got.Args) != len(tc.want.Args) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
			for k, v := range tc.want.Args {
				if got.Args[k] != v {
					t.Fatalf("args %v, want %v", got.Args, tc.want.Args)
				}
			}
		})
	}
}

// TestResolveAudit: the audit file comes from --audit-file, else [audit]
// file, else the default; the table from [audit] connection, else
// [history] connection.
func TestResolveAudit(t *testing.T) {
	t.Parallel()
	env := func(k string) string { return map[string]string{"HOME": "/home/ana"}[k] }
	cfg := &host.Config{Postgres: map[string]host.PostgresConn{"hist": {DSN: "dsn-hist"}, "aud": {DSN: "dsn-aud"}}}
	cfg.History.Connection = "hist"
	o, err := resolveAudit(fakeFlags{}, env, cfg)
	if err != nil || o.File != "/home/ana/.local/state/etlhost/audit.jsonl" || o.ConnName != "hist" || o.DSN != "dsn-hist" {
		t.Fatalf("%+v %v", o, err)
	}
	cfg.Audit.File, cfg.Audit.Connection = "/var/log/audit.jsonl", "aud"
	if o, _ = resolveAudit(fakeFlags{}, env, cfg); o.File != "/var/log/audit.jsonl" || o.ConnName != "aud" || o.DSN != "dsn-aud" {
		t.Fatalf("%+v", o)
	}
	if o, _ = resolveAudit(fakeFlags{"audit-file": "fix.jsonl"}, env, cfg); o.File != "fix.jsonl" {
		t.Fatalf("%+v", o)
	}
}

func TestDurationText(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{10 * time.Minute: "10m", 3 * time.Second: "3s", 90 * time.Minute: "1h30m", 2 * time.Hour: "2h", 90 * time.Second: "1m30s"} {
		if got := durationText(d); got != want {
			t.Errorf("durationText(%v) = %q, want %q", d, got, want)
		}
	}
}
