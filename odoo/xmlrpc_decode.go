package odoo

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// maxDecodeDepth bounds the nesting of arrays and structs in a response, so
// a hostile body cannot exhaust the stack.
const maxDecodeDepth = 200

// maxInterned bounds the table of struct member names shared by a response.
const maxInterned = 4096

// DecodeResponse decodes an XML-RPC methodResponse into plain Go values:
// <int>, <i4> and <i8> become int64; <double> float64 (exponents accepted);
// <boolean> bool; <string>, a typeless <value>x</value>, <dateTime.iso8601>
// string (<value/> is ""); <base64> the decoded bytes as a string; <nil/>
// nil; <array> []any; <struct> map[string]any. A <fault> is returned as a
// *Fault error.
//
// It is a byte-level scanner, not a general XML parser: it accepts what
// XML-RPC servers send (declaration, comments, whitespace between elements,
// the five predefined entities, character references, CDATA) and refuses a
// DOCTYPE. It is several times faster than encoding/xml, which matters for
// search_read pages of thousands of rows.
func DecodeResponse(body []byte) (any, error) {
	d := decoder{b: body}
	v, err := d.response()
	if err != nil {
		var f *Fault
		if errors.As(err, &f) {
			return nil, err
		}
		return nil, decodeError(err)
	}
	return v, nil
}

// decodeError names a decoding error as such. A *syntaxError keeps its
// lazy form (see syntaxError.redact).
func decodeError(err error) error {
	var se *syntaxError
	if errors.As(err, &se) && se == err {
		se.format = "decode xml-rpc response: " + se.format
		return se
	}
	return fmt.Errorf("decode xml-rpc response: %w", err)
}

// DecodeRecords decodes a methodResponse whose value is a list of structs
// (what read and search_read return) into Records, without a map per
// struct. Values are as DecodeResponse gives them.
func DecodeRecords(body []byte) (*Records, error) {
	d := decoder{b: body, rec: &Records{}}
	if _, err := d.response(); err != nil {
		var f *Fault
		if errors.As(err, &f) {
			return nil, err
		}
		return nil, decodeError(err)
	}
	return d.rec, nil
}

// decodeStream decodes an answer as it is read from r (a list of records
// into Records when records is set). A read error of r (a size cap, a
// memory limit, the connection) wins over the syntax error it causes.
func decodeStream(r io.Reader, records bool) (any, error) {
	d := decoder{src: r, b: make([]byte, 0, streamChunk)}
	if records {
		d.rec = &Records{}
	}
	v, err := d.response()
	if d.srcErr != nil && d.srcErr != io.EOF {
		return nil, fmt.Errorf("reading the response: %w", d.srcErr)
	}
	if err != nil {
		var f *Fault
		if errors.As(err, &f) {
			return nil, err
		}
		return nil, decodeError(err)
	}
	if records {
		return d.rec, nil
	}
	return v, nil
}

// streamChunk is how much more of a streamed answer is read at a time.
const streamChunk = 64 << 10

