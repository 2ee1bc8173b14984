package odoo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/etlhost/etlhost/odoo"
)

// echoSecrets hold the characters that escape differently in XML, JSON and
// URLs, and non-ASCII ones.
var echoSecrets = []string{
	`Tr0ub&dor<3x`,
	`q"u'o>t&e%2B+`,
	`pässwörd-€-😀`,
	`sp ace+plus%41&amp;`,
	`b4ck\slash/"x"`,
}

// secretForms are the ways a page can show secret: as it is and escaped
// the ways servers, encoders and error pages escape, once and twice.
func secretForms(secret string) []string {
	xmlEsc := func(s string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	jsonEsc := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b[1 : len(b)-1])
	}
	ascii := func(s string) string { // Python's json.dumps, ensure_ascii
		var b strings.Builder
		for _, r := range jsonEsc(s) {
			if r < 0x80 {
				b.WriteRune(r)
			} else if r > 0xFFFF {
				r -= 0x10000
				fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		}
		return b.String()
	}
	oddXML := func(s string) string { // &quot; &apos; and decimal references
		r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
		out := r.Replace(s)
		var b strings.Builder
		for _, c := range out {
			if c > 0x7F {
				fmt.Fprintf(&b, "&#%d;", c)
			} else {
				b.WriteRune(c)
			}
		}
		return b.String()
	}
	quote := func(s string) string { q := strconv.Quote(s); return q[1 : len(q)-1] }
	quoteASCII := func(s string) string { q := strconv.QuoteToASCII(s); return q[1 : len(q)-1] }
	one := []string{secret, xmlEsc(secret), html.EscapeString(secret), oddXML(secret), jsonEsc(secret), ascii(secret),
		url.QueryEscape(secret), url.PathEscape(secret), strings.ToLower(url.QueryEscape(secret)), quote(secret), quoteASCII(secret)}
	forms := append([]string(nil), one...)
	for _, f := range one[1:] {
		forms = append(forms, html.EscapeString(f), xmlEsc(f), jsonEsc(f), url.QueryEscape(f), ascii(f))
	}
	return forms
}

// leaks returns the forms of secret that text shows, and the prefixes of
// 4 bytes or more of any form (a secret cut short).
func leaks(text, secret string) []string {
	var found []string
	for _, f := range secretForms(secret) {
		if strings.Contains(text, f) {
			found = append(found, f)
			continue
		}
		for n := len(f) - 1; n >= 4; n-- {
			if p := f[:n]; utf8.ValidString(p) && strings.Contains(text, p) {
				found = append(found, p+"…")
				break
			}
		}
	}
	return found
}

func errorText(err error) string {
	text := fmt.Sprintf("%v | %+v", err, err)
	var f *odoo.Fault
	if errors.As(err, &f) {
		text += " | " + f.Message + " | " + f.Traceback
	}
	var he *odoo.HTTPError
	if errors.As(err, &he) {
		text += " | " + he.Body
	}
	return text
}

// echo is a server that shows the request in its answers, the ways a
// proxy's or a framework's error page might.
var stringValues = regexp.MustCompile(`<string>(.*?)</string>`)

// secret is what the server knows the secret to be, for the modes that
// place it at a given offset.
func echo(mode, secret string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		// The request in short: the string values of an XML-RPC call as
		// they travelled (XML-escaped), or a JSON-2 body, and the
		// Authorization header.
		shown := body
		if m := stringValues.FindAllSubmatch(body, -1); m != nil {
			var vals [][]byte
			for _, v := range m {
				vals = append(vals, v[1])
			}
			shown = bytes.Join(vals, []byte(", "))
		}
		req := fmt.Sprintf("%s %s (Authorization: %s) %s", r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), shown)
		jreq, _ := json.Marshal(req)
		switch mode {
		case "500 raw":
			w.WriteHeader(500)
			fmt.Fprintf(w, "<html><body><h1>Internal Server Error</h1><pre>%s</pre></body></html>", req)
		case "500 html-escaped":
			w.WriteHeader(500)
			fmt.Fprintf(w, "<html><body><pre>%s</pre></body></html>", html.EscapeString(req))
		case "500 json":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(502)
			fmt.Fprintf(w, `{"error": "upstream failed", "request": %s, "url": %q}`, jreq, "https://proxy/x?q="+url.QueryEscape(req))
		case "500 cut":
			// The secret spans the client's 300-byte cut of the page.
			w.WriteHeader(500)
			fmt.Fprintf(w, "%s%s and then some more text", strings.Repeat(".", 292), secret)
		case "fault":
			var b bytes.Buffer
			_ = xml.EscapeText(&b, []byte("Traceback (most recent call last):\n  File \"x.py\"\nValueError: bad request "+req))
			fmt.Fprintf(w, `<?xml version="1.0"?><methodResponse><fault><value><struct>`+
				`<member><name>faultCode</name><value><int>1</int></value></member>`+
				`<member><name>faultString</name><value><string>%s</string></value></member>`+
				`</struct></value></fault></methodResponse>`, b.String())
		case "bad int":
			// A decoding error quotes 40 bytes of the value: the secret
			// spans the clip.
			var b bytes.Buffer
			_ = xml.EscapeText(&b, []byte(strings.Repeat("7", 32)+secret))
			fmt.Fprintf(w, `<?xml version="1.0"?><methodResponse><params><param><value><int>%s</int></value></param></params></methodResponse>`, b.String())
		case "json2 error":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			msg, _ := json.Marshal("cannot serve " + req)
			fmt.Fprintf(w, `{"name": "builtins.ValueError", "message": %s, "debug": %s}`, msg, jreq)
		}
	}
}

// A server that echoes the request in its error pages and faults, for
// passwords and keys holding & < > " ' % + and non-ASCII: no form of the
// secret (raw, XML, HTML, JSON, URL, Go quoting, escaped twice) shows in the
// error, not even its first bytes when it spans the 300-byte cut.
func TestEchoedSecretsAreScrubbed(t *testing.T) {
	t.Parallel()
	modes := []string{"500 raw", "500 html-escaped", "500 json", "500 cut", "fault", "bad int", "json2 error"}
	for _, mode := range modes {
		for _, secret := range echoSecrets {
			for _, transport := range []string{odoo.TransportXMLRPC, odoo.TransportJSON2} {
				if (mode == "fault" || mode == "bad int") && transport == odoo.TransportJSON2 {
					continue
				}
				if mode == "json2 error" && transport == odoo.TransportXMLRPC {
					continue
				}
				t.Run(mode+"/"+transport+"/"+secret, func(t *testing.T) {
					t.Parallel()
					srv := httptest.NewServer(echo(mode, secret))
					defer srv.Close()
					cfg := odoo.Config{URL: srv.URL, DB: "demo", User: "admin", Transport: transport, Retries: 0, RetryBackoff: time.Millisecond}
					if transport == odoo.TransportJSON2 {
						cfg.APIKey = secret
					} else {
						cfg.Password = secret
					}
					c, err := odoo.New(cfg)
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					_, err = c.SearchCount(context.Background(), "res.partner", nil)
					if err == nil {
						t.Fatal("want an error")
					}
					text := errorText(err)
					if found := leaks(text, secret); len(found) > 0 {
						t.Fatalf("the error shows %q:\n%s", found, text)
					}
					if !strings.Contains(text, "[redact") { // cut short in "bad int"
						t.Fatalf("nothing was redacted; is the secret echoed at all?\n%s", text)
					}
				})
			}
		}
	}
}
