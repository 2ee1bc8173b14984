package odoo

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// scrubber removes the secrets of a Config (the password, the API key) from
// text that came from outside (a server's error page or fault, a transport
// error) before the text goes into an error.
//
// A server that echoes the request shows a secret the way the request
// carried it, or the way its own page escapes it, so the scrubber looks for
// each secret in any of these encodings, character by character (a mix of
// them matches too):
//
//   - as it is, and as the XML-RPC encoder sends it (control characters
//     dropped, invalid UTF-8 as U+FFFD);
//   - XML and HTML: &amp; &lt; &gt; &quot; &apos; and the numeric
//     references of any character (&#38; &#x26;);
//   - JSON, Go and Python string escapes: \" \\ \/ \' \n \t \r \b \f,
//     \uXXXX (a surrogate pair beyond U+FFFF), \UXXXXXXXX, \xXX;
//   - URLs: %XX for each byte of the UTF-8 form, + for a space;
//   - any of these escaped once more (an escaped echo of an escaped
//     request: &amp;amp;, %2526, \u0026amp;).
//
// Hex digits and entity names match in either case. Each match is replaced
// as a whole by "[redacted]". Text is scrubbed before it is cut (cleanCut),
// so a secret that spans the cut is not partly shown. The client never uses
// basic auth (Config refuses credentials in the URL, JSON-2 sends a bearer
// key), so there is no base64 form to look for.
type scrubber struct {
	pats   []pattern
	first  [256]bool // bytes an encoded secret can start with
	maxEnc int       // the longest encoding of a secret, in bytes
}

const redactedText = "[redacted]"

func newScrubber(cfg Config) *scrubber {
	s := &scrubber{}
	for _, v := range []string{cfg.Password, cfg.APIKey} {
		// A secret equal to the login or the db name is public anyway, and
		// scrubbing it would mangle "login failed for user admin".
		if len(v) < 4 || v == cfg.User || v == cfg.DB {
			continue
		}
		s.add(v)
		if w := wireForm(v); w != v && len(w) >= 4 {
			s.add(w)
		}
	}
	return s
}

func (s *scrubber) add(secret string) {
	p := newPattern(secret)
	s.pats = append(s.pats, p)
	s.maxEnc = max(s.maxEnc, p.maxEnc())
	s.first[secret[0]] = true
	for c := range encStart {
		if encStart[c] {
			s.first[c] = true
		}
	}
}

func (s *scrubber) empty() bool { return s == nil || len(s.pats) == 0 }

// inputFor returns how many bytes of a text cleanCut(text, max) can read:
// each redaction reads at most maxEnc bytes and writes len(redactedText),
// so the output holds max bytes before the input runs past this, with room
// for one whole encoded secret beyond. Callers holding a large text (an
// error page) cut it there first and convert only that much.
func (s *scrubber) inputFor(max int) int {
	if s.empty() {
		return max
	}
	return max + (max/len(redactedText)+2)*s.maxEnc
}

// clean returns text with every secret, in any of its encodings, replaced.
func (s *scrubber) clean(text string) string {
	out, _ := s.cleanCut(text, -1)
	return out
}

// cleanCut is clean, stopping once the output holds max bytes (max < 0: no
// limit); cut tells whether text was cut. A secret that starts before the
// cut is replaced whole, so no part of it is shown.
func (s *scrubber) cleanCut(text string, max int) (out string, cut bool) {
	if s.empty() {
		if max >= 0 && len(text) > max {
			return text[:max], true
		}
		return text, false
	}
	var b strings.Builder
	changed := false
	last := 0
	budget := &scanBudget{steps: stepsPerByte*len(text) + minSteps}
	for p := 0; p < len(text); {
		if max >= 0 && b.Len()+(p-last) >= max {
			if !changed {
				return text[:p], true
			}
			b.WriteString(text[last:p])
			return b.String(), true
		}
		if s.first[text[p]] {
			e := s.matchAt(text, p, budget)
			if budget.over {
				// A page made of escapes, and secrets made of the
				// characters they escape: the rest is not shown rather
				// than not scanned.
				b.WriteString(text[last:p])
				b.WriteString(overBudgetText)
				return b.String(), max >= 0
			}
			if e > p {
				b.WriteString(text[last:p])
				b.WriteString(redactedText)
				changed = true
				p, last = e, e
				continue
			}
		}
		p++
	}
	if !changed {
		return text, false
	}
	b.WriteString(text[last:])
	return b.String(), false
}

// The search backtracks over the encodings of each character; on text made
// mostly of escapes (a JSON dump of an HTML page) it takes 1 to 3 steps per
// byte. A scan gets stepsPerByte steps per byte of the text (and minSteps),
// ten times that; a text that exhausts them (escapes of a secret's own
// characters, over and over) is cut there (overBudgetText), so the cost of
// scrubbing stays linear in the text and nothing unscanned is shown.
const (
	stepsPerByte   = 32
	minSteps       = 1 << 20
	overBudgetText = "[the rest is not shown: too many escapes to scan for secrets]"
)

