package odoo_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luatest"
	luaodoo "github.com/etlhost/etlhost/luabind/odoo"
	"github.com/etlhost/etlhost/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// closedPort returns the address of a local port nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// statusServer answers every request with status.
func statusServer(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, http.StatusText(status), status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const searchPartners = `require("odoo").connect():search_read("res.partner", {}, {fields = {"name"}, limit = 1})`

// TestFaultsRecorded: every odoo error value a call raises carries the
// classification the host retries on: transient for a refused or reset
// connection, HTTP 5xx and 429 and a call's own timeout; not for a fault
// about the data, a refused login, a field not read or the script's own
// deadline.
func TestFaultsRecorded(t *testing.T) {
	t.Parallel()
	noRetry := func(cfg odoo.Config) odoo.Config { cfg.Retries = -1; return cfg }
	cases := []struct {
		name string
		// conn returns the connection's config (and may set the
		// simulator's knobs); ctx, when set, is the script's context.
		conn func(t *testing.T) odoo.Config
		ctx  func(t *testing.T) context.Context
		code string
		kind string
		want luabind.Fault
	}{
		{
			name: "connection refused",
			conn: func(t *testing.T) odoo.Config {
				return noRetry(odoo.Config{URL: "http://" + closedPort(t), DB: "demo", User: "admin", Password: "admin"})
			},
			code: searchPartners, kind: luaodoo.KindConnect,
			want: luabind.Fault{Transient: true, Reason: "odoo: connection refused"},
		},
		{
			name: "connection reset",
			conn: func(t *testing.T) odoo.Config {
				cfg, sim := simConfig(t, odoosim.Options{})
				sim.ResetEvery(1)
				return noRetry(cfg)
			},
			code: searchPartners, kind: luaodoo.KindConnect,
			want: luabind.Fault{Transient: true, Reason: "odoo: connection reset"},
		},
		{
			name: "HTTP 500 after the client's own retries",
			conn: func(t *testing.T) odoo.Config {
				cfg, sim := simConfig(t, odoosim.Options{})
				sim.FailEvery(1)
				cfg.Retries = 2
				return cfg
			},
			code: searchPartners, kind: luaodoo.KindHTTP,
			want: luabind.Fault{Transient: true, Reason: "odoo: HTTP 500"},
		},
		{
			name: "HTTP 503",
			conn: func(t *testing.T) odoo.Config {
				return noRetry(odoo.Config{URL: statusServer(t, http.StatusServiceUnavailable), DB: "demo", User: "admin", Password: "admin"})
			},
			code: searchPartners, kind: luaodoo.KindHTTP,
			want: luabind.Fault{Transient: true, Reason: "odoo: HTTP 503"},
		},
		{
			name: "HTTP 429",
			conn: func(t *testing.T) odoo.Config {
				return noRetry(odoo.Config{URL: statusServer(t, http.StatusTooManyRequests), DB: "demo", User: "admin", Password: "admin"})
			},
			code: searchPartners, kind: luaodoo.KindHTTP,
			want: luabind.Fault{Transient: true, Reason: "odoo: HTTP 429"},
		},
		{
			name: "HTTP 404 (a wrong URL)",
			conn: func(t *testing.T) odoo.Config {
				return noRetry(odoo.Config{URL: statusServer(t, http.StatusNotFound), DB: "demo", User: "admin", Password: "admin"})
			},
			code: searchPartners, kind: luaodoo.KindHTTP,
			want: luabind.Fault{Reason: "odoo: HTTP 404"},
		},
		{
			name: "the call's own timeout",
			conn: func(t *testing.T) odoo.Config {
				cfg, sim := simConfig(t, odoosim.Options{})
				sim.Hang(true)
				t.Cleanup(func() { sim.Hang(false) })
				cfg.Timeout = 200 * time.Millisecond
				return noRetry(cfg)
			},
			code: searchPartners, kind: luaodoo.KindTimeout,
			want: luabind.Fault{Transient: true, Reason: "odoo: call timed out after 200ms"},
		},
		{
			name: "the script's deadline",
			conn: func(t *testing.T) odoo.Config {
				cfg, sim := simConfig(t, odoosim.Options{})
				sim.Hang(true)
				t.Cleanup(func() { sim.Hang(false) })
				return cfg
			},
			ctx: func(t *testing.T) context.Context {
				ctx, cancel := context.WithTimeoutCause(context.Background(), 200*time.Millisecond, errors.New("the script's time is up"))
				t.Cleanup(cancel)
				return ctx
			},
			code: searchPartners, kind: luaodoo.KindStopped,
			want: luabind.Fault{Reason: "odoo: stopped: the script's time is up"},
		},
		{
			name: "a fault on a bad field",
			conn: func(t *testing.T) odoo.Config { cfg, _ := simConfig(t, odoosim.Options{}); return cfg },
			code: `require("odoo").connect():search_read("res.partner", {}, {fields = {"no_such_field"}, limit = 1})`,
			kind: luaodoo.KindFault,
			want: luabind.Fault{Reason: "odoo: fault 1"},
		},
		{
			name: "a fault on a missing record",
			conn: func(t *testing.T) odoo.Config { cfg, _ := simConfig(t, odoosim.Options{}); return cfg },
			code: `require("odoo").connect():write("res.partner", {987654321}, {name = "ghost"})`,
			kind: luaodoo.KindFault,
			want: luabind.Fault{Reason: "odoo: fault 2"},
		},
		{
			name: "a refused login",
			conn: func(t *testing.T) odoo.Config {
				cfg, _ := simConfig(t, odoosim.Options{})
				cfg.Password = "wrong"
				return cfg
			},
			code: searchPartners, kind: luaodoo.KindAuth,
			want: luabind.Fault{Reason: "odoo: login refused"},
		},
		{
			name: "a field not read",
			conn: func(t *testing.T) odoo.Config { cfg, _ := simConfig(t, odoosim.Options{}); return cfg },
			code: `local row = require("odoo").connect():search_read("res.partner", {}, {fields = {"name"}, limit = 1})[1]
				return row.nmae`,
			kind: luaodoo.KindField,
			want: luabind.Fault{Reason: "odoo: field not read"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.conn(t)
			if cfg.RetryBackoff == 0 {
				cfg.RetryBackoff = time.Millisecond
			}
			opts := luatest.Options{Header: grants}
			if tc.ctx != nil {
				opts.Ctx = tc.ctx(t)
			}
			s := luatest.New(t, opts, newModule(t, cfg, luaodoo.Options{}))
			kind, got := luatest.RaisedFault(t, s, tc.code)
			if kind != tc.kind || got != tc.want {
				t.Fatalf("kind %q, fault %+v; want kind %q, fault %+v", kind, got, tc.kind, tc.want)
			}
		})
	}
}

// TestFaultsOfConcurrencyExceptions: Odoo sends a serialization failure
// (or a deadlock, a lock not available) it gave up retrying as a fault 1
// with the psycopg2 exception's traceback. Those are transient, told by
// the exception's class in the traceback, on both transports; the same
// words in a message, or a chained exception ending in another class, are
// not.
func TestFaultsOfConcurrencyExceptions(t *testing.T) {
	t.Parallel()
	const frames = "Traceback (most recent call last):\n" +
		"  File \"/opt/odoo/odoo/service/model.py\", line 156, in retrying\n" +
		"    result = func()\n" +
		"  File \"/opt/odoo/odoo/sql_db.py\", line 354, in execute\n" +
		"    res = self._obj.execute(query, params)\n" +
		"          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
	cases := []struct {
		name, traceback string
		want            luabind.Fault
	}{
		{"serialization failure", frames + "psycopg2.errors.SerializationFailure: could not serialize access due to concurrent update\n",
			luabind.Fault{Transient: true, Reason: "odoo: serialization failure"}},
		{"old psycopg2", frames + "psycopg2.extensions.TransactionRollbackError: could not serialize access due to concurrent update\n",
			luabind.Fault{Transient: true, Reason: "odoo: serialization failure"}},
		{"deadlock, message on two lines", frames + "psycopg2.errors.DeadlockDetected: deadlock detected\nDETAIL:  Process 4242 waits for ShareLock on transaction 99; blocked by process 4343.\n",
			luabind.Fault{Transient: true, Reason: "odoo: deadlock detected"}},
		{"lock not available", frames + "psycopg2.errors.LockNotAvailable: could not obtain lock on row in relation \"res_partner\"\n",
			luabind.Fault{Transient: true, Reason: "odoo: lock not available"}},
		{"database shutting down", frames + "psycopg2.errors.AdminShutdown: terminating connection due to administrator command\n",
			luabind.Fault{Transient: true, Reason: "odoo: database shutting down"}},
		{"chained into a validation error", frames + "psycopg2.errors.SerializationFailure: could not serialize access\n\n" +
			"The above exception was the direct cause of the following exception:\n\n" + frames +
			"odoo.exceptions.ValidationError: could not serialize access due to concurrent update\n",
			luabind.Fault{Reason: "odoo: fault 1"}},
		{"the words in another exception", frames + "ValueError: could not serialize access due to concurrent update\n",
			luabind.Fault{Reason: "odoo: fault 1"}},
		{"a database that does not exist", frames + "psycopg2.OperationalError: connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed: FATAL:  database \"x\" does not exist\n",
			luabind.Fault{Reason: "odoo: fault 1"}},
	}
	for _, transport := range []string{"xmlrpc", "json2"} {
		for _, tc := range cases {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				cfg := faultingOdoo(t, transport, tc.traceback)
				s := luatest.New(t, luatest.Options{Header: grants}, newModule(t, cfg, luaodoo.Options{}))
				kind, got := luatest.RaisedFault(t, s, `local erp = require("odoo").connect()
					erp:write("res.partner", {1}, {name = "x"})`)
				if kind != luaodoo.KindFault || got != tc.want {
					t.Fatalf("kind %q, fault %+v; want kind fault, %+v", kind, got, tc.want)
				}
			})
		}
	}
}

