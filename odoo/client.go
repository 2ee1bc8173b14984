package odoo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client talks to one Odoo database as one user. It is safe for concurrent
// use; the host creates one per configured connection and shares it between
// all scripts of a run, so MaxInFlight bounds the whole run's load on Odoo.
type Client struct {
	cfg   Config
	scrub *scrubber
	ht    *http.Transport
	hc    *http.Client
	sem   chan struct{}
	tr    transport

	authLock chan struct{} // one login at a time; a channel so waiting takes ctx
	authMu   sync.Mutex    // guards the four below
	uid      int64
	authed   bool
	authGen  uint64 // counts the logins that passed (see recheck)
	authErr  error  // a refused login or key, kept: never try the secret again

	requests atomic.Int64
}

// transport is one wire protocol. Each method makes exactly one HTTP request;
// the Client adds the semaphore, timeouts, retries and error wrapping.
type transport interface {
	version(ctx context.Context) (VersionInfo, error)
	// login returns the uid, or *AuthError when Odoo refuses the credentials.
	login(ctx context.Context) (int64, error)
	execute(ctx context.Context, uid int64, model, method string, args []any, kwargs map[string]any) (any, error)
	// needsUID tells whether execute needs a uid from login first.
	needsUID() bool
}

// New checks cfg and returns a client. It does not contact Odoo: the first
// call authenticates.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ht := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          cfg.MaxInFlight * 2,
		MaxIdleConnsPerHost:   cfg.MaxInFlight,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	c := &Client{
		cfg:      cfg,
		scrub:    newScrubber(cfg),
		ht:       ht,
		hc:       &http.Client{Transport: ht},
		sem:      make(chan struct{}, cfg.MaxInFlight),
		authLock: make(chan struct{}, 1),
	}
	switch cfg.Transport {
	case TransportJSON2:
		c.tr = &json2Transport{c: c}
	default:
		c.tr = &xmlrpcTransport{c: c}
	}
	return c, nil
}

// Config returns the configuration in use, defaults applied. It holds the
// secrets: do not hand it to scripts.
func (c *Client) Config() Config { return c.cfg }

// Requests reports how many HTTP requests the client has sent, retries
// included.
func (c *Client) Requests() int64 { return c.requests.Load() }

// Close releases idle connections. Calls in flight are not interrupted.
func (c *Client) Close() { c.ht.CloseIdleConnections() }

// VersionInfo is what common.version() (or JSON-2's /web/version) reports.
type VersionInfo struct {
	ServerVersion     string // "17.0", "saas~17.2"
	ServerVersionInfo []any  // [17, 0, 0, "final", 0, ""]
	ServerSerie       string // "17.0"
	ProtocolVersion   int64  // 1
	Major             int    // 17, parsed from the above; 0 when unknown
}

func versionFromMap(m map[string]any) VersionInfo {
	var v VersionInfo
	v.ServerVersion, _ = m["server_version"].(string)
	if v.ServerVersion == "" {
		v.ServerVersion, _ = m["version"].(string)
	}
	v.ServerVersionInfo, _ = m["server_version_info"].([]any)
	if v.ServerVersionInfo == nil {
		v.ServerVersionInfo, _ = m["version_info"].([]any)
	}
	v.ServerSerie, _ = m["server_serie"].(string)
	v.ProtocolVersion, _ = m["protocol_version"].(int64)
	if len(v.ServerVersionInfo) > 0 {
		if n, ok := v.ServerVersionInfo[0].(int64); ok {
			v.Major = int(n)
		}
	}
	if v.Major == 0 {
		s := strings.TrimPrefix(v.ServerVersion, "saas~")
		if i := strings.IndexByte(s, '.'); i > 0 {
			v.Major, _ = strconv.Atoi(s[:i])
		}
	}
	if v.ServerSerie == "" && len(v.ServerVersionInfo) >= 2 {
		v.ServerSerie = fmt.Sprintf("%v.%v", v.ServerVersionInfo[0], v.ServerVersionInfo[1])
	}
	return v
}

// Version asks the server for its version. It needs no credentials.
func (c *Client) Version(ctx context.Context) (VersionInfo, error) {
	var out VersionInfo
	_, err := c.do(ctx, "", "version", true, func(ctx context.Context) (any, error) {
		v, err := c.tr.version(ctx)
		out = v
		return nil, err
	})
	return out, err
}

// Authenticate logs in once and caches the uid for the client's lifetime. A
// refused login returns an *AuthError (errors.Is(err, ErrAuth)); it is kept
// too, so the password is never tried twice (Odoo locks an address out after
// five failures). Transport errors are retried and not kept.
func (c *Client) Authenticate(ctx context.Context) (int64, error) {
	uid, _, err := c.authenticate(ctx)
	return uid, err
}

