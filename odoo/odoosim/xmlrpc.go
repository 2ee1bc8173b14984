package odoosim

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// --- request decoding ------------------------------------------------------------
//
// decodeMethodCall reads a <methodCall> the way Python's xmlrpc.client.loads
// (which Odoo uses) does: <int>, <i4>, <i8>, <boolean>, <double>, <string>,
// <base64>, <dateTime.iso8601>, <nil/>, <array>, <struct>; a typeless
// <value>x</value> is the string "x" (spaces kept) and <value/> is "".

const maxValueDepth = 256

type xmlDecoder struct {
	d     *xml.Decoder
	depth int
}

func expatErr(format string, args ...any) *pyErr {
	return newErr("xml.parsers.expat.ExpatError", 1, 500, format, args...)
}

func decodeMethodCall(body []byte) (method string, params []any, err error) {
	defer func() {
		if err != nil {
			var pe *pyErr
			if !errors.As(err, &pe) {
				err = expatErr("%s", err.Error())
			}
		}
	}()
	x := &xmlDecoder{d: xml.NewDecoder(bytes.NewReader(body))}
	x.d.CharsetReader = charsetReader
	root, err := x.nextStart()
	if err != nil {
		return "", nil, err
	}
	if root.Name.Local != "methodCall" {
		return "", nil, newErr("xmlrpc.client.ResponseError", 1, 500, "ResponseError(%s)",
			pyRepr("unexpected root element "+root.Name.Local))
	}
	params = []any{}
	for {
		tok, err := x.token()
		if err != nil {
			return "", nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "methodName":
				method, err = x.text("methodName")
				if err != nil {
					return "", nil, err
				}
			case "params":
				if params, err = x.params(); err != nil {
					return "", nil, err
				}
			default:
				return "", nil, newErr("xmlrpc.client.ResponseError", 1, 500, "ResponseError(%s)",
					pyRepr("unknown tag "+t.Name.Local))
			}
		case xml.EndElement:
			if err := x.expectEOF(); err != nil {
				return "", nil, err
			}
			return method, params, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return "", nil, expatErr("unexpected text in methodCall")
			}
		}
	}
}

// charsetReader accepts the encodings expat knows besides UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		var out []byte
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	case "utf-8", "utf8":
		return in, nil
	}
	return nil, fmt.Errorf("unknown encoding: %s", label)
}

func (x *xmlDecoder) token() (xml.Token, error) {
	for {
		tok, err := x.d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, expatErr("no element found")
			}
			return nil, err
		}
		switch tok.(type) {
		case xml.Comment, xml.ProcInst, xml.Directive:
			continue
		}
		return tok, nil
	}
}

func (x *xmlDecoder) nextStart() (xml.StartElement, error) {
	for {
		tok, err := x.token()
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, expatErr("syntax error: text outside of elements")
			}
		case xml.EndElement:
			return xml.StartElement{}, expatErr("unexpected end tag </%s>", t.Name.Local)
		}
	}
}

func (x *xmlDecoder) expectEOF() error {
	for {
		tok, err := x.d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return expatErr("junk after document element")
			}
		case xml.Comment, xml.ProcInst:
		default:
			return expatErr("junk after document element")
		}
	}
}

// text reads the character data of a text-only element up to its end tag.
func (x *xmlDecoder) text(name string) (string, error) {
	var buf []byte
	for {
		tok, err := x.token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			buf = append(buf, t...)
		case xml.EndElement:
			if t.Name.Local != name {
				return "", expatErr("mismatched tag </%s> in <%s>", t.Name.Local, name)
			}
			return string(buf), nil
		case xml.StartElement:
			return "", newErr("xmlrpc.client.ResponseError", 1, 500, "ResponseError(%s)",
				pyRepr("unknown tag "+t.Name.Local+" in "+name))
		}
	}
}

// skipSpace reads up to the next start or end element, allowing only
// whitespace in between.
func (x *xmlDecoder) nextElem() (xml.Token, error) {
	for {
		tok, err := x.token()
		if err != nil {
			return nil, err
		}
		if t, ok := tok.(xml.CharData); ok {
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, expatErr("unexpected text %s", pyRepr(string(bytes.TrimSpace(t))))
			}
			continue
		}
		return tok, nil
	}
}

