package odoosim

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

// The model documents of Odoo 19's api_doc (addons/api_doc/controllers/
// api_doc.py): GET /doc-bearer/<model>.json with a bearer API key and GET
// /doc/<model>.json with a web session, {model, name, doc, fields,
// methods}, where methods maps each public method to its signature and
// parameters. JSON-2 clients (odoo-client-lib, odooly) read it to turn
// positional arguments into named ones. /doc-bearer/index.json and
// /doc/index.json list the models.

const (
	docBearerPrefix = "/doc-bearer/"
	docPrefix       = "/doc/"
)

func (s *Sim) serveDoc(w http.ResponseWriter, r *http.Request) {
	bearer := strings.HasPrefix(r.URL.Path, docBearerPrefix)
	name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, cond(bearer, docBearerPrefix, docPrefix)), ".json")
	if !ok || name == "" || strings.Contains(name, "/") {
		notFoundPage(w)
		return
	}
	if _, ok := s.readBody(w, r); !ok {
		return
	}
	wk := &work{model: cond(name == "index", "", name), method: cond(bearer, "/doc-bearer", "/doc")}
	s.onWorker(w, r, wk, func(w http.ResponseWriter) {
		start := time.Now()
		result, err := s.docCall(r, name, bearer)
		if berr := s.busy(r.Context(), wk); berr != nil {
			s.abandon(w, berr)
			return
		}
		if err != nil {
			s.writeJSONError(w, err)
			return
		}
		if werr := s.writeJSONResult(w, result); werr == nil {
			s.log(slogDebug, "doc", "model", name, "duration", time.Since(start))
		}
	})
}

func (s *Sim) docCall(r *http.Request, name string, bearer bool) (any, error) {
	if dbh := r.Header.Get("X-Odoo-Database"); bearer && dbh != "" && dbh != s.dbName {
		return nil, httpErr(404, "database %s not found", pyRepr(dbh))
	}
	var u *User
	if bearer {
		var err error
		if u, err = s.bearerUser(r); err != nil {
			return nil, err
		}
	} else {
		c := &jsonrpcCall{s: s, r: r}
		if u = c.sessionUser(); u == nil {
			return nil, sessionExpired()
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, err := s.newEnv(u, map[string]any{})
	if err != nil {
		return nil, err
	}
	if name == "index" {
		return s.docIndex(e), nil
	}
	m := s.db.models[name]
	if m == nil {
		return nil, httpErr(404, "The requested URL was not found on the server. If you entered the URL manually "+
			"please check your spelling and try again.")
	}
	if err := e.checkAccess(m, "read"); err != nil {
		return nil, err
	}
	fields := omap{}
	for _, f := range m.fields {
		fields = append(fields, kv{f.name, append(describeField(f), kv{"module", moduleOf(m.name)})})
	}
	return omap{{"model", m.name}, {"name", m.description}, {"doc", nil}, {"fields", fields},
		{"methods", s.docMethods(m)}}, nil
}

func (s *Sim) docIndex(e *env) omap {
	names := make([]string, 0, len(s.db.models))
	for n := range s.db.models {
		names = append(names, n)
	}
	sort.Strings(names)
	models := []any{}
	for _, n := range names {
		m := s.db.models[n]
		if e.checkAccess(m, "read") != nil {
			continue
		}
		fields := omap{}
		for _, f := range m.fields {
			fields = append(fields, kv{f.name, omap{{"string", f.label}}})
		}
		var methods []any
		for _, p := range s.docMethods(m) {
			methods = append(methods, p.k)
		}
		models = append(models, omap{{"model", n}, {"name", m.description}, {"fields", fields}, {"methods", methods}})
	}
	return omap{{"modules", []any{"base", "account"}}, {"models", models}}
}

// docMethods are the public methods of m the simulator serves, with their
// signatures (_doc_method): parameters in order, without self, the ids of
// a record method being the recordset itself.
func (s *Sim) docMethods(m *model) omap {
	names := make([]string, 0, len(methods))
	for n, def := range methods {
		if (def.model == "" || def.model == m.name) && n != "check_access_rights" { // deprecated: not listed
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := omap{}
	for _, n := range names {
		def := methods[n]
		params := omap{}
		var sig []string
		for _, p := range def.params(s.major) {
			d := omap{{"name", p.name}}
			if p.req {
				sig = append(sig, p.name)
			} else {
				d = append(d, kv{"default", p.def})
				sig = append(sig, p.name+"="+pyRepr(p.def))
			}
			params = append(params, kv{p.name, d})
		}
		api := []any{}
		if def.api != "records" {
			api = append(api, "model")
		}
		if def.operation == "read" || def.operation == "" {
			api = append(api, "readonly")
		}
		// The class that introduced the method: BaseModel ("core") or
		// the model's own.
		owner, module := "core", "core"
		if def.model != "" {
			owner, module = def.model, moduleOf(def.model)
		}
		out = append(out, kv{n, omap{{"signature", "(" + strings.Join(sig, ", ") + ")"}, {"parameters", params},
			{"return", omap{}}, {"api", api}, {"model", owner}, {"module", module}}})
	}
	return out
}
