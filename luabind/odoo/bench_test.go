package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

const benchRows = 100000

var benchFields = []string{
	"name", "move_type", "state", "payment_state", "partner_id", "currency_id",
	"company_id", "journal_id", "invoice_date", "invoice_date_due", "amount_total", "amount_residual",
}

// BenchmarkSearchRead100k measures search_read of 100k account.move rows x
// 12 fields into Lua through the module, against the simulator with no
// latency, and compares it in the same run with Python's xmlrpc.client on the
// same payload: parse only (xmlrpc.client.loads of the saved body) and a full
// ServerProxy call.
//
//	go test ./luabind/odoo -run '^$' -bench SearchRead100k -benchtime 1x
func BenchmarkSearchRead100k(b *testing.B) {
	srv := odoosim.NewServer(odoosim.Options{Moves: benchRows, Seed: 1})
	defer srv.Close()
	cfg := odoo.Config{URL: srv.URL, DB: "demo", User: "admin", Password: "admin"}
	m := New(map[string]odoo.Config{"default": cfg}, Options{})
	defer m.Close()
	s := luatest.New(b, luatest.Options{}, m)
	fieldsLua := `{"` + strings.Join(benchFields, `", "`) + `"}`
	code := `local erp = require("odoo").connect()
local rows = erp:search_read("account.move", {}, {fields = ` + fieldsLua + `, limit = 200000})
return #rows`
	// Warm up: authenticate, fields_get, and check the size.
	v, err := s.Exec("bench.lua", code)
	if err != nil {
		b.Fatal(err)
	}
	if n := int(v.(lua.LNumber)); n < benchRows {
		b.Fatalf("the simulator returned %d moves, want %d", n, benchRows)
	}
	rows := int(v.(lua.LNumber))

	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := s.Exec("bench.lua", code); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	goRate := float64(rows*b.N) / elapsed.Seconds()
	b.ReportMetric(goRate, "rows/s")

	// The same payload, raw, for the parse-only comparisons.
	body := rawSearchRead(b, srv.URL, rows)
	goParse := goParseRate(b, s.L, body, rows)
	b.ReportMetric(goParse, "parse_rows/s")

	py := pythonRates(b, srv.URL, body)
	if py.ParseS > 0 {
		pyParse := float64(py.Rows) / py.ParseS
		pyCall := float64(py.Rows) / py.CallS
		b.ReportMetric(pyParse, "py_parse_rows/s")
		b.ReportMetric(pyCall, "py_call_rows/s")
		b.ReportMetric(goRate/pyCall, "x_python_call")
		b.ReportMetric(goParse/pyParse, "x_python_parse")
		b.Logf("payload %d MB, %d rows x %d fields", len(body)>>20, rows, len(benchFields))
		b.Logf("full call into Lua: Go %.0f rows/s, Python ServerProxy %.0f rows/s: %.1fx", goRate, pyCall, goRate/pyCall)
		b.Logf("parse only: Go decode+Lua tables %.0f rows/s, Python xmlrpc.client.loads %.0f rows/s: %.1fx", goParse, pyParse, goParse/pyParse)
	}
}

