package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/odoo"
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
	section := "[odoo.default]\nurl = \"https://erp\"\ndb = \"prod\"\nuser = \"u\"\npassword_env = \"PW\"\n"
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
		{"script_conns over the pool", "[postgres.w]\ndsn = \"postgres:///x\"\nmax_conns = 2\nscript_conns = 3\n", "postgres.w.script_conns: must be 0 (half the pool) or 1 to max_conns"},
		{"negative script_conns", "[postgres.w]\ndsn = \"postgres:///x\"\nscript_conns = -1\n", "postgres.w.script_conns"},
		// The [odoo.NAME] rules are odoo.Config.Validate's; the host names the key.
		{"bad url", strings.Replace(section, "https://erp", "erp.example.com", 1), `odoo.default.url: url "erp.example.com" is not an http(s) URL`},
		{"credentials in url", strings.Replace(section, "https://erp", "https://u:hunter2@erp", 1), "odoo.default.url: url must not carry credentials"},
		{"no db", strings.Replace(section, "db = \"prod\"\n", "", 1), "odoo.default.db: db is required for xmlrpc"},
		{"no user", strings.Replace(section, "user = \"u\"\n", "", 1), "odoo.default.user: user is required for xmlrpc"},
		{"no password", strings.Replace(section, "password_env = \"PW\"\n", "", 1), "odoo.default.password: password (or api_key) is required"},
		{"unset password_env", strings.Replace(section, "\"PW\"", "\"NOPE\"", 1), "odoo.default.password_env: environment variable NOPE is not set"},
		{"json2 with only a password", section + "transport = \"json2\"\n", "odoo.default.api_key: api_key is required for json2, which does not take a password: use an API key"},
		{"json2 without a key", strings.Replace(section, "password_env = \"PW\"\n", "", 1) + "transport = \"json2\"\n", "odoo.default.api_key: api_key is required for json2: use an API key"},
		{"bad transport", section + "transport = \"soap\"\n", `odoo.default.transport: transport "soap" is not one of xmlrpc, json2`},
		{"negative in flight", section + "max_in_flight = -1\n", "cannot be negative"},
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

// TestLoadConfigOdooRules checks that an [odoo.NAME] section, or the
// ETLHOST_ODOO_* variables, are held to odoo.Config.Validate's rules, the
// error naming the key and unwrapping to the *odoo.ConfigError.
func TestLoadConfigOdooRules(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PW": "hunter2", "KEY": "key-hunter2"}
	cases := []struct {
		name string
		toml string            // the file ("" reads none)
		env  map[string]string // added to env
		key  string            // the key the error names ("": no error)
		want string            // in the message
	}{
		{name: "xmlrpc", toml: "[odoo.default]\nurl = \"https://erp\"\ndb = \"prod\"\nuser = \"u\"\npassword_env = \"PW\"\n"},
		{name: "xmlrpc with an api key", toml: "[odoo.default]\nurl = \"https://erp\"\ndb = \"prod\"\nuser = \"u\"\napi_key_env = \"KEY\"\n"},
		{name: "json2 with an api key", toml: "[odoo.v19]\nurl = \"https://erp\"\ndb = \"prod\"\ntransport = \"json2\"\napi_key_env = \"KEY\"\n"},
		{name: "json2 without db", toml: "[odoo.v19]\nurl = \"https://erp\"\ntransport = \"JSON2\"\napi_key = \"k\"\n"},
		{
			name: "json2 with only a password", toml: "[odoo.v19]\nurl = \"https://erp\"\ndb = \"prod\"\nuser = \"u\"\ntransport = \"json2\"\npassword_env = \"PW\"\n",
			key: "odoo.v19.api_key", want: "use an API key",
		},
		{
			name: "json2 with only a password in the file", toml: "[odoo.v19]\nurl = \"https://erp\"\ntransport = \"json2\"\npassword = \"hunter2\"\n",
			key: "odoo.v19.api_key", want: "does not take a password: use an API key",
		},
		{
			name: "json2 with only a password in the environment",
			env: map[string]string{"ETLHOST_ODOO_URL": "http://127.0.0.1:8069", "ETLHOST_ODOO_DB": "demo", "ETLHOST_ODOO_USER": "admin",
				"ETLHOST_ODOO_PASSWORD": "hunter2", "ETLHOST_ODOO_TRANSPORT": "json2"},
			key: "odoo.default.api_key", want: "use an API key",
		},
		{
			name: "json2 with an api key in the environment",
			env:  map[string]string{"ETLHOST_ODOO_URL": "http://127.0.0.1:8069", "ETLHOST_ODOO_API_KEY": "key-hunter2", "ETLHOST_ODOO_TRANSPORT": "json2"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := ""
			if tc.toml != "" {
				p = filepath.Join(t.TempDir(), "etlhost.toml")
				if err := os.WriteFile(p, []byte(tc.toml), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			getenv := func(k string) string {
				if v, ok := tc.env[k]; ok {
					return v
				}
				return env[k]
			}
			cfg, err := LoadConfig(p, getenv)
			if tc.key == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				for name, c := range cfg.Odoo {
					if err := c.OdooConfig().Validate(); err != nil {
						t.Errorf("odoo.%s loaded, yet its odoo.Config is refused: %v", name, err)
					}
				}
				return
			}
			var ce *ConfigError
			var oe *odoo.ConfigError
			if !errors.As(err, &ce) || ce.Key != tc.key || !strings.Contains(ce.Msg, tc.want) || !errors.As(err, &oe) {
				t.Fatalf("error %v, want a ConfigError for key %s saying %q, wrapping an *odoo.ConfigError", err, tc.key, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows a secret", err)
			}
		})
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
