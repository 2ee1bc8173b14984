package odoosim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kolo/xmlrpc"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"17.0", "19.0"} {
		s := newFixtureServer(t, Options{Version: version})
		v, f := xrpc(t, s.URL, "common", "version")
		if f != nil {
			t.Fatalf("version: fault %v", f)
		}
		m := v.(map[string]any)
		if m["server_version"] != version || m["server_serie"] != version || m["protocol_version"] != int64(1) {
			t.Errorf("version() = %v", m)
		}
		info := m["server_version_info"].([]any)
		if info[0] != int64(map[string]int{"17.0": 17, "19.0": 19}[version]) || info[3] != "final" {
			t.Errorf("server_version_info = %v", info)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	cases := []struct {
		name, method string
		args         []any
		want         any
	}{
		{"password", "authenticate", []any{"demo", "admin", "admin", map[string]any{}}, int64(2)},
		{"API key as password", "authenticate", []any{"demo", "admin", "demo-api-key", map[string]any{}}, int64(2)},
		{"second user", "authenticate", []any{"demo", "demo", "demo", map[string]any{}}, int64(6)},
		{"login()", "login", []any{"demo", "admin", "admin"}, int64(2)},
		{"bad password is False, not a fault", "authenticate", []any{"demo", "admin", "nope", map[string]any{}}, false},
		{"unknown login", "authenticate", []any{"demo", "nobody", "admin", map[string]any{}}, false},
		{"empty password", "authenticate", []any{"demo", "admin", "", map[string]any{}}, false},
		{"another user's key", "authenticate", []any{"demo", "admin", "demo-user-key", map[string]any{}}, false},
	}
	for _, tc := range cases {
		v, f := xrpc(t, s.URL, "common", tc.method, tc.args...)
		if f != nil {
			t.Errorf("%s: fault %d %s", tc.name, f.Code, lastLine(f.String))
			continue
		}
		if v != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, v, tc.want)
		}
	}
	_, f := xrpc(t, s.URL, "common", "authenticate", "nodb", "admin", "admin", map[string]any{})
	if f == nil || f.Code != 1 || !strings.Contains(lastLine(f.String), `psycopg2.OperationalError`) ||
		!strings.Contains(f.String, `database "nodb" does not exist`) {
		t.Errorf("unknown database: %v", f)
	}
}

// TestLoginCooldown checks Odoo's brute-force protection: after the failures
// the right password is refused too, until the cooldown has passed.
func TestLoginCooldown(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := newFixtureServer(t, Options{LoginFailures: 3, LoginCooldown: time.Minute, Now: clock})
	auth := func(pw string) any {
		v, f := xrpc(t, s.URL, "common", "authenticate", "demo", "admin", pw, map[string]any{})
		if f != nil {
			t.Fatalf("authenticate: fault %v", f)
		}
		return v
	}
	if auth("admin") != int64(2) {
		t.Fatal("first login failed")
	}
	for i := 0; i < 3; i++ {
		if auth("wrong") != false {
			t.Fatal("bad password accepted")
		}
	}
	if got := auth("admin"); got != false {
		t.Errorf("during the cooldown the right password gave %v, want False", got)
	}
	// Calls with uid and password are not subject to the cooldown.
	admin(t, s).must("res.partner", "search_count", []any{D()}, nil)
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	if got := auth("admin"); got != int64(2) {
		t.Errorf("after the cooldown: %v, want 2", got)
	}
	// A success resets the count.
	auth("wrong")
	if got := auth("admin"); got != int64(2) {
		t.Errorf("after one failure: %v, want 2", got)
	}
}

