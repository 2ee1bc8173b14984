package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// stubDecls is what a LuaLS stub declares: `function x.f(` and
// `function C:m(` by local name, the class each local was declared with
// (`---@class C` followed by `local x = {}`), the `---@field`s of each class
// and the local the file returns (the module).
type stubDecls struct {
	module  string
	classOf map[string]string          // local -> class
	funcs   map[string]map[string]bool // local -> function names
	fields  map[string]map[string]bool // class -> field names
}

var (
	stubFuncRe  = regexp.MustCompile(`^function\s+([A-Za-z_]\w*)\s*[.:]\s*([A-Za-z_]\w*)\s*\(`)
	stubClassRe = regexp.MustCompile(`^---@class\s+([\w.]+)`)
	stubFieldRe = regexp.MustCompile(`^---@field\s+([A-Za-z_]\w*)`)
	stubLocalRe = regexp.MustCompile(`^local\s+([A-Za-z_]\w*)\s*=\s*\{\s*\}`)
	stubRetRe   = regexp.MustCompile(`^return\s+([A-Za-z_]\w*)\s*$`)
)

func parseStub(t *testing.T, file, text string) *stubDecls {
	t.Helper()
	d := &stubDecls{classOf: map[string]string{}, funcs: map[string]map[string]bool{}, fields: map[string]map[string]bool{}}
	if !strings.HasPrefix(text, "---@meta") {
		t.Errorf("%s does not start with ---@meta", file)
	}
	class := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case stubClassRe.MatchString(line):
			class = stubClassRe.FindStringSubmatch(line)[1]
		case stubFieldRe.MatchString(line) && class != "":
			if d.fields[class] == nil {
				d.fields[class] = map[string]bool{}
			}
			d.fields[class][stubFieldRe.FindStringSubmatch(line)[1]] = true
		case strings.HasPrefix(line, "---") || line == "":
		case stubLocalRe.MatchString(line):
			if class != "" {
				d.classOf[stubLocalRe.FindStringSubmatch(line)[1]] = class
			}
			class = ""
		case stubFuncRe.MatchString(line):
			m := stubFuncRe.FindStringSubmatch(line)
			if d.funcs[m[1]] == nil {
				d.funcs[m[1]] = map[string]bool{}
			}
			d.funcs[m[1]][m[2]] = true
			class = ""
		case stubRetRe.MatchString(line):
			d.module = stubRetRe.FindStringSubmatch(line)[1]
		default:
			class = ""
		}
	}
	if d.module == "" {
		t.Errorf("%s: no `return <module>` line", file)
	}
	return d
}

// classFuncs are the functions declared on the locals of class.
func (d *stubDecls) classFuncs(class string) map[string]bool {
	out := map[string]bool{}
	for local, c := range d.classOf {
		if c == class {
			for f := range d.funcs[local] {
				out[f] = true
			}
		}
	}
	return out
}

// exposed lists a table's keys: function names and other names.
func exposed(tb *lua.LTable) (funcs, others []string) {
	tb.ForEach(func(k, v lua.LValue) {
		name, ok := k.(lua.LString)
		if !ok {
			return
		}
		if _, isFn := v.(*lua.LFunction); isFn {
			funcs = append(funcs, string(name))
		} else {
			others = append(others, string(name))
		}
	})
	sort.Strings(funcs)
	sort.Strings(others)
	return funcs, others
}

// methodsOf returns the method table of an object (userdata or table)
// through its metatable's __index, read from Go: the pg and odoo objects
// protect their metatables from Lua.
func methodsOf(t *testing.T, L *lua.LState, what string, v lua.LValue) *lua.LTable {
	t.Helper()
	var mtv lua.LValue
	switch x := v.(type) {
	case *lua.LUserData:
		mtv = x.Metatable // raw: GetMetatable would honour __metatable
	case *lua.LTable:
		mtv = x.Metatable
	}
	mt, ok := mtv.(*lua.LTable)
	if !ok {
		t.Fatalf("%s (%s) has no metatable", what, v.Type())
	}
	idx, ok := mt.RawGetString("__index").(*lua.LTable)
	if !ok {
		t.Fatalf("%s: __index is not a table", what)
	}
	return idx
}

// stubProblems lists functions exposed but not declared, and declared but
// not exposed.
func stubProblems(what string, exposedFns []string, declared map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range exposedFns {
		seen[f] = true
		if !declared[f] {
			out = append(out, what+"."+f+" is exposed to Lua but missing from the stub")
		}
	}
	for f := range declared {
		if !seen[f] {
			out = append(out, what+"."+f+" is declared in the stub but not exposed to Lua")
		}
	}
	sort.Strings(out)
	return out
}

func compare(t *testing.T, what string, exposedFns []string, declared map[string]bool) {
	t.Helper()
	for _, p := range stubProblems(what, exposedFns, declared) {
		t.Error(p)
	}
}