// authenticate is Authenticate, also returning the login generation the uid
// belongs to (see recheck).
func (c *Client) authenticate(ctx context.Context) (int64, uint64, error) {
	if err := c.lockAuth(ctx); err != nil {
		return 0, 0, err
	}
	defer func() { <-c.authLock }()
	c.authMu.Lock()
	uid, authed, gen, authErr := c.uid, c.authed, c.authGen, c.authErr
	c.authMu.Unlock()
	if authErr != nil {
		return 0, 0, authErr
	}
	if authed {
		return uid, gen, nil
	}
	uid, gen, err := c.login(ctx)
	return uid, gen, err
}

func (c *Client) lockAuth(ctx context.Context) error {
	select {
	case c.authLock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &CallError{Method: "authenticate", Attempts: 1, Err: context.Cause(ctx)}
	}
}

// login sends the credentials; the caller holds authLock. A refusal is kept
// by do.
func (c *Client) login(ctx context.Context) (int64, uint64, error) {
	var uid int64
	_, err := c.do(ctx, "", "authenticate", true, func(ctx context.Context) (any, error) {
		u, err := c.tr.login(ctx)
		uid = u
		return nil, err
	})
	if err != nil {
		return 0, 0, err
	}
	c.authMu.Lock()
	defer c.authMu.Unlock()
	c.authGen++
	c.uid, c.authed = uid, true
	return uid, c.authGen, nil
}

// recheck runs after an XML-RPC call got fault 3 (AccessDenied). Odoo
// raises it both when execute_kw's credentials no longer pass (a password
// changed or revoked during the run, an API key deleted) and from inside a
// method (res.users.change_password with a wrong old password), and the
// fault does not tell which. Only a refused login invalidates the session,
// so recheck logs in again: a refusal is kept like any refused login and
// returned (later calls are not sent); a login that passes means the
// method raised it, and the fault fails that call alone. All the calls
// that got fault 3 on the same login share one recheck: gen is the login
// generation the call used, and a login that passed after it answers for
// it. A recheck that cannot reach Odoo leaves the fault as it is.
func (c *Client) recheck(ctx context.Context, gen uint64) error {
	if c.lockAuth(ctx) != nil {
		return nil
	}
	defer func() { <-c.authLock }()
	c.authMu.Lock()
	cur, authErr := c.authGen, c.authErr
	c.authMu.Unlock()
	if authErr != nil {
		return authErr
	}
	if cur != gen {
		return nil
	}
	_, _, err := c.login(ctx)
	var ae *AuthError
	if errors.As(err, &ae) {
		return err
	}
	return nil
}

// refused keeps a refused login or API key: later calls return it without
// sending the secret again.
func (c *Client) refused(err error) {
	c.authMu.Lock()
	if c.authErr == nil {
		c.authErr = err
	}
	c.authMu.Unlock()
}

func (c *Client) refusedErr() error {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	return c.authErr
}

// retryMethods are the read methods retried after a transport error, a
// timeout or a 5xx. Only these: a write that timed out may have committed.
var retryMethods = map[string]bool{
	"search": true, "search_read": true, "read": true, "search_count": true,
	"fields_get": true, "name_search": true,
}

// readOnlyMethods are methods known not to change data. The Lua module lets
// scripts call them without a write grant.
var readOnlyMethods = map[string]bool{
	"search": true, "search_read": true, "read": true, "search_count": true,
	"fields_get": true, "name_search": true, "read_group": true,
	"formatted_read_group": true, "web_search_read": true, "web_read": true,
	"web_read_group": true, "search_fetch": true, "default_get": true,
	"name_get": true, "exists": true, "check_access_rights": true,
	"check_access": true, "check_access_rule": true, "has_access": true,
	"get_views": true, "fields_view_get": true, "context_get": true,
	"has_group": true, "get_formview_id": true, "get_formview_action": true,
}

// IsReadOnly reports whether method is known not to change data.
func IsReadOnly(method string) bool { return readOnlyMethods[method] }

// Call runs model.method(*args, **kwargs): execute_kw over XML-RPC, or the
// named-parameter form over JSON-2 (see the package doc for the mapping). The
// Odoo context goes in kwargs["context"]. Read methods are retried (see
// Config.Retries); every other method is sent exactly once. A fault fails
// this call only; a refused login or API key fails every later call of the
// Client unsent (see execute).
func (c *Client) Call(ctx context.Context, model, method string, args []any, kwargs map[string]any) (any, error) {
	return c.execute(ctx, model, method, func(ctx context.Context, uid int64) (any, error) {
		return c.tr.execute(ctx, uid, model, method, args, kwargs)
	})
}

