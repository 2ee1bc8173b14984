package main

import (
	"testing"
)

// TestCheckHints: `etlhost check` prints the hints of host/hints.go for the
// mistakes of people who know Python, with file:line and what Lua said.
func TestCheckHints(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct{ name, src, want string }{
		{"plus_equals.lua", "local total = 0\ntotal += 5\n", ":2: Lua has no +=: write total = total + 5 (Lua said: parse error near '+')"},
		{"not_equal.lua", "local n = 1\nif n != 2 then print(n) end\n", `:2: Lua writes "not equal" as ~=, not !=: if n ~= 2 then print(n) end (Lua said: Invalid token near '!')`},
		{"missing_end.lua", "local function f()\n  return 1\n", ":2: 'end' expected (to close 'function' at line 1) (Lua said: syntax error at the end of the file)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := write(t, dir, c.name, c.src)
			out := run(t, nil, "check", p)
			if want := p + c.want + "\n"; out.code != ExitFailed || out.stdout != want {
				t.Fatalf("check: exit %d, printed\n%s\nwant\n%s", out.code, out.stdout, want)
			}
		})
	}
}