func (x *xmlDecoder) params() ([]any, error) {
	out := []any{}
	for {
		tok, err := x.nextElem()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return out, nil
		case xml.StartElement:
			if t.Name.Local != "param" {
				return nil, expatErr("unexpected <%s> in params", t.Name.Local)
			}
			v, err := x.wrappedValue("param")
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
}

// wrappedValue reads <value>...</value></parent>.
func (x *xmlDecoder) wrappedValue(parent string) (any, error) {
	tok, err := x.nextElem()
	if err != nil {
		return nil, err
	}
	st, ok := tok.(xml.StartElement)
	if !ok || st.Name.Local != "value" {
		return nil, expatErr("expected <value> in <%s>", parent)
	}
	v, err := x.value()
	if err != nil {
		return nil, err
	}
	end, err := x.nextElem()
	if err != nil {
		return nil, err
	}
	if e, ok := end.(xml.EndElement); !ok || e.Name.Local != parent {
		return nil, expatErr("expected </%s>", parent)
	}
	return v, nil
}

// value reads the content of a <value> element, its start tag consumed.
func (x *xmlDecoder) value() (any, error) {
	x.depth++
	defer func() { x.depth-- }()
	if x.depth > maxValueDepth {
		return nil, newErr("RecursionError", 1, 500, "maximum recursion depth exceeded")
	}
	var text []byte
	for {
		tok, err := x.token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text = append(text, t...)
		case xml.EndElement:
			return string(text), nil // typeless value: a string
		case xml.StartElement:
			v, err := x.typed(t.Name.Local)
			if err != nil {
				return nil, err
			}
			end, err := x.nextElem()
			if err != nil {
				return nil, err
			}
			if e, ok := end.(xml.EndElement); !ok || e.Name.Local != "value" {
				return nil, expatErr("expected </value> after <%s>", t.Name.Local)
			}
			return v, nil
		}
	}
}

func (x *xmlDecoder) typed(name string) (any, error) {
	switch name {
	case "int", "i4", "i8", "i1", "i2", "biginteger":
		s, err := x.text(name)
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, valueErr("invalid literal for int() with base 10: %s", pyRepr(s))
		}
		return n, nil
	case "boolean":
		s, err := x.text(name)
		if err != nil {
			return nil, err
		}
		switch s {
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
		return nil, typeErr("bad boolean value")
	case "double", "float", "bigdecimal":
		s, err := x.text(name)
		if err != nil {
			return nil, err
		}
		f, ok := parsePyFloat(s)
		if !ok {
			return nil, valueErr("could not convert string to float: %s", pyRepr(s))
		}
		return f, nil
	case "string":
		return x.text(name)
	case "base64":
		s, err := x.text(name)
		if err != nil {
			return nil, err
		}
		clean := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
				return -1
			}
			return r
		}, s)
		b, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(clean, "=")); err != nil {
				return nil, newErr("binascii.Error", 1, 500, "Incorrect padding")
			}
		}
		return string(b), nil
	case "dateTime.iso8601":
		s, err := x.text(name)
		if err != nil {
			return nil, err
		}
		for _, layout := range []string{"20060102T15:04:05", "2006-01-02T15:04:05", "20060102T150405"} {
			if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
				return t.Format("2006-01-02 15:04:05"), nil
			}
		}
		return nil, valueErr("time data %s does not match format '%%Y%%m%%dT%%H:%%M:%%S'", pyRepr(s))
	case "nil":
		if _, err := x.text(name); err != nil {
			return nil, err
		}
		return nil, nil
	case "array":
		return x.array()
	case "struct":
		return x.structure()
	}
	return nil, newErr("xmlrpc.client.ResponseError", 1, 500, "ResponseError(%s)", pyRepr("unknown tag "+name))
}