// execute runs one ORM call with fn, logging in first when the transport
// needs a uid. A kept refusal fails the call unsent. A fault on the call
// fails that call alone: only a refused login (XML-RPC, see recheck) or a
// refused API key (JSON-2's 401) is kept for the later calls.
func (c *Client) execute(ctx context.Context, model, method string, fn func(ctx context.Context, uid int64) (any, error)) (any, error) {
	if model == "" || method == "" {
		return nil, errors.New("odoo: call needs a model and a method")
	}
	if err := c.refusedErr(); err != nil {
		return nil, err
	}
	var uid int64
	var gen uint64
	needsUID := c.tr.needsUID()
	if needsUID {
		u, g, err := c.authenticate(ctx)
		if err != nil {
			return nil, err
		}
		uid, gen = u, g
	}
	v, err := c.do(ctx, model, method, retryMethods[method], func(ctx context.Context) (any, error) {
		return fn(ctx, uid)
	})
	var f *Fault
	if needsUID && errors.As(err, &f) && f.Code == FaultAccessDenied {
		if aerr := c.recheck(ctx, gen); aerr != nil {
			return nil, aerr
		}
	}
	return v, err
}

// do runs one logical call: it takes a slot of the in-flight bound, applies
// the per-call timeout, and retries when allowed.
func (c *Client) do(ctx context.Context, model, method string, retry bool, fn func(context.Context) (any, error)) (any, error) {
	attempts := 1
	if retry {
		attempts += c.cfg.Retries
	}
	for i := 1; ; i++ {
		v, err := c.attempt(ctx, fn)
		if err == nil {
			return v, nil
		}
		var f *Fault
		if errors.As(err, &f) {
			f.Model, f.Method = model, method
			fromTraceback := f.Traceback != "" && f.Message == lastLine(f.Traceback)
			f.Traceback = c.scrub.clean(f.Traceback)
			if fromTraceback {
				// Scrub before taking the last line: a secret across
				// lines is not partly shown.
				f.Message = lastLine(f.Traceback)
			} else {
				f.Message = c.scrub.clean(f.Message)
			}
			var kr *keyRefused
			if errors.As(err, &kr) {
				c.refused(f)
			}
			return nil, f
		}
		var ae *AuthError
		if errors.As(err, &ae) {
			c.refused(ae)
			return nil, ae
		}
		if ctx.Err() != nil || i >= attempts || !retryable(err) {
			return nil, &CallError{Model: model, Method: method, Attempts: i, Err: c.scrub.scrubError(err)}
		}
		if werr := c.backoff(ctx, i); werr != nil {
			return nil, &CallError{Model: model, Method: method, Attempts: i, Err: c.scrub.scrubError(err)}
		}
	}
}

// attempt runs one try of a call: it waits for a slot of the in-flight
// bound (taking ctx), then runs fn under the per-call timeout. exchange
// gives the slot back as soon as the answer is read (an XML-RPC answer is
// decoded as it is read), so converting it does not hold a slot another
// script could use.
func (c *Client) attempt(ctx context.Context, fn func(context.Context) (any, error)) (any, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a free connection slot: %w", context.Cause(ctx))
	}
	slot := &slot{sem: c.sem}
	defer slot.release()
	callCtx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout, errCallTimeout{c.cfg.Timeout})
	defer cancel()
	v, err := fn(context.WithValue(callCtx, slotKey{}, slot))
	if err != nil && callCtx.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("%w (%v)", errCallTimeout{c.cfg.Timeout}, err)
	}
	return v, err
}

type errCallTimeout struct{ d time.Duration }

func (e errCallTimeout) Error() string   { return fmt.Sprintf("no answer within %v", e.d) }
func (e errCallTimeout) Timeout() bool   { return true }
func (e errCallTimeout) Is(t error) bool { return t == context.DeadlineExceeded }

// backoff waits before retry number i (1-based): base * 2^(i-1), capped at
// 30 * base, plus a random jitter of up to the same amount.
func (c *Client) backoff(ctx context.Context, i int) error {
	d := c.cfg.RetryBackoff << (i - 1)
	if limit := 30 * c.cfg.RetryBackoff; d > limit || d <= 0 {
		d = limit
	}
	d += rand.N(d + 1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// retryable tells transient failures (network, timeout, 5xx, a body cut
// short) from answers that would come back the same.
func retryable(err error) bool {
	var f *Fault
	var ae *AuthError
	var he *HTTPError
	var se *syntaxError
	switch {
	case errors.As(err, &f), errors.As(err, &ae):
		return false
	case errors.Is(err, ErrResponseTooLarge):
		return false
	case errors.As(err, &he):
		return he.Status >= 500
	case errors.As(err, &se):
		return false
	case errors.Is(err, errEncode):
		return false
	}
	return true
}

// errEncode marks a request that could not be encoded (never retried).
var errEncode = errors.New("cannot encode the request")

// slot is a taken place of the in-flight bound, released once.
type slot struct {
	sem  chan struct{}
	once sync.Once
}

func (s *slot) release() { s.once.Do(func() { <-s.sem }) }

type slotKey struct{}

// releaseSlot gives back the slot held by the call of ctx, if any.
func releaseSlot(ctx context.Context) {
	if s, ok := ctx.Value(slotKey{}).(*slot); ok {
		s.release()
	}
}
