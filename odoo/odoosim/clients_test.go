package odoosim

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// The tests of this file run real Odoo clients, unmodified, against the
// simulator: Python's xmlrpc.client (on /xmlrpc/2 and on the legacy
// /xmlrpc), JSON-RPC and JSON-2 requests from Python's standard library,
// and OdooRPC as Debian packages it (python3-odoorpc). Each runs the
// scenario of testdata/clients/scenario.py (version, login, searches with
// domains, read, fields_get, name_search, create/write/unlink, read_group,
// the metadata models, and the faults of a bad field, a bad model, a
// contact without a name and a wrong password) and the test compares what
// the client saw with what Odoo returns, from Odoo's source. They need
// Debian's /usr/bin/python3 with python3-odoorpc (.ci/run installs them)
// and fail, never skip, without them.

const debianPython = "/usr/bin/python3"

// python returns Debian's Python, failing the test when it is missing.
func python(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(debianPython); err != nil {
		t.Fatalf("the client tests run Debian's Python, %s, which is missing (%v): "+
			"install it with `apt-get install -y python3 python3-odoorpc` (.ci/run does)", debianPython, err)
	}
	return debianPython
}

// clientStep is what a client script recorded for one step: its value or
// the error the client raised.
type clientStep struct {
	Value any            `json:"value"`
	Error map[string]any `json:"error"`
}

// pythonSlot lets one client script run at a time: the tests stay
// parallel, but a few Python interpreters starting at once would starve
// the other packages' timing-sensitive tests on a small machine.
var pythonSlot = make(chan struct{}, 1)

// runClient runs testdata/clients/<script> with Debian's Python and the
// given arguments, outside any PYTHONPATH, and returns its steps.
func runClient(t *testing.T, script string, args ...string) map[string]clientStep {
	t.Helper()
	py := python(t)
	pythonSlot <- struct{}{}
	defer func() { <-pythonSlot }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{filepath.Join("testdata", "clients", script)}, args...)...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTHONPATH=") && !strings.HasPrefix(kv, "PYTHONHOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		hint := ""
		if strings.Contains(stderr.String(), "No module named 'odoorpc'") {
			hint = "\nOdooRPC is missing: install Debian's package with `apt-get install -y python3-odoorpc` (.ci/run does)"
		}
		t.Fatalf("%s %s: %v\n%s%s%s", py, script, err, out, stderr.String(), hint)
	}
	var steps map[string]clientStep
	if err := json.Unmarshal(out, &steps); err != nil {
		t.Fatalf("%s printed no JSON report: %v\n%s\n%s", script, err, out, stderr.String())
	}
	return steps
}

// jsonValue is v as it comes back from JSON: numbers as float64, lists as
// []any, dicts as map[string]any.
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

type stepChecker struct {
	t     *testing.T
	name  string
	steps map[string]clientStep
}

func (c stepChecker) get(step string) (clientStep, bool) {
	c.t.Helper()
	st, ok := c.steps[step]
	if !ok {
		c.t.Errorf("%s: no step %q in the report", c.name, step)
	}
	return st, ok
}

// value checks that step succeeded with want (compared as JSON).
func (c stepChecker) value(step string, want any) {
	c.t.Helper()
	st, ok := c.get(step)
	if !ok {
		return
	}
	if st.Error != nil {
		c.t.Errorf("%s: %s failed: %v", c.name, step, st.Error)
		return
	}
	if w := jsonValue(c.t, want); !reflect.DeepEqual(st.Value, w) {
		c.t.Errorf("%s: %s\n got %v\nwant %v", c.name, step, st.Value, w)
	}
}

// ok returns the value of a step that must have succeeded.
func (c stepChecker) ok(step string) any {
	c.t.Helper()
	st, ok := c.get(step)
	if ok && st.Error != nil {
		c.t.Errorf("%s: %s failed: %v", c.name, step, st.Error)
	}
	return st.Value
}

// fails returns the error of a step that must have failed.
func (c stepChecker) fails(step string) map[string]any {
	c.t.Helper()
	st, ok := c.get(step)
	if ok && st.Error == nil {
		c.t.Errorf("%s: %s succeeded with %v, want an error", c.name, step, st.Value)
	}
	return st.Error
}

// at walks a decoded JSON value along keys and indexes.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// Odoo's messages for the scenario's faults (odoo/osv/expression.py,
// odoo/service/model.py, odoo/exceptions.py, res_partner.py's check_name
// through _as_validation_error).
const (
	msgBadField = "Invalid field res.partner.nope in leaf ('nope', '=', 1)"
	msgBadModel = "Object x.y doesn't exist"
	msgNoName   = "The operation cannot be completed: Contacts require a name"
)