func (x *xmlDecoder) array() (any, error) {
	tok, err := x.nextElem()
	if err != nil {
		return nil, err
	}
	if e, ok := tok.(xml.EndElement); ok && e.Name.Local == "array" {
		return []any{}, nil
	}
	st, ok := tok.(xml.StartElement)
	if !ok || st.Name.Local != "data" {
		return nil, expatErr("expected <data> in <array>")
	}
	out := []any{}
	for {
		tok, err := x.nextElem()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			end, err := x.nextElem()
			if err != nil {
				return nil, err
			}
			if e, ok := end.(xml.EndElement); !ok || e.Name.Local != "array" {
				return nil, expatErr("expected </array>")
			}
			return out, nil
		case xml.StartElement:
			if t.Name.Local != "value" {
				return nil, expatErr("unexpected <%s> in array", t.Name.Local)
			}
			v, err := x.value()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
}

func (x *xmlDecoder) structure() (any, error) {
	out := map[string]any{}
	for {
		tok, err := x.nextElem()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return out, nil
		case xml.StartElement:
			if t.Name.Local != "member" {
				return nil, expatErr("unexpected <%s> in struct", t.Name.Local)
			}
			tok, err := x.nextElem()
			if err != nil {
				return nil, err
			}
			st, ok := tok.(xml.StartElement)
			if !ok || st.Name.Local != "name" {
				return nil, expatErr("expected <name> in member")
			}
			name, err := x.text("name")
			if err != nil {
				return nil, err
			}
			v, err := x.wrappedValue("member")
			if err != nil {
				return nil, err
			}
			out[name] = v
		}
	}
}

// parsePyFloat is Python's float(str).
func parsePyFloat(s string) (float64, bool) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(strings.TrimLeft(t, "+-")) {
	case "inf", "infinity":
		return cond(strings.HasPrefix(t, "-"), math.Inf(-1), math.Inf(1)), true
	case "nan":
		return math.NaN(), true
	}
	if strings.ContainsAny(t, "xXpP") {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// --- response encoding ------------------------------------------------------------
//
// Responses are written the way Python's xmlrpc.client.Marshaller (with
// Odoo's overrides) writes them, byte for byte, and streamed: a search_read
// of 100k rows is encoded chunk by chunk into a reused buffer.

const chunkSize = 256 << 10

type xmlEnc struct {
	s   *Sim
	buf []byte
	w   io.Writer
	err error
}

func (e *xmlEnc) flush() {
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
}

// xmlPlain marks the bytes written as they are.
var xmlPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '&' && c != '<' && c != '>'
	}
	return t
}()

func appendXMLString(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if xmlPlain[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\uFFFD"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '&':
			dst = append(dst, "&amp;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '\t', '\n':
			dst = append(dst, c)
		case '\r':
			dst = append(dst, c)
		}
		// other control characters are dropped
		i++
		start = i
	}
	return append(dst, s[start:]...)
}

func appendXMLInt(dst []byte, n int64) []byte {
	if n > math.MaxInt32 || n < math.MinInt32 {
		// Odoo sends integers beyond XML-RPC's int32 as doubles.
		dst = append(dst, "<value><double>"...)
		dst = appendPyFloat(dst, float64(n))
		return append(dst, "</double></value>\n"...)
	}
	dst = append(dst, "<value><int>"...)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, "</int></value>\n"...)
}

func appendXMLBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "<value><boolean>1</boolean></value>\n"...)
	}
	return append(dst, "<value><boolean>0</boolean></value>\n"...)
}

func appendXMLStr(dst []byte, s string) []byte {
	dst = append(dst, "<value><string>"...)
	dst = appendXMLString(dst, s)
	return append(dst, "</string></value>\n"...)
}

func appendXMLFloat(dst []byte, f float64) []byte {
	dst = append(dst, "<value><double>"...)
	dst = appendPyFloat(dst, f)
	return append(dst, "</double></value>\n"...)
}

func appendXMLMemberName(dst []byte, k string) []byte {
	dst = append(dst, "<member>\n<name>"...)
	dst = appendXMLString(dst, k)
	return append(dst, "</name>\n"...)
}

