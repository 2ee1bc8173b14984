package host

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestHeader(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src   string
		wantTimeout time.Duration
		wantHeader  map[string]string
		wantErr     string
	}{
		{"none", "return 1", 0, map[string]string{}, ""},
		{"timeout", "--! timeout = 15m\nreturn 1", 15 * time.Minute, map[string]string{"timeout": "15m"}, ""},
		{"after comments and shebang", "#!/usr/bin/env etlhost\n-- a job\n\n--! timeout=90s\n--! odoo-writes = res.partner\nreturn 1",
			90 * time.Second, map[string]string{"timeout": "90s", "odoo-writes": "res.partner"}, ""},
		{"stops at code", "local x = 1\n--! timeout = nonsense\nreturn x", 0, map[string]string{}, ""},
		{"bad duration", "-- job\n--! timeout = soon\n", 0, nil, "job.lua:2: bad timeout \"soon\""},
		{"negative", "--! timeout = -5s\n", 0, nil, "job.lua:1: bad timeout"},
		{"no equals", "--! timeout 5s\n", 0, nil, "job.lua:1: bad header line"},
		{"unknown key", "--! tmeout = 5s\n", 0, nil, "job.lua:1: unknown header key \"tmeout\""},
		{"twice", "--! timeout = 5s\n--! timeout = 6s\n", 0, nil, "job.lua:2: header key \"timeout\" given twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := CompileScript("job", "job.lua", []byte(tc.src), []string{"odoo-writes"})
			if tc.wantErr != "" {
				var se *SourceError
				if err == nil || !errors.As(err, &se) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want a SourceError containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Timeout != tc.wantTimeout {
				t.Errorf("timeout %v, want %v", s.Timeout, tc.wantTimeout)
			}
			if len(s.Header) != len(tc.wantHeader) {
				t.Errorf("header %v, want %v", s.Header, tc.wantHeader)
			}
			for k, v := range tc.wantHeader {
				if s.Header[k] != v {
					t.Errorf("header[%s] = %q, want %q", k, s.Header[k], v)
				}
			}
		})
	}
}

func TestSyntaxErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, src, want string }{
		{"missing end", "local x = 1\nif x then\n  x = 2\n", "bad.lua:"},
		{"unexpected symbol", "local x = 1\nlocal = 2\n", "bad.lua:2:"},
		{"unfinished string", "local s = 'abc\nreturn s", "bad.lua:2: unterminated string"},
		{"goto-like", "return return", "bad.lua:1:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := CompileScript("bad", "bad.lua", []byte(tc.src), nil)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want prefix %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "column:") {
				t.Errorf("error %q still carries gopher-lua's raw position", err)
			}
		})
	}
}

func TestSourceLimits(t *testing.T) {
	t.Parallel()
	deep := "return " + strings.Repeat("{", 1_000_000)
	_, err := CompileScript("deep", "deep.lua", []byte(deep), nil)
	if err == nil || !strings.Contains(err.Error(), "nesting deeper than") {
		t.Fatalf("a million `{` gave %v, want a nesting error", err)
	}
	deepParens := "return " + strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300)
	if _, err := CompileScript("p", "p.lua", []byte(deepParens), nil); err == nil || !strings.Contains(err.Error(), "nesting") {
		t.Fatalf("300 parentheses gave %v, want a nesting error", err)
	}
	blocks := strings.Repeat("do ", 250) + strings.Repeat("end ", 250)
	if _, err := CompileScript("b", "b.lua", []byte(blocks), nil); err == nil || !strings.Contains(err.Error(), "nesting") {
		t.Fatalf("250 nested blocks gave %v, want a nesting error", err)
	}
	// Brackets inside strings and comments do not count.
	quoted := "local s = '" + strings.Repeat("{", 500) + "'\n-- " + strings.Repeat("(", 500) + "\nlocal l = [[" + strings.Repeat("{", 500) + "]]\nreturn s"
	if _, err := CompileScript("q", "q.lua", []byte(quoted), nil); err != nil {
		t.Fatalf("brackets in strings and comments: %v", err)
	}
	big := []byte("return '" + strings.Repeat("x", MaxSourceBytes) + "'")
	if _, err := CompileScript("big", "big.lua", big, nil); err == nil || !strings.Contains(err.Error(), "more than the limit") {
		t.Fatalf("oversized source gave %v", err)
	}
}

func TestNestingDepthIsExactForSimpleCode(t *testing.T) {
	t.Parallel()
	src := "local function f()\n  if a then\n    return {(1)}\n  end\nend\n"
	line, depth := nestingDepth([]byte(src))
	if depth != 4 || line != 3 {
		t.Fatalf("depth %d at line %d, want 4 at line 3", depth, line)
	}
}