// checkScenario checks the steps of scenario.py's orm_steps against the
// fixture data set the simulator serves.
func checkScenario(c stepChecker, d *Data) {
	c.t.Helper()
	countries := map[int64]Country{}
	for _, co := range d.Countries {
		countries[co.ID] = co
	}
	partners := map[int64]Partner{}
	var maCompanies []int64
	companies := 0
	for _, p := range d.Partners {
		partners[p.ID] = p
		if p.IsCompany && p.Active {
			companies++
			if countries[p.CountryID].Code == "MA" {
				maCompanies = append(maCompanies, p.ID)
			}
		}
	}
	m2o := func(id int64, name string) any {
		if id == 0 {
			return false
		}
		return []any{id, name}
	}
	c.value("search", maCompanies)
	c.value("search_count", companies)
	c.value("search_read", []any{
		map[string]any{"id": 1, "name": partners[1].Name, "country_id": m2o(partners[1].CountryID, countries[partners[1].CountryID].Name)},
		map[string]any{"id": 2, "name": partners[2].Name, "country_id": m2o(partners[2].CountryID, countries[partners[2].CountryID].Name)},
	})
	p10 := partners[10]
	c.value("read", []any{map[string]any{"id": 10, "name": p10.Name, "is_company": p10.IsCompany,
		"country_id": m2o(p10.CountryID, countries[p10.CountryID].Name)}})
	c.value("fields_get", map[string]any{
		"name":       map[string]any{"type": "char", "string": "Name"},
		"country_id": map[string]any{"type": "many2one", "string": "Country", "relation": "res.country"},
	})
	// res.partner's _order is "complete_name ASC, id DESC".
	c.value("name_search", []any{[]any{3, "Atlas Nord"}, []any{1, "Atlas SARL"}})
	id, _ := c.ok("create").(float64)
	if id <= 0 {
		c.t.Errorf("%s: create returned %v, want a new id", c.name, c.ok("create"))
	}
	c.value("write", true)
	c.value("read_back", []any{map[string]any{"id": id, "name": "Client Test", "city": "Gent"}})
	c.value("unlink", true)
	c.value("gone", 0)

	// read_group by partner: the posted moves' totals, in the partners' order.
	type group struct {
		id    int64
		count int
		sum   float64
	}
	byPartner := map[int64]*group{}
	type month struct {
		start string
		count int
		sum   float64
	}
	byMonth := map[string]*month{}
	for _, m := range d.Moves {
		if m.State != "posted" {
			continue
		}
		g := byPartner[m.PartnerID]
		if g == nil {
			g = &group{id: m.PartnerID}
			byPartner[m.PartnerID] = g
		}
		g.count++
		g.sum += m.AmountTotal
		start := ""
		if m.InvoiceDate != "" {
			start = m.InvoiceDate[:8] + "01"
		}
		mo := byMonth[start]
		if mo == nil {
			mo = &month{start: start}
			byMonth[start] = mo
		}
		mo.count++
		mo.sum += m.AmountTotal
	}
	var groups []*group
	for _, g := range byPartner {
		groups = append(groups, g)
	}
	name := func(id int64) string { return partnerName(partners, id) }
	sort.Slice(groups, func(i, j int) bool {
		if (groups[i].id == 0) != (groups[j].id == 0) {
			return groups[j].id == 0 // NULLS LAST
		}
		a, b := name(groups[i].id), name(groups[j].id)
		if a != b {
			return a < b
		}
		return groups[i].id > groups[j].id
	})
	round := func(f float64) float64 { return math.Round(f*1e6) / 1e6 }
	var rows []any
	for _, g := range groups {
		rows = append(rows, map[string]any{"partner_id": m2o(g.id, name(g.id)), "partner_id_count": g.count,
			"amount_total": round(g.sum),
			"__domain":     []any{"&", []any{"state", "=", "posted"}, []any{"partner_id", "=", cond[any](g.id == 0, false, g.id)}}})
	}
	c.value("read_group", rows)

	var months []*month
	for _, mo := range byMonth {
		months = append(months, mo)
	}
	sort.Slice(months, func(i, j int) bool {
		if (months[i].start == "") != (months[j].start == "") {
			return months[j].start == "" // NULLS LAST
		}
		return months[i].start < months[j].start
	})
	rows = nil
	for _, mo := range months {
		row := map[string]any{"invoice_date_count": mo.count, "amount_total": round(mo.sum)}
		if mo.start == "" {
			row["invoice_date:month"] = false
			row["__range"] = map[string]any{"invoice_date:month": false}
			row["__domain"] = []any{"&", []any{"state", "=", "posted"}, []any{"invoice_date", "=", false}}
		} else {
			t0, _ := time.Parse("2006-01-02", mo.start)
			to := t0.AddDate(0, 1, 0).Format("2006-01-02")
			row["invoice_date:month"] = t0.Format("January 2006")
			row["__range"] = map[string]any{"invoice_date:month": map[string]any{"from": mo.start, "to": to}}
			row["__domain"] = []any{"&", []any{"state", "=", "posted"},
				"&", []any{"invoice_date", ">=", mo.start}, []any{"invoice_date", "<", to}}
		}
		rows = append(rows, row)
	}
	c.value("read_group_month", rows)

	c.value("user", []any{map[string]any{"id": 2, "name": "Mitchell Admin", "login": "admin"}})
	c.value("context_get", map[string]any{"lang": "en_US", "tz": "Europe/Brussels", "uid": 2})
	c.value("check_access", true)
	if v := c.ok("model_lookup"); at(v, 0, "model") != "res.partner" || at(v, 0, "name") != "Contact" || len(v.([]any)) != 1 {
		c.t.Errorf("%s: model_lookup = %v, want res.partner's ir.model record", c.name, v)
	}
	if v := c.ok("field_lookup"); at(v, 0, "name") != "country_id" || at(v, 0, "ttype") != "many2one" ||
		at(v, 0, "relation") != "res.country" {
		c.t.Errorf("%s: field_lookup = %v, want res.partner.country_id's ir.model.fields record", c.name, v)
	}
}

