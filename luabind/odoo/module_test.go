package odoo_test

import (
	"context"
	"errors"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/json"
	"github.com/etlhost/etlhost/luabind/luatest"
	luaodoo "github.com/etlhost/etlhost/luabind/odoo"
	"github.com/etlhost/etlhost/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// simConfig starts a simulator and returns the connection config for it.
func simConfig(t testing.TB, opts odoosim.Options) (odoo.Config, *odoosim.Sim) {
	t.Helper()
	if opts.Moves == 0 {
		opts.Moves = 80
	}
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	srv := odoosim.NewServer(opts)
	t.Cleanup(srv.Close)
	cfg := odoo.Config{URL: srv.URL, DB: "demo", User: "admin", Password: "admin", RetryBackoff: time.Millisecond}
	if opts.Version == "19.0" {
		cfg.Transport, cfg.Password, cfg.APIKey = odoo.TransportJSON2, "", "demo-api-key"
	}
	return cfg, srv.Sim()
}

func newModule(t testing.TB, cfg odoo.Config, opts luaodoo.Options) *luaodoo.Module {
	m := luaodoo.New(map[string]odoo.Config{"default": cfg}, opts)
	t.Cleanup(m.Close)
	return m
}

// grants is the header every spec file runs with.
var grants = map[string]string{luaodoo.HeaderWrites: "res.partner, account.move"}

func TestLuaSpecs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, version string }{{"xmlrpc", ""}, {"json2", "19.0"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			luatest.RunFiles(t, "testdata/test_*.lua", func(t *testing.T) *luatest.State {
				cfg, _ := simConfig(t, odoosim.Options{Version: tc.version})
				return luatest.New(t, luatest.Options{Header: grants, Script: "spec"}, newModule(t, cfg, luaodoo.Options{}), json.Module{})
			})
		})
	}
}

func TestModuleContract(t *testing.T) {
	t.Parallel()
	m := luaodoo.New(nil, luaodoo.Options{})
	if m.Name() != "odoo" {
		t.Fatalf("name %q", m.Name())
	}
	if got := m.HeaderKeys(); len(got) != 1 || got[0] != "odoo-writes" {
		t.Fatalf("header keys %v", got)
	}
	var _ luabind.Module = m
	var _ luabind.HeaderKeys = m
	s := luatest.New(t, luatest.Options{}, m)
	_, err := s.Exec("x.lua", `require("odoo").connect()`)
	if err == nil || !strings.Contains(err.Error(), "x.lua:1: odoo.connect: no Odoo connection is configured") {
		t.Fatalf("no connections: %v", err)
	}
}

func TestStubDescribesEveryFunction(t *testing.T) {
	t.Parallel()
	stub, err := os.ReadFile("odoo.lua")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(stub), "---@meta") {
		t.Fatal("odoo.lua must start with ---@meta")
	}
	for _, name := range []string{"search_read", "iter", "search", "count", "read", "fields", "create", "write", "unlink", "call", "version", "name_search"} {
		if !strings.Contains(string(stub), "function erp:"+name+"(") {
			t.Errorf("odoo.lua does not describe erp:%s", name)
		}
	}
	if !strings.Contains(string(stub), "function odoo.connect(") {
		t.Error("odoo.lua does not describe odoo.connect")
	}
}

func TestWriteAllOptionGrantsWrites(t *testing.T) {
	t.Parallel()
	cfg, _ := simConfig(t, odoosim.Options{})
	code := `
		local erp = require("odoo").connect()
		local id = erp:create("res.country", {name = "Atlantis", code = "AX"})
		erp:write("res.country", id, {name = "Atlantis 2"})
		return erp:read("res.country", id, {"name"}).name`
	s := luatest.New(t, luatest.Options{}, newModule(t, cfg, luaodoo.Options{WriteAll: true}))
	v, err := s.Exec("w.lua", code)
	if err != nil || v.String() != "Atlantis 2" {
		t.Fatalf("WriteAll: %v %v", v, err)
	}
	// A star in the header grants every model too (on a simulator of its
	// own: a second Atlantis would break res.country's unique name).
	cfg2, _ := simConfig(t, odoosim.Options{})
	s = luatest.New(t, luatest.Options{Header: map[string]string{"odoo-writes": "*"}}, newModule(t, cfg2, luaodoo.Options{}))
	if _, err := s.Exec("w.lua", code); err != nil {
		t.Fatalf("header *: %v", err)
	}
	// Without a grant the same script is refused.
	s = luatest.New(t, luatest.Options{Header: map[string]string{"odoo-writes": "res.partner"}}, newModule(t, cfg, luaodoo.Options{}))
	_, err = s.Exec("w.lua", code)
	if err == nil || !strings.Contains(err.Error(), `w.lua:3: odoo: write to res.country refused: add "--! odoo-writes = res.country"`) {
		t.Fatalf("no grant: %v", err)
	}
}