// more reads the next part of a streamed answer into b; false once there
// is no more (end, error, or not streaming).
func (d *decoder) more() bool {
	if d.src == nil || d.srcErr != nil {
		return false
	}
	for {
		if cap(d.b)-len(d.b) < streamChunk/4 {
			nb := make([]byte, len(d.b), 2*cap(d.b)+streamChunk)
			copy(nb, d.b)
			d.b = nb
		}
		n, err := d.src.Read(d.b[len(d.b):cap(d.b)])
		d.b = d.b[:len(d.b)+n]
		if err != nil {
			d.srcErr = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// avail makes at least n bytes from p available when the answer has them.
func (d *decoder) avail(n int) {
	for len(d.b)-d.p < n && d.more() {
	}
}

// find returns the position of pat at or after from, reading more of a
// streamed answer as needed; -1 when the answer has none.
func (d *decoder) find(from int, pat []byte) int {
	scan := from
	for {
		if i := bytes.Index(d.b[scan:], pat); i >= 0 {
			return scan + i
		}
		scan = max(from, len(d.b)-len(pat)+1)
		if !d.more() {
			return -1
		}
	}
}

var (
	ltByte      = []byte("<")
	gtByte      = []byte(">")
	commentEnd  = []byte("-->")
	piEnd       = []byte("?>")
	cdataEnd    = []byte("]]>")
	cdataStart  = []byte("<![CDATA[")
	commentOpen = []byte("<!--")
)

type decoder struct {
	rec *Records // non-nil: the answer is a list of records, decoded into it
	// src, when set, is where the rest of the answer comes from: b holds
	// what was read so far and grows as the decoder needs more (more), so
	// the answer is decoded as it streams in. srcErr is how src ended.
	src    io.Reader
	srcErr error
	b      []byte
	p      int
	depth  int
	intern map[string]string
	hints  [8]int // member count of the last struct seen at each depth
}

type syntaxError struct {
	format string
	args   []any // *shown values are the server's text, clipped when printed
	off    int
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf(e.format, e.args...) + " at byte " + strconv.Itoa(e.off)
}

// redact scrubs the server's text the error quotes, whole, before Error
// clips it.
func (e *syntaxError) redact(s *scrubber) {
	for _, a := range e.args {
		if sh, ok := a.(*shown); ok {
			sh.text = s.clean(sh.text)
		}
	}
}

func (d *decoder) errf(format string, args ...any) error {
	for i, a := range args {
		if b, ok := a.([]byte); ok {
			args[i] = string(b) // the input's buffers may be reused
		}
	}
	return &syntaxError{format: format, args: args, off: d.p}
}

// shown is a piece of the server's text quoted in an error, clipped to 40
// bytes when printed (with %s or %q), so that the client's scrubber sees it
// whole first (see syntaxError.redact).
type shown struct{ pre, text, post string }

func (s *shown) Format(f fmt.State, verb rune) {
	t := s.text
	if len(t) > 40 {
		t = t[:40] + "..."
	}
	if verb == 'q' {
		fmt.Fprintf(f, "%q", t)
		return
	}
	_, _ = io.WriteString(f, s.pre+t+s.post)
}

type tagKind uint8

const (
	tagStart tagKind = iota
	tagEnd
	tagEmpty // <x/>
)

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// nameByte marks the bytes that may appear in a tag name.
var nameByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		switch {
		case c <= ' ', c == '>', c == '/', c == '<', c == '"', c == '\'', c == '=':
		default:
			t[c] = true
		}
	}
	return t
}()

// skipMisc skips whitespace, comments and processing instructions between
// elements.
func (d *decoder) skipMisc() error {
	for {
		for {
			for d.p < len(d.b) && isSpace(d.b[d.p]) {
				d.p++
			}
			if d.p < len(d.b) || !d.more() {
				break
			}
		}
		d.avail(4)
		if d.p+1 < len(d.b) && d.b[d.p] == '<' && d.b[d.p+1] != '!' && d.b[d.p+1] != '?' {
			return nil // the common case: a tag
		}
		rest := d.b[d.p:]
		switch {
		case bytes.HasPrefix(rest, commentOpen):
			end := d.find(d.p+4, commentEnd)
			if end < 0 {
				return d.errf("unterminated comment")
			}
			d.p = end + 3
		case bytes.HasPrefix(rest, []byte("<?")):
			end := d.find(d.p+2, piEnd)
			if end < 0 {
				return d.errf("unterminated processing instruction")
			}
			d.p = end + 2
		case bytes.HasPrefix(rest, []byte("<!")):
			return d.errf("DOCTYPE and other declarations are not accepted")
		default:
			return nil
		}
	}
}

// tag reads the tag at the current position (which must be '<').
func (d *decoder) tag() ([]byte, tagKind, error) {
	if d.src != nil {
		d.find(d.p, gtByte) // the whole tag at hand, as far as the answer goes
	}
	if d.p >= len(d.b) {
		return nil, 0, d.errf("unexpected end of response")
	}
	if d.b[d.p] != '<' {
		return nil, 0, d.errf("expected a tag")
	}
	p := d.p + 1
	kind := tagStart
	if p < len(d.b) && d.b[p] == '/' {
		kind = tagEnd
		p++
	}
	start := p
	for p < len(d.b) && nameByte[d.b[p]] {
		p++
	}
	name := d.b[start:p]
	if len(name) == 0 {
		return nil, 0, d.errf("empty tag name")
	}
	if p < len(d.b) && d.b[p] == '>' {
		d.p = p + 1 // the common case: <name> or </name>
		return name, kind, nil
	}
	if p < len(d.b) && !(d.b[p] == '/' || isSpace(d.b[p])) {
		return nil, 0, d.errf("bad tag name")
	}
	// Attributes are ignored (XML-RPC has none); skip to '>' honouring quotes.
	var quote byte
	for ; p < len(d.b) || (p == len(d.b) && d.more()); p++ {
		c := d.b[p]
		if quote != 0 {
			if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '"', '\'':
			if kind == tagEnd {
				return nil, 0, d.errf("bad end tag")
			}
			quote = c
		case '<':
			return nil, 0, d.errf("unterminated tag")
		case '>':
			if d.b[p-1] == '/' && p-1 >= start+len(name) {
				if kind == tagEnd {
					return nil, 0, d.errf("bad end tag")
				}
				kind = tagEmpty
			}
			d.p = p + 1
			return name, kind, nil
		}
	}
	return nil, 0, d.errf("unterminated tag")
}

// expect reads the next element tag (after misc) and checks it.
func (d *decoder) expect(name string, kind tagKind) error {
	if err := d.skipMisc(); err != nil {
		return err
	}
	n, k, err := d.tag()
	if err != nil {
		return err
	}
	if string(n) != name || k != kind {
		return d.errf("expected %s, found %s", showTag(name, kind), showTag(string(n), k))
	}
	return nil
}

func showTag(name string, k tagKind) *shown {
	switch k {
	case tagEnd:
		return &shown{"</", name, ">"}
	case tagEmpty:
		return &shown{"<", name, "/>"}
	}
	return &shown{"<", name, ">"}
}

// text reads character data up to the next tag. The result may alias the
// input (fast path) and is only valid until the next call.
func (d *decoder) text() ([]byte, error) {
	i := d.find(d.p, ltByte) - d.p
	if i < 0 {
		return nil, d.errf("unexpected end of response in text")
	}
	d.avail(i + 2)
	seg := d.b[d.p : d.p+i]
	next := d.b[d.p+i:]
	if !(len(next) > 1 && next[1] == '!') && bytes.IndexByte(seg, '&') < 0 && bytes.IndexByte(seg, '\r') < 0 {
		d.p += i
		return seg, nil
	}
	var buf []byte
	for {
		i := d.find(d.p, ltByte) - d.p
		if i < 0 {
			return nil, d.errf("unexpected end of response in text")
		}
		var err error
		buf, err = d.appendDecoded(buf, d.b[d.p:d.p+i])
		if err != nil {
			return nil, err
		}
		d.p += i
		d.avail(len(cdataStart))
		rest := d.b[d.p:]
		switch {
		case bytes.HasPrefix(rest, cdataStart):
			end := d.find(d.p+9, cdataEnd)
			if end < 0 {
				return nil, d.errf("unterminated CDATA section")
			}
			buf = appendNormalized(buf, d.b[d.p+9:end])
			d.p = end + 3
		case bytes.HasPrefix(rest, commentOpen):
			end := d.find(d.p+4, commentEnd)
			if end < 0 {
				return nil, d.errf("unterminated comment")
			}
			d.p = end + 3
		default:
			return buf, nil
		}
	}
}

// appendNormalized appends s with line ends normalized (CRLF and CR to LF),
// as an XML parser does.
func appendNormalized(buf, s []byte) []byte {
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\r')
		if i < 0 {
			return append(buf, s...)
		}
		buf = append(buf, s[:i]...)
		buf = append(buf, '\n')
		s = s[i+1:]
		if len(s) > 0 && s[0] == '\n' {
			s = s[1:]
		}
	}
	return buf
}

