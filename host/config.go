package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/etlhost/etlhost/odoo"
)

// Config is etlhost's configuration: a TOML file (etlhost.toml) plus
// environment variables. It is read and validated in one place, before any
// script starts; an error names the file and the key.
//
//	[run]
//	jobs = 3                # scripts at once (default: all)
//	timeout = "10m"         # per script (a header `--! timeout = 15m` overrides)
//	max_memory = "2GiB"     # per script (default: a quarter of the machine)
//	grace = "3s"            # how long a stopped script may take to unwind
//	lib = "scripts/lib"     # the script library (default: lib/ beside the scripts)
//
//	[postgres.default]      # pg.connect() ; [postgres.warehouse] is pg.connect("warehouse")
//	dsn_env = "ETLHOST_PG_DSN"   # or dsn = "postgres://..." (a password in the file is discouraged)
//	max_conns = 8
//	script_conns = 4        # connections one script may hold at once (default: half the pool, at least 2)
//
//	[odoo.default]          # odoo.connect()
//	url = "https://erp.example.com"
//	db = "prod"
//	user = "etl@example.com"
//	password_env = "ODOO_PASSWORD"   # or api_key_env (JSON-2); password/api_key in the file work too
//	transport = "xmlrpc"             # or "json2" (Odoo 19+)
//	max_in_flight = 4                # requests in flight, shared by all scripts
//	timeout = "120s"                 # per call
//	retries = 3                      # read calls only
//	max_response_bytes = "256MiB"    # one answer's size cap (bytes, or a size like "1GiB")
//
// Without a [postgres.default] section, ETLHOST_PG_DSN names the default
// PostgreSQL connection; without [odoo.default], ETLHOST_ODOO_URL,
// ETLHOST_ODOO_DB, ETLHOST_ODOO_USER and ETLHOST_ODOO_PASSWORD (or
// ETLHOST_ODOO_API_KEY) name the default Odoo connection.
type Config struct {
	// Path of the file read ("" when none).
	Path     string                  `toml:"-"`
	Run      RunSettings             `toml:"run"`
	Postgres map[string]PostgresConn `toml:"postgres"`
	Odoo     map[string]OdooConn     `toml:"odoo"`
	// Audit says where committed fixes are recorded.
	Audit AuditSettings `toml:"audit"`
	// History says where `etlhost run` records runs.
	History HistorySettings `toml:"history"`
	// Worker sets up `etlhost worker`, `enqueue` and `schedule`.
	Worker WorkerSettings `toml:"worker"`
}

// WorkerSettings set up the queue that workers share (package queue):
//
//	[worker]
//	connection = "default"        # the PostgreSQL holding the queue (schema etlhost_queue)
//	time_zone = "Europe/Paris"    # of every --! schedule header (default UTC)
//	jobs = 4                      # jobs at once per worker (default 1; --jobs)
//	rescue_after = "1h"           # a job running longer is taken for a dead worker's
//
// The history of a worker's jobs goes to [history] connection, else to the
// queue's connection.
type WorkerSettings struct {
	Connection  string   `toml:"connection"`
	TimeZone    string   `toml:"time_zone"`
	Jobs        int      `toml:"jobs"`
	RescueAfter Duration `toml:"rescue_after"`
	// Location is TimeZone, loaded (UTC when none is given).
	Location *time.Location `toml:"-"`
}

// HistorySettings turn on the run history:
//
//	[history]
//	connection = "default"   # a [postgres.NAME] connection (or ETLHOST_PG_DSN's default)
//
// With a connection named, every `etlhost run` records the run and each
// script's result (status, duration, error, rows) in that database's schema
// etlhost, created and migrated automatically; `etlhost history` reads it.
// Empty (the default): nothing is recorded unless `run --history` is given,
// which uses the default connection.
type HistorySettings struct {
	Connection string `toml:"connection"`
}

