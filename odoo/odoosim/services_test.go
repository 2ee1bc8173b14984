package odoosim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// Tests of the services scripting clients use besides execute_kw: the db
// service, the legacy XML-RPC route, read_group, the metadata models, the
// data rules on writes, the web routes' sessions and pages. The real
// clients run in clients_test.go.

func TestDBService(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	for _, tc := range []struct {
		method string
		args   []any
		want   any
		fault  string // last line of the fault string
	}{
		{"list", nil, []any{"demo"}, ""},
		{"server_version", nil, "17.0", ""},
		{"db_exist", []any{"demo"}, true, ""},
		{"db_exist", []any{"other"}, false, ""},
		{"list_lang", nil, []any{[]any{"en_US", "English (US)"}}, ""},
		// Methods that take the master password: the simulator has none.
		{"drop", []any{"admin", "demo"}, nil, "Access Denied"},
		{"dump", []any{"admin", "demo", "zip"}, nil, "Access Denied"},
		{"frob", nil, nil, "KeyError: 'Method not found: frob'"},
	} {
		got, f := xrpc(t, s.URL, "db", tc.method, tc.args...)
		switch {
		case tc.fault == "" && f != nil:
			t.Errorf("db.%s: fault %s", tc.method, f.String)
		case tc.fault != "" && (f == nil || lastLine(f.String) != tc.fault):
			t.Errorf("db.%s: %v %v, want fault %q", tc.method, got, f, tc.fault)
		case tc.fault == "" && !reflect.DeepEqual(got, tc.want):
			t.Errorf("db.%s = %v, want %v", tc.method, got, tc.want)
		}
	}
}

// legacyFault posts a call to /xmlrpc/<service> and returns its fault as
// Python's xmlrpc.client reads it: faultCode and faultString strings.
func legacyFault(t *testing.T, url, service, body string) (code, str string) {
	t.Helper()
	raw := postXML(t, url+"/xmlrpc/"+service, []byte(body))
	var resp struct {
		Members []struct {
			Name  string `xml:"name"`
			Value string `xml:"value>string"`
		} `xml:"fault>value>struct>member"`
	}
	if err := xmlUnmarshal(raw, &resp); err != nil || len(resp.Members) != 2 {
		t.Fatalf("not a fault: %v\n%s", err, raw)
	}
	return resp.Members[0].Value, resp.Members[1].Value
}