// appendDecoded appends character data with entity and character references
// resolved.
func (d *decoder) appendDecoded(buf, s []byte) ([]byte, error) {
	for len(s) > 0 {
		i := bytes.IndexByte(s, '&')
		if i < 0 {
			return appendNormalized(buf, s), nil
		}
		buf = appendNormalized(buf, s[:i])
		s = s[i:]
		end := bytes.IndexByte(s, ';')
		if end < 0 || end > 12 {
			return nil, d.errf("bad entity reference")
		}
		ref := s[1:end]
		s = s[end+1:]
		switch string(ref) {
		case "lt":
			buf = append(buf, '<')
		case "gt":
			buf = append(buf, '>')
		case "amp":
			buf = append(buf, '&')
		case "quot":
			buf = append(buf, '"')
		case "apos":
			buf = append(buf, '\'')
		default:
			if len(ref) < 2 || ref[0] != '#' {
				// Not quoted: a reference is a fragment of the text, which
				// the scrubber could not recognize as part of a secret.
				return nil, d.errf("unknown entity reference")
			}
			var n uint64
			var err error
			if ref[1] == 'x' {
				n, err = strconv.ParseUint(string(ref[2:]), 16, 32)
			} else {
				n, err = strconv.ParseUint(string(ref[1:]), 10, 32)
			}
			if err != nil || !utf8.ValidRune(rune(n)) || n == 0 {
				return nil, d.errf("bad character reference")
			}
			buf = utf8.AppendRune(buf, rune(n))
		}
	}
	return buf, nil
}