func TestFaultCodes(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	o := admin(t, s)
	demo := &odoo{t: t, url: s.URL, db: "demo", uid: 6, pw: "demo"}
	cases := []struct {
		name   string
		o      *odoo
		model  string
		method string
		args   []any
		kw     map[string]any
		code   int
		want   string // last line of the fault string
	}{
		{"invalid field in fields", o, "account.move", "read", []any{[]any{1}, []any{"name", "foo"}}, nil, 1,
			"ValueError: Invalid field 'foo' on model 'account.move'"},
		{"invalid field in search_read", o, "account.move", "search_read", []any{D()}, map[string]any{"fields": []any{"foo"}}, 1,
			"ValueError: Invalid field 'foo' on model 'account.move'"},
		{"unknown method", o, "account.move", "frobnicate", []any{}, nil, 1,
			"AttributeError: The method 'frobnicate' does not exist on the model 'account.move'"},
		{"unexpected keyword", o, "account.move", "search", []any{D()}, map[string]any{"foo": 1}, 1,
			"TypeError: BaseModel.search() got an unexpected keyword argument 'foo'"},
		{"missing argument", o, "account.move", "search", []any{}, nil, 1,
			"TypeError: BaseModel.search() missing 1 required positional argument: 'domain'"},
		{"argument twice", o, "account.move", "search", []any{D()}, map[string]any{"domain": D()}, 1,
			"TypeError: BaseModel.search() got multiple values for argument 'domain'"},
		{"too many arguments", o, "account.move", "search", []any{D(), 0, 1, "id", 5}, nil, 1,
			"TypeError: BaseModel.search() takes from 2 to 5 positional arguments but 6 were given"},
		{"record method without ids", o, "account.move", "read", []any{}, nil, 1, "IndexError: tuple index out of range"},
		{"bad order", o, "account.move", "search", []any{D()}, map[string]any{"order": "name; drop table"}, 1,
			`ValueError: Invalid "order" specified (name; drop table). A valid "order" specification is a comma-separated list of valid field names (optionally followed by asc/desc for the direction)`},
		{"order on an unknown field", o, "account.move", "search", []any{D()}, map[string]any{"order": "foo desc"}, 1,
			"ValueError: Invalid field 'foo' on model 'account.move'"},
		{"negative limit", o, "account.move", "search", []any{D()}, map[string]any{"limit": -1}, 1,
			"psycopg2.errors.InvalidRowCountInLimitClause: LIMIT must not be negative"},
		{"integer out of range", o, "res.partner", "write", []any{[]any{4}, map[string]any{"color": int64(5_000_000_000)}}, nil, 1,
			"psycopg2.errors.NumericValueOutOfRange: integer out of range"},
		{"unknown model", o, "foo.bar", "search", []any{D()}, nil, 2, "Object foo.bar doesn't exist"},
		{"unlink a posted move", o, "account.move", "unlink", []any{[]any{1}}, nil, 2,
			"You cannot delete an item linked to a posted entry."},
		{"private method", o, "res.partner", "_read", []any{[]any{1}}, nil, 4,
			"Private methods (such as _read) cannot be called remotely."},
		{"unauthorized company", o, "account.move", "search", []any{D()},
			map[string]any{"context": map[string]any{"allowed_company_ids": []any{99}}}, 4,
			"Access to unauthorized or invalid companies."},
		{"no accounting rights", demo, "account.move", "search", []any{D()}, nil, 4,
			"Contact your administrator to request access if necessary."},
	}
	for _, tc := range cases {
		f := tc.o.fault(tc.model, tc.method, tc.args, tc.kw)
		if f.Code != tc.code {
			t.Errorf("%s: fault code %d, want %d (%s)", tc.name, f.Code, tc.code, f.String)
		}
		if got := lastLine(f.String); got != tc.want {
			t.Errorf("%s:\n got  %q\n want %q", tc.name, got, tc.want)
		}
		if tc.code == 1 && !strings.HasPrefix(f.String, "Traceback (most recent call last):") {
			t.Errorf("%s: code 1 without a traceback", tc.name)
		}
		if tc.code != 1 && strings.Contains(f.String, "Traceback") {
			t.Errorf("%s: code %d with a traceback", tc.name, tc.code)
		}
	}

	// write on a missing record: code 2 with Odoo's two-line message.
	f := o.fault("account.move", "write", []any{[]any{999}, map[string]any{"ref": "x"}}, nil)
	if f.Code != 2 || f.String != "Record does not exist or has been deleted.\n(Record: account.move(999,), User: 2)" {
		t.Errorf("write missing record: %d %q", f.Code, f.String)
	}
	// The demo user's error names the model and the group.
	f = demo.fault("account.move", "search", []any{D()}, nil)
	if !strings.HasPrefix(f.String, "You are not allowed to access 'Journal Entry' (account.move) records.") ||
		!strings.Contains(f.String, "Accounting/Billing") {
		t.Errorf("access error: %q", f.String)
	}
	// Bad credentials on execute_kw: code 3.
	for _, bad := range []*odoo{
		{t: t, url: s.URL, db: "demo", uid: 2, pw: "wrong"},
		{t: t, url: s.URL, db: "demo", uid: 99, pw: "admin"},
		{t: t, url: s.URL, db: "demo", uid: 6, pw: "admin"},
	} {
		f := bad.fault("res.partner", "search", []any{D()}, nil)
		if f.Code != 3 || f.String != "Access Denied" {
			t.Errorf("uid %d pw %q: %d %q", bad.uid, bad.pw, f.Code, f.String)
		}
	}
	// uid False (a failed authenticate passed on) is code 3 too.
	_, f = xrpc(t, s.URL, "object", "execute_kw", "demo", false, "admin", "res.partner", "search", []any{D()}, map[string]any{})
	if f == nil || f.Code != 3 {
		t.Errorf("uid False: %v", f)
	}
	// The API key works as the password.
	key := &odoo{t: t, url: s.URL, db: "demo", uid: 2, pw: "demo-api-key"}
	key.must("res.partner", "search", []any{D()}, nil)
	// A wrong database is an application error.
	wrongDB := &odoo{t: t, url: s.URL, db: "prod", uid: 2, pw: "admin"}
	if f := wrongDB.fault("res.partner", "search", []any{D()}, nil); f.Code != 1 {
		t.Errorf("wrong db: code %d", f.Code)
	}
}

