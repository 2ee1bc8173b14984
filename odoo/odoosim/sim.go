package odoosim

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a simulator. The zero value serves database "demo",
// Odoo 17.0, 200 generated moves of seed 0 and the default users.
type Options struct {
	// Moves is the number of account.move records to generate (default 200;
	// negative: none). Ignored when Data is set.
	Moves int
	// Seed makes the generator deterministic: the same seed and Moves give
	// the same data.
	Seed int64
	// Data, when set, is served instead of generated data (a deep copy is
	// taken). Records must have ids; many2one ids must exist.
	Data *Data
	// DB is the database name clients must use (default "demo").
	DB string
	// Users who may log in (default: DefaultUsers()). They are also the
	// res.users records (with OdooBot, uid 1, archived, unless a user has
	// id 1); a user's partner is its first company's partner.
	Users []User
	// Version is the server_version reported (default "17.0"); what is
	// served follows it where Odoo changed: from "18.0", GET /web/version,
	// "/" redirecting to /odoo and Odoo 18's method signatures
	// (name_search takes domain); from "19.0", JSON-2
	// (/json/2/<model>/<method>) and the /doc-bearer model documents, and
	// ir.model's abstract field.
	Version string
	// Latency is added to every call (see also Sim.SetLatency), once its
	// request is read and before it waits for a worker: it models the
	// network, so a call in its latency does not hold a worker.
	Latency time.Duration
	// Workers is how many calls are served at once, as an Odoo server's
	// worker processes (--workers) serve one request each. Default 0:
	// unlimited, every call is served as soon as it arrives. With 1 the
	// simulator is a single-worker Odoo, where calls from concurrent
	// scripts queue. A call waits
	// for a free worker after its latency and holds it while its request is
	// decoded, while it runs, for its busy time (CostPerCall...) and while
	// its response is written; a call whose client goes away, or whose
	// simulator closes, stops waiting and is not served. Negative counts as
	// 0. Fixed once the simulator is built.
	Workers int
	// CostPerCall, CostPerExamined and CostPerRead model the time a real
	// server spends on a call: after running it, the worker stays busy for
	// CostPerCall + examined×CostPerExamined + read×CostPerRead (see Stats
	// for what is examined and read) before the response is written, so
	// that the wall time of a run on the simulator grows with the calls and
	// the records it asks for as it does on Odoo: a chatty script pays per
	// call, a search without an index-friendly domain pays per record
	// scanned, a wide read pays per row. Default 0 for each: no busy time,
	// calls are answered as fast as the simulator computes them. The busy
	// time ends early when the client goes away or the simulator closes; a
	// call a knob fails or resets (FailEvery, ResetEvery) has none.
	// Negative counts as 0. Sim.SetCost changes them while serving. For
	// example, Workers 1, Latency 50ms, CostPerCall 2ms, CostPerExamined
	// 5µs and CostPerRead 100µs stand for a single-worker Odoo across a
	// network (the figures are illustrative, not measured).
	CostPerCall     time.Duration
	CostPerExamined time.Duration
	CostPerRead     time.Duration
	// LoginCooldown and LoginFailures mimic Odoo's brute-force protection:
	// after LoginFailures failed authentications from one address (default
	// 5), authenticate returns False for LoginCooldown (default 60s), even
	// with the right password. A negative LoginCooldown disables it.
	LoginCooldown time.Duration
	LoginFailures int
	// Now is the clock for write_date and create_date (default time.Now).
	Now func() time.Time
	// Indexes adds indexes to the simulated database, "model.field" (for
	// example "account.move.write_date", which incremental readers want
	// and Odoo does not create): a search whose domain's top-level terms
	// compare an indexed field looks only at the records they let through,
	// and so examines fewer (see Stats). Odoo's own indexes (id,
	// account.move.line's move_id) are always there. A name that is not a
	// stored field makes NewHandler panic.
	Indexes []string
	// Logger, when set, logs every call at debug level and errors at info.
	Logger *slog.Logger
}

