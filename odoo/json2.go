package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
)

// json2Transport speaks Odoo 19's JSON-2 API: POST /json/2/<model>/<method>
// with named parameters, a bearer API key, and real HTTP error statuses.
type json2Transport struct{ c *Client }

func (t *json2Transport) needsUID() bool { return false }

func (t *json2Transport) key() string { return t.c.cfg.secret() }

func (t *json2Transport) headers() map[string]string {
	h := map[string]string{"Authorization": "bearer " + t.key()}
	if t.c.cfg.DB != "" {
		h["X-Odoo-Database"] = t.c.cfg.DB
	}
	return h
}

func (t *json2Transport) version(ctx context.Context) (VersionInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.c.cfg.URL+"/web/version", nil)
	if err != nil {
		return VersionInfo{}, fmt.Errorf("%w: %v", errEncode, err)
	}
	status, data, err := t.c.send(req)
	if err != nil {
		return VersionInfo{}, err
	}
	if status != http.StatusOK {
		return VersionInfo{}, t.statusError(status, data)
	}
	v, err := decodeJSON(data)
	if err != nil {
		return VersionInfo{}, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return VersionInfo{}, fmt.Errorf("version: expected an object, got %T", v)
	}
	return versionFromMap(m), nil
}

// login checks the API key (JSON-2 has no login of its own) with
// res.users.context_get, a cheap call every user may make, and returns the
// uid it reports (0 when it reports none). A 404 means the key passed and
// the server has no such method (a trimmed server, the simulator): the key
// is good, the uid unknown.
func (t *json2Transport) login(ctx context.Context) (int64, error) {
	v, err := t.execute(ctx, 0, "res.users", "context_get", nil, nil)
	if err != nil {
		var f *Fault
		if errors.As(err, &f) && f.Code == FaultAccessDenied {
			return 0, &AuthError{User: t.c.cfg.User, DB: t.c.cfg.DB}
		}
		var nf *notFound
		if errors.As(err, &nf) {
			return 0, nil
		}
		return 0, err
	}
	if m, ok := v.(map[string]any); ok {
		if uid, ok := m["uid"].(int64); ok {
			return uid, nil
		}
	}
	return 0, nil
}

func (t *json2Transport) execute(ctx context.Context, _ int64, model, method string, args []any, kwargs map[string]any) (any, error) {
	params, unwrap, err := json2Params(method, args, kwargs)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errEncode, err)
	}
	body, err := json.Marshal(nilToFalse(params, 0))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errEncode, err)
	}
	path := "/json/2/" + url.PathEscape(model) + "/" + url.PathEscape(method)
	status, data, err := t.c.post(ctx, path, "application/json", body, t.headers())
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, t.statusError(status, data)
	}
	v, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	if unwrap {
		if l, ok := v.([]any); ok && len(l) == 1 {
			return l[0], nil
		}
	}
	return v, nil
}

// statusError maps a JSON-2 error status to a Fault when the body is
// Odoo's error object, and to an HTTPError otherwise (a proxy's page).
func (t *json2Transport) statusError(status int, data []byte) error {
	var body struct {
		Name    string `json:"name"`
		Message string `json:"message"`
		Debug   string `json:"debug"`
	}
	if json.Unmarshal(data, &body) == nil && (body.Message != "" || body.Name != "") {
		code := 0
		switch status {
		case http.StatusUnauthorized:
			code = FaultAccessDenied
		case http.StatusForbidden:
			code = FaultAccessError
		case http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity:
			code = FaultWarning
		case http.StatusInternalServerError:
			code = FaultApplication
		default:
			if status >= 400 && status < 500 {
				code = FaultApplication
			}
		}
		if code != 0 {
			msg := body.Message
			if msg == "" {
				msg = body.Name
			}
			f := &Fault{Code: code, Message: msg, Traceback: body.Debug}
			switch status {
			case http.StatusNotFound:
				return &notFound{f}
			case http.StatusUnauthorized:
				// Only the bearer check answers 401 (an AccessDenied a
				// method raises is a 403): the key is bad for every call.
				return &keyRefused{f}
			}
			return f
		}
	}
	return &HTTPError{Status: status, Body: t.c.snippet(data)}
}