// TestValueConventions checks what read returns for empty and set values
// of each field type.
func TestValueConventions(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	o := admin(t, s)
	read := func(model string, id int64, fields ...any) map[string]any {
		t.Helper()
		r := rows(t, o.must(model, "read", []any{[]any{id}, fields}, nil))
		if len(r) != 1 {
			t.Fatalf("read %s(%d): %d rows", model, id, len(r))
		}
		return r[0]
	}
	m := read("account.move", 10, "partner_id", "invoice_date", "invoice_date_due", "ref", "amount_residual",
		"amount_total", "line_ids", "date", "write_date", "posted_before", "payment_state")
	want := map[string]any{"id": int64(10), "partner_id": false, "invoice_date": false, "invoice_date_due": false,
		"ref": "Loyer mars", "amount_residual": 0.0, "amount_total": 1000.0, "line_ids": []any{int64(10), int64(11)},
		"date": "2024-03-31", "write_date": "2024-04-01 08:00:00", "posted_before": true, "payment_state": "not_paid"}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("move 10:\n got  %v\n want %v", m, want)
	}
	m = read("account.move", 3, "line_ids", "partner_id", "currency_id")
	if l, ok := m["line_ids"].([]any); !ok || len(l) != 0 {
		t.Errorf("empty one2many: %#v", m["line_ids"])
	}
	if !reflect.DeepEqual(m["partner_id"], []any{int64(8), "Old Vendor SARL"}) ||
		!reflect.DeepEqual(m["currency_id"], []any{int64(3), "MAD"}) {
		t.Errorf("many2one: %v %v", m["partner_id"], m["currency_id"])
	}
	m = read("account.move", 5, "name", "display_name")
	if m["name"] != "/" || m["display_name"] != "Draft Bill (* 5)" {
		t.Errorf("draft names: %v", m)
	}
	m = read("res.partner", 9, "display_name", "parent_id", "commercial_partner_id", "is_company", "email", "color")
	want = map[string]any{"id": int64(9), "display_name": "Paris Papeterie, Jean Dupont",
		"parent_id": []any{int64(5), "Paris Papeterie"}, "commercial_partner_id": []any{int64(5), "Paris Papeterie"},
		"is_company": false, "email": false, "color": int64(0)}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("partner 9:\n got  %v\n want %v", m, want)
	}
	// load=None (or anything but '_classic_read') sends many2one as ids.
	r := rows(t, o.must("account.move", "read", []any{[]any{1}, []any{"partner_id"}}, map[string]any{"load": false}))
	if r[0]["partner_id"] != int64(4) {
		t.Errorf("load=False partner_id = %v", r[0]["partner_id"])
	}
	// Control characters are dropped, markup escaped.
	m = read("res.partner", 10, "name", "street")
	if m["street"] != "12 Ruede la Paix" || m["name"] != "Café l'Étoile & Fils" {
		t.Errorf("strings: %q %q", m["street"], m["name"])
	}
	// Odoo never sends <nil/>: False is a boolean on the wire.
	body, _ := xmlrpc.EncodeMethodCall("execute_kw", "demo", 2, "admin", "account.move", "read",
		[]any{[]any{10}, []any{"partner_id", "invoice_date"}}, map[string]any{})
	raw := string(postXML(t, s.URL+"/xmlrpc/2/object", body))
	if strings.Contains(raw, "<nil") || strings.Count(raw, "<value><boolean>0</boolean></value>") != 2 {
		t.Errorf("False on the wire:\n%s", raw)
	}
}