// User is an Odoo user. Password and APIKey are both accepted as the
// password of XML-RPC calls; JSON-2 takes only the API key.
type User struct {
	ID    int64
	Login string
	// Name is the user's name (default: the login).
	Name     string
	Password string
	APIKey   string
	// CompanyIDs are the companies the user may access (nil: all).
	CompanyIDs []int64
	// NoAccounting denies the accounting models (journals, accounts, moves
	// and their lines): calls on them fail with an access error (fault 4).
	NoAccounting bool
}

// DefaultUsers are the users of a simulator without Options.Users: the
// administrator (uid 2, login admin, password admin, API key demo-api-key,
// named Mitchell Admin), and an employee without accounting rights limited
// to company 1 (uid 6, login demo, password demo, API key demo-user-key,
// named Marc Demo), as in Odoo's demo data.
func DefaultUsers() []User {
	return []User{
		{ID: 2, Login: "admin", Name: "Mitchell Admin", Password: "admin", APIKey: "demo-api-key"},
		{ID: 6, Login: "demo", Name: "Marc Demo", Password: "demo", APIKey: "demo-user-key", CompanyIDs: []int64{1},
			NoAccounting: true},
	}
}

// Sim is an Odoo server in memory. It implements http.Handler; its knobs
// are safe for concurrent use while it serves.
type Sim struct {
	opts    Options
	dbName  string
	version string
	major   int
	users   []User
	logger  *slog.Logger

	mu sync.RWMutex // guards db
	db *db

	latency    atomic.Int64
	failEvery  atomic.Int64
	resetEvery atomic.Int64
	calls      atomic.Int64

	// The cost model (workers.go) and the stats (stats.go).
	workers      chan struct{} // a token per busy worker; nil: unlimited
	costCall     atomic.Int64
	costExamined atomic.Int64
	costRead     atomic.Int64
	stats        statsBook
	waiting      atomic.Int64 // calls waiting for a worker, for tests
	serving      atomic.Int64 // calls holding a worker, for tests

	hangMu sync.Mutex
	hangCh chan struct{} // non-nil while hanging; closed by Hang(false)

	closeOnce sync.Once
	closed    chan struct{}
	inflight  sync.WaitGroup
	active    atomic.Int64 // requests being served, for tests

	loginMu  sync.Mutex
	failures map[string]loginFailure

	sessions sessions // web sessions (/web/session/authenticate)
}

type loginFailure struct {
	count int
	last  time.Time
}

