package odoo

import (
	"bytes"
	"fmt"
	"testing"
)

// benchBody builds a search_read response of n rows x 12 fields as Python's
// xmlrpc.client writes it (one element per line).
func benchBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n")
	member := func(name, v string) {
		fmt.Fprintf(&b, "<member>\n<name>%s</name>\n<value>%s</value>\n</member>\n", name, v)
	}
	for i := 1; i <= n; i++ {
		b.WriteString("<value><struct>\n")
		member("id", fmt.Sprintf("<int>%d</int>", i))
		member("name", fmt.Sprintf("<string>BILL/2024/%05d</string>", i))
		member("move_type", "<string>in_invoice</string>")
		member("state", "<string>posted</string>")
		member("payment_state", "<string>not_paid</string>")
		member("partner_id", fmt.Sprintf("<array><data>\n<value><int>%d</int></value>\n<value><string>Partner &amp; Co %d</string></value>\n</data></array>", i%500+1, i%500+1))
		member("currency_id", "<array><data>\n<value><int>1</int></value>\n<value><string>EUR</string></value>\n</data></array>")
		member("company_id", "<array><data>\n<value><int>1</int></value>\n<value><string>Acme FR</string></value>\n</data></array>")
		member("invoice_date", "<string>2024-03-01</string>")
		member("invoice_date_due", "<boolean>0</boolean>")
		member("amount_total", fmt.Sprintf("<double>%d.25</double>", i))
		member("amount_residual", "<double>0.0</double>")
		b.WriteString("</struct></value>\n")
	}
	b.WriteString("</data></array></value>\n</param>\n</params>\n</methodResponse>\n")
	return b.Bytes()
}

// BenchmarkDecodeResponse decodes a 10k-row search_read answer.
func BenchmarkDecodeResponse(b *testing.B) {
	body := benchBody(10000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		v, err := DecodeResponse(body)
		if err != nil {
			b.Fatal(err)
		}
		if len(v.([]any)) != 10000 {
			b.Fatal("rows")
		}
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "rows/s")
}
