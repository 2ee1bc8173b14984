package odoo

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// EncodeMethodCall encodes an XML-RPC methodCall the way Odoo expects it:
//
//   - nil is sent as boolean False (an empty <value/> would reach Odoo as "");
//   - integers within int32 as <int>, larger ones as <i8>;
//   - time.Time as a "YYYY-MM-DD HH:MM:SS" UTC string, never dateTime.iso8601;
//   - maps as structs with sorted, escaped member names;
//   - control characters XML cannot carry (other than tab, LF, CR) are
//     dropped from strings and invalid UTF-8 is replaced, as Odoo would.
//
// It supports the plain Go values the client produces: nil, bool, the
// integer and float types, string, []byte (base64), time.Time, []any,
// []int64, []int, []string, map[string]any and map[string]string. Any other
// type is an error, never a guess.
func EncodeMethodCall(method string, params ...any) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(256)
	b.WriteString(`<?xml version="1.0"?><methodCall><methodName>`)
	escapeText(&b, method)
	b.WriteString(`</methodName><params>`)
	for i, p := range params {
		b.WriteString(`<param>`)
		if err := encodeValue(&b, p, 0); err != nil {
			return nil, fmt.Errorf("xml-rpc encode param %d of %s: %w", i+1, method, err)
		}
		b.WriteString(`</param>`)
	}
	b.WriteString(`</params></methodCall>`)
	return b.Bytes(), nil
}

const maxEncodeDepth = 100

func encodeValue(b *bytes.Buffer, v any, depth int) error {
	if depth > maxEncodeDepth {
		return fmt.Errorf("values nested deeper than %d", maxEncodeDepth)
	}
	b.WriteString(`<value>`)
	switch x := v.(type) {
	case nil:
		b.WriteString(`<boolean>0</boolean>`)
	case bool:
		if x {
			b.WriteString(`<boolean>1</boolean>`)
		} else {
			b.WriteString(`<boolean>0</boolean>`)
		}
	case int:
		encodeInt(b, int64(x))
	case int8:
		encodeInt(b, int64(x))
	case int16:
		encodeInt(b, int64(x))
	case int32:
		encodeInt(b, int64(x))
	case int64:
		encodeInt(b, x)
	case uint8:
		encodeInt(b, int64(x))
	case uint16:
		encodeInt(b, int64(x))
	case uint32:
		encodeInt(b, int64(x))
	case uint:
		if uint64(x) > math.MaxInt64 {
			return fmt.Errorf("integer %d out of range", x)
		}
		encodeInt(b, int64(x))
	case uint64:
		if x > math.MaxInt64 {
			return fmt.Errorf("integer %d out of range", x)
		}
		encodeInt(b, int64(x))
	case float32:
		if err := encodeFloat(b, float64(x)); err != nil {
			return err
		}
	case float64:
		if err := encodeFloat(b, x); err != nil {
			return err
		}
	case string:
		b.WriteString(`<string>`)
		escapeText(b, x)
		b.WriteString(`</string>`)
	case []byte:
		b.WriteString(`<base64>`)
		b.WriteString(base64.StdEncoding.EncodeToString(x))
		b.WriteString(`</base64>`)
	case time.Time:
		b.WriteString(`<string>`)
		b.WriteString(x.UTC().Format(time.DateTime))
		b.WriteString(`</string>`)
	case []any:
		b.WriteString(`<array><data>`)
		for _, e := range x {
			if err := encodeValue(b, e, depth+1); err != nil {
				return err
			}
		}
		b.WriteString(`</data></array>`)
	case []int64:
		b.WriteString(`<array><data>`)
		for _, e := range x {
			b.WriteString(`<value>`)
			encodeInt(b, e)
			b.WriteString(`</value>`)
		}
		b.WriteString(`</data></array>`)
	case []int:
		b.WriteString(`<array><data>`)
		for _, e := range x {
			b.WriteString(`<value>`)
			encodeInt(b, int64(e))
			b.WriteString(`</value>`)
		}
		b.WriteString(`</data></array>`)
	case []string:
		b.WriteString(`<array><data>`)
		for _, e := range x {
			b.WriteString(`<value><string>`)
			escapeText(b, e)
			b.WriteString(`</string></value>`)
		}
		b.WriteString(`</data></array>`)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(`<struct>`)
		for _, k := range keys {
			b.WriteString(`<member><name>`)
			escapeText(b, k)
			b.WriteString(`</name>`)
			if err := encodeValue(b, x[k], depth+1); err != nil {
				return err
			}
			b.WriteString(`</member>`)
		}
		b.WriteString(`</struct>`)
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(`<struct>`)
		for _, k := range keys {
			b.WriteString(`<member><name>`)
			escapeText(b, k)
			b.WriteString(`</name><value><string>`)
			escapeText(b, x[k])
			b.WriteString(`</string></value></member>`)
		}
		b.WriteString(`</struct>`)
	default:
		return fmt.Errorf("cannot send a value of Go type %T", v)
	}
	b.WriteString(`</value>`)
	return nil
}

func encodeInt(b *bytes.Buffer, n int64) {
	var tmp [24]byte
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		b.WriteString(`<int>`)
		b.Write(strconv.AppendInt(tmp[:0], n, 10))
		b.WriteString(`</int>`)
		return
	}
	b.WriteString(`<i8>`)
	b.Write(strconv.AppendInt(tmp[:0], n, 10))
	b.WriteString(`</i8>`)
}

func encodeFloat(b *bytes.Buffer, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("number %v cannot be sent to Odoo", f)
	}
	var tmp [32]byte
	b.WriteString(`<double>`)
	b.Write(strconv.AppendFloat(tmp[:0], f, 'f', -1, 64))
	b.WriteString(`</double>`)
	return nil
}

// escapeText writes s as XML character data: &, <, > escaped, CR kept as
// &#13; (a parser would turn a raw CR into LF), characters XML 1.0 forbids
// dropped, invalid UTF-8 replaced by U+FFFD.
func escapeText(b *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch {
			case c == '&':
				esc = "&amp;"
			case c == '<':
				esc = "&lt;"
			case c == '>':
				esc = "&gt;"
			case c == '\r':
				esc = "&#13;"
			case c < 0x20 && c != '\t' && c != '\n':
				esc = ""
			default:
				i++
				continue
			}
			b.WriteString(s[last:i])
			b.WriteString(esc)
			i++
			last = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == 0xFFFE || r == 0xFFFF {
			b.WriteString(s[last:i])
			b.WriteString("\uFFFD")
			i += size
			last = i
			continue
		}
		i += size
	}
	b.WriteString(s[last:])
}