// appendXMLValue encodes a plain result value.
func appendXMLValue(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		// Odoo cannot marshal None: serveXMLRPC answers a fault instead.
		return appendXMLBool(dst, false)
	case bool:
		return appendXMLBool(dst, x)
	case int64:
		return appendXMLInt(dst, x)
	case int:
		return appendXMLInt(dst, int64(x))
	case float64:
		return appendXMLFloat(dst, x)
	case string:
		return appendXMLStr(dst, x)
	case []int64:
		dst = append(dst, "<value><array><data>\n"...)
		for _, n := range x {
			dst = appendXMLInt(dst, n)
		}
		return append(dst, "</data></array></value>\n"...)
	case []any:
		dst = append(dst, "<value><array><data>\n"...)
		for _, it := range x {
			dst = appendXMLValue(dst, it)
		}
		return append(dst, "</data></array></value>\n"...)
	case omap:
		dst = append(dst, "<value><struct>\n"...)
		for _, p := range x {
			dst = appendXMLMemberName(dst, p.k)
			dst = appendXMLValue(dst, p.v)
			dst = append(dst, "</member>\n"...)
		}
		return append(dst, "</struct></value>\n"...)
	case map[string]any:
		return appendXMLValue(dst, sortedMap(x))
	}
	return appendXMLStr(dst, fmt.Sprint(v))
}

func sortedMap(m map[string]any) omap {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	out := make(omap, len(keys))
	for i, k := range keys {
		out[i] = kv{k, m[k]}
	}
	return out
}

// appendXMLField encodes one field value of a record as read returns it.
func (s *Sim) appendXMLField(dst []byte, f *field, v value, classic bool) []byte {
	switch v.k {
	case kNull:
		switch {
		case f.typ == "integer":
			return appendXMLInt(dst, 0)
		case f.numeric():
			return appendXMLFloat(dst, 0)
		case f.typ == "one2many" || f.typ == "many2many":
			return append(dst, "<value><array><data>\n</data></array></value>\n"...)
		}
		return appendXMLBool(dst, false)
	case kBool:
		return appendXMLBool(dst, v.b)
	case kInt:
		if f.typ == "many2one" && classic {
			dst = append(dst, "<value><array><data>\n"...)
			dst = appendXMLInt(dst, v.i)
			dst = appendXMLStr(dst, s.db.displayName(f.co, v.i))
			return append(dst, "</data></array></value>\n"...)
		}
		if f.typ == "float" || f.typ == "monetary" {
			return appendXMLFloat(dst, float64(v.i))
		}
		return appendXMLInt(dst, v.i)
	case kFloat:
		return appendXMLFloat(dst, v.f)
	case kStr:
		return appendXMLStr(dst, v.s)
	case kIDs:
		dst = append(dst, "<value><array><data>\n"...)
		for _, id := range v.ids {
			dst = appendXMLInt(dst, id)
		}
		return append(dst, "</data></array></value>\n"...)
	}
	return appendXMLBool(dst, false)
}

const xmlHead = "<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>\n"
const xmlTail = "</param>\n</params>\n\n</methodResponse>\n"

// writeXMLResult streams a method's result.
func (s *Sim) writeXMLResult(w http.ResponseWriter, result any) error {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	e := &xmlEnc{s: s, w: w, buf: make([]byte, 0, chunkSize+4096)}
	e.buf = append(e.buf, xmlHead...)
	if rr, ok := result.(*recordsResult); ok {
		e.buf = append(e.buf, "<value><array><data>\n"...)
		s.encodeRecords(rr, &e.buf, e.flush, "", func(dst []byte, r rec) []byte {
			dst = append(dst, "<value><struct>\n"...)
			for _, f := range rr.fields {
				dst = appendXMLMemberName(dst, f.name)
				dst = s.appendXMLField(dst, f, f.get(s.db, r), rr.classic)
				dst = append(dst, "</member>\n"...)
			}
			return append(dst, "</struct></value>\n"...)
		})
		e.buf = append(e.buf, "</data></array></value>\n"...)
	} else {
		e.buf = appendXMLValue(e.buf, result)
	}
	e.buf = append(e.buf, xmlTail...)
	e.flush()
	return e.err
}

// encodeRecords encodes the rows of rr into *buf, flushing every chunkSize
// bytes. The read lock is held while a chunk is encoded (display names are
// looked up) and released while it is written to the network, so a slow
// client never blocks writers.
func (s *Sim) encodeRecords(rr *recordsResult, buf *[]byte, flush func(), sep string, row func([]byte, rec) []byte) {
	i := 0
	for i < len(rr.recs) {
		s.mu.RLock()
		for i < len(rr.recs) && len(*buf) < chunkSize {
			if i > 0 {
				*buf = append(*buf, sep...)
			}
			*buf = row(*buf, rr.recs[i])
			i++
		}
		s.mu.RUnlock()
		if len(*buf) >= chunkSize {
			flush()
		}
	}
}

