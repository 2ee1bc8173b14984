package host

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// luaNumbers are Lua expressions with the text Lua 5.1 writes for their
// value ("%.14g"; inf, -inf and nan as glibc prints them, every NaN as
// "nan"). gopher-lua's own LNumber.String writes 1.2345675e+06,
// 2.000000001e+07, 0, 1000000000000000, 0.3333333333333333,
// 9007199254740992, +Inf, -Inf and NaN for some of them.
var luaNumbers = []struct{ name, expr, want string }{
	{"amount", "1234567.5", "1234567.5"},
	{"cents", "20000000.01", "20000000.01"},
	{"2e7", "2e7", "20000000"},
	{"3.0", "3.0", "3"},
	{"negative zero", "-0.0", "-0"},
	{"1e15", "1e15", "1e+15"},
	{"1e100", "1e100", "1e+100"},
	{"0.1", "0.1", "0.1"},
	{"1/3", "1/3", "0.33333333333333"},
	{"2^53", "2^53", "9.007199254741e+15"},
	{"-amount", "-1234567.5", "-1234567.5"},
	{"inf", "1/0", "inf"},
	{"-inf", "-1/0", "-inf"},
	{"nan", "0/0", "nan"},
}

// numberPaths are the ways a script turns a number (X) into text, each
// with the text it must give from the number's text (w).
var numberPaths = []struct {
	name string
	expr string // X is the number
	want func(w string) string
}{
	{"tostring", "tostring(X)", same},
	{"concat", "(X) .. ''", same},
	{"concat chain", "'[' .. (X) .. '|' .. (X) .. ']'", func(w string) string { return "[" + w + "|" + w + "]" }},
	{"concat number last", "'=' .. (X)", func(w string) string { return "=" + w }},
	{"format %s", "string.format('%s', X)", same},
	{"format %-22s", "string.format('%-22s|', X)", func(w string) string { return w + strings.Repeat(" ", max(0, 22-len(w))) + "|" }},
	{"format %q", "string.format('%q', X)", func(w string) string { return `"` + w + `"` }},
	{"table.concat", "table.concat({X, 'a', X}, ',')", func(w string) string { return w + ",a," + w }},
	{"table.concat number separator", "table.concat({'a', 'b'}, X)", func(w string) string { return "a" + w + "b" }},
	{"string.len", "tostring(string.len(X))", func(w string) string { return strconv.Itoa(len(w)) }},
	{"string.sub", "string.sub(X, 1, -1)", same},
	{"string.upper", "string.upper(X)", strings.ToUpper},
	{"string.reverse", "string.reverse(string.reverse(X))", same},
	{"string.byte", "string.char(string.byte(X, 1, -1))", same},
	{"string.rep", "string.rep(X, 2, '/')", func(w string) string { return w + "/" + w }},
	{"string.gsub subject", "(string.gsub(X, '^', '>'))", func(w string) string { return ">" + w }},
	{"string.gsub replacement", "(string.gsub('<x>', 'x', X))", func(w string) string { return "<" + w + ">" }},
	{"string.gsub function result", "(string.gsub('<x>', 'x', function() return X end))", func(w string) string { return "<" + w + ">" }},
	{"string.find", "tostring(string.find('n=' .. (X), X, 1, true))", func(string) string { return "3" }},
	{"string.match", "string.match(X, '.*')", same},
}

func same(w string) string { return w }

