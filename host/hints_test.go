package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
)

// hintCase is a script and the exact first line of the error it reports,
// through the runner: Load (a compile error) or Run (a runtime error).
type hintCase struct {
	name string
	path string // the script's file
	want string // "path:line: message"
}

// hintModule is a test module with an object whose method checks its self
// with luabind.CheckSelf, as odoo and pg do: require("thing").open():get(k).
type hintModule struct{}

type hintThing struct{}

func (hintModule) Name() string { return "thing" }

func (hintModule) Open(L *lua.LState, _ *luabind.Env) lua.LValue {
	methods := L.NewTable()
	methods.RawSetString("get", L.NewFunction(func(L *lua.LState) int {
		luabind.CheckSelf[*hintThing](L, "obj", "thing object")
		L.Push(L.CheckAny(2))
		return 1
	}))
	mt := L.NewTable()
	mt.RawSetString("__index", methods)
	mod := L.NewTable()
	mod.RawSetString("open", L.NewFunction(func(L *lua.LState) int {
		ud := L.NewUserData()
		ud.Value = &hintThing{}
		ud.Metatable = mt
		L.Push(ud)
		return 1
	}))
	return mod
}

// hintFixtures reads testdata/hints/*.lua: each states its expected
// message in a `--> message` comment on the line the error is reported at.
func hintFixtures(t *testing.T) []hintCase {
	t.Helper()
	paths, err := filepath.Glob("testdata/hints/*.lua")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var cases []hintCase
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c := hintCase{name: filepath.Base(p), path: p}
		for i, line := range strings.Split(string(src), "\n") {
			if _, msg, ok := strings.Cut(line, "--> "); ok {
				if c.want != "" {
					t.Fatalf("%s: two expected messages", p)
				}
				c.want = p + ":" + strconv.Itoa(i+1) + ": " + msg
			}
		}
		if c.want == "" {
			t.Fatalf("%s: no `--> message` comment", p)
		}
		cases = append(cases, c)
	}
	return cases
}

// TestHints runs each case through the runner and compares the first line
// of its error, exactly: the fixtures under testdata/hints, then smaller
// cases written here.
func TestHints(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := hintFixtures(t)
	for _, c := range []struct{ name, src, want string }{
		// augmented assignments, with the script's own operands
		{"minus equals", "local x = 1\nx -= 1\n", "2: Lua has no -=: write x = x - 1 (Lua said: parse error near '-')"},
		{"times equals on a field", "local t = {n = 1}\nt.n *= 2\n", "2: Lua has no *=: write t.n = t.n * 2 (Lua said: parse error near '*')"},
		{"plus equals inside a one-line if", "local total, n = 0, 2\nif n then total += n * 2 end\n", "2: Lua has no +=: write total = total + n * 2 (Lua said: parse error near '+')"},
		{"plus equals on an indexed field", "local t = {}\nt[#t + 1].n += 1\n", "2: Lua has no +=: write t[#t + 1].n = t[#t + 1].n + 1 (Lua said: parse error near '+')"},
		{"divide equals with a comment", "local t = {1}\nt[1] /= 2 -- halve\n", "2: Lua has no /=: write t[1] = t[1] / 2 (Lua said: parse error near '/')"},
		// blocks and brackets left open: the innermost one is named
		{"open table", "local t = {\n  1,\n", "2: '}' expected (to close '{' at line 1) (Lua said: syntax error at the end of the file)"},
		{"open repeat", "local x = 0\nrepeat\n  x = x + 1\n", "3: 'until' expected (to close 'repeat' at line 2) (Lua said: syntax error at the end of the file)"},
		{"open for", "for i = 1, 2 do\n  if i then\n    print(i)\n  end\n", "4: 'end' expected (to close 'for' at line 1) (Lua said: syntax error at the end of the file)"},
		// indexing: the values on the line decide which expression is nil
		{"the nil one of two", "local a, b = {}, nil\nreturn a.x, b.x\n", "2: b is nil (reading b.x) (Lua said: attempt to index a non-table object(nil) with key 'x')"},
		{"a number", "local n = 5\nreturn n.x\n", "2: n is a number, not a table (reading n.x) (Lua said: attempt to index a non-table object(number) with key 'x')"},
		{"setting", "local bill = {}\nbill.partner.name = 'x'\n", "2: bill.partner is nil (setting bill.partner.name) (Lua said: attempt to index a non-table object(nil) with key 'name')"},
		{"a method of nil", "local conn\nconn:close()\n", "2: conn is nil (calling conn:close(...)) (Lua said: attempt to index a non-table object(nil) with key 'close')"},
		{"a key in a variable", "local rows, i = {}, 2\nreturn rows[i].name\n", "2: rows[i] is nil (reading rows[i].name) (Lua said: attempt to index a non-table object(nil) with key 'name')"},
		// calls
		{"a global library typo", "return string.lenght('x')\n", "1: string.lenght is nil: no such function (Lua said: attempt to call a non-function object)"},
		{"an upvalue's field", "local erp = {}\nlocal function f()\n  return erp.serch()\nend\nreturn f()\n", "3: erp.serch is nil: no such function (Lua said: attempt to call a non-function object)"},
		{"a table", "local json = {}\nreturn json(1)\n", "2: json is a table, not a function (Lua said: attempt to call a non-function object)"},
		{"two strings", "return 'a' + 'b'\n", "1: `..` joins strings: \"a\" .. \"b\" (Lua said: cannot perform add operation between string and string)"},
		{"after a shebang", "#!/usr/bin/env etlhost\nlocal x = 1\nx += 1\n", "3: Lua has no +=: write x = x + 1 (Lua said: parse error near '+')"},
		// what the line does not show unambiguously, or any other error, stays as it was
		{"an unterminated long string", "local function f()\n  local s = [[abc\n", "2: unterminated multiline string at the end of the file (a missing `end` or closing bracket?)"},
		{"ambiguous", "local a, b\nreturn a.x .. b.x\n", "2: attempt to index a non-table object(nil) with key 'x'"},
		{"a numeric string adds", "return '1' + 2 + {}\n", "1: cannot perform add operation between number and table"},
		{"other errors", "error('boom')\n", "1: boom"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".lua")
		if err := os.WriteFile(p, []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, hintCase{name: c.name, path: p, want: p + ":" + c.want})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := scriptError(t, c.path); got != c.want {
				t.Errorf("error\n got: %s\nwant: %s", got, c.want)
			}
		})
	}
}