func (d *decoder) response() (any, error) {
	if err := d.expect("methodResponse", tagStart); err != nil {
		return nil, err
	}
	if err := d.skipMisc(); err != nil {
		return nil, err
	}
	name, kind, err := d.tag()
	if err != nil {
		return nil, err
	}
	var result any
	switch {
	case string(name) == "params" && kind == tagEmpty:
	case string(name) == "params" && kind == tagStart:
		if err := d.skipMisc(); err != nil {
			return nil, err
		}
		n, k, err := d.tag()
		if err != nil {
			return nil, err
		}
		if !(string(n) == "params" && k == tagEnd) {
			if string(n) != "param" || k != tagStart {
				return nil, d.errf("expected <param>, found %s", showTag(string(n), k))
			}
			if d.rec != nil {
				err = d.recordsElement()
			} else {
				result, err = d.valueElement()
			}
			if err != nil {
				return nil, err
			}
			if err := d.expect("param", tagEnd); err != nil {
				return nil, err
			}
			if err := d.expect("params", tagEnd); err != nil {
				return nil, err
			}
		}
	case string(name) == "fault" && kind == tagStart:
		v, err := d.valueElement()
		if err != nil {
			return nil, err
		}
		if err := d.expect("fault", tagEnd); err != nil {
			return nil, err
		}
		return nil, faultFromValue(v)
	default:
		return nil, d.errf("expected <params> or <fault>, found %s", showTag(string(name), kind))
	}
	if err := d.expect("methodResponse", tagEnd); err != nil {
		return nil, err
	}
	if err := d.skipMisc(); err != nil {
		return nil, err
	}
	if d.p != len(d.b) || d.more() {
		return nil, d.errf("unexpected data after </methodResponse>")
	}
	return result, nil
}

func faultFromValue(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return errors.New("fault is not a struct")
	}
	code, _ := m["faultCode"].(int64)
	s, _ := m["faultString"].(string)
	if _, ok := m["faultCode"].(int64); !ok {
		if cs, isStr := m["faultCode"].(string); isStr {
			n, err := strconv.Atoi(cs)
			if err != nil {
				return fmt.Errorf("fault has a non-numeric faultCode %q", cs)
			}
			code = int64(n)
		} else {
			return errors.New("fault has no integer faultCode")
		}
	}
	return newFault(int(code), s)
}

