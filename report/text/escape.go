package text

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape makes text a script controls (a log message, a field, a result,
// an error, a script's name) safe to print as one line of a terminal or a
// log file: a newline shows as \n and a carriage return as \r, so a script
// cannot print a line that reads like etlhost's own ("12:00:00 ok ..."),
// and every other control character (ESC, which starts ANSI and OSC
// sequences, BEL, backspace, DEL, the C1 controls), a byte that is not
// UTF-8, and the Unicode controls that reorder or break lines (bidi
// overrides and isolates, U+2028, U+2029) show as \xNN or \uNNNN, so it
// cannot move the cursor, clear the screen, retitle the window or hide
// text. A tab stays a tab; a backslash stays itself. Escape(Escape(s)) is
// Escape(s). The JSON report keeps the exact text (JSON escapes it).
func Escape(s string) string { return escape(s, false) }

// EscapeLines is Escape but keeps newlines: for a block of lines (an error
// and its traceback) that the caller indents, so that none starts where
// etlhost's own lines do.
func EscapeLines(s string) string { return escape(s, true) }

func escape(s string, keepNewlines bool) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f || c == '\t' || (c == '\n' && keepNewlines) {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if !unsafeRune(r, size) {
				i += size
				continue
			}
		}
		break
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\n' && keepNewlines, c == '\t', c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
			i++
		case c == '\n':
			b.WriteString(`\n`)
			i++
		case c == '\r':
			b.WriteString(`\r`)
			i++
		case c < utf8.RuneSelf:
			fmt.Fprintf(&b, `\x%02x`, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				fmt.Fprintf(&b, `\x%02x`, c)
			case unsafeRune(r, size):
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				b.WriteString(s[i : i+size])
			}
			i += size
		}
	}
	return b.String()
}

// unsafeRune reports whether a decoded non-ASCII rune must be escaped:
// invalid UTF-8, a C1 control, or a control that reorders or breaks lines.
func unsafeRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x200e || r == 0x200f || r == 0x061c: // LRM, RLM, ALM
		return true
	case r >= 0x202a && r <= 0x202e: // embeddings and overrides
		return true
	case r >= 0x2066 && r <= 0x2069: // isolates
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	}
	return false
}