// writeXMLFault writes err as a fault: with an int faultCode (1 to 4) on
// /xmlrpc/2/<service> (xmlrpc_handle_exception_int), with a string one on
// the legacy /xmlrpc/<service> (xmlrpc_handle_exception_string); both in
// odoo/addons/base/controllers/rpc.py.
func (s *Sim) writeXMLFault(w http.ResponseWriter, err error, legacy bool) {
	var pe *pyErr
	if !errors.As(err, &pe) {
		pe = newErr("Exception", 1, 500, "%s", err.Error())
	}
	s.log(levelFor(pe), "xml-rpc fault", "code", pe.fault, "error", pe.Error())
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	buf := make([]byte, 0, 1024)
	buf = append(buf, "<?xml version=\"1.0\"?>\n<methodResponse>\n<fault>\n<value><struct>\n"...)
	buf = appendXMLMemberName(buf, "faultCode")
	if legacy {
		code, str := pe.onRoute(legacyFrames, 2).legacyFault()
		buf = appendXMLStr(buf, code)
		buf = append(buf, "</member>\n"...)
		buf = appendXMLMemberName(buf, "faultString")
		buf = appendXMLStr(buf, str)
	} else {
		buf = appendXMLInt(buf, int64(pe.fault))
		buf = append(buf, "</member>\n"...)
		buf = appendXMLMemberName(buf, "faultString")
		buf = appendXMLStr(buf, pe.faultString())
	}
	buf = append(buf, "</member>\n</struct></value>\n</fault>\n\n</methodResponse>\n"...)
	_, _ = w.Write(buf)
}

// --- XML-RPC services ---------------------------------------------------------------

// serveXMLRPC serves /xmlrpc/2/<service> and, legacy, /xmlrpc/<service>:
// the same services, with string fault codes on the legacy route.
func (s *Sim) serveXMLRPC(w http.ResponseWriter, r *http.Request, service string, legacy bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	wk := &work{}
	s.onWorker(w, r, wk, func(w http.ResponseWriter) {
		start := time.Now()
		method, params, err := decodeMethodCall(body)
		wk.method = method
		// The knobs answer an object call whatever its body, as before it
		// was decoded; it is decoded first only to name it in the stats.
		if service == "object" {
			wk.model, wk.method = objectTarget(method, params)
			if !s.objectCall(w) {
				return
			}
		}
		var result any
		if err == nil {
			switch service {
			case "common":
				result, err = s.common(r, method, params)
			case "object":
				result, err = s.object(wk, method, params)
			case "db":
				result, err = s.dbService(method, params)
			default:
				err = keyErr(service)
			}
		}
		if berr := s.busy(r.Context(), wk); berr != nil {
			s.abandon(w, berr)
			return
		}
		if err == nil && result == nil && service == "object" {
			// A method that returns None (button_draft, button_cancel):
			// Odoo's dumps(allow_none=False) fails once the method ran
			// and its transaction committed.
			err = typeErr("cannot marshal None unless allow_none is enabled")
		}
		if err != nil {
			s.writeXMLFault(w, err, legacy)
			return
		}
		if werr := s.writeXMLResult(w, result); werr == nil {
			s.log(slogDebug, "xml-rpc call", "service", service, "method", method, "duration", time.Since(start))
		}
	})
}

// objectTarget names an object call for the stats: the model and method of
// execute_kw and execute (db, uid, password, model, method, ...), else no
// model and the service's method.
func objectTarget(method string, params []any) (model, name string) {
	if method == "execute_kw" || method == "execute" {
		if len(params) >= 5 {
			m, ok1 := params[3].(string)
			n, ok2 := params[4].(string)
			if ok1 && ok2 {
				return m, n
			}
		}
	}
	return "", method
}

func (s *Sim) checkDB(db any) error {
	name, _ := db.(string)
	if name != s.dbName {
		return pgErr("OperationalError", "connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" "+
			"failed: FATAL:  database %s does not exist", strconv.Quote(pyStr(db)))
	}
	return nil
}