// NewHandler builds a simulator to serve on an address of one's choosing
// (http.Serve(ln, sim)). It panics if Options.Data is inconsistent.
func NewHandler(opts Options) *Sim {
	if opts.DB == "" {
		opts.DB = "demo"
	}
	if opts.Version == "" {
		opts.Version = "17.0"
	}
	if opts.Users == nil {
		opts.Users = DefaultUsers()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LoginFailures == 0 {
		opts.LoginFailures = 5
	}
	if opts.LoginCooldown == 0 {
		opts.LoginCooldown = 60 * time.Second
	}
	var data *Data
	if opts.Data != nil {
		data = opts.Data.clone()
	} else {
		n := opts.Moves
		if n == 0 {
			n = 200
		}
		data = Generate(max(n, 0), opts.Seed)
	}
	major, _ := strconv.Atoi(strings.SplitN(opts.Version, ".", 2)[0])
	d, err := newDB(data, opts.Now, opts.Users, major, opts.Indexes)
	if err != nil {
		panic(err.Error())
	}
	s := &Sim{opts: opts, dbName: opts.DB, version: opts.Version, major: major, users: opts.Users,
		logger: opts.Logger, db: d, closed: make(chan struct{}), failures: map[string]loginFailure{}}
	s.latency.Store(int64(opts.Latency))
	if opts.Workers > 0 {
		s.workers = make(chan struct{}, opts.Workers)
	}
	s.SetCost(opts.CostPerCall, opts.CostPerExamined, opts.CostPerRead)
	return s
}

// SetLatency sets the delay added to every call.
func (s *Sim) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// FailEvery makes every nth object call (execute_kw and execute on any
// route, call_kw, JSON-2) fail with an HTTP 500 page; 0 turns it off.
func (s *Sim) FailEvery(n int) { s.failEvery.Store(int64(max(n, 0))) }

// ResetEvery makes every nth object call end with the TCP connection reset
// (closed with SO_LINGER 0) and no response; 0 turns it off.
func (s *Sim) ResetEvery(n int) { s.resetEvery.Store(int64(max(n, 0))) }

// Hang makes calls block, once their request is read, until the client goes
// away (its context ends), Hang(false) is called or the simulator closes.
func (s *Sim) Hang(on bool) {
	s.hangMu.Lock()
	defer s.hangMu.Unlock()
	switch {
	case on && s.hangCh == nil:
		s.hangCh = make(chan struct{})
	case !on && s.hangCh != nil:
		close(s.hangCh)
		s.hangCh = nil
	}
}

// Calls is the number of object calls received, including those a knob
// failed or reset. Unlike Stats it counts object calls only and is never
// reset.
func (s *Sim) Calls() int64 { return s.calls.Load() }

// Snapshot returns a deep copy of all records.
func (s *Sim) Snapshot() *Data {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.snapshot()
}

// DB is the database name clients must use.
func (s *Sim) DB() string { return s.dbName }

// Close releases blocked calls (hang, latency, waiting for a worker, busy)
// and makes new calls fail, then waits for the calls in progress to end.
// The stats stay readable.
func (s *Sim) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.inflight.Wait()
}

// wait sleeps d, or until ctx ends or the simulator closes.
func (s *Sim) wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return errClosed
	}
}

var errClosed = errors.New("odoosim: simulator closed")

func (s *Sim) hang(ctx context.Context) error {
	s.hangMu.Lock()
	ch := s.hangCh
	s.hangMu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return errClosed
	}
}

// maxBody caps request bodies.
const maxBody = 64 << 20

// ServeHTTP serves XML-RPC (/xmlrpc/2/<service> and the legacy
// /xmlrpc/<service>), JSON-RPC (/jsonrpc and the web routes of jsonrpc.go),
// from version 19 JSON-2 (/json/2/<model>/<method>) and the model
// documents (docapi.go), and the simulator's own GET /sim/stats and POST
// /sim/stats/reset (see Stats). The package doc lists what each serves.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == statsPath || r.URL.Path == statsResetPath {
		s.serveStats(w, r)
		return
	}
	select {
	case <-s.closed:
		http.Error(w, "simulator closed", http.StatusServiceUnavailable)
		return
	default:
	}
	s.inflight.Add(1)
	s.active.Add(1)
	defer func() {
		s.active.Add(-1)
		s.inflight.Done()
	}()
	path := r.URL.Path
	if s.serveWebPage(w, r) {
		return
	}
	switch {
	case strings.HasPrefix(path, "/xmlrpc/2/"):
		s.serveXMLRPC(w, r, strings.TrimPrefix(path, "/xmlrpc/2/"), false)
	case strings.HasPrefix(path, "/xmlrpc/") && !strings.Contains(path[len("/xmlrpc/"):], "/") && len(path) > len("/xmlrpc/"):
		s.serveXMLRPC(w, r, strings.TrimPrefix(path, "/xmlrpc/"), true)
	case path == "/jsonrpc" || jsonRoutes[path] || strings.HasPrefix(path, callKwPrefix):
		s.serveJSONRPC(w, r, path)
	case (strings.HasPrefix(path, docBearerPrefix) || strings.HasPrefix(path, docPrefix)) && s.major >= 19:
		s.serveDoc(w, r)
	case (path == "/json/2" || strings.HasPrefix(path, "/json/2/")) && s.major >= 19:
		s.serveJSON2(w, r)
	case path == "/web/version" && s.major >= 18:
		wk := &work{method: "/web/version"}
		s.onWorker(w, r, wk, func(w http.ResponseWriter) {
			if err := s.busy(r.Context(), wk); err != nil {
				s.abandon(w, err)
				return
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write(appendJSON(nil, s.versionInfo()))
		})
	default:
		notFoundPage(w)
	}
}

