package odoo

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestScrubberFindsEncodedSecrets(t *testing.T) {
	t.Parallel()
	s := newScrubber(Config{User: "admin", DB: "demo", Password: `Tr0ub&dor<3x`, APIKey: `kéy "q" +/\😀`})
	for _, tc := range []struct{ name, form string }{
		{"raw", `Tr0ub&dor<3x`},
		{"xml", `Tr0ub&amp;dor&lt;3x`},
		{"xml decimal", `Tr0ub&#38;dor&#60;3x`},
		{"xml hex upper", `Tr0ub&#X26;dor&#x3C;3x`},
		{"xml twice", `Tr0ub&amp;amp;dor&amp;lt;3x`},
		{"json", `Tr0ub\u0026dor\u003c3x`},
		{"json upper hex", `Tr0ub\u0026dor\u003C3x`},
		{"url query", `Tr0ub%26dor%3C3x`},
		{"url lower", `Tr0ub%26dor%3c3x`},
		{"url twice", `Tr0ub%2526dor%253C3x`},
		{"mixed", `Tr0ub&amp;dor%3C3x`},
		{"key raw", `kéy "q" +/\😀`},
		{"key json", `k\u00e9y \"q\" +\/\\\ud83d\ude00`},
		{"key go quote", `k\u00e9y \"q\" +/\\\U0001f600`},
		{"key html", `kéy &quot;q&quot; +/\&#128512;`},
		{"key html hex", `k&#xe9;y &#34;q&#34; +/\&#x1F600;`},
		{"key url", `k%C3%A9y+%22q%22+%2B%2F%5C%F0%9F%98%80`},
		{"key url path", `k%C3%A9y%20%22q%22%20+%2F%5C%F0%9F%98%80`},
		{"key json in xml", `k\u00e9y \&quot;q\&quot; +\/\\\ud83d\ude00`},
	} {
		text := "before " + tc.form + " after"
		if got := s.clean(text); got != "before [redacted] after" {
			t.Errorf("%s: %q cleaned to %q", tc.name, text, got)
		}
	}
	for _, text := range []string{
		"odoo login failed for user admin on db demo",
		"Tr0ub&dor<3 is close but not it; &amp; &lt; %26 \\u0026",
		"",
		strings.Repeat("&amp;", 100),
	} {
		if got := s.clean(text); got != text {
			t.Errorf("%q cleaned to %q", text, got)
		}
	}
}

func TestScrubberWireForm(t *testing.T) {
	t.Parallel()
	// The XML-RPC encoder drops control characters: a server echoes the
	// secret without them.
	s := newScrubber(Config{User: "admin", DB: "demo", Password: "pass\x01word\xff!"})
	if got := s.clean("x password\uFFFD! y"); got != "x [redacted] y" {
		t.Fatalf("wire form: %q", got)
	}
}

func TestCleanCutScrubsBeforeCutting(t *testing.T) {
	t.Parallel()
	const secret = "Sup3r-Secret-Pw!"
	s := newScrubber(Config{User: "admin", DB: "demo", Password: secret})
	for shift := 0; shift <= len(secret)+12; shift++ {
		text := strings.Repeat(".", 300-shift) + "Sup3r-Secret-Pw&#33;" + strings.Repeat("-", 50)
		out, cut := s.cleanCut(text, 300)
		if !cut {
			t.Fatalf("shift %d: not cut", shift)
		}
		if strings.Contains(out, "Sup3") || len(out) > 300+len(redactedText) {
			t.Fatalf("shift %d: %q", shift, out)
		}
	}
	if out, cut := s.cleanCut("short "+secret, 300); cut || out != "short [redacted]" {
		t.Fatalf("short text: %q %v", out, cut)
	}
	if out, cut := (*scrubber)(nil).cleanCut("abc", 2); !cut || out != "ab" {
		t.Fatalf("no secrets: %q %v", out, cut)
	}
}