func (s *Sim) common(r *http.Request, method string, params []any) (any, error) {
	switch method {
	case "version":
		return s.versionInfo(), nil
	case "about":
		return "See http://openerp.com", nil
	case "login", "authenticate":
		want := cond(method == "login", 3, 4)
		if len(params) < want {
			return nil, typeErr("exp_%s() missing %d required positional argument(s)", method, want-len(params))
		}
		if len(params) > want {
			return nil, typeErr("exp_%s() takes %d positional arguments but %d were given", method, want, len(params))
		}
		if err := s.checkDB(params[0]); err != nil {
			return nil, err
		}
		login, _ := params[1].(string)
		password, _ := params[2].(string)
		if uid := s.authenticate(r.RemoteAddr, login, password); uid != 0 {
			return uid, nil
		}
		return false, nil
	}
	return nil, keyErr("exp_" + method)
}

// dbService is the db service as odoo/service/db.py dispatches it:
// db_exist, list, list_lang and server_version need no password; every
// other exp_ method takes the master password first and checks it
// (check_super), and the simulator has none, so they are refused with
// AccessDenied; an unknown method is a KeyError.
func (s *Sim) dbService(method string, params []any) (any, error) {
	switch method {
	case "server_version":
		if len(params) != 0 {
			return nil, typeErr("exp_server_version() takes 0 positional arguments but %d were given", len(params))
		}
		return s.version, nil
	case "list":
		if len(params) > 1 {
			return nil, typeErr("exp_list() takes from 0 to 1 positional arguments but %d were given", len(params))
		}
		return []any{s.dbName}, nil
	case "list_lang":
		return []any{[]any{"en_US", "English (US)"}}, nil
	case "db_exist":
		if len(params) != 1 {
			return nil, typeErr("exp_db_exist() takes 1 positional argument but %d were given", len(params))
		}
		return params[0] == s.dbName, nil
	}
	if dbMethods[method] {
		return nil, accessDenied()
	}
	e := newErr("KeyError", 1, 500, "%s", pyRepr("Method not found: "+method))
	e.args = []any{"Method not found: " + method}
	return nil, e
}

// dbMethods are the db service's methods that take the master password.
var dbMethods = map[string]bool{"create_database": true, "duplicate_database": true, "drop": true,
	"dump": true, "restore": true, "rename": true, "change_admin_password": true,
	"migrate_databases": true, "list_countries": true}

// object is the object service: execute_kw and execute. The call's records
// go to wk.
func (s *Sim) object(wk *work, method string, params []any) (any, error) {
	if len(params) < 3 {
		return nil, newErr("IndexError", 1, 500, "tuple index out of range")
	}
	uid, ok := asInt(params[1])
	if !ok {
		return nil, valueErr("invalid literal for int() with base 10: %s", pyRepr(params[1]))
	}
	if err := s.checkDB(params[0]); err != nil {
		return nil, err
	}
	u := s.userByID(uid)
	password, _ := params[2].(string)
	if u == nil || !checkSecret(u, password) {
		return nil, accessDenied()
	}
	rest := params[3:]
	switch method {
	case "execute_kw":
		if len(rest) < 3 {
			return nil, typeErr("execute_kw() missing %d required positional argument(s)", 3-len(rest))
		}
		if len(rest) > 4 {
			return nil, typeErr("execute_kw() takes from 5 to 6 positional arguments but %d were given", len(rest)+2)
		}
		model, _ := rest[0].(string)
		name, _ := rest[1].(string)
		args, ok := rest[2].([]any)
		if !ok {
			return nil, typeErr("odoo.service.model.execute() argument after * must be an iterable, not %s",
				pyTypeName(rest[2]))
		}
		var kwargs map[string]any
		if len(rest) == 4 && truthy(rest[3]) {
			kw, ok := rest[3].(map[string]any)
			if !ok {
				return nil, typeErr("odoo.service.model.execute() argument after ** must be a mapping, not %s",
					pyTypeName(rest[3]))
			}
			kwargs = kw
		}
		return s.invoke(wk, u, model, name, args, kwargs, false, nil)
	case "execute":
		if len(rest) < 2 {
			return nil, typeErr("execute() missing %d required positional argument(s)", 2-len(rest))
		}
		model, _ := rest[0].(string)
		name, _ := rest[1].(string)
		return s.invoke(wk, u, model, name, rest[2:], nil, false, nil)
	}
	return nil, newErr("NameError", 1, 500, "Method not available %s", method)
}

func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return "object"
}
