package odoosim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kolo/xmlrpc"

	"github.com/etlhost/etlhost/internal/leakcheck"
)

// The tests talk to the simulator over HTTP with the real wire formats:
// requests are encoded with kolo/xmlrpc's codec (as the project's client
// does) or as JSON, responses decoded the same way.

var fixtureOnce sync.Once
var fixtureData *Data

// fixture is the hand-built data set of testdata/small.json, whose
// expectations the domain tests check by hand.
func fixture(t testing.TB) *Data {
	t.Helper()
	fixtureOnce.Do(func() {
		d, err := LoadData(filepath.Join("testdata", "small.json"))
		if err != nil {
			t.Fatalf("load fixture: %v", err)
		}
		fixtureData = d
	})
	if fixtureData == nil {
		t.Fatal("fixture failed to load")
	}
	return fixtureData
}

func newFixtureServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Data == nil && opts.Moves == 0 {
		opts.Data = fixture(t)
	}
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

// xrpc posts one XML-RPC call and decodes the response into any.
func xrpc(t testing.TB, url, service, method string, args ...any) (any, *xmlrpc.FaultError) {
	t.Helper()
	body, err := xmlrpc.EncodeMethodCall(method, args...)
	if err != nil {
		t.Fatalf("encode %s: %v", method, err)
	}
	raw := postXML(t, url+"/xmlrpc/2/"+service, body)
	return decodeXMLResponse(t, raw)
}

func postXML(t testing.TB, url string, body []byte) []byte {
	t.Helper()
	resp, err := http.Post(url, "text/xml", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: HTTP %d: %s", url, resp.StatusCode, raw)
	}
	return raw
}

func decodeXMLResponse(t testing.TB, raw []byte) (any, *xmlrpc.FaultError) {
	t.Helper()
	r := xmlrpc.Response(raw)
	if err := r.Err(); err != nil {
		var f xmlrpc.FaultError
		if errors.As(err, &f) {
			return nil, &f
		}
		t.Fatalf("decode fault: %v\n%s", err, raw)
	}
	var v any
	if err := r.Unmarshal(&v); err != nil {
		t.Fatalf("decode response: %v\n%s", err, raw)
	}
	return v, nil
}

// odoo is a tiny test client: execute_kw as admin.
type odoo struct {
	t   testing.TB
	url string
	db  string
	uid int64
	pw  string
}

func admin(t testing.TB, s *Server) *odoo {
	return &odoo{t: t, url: s.URL, db: "demo", uid: 2, pw: "admin"}
}

func (o *odoo) call(model, method string, args []any, kwargs map[string]any) (any, *xmlrpc.FaultError) {
	o.t.Helper()
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	return xrpc(o.t, o.url, "object", "execute_kw", o.db, o.uid, o.pw, model, method, args, kwargs)
}

// must calls and fails the test on a fault.
func (o *odoo) must(model, method string, args []any, kwargs map[string]any) any {
	o.t.Helper()
	v, f := o.call(model, method, args, kwargs)
	if f != nil {
		o.t.Fatalf("%s.%s: fault %d: %s", model, method, f.Code, lastLine(f.String))
	}
	return v
}

func (o *odoo) fault(model, method string, args []any, kwargs map[string]any) *xmlrpc.FaultError {
	o.t.Helper()
	v, f := o.call(model, method, args, kwargs)
	if f == nil {
		o.t.Fatalf("%s.%s: want a fault, got %v", model, method, v)
	}
	return f
}

func (o *odoo) search(model string, domain []any, kwargs map[string]any) []int64 {
	o.t.Helper()
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	if _, ok := kwargs["order"]; !ok {
		kwargs["order"] = "id"
	}
	return ints(o.t, o.must(model, "search", []any{domain}, kwargs))
}

func ints(t testing.TB, v any) []int64 {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("want a list, got %T %v", v, v)
	}
	out := make([]int64, len(l))
	for i, x := range l {
		n, ok := x.(int64)
		if !ok {
			t.Fatalf("want ints, got %T %v", x, x)
		}
		out[i] = n
	}
	return out
}

func rows(t testing.TB, v any) []map[string]any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("want a list of records, got %T", v)
	}
	out := make([]map[string]any, len(l))
	for i, x := range l {
		out[i] = x.(map[string]any)
	}
	return out
}

// lastLine is the useful line of a traceback.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// json2 posts a JSON-2 call and returns the status and decoded body.
func json2(t testing.TB, url, model, method, key string, body any, headers ...string) (int, any, http.Header) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", url+"/json/2/"+model+"/"+method, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST json/2: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("json-2 response is not JSON (HTTP %d): %v\n%s", resp.StatusCode, err, raw)
	}
	return resp.StatusCode, v, resp.Header
}

// TestMain fails the run if a goroutine of the simulator outlives the tests
// (a handler still hanging, a server never stopped).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && bench100k == nil {
		http.DefaultClient.CloseIdleConnections()
		code = leakcheck.Check(code, "odoo/odoosim.")
	}
	os.Exit(code)
}