func notFoundPage(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"+
		"<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n")
}

func internalErrorPage(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"+
		"<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete "+
		"your request. Either the server is overloaded or there is an error in the application.</p>\n")
}

// readBody reads the request, then applies latency and hang. ok is false
// when the call must not be answered (client gone or simulator closed).
func (s *Sim) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, false
	}
	if len(body) > maxBody {
		http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	if err := s.wait(r.Context(), time.Duration(s.latency.Load())); err != nil {
		s.abandon(w, err)
		return nil, false
	}
	if err := s.hang(r.Context()); err != nil {
		s.abandon(w, err)
		return nil, false
	}
	return body, true
}

func (s *Sim) abandon(w http.ResponseWriter, err error) {
	if errors.Is(err, errClosed) {
		http.Error(w, "simulator closed", http.StatusServiceUnavailable)
	}
}

// objectCall counts an object call and applies the fail and reset knobs.
// It returns false when the knob answered.
func (s *Sim) objectCall(w http.ResponseWriter) bool {
	n := s.calls.Add(1)
	if k := s.resetEvery.Load(); k > 0 && n%k == 0 {
		resetConn(w)
		return false
	}
	if k := s.failEvery.Load(); k > 0 && n%k == 0 {
		internalErrorPage(w)
		return false
	}
	return true
}

func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if errors.Is(err, http.ErrNotSupported) {
		internalErrorPage(w)
		return
	}
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func (s *Sim) versionInfo() omap {
	info := []any{int64(s.major), int64(0), int64(0), "final", int64(0), ""}
	if parts := strings.Split(s.version, "."); len(parts) > 1 {
		if n, err := strconv.Atoi(parts[1]); err == nil {
			info[1] = int64(n)
		}
	}
	return omap{{"server_version", s.version}, {"server_version_info", info},
		{"server_serie", s.version}, {"protocol_version", int64(1)}}
}

// --- authentication ------------------------------------------------------------

func (s *Sim) userByID(uid int64) *User {
	for i := range s.users {
		if s.users[i].ID == uid {
			return &s.users[i]
		}
	}
	return nil
}

func checkSecret(u *User, secret string) bool {
	return secret != "" && (secret == u.Password || (u.APIKey != "" && secret == u.APIKey))
}

// authenticate is common.authenticate: the uid, or 0 (False) for bad
// credentials or while the address is in its login cooldown.
func (s *Sim) authenticate(remote, login, password string) int64 {
	ip := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		ip = h
	}
	now := s.opts.Now()
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	if s.opts.LoginCooldown > 0 {
		f := s.failures[ip]
		if f.count >= s.opts.LoginFailures && now.Sub(f.last) < s.opts.LoginCooldown {
			s.log(slog.LevelInfo, "login attempt ignored: too many failures", "login", login, "failures", f.count)
			return 0
		}
	}
	for i := range s.users {
		u := &s.users[i]
		if u.Login == login && checkSecret(u, password) {
			delete(s.failures, ip)
			return u.ID
		}
	}
	f := s.failures[ip]
	s.failures[ip] = loginFailure{count: f.count + 1, last: now}
	return 0
}

func (s *Sim) log(level slog.Level, msg string, args ...any) {
	if s.logger != nil {
		s.logger.Log(context.Background(), level, msg, args...)
	}
}