type scanBudget struct {
	steps int
	over  bool
}

// matchAt returns the end of the longest encoded secret starting at
// text[p], or -1.
func (s *scrubber) matchAt(text string, p int, budget *scanBudget) int {
	end := -1
	for i := range s.pats {
		pat := &s.pats[i]
		if !pat.mayStartAt(text, p) {
			continue
		}
		m := matcher{text: text, pat: pat.runes, budget: budget}
		if e := m.rest(p, 0); e > end {
			end = e
		}
		if budget.over {
			return -1
		}
	}
	return end
}

// scrubError rewrites err's text when it contains a secret. Server text a
// decoding error quotes is scrubbed before it is clipped.
func (s *scrubber) scrubError(err error) error {
	if err == nil || s.empty() {
		return err
	}
	var se *syntaxError
	if errors.As(err, &se) {
		se.redact(s)
	}
	msg := err.Error()
	if c := s.clean(msg); c != msg {
		return &redactedError{msg: c, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

// Unwrap keeps errors.Is/As working (context.DeadlineExceeded, net errors);
// code that prints the inner error would see the secret, so the client only
// wraps errors whose own text is already clean (see scrubError callers).
func (e *redactedError) Unwrap() error { return e.err }

// pattern is one secret, character by character, with the starts of the
// encodings of its first character (a cheap test before the search).
type pattern struct {
	runes []patRune
	start map[string]bool // first startLen bytes (lower case) of an encoded first character
	short []string        // encodings of the first character shorter than that
}

const startLen = 3

type patRune struct {
	raw   string   // the character's bytes in the secret
	forms []string // its encodings (ASCII), see runeForms
}

func newPattern(secret string) pattern {
	var p pattern
	for i := 0; i < len(secret); {
		r, size := utf8.DecodeRuneInString(secret[i:])
		raw := secret[i : i+size]
		p.runes = append(p.runes, patRune{raw: raw, forms: runeForms(r, raw)})
		i += size
	}
	p.start = make(map[string]bool)
	for _, f := range p.runes[0].forms {
		for _, e := range expand(f, 1, startLen) {
			if len(e) == startLen {
				p.start[e] = true
			} else {
				p.short = append(p.short, e)
			}
		}
	}
	return p
}

// maxEnc is the length of the secret's longest encoding (each character's
// longest form, each of its bytes in its own longest form).
func (pat *pattern) maxEnc() int {
	n := 0
	for _, r := range pat.runes {
		longest := len(r.raw)
		for _, f := range r.forms {
			l := 0
			for i := 0; i < len(f); i++ {
				m := 1
				for _, g := range asciiForms[f[i]&0x7f] {
					m = max(m, len(g))
				}
				l += m
			}
			longest = max(longest, l)
		}
		n += longest
	}
	return n
}

// mayStartAt tells whether an encoding of the secret may start at text[p].
func (pat *pattern) mayStartAt(text string, p int) bool {
	if strings.HasPrefix(text[p:], pat.runes[0].raw) {
		return true
	}
	if !encStart[text[p]] {
		return false
	}
	if len(text)-p >= startLen {
		var k [startLen]byte
		for i := range k {
			k[i] = lowerASCII(text[p+i])
		}
		if pat.start[string(k[:])] {
			return true
		}
	}
	for _, e := range pat.short {
		if len(text)-p >= len(e) && strings.EqualFold(text[p:p+len(e)], e) {
			return true
		}
	}
	return false
}

// expand lists the encodings of form (each byte as it is or, when depth > 0,
// encoded once more), lower case, cut at limit bytes.
func expand(form string, depth, limit int) []string {
	seen := map[string]bool{}
	var out []string
	var rec func(j int, acc string)
	rec = func(j int, acc string) {
		if len(acc) >= limit || j == len(form) {
			if len(acc) > limit {
				acc = acc[:limit]
			}
			if !seen[acc] {
				seen[acc] = true
				out = append(out, acc)
			}
			return
		}
		c := form[j]
		rec(j+1, acc+string(rune(lowerASCII(c))))
		if depth > 0 && c < utf8.RuneSelf {
			for _, g := range asciiForms[c] {
				for _, e := range expand(g, depth-1, limit-len(acc)) {
					rec(j+1, acc+e)
				}
			}
		}
	}
	rec(0, "")
	return out
}

// encStart are the bytes an encoded form starts with.
var encStart = [256]bool{'&': true, '\\': true, '%': true, '+': true}

// asciiForms are the encodings of each ASCII character, for the second
// level of escaping.
var asciiForms = func() (t [128][]string) {
	for c := range t {
		t[c] = runeForms(rune(c), string(rune(c)))
	}
	return t
}()

// runeForms lists the encodings of one character (raw is its bytes; r is
// utf8.RuneError for an invalid byte).
func runeForms(r rune, raw string) []string {
	var f []string
	switch r {
	case '&':
		f = append(f, "&amp;")
	case '<':
		f = append(f, "&lt;")
	case '>':
		f = append(f, "&gt;")
	case '"':
		f = append(f, "&quot;", `\"`)
	case '\'':
		f = append(f, "&apos;", `\'`)
	case '\\':
		f = append(f, `\\`)
	case '/':
		f = append(f, `\/`)
	case '\n':
		f = append(f, `\n`)
	case '\t':
		f = append(f, `\t`)
	case '\r':
		f = append(f, `\r`)
	case '\b':
		f = append(f, `\b`)
	case '\f':
		f = append(f, `\f`)
	case ' ':
		f = append(f, "+")
	}
	valid := r != utf8.RuneError || len(raw) > 1
	if valid {
		f = append(f, "&#"+strconv.Itoa(int(r))+";", "&#x"+strconv.FormatInt(int64(r), 16)+";")
		if r <= 0xFFFF {
			f = append(f, fmt.Sprintf(`\u%04x`, r))
		} else {
			r1, r2 := utf16.EncodeRune(r)
			f = append(f, fmt.Sprintf(`\u%04x\u%04x`, r1, r2), fmt.Sprintf(`\U%08x`, r))
		}
		if r < 0x100 {
			f = append(f, fmt.Sprintf(`\x%02x`, r))
		}
	} else {
		f = append(f, fmt.Sprintf(`\x%02x`, raw[0]))
	}
	var pct strings.Builder
	for i := 0; i < len(raw); i++ {
		fmt.Fprintf(&pct, "%%%02x", raw[i])
	}
	return append(f, pct.String())
}

// wireForm is secret as the XML-RPC encoder sends it (see escapeText):
// control characters other than tab, LF and CR dropped, invalid UTF-8 and
// U+FFFE/U+FFFF as U+FFFD.
func wireForm(secret string) string {
	var b strings.Builder
	for i := 0; i < len(secret); {
		r, size := utf8.DecodeRuneInString(secret[i:])
		i += size
		switch {
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r':
		case (r == utf8.RuneError && size == 1) || r == 0xFFFE || r == 0xFFFF:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// matcher finds one pattern at a position of text, trying every encoding
// of each character, and returns the longest match (a raw "%" and the
// start of "%25" both begin one). done remembers each (position,
// character) pair's answer, so each is worked out once.
type matcher struct {
	text   string
	pat    []patRune
	done   map[[2]int]int
	budget *scanBudget
	ends   [][]int // scratch for form, one per depth of rest
}

// spend takes n steps of the budget; false when it is spent.
func (m *matcher) spend(n int) bool {
	m.budget.steps -= n
	if m.budget.steps < 0 {
		m.budget.over = true
	}
	return !m.budget.over
}

// rest matches pat[i:] at text[p:] and returns where the longest match
// ends, or -1.
func (m *matcher) rest(p, i int) int {
	if i == len(m.pat) {
		return p
	}
	key := [2]int{p, i}
	if e, ok := m.done[key]; ok {
		return e
	}
	if !m.spend(1) {
		return -1
	}
	best := -1
	r := m.pat[i]
	if strings.HasPrefix(m.text[p:], r.raw) {
		best = max(best, m.rest(p+len(r.raw), i+1))
	}
	if p < len(m.text) && encStart[m.text[p]] {
		for _, f := range r.forms {
			// form's ends live in scratch slot i, which the deeper calls
			// (slots > i) leave alone; copy them before recursing anyway,
			// since the next form reuses the slot.
			ends := append([]int(nil), m.form(p, f, i)...)
			for _, q := range ends {
				best = max(best, m.rest(q, i+1))
			}
		}
	}
	if m.done == nil {
		m.done = make(map[[2]int]int)
	}
	m.done[key] = best
	return best
}

// form returns every position where form, found at text[p:], can end:
// each of its bytes as it is (in either case) or encoded once more. It
// follows all the ways at once (a set of positions), so it never
// backtracks. slot picks the scratch slice (the caller's depth).
func (m *matcher) form(p int, form string, slot int) []int {
	for len(m.ends) <= slot {
		m.ends = append(m.ends, nil)
	}
	cur := append(m.ends[slot][:0], p)
	var next []int
	for j := 0; j < len(form) && len(cur) > 0; j++ {
		c := form[j]
		next = next[:0]
		for _, q := range cur {
			if !m.spend(1) {
				return nil
			}
			if q >= len(m.text) {
				continue
			}
			if lowerASCII(m.text[q]) == lowerASCII(c) {
				next = addEnd(next, q+1)
			}
			if encStart[m.text[q]] && c < utf8.RuneSelf {
				for _, g := range asciiForms[c] {
					if len(m.text)-q >= len(g) && strings.EqualFold(m.text[q:q+len(g)], g) {
						next = addEnd(next, q+len(g))
					}
				}
			}
		}
		cur, next = next, cur
	}
	m.ends[slot] = cur
	return cur
}

func addEnd(ends []int, e int) []int {
	for _, x := range ends {
		if x == e {
			return ends
		}
	}
	return append(ends, e)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