// AuditSettings say where `etlhost exec --commit` and `etlhost repl
// --commit` record the fixes they apply: who, when, the script's text and
// hash, its arguments, every Odoo write sent and PostgreSQL statement
// committed.
//
//	[audit]
//	file = "/var/log/etlhost/audit.jsonl"   # --audit-file overrides it
//	connection = "history"                  # also into etlhost_audit of [postgres.history]
type AuditSettings struct {
	// File is the JSON-lines file each record is appended to. Default:
	// $XDG_STATE_HOME/etlhost/audit.jsonl, that is
	// ~/.local/state/etlhost/audit.jsonl. The --audit-file flag overrides
	// it.
	File string `toml:"file"`
	// Connection names a [postgres.NAME] connection whose database also
	// receives each record, in the table etlhost_audit (created when
	// missing, in the connection's current schema). Empty: the [history]
	// connection when one is set, else the file only. The file and the
	// table are opened before the fix runs: a fix whose record could not be
	// kept does not run.
	Connection string `toml:"connection"`
}

// RunSettings are defaults of `etlhost run`; flags override them.
type RunSettings struct {
	Jobs      int      `toml:"jobs"`
	Timeout   Duration `toml:"timeout"`
	MaxMemory string   `toml:"max_memory"`
	Grace     Duration `toml:"grace"`
	Lib       string   `toml:"lib"`
	// Retries: how many times a job that failed on a transient error runs
	// again (default 0; a script header's `retries` beats it).
	Retries int `toml:"retries"`
}

// PostgresConn is one named PostgreSQL connection. DSN holds the resolved
// secret-bearing string: never print it.
type PostgresConn struct {
	DSN      string `toml:"dsn"`
	DSNEnv   string `toml:"dsn_env"`
	MaxConns int32  `toml:"max_conns"`
	// ScriptConns is how many of the pool's connections one script may
	// hold at once (0: half the pool, at least 2; see luabind/pg).
	ScriptConns int32 `toml:"script_conns"`
}

// OdooConn is one named Odoo connection. Password and APIKey hold resolved
// secrets: never print them. LoadConfig checks it with odoo.Config.Validate
// (see OdooConfig), which holds the rules: with transport "xmlrpc" (the
// default) url, db, user and a password (or an API key in its place) are
// required; with "json2" (Odoo 19+) url and an API key, db being optional
// and a password alone refused.
type OdooConn struct {
	URL         string   `toml:"url"`
	DB          string   `toml:"db"`
	User        string   `toml:"user"`
	Password    string   `toml:"password"`
	PasswordEnv string   `toml:"password_env"`
	APIKey      string   `toml:"api_key"`
	APIKeyEnv   string   `toml:"api_key_env"`
	Transport   string   `toml:"transport"`
	MaxInFlight int      `toml:"max_in_flight"`
	Timeout     Duration `toml:"timeout"`
	Retries     int      `toml:"retries"`
	// MaxResponseBytes caps the size of one Odoo answer (odoo.Config's
	// MaxResponseBytes): a bigger one fails its call with "response too
	// large" instead of filling the host's memory. An integer (bytes) or
	// a size string like "512MiB"; 0 or absent: 256 MiB.
	MaxResponseBytes ByteSize `toml:"max_response_bytes"`
}

// ByteSize is a size in bytes written as an integer or as a string with a
// unit ("512MiB", "1GiB", see ParseSize). It is the type of
// max_response_bytes, which its errors name (toml reports them with the
// line only).
type ByteSize int64

// UnmarshalTOML implements toml.Unmarshaler.
func (b *ByteSize) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		if x >= 0 {
			*b = ByteSize(x)
			return nil
		}
	case string:
		n, err := ParseSize(x)
		if err != nil {
			return fmt.Errorf("max_response_bytes: %v", err)
		}
		*b = ByteSize(n)
		return nil
	}
	return fmt.Errorf("max_response_bytes: expected a number of bytes or a size like \"512MiB\", got %v", v)
}

// OdooConfig is the client configuration of the connection, as LoadConfig
// validated it: the host hands exactly this to the odoo module.
func (c OdooConn) OdooConfig() odoo.Config {
	return odoo.Config{URL: c.URL, DB: c.DB, User: c.User, Password: c.Password, APIKey: c.APIKey,
		Transport: c.Transport, MaxInFlight: c.MaxInFlight, Timeout: c.Timeout.Duration, Retries: c.Retries,
		MaxResponseBytes: int64(c.MaxResponseBytes)}
}