// TestStubsComplete opens every module in a real state (PostgreSQL and the
// Odoo simulator behind pg and odoo), walks the module tables and the
// methods of the objects they return, and checks each function against the
// module's LuaLS stub, both ways.
func TestStubsComplete(t *testing.T) {
	t.Parallel()
	sim := odoosim.NewServer(odoosim.Options{Moves: 5, Seed: 1})
	t.Cleanup(sim.Close)
	cfg := &host.Config{
		Postgres: map[string]host.PostgresConn{"default": {DSN: pgtest.DSN(t)}},
		Odoo:     map[string]host.OdooConn{"default": {URL: sim.URL, DB: "demo", User: "admin", Password: "admin", Transport: "xmlrpc"}},
	}
	a := &App{}
	mods, closeMods := a.modules(cfg, false)
	t.Cleanup(closeMods)
	s := luatest.New(t, luatest.Options{}, mods...)
	v, err := s.Exec("stubs_test.lua", `
		local task, pg, odoo = require("task"), require("pg"), require("odoo")
		local objs = {}
		objs.handle = task.spawn(function() end)
		objs.channel = task.channel(1)
		objs.semaphore = task.semaphore(1)
		task.wait(objs.handle)
		objs.db = pg.connect()
		objs.db:tx(function(tx) objs.tx = tx end)
		objs.erp = odoo.connect()
		objs.erp:version()   -- a real call: the connection works
		return objs`)
	if err != nil {
		t.Fatal(err)
	}
	objs := v.(*lua.LTable)

	stubs := map[string]*stubDecls{}
	for _, f := range stubFiles() {
		stubs[strings.TrimSuffix(f.File, ".lua")] = parseStub(t, f.File, f.Text)
	}
	for _, name := range []string{"log", "json", "etl", "date", "task", "shared", "pg", "odoo"} {
		d := stubs[name]
		if d == nil {
			t.Errorf("no stub for module %s", name)
			continue
		}
		mv, err := s.Exec(name, `return require("`+name+`")`)
		if err != nil {
			t.Fatal(err)
		}
		fns, others := exposed(mv.(*lua.LTable))
		compare(t, name, fns, d.funcs[d.module])
		for _, o := range others {
			if !d.fields[d.classOf[d.module]][o] {
				t.Errorf("%s.%s (a value) is exposed to Lua but has no ---@field in the stub", name, o)
			}
		}
	}
	// Objects the modules return: the stub class that documents each.
	objects := []struct {
		stub, key, class string
	}{
		{"task", "handle", "task.Handle"},
		{"task", "channel", "task.Channel"},
		{"task", "semaphore", "task.Semaphore"},
		{"pg", "db", "pg.DB"},
		{"pg", "tx", "pg.DB"},
		{"odoo", "erp", "odoo.Connection"},
	}
	for _, o := range objects {
		val := objs.RawGetString(o.key)
		if val == lua.LNil {
			t.Errorf("the test did not get a %s object", o.key)
			continue
		}
		fns, _ := exposed(methodsOf(t, s.L, o.key, val))
		decl := stubs[o.stub].classFuncs(o.class)
		if len(decl) == 0 {
			t.Errorf("%s.lua declares no methods for class %s", o.stub, o.class)
		}
		compare(t, o.stub+" "+o.key, fns, decl)
	}
	// The t object of `etlhost test` is checked against its stub in
	// internal/scripttest (TestStubComplete).
}

// TestStubsCatchesMissing checks the checker: a stub that lacks a
// function, or declares one that does not exist, is reported.
func TestStubsCatchesMissing(t *testing.T) {
	t.Parallel()
	var jsonStub string
	for _, f := range stubFiles() {
		if f.File == "json.lua" {
			jsonStub = f.Text
		}
	}
	d := parseStub(t, "json.lua", strings.Replace(jsonStub, "function json.decode(", "function json.decoded(", 1))
	got := stubProblems("json", []string{"decode", "encode"}, d.funcs[d.module])
	want := []string{
		"json.decode is exposed to Lua but missing from the stub",
		"json.decoded is declared in the stub but not exposed to Lua",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(stubProblems("json", []string{"decode", "encode"}, parseStub(t, "json.lua", jsonStub).funcs["json"])) != 0 {
		t.Fatal("the real json stub is reported incomplete")
	}
}

func TestStubsCommand(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, ".luals")
	out := run(t, nil, "stubs", "--root", root, dir)
	if out.code != ExitOK {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	for _, f := range stubFiles() {
		b, err := os.ReadFile(filepath.Join(dir, f.File))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "---@meta") {
			t.Errorf("%s does not start with ---@meta", f.File)
		}
	}
	var rc map[string]any
	b, err := os.ReadFile(filepath.Join(root, ".luarc.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rc); err != nil {
		t.Fatalf(".luarc.json: %v\n%s", err, b)
	}
	if rc["runtime.version"] != "Lua 5.1" || !containsAny(rc["workspace.library"], ".luals") || !containsAny(rc["runtime.path"], "scripts/lib/?.lua") {
		t.Fatalf(".luarc.json:\n%s", b)
	}

	// An existing .luarc.json keeps its settings and gains the library.
	custom := `{"workspace": {"library": ["/usr/share/lua"]}, "diagnostics.globals": ["vim"], "runtime.version": "LuaJIT"}`
	if err := os.WriteFile(filepath.Join(root, ".luarc.json"), []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	out = run(t, nil, "stubs", "--root", root, dir)
	if out.code != ExitOK || !strings.Contains(out.stderr, "kept its settings") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	b, _ = os.ReadFile(filepath.Join(root, ".luarc.json"))
	rc = nil
	if err := json.Unmarshal(b, &rc); err != nil {
		t.Fatal(err)
	}
	ws, _ := rc["workspace"].(map[string]any)
	if rc["runtime.version"] != "LuaJIT" || !containsAny(rc["diagnostics.globals"], "vim") ||
		ws == nil || !containsAny(ws["library"], "/usr/share/lua") || !containsAny(ws["library"], ".luals") {
		t.Fatalf("merged .luarc.json:\n%s", b)
	}

	// A broken .luarc.json is not overwritten.
	if err := os.WriteFile(filepath.Join(root, ".luarc.json"), []byte("{nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := run(t, nil, "stubs", "--root", root, dir); out.code != ExitFailed || !strings.Contains(out.stderr, "not valid JSON") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(root, ".luarc.json")); string(b) != "{nope" {
		t.Fatalf("the broken file was replaced: %s", b)
	}
}

func containsAny(list any, want string) bool {
	l, _ := list.([]any)
	for _, v := range l {
		if v == want {
			return true
		}
	}
	return false
}