// rawSearchRead fetches the XML body of the benchmark's search_read.
func rawSearchRead(b *testing.B, url string, rows int) []byte {
	req, err := odoo.EncodeMethodCall("execute_kw", "demo", int64(2), "admin", "account.move", "search_read",
		[]any{[]any{}}, map[string]any{"fields": benchFields, "limit": rows})
	if err != nil {
		b.Fatal(err)
	}
	// the uid of admin
	c, _ := odoo.New(odoo.Config{URL: url, DB: "demo", User: "admin", Password: "admin"})
	uid, err := c.Authenticate(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if uid != 2 {
		req, _ = odoo.EncodeMethodCall("execute_kw", "demo", uid, "admin", "account.move", "search_read",
			[]any{[]any{}}, map[string]any{"fields": benchFields, "limit": rows})
	}
	resp, err := http.Post(url+"/xmlrpc/2/object", "text/xml", bytes.NewReader(req))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// benchModelFields are the types of benchFields, as fields_get gives them.
func benchModelFields() *modelFields {
	return newModelFields(map[string]map[string]any{
		"partner_id": {"type": "many2one"}, "currency_id": {"type": "many2one"},
		"company_id": {"type": "many2one"}, "journal_id": {"type": "many2one"},
		"invoice_date": {"type": "date"}, "invoice_date_due": {"type": "date"},
		"name": {"type": "char"}, "move_type": {"type": "selection"}, "state": {"type": "selection"},
		"payment_state": {"type": "selection"}, "amount_total": {"type": "monetary"}, "amount_residual": {"type": "monetary"},
	})
}

// recordsToLua is the module's path: records decoded without a map per
// row, then converted column by column.
func recordsToLua(b testing.TB, L *lua.LState, body []byte) *lua.LTable {
	recs, err := odoo.DecodeRecords(body)
	if err != nil {
		b.Fatal(err)
	}
	cv := &converter{fields: benchFields}
	cv.use(benchModelFields())
	out := L.CreateTable(recs.Len(), 0)
	cv.rows(L, recs, out, 0)
	return out
}

// mapsToLua is the path before records: DecodeResponse's map per row, then
// a map lookup per field and row. Kept here as the benchmarks' baseline.
func mapsToLua(b testing.TB, L *lua.LState, body []byte) *lua.LTable {
	v, err := odoo.DecodeResponse(body)
	if err != nil {
		b.Fatal(err)
	}
	mf := benchModelFields()
	cols := mf.columns(benchFields)
	l := v.([]any)
	out := L.CreateTable(len(l), 0)
	for j, e := range l {
		r := e.(map[string]any)
		t := L.CreateTable(0, len(cols))
		for i := range cols {
			c := &cols[i]
			if fv, ok := r[c.name]; ok {
				if lv := valueToLua(L, c.kind, fv); lv != lua.LNil {
					t.RawSetString(c.name, lv)
				}
			}
		}
		out.RawSetInt(j+1, t)
	}
	return out
}

// goParseRate decodes body and converts it into Lua tables, as the module
// does, and returns rows per second.
func goParseRate(b *testing.B, L *lua.LState, body []byte, rows int) float64 {
	const rounds = 2
	var best time.Duration
	for i := 0; i < rounds; i++ {
		start := time.Now()
		out := recordsToLua(b, L, body)
		d := time.Since(start)
		if out.Len() != rows {
			b.Fatalf("converted %d rows", out.Len())
		}
		if best == 0 || d < best {
			best = d
		}
	}
	return float64(rows) / best.Seconds()
}

// BenchmarkDecodeConvert1000 decodes a search_read page of 1000 moves x 12
// fields and converts it into Lua tables: the module's records path against
// the map-per-row path it replaced, in the same run (ns, bytes and
// allocations per 1000 rows; GC cycles in gc/op).
//
//	go test ./luabind/odoo -run '^$' -bench DecodeConvert1000 -benchmem
func BenchmarkDecodeConvert1000(b *testing.B) {
	srv := odoosim.NewServer(odoosim.Options{Moves: 1000, Seed: 1})
	defer srv.Close()
	body := rawSearchRead(b, srv.URL, 1000)
	for _, path := range []struct {
		name string
		fn   func(testing.TB, *lua.LState, []byte) *lua.LTable
	}{{"maps", mapsToLua}, {"records", recordsToLua}} {
		b.Run(path.name, func(b *testing.B) {
			L := lua.NewState()
			defer L.Close()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			for b.Loop() {
				if out := path.fn(b, L, body); out.Len() != 1000 {
					b.Fatalf("%d rows", out.Len())
				}
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.NumGC-before.NumGC)/float64(b.N), "gc/op")
		})
	}
}

type pyResult struct {
	Rows   int     `json:"rows"`
	ParseS float64 `json:"parse_s"`
	CallS  float64 `json:"call_s"`
}

const pyScript = `
import json, sys, time, xmlrpc.client
url, path, fields = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
data = open(path, "rb").read()
t = time.perf_counter()
(rows,), _ = xmlrpc.client.loads(data)
parse = time.perf_counter() - t
common = xmlrpc.client.ServerProxy(url + "/xmlrpc/2/common")
uid = common.authenticate("demo", "admin", "admin", {})
obj = xmlrpc.client.ServerProxy(url + "/xmlrpc/2/object")
t = time.perf_counter()
rows2 = obj.execute_kw("demo", uid, "admin", "account.move", "search_read", [[]], {"fields": fields, "limit": len(rows)})
call = time.perf_counter() - t
assert len(rows2) == len(rows)
print(json.dumps({"rows": len(rows), "parse_s": parse, "call_s": call}))
`

// pythonRates runs Python's xmlrpc.client on the same payload.
func pythonRates(b *testing.B, url string, body []byte) pyResult {
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Logf("python3 not found: no comparison")
		return pyResult{}
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "search_read.xml")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		b.Fatal(err)
	}
	fj, _ := json.Marshal(benchFields)
	out, err := exec.Command(py, "-c", pyScript, url, path, string(fj)).Output()
	if err != nil {
		b.Fatalf("python: %v", err)
	}
	var r pyResult
	if err := json.Unmarshal(out, &r); err != nil {
		b.Fatalf("python output %q: %v", out, err)
	}
	return r
}

// BenchmarkSearchRead100kPaged is the same read with the module's default
// paging (no limit: pages of 1000 rows by id), the way scripts usually read:
// 100 calls instead of one.
func BenchmarkSearchRead100kPaged(b *testing.B) {
	srv := odoosim.NewServer(odoosim.Options{Moves: benchRows, Seed: 1})
	defer srv.Close()
	cfg := odoo.Config{URL: srv.URL, DB: "demo", User: "admin", Password: "admin"}
	m := New(map[string]odoo.Config{"default": cfg}, Options{})
	defer m.Close()
	s := luatest.New(b, luatest.Options{}, m)
	code := `local erp = require("odoo").connect()
local rows = erp:search_read("account.move", {}, {fields = {"` + strings.Join(benchFields, `", "`) + `"}})
return #rows`
	b.ResetTimer()
	rows := 0
	for i := 0; i < b.N; i++ {
		v, err := s.Exec("bench.lua", code)
		if err != nil {
			b.Fatal(err)
		}
		rows += int(v.(lua.LNumber))
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