// TestNumbersAsText: every way a script turns a number into text writes it
// as Lua 5.1 does (the number paths above, print, error values), in a
// session as in a script.
func TestNumbersAsText(t *testing.T) {
	t.Parallel()
	logs := &logObserver{}
	s := newTestSession(t, context.Background(), &Runner{Modules: stdModules(), Observer: logs})
	for _, n := range luaNumbers {
		for _, p := range numberPaths {
			t.Run(n.name+"/"+p.name, func(t *testing.T) {
				code := strings.ReplaceAll(p.expr, "X", "("+n.expr+")")
				vals, err := s.Eval(code)
				if err != nil {
					t.Fatalf("%s: %v", code, err)
				}
				want := p.want(n.want)
				if len(vals) != 1 || vals[0].String() != want {
					t.Errorf("%s = %v, want %q", code, vals, want)
				}
			})
		}
		t.Run(n.name+"/print", func(t *testing.T) {
			logs.mu.Lock()
			logs.lines = nil
			logs.mu.Unlock()
			if _, err := s.Eval("print(" + n.expr + ", 'x', " + n.expr + ")"); err != nil {
				t.Fatal(err)
			}
			logs.mu.Lock()
			defer logs.mu.Unlock()
			want := "repl: " + n.want + "\tx\t" + n.want
			if len(logs.lines) != 1 || logs.lines[0] != want {
				t.Errorf("print logged %q, want %q", logs.lines, want)
			}
		})
		t.Run(n.name+"/error value", func(t *testing.T) {
			_, err := s.Eval("error(" + n.expr + ")")
			var ee *EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("error(%s): %v", n.expr, err)
			}
			if first, _, _ := strings.Cut(ee.Msg, "\n"); first != "repl:1: "+n.want {
				t.Errorf("error(%s) reads %q, want %q", n.expr, first, "repl:1: "+n.want)
			}
		})
		t.Run(n.name+"/Tostring", func(t *testing.T) {
			vals, err := s.Eval(n.expr)
			if err != nil || len(vals) != 1 {
				t.Fatal(vals, err)
			}
			if got, custom := s.Tostring(vals[0]); got != n.want || custom {
				t.Errorf("Tostring(%s) = %q %v, want %q", n.expr, got, custom, n.want)
			}
		})
	}
}

// The numbers a script writes into its result and fails with: an error
// table's content shows its numbers as Lua writes them.
func TestNumbersInScriptErrors(t *testing.T) {
	t.Parallel()
	paths := writeScripts(t, t.TempDir(), map[string]string{
		"num.lua":   "error(1234567.5)",
		"table.lua": "error({amount = 20000000.01, n = 2e7})",
		"cat.lua":   "local total = 1234567.5\nerror('total ' .. total .. ' is over ' .. 1e15)",
	})
	_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules()}, paths)
	for name, want := range map[string]string{
		"num":   "num.lua:1: 1234567.5",
		"table": "error object map[amount:20000000.01 n:20000000]",
		"cat":   "cat.lua:2: total 1234567.5 is over 1e+15",
	} {
		first, _, _ := strings.Cut(by[name].Error, "\n")
		if !strings.HasSuffix(first, want) {
			t.Errorf("%s: %q, want it to end with %q", name, first, want)
		}
	}
}

// string.format's numeric conversions are C's: %g has a default precision
// of 6, infinities and NaN are written as C writes them.
func TestFormatFloatsAsC(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, context.Background(), &Runner{Modules: stdModules()})
	for _, c := range []struct{ code, want string }{
		{"string.format('%g', 1234567.5)", "1.23457e+06"},
		{"string.format('%g', 0.1 + 0.2)", "0.3"},
		{"string.format('%G', 1e-10)", "1E-10"},
		{"string.format('%.14g', 2^53)", "9.007199254741e+15"},
		{"string.format('%#g', 3)", "3.00000"},
		{"string.format('%.2f', 1234567.5)", "1234567.50"},
		{"string.format('%e', 20000000.01)", "2.000000e+07"},
		{"string.format('%f|%g|%e', 1/0, -1/0, 0/0)", "inf|-inf|nan"},
		{"string.format('%5.1f|%-6g|%+f|% e', 1/0, 1/0, 1/0, 1/0)", "  inf|inf   |+inf| inf"},
		{"string.format('%05f|%E|%G', -1/0, 1/0, 0/0)", " -inf|INF|NAN"},
		{"string.format('%d', 2e7)", "20000000"},
	} {
		vals, err := s.Eval(c.code)
		if err != nil || len(vals) != 1 || vals[0].String() != c.want {
			t.Errorf("%s = %v %v, want %q", c.code, vals, err, c.want)
		}
	}
}
