package odoosim

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func num(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = num(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = num(x[k])
		}
	}
	return v
}

func TestJSON2(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{Version: "19.0"})
	const key = "demo-api-key"
	call := func(model, method string, body any, headers ...string) (int, any) {
		t.Helper()
		st, v, _ := json2(t, s.URL, model, method, key, body, headers...)
		return st, num(v)
	}
	ok := func(model, method string, body any) any {
		t.Helper()
		st, v := call(model, method, body)
		if st != 200 {
			t.Fatalf("%s.%s: HTTP %d %v", model, method, st, v)
		}
		return v
	}
	got := ok("account.move", "search_read", map[string]any{
		"domain": D(L("partner_id.country_id.code", "=", "FR"), L("state", "=", "posted")),
		"fields": []any{"name", "partner_id", "amount_total", "invoice_date", "ref"}, "order": "id"})
	want := []any{
		map[string]any{"id": int64(6), "name": "INV/2024/00001", "partner_id": []any{int64(9), "Paris Papeterie, Jean Dupont"},
			"amount_total": 240.0, "invoice_date": "2024-01-20", "ref": false},
		map[string]any{"id": int64(7), "name": "INV/2024/00002", "partner_id": []any{int64(5), "Paris Papeterie"},
			"amount_total": 120.0, "invoice_date": "2024-02-01", "ref": false},
		map[string]any{"id": int64(9), "name": "RINV/2024/00001", "partner_id": []any{int64(10), "Café l'Étoile & Fils"},
			"amount_total": 30.0, "invoice_date": "2024-02-20", "ref": false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("search_read:\n got  %v\n want %v", got, want)
	}
	if got := ok("account.move", "read", map[string]any{"ids": []any{3, 999}, "fields": []any{"line_ids", "partner_id"}}); !reflect.DeepEqual(got,
		[]any{map[string]any{"id": int64(3), "line_ids": []any{}, "partner_id": []any{int64(8), "Old Vendor SARL"}}}) {
		t.Errorf("read: %v", got)
	}
	if got := ok("account.move", "search_count", map[string]any{"domain": D(L("state", "=", "draft"))}); got != int64(1) {
		t.Errorf("search_count: %v", got)
	}
	if got := ok("res.partner", "search", map[string]any{"domain": D(), "limit": 3, "order": "id",
		"context": map[string]any{"active_test": false}}); !reflect.DeepEqual(got, []any{int64(1), int64(2), int64(3)}) {
		t.Errorf("search: %v", got)
	}
	// Odoo 18+: name_search takes domain.
	if got := ok("res.partner", "name_search", map[string]any{"name": "agadir", "domain": D()}); !reflect.DeepEqual(got,
		[]any{[]any{int64(4), "Agadir Agro"}}) {
		t.Errorf("name_search: %v", got)
	}
	if got := ok("res.partner", "create", map[string]any{"vals_list": []any{map[string]any{"name": "JSON SA"}}}); !reflect.DeepEqual(got, []any{int64(13)}) {
		t.Errorf("create: %v", got)
	}
	if got := ok("res.partner", "write", map[string]any{"ids": []any{13}, "vals": map[string]any{"name": "JSON \"2\" SA\u0007"}}); got != true {
		t.Errorf("write: %v", got)
	}
	// The control character a JSON client could send is dropped by XML-RPC
	// and escaped by JSON.
	if got := ok("res.partner", "read", map[string]any{"ids": []any{13}, "fields": []any{"name"}}); !reflect.DeepEqual(got,
		[]any{map[string]any{"id": int64(13), "name": "JSON \"2\" SA\u0007"}}) {
		t.Errorf("read back: %v", got)
	}
	r := rows(t, admin(t, s).must("res.partner", "read", []any{[]any{13}, []any{"name"}}, nil))
	if r[0]["name"] != `JSON "2" SA` {
		t.Errorf("XML-RPC read of the same: %q", r[0]["name"])
	}
	if got := ok("res.partner", "unlink", map[string]any{"ids": []any{13}}); got != true {
		t.Errorf("unlink: %v", got)
	}
	fg := ok("account.move", "fields_get", map[string]any{"allfields": []any{"amount_total"}, "attributes": []any{"type"}})
	if !reflect.DeepEqual(fg, map[string]any{"amount_total": map[string]any{"type": "monetary"}}) {
		t.Errorf("fields_get: %v", fg)
	}
	// The database header is optional; when given it must match.
	if st, _ := call("res.country", "search", map[string]any{"domain": D()}, "X-Odoo-Database", "demo"); st != 200 {
		t.Errorf("X-Odoo-Database demo: %d", st)
	}
	// XML-RPC stays served.
	if v := admin(t, s).must("res.country", "search_count", []any{D()}, nil); v != int64(4) {
		t.Errorf("XML-RPC on 19.0: %v", v)
	}
	// /web/version
	resp, err := http.Get(s.URL + "/web/version")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"server_version": "19.0"`) {
		t.Errorf("/web/version: %s", b)
	}
}

func TestJSON2Errors(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{Version: "19.0"})
	const key = "demo-api-key"
	cases := []struct {
		name, model, method, key string
		body                     any
		headers                  []string
		status                   int
		errName, message         string
	}{
		{"no bearer", "res.partner", "search", "", map[string]any{"domain": D()}, nil, 401,
			"odoo.http.SessionExpiredException", "Session expired"},
		{"bad key", "res.partner", "search", "nope", map[string]any{"domain": D()}, nil, 401,
			"werkzeug.exceptions.Unauthorized", "Invalid apikey"},
		{"password is not a key", "res.partner", "search", "admin", map[string]any{"domain": D()}, nil, 401,
			"werkzeug.exceptions.Unauthorized", "Invalid apikey"},
		{"private method", "res.partner", "_read", key, map[string]any{}, nil, 403,
			"odoo.exceptions.AccessError", "Private methods (such as 'res.partner._read') cannot be called remotely."},
		{"no accounting rights", "account.move", "search", "demo-user-key", map[string]any{"domain": D()}, nil, 403,
			"odoo.exceptions.AccessError", ""},
		{"unauthorized company", "account.move", "search", key, map[string]any{"domain": D(),
			"context": map[string]any{"allowed_company_ids": []any{42}}}, nil, 403,
			"odoo.exceptions.AccessError", "Access to unauthorized or invalid companies."},
		{"unknown model", "foo.bar", "search", key, map[string]any{"domain": D()}, nil, 404,
			"werkzeug.exceptions.NotFound", "the model 'foo.bar' does not exist"},
		{"unknown method", "res.partner", "frob", key, map[string]any{}, nil, 404,
			"werkzeug.exceptions.NotFound", "The method 'res.partner.frob' does not exist"},
		{"missing record", "res.partner", "write", key, map[string]any{"ids": []any{999}, "vals": map[string]any{"name": "x"}}, nil, 404,
			"odoo.exceptions.MissingError", "Record does not exist or has been deleted.\n(Record: res.partner(999,), User: 2)"},
		{"wrong database", "res.partner", "search", key, map[string]any{"domain": D()}, []string{"X-Odoo-Database", "prod"}, 404,
			"werkzeug.exceptions.NotFound", "database 'prod' not found"},
		{"bad parameter name", "res.partner", "search", key, map[string]any{"domain": D(), "foo": 1}, nil, 422,
			"werkzeug.exceptions.UnprocessableEntity", "got an unexpected keyword argument 'foo'"},
		{"missing parameter", "res.partner", "search", key, map[string]any{}, nil, 422,
			"werkzeug.exceptions.UnprocessableEntity", "missing a required argument: 'domain'"},
		{"ids on a model method", "res.partner", "search", key, map[string]any{"ids": []any{1}, "domain": D()}, nil, 422,
			"werkzeug.exceptions.UnprocessableEntity", "cannot call res.partner.search with ids"},
		{"user error", "account.move", "unlink", key, map[string]any{"ids": []any{1}}, nil, 422,
			"odoo.exceptions.UserError", "You cannot delete an item linked to a posted entry."},
		{"validation error", "account.move", "write", key, map[string]any{"ids": []any{5}, "vals": map[string]any{"partner_id": 999}}, nil, 422,
			"odoo.exceptions.ValidationError", ""},
		{"invalid field", "account.move", "search_read", key, map[string]any{"domain": D(), "fields": []any{"foo"}}, nil, 500,
			"builtins.ValueError", "Invalid field 'foo' on model 'account.move'"},
		{"bad domain", "account.move", "search", key, map[string]any{"domain": D("|")}, nil, 500,
			"builtins.ValueError", "Domain ['|'] is syntactically not correct."},
	}
	for _, tc := range cases {
		st, v, h := json2(t, s.URL, tc.model, tc.method, tc.key, tc.body, tc.headers...)
		body, ok := v.(map[string]any)
		if st != tc.status || !ok {
			t.Errorf("%s: HTTP %d %v, want %d", tc.name, st, v, tc.status)
			continue
		}
		for _, k := range []string{"name", "message", "arguments", "context", "debug"} {
			if _, ok := body[k]; !ok {
				t.Errorf("%s: body lacks %q", tc.name, k)
			}
		}
		if body["name"] != tc.errName {
			t.Errorf("%s: name %v, want %v", tc.name, body["name"], tc.errName)
		}
		if tc.message != "" && body["message"] != tc.message {
			t.Errorf("%s: message %q, want %q", tc.name, body["message"], tc.message)
		}
		if st == 401 && tc.key != "" && !strings.EqualFold(h.Get("WWW-Authenticate"), "bearer") {
			t.Errorf("%s: WWW-Authenticate %q", tc.name, h.Get("WWW-Authenticate"))
		}
		if debug, _ := body["debug"].(string); !strings.HasPrefix(debug, "Traceback (most recent call last):") {
			t.Errorf("%s: debug is not a traceback: %q", tc.name, debug)
		}
	}
	// Bodies that are not JSON objects, and wrong content types: 400.
	for _, tc := range []struct{ ctype, body string }{
		{"application/json", "{nope"},
		{"application/json", "[1, 2]"},
		{"text/plain", `{"domain": []}`},
	} {
		req, _ := http.NewRequest("POST", s.URL+"/json/2/res.partner/search", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.ctype)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s %q: HTTP %d, want 400", tc.ctype, tc.body, resp.StatusCode)
		}
	}
	// Not POST /json/2/<model>/<method>: 404.
	for _, u := range []string{"/json/2/res.partner", "/json/2", "/json/2/a/b/c"} {
		req, _ := http.NewRequest("POST", s.URL+u, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 404 || v["message"] != "Did you mean POST /json/2/<model>/<method>?" {
			t.Errorf("%s: %d %v %v", u, resp.StatusCode, v, err)
		}
	}
	resp, err := http.Get(s.URL + "/json/2/res.partner/search")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}