// TestWireFormat compares a response byte for byte with what Odoo's
// marshaller (Python's xmlrpc.client) writes.
func TestWireFormat(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	body, _ := xmlrpc.EncodeMethodCall("execute_kw", "demo", 2, "admin", "res.country", "search_read",
		[]any{[]any{[]any{"code", "=", "CI"}}}, map[string]any{"fields": []any{"name", "phone_code"}})
	got := string(postXML(t, s.URL+"/xmlrpc/2/object", body))
	want := "<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>\n" +
		"<value><array><data>\n<value><struct>\n" +
		"<member>\n<name>id</name>\n<value><int>4</int></value>\n</member>\n" +
		"<member>\n<name>name</name>\n<value><string>Côte d'Ivoire</string></value>\n</member>\n" +
		"<member>\n<name>phone_code</name>\n<value><int>225</int></value>\n</member>\n" +
		"</struct></value>\n</data></array></value>\n" +
		"</param>\n</params>\n\n</methodResponse>\n"
	if got != want {
		t.Errorf("response:\n%s\nwant:\n%s", got, want)
	}
	body, _ = xmlrpc.EncodeMethodCall("execute_kw", "demo", 2, "nope", "res.country", "search", []any{D()})
	got = string(postXML(t, s.URL+"/xmlrpc/2/object", body))
	want = "<?xml version=\"1.0\"?>\n<methodResponse>\n<fault>\n<value><struct>\n" +
		"<member>\n<name>faultCode</name>\n<value><int>3</int></value>\n</member>\n" +
		"<member>\n<name>faultString</name>\n<value><string>Access Denied</string></value>\n</member>\n" +
		"</struct></value>\n</fault>\n\n</methodResponse>\n"
	if got != want {
		t.Errorf("fault:\n%s\nwant:\n%s", got, want)
	}
}

var tenth = 0.1 // a variable: constant arithmetic would be exact

func TestEncodeNumbers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		v    any
		want string
	}{
		{int64(7), "<value><int>7</int></value>\n"},
		{int64(2147483647), "<value><int>2147483647</int></value>\n"},
		{int64(2147483648), "<value><double>2147483648.0</double></value>\n"},
		{int64(-5_000_000_000), "<value><double>-5000000000.0</double></value>\n"},
		{1200.0, "<value><double>1200.0</double></value>\n"},
		{1500.75, "<value><double>1500.75</double></value>\n"},
		{tenth + 0.2, "<value><double>0.30000000000000004</double></value>\n"},
		{1e-05, "<value><double>1e-05</double></value>\n"},
		{0.0001, "<value><double>0.0001</double></value>\n"},
		{1e16, "<value><double>1e+16</double></value>\n"},
		{123456789012345.67, "<value><double>123456789012345.67</double></value>\n"},
		{-0.5, "<value><double>-0.5</double></value>\n"},
	}
	for _, tc := range cases {
		if got := string(appendXMLValue(nil, tc.v)); got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.v, got, tc.want)
		}
	}
}