// Duration is a time.Duration written as "90s", "10m" or "1h30m".
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("expected a duration like 90s, 10m or 1h30m, got %q", string(b))
	}
	d.Duration = v
	return nil
}

// ConfigError is a configuration problem: the run does not start (exit 2).
type ConfigError struct {
	Path string // the file, or "environment"
	Key  string // e.g. postgres.warehouse.dsn_env
	Msg  string
	// Err is the error Msg comes from, when another package found the
	// problem (an *odoo.ConfigError for an [odoo.NAME] section), for
	// errors.As.
	Err error
}

func (e *ConfigError) Unwrap() error { return e.Err }

func (e *ConfigError) Error() string {
	where := e.Path
	if where == "" {
		where = "configuration"
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: %s: %s", where, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", where, e.Msg)
}

// LoadConfig reads the TOML file at path ("" reads none; a missing file at
// an explicitly given path is an error) and the environment through getenv,
// resolves the *_env keys and validates everything.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	cfg := &Config{Path: path, Postgres: map[string]PostgresConn{}, Odoo: map[string]OdooConn{}}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, &ConfigError{Path: path, Msg: "no such file"}
			}
			return nil, &ConfigError{Path: path, Msg: err.Error()}
		}
		md, err := toml.Decode(string(data), cfg)
		if err != nil {
			var perr toml.ParseError
			if errors.As(err, &perr) {
				return nil, &ConfigError{Path: path, Msg: fmt.Sprintf("line %d: %s", perr.Position.Line, perr.Message)}
			}
			return nil, &ConfigError{Path: path, Msg: err.Error()}
		}
		if und := md.Undecoded(); len(und) > 0 {
			keys := make([]string, len(und))
			for i, k := range und {
				keys[i] = k.String()
			}
			return nil, &ConfigError{Path: path, Key: keys[0], Msg: "unknown key (check its spelling and section)"}
		}
	}
	if cfg.Postgres == nil {
		cfg.Postgres = map[string]PostgresConn{}
	}
	if cfg.Odoo == nil {
		cfg.Odoo = map[string]OdooConn{}
	}
	if _, ok := cfg.Postgres["default"]; !ok {
		if dsn := getenv("ETLHOST_PG_DSN"); dsn != "" {
			cfg.Postgres["default"] = PostgresConn{DSN: dsn}
		}
	}
	if _, ok := cfg.Odoo["default"]; !ok {
		if u := getenv("ETLHOST_ODOO_URL"); u != "" {
			cfg.Odoo["default"] = OdooConn{URL: u, DB: getenv("ETLHOST_ODOO_DB"), User: getenv("ETLHOST_ODOO_USER"),
				Password: getenv("ETLHOST_ODOO_PASSWORD"), APIKey: getenv("ETLHOST_ODOO_API_KEY"),
				Transport: getenv("ETLHOST_ODOO_TRANSPORT")}
		}
	}
	return cfg, cfg.resolve(getenv)
}

