package odoo

import (
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
	// key wherever a password goes), for XML-RPC. JSON-2 does not use it: a
	// json2 Config with a Password and no APIKey is refused. Secret.
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
	// without a limit cannot exhaust memory: a bigger answer fails its call
	// with ErrResponseTooLarge as soon as the cap is passed (the rest is not
	// read). Default 256 MiB (DefaultMaxResponseBytes); in etlhost's
	// configuration, max_response_bytes of an [odoo.NAME] section. The body
	// is read whole, then decoded: decoding can hold a few times the cap.
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

// secret returns the credential the transport sends: with JSON-2 the API
// key (its bearer token: JSON-2 takes no password), with XML-RPC the
// password, or the API key in its place.
func (c Config) secret() string {
	if c.Transport == TransportJSON2 {
		return c.APIKey
	}
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

// ConfigError is a problem of a Config, reported by Validate (and so by
// New). Field names the field as a configuration file spells it: url, db,
// user, password, api_key or transport, so that a caller that read the
// Config from a file can name the key to fix.
type ConfigError struct {
	Field string
	Msg   string // what is wrong; never a secret
}

func (e *ConfigError) Error() string { return "odoo config: " + e.Msg }

// Validate reports the first problem of the configuration as a
// *ConfigError naming the field. It holds every rule a Config must follow;
// callers that build a Config (the host, from its config file) rely on it
// instead of checking again:
//
//   - url: required, http or https, with a host and without credentials;
//   - xmlrpc (the default): db and user required, and a password or, in
//     its place, an API key;
//   - json2: an API key is required and a password is refused in its place,
//     since JSON-2 authenticates with a bearer API key only (Odoo 19); db
//     is optional (sent as X-Odoo-Database when set), and so is user.
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if c.URL == "" {
		return bad("url", "url is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("url", "url %q is not an http(s) URL", redactURL(c.URL))
	}
	if u.User != nil {
		return bad("url", "url must not carry credentials; use user and password")
	}
	switch c.Transport {
	case "", TransportXMLRPC:
		if c.DB == "" {
			return bad("db", "db is required for xmlrpc")
		}
		if c.User == "" {
			return bad("user", "user is required for xmlrpc")
		}
		if c.Password == "" && c.APIKey == "" {
			return bad("password", "password (or api_key) is required")
		}
	case TransportJSON2:
		if c.APIKey == "" && c.Password != "" {
			return bad("api_key", "api_key is required for json2, which does not take a password: use an API key (Odoo 19 JSON-2 authenticates with a bearer API key only)")
		}
		if c.APIKey == "" {
			return bad("api_key", "api_key is required for json2: use an API key")
		}
	default:
		return bad("transport", "transport %q is not one of xmlrpc, json2", c.Transport)
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