// TestPythonClient reads the simulator with Python's own xmlrpc.client, the
// codec Odoo's users have, to prove the wire format is what it expects.
func TestPythonClient(t *testing.T) {
	t.Parallel()
	py := python(t)
	s := newFixtureServer(t, Options{})
	script := `
import json, sys, xmlrpc.client
url = sys.argv[1]
common = xmlrpc.client.ServerProxy(url + "/xmlrpc/2/common")
obj = xmlrpc.client.ServerProxy(url + "/xmlrpc/2/object")
out = {"version": common.version()["server_version"]}
uid = common.authenticate("demo", "admin", "admin", {})
out["uid"] = uid
out["bad"] = common.authenticate("demo", "admin", "x", {})
out["rows"] = obj.execute_kw("demo", uid, "admin", "account.move", "search_read",
    [[["partner_id.country_id.code", "=", "MA"], ["state", "=", "posted"]]],
    {"fields": ["name", "partner_id", "amount_residual", "invoice_date_due", "line_ids"], "order": "id"})
out["partner"] = obj.execute_kw("demo", uid, "admin", "res.partner", "read", [[10]], {"fields": ["name", "street", "country_id"]})
try:
    obj.execute_kw("demo", uid, "admin", "account.move", "search", [[["nope", "=", 1]]])
except xmlrpc.client.Fault as f:
    out["fault"] = [f.faultCode, f.faultString.strip().splitlines()[-1]]
print(json.dumps(out, ensure_ascii=False))
`
	cmd := exec.Command(py, "-c", script, s.URL)
	outb, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, outb)
	}
	var got map[string]any
	if err := json.Unmarshal(outb, &got); err != nil {
		t.Fatalf("python output: %v\n%s", err, outb)
	}
	want := map[string]any{
		"version": "17.0", "uid": 2.0, "bad": false,
		"rows": []any{
			map[string]any{"id": 1.0, "name": "BILL/2024/00001", "partner_id": []any{4.0, "Agadir Agro"},
				"amount_residual": 1200.0, "invoice_date_due": "2024-02-09", "line_ids": []any{1.0, 2.0, 3.0}},
			map[string]any{"id": 3.0, "name": "BILL/2024/00003", "partner_id": []any{8.0, "Old Vendor SARL"},
				"amount_residual": 0.0, "invoice_date_due": "2024-03-01", "line_ids": []any{}},
			map[string]any{"id": 4.0, "name": "BILL/2024/00004", "partner_id": []any{8.0, "Old Vendor SARL"},
				"amount_residual": 300.0, "invoice_date_due": "2024-04-04", "line_ids": []any{}},
			map[string]any{"id": 11.0, "name": "INV/2024/00001", "partner_id": []any{4.0, "Agadir Agro"},
				"amount_residual": 500.25, "invoice_date_due": "2024-05-02", "line_ids": []any{12.0, 13.0, 14.0}},
		},
		"partner": []any{map[string]any{"id": 10.0, "name": "Café l'Étoile & Fils", "street": "12 Ruede la Paix",
			"country_id": []any{2.0, "France"}}},
		"fault": []any{1.0, "ValueError: Invalid field account.move.nope in leaf ('nope', '=', 1)"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("python saw:\n %v\nwant\n %v", got, want)
	}
}