func TestLegacyXMLRPCFaults(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	call := func(args string) string {
		return "<methodCall><methodName>execute_kw</methodName><params>" +
			"<param><value>demo</value></param><param><value><int>2</int></value></param>" + args +
			"</params></methodCall>"
	}
	p := func(v string) string { return "<param><value>" + v + "</value></param>" }
	list := func(vs ...string) string {
		return "<array><data><value>" + strings.Join(vs, "</value><value>") + "</value></data></array>"
	}
	for _, tc := range []struct {
		name, body, code, str string
	}{
		{"missing record", call(p("admin") + p("res.partner") + p("write") + p(list(list("<int>999</int>"),
			"<struct><member><name>name</name><value>x</value></member></struct>"))),
			"warning -- MissingError\n\nRecord does not exist or has been deleted.\n(Record: res.partner(999,), User: 2)", ""},
		{"user error", call(p("admin") + p("account.move") + p("unlink") + p(list(list("<int>1</int>")))),
			"warning -- UserError\n\nYou cannot delete an item linked to a posted entry.", ""},
		{"access error", call(p("admin") + p("res.partner") + p("_private") + p(list())),
			"warning -- AccessError\n\nPrivate methods (such as _private) cannot be called remotely.", ""},
		{"access denied", call(p("wrong") + p("res.partner") + p("search") + p(list(list()))), "AccessDenied",
			"Access Denied"},
	} {
		code, str := legacyFault(t, s.URL, "object", tc.body)
		if code != tc.code || str != tc.str {
			t.Errorf("%s: fault (%q, %q), want (%q, %q)", tc.name, code, str, tc.code, tc.str)
		}
	}
	// Any other exception: its message as the code, the traceback as the string.
	code, str := legacyFault(t, s.URL, "nope", "<methodCall><methodName>x</methodName></methodCall>")
	if code != "nope" || lastLine(str) != "KeyError: 'nope'" {
		t.Errorf("unknown service: fault (%q, %q), want (\"nope\", a traceback ending with KeyError)", code, str)
	}
	// The legacy route is /xmlrpc/<service>: nothing deeper.
	resp, err := http.Post(s.URL+"/xmlrpc/object/x", "text/xml", strings.NewReader("<methodCall/>"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("/xmlrpc/object/x: HTTP %d, want 404", resp.StatusCode)
	}
}

func TestReadGroup(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	o := admin(t, s)
	posted := D(L("state", "=", "posted"))
	// Not lazy: every groupby at once, __count, no __context.
	got := rows(t, o.must("account.move", "read_group", []any{posted, []any{"amount_total:sum", "name:count"},
		[]any{"move_type", "company_id"}}, map[string]any{"lazy": false, "orderby": "amount_total desc", "limit": 2}))
	if len(got) != 2 {
		t.Fatalf("limit 2: %d groups", len(got))
	}
	g := got[0]
	keys := []string{}
	for k := range g {
		keys = append(keys, k)
	}
	if _, ok := g["__count"]; !ok || g["__context"] != nil || g["move_type"] == nil || g["company_id"] == nil ||
		g["name"] == nil {
		t.Errorf("non-lazy group = %v", g)
	}
	if a, b := g["amount_total"].(float64), got[1]["amount_total"].(float64); a < b {
		t.Errorf("orderby amount_total desc: %v before %v", a, b)
	}
	// Lazy with two groupbys: the first, the count named after it, and
	// the rest in __context.
	got = rows(t, o.must("account.move", "read_group", []any{posted, []any{"amount_total"},
		[]any{"invoice_date:year", "partner_id"}}, nil))
	want := map[string]any{"invoice_date:year": "2024", "invoice_date_count": int64(9), "amount_total": 18990.75,
		"__range":   map[string]any{"invoice_date:year": map[string]any{"from": "2024-01-01", "to": "2025-01-01"}},
		"__domain":  []any{"&", L("state", "=", "posted"), "&", L("invoice_date", ">=", "2024-01-01"), L("invoice_date", "<", "2025-01-01")},
		"__context": map[string]any{"group_by": []any{"partner_id"}}}
	if len(got) == 0 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("lazy read_group by year:\n got %v\nwant %v", got, want)
	}
	// No groupby: one group of every record.
	got = rows(t, o.must("account.move", "read_group", []any{D(L("id", "=", -1)), []any{"amount_total"}, []any{}}, nil))
	if len(got) != 1 || got[0]["__count"] != int64(0) {
		t.Errorf("read_group without groupby = %v, want one empty group", got)
	}
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{D(), []any{"amount_total"}, []any{"nope"}}, "ValueError: Invalid field 'nope' on model 'account.move'"},
		{[]any{D(), []any{"amount_total"}, []any{"line_ids"}}, "ValueError: Field account.move.line_ids is not a " +
			"stored field, only stored fields (regular or many2many) are valid for the 'groupby' parameter"},
		{[]any{D(), []any{"amount_total:median"}, []any{"state"}}, "ValueError: Invalid aggregate function 'median'."},
		{[]any{D(), []any{"amount_total"}, []any{"date:fortnight"}}, "ValueError: Granularity 'fortnight' is invalid"},
	} {
		if f := o.fault("account.move", "read_group", tc.args, nil); lastLine(f.String) != tc.want {
			t.Errorf("read_group%v: %s, want %s", tc.args, lastLine(f.String), tc.want)
		}
	}
	// A user without accounting rights cannot group moves either.
	demo := &odoo{t: t, url: s.URL, db: "demo", uid: 6, pw: "demo"}
	if f := demo.fault("account.move", "read_group", []any{D(), []any{}, []any{"state"}}, nil); f.Code != 4 {
		t.Errorf("read_group without rights: fault %d, want 4", f.Code)
	}
}