func (cfg *Config) resolve(getenv func(string) string) error {
	where := cfg.Path
	if cfg.Run.Jobs < 0 {
		return &ConfigError{Path: where, Key: "run.jobs", Msg: "must be 0 (all) or more"}
	}
	if cfg.Run.Retries < 0 || cfg.Run.Retries > MaxRetries {
		return &ConfigError{Path: where, Key: "run.retries", Msg: fmt.Sprintf("must be from 0 to %d", MaxRetries)}
	}
	if cfg.Run.Timeout.Duration < 0 {
		return &ConfigError{Path: where, Key: "run.timeout", Msg: "must be positive"}
	}
	cfg.Worker.Location = time.UTC
	if tz := cfg.Worker.TimeZone; tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return &ConfigError{Path: where, Key: "worker.time_zone", Msg: fmt.Sprintf("unknown time zone %q: use a name of the IANA database, like Europe/Paris or UTC", tz)}
		}
		cfg.Worker.Location = loc
	}
	if cfg.Worker.Jobs < 0 {
		return &ConfigError{Path: where, Key: "worker.jobs", Msg: "must be 1 or more"}
	}
	if cfg.Worker.RescueAfter.Duration < 0 {
		return &ConfigError{Path: where, Key: "worker.rescue_after", Msg: "must be positive"}
	}
	if cfg.Run.MaxMemory != "" {
		if _, err := ParseSize(cfg.Run.MaxMemory); err != nil {
			return &ConfigError{Path: where, Key: "run.max_memory", Msg: err.Error()}
		}
	}
	for _, name := range sortedNames(cfg.Postgres) {
		c := cfg.Postgres[name]
		key := "postgres." + name
		if c.DSN != "" && c.DSNEnv != "" {
			return &ConfigError{Path: where, Key: key, Msg: "give dsn or dsn_env, not both"}
		}
		if c.DSNEnv != "" {
			c.DSN = getenv(c.DSNEnv)
			if c.DSN == "" {
				return &ConfigError{Path: where, Key: key + ".dsn_env", Msg: fmt.Sprintf("environment variable %s is not set", c.DSNEnv)}
			}
		}
		if c.DSN == "" {
			return &ConfigError{Path: where, Key: key, Msg: "no dsn (set dsn or dsn_env)"}
		}
		if c.MaxConns < 0 {
			return &ConfigError{Path: where, Key: key + ".max_conns", Msg: "must be positive"}
		}
		if c.ScriptConns < 0 || (c.MaxConns > 0 && c.ScriptConns > c.MaxConns) {
			return &ConfigError{Path: where, Key: key + ".script_conns", Msg: "must be 0 (half the pool) or 1 to max_conns"}
		}
		cfg.Postgres[name] = c
	}
	if n := cfg.History.Connection; n != "" {
		if _, ok := cfg.Postgres[n]; !ok {
			return &ConfigError{Path: where, Key: "history.connection", Msg: fmt.Sprintf("no [postgres.%s] connection is configured", n)}
		}
	}
	if n := cfg.Audit.Connection; n != "" {
		if _, ok := cfg.Postgres[n]; !ok {
			return &ConfigError{Path: where, Key: "audit.connection", Msg: fmt.Sprintf("no [postgres.%s] connection is configured", n)}
		}
	}
	for _, name := range sortedNames(cfg.Odoo) {
		c := cfg.Odoo[name]
		key := "odoo." + name
		if c.PasswordEnv != "" {
			c.Password = getenv(c.PasswordEnv)
			if c.Password == "" {
				return &ConfigError{Path: where, Key: key + ".password_env", Msg: fmt.Sprintf("environment variable %s is not set", c.PasswordEnv)}
			}
		}
		if c.APIKeyEnv != "" {
			c.APIKey = getenv(c.APIKeyEnv)
			if c.APIKey == "" {
				return &ConfigError{Path: where, Key: key + ".api_key_env", Msg: fmt.Sprintf("environment variable %s is not set", c.APIKeyEnv)}
			}
		}
		c.Transport = strings.ToLower(c.Transport)
		if c.Transport == "" {
			c.Transport = odoo.TransportXMLRPC
		}
		// odoo.Config.Validate holds the rules of a connection: no second
		// copy of them here, only the key each problem concerns.
		if err := c.OdooConfig().Validate(); err != nil {
			ce := &ConfigError{Path: where, Key: key, Msg: err.Error(), Err: err}
			var oe *odoo.ConfigError
			if errors.As(err, &oe) {
				ce.Msg = oe.Msg
				if oe.Field != "" {
					ce.Key = key + "." + oe.Field
				}
			}
			return ce
		}
		if c.MaxInFlight < 0 || c.Retries < 0 {
			return &ConfigError{Path: where, Key: key, Msg: "max_in_flight and retries cannot be negative"}
		}
		cfg.Odoo[name] = c
	}
	return nil
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