// partnerName is a partner's complete_name from the data set.
func partnerName(partners map[int64]Partner, id int64) string {
	p, ok := partners[id]
	if !ok {
		return ""
	}
	if p.ParentID != 0 && !p.IsCompany {
		if p.Name == "" {
			return partnerName(partners, p.ParentID) + ", " + map[string]string{"invoice": "Invoice Address",
				"delivery": "Delivery Address", "other": "Other Address"}[p.Type]
		}
		return partnerName(partners, p.ParentID) + ", " + p.Name
	}
	return p.Name
}

// checkXMLFault checks an XML-RPC fault with an int code (/xmlrpc/2,
// rpc.py's xmlrpc_handle_exception_int): the message for Odoo's
// exceptions, a traceback ending with it otherwise.
func checkXMLFault(c stepChecker, step string, code int, last string) {
	c.t.Helper()
	e := c.fails(step)
	fs, _ := e["faultString"].(string)
	got := fs
	if code == 1 {
		got = lastLine(fs)
		if !strings.HasPrefix(fs, "Traceback (most recent call last):\n") {
			c.t.Errorf("%s: %s faultString is no traceback: %q", c.name, step, fs)
		}
	}
	if e["type"] != "Fault" || e["faultCode"] != float64(code) || got != last {
		c.t.Errorf("%s: %s = %v, want Fault %d %q", c.name, step, e, code, last)
	}
}

// checkLegacyFault checks a fault of the legacy /xmlrpc/<service>
// (xmlrpc_handle_exception_string): a string faultCode.
func checkLegacyFault(c stepChecker, step, code, str string) {
	c.t.Helper()
	e := c.fails(step)
	fs, _ := e["faultString"].(string)
	if str == "<traceback>" {
		if !strings.HasPrefix(fs, "Traceback (most recent call last):\n") || !strings.Contains(lastLine(fs), code) {
			c.t.Errorf("%s: %s faultString = %q, want a traceback ending with %q", c.name, step, fs, code)
		}
		fs = str
	}
	if e["type"] != "Fault" || e["faultCode"] != code || fs != str {
		c.t.Errorf("%s: %s = %v, want Fault %q %q", c.name, step, e, code, str)
	}
}

// checkRPCError checks a JSON-RPC error object (JsonRPCDispatcher.handle_error
// and serialize_exception in odoo/http.py).
func checkRPCError(c stepChecker, step string, rpcErr any, code int, message, name, msg string) {
	c.t.Helper()
	data, _ := at(rpcErr, "data").(map[string]any)
	debug, _ := data["debug"].(string)
	if at(rpcErr, "code") != float64(code) || at(rpcErr, "message") != message || data["name"] != name ||
		data["message"] != msg || !strings.HasPrefix(debug, "Traceback (most recent call last):\n") ||
		!reflect.DeepEqual(data["context"], map[string]any{}) || data["arguments"] == nil {
		c.t.Errorf("%s: %s error = %v, want code %d %q, data %s: %q", c.name, step, rpcErr, code, message, name, msg)
	}
}