// faultingOdoo serves the simulator, except that its object calls (ORM
// methods) fail the way Odoo fails a call on an exception: a fault 1 whose
// string is the traceback (XML-RPC), or a 500 with the exception's name,
// message and traceback (JSON-2).
func faultingOdoo(t *testing.T, transport, traceback string) odoo.Config {
	t.Helper()
	opts := odoosim.Options{Moves: 10, Seed: 7}
	if transport == "json2" {
		opts.Version = "19.0"
	}
	sim := odoosim.NewHandler(opts)
	lines := strings.Split(strings.TrimRight(traceback, "\n"), "\n")
	class, msg, _ := strings.Cut(lines[len(lines)-1], ": ")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/xmlrpc/2/object":
			var b strings.Builder
			xmlEscape(&b, traceback)
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprintf(w, "<?xml version='1.0'?>\n<methodResponse><fault><value><struct>"+
				"<member><name>faultCode</name><value><int>1</int></value></member>"+
				"<member><name>faultString</name><value><string>%s</string></value></member>"+
				"</struct></value></fault></methodResponse>", b.String())
		case strings.HasPrefix(r.URL.Path, "/json/2/"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"name": %q, "message": %q, "arguments": [%q], "context": {}, "debug": %q}`, class, msg, msg, traceback)
		default:
			sim.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(sim.Close)
	cfg := odoo.Config{URL: srv.URL, DB: "demo", User: "admin", Password: "admin", RetryBackoff: time.Millisecond}
	if transport == "json2" {
		cfg.Transport, cfg.Password, cfg.APIKey = odoo.TransportJSON2, "", "demo-api-key"
	}
	return cfg
}

func xmlEscape(b *strings.Builder, s string) {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	b.WriteString(r.Replace(s))
}

// TestFaultSurvivesPcall: a script that catches the error and raises it
// again (or returns it) hands on the very value, which keeps its
// classification; a string made of it does not.
func TestFaultSurvivesPcall(t *testing.T) {
	t.Parallel()
	cfg := odoo.Config{URL: "http://" + closedPort(t), DB: "demo", User: "admin", Password: "admin", Retries: -1}
	s := luatest.New(t, luatest.Options{}, newModule(t, cfg, luaodoo.Options{}))
	kind, f := luatest.RaisedFault(t, s, `local ok, e = pcall(function() `+searchPartners+` end)
		assert(not ok and e.kind == "connect")
		error(e)`)
	if kind != luaodoo.KindConnect || f != (luabind.Fault{Transient: true, Reason: "odoo: connection refused"}) {
		t.Fatalf("re-raised: kind %q, fault %+v", kind, f)
	}
	v, err := s.Exec("job.lua", `local ok, e = pcall(function() `+searchPartners+` end)
		return tostring(e)`)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Env.FaultOf(v); ok {
		t.Fatal("a string made of the error value has a classification")
	}
}
