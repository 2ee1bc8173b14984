package odoosim

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/kolo/xmlrpc"
)

var (
	bench100kOnce sync.Once
	bench100k     *Server
)

// benchServer is one simulator with 100k moves shared by the benchmarks
// (generated once per test binary run).
func benchServer(b *testing.B) *Server {
	bench100kOnce.Do(func() { bench100k = NewServer(Options{Moves: 100_000, Seed: 1}) })
	return bench100k
}

var benchFields = []any{"name", "move_type", "state", "payment_state", "partner_id", "company_id",
	"currency_id", "invoice_date", "invoice_date_due", "amount_total", "amount_residual", "write_date"}

func post(b *testing.B, client *http.Client, url string, body []byte) int64 {
	resp, err := client.Post(url, "text/xml", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("HTTP %d %v", resp.StatusCode, err)
	}
	return n
}

// BenchmarkSearchRead100k measures the server side of search_read on 100k
// account.move rows x 12 fields: search, sort, and the streamed XML-RPC
// encoding, received by a client that discards the bytes. The baseline
// serves the very same bytes pre-encoded, so the ratio is the cost of
// producing the response compared with only moving it over loopback.
func BenchmarkSearchRead100k(b *testing.B) {
	s := benchServer(b)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	body, _ := xmlrpc.EncodeMethodCall("execute_kw", "demo", 2, "admin", "account.move", "search_read",
		[]any{[]any{}}, map[string]any{"fields": benchFields, "order": "id"})
	payload := post(b, client, s.URL+"/xmlrpc/2/object", body)

	b.Run("xmlrpc", func(b *testing.B) {
		b.SetBytes(payload)
		for b.Loop() {
			post(b, client, s.URL+"/xmlrpc/2/object", body)
		}
		b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("xmlrpc-default-order", func(b *testing.B) {
		body, _ := xmlrpc.EncodeMethodCall("execute_kw", "demo", 2, "admin", "account.move", "search_read",
			[]any{[]any{}}, map[string]any{"fields": benchFields})
		for b.Loop() {
			post(b, client, s.URL+"/xmlrpc/2/object", body)
		}
		b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("baseline-static-bytes", func(b *testing.B) {
		resp, _ := client.Post(s.URL+"/xmlrpc/2/object", "text/xml", bytes.NewReader(body))
		static, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			_, _ = w.Write(static)
		})}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Close()
		b.SetBytes(int64(len(static)))
		for b.Loop() {
			if n := post(b, client, "http://"+ln.Addr().String()+"/", body); n != int64(len(static)) {
				b.Fatalf("baseline served %d bytes", n)
			}
		}
		b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkPageByID measures one page of 2000 rows read the way the client
// pages: ('id', '>', last), order id, limit.
func BenchmarkPageByID(b *testing.B) {
	s := benchServer(b)
	client := &http.Client{}
	body, _ := xmlrpc.EncodeMethodCall("execute_kw", "demo", 2, "admin", "account.move", "search_read",
		[]any{[]any{[]any{"state", "=", "posted"}, []any{"id", ">", 50_000}}},
		map[string]any{"fields": benchFields, "order": "id", "limit": 2000})
	for b.Loop() {
		post(b, client, s.URL+"/xmlrpc/2/object", body)
	}
	b.ReportMetric(float64(2000*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkGenerate20k(b *testing.B) {
	for b.Loop() {
		Generate(20_000, 1)
	}
}

// BenchmarkDomainUnpaidForeign evaluates a realistic domain with a dotted
// path on 100k moves (search_count).
func BenchmarkDomainUnpaidForeign(b *testing.B) {
	s := benchServer(b)
	client := &http.Client{}
	body, _ := xmlrpc.EncodeMethodCall("execute_kw", "demo", 2, "admin", "account.move", "search_count",
		[]any{[]any{[]any{"move_type", "=", "in_invoice"}, []any{"state", "=", "posted"},
			[]any{"payment_state", "in", []any{"not_paid", "partial"}},
			[]any{"partner_id.country_id.code", "not in", []any{"MA", false}}}})
	for b.Loop() {
		post(b, client, s.URL+"/xmlrpc/2/object", body)
	}
}
