package odoosim

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// JSON-2 (Odoo 19): POST /json/2/<model>/<method> with a bearer API key and
// a JSON object of named arguments (ids and context included). Success is
// 200 with the result; errors use real HTTP statuses with a body
// {name, message, arguments, context, debug}, as Odoo's Json2Dispatcher
// writes them.

var bearerRe = regexp.MustCompile(`(?i)^bearer\s+(.+)$`)

func (s *Sim) serveJSON2(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/json/2"), "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		s.writeJSONError(w, httpErr(404, "Did you mean POST /json/2/<model>/<method>?"))
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	wk := &work{model: parts[0], method: parts[1]}
	s.onWorker(w, r, wk, func(w http.ResponseWriter) {
		if !s.objectCall(w) {
			return
		}
		start := time.Now()
		result, err := s.json2Call(w, r, body, wk)
		if berr := s.busy(r.Context(), wk); berr != nil {
			s.abandon(w, berr)
			return
		}
		if err != nil {
			s.writeJSONError(w, err)
			return
		}
		if werr := s.writeJSONResult(w, result); werr == nil {
			s.log(slogDebug, "json-2 call", "model", wk.model, "method", wk.method, "duration", time.Since(start))
		}
	})
}

// json2Call checks a JSON-2 request and runs it. It sets the headers an
// error needs on w; the caller writes the result or the error.
func (s *Sim) json2Call(w http.ResponseWriter, r *http.Request, body []byte, wk *work) (any, error) {
	if len(body) > 0 {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/json" {
			return nil, httpErr(400, "State-changing json2 requests must use the 'application/json' "+
				"Content-Type (CSRF protection).")
		}
	}
	if dbh := r.Header.Get("X-Odoo-Database"); dbh != "" && dbh != s.dbName {
		return nil, httpErr(404, "database %s not found", pyRepr(dbh))
	}
	u, err := s.bearerUser(r)
	if err != nil {
		var pe *pyErr
		if errors.As(err, &pe) && pe.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
		return nil, err
	}
	kwargs := map[string]any{}
	if len(bytes.TrimSpace(body)) > 0 {
		v, err := decodeJSON(body)
		if err != nil {
			return nil, httpErr(400, "could not parse the body as json: %s", err.Error())
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, httpErr(400, "the body must be a JSON object of named arguments")
		}
		kwargs = obj
	}
	var ids []int64
	if v, ok := kwargs["ids"]; ok {
		ids, err = asIDList(v)
		if err != nil {
			return nil, httpErr(422, "%s", err.(*pyErr).msg)
		}
		delete(kwargs, "ids")
	}
	return s.invoke(wk, u, wk.model, wk.method, nil, kwargs, true, ids)
}

func (s *Sim) bearerUser(r *http.Request) (*User, error) {
	h := r.Header.Get("Authorization")
	m := bearerRe.FindStringSubmatch(h)
	if m == nil {
		return nil, newErr("odoo.http.SessionExpiredException", 1, http.StatusUnauthorized, "Session expired")
	}
	key := strings.TrimSpace(m[1])
	for i := range s.users {
		if u := &s.users[i]; u.APIKey != "" && u.APIKey == key {
			return u, nil
		}
	}
	return nil, httpErr(http.StatusUnauthorized, "Invalid apikey")
}

func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("Extra data")
	}
	return fromJSON(v), nil
}

func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n
			}
		}
		f, _ := strconv.ParseFloat(s, 64)
		return f
	case []any:
		for i := range x {
			x[i] = fromJSON(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = fromJSON(x[k])
		}
		return x
	}
	return v
}

func (s *Sim) writeJSONError(w http.ResponseWriter, err error) {
	var pe *pyErr
	if !errors.As(err, &pe) {
		pe = newErr("Exception", 1, 500, "%s", err.Error())
	}
	s.log(levelFor(pe), "json-2 error", "status", pe.status, "error", pe.Error())
	args := []any{pe.msg}
	if strings.HasPrefix(pe.class, "werkzeug.") {
		args = append(args, int64(pe.status))
	}
	body := omap{{"name", pe.pyName()}, {"message", pe.msg}, {"arguments", args},
		{"context", omap{}}, {"debug", pe.traceback()}}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(pe.status)
	_, _ = w.Write(appendJSON(nil, body))
}

func (s *Sim) writeJSONResult(w http.ResponseWriter, result any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	e := &xmlEnc{s: s, w: w, buf: make([]byte, 0, chunkSize+4096)}
	s.encodeJSONResult(e, result)
	e.flush()
	return e.err
}

// encodeJSONResult encodes a method's result as JSON into e, streaming the
// rows of read and search_read.
func (s *Sim) encodeJSONResult(e *xmlEnc, result any) {
	rr, ok := result.(*recordsResult)
	if !ok {
		e.buf = appendJSON(e.buf, result)
		return
	}
	e.buf = append(e.buf, '[')
	s.encodeRecords(rr, &e.buf, e.flush, ", ", func(dst []byte, r rec) []byte {
		dst = append(dst, '{')
		for i, f := range rr.fields {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = appendJSONString(dst, f.name)
			dst = append(dst, ": "...)
			dst = appendJSON(dst, plainValue(s.db, f, f.get(s.db, r), rr.classic))
		}
		return append(dst, '}')
	})
	e.buf = append(e.buf, ']')
}

// appendJSON writes v as Python's json.dumps(ensure_ascii=False) does.
func appendJSON(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		return append(dst, cond(x, "true", "false")...)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case float64:
		switch {
		case math.IsNaN(x):
			return append(dst, "NaN"...)
		case math.IsInf(x, 1):
			return append(dst, "Infinity"...)
		case math.IsInf(x, -1):
			return append(dst, "-Infinity"...)
		}
		return appendPyFloat(dst, x)
	case string:
		return appendJSONString(dst, x)
	case []int64:
		dst = append(dst, '[')
		for i, n := range x {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = strconv.AppendInt(dst, n, 10)
		}
		return append(dst, ']')
	case []any:
		dst = append(dst, '[')
		for i, it := range x {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = appendJSON(dst, it)
		}
		return append(dst, ']')
	case omap:
		dst = append(dst, '{')
		for i, p := range x {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = appendJSONString(dst, p.k)
			dst = append(dst, ": "...)
			dst = appendJSON(dst, p.v)
		}
		return append(dst, '}')
	case map[string]any:
		return appendJSON(dst, sortedMap(x))
	}
	return appendJSONString(dst, "<unserializable>")
}

const hexDigits = "0123456789abcdef"

func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
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
		case '"':
			dst = append(dst, `\"`...)
		case '\\':
			dst = append(dst, `\\`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		case '\b':
			dst = append(dst, `\b`...)
		case '\f':
			dst = append(dst, `\f`...)
		default:
			dst = append(dst, `\u00`...)
			dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const slogDebug = slog.LevelDebug

func levelFor(pe *pyErr) slog.Level {
	if pe.fault == 1 && pe.status >= 500 {
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

func sortStrings(s []string) { sort.Strings(s) }