// json2Positional names the positional arguments of the ORM methods, in
// execute_kw order, so one call shape serves both transports.
var json2Positional = map[string][]string{
	"search_read":  {"domain", "fields", "offset", "limit", "order"},
	"search":       {"domain", "offset", "limit", "order"},
	"search_count": {"domain", "limit"},
	"read":         {"ids", "fields"},
	"write":        {"ids", "vals"},
	"create":       {"vals_list"},
	"unlink":       {"ids"},
	"fields_get":   {"allfields", "attributes"},
	"name_search":  {"name", "domain", "operator", "limit"},
}

// json2Params turns execute_kw-style arguments into JSON-2 named parameters.
// Known methods map their positional arguments by name (create with one
// dict sends vals_list=[dict] and unwrap asks to return the single id).
// Any other method takes kwargs as named parameters, plus "ids" when the
// first positional argument is an id or a list of ids; other positional
// arguments cannot be named and are refused.
func json2Params(method string, args []any, kwargs map[string]any) (params map[string]any, unwrap bool, err error) {
	params = make(map[string]any, len(args)+len(kwargs))
	for k, v := range kwargs {
		params[k] = v
	}
	set := func(name string, v any) error {
		if _, dup := params[name]; dup {
			return fmt.Errorf("json2: %s given both by position and by name", name)
		}
		params[name] = v
		return nil
	}
	if names, ok := json2Positional[method]; ok {
		if len(args) > len(names) {
			return nil, false, fmt.Errorf("json2: %s takes at most %d positional arguments (%v), got %d", method, len(names), names, len(args))
		}
		for i, a := range args {
			name := names[i]
			if method == "create" && i == 0 {
				if m, isMap := a.(map[string]any); isMap {
					a = []any{m}
					unwrap = true
				}
			}
			if err := set(name, a); err != nil {
				return nil, false, err
			}
		}
		if method == "create" {
			if v, ok := params["vals"]; ok && params["vals_list"] == nil {
				delete(params, "vals")
				if m, isMap := v.(map[string]any); isMap {
					v = []any{m}
					unwrap = true
				}
				params["vals_list"] = v
			}
		}
		return params, unwrap, nil
	}
	if len(args) == 0 {
		return params, false, nil
	}
	if !isIDs(args[0]) {
		return nil, false, fmt.Errorf("json2: the first positional argument of %s is not a list of ids; pass other arguments in kwargs (JSON-2 only takes named parameters)", method)
	}
	if len(args) > 1 {
		return nil, false, fmt.Errorf("json2: %s got %d positional arguments; after the ids, pass arguments in kwargs (JSON-2 only takes named parameters)", method, len(args))
	}
	if err := set("ids", args[0]); err != nil {
		return nil, false, err
	}
	return params, false, nil
}

func isIDs(v any) bool {
	switch x := v.(type) {
	case int, int64:
		return true
	case []int64, []int:
		return true
	case []any:
		for _, e := range x {
			switch e.(type) {
			case int, int64:
			default:
				return false
			}
		}
		return true
	}
	return false
}

// nilToFalse replaces nil by false inside lists and maps (Odoo's "empty"),
// matching what the XML-RPC encoder sends.
func nilToFalse(v any, depth int) any {
	if depth > maxEncodeDepth {
		return v
	}
	switch x := v.(type) {
	case nil:
		return false
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = nilToFalse(e, depth+1)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = nilToFalse(e, depth+1)
		}
		return out
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return x // json.Marshal reports it
		}
	}
	return v
}

// decodeJSON decodes a JSON body keeping integers as int64.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &syntaxError{format: "bad JSON response: %s", args: []any{err.Error()}}
	}
	return fixNumbers(v), nil
}

func fixNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n
		}
		f, err := x.Float64()
		if err != nil {
			return string(x)
		}
		return f
	case []any:
		for i, e := range x {
			x[i] = fixNumbers(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = fixNumbers(e)
		}
	}
	return v
}

// keyRefused is a JSON-2 401: Odoo refused the API key. The client keeps it
// (see Client.do) so the key is not sent again.
type keyRefused struct{ *Fault }

func (e *keyRefused) Unwrap() error { return e.Fault }

// notFound is a JSON-2 404 (unknown model, method or record): a *Fault of
// code 2 that login can tell apart.
type notFound struct{ *Fault }

func (e *notFound) Unwrap() error { return e.Fault }