// valueElement reads <value>...</value> (or <value/>) after misc.
func (d *decoder) valueElement() (any, error) {
	if err := d.skipMisc(); err != nil {
		return nil, err
	}
	n, k, err := d.tag()
	if err != nil {
		return nil, err
	}
	if string(n) != "value" || k == tagEnd {
		return nil, d.errf("expected <value>, found %s", showTag(string(n), k))
	}
	if k == tagEmpty {
		return "", nil
	}
	return d.value()
}

// value reads the content of a <value> element whose start tag was read,
// and its end tag.
func (d *decoder) value() (any, error) {
	t, err := d.text()
	if err != nil {
		return nil, err
	}
	n, k, err := d.tag()
	if err != nil {
		return nil, err
	}
	if k == tagEnd {
		if string(n) != "value" {
			return nil, d.errf("expected </value>, found %s", showTag(string(n), k))
		}
		return string(t), nil
	}
	for _, c := range t {
		if !isSpace(c) {
			return nil, d.errf("text before <%s> in a value", n)
		}
	}
	v, err := d.typed(n, k)
	if err != nil {
		return nil, err
	}
	if err := d.expect("value", tagEnd); err != nil {
		return nil, err
	}
	return v, nil
}

// leaf reads the text of a scalar element whose start tag was read, and its
// end tag.
func (d *decoder) leaf(name []byte, k tagKind) ([]byte, error) {
	if k == tagEmpty {
		return nil, nil
	}
	t, err := d.text()
	if err != nil {
		return nil, err
	}
	n, kk, err := d.tag()
	if err != nil {
		return nil, err
	}
	if kk != tagEnd || !bytes.Equal(n, name) {
		return nil, d.errf("expected </%s>, found %s", name, showTag(string(n), kk))
	}
	return t, nil
}

func (d *decoder) typed(name []byte, k tagKind) (any, error) {
	switch string(name) {
	case "int", "i4", "i8":
		t, err := d.leaf(name, k)
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(t)), 10, 64)
		if err != nil {
			return nil, d.errf("bad <%s> value %q", name, clip(t))
		}
		return n, nil
	case "double":
		t, err := d.leaf(name, k)
		if err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(string(bytes.TrimSpace(t)), 64)
		if err != nil {
			return nil, d.errf("bad <double> value %q", clip(t))
		}
		return f, nil
	case "boolean":
		t, err := d.leaf(name, k)
		if err != nil {
			return nil, err
		}
		switch string(bytes.TrimSpace(t)) {
		case "1", "true":
			return true, nil
		case "0", "false":
			return false, nil
		}
		return nil, d.errf("bad <boolean> value %q", clip(t))
	case "string", "dateTime.iso8601":
		t, err := d.leaf(name, k)
		if err != nil {
			return nil, err
		}
		return string(t), nil
	case "base64":
		t, err := d.leaf(name, k)
		if err != nil {
			return nil, err
		}
		clean := make([]byte, 0, len(t))
		for _, c := range t {
			if !isSpace(c) {
				clean = append(clean, c)
			}
		}
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil {
			return nil, d.errf("bad <base64> value")
		}
		return string(out[:n]), nil
	case "nil":
		if _, err := d.leaf(name, k); err != nil {
			return nil, err
		}
		return nil, nil
	case "array":
		if k == tagEmpty {
			return []any{}, nil
		}
		return d.array()
	case "struct":
		if k == tagEmpty {
			return map[string]any{}, nil
		}
		return d.structure()
	}
	return nil, d.errf("unknown value type <%s>", clip(name))
}

func clip(b []byte) *shown { return &shown{text: string(b)} }

func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxDecodeDepth {
		return d.errf("values nested deeper than %d", maxDecodeDepth)
	}
	return nil
}