func TestHTTPEdges(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	resp, err := http.Get(s.URL + "/xmlrpc/2/object")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	resp, err = http.Post(s.URL+"/nowhere", "text/xml", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
	// JSON-2 is not served before Odoo 19.
	resp, err = http.Post(s.URL+"/json/2/res.partner/search", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("json/2 on 17.0: %d", resp.StatusCode)
	}
	// Unknown service, malformed XML, unknown method of a service: fault 1.
	for _, tc := range []struct{ path, body, want string }{
		{"/xmlrpc/2/nope", "<methodCall><methodName>x</methodName></methodCall>", "KeyError: 'nope'"},
		{"/xmlrpc/2/common", "<methodCall><methodName>version", "xml.parsers.expat.ExpatError:"},
		{"/xmlrpc/2/common", "<methodCall><methodName>frob</methodName></methodCall>", "KeyError: 'exp_frob'"},
		{"/xmlrpc/2/object", "<methodCall><methodName>execute_kw</methodName><params>" +
			"<param><value>demo</value></param><param><value><boolean>2</boolean></value></param></params></methodCall>",
			"TypeError: bad boolean value"},
	} {
		_, f := decodeXMLResponse(t, postXML(t, s.URL+tc.path, []byte(tc.body)))
		if f == nil || f.Code != 1 || !strings.HasPrefix(lastLine(f.String), tc.want) {
			t.Errorf("%s %q: %v", tc.path, tc.body, f)
		}
	}
	// The db service.
	v, f := xrpc(t, s.URL, "db", "list")
	if f != nil || !reflect.DeepEqual(v, []any{"demo"}) {
		t.Errorf("db.list: %v %v", v, f)
	}
}

// TestRequestValues sends values in every XML-RPC form a client may use.
func TestRequestValues(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	call := func(params string) (any, *xmlrpc.FaultError) {
		body := `<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName><params>` + params + `</params></methodCall>`
		return decodeXMLResponse(t, postXML(t, s.URL+"/xmlrpc/2/object", []byte(body)))
	}
	head := `<param><value>demo</value></param><param><value><i4>2</i4></value></param>` +
		`<param><value><string>admin</string></value></param>`
	cases := []struct {
		name, params string
		want         any
	}{
		{"typeless strings, i8 ids", head + `<param><value>account.move</value></param><param><value>search</value></param>` +
			`<param><value><array><data><value><array><data><value><array><data><value>id</value><value>in</value>` +
			`<value><array><data><value><i8>1</i8></value><value><int>2</int></value></data></array></value>` +
			`</data></array></value></data></array></value></data></array></value></param>`, []any{int64(2), int64(1)}},
		{"nil kwargs and doubles", head + `<param><value>account.move</value></param><param><value>search</value></param>` +
			`<param><value><array><data><value><array><data><value><array><data><value>amount_total</value><value>=</value>` +
			`<value><double>1.2e3</double></value></data></array></value></data></array></value></data></array></value></param>` +
			`<param><value><nil/></value></param>`, []any{int64(1)}},
		{"spaces kept in typeless strings", head + `<param><value>res.country</value></param><param><value>search</value></param>` +
			`<param><value><array><data><value><array><data><value><array><data><value>code</value><value>=</value>` +
			`<value> MA</value></data></array></value></data></array></value></data></array></value></param>`, []any{}},
		{"empty value is the empty string", head + `<param><value>res.country</value></param><param><value>search</value></param>` +
			`<param><value><array><data><value><array><data><value><array><data><value>code</value><value>=</value>` +
			`<value/></data></array></value></data></array></value></data></array></value></param>`, []any{}},
	}
	for _, tc := range cases {
		v, f := call(tc.params)
		if f != nil {
			t.Errorf("%s: fault %s", tc.name, lastLine(f.String))
			continue
		}
		if !reflect.DeepEqual(v, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, v, tc.want)
		}
	}
	// dateTime.iso8601 values are accepted as datetimes.
	v, f := call(head + `<param><value>account.move</value></param><param><value>search</value></param>` +
		`<param><value><array><data><value><array><data><value><array><data><value>write_date</value><value>=</value>` +
		`<value><dateTime.iso8601>20240320T16:30:00</dateTime.iso8601></value></data></array></value></data></array></value></data></array></value></param>` +
		`<param><value><struct><member><name>order</name><value>id</value></member></struct></value></param>`)
	if f != nil || !reflect.DeepEqual(v, []any{int64(2), int64(3)}) {
		t.Errorf("dateTime.iso8601: %v %v", v, f)
	}
}

func TestExecute(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	v, f := xrpc(t, s.URL, "object", "execute", "demo", 2, "admin", "res.country", "search", D(L("code", "=", "FR")))
	if f != nil || !reflect.DeepEqual(v, []any{int64(2)}) {
		t.Errorf("execute search: %v %v", v, f)
	}
	v, f = xrpc(t, s.URL, "object", "execute", "demo", 2, "admin", "res.country", "read", []any{2}, []any{"code"})
	if f != nil || !reflect.DeepEqual(v, []any{map[string]any{"id": int64(2), "code": "FR"}}) {
		t.Errorf("execute read: %v %v", v, f)
	}
	_, f = xrpc(t, s.URL, "object", "frob", "demo", 2, "admin")
	if f == nil || lastLine(f.String) != "NameError: Method not available frob" {
		t.Errorf("unknown object method: %v", f)
	}
	_ = bytes.MinRead
}