// changePassword is res.users.change_password(old_passwd, new_passwd), the
// one res.users method the simulator serves: a wrong old password raises
// AccessDenied as Odoo does, which is fault 3 over XML-RPC and HTTP 403
// over JSON-2 (AccessDenied.http_status in Odoo 18+), while the session
// stays good. The simulator's users keep their passwords: the right old
// password gets a UserError saying so.
func changePassword(u *User, args []any, kwargs map[string]any, json2 bool) (any, error) {
	kw := make(map[string]any, len(kwargs))
	for k, v := range kwargs {
		if k != "context" {
			kw[k] = v
		}
	}
	a, err := bind("ResUsers.change_password", []param{{name: "old_passwd", req: true}, {name: "new_passwd", req: true}}, args, kw, json2)
	if err != nil {
		return nil, err
	}
	old, _ := a["old_passwd"].(string)
	if old == "" || old != u.Password {
		e := accessDenied()
		e.status = http.StatusForbidden
		return nil, e
	}
	return nil, userErr("The simulator does not change passwords.")
}

// --- dispatch of ORM calls -------------------------------------------------------

// isPrivate is check_method_name: names starting with _ and init.
func isPrivate(name string) bool { return strings.HasPrefix(name, "_") || name == "init" }

// invoke runs model.method for user u; the records it examines and reads
// go to wk. For XML-RPC, args are positional (ids first for record
// methods); for JSON-2, ids and kwargs are separate.
func (s *Sim) invoke(wk *work, u *User, modelName, method string, args []any, kwargs map[string]any,
	json2 bool, ids []int64) (any, error) {
	if isPrivate(method) {
		if s.major >= 19 {
			return nil, accessErr("Private methods (such as '%s.%s') cannot be called remotely.", modelName, method)
		}
		return nil, accessErr("Private methods (such as %s) cannot be called remotely.", method)
	}
	if modelName == "res.users" && method == "change_password" {
		return changePassword(u, args, kwargs, json2)
	}
	m := s.db.models[modelName]
	if m == nil {
		if json2 {
			return nil, httpErr(404, "the model %s does not exist", pyRepr(modelName))
		}
		return nil, userErr("Object %s doesn't exist", modelName)
	}
	def := methods[method]
	if def != nil && def.model != "" && def.model != modelName {
		def = nil // a method of another model
	}
	if def == nil {
		if json2 {
			return nil, httpErr(404, "The method '%s.%s' does not exist", modelName, method)
		}
		if s.major >= 19 {
			return nil, attributeErr("The method '%s.%s' does not exist", modelName, method)
		}
		return nil, attributeErr("The method '%s' does not exist on the model '%s'", method, modelName)
	}
	var ctx map[string]any
	if kwargs != nil {
		if c, ok := kwargs["context"]; ok {
			switch cv := c.(type) {
			case map[string]any:
				ctx = cv
			case nil:
			default:
				return nil, typeErr("context must be a dict, not %s", pyRepr(c))
			}
			rest := make(map[string]any, len(kwargs))
			for k, v := range kwargs {
				if k != "context" {
					rest[k] = v
				}
			}
			kwargs = rest
		}
	}
	if ctx == nil {
		ctx = map[string]any{}
	}
	if !json2 && def.api == "records" {
		if len(args) == 0 {
			return nil, newErr("IndexError", 1, 500, "tuple index out of range")
		}
		var err error
		ids, err = asIDList(args[0])
		if err != nil {
			return nil, err
		}
		args = args[1:]
	}
	if json2 && def.api != "records" && len(ids) > 0 {
		return nil, httpErr(422, "cannot call %s.%s with ids", modelName, method)
	}
	a, err := bind("BaseModel."+method, def.params(s.major), args, kwargs, json2)
	if err != nil {
		return nil, err
	}
	if def.write {
		s.mu.Lock()
		defer s.mu.Unlock()
		// One call is one transaction: every record it writes gets the
		// same write_date, its start time.
		s.db.at = stampOf(s.opts.Now())
		defer func() { s.db.at = "" }()
	} else {
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	e, err := s.newEnv(u, ctx)
	if err != nil {
		return nil, err
	}
	if err := e.checkAccess(m, def.operation); err != nil {
		return nil, err
	}
	c := &call{s: s, d: s.db, e: e, w: wk, m: m, ids: ids, a: a, json2: json2}
	return def.run(c)
}
