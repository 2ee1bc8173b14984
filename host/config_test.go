package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigComplete(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"REPORTING_DSN": "postgres://etl:s3cret@db/reporting",
		"ODOO_PASSWORD": "odoo-secret",
		"ODOO19_KEY":    "key-secret",
	}
	cfg, err := LoadConfig("testdata/etlhost.toml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Run.Jobs != 3 || cfg.Run.Timeout.Duration != 15*time.Minute || cfg.Run.MaxMemory != "2GiB" ||
		cfg.Run.Grace.Duration != 5*time.Second || cfg.Run.Lib != "scripts/lib" {
		t.Errorf("run settings %+v", cfg.Run)
	}
	if pg := cfg.Postgres["default"]; pg.DSN != env["REPORTING_DSN"] || pg.MaxConns != 8 {
		t.Errorf("postgres.default %+v", pg)
	}
	if pg := cfg.Postgres["warehouse"]; pg.DSN != "postgres://etl@warehouse/dw" {
		t.Errorf("postgres.warehouse %+v", pg)
	}
	o := cfg.Odoo["default"]
	if o.Password != "odoo-secret" || o.Transport != "xmlrpc" || o.MaxInFlight != 6 || o.Timeout.Duration != 90*time.Second || o.Retries != 2 {
		t.Errorf("odoo.default %+v", o)
	}
	if o := cfg.Odoo["v19"]; o.APIKey != "key-secret" || o.Transport != "json2" {
		t.Errorf("odoo.v19 %+v", o)
	}
}

func TestLoadConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"ETLHOST_PG_DSN": "host=/tmp dbname=x", "ETLHOST_ODOO_URL": "http://127.0.0.1:8069",
		"ETLHOST_ODOO_DB": "demo", "ETLHOST_ODOO_USER": "admin", "ETLHOST_ODOO_PASSWORD": "admin",
	}
	cfg, err := LoadConfig("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Postgres["default"].DSN != "host=/tmp dbname=x" || cfg.Odoo["default"].URL != "http://127.0.0.1:8069" ||
		cfg.Odoo["default"].Transport != "xmlrpc" {
		t.Fatalf("config %+v", cfg)
	}
	// A [postgres.default] section wins over the environment.
	p := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(p, []byte("[postgres.default]\ndsn = \"host=/file\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err = LoadConfig(p, func(k string) string { return env[k] })
	if err != nil || cfg.Postgres["default"].DSN != "host=/file" {
		t.Fatalf("config %+v, %v", cfg, err)
	}
	// No file, no environment: no connections, and no error.
	cfg, err = LoadConfig("", func(string) string { return "" })
	if err != nil || len(cfg.Postgres) != 0 || len(cfg.Odoo) != 0 {
		t.Fatalf("empty config %+v, %v", cfg, err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SET": "postgres://u:hunter2@h/d", "PW": "hunter2"}
	odoo := "[odoo.default]\nurl = \"https://erp\"\ndb = \"prod\"\nuser = \"u\"\npassword_env = \"PW\"\n"
	cases := []struct{ name, toml, want string }{
		{"syntax", "[run\njobs = 1", "to end table name"},
		{"unknown key", "[run]\njbos = 2\n", "run.jbos: unknown key"},
		{"unknown section", "[postgress.default]\ndsn = \"x\"\n", "postgress"},
		{"negative jobs", "[run]\njobs = -1\n", "run.jobs: must be 0 (all) or more"},
		{"bad timeout", "[run]\ntimeout = \"soon\"\n", "expected a duration like 90s"},
		{"bad memory", "[run]\nmax_memory = \"lots\"\n", "run.max_memory: bad size"},
		{"dsn and dsn_env", "[postgres.w]\ndsn = \"x\"\ndsn_env = \"SET\"\n", "postgres.w: give dsn or dsn_env, not both"},
		{"unset dsn_env", "[postgres.w]\ndsn_env = \"NOT_SET\"\n", "postgres.w.dsn_env: environment variable NOT_SET is not set"},
		{"no dsn", "[postgres.w]\nmax_conns = 2\n", "postgres.w: no dsn"},
		{"bad url", strings.Replace(odoo, "https://erp", "erp.example.com", 1), "odoo.default.url: expected an http:// or https:// URL"},
		{"no db", strings.Replace(odoo, "db = \"prod\"\n", "", 1), "odoo.default.db: missing database name"},
		{"no user", strings.Replace(odoo, "user = \"u\"\n", "", 1), "odoo.default.user: missing login"},
		{"unset password_env", strings.Replace(odoo, "\"PW\"", "\"NOPE\"", 1), "odoo.default.password_env: environment variable NOPE is not set"},
		{"json2 without key", odoo + "transport = \"json2\"\n", "odoo.default.api_key_env: JSON-2 needs an API key"},
		{"bad transport", odoo + "transport = \"soap\"\n", "unknown transport \"soap\""},
		{"negative in flight", odoo + "max_in_flight = -1\n", "cannot be negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "etlhost.toml")
			if err := os.WriteFile(p, []byte(tc.toml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(p, func(k string) string { return env[k] })
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a ConfigError containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), p+": ") {
				t.Errorf("error %q does not start with the file's name", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows a secret", err)
			}
		})
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.toml"), os.Getenv); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"512MiB", 512 << 20, true}, {"2GiB", 2 << 30, true}, {"1.5GB", 1_500_000_000, true},
		{"1048576", 1 << 20, true}, {"64k", 64 << 10, true}, {" 3 MiB ", 3 << 20, true},
		{"lots", 0, false}, {"-1MiB", 0, false}, {"", 0, false}, {"1e30GiB", 0, false},
	}
	for _, tc := range cases {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseSize(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	if s := FormatSize(3 << 30); s != "3.0GiB" {
		t.Errorf("FormatSize = %q", s)
	}
}

// FuzzLoadConfig feeds arbitrary text to the configuration reader: it must
// never panic, and every failure must be a ConfigError.
func FuzzLoadConfig(f *testing.F) {
	for _, seed := range []string{
		"[run]\njobs = 2\ntimeout = \"1m\"\n",
		"[postgres.a]\ndsn_env = \"X\"\n",
		"[odoo.default]\nurl = \"http://h\"\ndb = \"d\"\nuser = \"u\"\npassword = \"p\"\ntransport = \"json2\"\n",
		"[history]\nconnection = \"a\"\n", "[[run]]", "x = [1, {", "\x00",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		p := filepath.Join(dir, fmt.Sprintf("c%d.toml", len(text)%7))
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(p, func(k string) string { return "v" })
		var ce *ConfigError
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("error of type %T: %v", err, err)
		}
	})
}

func ExampleLoadConfig() {
	env := map[string]string{"REPORTING_DSN": "postgres://etl@db/reporting", "ODOO_PASSWORD": "x", "ODOO19_KEY": "y"}
	cfg, err := LoadConfig("testdata/etlhost.toml", func(k string) string { return env[k] })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Run.Jobs, cfg.Run.Timeout, cfg.Odoo["default"].Transport, cfg.Odoo["v19"].Transport)
	// Output: 3 15m0s xmlrpc json2
}