// scriptError loads and runs the script at path and returns the first line
// of its error.
func scriptError(t *testing.T, path string) string {
	t.Helper()
	r := &Runner{Modules: stdModules(hintModule{})}
	scripts, err := r.Load([]string{path})
	if err != nil {
		var se *SourceError
		if !errors.As(err, &se) {
			t.Fatalf("load: %v is not a *SourceError", err)
		}
		return firstLines(err.Error(), 1)
	}
	rep, err := r.Run(context.Background(), scripts)
	if err != nil {
		t.Fatal(err)
	}
	res := rep.Scripts[0]
	if res.Error == "" {
		t.Fatalf("the script succeeded (status %s)", res.Status)
	}
	return firstLines(res.Error, 1)
}

// TestHintsKeepTheTraceback: the hint replaces the first line only.
func TestHintsKeepTheTraceback(t *testing.T) {
	t.Parallel()
	p := writeScripts(t, t.TempDir(), map[string]string{"job.lua": "local function f(bill)\n  return bill.partner.name\nend\nlocal name = f({})\nreturn name\n"})[0]
	r := &Runner{Modules: stdModules()}
	_, by := runScripts(t, context.Background(), r, []string{p})
	want := p + ":2: bill.partner is nil (reading bill.partner.name) (Lua said: attempt to index a non-table object(nil) with key 'name')\nstack traceback:\n" +
		"\t" + p + ":2: in function 'f'\n\t" + p + ":4: in main chunk"
	if got := by["job"].Error; !strings.HasPrefix(got, want) {
		t.Errorf("error\n got: %s\nwant: %s...", got, want)
	}
}

// TestHintsInSession: the REPL's inputs get the same hints.
func TestHintsInSession(t *testing.T) {
	t.Parallel()
	r := &Runner{Modules: stdModules()}
	s, err := r.NewSession(context.Background(), "repl")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Eval("x += 1")
	var se *SourceError
	if want := "repl:1: Lua has no +=: write x = x + 1 (Lua said: parse error near '+')"; !errors.As(err, &se) || err.Error() != want {
		t.Errorf("compile error %v, want %s", err, want)
	}
	_, err = s.Eval("local bill = {}; return bill.partner.name")
	var ee *EvalError
	if want := "repl:1: bill.partner is nil (reading bill.partner.name) (Lua said: attempt to index a non-table object(nil) with key 'name')"; !errors.As(err, &ee) || ee.Short() != want {
		t.Errorf("runtime error %v, want %s", err, want)
	}
}
