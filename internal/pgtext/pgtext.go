// Package pgtext makes any Go string storable in a PostgreSQL text or jsonb
// column. PostgreSQL refuses a NUL byte in text (and \u0000 in jsonb), text
// that is not valid UTF-8 in a UTF8 database, and jsonb escapes of lone
// UTF-16 surrogates: a record holding such text (a script's error, its
// source, a value it sent) would fail to be written whole. The history and
// the audit trail pass their text through this package, so a record is
// written whatever the text holds.
//
// The rule is one replacement: each NUL byte, each byte that is not part of
// valid UTF-8, each \u0000 escape and each lone surrogate escape becomes
// U+FFFD (the replacement character, "�"). Everything else is kept byte for
// byte.
package pgtext

import (
	"strings"
	"unicode/utf8"
)

// Replacement is what a character PostgreSQL refuses becomes.
const Replacement = "\uFFFD"

// Text returns s as PostgreSQL text accepts it: NUL bytes and invalid UTF-8
// replaced with U+FFFD. A string that needs nothing is returned as is.
func Text(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	s = strings.ToValidUTF8(s, Replacement)
	return strings.ReplaceAll(s, "\x00", Replacement)
}

// JSON returns the JSON text b as jsonb accepts it: invalid UTF-8, raw NUL
// bytes, \u0000 escapes and escapes of lone surrogates replaced with U+FFFD
// (as \ufffd inside escapes). b must be valid JSON; the result then is too,
// and means the same but for those characters. b is not modified.
func JSON(b []byte) []byte {
	s := Text(string(b))
	if !strings.Contains(s, `\u`) {
		return []byte(s)
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			out = append(out, c)
			continue
		}
		if s[i+1] != 'u' {
			// A two-character escape (\\, \", \n, ...): copied whole, so
			// that an escaped backslash is never read as the start of
			// another escape.
			out = append(out, c, s[i+1])
			i++
			continue
		}
		r, ok := hex4(s, i+2)
		switch {
		case !ok:
			out = append(out, c)
			continue
		case r == 0:
			out = append(out, `\ufffd`...)
		case r >= 0xD800 && r <= 0xDBFF:
			if lo, ok := hex4(s, i+8); ok && i+7 < len(s) && s[i+6] == '\\' && s[i+7] == 'u' && lo >= 0xDC00 && lo <= 0xDFFF {
				out = append(out, s[i:i+12]...)
				i += 11
				continue
			}
			out = append(out, `\ufffd`...)
		case r >= 0xDC00 && r <= 0xDFFF:
			out = append(out, `\ufffd`...)
		default:
			out = append(out, s[i:i+6]...)
		}
		i += 5
	}
	return out
}

// hex4 reads the four hex digits at s[i:i+4].
func hex4(s string, i int) (rune, bool) {
	if i < 0 || i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