func TestMetadataModels(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	o := admin(t, s)
	users := rows(t, o.must("res.users", "search_read", []any{D()}, map[string]any{"fields": []any{"login", "name"},
		"context": map[string]any{"active_test": false}, "order": "id"}))
	logins := []string{}
	for _, u := range users {
		logins = append(logins, u["login"].(string))
	}
	if !reflect.DeepEqual(logins, []string{"__system__", "admin", "demo"}) {
		t.Errorf("res.users logins = %v, want OdooBot (archived), admin and demo", logins)
	}
	if got := o.must("res.users", "context_get", nil, nil); !reflect.DeepEqual(got,
		map[string]any{"lang": "en_US", "tz": "Europe/Brussels", "uid": int64(2)}) {
		t.Errorf("context_get = %v", got)
	}
	if f := o.fault("res.partner", "context_get", nil, nil); lastLine(f.String) !=
		"AttributeError: The method 'context_get' does not exist on the model 'res.partner'" {
		t.Errorf("context_get on res.partner: %s", lastLine(f.String))
	}
	demo := &odoo{t: t, url: s.URL, db: "demo", uid: 6, pw: "demo"}
	if got := demo.must("account.move", "check_access_rights", []any{"read"}, map[string]any{"raise_exception": false}); got != false {
		t.Errorf("check_access_rights without accounting rights = %v, want False", got)
	}
	if f := demo.fault("account.move", "check_access_rights", []any{"read"}, nil); f.Code != 4 {
		t.Errorf("check_access_rights raising: fault %d, want 4", f.Code)
	}
	models := rows(t, o.must("ir.model", "search_read", []any{D(L("model", "like", "account."))},
		map[string]any{"fields": []any{"model", "state", "transient"}}))
	if len(models) != 4 {
		t.Errorf("ir.model like account.: %v", models)
	}
	fields := rows(t, o.must("ir.model.fields", "search_read", []any{D(L("model_id.model", "=", "account.move"),
		L("ttype", "=", "monetary"))}, map[string]any{"fields": []any{"name"}}))
	if len(fields) < 4 {
		t.Errorf("monetary fields of account.move: %v", fields)
	}
	// The metadata is read-only.
	f := o.fault("ir.model", "write", []any{[]any{1}, map[string]any{"name": "x"}}, nil)
	if f.Code != 4 || !strings.Contains(f.String, "read-only") {
		t.Errorf("writing ir.model: fault %d %q, want an access error", f.Code, f.String)
	}
	// ir.model has the abstract field from 19 on.
	s19 := newFixtureServer(t, Options{Version: "19.0"})
	got := admin(t, s19).must("ir.model", "fields_get", []any{[]any{"abstract"}}, map[string]any{"attributes": []any{"type"}})
	if !reflect.DeepEqual(got, map[string]any{"abstract": map[string]any{"type": "boolean"}}) {
		t.Errorf("19.0 ir.model abstract = %v", got)
	}
}

func TestDataRules(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	o := admin(t, s)
	for _, tc := range []struct {
		name, model, method string
		args                []any
		want                string
	}{
		{"contact without a name", "res.partner", "create", []any{map[string]any{"email": "a@b.c"}},
			"The operation cannot be completed: Contacts require a name"},
		{"name removed from a contact", "res.partner", "write", []any{[]any{1}, map[string]any{"name": false}},
			"The operation cannot be completed: Contacts require a name"},
		{"partner cycle", "res.partner", "write", []any{[]any{5}, map[string]any{"parent_id": 11}},
			"You cannot create recursive Partner hierarchies."},
		{"own parent", "res.partner", "write", []any{[]any{1}, map[string]any{"parent_id": 1}},
			"You cannot create recursive Partner hierarchies."},
		{"currency code twice", "res.currency", "create", []any{map[string]any{"name": "EUR", "symbol": "€"}},
			"The operation cannot be completed: The currency code must be unique!"},
		{"country code twice", "res.country", "create", []any{map[string]any{"name": "Maroc bis", "code": "MA"}},
			"The operation cannot be completed: The code of the country must be unique!"},
		{"debit and credit", "account.move.line", "write", []any{[]any{1}, map[string]any{"debit": 5.0, "credit": 5.0}},
			"The operation cannot be completed: Wrong credit or debit value in accounting entry!"},
	} {
		f := o.fault(tc.model, tc.method, tc.args, nil)
		if f.Code != 2 || f.String != tc.want {
			t.Errorf("%s: fault %d %q, want 2 %q", tc.name, f.Code, f.String, tc.want)
		}
	}
	// An address needs no name; two writes that break no rule pass.
	id := o.must("res.partner", "create", []any{map[string]any{"type": "invoice", "parent_id": 1}}, nil)
	if _, ok := id.(int64); !ok {
		t.Errorf("an invoice address without a name: %v", id)
	}
	o.must("res.country", "write", []any{[]any{1}, map[string]any{"code": "MA"}}, nil) // its own code
}

// jsonrpcPost posts a JSON-RPC call with the cookies of jar (nil: none).
func jsonrpcPost(t *testing.T, c *http.Client, url string, params any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "params": params, "id": "a1"})
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST %s: HTTP %d %s", url, resp.StatusCode, raw)
	}
	if out["id"] != "a1" || out["jsonrpc"] != "2.0" {
		t.Errorf("POST %s: not an answer to a1: %v", url, out)
	}
	return out
}

