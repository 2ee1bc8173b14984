package odoo

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Transport names for Config.Transport.
const (
	TransportXMLRPC = "xmlrpc" // /xmlrpc/2/common and /xmlrpc/2/object (Odoo 8-21)
	TransportJSON2  = "json2"  // /json/2/<model>/<method> (Odoo 19+)
)

// Defaults applied by New to zero fields of Config.
const (
	DefaultMaxInFlight      = 4
	DefaultTimeout          = 120 * time.Second
	DefaultMaxResponseBytes = 256 << 20
	DefaultRetries          = 3
	DefaultRetryBackoff     = 200 * time.Millisecond
)

// Config describes one Odoo connection. The host builds it from the config
// file or the environment and keeps it: scripts only ever see the name of a
// connection. Password and APIKey never appear in String, GoString, slog
// output or any error the client returns.
type Config struct {
	// URL is the Odoo server's base URL ("https://erp.example.com"); a
	// trailing slash is ignored. Required.
	URL string
	// DB is the database name. Required for XML-RPC; sent as X-Odoo-Database
	// with JSON-2 when set.
	DB string
	// User is the login. Required for XML-RPC.
	User string
	// Password is the user's password or an API key (Odoo 14+ accepts an API
	// key wherever a password goes). Secret.
	Password string
	// APIKey is the bearer key for JSON-2 (Odoo 19+). With XML-RPC it is
	// used as the password when Password is empty. Secret.
	APIKey string
	// Transport is "xmlrpc" (the default) or "json2".
	Transport string
	// MaxInFlight bounds the requests in flight on this connection, shared
	// by every script of a run that uses it: Odoo serves a request per worker,
	// and a batch of scripts must not take all of them. Default 4.
	MaxInFlight int
	// Timeout bounds one HTTP call, from sending the request to reading the
	// last byte of the answer. Odoo kills requests after 120 s
	// (limit_time_real), hence the default of 120 s. A timed-out read is
	// retried; a timed-out write is not.
	Timeout time.Duration
	// MaxResponseBytes caps the size of one response body, so a search_read
	// without a limit cannot exhaust memory. Default 256 MiB.
	MaxResponseBytes int64
	// Retries is how many times a read call (search, search_read, read,
	// search_count, fields_get, name_search, version, authenticate) is
	// retried after a transport error, a timeout or an HTTP 5xx, with
	// exponential backoff and jitter. Writes and faults are never retried.
	// Default 3; a negative value disables retries.
	Retries int
	// RetryBackoff is the first backoff wait; each retry doubles it (capped
	// at 30 times the base) and a random jitter of up to the wait is added.
	// Default 200 ms.
	RetryBackoff time.Duration
}

// secret returns the credential sent in place of a password.
func (c Config) secret() string {
	if c.Password != "" {
		return c.Password
	}
	return c.APIKey
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	c.URL = strings.TrimRight(c.URL, "/")
	if c.Transport == "" {
		c.Transport = TransportXMLRPC
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.Retries == 0 {
		c.Retries = DefaultRetries
	} else if c.Retries < 0 {
		c.Retries = 0
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	return c
}

// Validate reports the first problem of the configuration, naming the field.
func (c Config) Validate() error {
	if c.URL == "" {
		return errors.New("odoo config: url is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("odoo config: url %q is not an http(s) URL", redactURL(c.URL))
	}
	if u.User != nil {
		return errors.New("odoo config: url must not carry credentials; use user and password")
	}
	switch c.Transport {
	case "", TransportXMLRPC:
		if c.DB == "" {
			return errors.New("odoo config: db is required for xmlrpc")
		}
		if c.User == "" {
			return errors.New("odoo config: user is required for xmlrpc")
		}
		if c.secret() == "" {
			return errors.New("odoo config: password (or api_key) is required")
		}
	case TransportJSON2:
		if c.APIKey == "" && c.Password == "" {
			return errors.New("odoo config: api_key is required for json2")
		}
	default:
		return fmt.Errorf("odoo config: transport %q is not one of xmlrpc, json2", c.Transport)
	}
	return nil
}

// String describes the connection without its secrets.
func (c Config) String() string {
	t := c.Transport
	if t == "" {
		t = TransportXMLRPC
	}
	return fmt.Sprintf("odoo %s db=%s user=%s transport=%s password=%s api_key=%s",
		redactURL(c.URL), c.DB, c.User, t, mask(c.Password), mask(c.APIKey))
}

// GoString keeps %#v from printing the secrets.
func (c Config) GoString() string {
	return fmt.Sprintf("odoo.Config{URL:%q, DB:%q, User:%q, Password:%q, APIKey:%q, Transport:%q, MaxInFlight:%d, Timeout:%v, MaxResponseBytes:%d, Retries:%d, RetryBackoff:%v}",
		redactURL(c.URL), c.DB, c.User, mask(c.Password), mask(c.APIKey), c.Transport, c.MaxInFlight, c.Timeout, c.MaxResponseBytes, c.Retries, c.RetryBackoff)
}

// Format makes every fmt verb (%v, %+v, %s, %#v) go through the redacted
// forms: fmt would otherwise print the fields of the struct with %+v.
func (c Config) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, c.GoString())
		return
	}
	fmt.Fprint(f, c.String())
}

// LogValue implements slog.LogValuer without the secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", redactURL(c.URL)),
		slog.String("db", c.DB),
		slog.String("user", c.User),
		slog.String("transport", c.Transport),
		slog.String("password", mask(c.Password)),
		slog.String("api_key", mask(c.APIKey)),
	)
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[unparsable url]"
	}
	return u.Redacted()
}

// ConfigFromEnv builds the default connection from ETLHOST_ODOO_URL,
// ETLHOST_ODOO_DB, ETLHOST_ODOO_USER, ETLHOST_ODOO_PASSWORD,
// ETLHOST_ODOO_API_KEY and ETLHOST_ODOO_TRANSPORT. ok is false when
// ETLHOST_ODOO_URL is unset. getenv is os.Getenv in production.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool) {
	cfg = Config{
		URL:       getenv("ETLHOST_ODOO_URL"),
		DB:        getenv("ETLHOST_ODOO_DB"),
		User:      getenv("ETLHOST_ODOO_USER"),
		Password:  getenv("ETLHOST_ODOO_PASSWORD"),
		APIKey:    getenv("ETLHOST_ODOO_API_KEY"),
		Transport: getenv("ETLHOST_ODOO_TRANSPORT"),
	}
	return cfg, cfg.URL != ""
}