func TestClientXMLRPC(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	c := stepChecker{t, "xmlrpc.client /xmlrpc/2", runClient(t, "xmlrpc_client.py", s.URL, "demo")}
	c.value("version", "17.0")
	c.value("db_list", []any{"demo"})
	c.value("db_server_version", "17.0")
	c.value("login", 2)
	c.value("login_wrong_password", false)
	checkScenario(c, s.Sim().Snapshot())
	checkXMLFault(c, "fault_field", 1, "ValueError: "+msgBadField)
	checkXMLFault(c, "fault_model", 2, msgBadModel)
	checkXMLFault(c, "fault_no_name", 2, msgNoName)
	checkXMLFault(c, "fault_password", 3, "Access Denied")
	checkStats(t, s, "", "authenticate")
}

func TestClientXMLRPCLegacy(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	c := stepChecker{t, "xmlrpc.client /xmlrpc", runClient(t, "xmlrpc_client.py", s.URL, "demo", "legacy")}
	c.value("version", "17.0")
	c.value("db_list", []any{"demo"})
	c.value("login", 2)
	c.value("login_wrong_password", false)
	checkScenario(c, s.Sim().Snapshot())
	checkLegacyFault(c, "fault_field", msgBadField, "<traceback>")
	checkLegacyFault(c, "fault_model", "warning -- UserError\n\n"+msgBadModel, "")
	checkLegacyFault(c, "fault_no_name", "warning -- UserError\n\n"+msgNoName, "")
	checkLegacyFault(c, "fault_password", "AccessDenied", "Access Denied")
	checkStats(t, s, "", "authenticate")
}

func TestClientJSONRPC(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{})
	c := stepChecker{t, "JSON-RPC", runClient(t, "jsonrpc_client.py", s.URL, "demo")}
	c.value("version", "17.0")
	c.value("db_list", []any{"demo"})
	c.value("db_server_version", "17.0")
	c.value("login", 2)
	c.value("login_wrong_password", false)
	checkScenario(c, s.Sim().Snapshot())
	rpcErr := func(step string) any { return c.fails(step)["error"] }
	const server = "Odoo Server Error"
	checkRPCError(c, "fault_field", rpcErr("fault_field"), 200, server, "builtins.ValueError", msgBadField)
	checkRPCError(c, "fault_model", rpcErr("fault_model"), 200, server, "odoo.exceptions.UserError", msgBadModel)
	checkRPCError(c, "fault_no_name", rpcErr("fault_no_name"), 200, server, "odoo.exceptions.ValidationError", msgNoName)
	checkRPCError(c, "fault_password", rpcErr("fault_password"), 200, server, "odoo.exceptions.AccessDenied", "Access Denied")

	// The web routes: a session.
	c.value("web_version_info", "17.0")
	checkRPCError(c, "web_no_session", rpcErr("web_no_session"), 100, "Odoo Session Expired",
		"odoo.http.SessionExpiredException", "Session expired")
	checkRPCError(c, "web_wrong_password", rpcErr("web_wrong_password"), 200, server, "odoo.exceptions.AccessDenied",
		"Access Denied")
	info := c.ok("web_login")
	if at(info, "uid") != 2.0 || at(info, "username") != "admin" || at(info, "db") != "demo" ||
		at(info, "server_version") != "17.0" || at(info, "user_context", "uid") != 2.0 || at(info, "name") != "Mitchell Admin" {
		c.t.Errorf("web_login session info = %v", info)
	}
	if got := at(c.ok("web_session_info"), "uid"); got != 2.0 {
		c.t.Errorf("web_session_info uid = %v, want 2", got)
	}
	c.value("web_search_count", c.ok("search_count"))
	c.value("web_read_group", c.ok("read_group"))
	// request.env[model] raises KeyError in DataSet.call_kw.
	checkRPCError(c, "web_fault_model", rpcErr("web_fault_model"), 200, server, "builtins.KeyError", "'x.y'")
	c.value("web_destroy", nil) // a None result: the answer has no "result"
	checkRPCError(c, "web_after_destroy", rpcErr("web_after_destroy"), 100, "Odoo Session Expired",
		"odoo.http.SessionExpiredException", "Session expired")
	checkStats(t, s, "", "/web/session/authenticate")
	checkStats(t, s, "", "version")
}

