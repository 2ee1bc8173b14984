package odoosim

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// JSON-RPC: POST /jsonrpc (the common, object and db services, from
// odoo/addons/base/controllers/rpc.py) and the web client's routes that
// scripting clients use (addons/web/controllers/webclient.py, session.py,
// dataset.py, database.py). A request is {"jsonrpc": "2.0", "method":
// "call", "params": {...}, "id": ...}; the answer is {"jsonrpc": "2.0",
// "id": ..., "result": ...} or {"jsonrpc": "2.0", "id": ..., "error":
// {"code", "message", "data"}}, always with HTTP 200, as
// JsonRPCDispatcher writes it (odoo/http.py).

const callKwPrefix = "/web/dataset/call_kw/"

// jsonRoutes are the web routes served besides /jsonrpc and
// /web/dataset/call_kw/<path>.
var jsonRoutes = map[string]bool{
	"/web/webclient/version_info":   true,
	"/web/session/authenticate":     true,
	"/web/session/get_session_info": true,
	"/web/session/check":            true,
	"/web/session/destroy":          true,
	"/web/session/get_lang_list":    true,
	"/web/database/list":            true,
	"/web/dataset/call_kw":          true,
}

// sessionMaxAge is http.get_session_max_inactivity's default (7 days).
const sessionMaxAge = 7 * 24 * time.Hour

// webSession is a web session (request.session): who logged in where.
type webSession struct {
	uid  int64
	last time.Time
}

// sessions are the simulator's web sessions, by session id.
type sessions struct {
	mu sync.Mutex
	by map[string]*webSession
}

func (ss *sessions) create(uid int64, now time.Time) string {
	b := make([]byte, 30)
	_, _ = rand.Read(b)
	sid := base64.RawURLEncoding.EncodeToString(b)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.by == nil {
		ss.by = map[string]*webSession{}
	}
	if len(ss.by) >= 1024 { // forget the sessions that expired
		for k, ws := range ss.by {
			if now.Sub(ws.last) > sessionMaxAge {
				delete(ss.by, k)
			}
		}
	}
	ss.by[sid] = &webSession{uid: uid, last: now}
	return sid
}

func (ss *sessions) get(sid string, now time.Time) (int64, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ws := ss.by[sid]
	if ws == nil {
		return 0, false
	}
	if now.Sub(ws.last) > sessionMaxAge {
		delete(ss.by, sid)
		return 0, false
	}
	ws.last = now
	return ws.uid, true
}

func (ss *sessions) drop(sid string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.by, sid)
}

// sessionID is the request's session id: the session_id cookie or the
// X-Openerp-Session-Id header (odoo/http.py, Request._get_session_and_dbname).
func sessionID(r *http.Request) string {
	if h := r.Header.Get("X-Openerp-Session-Id"); h != "" {
		return h
	}
	if c, err := r.Cookie("session_id"); err == nil {
		return c.Value
	}
	return ""
}

func sessionExpired() *pyErr {
	return newErr("odoo.http.SessionExpiredException", 1, http.StatusForbidden, "Session expired")
}

// jsonrpcCall is one JSON-RPC request being served.
type jsonrpcCall struct {
	s      *Sim
	w      http.ResponseWriter
	r      *http.Request
	wk     *work
	route  string
	params map[string]any
}

// serveJSONRPC serves one JSON-RPC route.
func (s *Sim) serveJSONRPC(w http.ResponseWriter, r *http.Request, route string) {
	if !jsonRoutes[route] && route != "/jsonrpc" && !strings.HasPrefix(route, callKwPrefix) {
		notFoundPage(w)
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	wk := &work{method: route}
	s.onWorker(w, r, wk, func(w http.ResponseWriter) {
		// JsonRPCDispatcher.is_compatible_with: a JSON body only.
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/json" && mt != "application/json-rpc" {
			http.Error(w, "Request inferred type is compatible with ['http'] but 'json' was forced by the route",
				http.StatusBadRequest)
			return
		}
		v, err := decodeJSON(body)
		if err != nil {
			http.Error(w, "Invalid JSON data", http.StatusBadRequest)
			return
		}
		req, ok := v.(map[string]any)
		if !ok {
			http.Error(w, "Invalid JSON-RPC data", http.StatusBadRequest)
			return
		}
		id := req["id"]
		params := map[string]any{}
		switch p := req["params"].(type) {
		case map[string]any:
			params = p
		case nil:
		default:
			s.writeJSONRPC(w, route, id, nil, typeErr("'%s' object is not a mapping", pyTypeName(p)))
			return
		}
		// The dispatcher takes the context out of the params.
		delete(params, "context")
		c := &jsonrpcCall{s: s, w: w, r: r, wk: wk, route: route, params: params}
		start := time.Now()
		result, err, answered := c.dispatch()
		if answered {
			return
		}
		if berr := s.busy(r.Context(), wk); berr != nil {
			s.abandon(w, berr)
			return
		}
		if werr := s.writeJSONRPC(w, route, id, result, err); werr == nil {
			s.log(slogDebug, "json-rpc call", "route", route, "model", wk.model, "method", wk.method,
				"duration", time.Since(start))
		}
	})
}

