package odoosim

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/kolo/xmlrpc"
)

// FuzzDecodeRequest feeds arbitrary bytes to the XML-RPC request decoder: it
// must never panic, and what it accepts must survive a round trip through
// the response encoder (the same values read back).
func FuzzDecodeRequest(f *testing.F) {
	seeds := [][]any{
		{"demo", 2, "admin", "account.move", "search_read", []any{[]any{[]any{"state", "=", "posted"}}},
			map[string]any{"fields": []any{"name"}, "limit": 10}},
		{"demo", "admin", "admin", map[string]any{}},
		{1.5, true, false, "a&b<c>", []any{}, map[string]any{"k": []any{1, 2.5, "x"}}},
	}
	for _, s := range seeds {
		b, err := xmlrpc.EncodeMethodCall("execute_kw", s...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`<?xml version="1.0"?><methodCall><methodName>version</methodName><params/></methodCall>`,
		`<methodCall><methodName>x</methodName><params><param><value>typeless</value></param><param><value/></param></params></methodCall>`,
		`<methodCall><methodName>x</methodName><params><param><value><nil/></value></param><param><value><i8>9223372036854775807</i8></value></param></params></methodCall>`,
		`<methodCall><methodName>x</methodName><params><param><value><dateTime.iso8601>20240101T10:00:00</dateTime.iso8601></value></param><param><value><base64>aGVsbG8=</base64></value></param></params></methodCall>`,
		`<methodCall><methodName>x</methodName><params><param><value><array><data><value><array><data></data></array></value></data></array></value></param></params></methodCall>`,
		`<methodCall><methodName>x</methodName><params><param><value><struct><member><name>a</name><value><double>1e-05</double></value></member></struct></value></param></params></methodCall>`,
		`<?xml version="1.0" encoding="iso-8859-1"?><methodCall><methodName>x</methodName></methodCall>`,
		`<methodCall><methodName>x</methodName><params><param><value><boolean>2</boolean></value></param></params></methodCall>`,
		`<!DOCTYPE x [<!ENTITY a "b">]><methodCall><methodName>&a;</methodName></methodCall>`,
		"",
		"<",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		method, params, err := decodeMethodCall(data)
		if err != nil {
			if _, ok := err.(*pyErr); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if hasNil(params) || !validXMLText(method) {
			return // None cannot travel back; odd method names are not re-encoded
		}
		var buf []byte
		buf = append(buf, "<methodCall><methodName>"...)
		buf = appendXMLString(buf, method)
		buf = append(buf, "</methodName><params>"...)
		for _, p := range params {
			buf = append(buf, "<param>"...)
			buf = appendXMLValue(buf, p)
			buf = append(buf, "</param>"...)
		}
		buf = append(buf, "</params></methodCall>"...)
		m2, p2, err := decodeMethodCall(buf)
		if err != nil {
			t.Fatalf("re-encoded request does not decode: %v\n%s", err, buf)
		}
		if m2 != method || !sameValues(params, p2) {
			t.Fatalf("round trip changed the values:\n%#v\n%#v", params, p2)
		}
	})
}

func hasNil(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		for _, it := range x {
			if hasNil(it) {
				return true
			}
		}
	case map[string]any:
		for _, it := range x {
			if hasNil(it) {
				return true
			}
		}
	}
	return false
}

// validXMLText reports whether s survives the encoder unchanged (no control
// characters, valid UTF-8; \r becomes \n in XML).
func validXMLText(s string) bool {
	return appendXMLString(nil, s) != nil && string(decodeText(s)) == s
}

func decodeText(s string) []byte {
	_, p, err := decodeMethodCall([]byte("<methodCall><methodName>m</methodName><params><param><value><string>" +
		string(appendXMLString(nil, s)) + "</string></value></param></params></methodCall>"))
	if err != nil || len(p) != 1 {
		return nil
	}
	str, _ := p[0].(string)
	return []byte(str)
}

// sameValues compares decoded values; strings are compared after the
// encoder's cleaning, and integers beyond int32 come back as doubles.
func sameValues(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && string(decodeText(x)) == y
	case int64:
		if x > 1<<31-1 || x < -1<<31 {
			y, ok := b.(float64)
			return ok && y == float64(x)
		}
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || x != x && y != y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValues(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[string(decodeText(k))]
			if !ok || !sameValues(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// FuzzJSONRPC feeds arbitrary bodies to the JSON-RPC routes: the simulator
// must never panic, and must answer either HTTP 400 (not JSON-RPC, as
// Odoo's dispatcher does) or a JSON-RPC 2.0 answer with a result or an
// error.
func FuzzJSONRPC(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc": "2.0", "method": "call", "params": {"service": "common", "method": "version", "args": []}, "id": 1}`,
		`{"jsonrpc": "2.0", "params": {"service": "object", "method": "execute_kw", "args": ["demo", 2, "admin", "res.partner", "read_group", [[], ["color"], ["country_id"]], {}]}, "id": "x"}`,
		`{"jsonrpc": "2.0", "params": {"service": "db", "method": "list", "args": {}}, "id": null}`,
		`{"params": {"service": "common", "method": "login", "args": ["demo", "admin"]}}`,
		`{"params": [1, 2]}`,
		`{"params": {"context": {"lang": "fr_FR"}, "service": 3}}`,
		`[]`, `{`, ``, `null`,
	} {
		f.Add("/jsonrpc", []byte(s))
	}
	f.Add("/web/dataset/call_kw/res.partner/search", []byte(`{"params": {"model": "res.partner", "method": "search", "args": [[]], "kwargs": {}}}`))
	f.Add("/web/session/authenticate", []byte(`{"params": {"db": "demo", "login": "admin", "password": "admin"}}`))
	f.Add("/web/webclient/version_info", []byte(`{"params": {"x": 1}}`))
	sim := NewHandler(Options{Data: fixture(f)})
	f.Cleanup(sim.Close)
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		if path != "/jsonrpc" && !jsonRoutes[path] && !strings.HasPrefix(path, callKwPrefix) {
			return
		}
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.URL.Path = path
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		if rec.Code == 400 {
			return
		}
		var out map[string]any
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out["jsonrpc"] != "2.0" {
			t.Fatalf("POST %s %q: HTTP %d %s", path, body, rec.Code, rec.Body.Bytes())
		}
		if _, ok := out["error"]; !ok && path != "/web/session/destroy" && path != "/web/session/check" {
			if _, ok := out["result"]; !ok {
				t.Fatalf("POST %s %q: neither result nor error: %s", path, body, rec.Body.Bytes())
			}
		}
	})
}