// Scrubbing a large error page stays linear, even when it is full of the
// escapes of a secret's own characters: past its budget of steps the
// scrubber stops and shows no more.
func TestScrubberCost(t *testing.T) {
	t.Parallel()
	s := newScrubber(Config{User: "admin", DB: "demo", Password: `&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&x`, APIKey: "%%%%%%%%%%%%%%%%%%%%%%%%y"})
	text := strings.Repeat("&amp;amp;&#38;%2526", 20000) + strings.Repeat(url.QueryEscape("%"), 20000)
	start := time.Now()
	out := s.clean(text)
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("cleaning %d bytes took %v", len(text), d)
	}
	if !strings.HasSuffix(out, overBudgetText) {
		t.Fatalf("the text was scanned to its end: %q", out[max(0, len(out)-100):])
	}
	// An ordinary page full of escapes is scanned to its end.
	page := strings.Repeat(`{"html": "\u003ctd class=\"x\"\u003e\u00c4&amp;ouml; %22q%22 \u0026 \\ \/ + % \u00e9\u003c/td\u003e"}`, 5000)
	s = newScrubber(Config{User: "admin", DB: "demo", Password: `Tr0ub&dor<3x`, APIKey: `kéy "q" +/\😀`})
	if out := s.clean(page + "Tr0ub&amp;dor&lt;3x"); !strings.HasSuffix(out, "[redacted]") {
		t.Fatalf("an ordinary page ran out of budget: %q", out[max(0, len(out)-100):])
	}
}

// FuzzScrubber: any secret in any text, raw or escaped, is redacted whole,
// and scrubbing never fails on odd input (escapes cut short at the end).
func FuzzScrubber(f *testing.F) {
	f.Add(`Tr0ub&dor<3x`, `x Tr0ub&amp;dor&lt;3x y`, 10)
	f.Add(`pässwörd`, `%C3%A4 p\u00e4ssw\u00f6rd &#`, 5)
	f.Add(`&&&&`, `&amp;amp;&#38;%2526\`, 3)
	f.Fuzz(func(t *testing.T, secret, text string, cut int) {
		s := newScrubber(Config{User: "u", DB: "d", Password: secret})
		out := s.clean(text)
		if c, _ := s.cleanCut(text, cut%400); cut%400 >= 0 && len(c) > cut%400+len(overBudgetText)+len(redactedText) {
			t.Fatalf("cleanCut(%d) gave %d bytes", cut%400, len(c))
		}
		if len(secret) < 4 || secret == "u" || secret == "d" {
			return
		}
		if got := s.clean(secret); got != redactedText {
			t.Fatalf("clean(secret) = %q", got)
		}
		if got := s.clean("<" + url.QueryEscape(secret) + ">"); got != "<"+redactedText+">" {
			t.Fatalf("clean(url form) = %q", got)
		}
		_ = out
	})
}

// An error page made of nothing but the secret, in its longest encodings,
// still gives a snippet of about 300 bytes with no part of the secret, read
// from a bounded part of the page.
func TestSnippetOfAPageOfSecrets(t *testing.T) {
	t.Parallel()
	const secret = `Tr0ub&dor<3x`
	c := &Client{scrub: newScrubber(Config{User: "admin", DB: "demo", Password: secret})}
	forms := []string{secret, `Tr0ub&amp;amp;dor&amp;lt;3x`, `\u0054\u0072\u0030\u0075\u0062\u0026\u0064\u006f\u0072\u003c\u0033\u0078`,
		`%2554%2572%2530%2575%2562%2526%2564%256f%2572%253c%2533%2578`}
	for _, f := range forms {
		body := []byte("  " + strings.Repeat(f+" ", 2000))
		got := c.snippet(body)
		if !strings.HasSuffix(got, "...") || len(got) < 250 || len(got) > 330 {
			t.Fatalf("snippet of %d bytes: %q", len(got), got)
		}
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(got, "[redacted]", ""), " ", ""), "Tr") ||
			strings.Contains(got, `\u00`) || strings.Contains(got, `%25`) || strings.Contains(got, "&amp;") {
			t.Fatalf("snippet shows a part of the secret: %q", got)
		}
	}
	if got := c.snippet([]byte(strings.Repeat("x", 2000))); len(got) != 303 || !strings.HasSuffix(got, "...") {
		t.Fatalf("plain snippet: %d bytes", len(got))
	}
	if got := c.snippet([]byte(" short page \n")); got != "short page" {
		t.Fatalf("short page: %q", got)
	}
}