func TestDryRunPlansWritesAndPlaceholders(t *testing.T) {
	t.Parallel()
	cfg, _ := simConfig(t, odoosim.Options{})
	m := newModule(t, cfg, luaodoo.Options{})
	s := luatest.New(t, luatest.Options{DryRun: true}, m)
	v, err := s.Exec("fix.lua", `
		local erp = require("odoo").connect()
		local before = erp:count("res.partner", {})
		local id = erp:create("res.partner", {name = "Planned SARL", city = "Lille"})
		expect.eq(id, -1, "first placeholder")
		local ids = erp:create("res.partner", {{name = "P2"}, {name = "P3"}})
		expect.eq(ids, {-2, -3}, "placeholders for a list")
		erp:write("res.partner", id, {city = "Douai"})
		local planned = erp:read("res.partner", id, {"name", "city"})
		expect.eq(planned.name, "Planned SARL", "read of a placeholder returns the planned values")
		expect.eq(planned.city, "Douai", "planned writes apply to planned records")
		local real = erp:search("res.partner", {}, {limit = 1, order = "id"})[1]
		erp:write("res.partner", {real}, {ref = "DRY"})
		erp:unlink("res.partner", {real})
		erp:call("account.move", "action_post", {{1, 2}})
		expect.eq(erp:count("res.partner", {}), before, "nothing created")
		expect.eq(erp:count("res.partner", {{"ref", "=", "DRY"}}), 0, "nothing written")
		expect.eq(#erp:read("res.partner", {real, id}, {"name"}), 2, "real and planned rows")
		return real`)
	if err != nil {
		t.Fatalf("%v\n%s", err, s.Logs)
	}
	real := int64(v.(lua.LNumber))
	logs := s.Logs.String()
	for _, want := range []string{
		`info plan: create res.partner values={"city":"Lille","name":"Planned SARL"} -> -1`,
		`info plan: create res.partner values={"name":"P2"} -> -2`,
		`info plan: write res.partner ids=[-1] values={"city":"Douai"}`,
		`info plan: write res.partner ids=[` + itoa(real) + `] values={"ref":"DRY"}`,
		`info plan: unlink res.partner ids=[` + itoa(real) + `]`,
		`info plan: action_post account.move ids=[1,2]`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("plan line missing: %s\nlogs:\n%s", want, logs)
		}
	}
	if strings.Count(logs, "plan: ") != 7 {
		t.Errorf("want 7 plan lines:\n%s", logs)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestHungOdooStoppedAtScriptDeadline(t *testing.T) {
	t.Parallel()
	cfg, sim := simConfig(t, odoosim.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	s := luatest.New(t, luatest.Options{Ctx: ctx}, newModule(t, cfg, luaodoo.Options{}))
	sim.Hang(true)
	defer sim.Hang(false)
	start := time.Now()
	_, err := s.Exec("slow.lua", `local erp = require("odoo").connect()
return erp:search_read("account.move", {}, {fields = {"name"}})`)
	if err == nil {
		t.Fatal("a hung Odoo must fail the call")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("stopped after %v, long past the 400ms deadline", d)
	}
	if !strings.Contains(s.ErrorText(err), "deadline") {
		t.Fatalf("the error should say the deadline stopped it: %v", s.ErrorText(err))
	}
}

func TestBadCredentialsFromLua(t *testing.T) {
	t.Parallel()
	const secret = "Very-Secret-Pw-42"
	// The simulator locks the address out after 2 failed logins, as Odoo
	// does after 5: if the module tried the password more than once, the
	// right password would be refused afterwards.
	cfg, sim := simConfig(t, odoosim.Options{LoginFailures: 2})
	good := cfg
	cfg.Password = secret
	m := newModule(t, cfg, luaodoo.Options{})
	for i := 0; i < 3; i++ {
		s := luatest.New(t, luatest.Options{}, m)
		_, err := s.Exec("login.lua", `local erp = require("odoo").connect()
return erp:count("res.partner", {})`)
		if err == nil || !strings.Contains(s.ErrorText(err), "login.lua:2: odoo login failed for user admin on db demo") {
			t.Fatalf("bad password: %v", err)
		}
		if strings.Contains(s.ErrorText(err), secret) {
			t.Fatalf("the password reached the script: %v", err)
		}
	}
	if n := sim.Calls(); n != 0 {
		t.Fatalf("%d object calls were sent after a refused login", n)
	}
	c, err := odoo.New(good)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Authenticate(context.Background()); err != nil {
		t.Fatalf("the right password is refused, so the bad one was tried more than once: %v", err)
	}
}

func TestErrorValueFromPcall(t *testing.T) {
	t.Parallel()
	cfg, _ := simConfig(t, odoosim.Options{})
	s := luatest.New(t, luatest.Options{}, newModule(t, cfg, luaodoo.Options{}))
	_, err := s.Exec("e.lua", `local erp = require("odoo").connect()
erp:read("res.partner", {1}, {"nope"})`)
	var ae *lua.ApiError
	if !errors.As(err, &ae) {
		t.Fatalf("want a Lua error, got %v", err)
	}
	tbl, ok := ae.Object.(*lua.LTable)
	if !ok {
		t.Fatalf("fault should be raised as a table, got %T %v", ae.Object, ae.Object)
	}
	if tbl.RawGetString("code").String() != "1" {
		t.Fatalf("code %v", tbl.RawGetString("code"))
	}
	str := s.L.ToStringMeta(tbl).String()
	if !regexp.MustCompile(`^e\.lua:2: odoo: fault 1: ValueError: Invalid field`).MatchString(str) {
		t.Fatalf("tostring %q", str)
	}
}

// TestErrorKinds: every error of a call is an error value of one shape
// (kind, code, message, where), the shape of pg's, so a script can tell
// what went wrong with err.kind whichever module raised it.
func TestErrorKinds(t *testing.T) {
	t.Parallel()
	closed := func() string { // an address nothing listens on
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr
	}
	tests := []struct {
		name     string
		setup    func(cfg *odoo.Config, sim *odoosim.Sim)
		deadline time.Duration
		code     string
		kind     string
		errCode  string
	}{
		{"fault", nil, 0, `erp:read("res.partner", {1}, {"nope"})`, "fault", "1"},
		{"auth", func(cfg *odoo.Config, _ *odoosim.Sim) { cfg.Password = "wrong" }, 0, `erp:count("res.partner", {})`, "auth", ""},
		{"http", func(_ *odoo.Config, sim *odoosim.Sim) { sim.FailEvery(1) }, 0, `erp:count("res.partner", {})`, "http", "500"},
		{"connect", func(cfg *odoo.Config, _ *odoosim.Sim) { cfg.URL = closed() }, 0, `erp:count("res.partner", {})`, "connect", ""},
		{"timeout", func(cfg *odoo.Config, sim *odoosim.Sim) {
			cfg.Timeout = 100 * time.Millisecond
			sim.SetLatency(time.Second)
		}, 0,
			`erp:count("res.partner", {})`, "timeout", ""},
		{"stopped", func(_ *odoo.Config, sim *odoosim.Sim) { sim.Hang(true) }, 300 * time.Millisecond,
			`erp:search_read("account.move", {}, {fields = {"name"}})`, "stopped", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, sim := simConfig(t, odoosim.Options{})
			cfg.Retries = -1
			if tc.setup != nil {
				tc.setup(&cfg, sim)
			}
			defer sim.Hang(false)
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			s := luatest.New(t, luatest.Options{Ctx: ctx}, newModule(t, cfg, luaodoo.Options{}))
			if tc.deadline > 0 {
				// A stopped script runs no more Lua code: the error value
				// is read from Go.
				_, err := s.Exec("kinds.lua", "local erp = require(\"odoo\").connect()\n"+tc.code)
				var ae *lua.ApiError
				if !errors.As(err, &ae) {
					t.Fatalf("want a Lua error, got %v", err)
				}
				tbl, ok := ae.Object.(*lua.LTable)
				if !ok || tbl.RawGetString("kind").String() != tc.kind || tbl.RawGetString("where").String() != "kinds.lua:2" {
					t.Fatalf("error value %v (%s)", ae.Object, s.ErrorText(err))
				}
				return
			}
			v, err := s.Exec("kinds.lua", `local erp = require("odoo").connect()
local ok, err = pcall(function() `+tc.code+` end)
assert(not ok, "the call failed")
return err.kind .. " " .. tostring(err.code) .. " " .. err.where .. " " .. tostring(err)`)
			if err != nil {
				t.Fatal(s.ErrorText(err))
			}
			want := tc.kind + " " + tc.errCode
			if tc.errCode == "" {
				want = tc.kind + " nil"
			}
			if got := v.String(); !strings.HasPrefix(got, want+" kinds.lua:2 kinds.lua:2: odoo") {
				t.Errorf("got %q, want %q, where and a message", got, want)
			}
		})
	}
}

func TestScriptsShareTheModuleConcurrently(t *testing.T) {
	t.Parallel()
	cfg, _ := simConfig(t, odoosim.Options{})
	cfg.MaxInFlight = 2
	m := newModule(t, cfg, luaodoo.Options{})
	const scripts = 4
	errs := make(chan error, scripts)
	for i := 0; i < scripts; i++ {
		s := luatest.New(t, luatest.Options{}, m)
		go func() {
			_, err := s.Exec("par.lua", `
				local erp = require("odoo").connect()
				local all = erp:search("account.move", {}, {order = "id"})
				local rows = erp:search_read("account.move", {}, {fields = {"name", "partner_id"}, batch = 9})
				expect.eq(#rows, #all, "every row once")
				for i, r in ipairs(rows) do expect.eq(r.id, all[i], "order") end
				expect.eq(erp:fields("account.move").partner_id.type, "many2one")`)
			errs <- err
		}()
	}
	for i := 0; i < scripts; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestWarnsWhenReadingEveryField(t *testing.T) {
	t.Parallel()
	cfg, _ := simConfig(t, odoosim.Options{})
	s := luatest.New(t, luatest.Options{}, newModule(t, cfg, luaodoo.Options{}))
	if _, err := s.Exec("all.lua", `local erp = require("odoo").connect()
		erp:search_read("res.country", {}, {limit = 2})
		erp:search_read("res.country", {}, {limit = 2})
		erp:search_read("res.country", {}, {fields = {"code"}, limit = 2})`); err != nil {
		t.Fatal(err)
	}
	want := "warn odoo: search_read res.country without opts.fields reads every field"
	if got := s.Logs.String(); strings.Count(got, want) != 1 {
		t.Fatalf("want one warning %q, got:\n%s", want, got)
	}
}

// TestRowsFetchedAreCounted: pages read are reported to the host's row
// counter, concurrent pages included.
func TestRowsFetchedAreCounted(t *testing.T) {
	t.Parallel()
	cfg, _ := simConfig(t, odoosim.Options{})
	s := luatest.New(t, luatest.Options{}, newModule(t, cfg, luaodoo.Options{}))
	v, err := s.Exec("count.lua", `local erp = require("odoo").connect()
local a = erp:search_read("account.move", {}, {fields = {"name"}, batch = 7})
local b = erp:search_read("res.partner", {}, {fields = {"name"}, limit = 5})
return #a + #b`)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(v.(lua.LNumber)); s.Logs.Fetched != want || s.Logs.Loaded != 0 {
		t.Fatalf("counted %d fetched, %d loaded; want %d fetched", s.Logs.Fetched, s.Logs.Loaded, want)
	}
}