func TestJSONRPCEdges(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	c := &http.Client{}
	out := jsonrpcPost(t, c, s.URL+"/jsonrpc", map[string]any{"service": "common", "method": "version"})
	if at(out, "error", "data", "message") != "RPC.jsonrpc() missing 1 required positional argument: 'args'" {
		t.Errorf("missing args: %v", out)
	}
	out = jsonrpcPost(t, c, s.URL+"/jsonrpc", map[string]any{"service": "nope", "method": "x", "args": []any{}})
	if at(out, "error", "data", "name") != "builtins.KeyError" || at(out, "error", "data", "message") != "'nope'" ||
		!reflect.DeepEqual(at(out, "error", "data", "arguments"), []any{"nope"}) {
		t.Errorf("unknown service: %v", out)
	}
	// Odoo answers a body that is not JSON with HTTP 400.
	for _, tc := range []struct{ ctype, body, want string }{
		{"application/json", "{nope", "Invalid JSON data"},
		{"application/json", "[1]", "Invalid JSON-RPC data"},
	} {
		resp, err := http.Post(s.URL+"/jsonrpc", tc.ctype, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(raw), tc.want) {
			t.Errorf("%q: HTTP %d %s, want 400 %s", tc.body, resp.StatusCode, raw, tc.want)
		}
	}
	// The X-Openerp-Session-Id header stands for the cookie.
	login := &http.Client{Jar: newJar(t)}
	jsonrpcPost(t, login, s.URL+"/web/session/authenticate", map[string]any{"db": "demo", "login": "admin", "password": "admin"})
	var sid string
	for _, ck := range login.Jar.Cookies(mustURL(t, s.URL)) {
		if ck.Name == "session_id" {
			sid = ck.Value
		}
	}
	if sid == "" {
		t.Fatal("authenticate set no session_id cookie")
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "params": map[string]any{"model": "res.partner",
		"method": "search_count", "args": []any{D()}, "kwargs": map[string]any{}}, "id": 1})
	req, _ := http.NewRequest("POST", s.URL+"/web/dataset/call_kw", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Openerp-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), `"result": 11`) {
		t.Errorf("call_kw with X-Openerp-Session-Id: %s", raw)
	}
	// A wrong database.
	out = jsonrpcPost(t, c, s.URL+"/web/session/authenticate", map[string]any{"db": "other", "login": "admin", "password": "admin"})
	if at(out, "error", "data", "name") != "odoo.exceptions.AccessError" || at(out, "error", "data", "message") != "Database not found." {
		t.Errorf("authenticate on another database: %v", out)
	}
}

func TestWebPages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ version, want string }{{"17.0", "/web/login?redirect=%2Fweb"}, {"18.0", "/web/login?redirect=%2Fodoo"}} {
		s := newFixtureServer(t, Options{Version: tc.version})
		resp, err := http.Head(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Request.URL.RequestURI() != tc.want {
			t.Errorf("%s: HEAD / ends at %s (HTTP %d), want %s", tc.version, resp.Request.URL, resp.StatusCode, tc.want)
		}
		if st := s.Sim().Stats(); st.Calls != 0 {
			t.Errorf("%s: the web pages were counted as calls: %+v", tc.version, st)
		}
	}
}

func xmlUnmarshal(b []byte, v any) error { return xml.Unmarshal(b, v) }

func newJar(t *testing.T) http.CookieJar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestKnobsOnJSONRPC(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	s.Sim().FailEvery(1)
	post := func(path string, params any) int {
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "params": params, "id": 1})
		resp, err := http.Post(s.URL+path, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Object calls fail on every route; the common service does not.
	if st := post("/jsonrpc", map[string]any{"service": "object", "method": "execute_kw",
		"args": []any{"demo", 2, "admin", "res.partner", "search", []any{D()}}}); st != 500 {
		t.Errorf("/jsonrpc object call with FailEvery(1): HTTP %d, want 500", st)
	}
	if st := post("/jsonrpc", map[string]any{"service": "common", "method": "version", "args": []any{}}); st != 200 {
		t.Errorf("/jsonrpc common call with FailEvery(1): HTTP %d, want 200", st)
	}
	if st := post("/web/dataset/call_kw", map[string]any{"model": "res.partner", "method": "search", "args": []any{D()},
		"kwargs": map[string]any{}}); st != 200 {
		// No session: refused before the knob, as Odoo checks auth='user' first.
		t.Errorf("call_kw without a session: HTTP %d, want 200 (an error answer)", st)
	}
	web := &http.Client{Jar: newJar(t)}
	jsonrpcPost(t, web, s.URL+"/web/session/authenticate", map[string]any{"db": "demo", "login": "admin", "password": "admin"})
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "params": map[string]any{"model": "res.partner",
		"method": "search", "args": []any{D()}, "kwargs": map[string]any{}}})
	resp, err := web.Post(s.URL+"/web/dataset/call_kw/res.partner/search", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("call_kw with a session and FailEvery(1): HTTP %d, want 500", resp.StatusCode)
	}
	if n := s.Sim().Calls(); n != 2 {
		t.Errorf("Calls() = %d, want 2 (the object call and call_kw)", n)
	}
	st := s.Sim().Stats()
	if st.Calls != 5 {
		t.Errorf("Stats().Calls = %d, want 5: %+v", st.Calls, st.ByCall)
	}
}