func TestClientJSON2(t *testing.T) {
	t.Parallel()
	s := newFixtureServer(t, Options{Version: "19.0"})
	c := stepChecker{t, "JSON-2", runClient(t, "json2_client.py", s.URL, "demo", "demo-api-key")}
	c.value("version", "19.0")
	c.value("login", 2)
	c.value("doc", []any{"domain", "limit", "offset", "order"})
	checkScenario(c, s.Sim().Snapshot())
	// Json2Dispatcher: real HTTP statuses, {name, message, arguments, context, debug}.
	status := func(step string, code int, name, msg string) {
		t.Helper()
		e := c.fails(step)
		if e["type"] != "HTTPError" || e["status"] != float64(code) || at(e, "body", "name") != name ||
			at(e, "body", "message") != msg {
			t.Errorf("JSON-2: %s = %v, want HTTP %d %s %q", step, e, code, name, msg)
		}
	}
	status("fault_field", 500, "builtins.ValueError", msgBadField)
	status("fault_model", 404, "werkzeug.exceptions.NotFound", "The requested URL was not found on the server. "+
		"If you entered the URL manually please check your spelling and try again.")
	status("fault_no_name", 422, "odoo.exceptions.ValidationError", msgNoName)
	status("fault_password", 401, "werkzeug.exceptions.Unauthorized", "Invalid apikey")
	checkStats(t, s, "res.partner", "/doc-bearer")
}

func TestClientOdooRPC(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"17.0", "19.0"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			s := newFixtureServer(t, Options{Version: version})
			host, port, _ := strings.Cut(strings.TrimPrefix(s.URL, "http://"), ":")
			c := stepChecker{t, "odoorpc " + version, runClient(t, "odoorpc_client.py", host, port, "demo")}
			if f, _ := c.ok("odoorpc_file").(string); !strings.HasPrefix(f, "/usr/lib/python3/dist-packages/odoorpc/") {
				t.Errorf("odoorpc comes from %q, want Debian's python3-odoorpc (apt-get install -y python3-odoorpc)", f)
			}
			c.value("version", version)
			c.value("login", 2)
			c.value("context", map[string]any{"lang": "en_US", "tz": "Europe/Brussels", "uid": 2})
			snap := s.Sim().Snapshot()
			var company Company
			for _, co := range snap.Companies {
				company = co
				break
			}
			c.value("env_user", []any{"Mitchell Admin", "admin", company.Name})
			c.value("model_exists", []any{true, false})
			c.value("browse", []any{[]any{"Atlas SARL", "MA"}, []any{"Atlas Nord", "MA"}})
			c.value("model_search", c.ok("search"))
			checkScenario(c, snap)
			// odoorpc raises RPCError(data.message, error).
			rpc := func(step string, name, msg string) {
				t.Helper()
				e := c.fails(step)
				if e["type"] != "RPCError" || e["message"] != msg {
					t.Errorf("odoorpc: %s = %v, want RPCError %q", step, e, msg)
				}
				checkRPCError(c, step, e["info"], 200, "Odoo Server Error", name, msg)
			}
			rpc("login_wrong_password", "odoo.exceptions.AccessDenied", "Access Denied")
			rpc("fault_field", "builtins.ValueError", msgBadField)
			rpc("fault_model", "odoo.exceptions.UserError", msgBadModel)
			rpc("fault_no_name", "odoo.exceptions.ValidationError", msgNoName)
			rpc("fault_password", "odoo.exceptions.AccessDenied", "Access Denied")
			checkStats(t, s, "", "/web/webclient/version_info")
			checkStats(t, s, "res.partner", "fields_get")
		})
	}
}

// checkStats checks that the client's calls were counted: search_read of
// two partners read two records, on every route, and model.method was
// called.
func checkStats(t *testing.T, s *Server, model, method string) {
	t.Helper()
	st := s.Sim().Stats()
	var names []string
	found, read := false, int64(-1)
	for _, c := range st.ByCall {
		names = append(names, fmt.Sprintf("%s.%s", c.Model, c.Method))
		found = found || (c.Model == model && c.Method == method && c.Calls > 0)
		if c.Model == "res.partner" && c.Method == "search_read" {
			read = c.Read
		}
	}
	if !found {
		t.Errorf("stats have no call of %s.%s: %v", model, method, names)
	}
	if read != 2 {
		t.Errorf("stats: res.partner.search_read read %d records, want 2 (%v)", read, names)
	}
	if !slices.ContainsFunc(st.ByCall, func(c CallStats) bool { return c.Model == "account.move" && c.Method == "read_group" && c.Examined > 0 }) {
		t.Errorf("stats: read_group examined no account.move records: %v", names)
	}
}