// bindRoute binds the params to a route's parameters, as Python binds
// keyword arguments to the controller method qual.
func bindRoute(qual string, params map[string]any, required []string, optional ...string) (map[string]any, error) {
	out := make(map[string]any, len(params))
	names := append(append([]string{}, required...), optional...)
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		found := false
		for _, n := range names {
			found = found || n == k
		}
		if !found {
			return nil, typeErr("%s() got an unexpected keyword argument %s", qual, pyRepr(k))
		}
		out[k] = params[k]
	}
	var missing []string
	for _, n := range required {
		if _, ok := out[n]; !ok {
			missing = append(missing, pyRepr(n))
		}
	}
	if len(missing) > 0 {
		return nil, typeErr("%s() missing %d required positional argument%s: %s", qual, len(missing),
			cond(len(missing) > 1, "s", ""), strings.Join(missing, " and "))
	}
	return out, nil
}

// dispatch runs the route. answered is true when a knob already answered
// (FailEvery, ResetEvery).
func (c *jsonrpcCall) dispatch() (result any, err error, answered bool) {
	s := c.s
	switch route := c.route; {
	case route == "/jsonrpc":
		// RPC.jsonrpc(service, method, args): dispatch_rpc.
		a, err := bindRoute("RPC.jsonrpc", c.params, []string{"service", "method", "args"})
		if err != nil {
			return nil, err, false
		}
		service, _ := a["service"].(string)
		method, _ := a["method"].(string)
		args, ok := a["args"].([]any)
		if !ok {
			if a["args"] != nil {
				return nil, typeErr("%s() argument after * must be an iterable, not %s", method,
					pyTypeName(a["args"])), false
			}
			args = []any{}
		}
		c.wk.method = method
		switch service {
		case "common":
			result, err = s.common(c.r, method, args)
		case "object":
			c.wk.model, c.wk.method = objectTarget(method, args)
			if !s.objectCall(c.w) {
				return nil, nil, true
			}
			result, err = s.object(c.wk, method, args)
		case "db":
			result, err = s.dbService(method, args)
		default:
			err = keyErr(service)
		}
		return result, err, false
	case route == "/web/webclient/version_info":
		if _, err := bindRoute("WebClient.version_info", c.params, nil); err != nil {
			return nil, err, false
		}
		return s.versionInfo(), nil, false
	case route == "/web/database/list":
		if _, err := bindRoute("Database.list", c.params, nil); err != nil {
			return nil, err, false
		}
		return []any{s.dbName}, nil, false
	case route == "/web/session/get_lang_list":
		return []any{[]any{"en_US", "English (US)"}}, nil, false
	case route == "/web/session/authenticate":
		return c.authenticate()
	}
	// The routes below are auth='user': they need a session.
	u := c.sessionUser()
	if u == nil {
		return nil, sessionExpired(), false
	}
	switch route := c.route; {
	case route == "/web/session/get_session_info":
		if _, err := bindRoute("Session.get_session_info", c.params, nil); err != nil {
			return nil, err, false
		}
		return s.sessionInfo(u), nil, false
	case route == "/web/session/check":
		return nil, nil, false
	case route == "/web/session/destroy":
		s.sessions.drop(sessionID(c.r))
		http.SetCookie(c.w, &http.Cookie{Name: "session_id", Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
		return nil, nil, false
	default: // /web/dataset/call_kw[/<path>]
		a, err := bindRoute("DataSet.call_kw", c.params, []string{"model", "method", "args", "kwargs"}, "path")
		if err != nil {
			return nil, err, false
		}
		model, _ := a["model"].(string)
		method, _ := a["method"].(string)
		c.wk.model, c.wk.method = model, method
		if !s.objectCall(c.w) {
			return nil, nil, true
		}
		args, ok := a["args"].([]any)
		if !ok {
			return nil, typeErr("call_kw() argument after * must be an iterable, not %s", pyTypeName(a["args"])), false
		}
		var kwargs map[string]any
		if kw, ok := a["kwargs"].(map[string]any); ok {
			kwargs = kw
		} else if a["kwargs"] != nil {
			return nil, typeErr("call_kw() argument after ** must be a mapping, not %s", pyTypeName(a["kwargs"])), false
		}
		if !isPrivate(method) && s.db.models[model] == nil {
			// check_method_name first (invoke refuses private methods),
			// then request.env[model], a KeyError for an unknown model.
			return nil, keyErr(model), false
		}
		result, err = s.invoke(c.wk, u, model, method, args, kwargs, false, nil)
		return result, err, false
	}
}

// sessionUser is the user of the request's web session, or nil.
func (c *jsonrpcCall) sessionUser() *User {
	sid := sessionID(c.r)
	if sid == "" {
		return nil
	}
	uid, ok := c.s.sessions.get(sid, time.Now())
	if !ok {
		return nil
	}
	return c.s.userByID(uid)
}

// authenticate is Session.authenticate (addons/web/controllers/session.py):
// a database the server does not serve is an AccessError, bad credentials
// an AccessDenied; success sets the session_id cookie and returns the
// session info.
func (c *jsonrpcCall) authenticate() (any, error, bool) {
	s := c.s
	a, err := bindRoute("Session.authenticate", c.params, []string{"db", "login", "password"}, "base_location")
	if err != nil {
		return nil, err, false
	}
	if db, _ := a["db"].(string); db != s.dbName {
		return nil, accessErr("Database not found."), false
	}
	login, _ := a["login"].(string)
	password, _ := a["password"].(string)
	uid := s.authenticate(c.r.RemoteAddr, login, password)
	if uid == 0 {
		return nil, accessDenied(), false
	}
	if old := sessionID(c.r); old != "" {
		s.sessions.drop(old) // the session is rotated at login
	}
	sid := s.sessions.create(uid, time.Now())
	http.SetCookie(c.w, &http.Cookie{Name: "session_id", Value: sid, Path: "/", MaxAge: int(sessionMaxAge.Seconds()),
		HttpOnly: true})
	return s.sessionInfo(s.userByID(uid)), nil, false
}

// sessionInfo is ir.http's session_info (addons/web/models/ir_http.py) for
// u, the keys a scripting client reads: uid, user_context, db,
// server_version, name, username, partner_id, user_companies...
func (s *Sim) sessionInfo(u *User) omap {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ur := s.db.users.get(u.ID)
	name, partner := u.Login, int64(0)
	if r, ok := ur.(*resUser); ok {
		name, partner = r.Name, r.PartnerID
	}
	v := s.versionInfo()
	companies := omap{}
	current := int64(0)
	e, _ := s.newEnv(u, map[string]any{})
	if e != nil {
		current = e.company
		for _, id := range e.companies {
			cr, ok := s.db.companies.get(id).(*Company)
			if !ok {
				continue
			}
			children := []int64{}
			for _, r := range s.db.companies.recs {
				if ch, ok := r.(*Company); ok && ch.ParentID == id && e.companyAllowed(ch.ID) {
					children = append(children, ch.ID)
				}
			}
			companies = append(companies, kv{strconv.FormatInt(id, 10), omap{{"id", id}, {"name", cr.Name},
				{"sequence", int64(10)}, {"child_ids", children}, {"parent_id", cond[any](cr.ParentID == 0, false, cr.ParentID)},
				{"currency_id", cr.CurrencyID}}})
		}
	}
	currencies := omap{}
	for _, r := range s.db.currencies.recs {
		if cu, ok := r.(*Currency); ok && cu.Active {
			currencies = append(currencies, kv{strconv.FormatInt(cu.ID, 10), omap{{"symbol", cu.Symbol},
				{"position", "after"}, {"digits", []any{int64(69), cu.DecimalPlaces}}}})
		}
	}
	admin := !u.NoAccounting && len(u.CompanyIDs) == 0
	return omap{
		{"uid", u.ID}, {"is_system", admin}, {"is_admin", admin}, {"is_public", false},
		{"is_internal_user", true}, {"user_context", s.userContext(u)}, {"db", s.dbName},
		{"server_version", v[0].v}, {"server_version_info", v[1].v},
		{"support_url", "https://www.odoo.com/buy"}, {"name", name}, {"username", u.Login},
		{"partner_display_name", s.db.displayName(s.db.models["res.partner"], partner)},
		{"partner_id", cond[any](partner == 0, nil, partner)}, {"web.base.url", "http://localhost:8069"},
		{"active_ids_limit", int64(20000)}, {"max_file_upload_size", int64(128 << 20)},
		{"home_action_id", false}, {"currencies", currencies}, {"bundle_params", omap{{"lang", "en_US"}}},
		{"user_companies", omap{{"current_company", current}, {"allowed_companies", companies},
			{"disallowed_ancestor_companies", omap{}}}},
		{"show_effect", true},
	}
}

// writeJSONRPC writes a JSON-RPC answer: the result (left out when it is
// None, as JsonRPCDispatcher._response does) or the error, which
// handle_error codes 100 for an expired session and 200 otherwise, with
// serialize_exception's data.
func (s *Sim) writeJSONRPC(w http.ResponseWriter, route string, id any, result any, err error) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	e := &xmlEnc{s: s, w: w, buf: make([]byte, 0, chunkSize+4096)}
	e.buf = append(e.buf, `{"jsonrpc": "2.0", "id": `...)
	e.buf = appendJSON(e.buf, id)
	if err != nil {
		var pe *pyErr
		if !errors.As(err, &pe) {
			pe = newErr("Exception", 1, 500, "%s", err.Error())
		}
		s.log(levelFor(pe), "json-rpc error", "error", pe.Error())
		switch {
		case route == "/jsonrpc":
			pe.onRoute(jsonrpcFrames, 2)
		case route == "/web/dataset/call_kw" || strings.HasPrefix(route, callKwPrefix):
			pe.onRoute(callKwFrames, len(defaultFrames)-1)
		}
		code, message := int64(200), "Odoo Server Error"
		switch {
		case pe.class == "odoo.http.SessionExpiredException":
			code, message = 100, "Odoo Session Expired"
		case pe.class == "werkzeug.exceptions.NotFound":
			code, message = 404, "404: Not Found"
		}
		e.buf = append(e.buf, `, "error": `...)
		e.buf = appendJSON(e.buf, omap{{"code", code}, {"message", message}, {"data", pe.serialize()}})
	} else if result != nil {
		e.buf = append(e.buf, `, "result": `...)
		s.encodeJSONResult(e, result)
	}
	e.buf = append(e.buf, '}')
	e.flush()
	return e.err
}

// serialize is serialize_exception (odoo/http.py).
func (e *pyErr) serialize() omap {
	return omap{{"name", e.pyName()}, {"debug", e.traceback()}, {"message", e.msg},
		{"arguments", e.arguments()}, {"context", omap{}}}
}

// serveWebPage answers the web client's pages a scripting client may
// visit to find the server (odooly resolves the redirects of its URL): "/"
// redirects to /web (Odoo 17) or /odoo (18+), which redirect to
// /web/login when there is no session; /web/login is a page. They are no
// calls: they are not counted. It reports whether it answered.
func (s *Sim) serveWebPage(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	home := cond(s.major >= 18, "/odoo", "/web")
	switch r.URL.Path {
	case "/":
		http.Redirect(w, r, home, http.StatusSeeOther)
	case "/web", "/odoo":
		if (&jsonrpcCall{s: s, r: r}).sessionUser() != nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<!DOCTYPE html>\n<html><head><title>Odoo</title></head><body></body></html>\n"))
			return true
		}
		http.Redirect(w, r, "/web/login?redirect="+url.QueryEscape(home), http.StatusSeeOther)
	case "/web/login":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!DOCTYPE html>\n<html><head><title>Login | Odoo</title></head><body>" +
			"<p>The Odoo simulator has no web client: log in through the external API.</p></body></html>\n"))
	default:
		return false
	}
	return true
}