func (d *decoder) array() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer func() { d.depth-- }()
	if err := d.skipMisc(); err != nil {
		return nil, err
	}
	n, k, err := d.tag()
	if err != nil {
		return nil, err
	}
	if string(n) != "data" || k == tagEnd {
		return nil, d.errf("expected <data>, found %s", showTag(string(n), k))
	}
	out := []any{}
	if k == tagStart {
		for {
			if err := d.skipMisc(); err != nil {
				return nil, err
			}
			n, k, err := d.tag()
			if err != nil {
				return nil, err
			}
			if string(n) == "data" && k == tagEnd {
				break
			}
			if string(n) != "value" || k == tagEnd {
				return nil, d.errf("expected <value> or </data>, found %s", showTag(string(n), k))
			}
			if k == tagEmpty {
				out = append(out, "")
				continue
			}
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	if err := d.expect("array", tagEnd); err != nil {
		return nil, err
	}
	return out, nil
}

func (d *decoder) structure() (any, error) {
	slot := &d.hints[(d.depth+1)%len(d.hints)]
	m := make(map[string]any, *slot)
	if err := d.members(func(key string, v any) { m[key] = v }); err != nil {
		return nil, err
	}
	if len(m) <= 64 {
		*slot = len(m)
	}
	return m, nil
}

// members reads the members of a struct whose start tag was read, up to
// </struct>, handing each to set.
func (d *decoder) members(set func(key string, v any)) error {
	if err := d.enter(); err != nil {
		return err
	}
	defer func() { d.depth-- }()
	for {
		if err := d.skipMisc(); err != nil {
			return err
		}
		n, k, err := d.tag()
		if err != nil {
			return err
		}
		if string(n) == "struct" && k == tagEnd {
			return nil
		}
		if string(n) != "member" || k != tagStart {
			return d.errf("expected <member> or </struct>, found %s", showTag(string(n), k))
		}
		if err := d.skipMisc(); err != nil {
			return err
		}
		n, k, err = d.tag()
		if err != nil {
			return err
		}
		if string(n) != "name" || k == tagEnd {
			return d.errf("expected <name>, found %s", showTag(string(n), k))
		}
		t, err := d.leaf(n, k)
		if err != nil {
			return err
		}
		key := d.internString(t)
		v, err := d.valueElement()
		if err != nil {
			return err
		}
		if err := d.expect("member", tagEnd); err != nil {
			return err
		}
		set(key, v)
	}
}

// recordsElement reads <value><array><data> of <value><struct>s into
// d.rec.
func (d *decoder) recordsElement() error {
	for _, want := range []string{"value", "array", "data"} {
		if err := d.skipMisc(); err != nil {
			return err
		}
		n, k, err := d.tag()
		if err != nil {
			return err
		}
		if string(n) != want || k == tagEnd {
			return d.errf("expected a list of records: <%s>, found %s", want, showTag(string(n), k))
		}
		if k == tagEmpty { // <value/>, <array/> or <data/>: no records
			if want == "value" {
				return d.errf("expected a list of records, found an empty value")
			}
			return d.closeRecords(want)
		}
	}
	for {
		if err := d.skipMisc(); err != nil {
			return err
		}
		n, k, err := d.tag()
		if err != nil {
			return err
		}
		if string(n) == "data" && k == tagEnd {
			break
		}
		if string(n) != "value" || k != tagStart {
			return d.errf("expected <value> or </data>, found %s", showTag(string(n), k))
		}
		if err := d.skipMisc(); err != nil {
			return err
		}
		n, k, err = d.tag()
		if err != nil {
			return err
		}
		if string(n) != "struct" || k == tagEnd {
			return d.errf("record %d is not a struct: found %s", d.rec.n+1, showTag(string(n), k))
		}
		d.rec.beginRecord()
		if k == tagStart {
			if err := d.members(d.rec.set); err != nil {
				return err
			}
		}
		d.rec.endRecord()
		if err := d.expect("value", tagEnd); err != nil {
			return err
		}
	}
	return d.closeRecords("data")
}

// closeRecords reads the end tags that close the records' value once
// inner (array or data) is closed.
func (d *decoder) closeRecords(inner string) error {
	if inner == "data" {
		if err := d.expect("array", tagEnd); err != nil {
			return err
		}
	}
	return d.expect("value", tagEnd)
}

func (d *decoder) internString(b []byte) string {
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if d.intern == nil {
		d.intern = make(map[string]string, 32)
	}
	if len(d.intern) < maxInterned {
		d.intern[s] = s
	}
	return s
}
