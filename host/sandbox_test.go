package host

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestEscapeAndAbuse runs every attempt below as a script of one run,
// next to two well-behaved canaries. Each attempt must end failed or timed
// out with the error it names; the canaries must finish ok; the host must
// come back. Together they answer each hazard of shared/lua-host-notes.md.
func TestEscapeAndAbuse(t *testing.T) {
	t.Parallel()
	attempts := []struct {
		name, src string
		status    Status
		want      string
	}{
		{"os_execute", `os.execute("touch /tmp/pwned")`, StatusFailed, "attempt to call a non-function"},
		{"os_exit", `os.exit(3)`, StatusFailed, "attempt to call a non-function"},
		{"os_getenv", `return os.getenv("HOME")`, StatusFailed, "attempt to call a non-function"},
		{"os_setenv", `os.setenv("X", "1")`, StatusFailed, "attempt to call a non-function"},
		{"os_remove", `os.remove("/tmp/x")`, StatusFailed, "attempt to call a non-function"},
		{"os_rename", `os.rename("/tmp/x", "/tmp/y")`, StatusFailed, "attempt to call a non-function"},
		{"os_tmpname", `os.tmpname()`, StatusFailed, "attempt to call a non-function"},
		{"io_open", `io.open("/etc/passwd")`, StatusFailed, "attempt to index a non-table object(nil)"},
		{"dofile", `dofile("/etc/passwd")`, StatusFailed, "attempt to call a non-function"},
		{"loadfile", `loadfile("/etc/passwd")`, StatusFailed, "attempt to call a non-function"},
		{"loadstring", `loadstring("return 1")()`, StatusFailed, "attempt to call a non-function"},
		{"load", `load(function() return nil end)`, StatusFailed, "attempt to call a non-function"},
		{"package_loadlib", `package.loadlib("libc.so.6", "system")`, StatusFailed, "attempt to index a non-table object(nil)"},
		{"require_io", `require("io")`, StatusFailed, `module "io" not found`},
		{"require_path", `require("../../etc/passwd")`, StatusFailed, "bad module name"},
		{"require_abs", `require("/etc/passwd")`, StatusFailed, "bad module name"},
		{"debug_lib", `debug.getinfo(1)`, StatusFailed, "attempt to index a non-table object(nil)"},
		{"getfenv", `local g = getfenv(0)`, StatusFailed, "attempt to call a non-function"},
		{"setfenv", `setfenv(1, {})`, StatusFailed, "attempt to call a non-function"},
		{"printregs", `_printregs()`, StatusFailed, "attempt to call a non-function"},
		{"newproxy", `newproxy(true)`, StatusFailed, "attempt to call a non-function"},
		{"module", `module("x")`, StatusFailed, "attempt to call a non-function"},
		{"channel", `channel.make()`, StatusFailed, "attempt to index a non-table object(nil)"},
		{"string_metatable", `getmetatable("").__index.upper = nil`, StatusFailed, "attempt to index a non-table object(boolean)"},
		{"string_metatable_set", `setmetatable(getmetatable(""), {})`, StatusFailed, "table expected"},
		{"format_pointer", `string.format("%p", {})`, StatusFailed, "invalid option '%p'"},
		{"format_gotype", `string.format("%T", 1)`, StatusFailed, "invalid option '%T'"},
		{"format_width", `string.format("%999999999d", 1)`, StatusFailed, "width or precision over 99"},
		{"format_precision", `string.format("%.1000f", 1)`, StatusFailed, "width or precision over 99"},
		{"rep_huge", `local s = string.rep("x", 1e10)`, StatusFailed, "over the limit"},
		{"rep_method", `local s = ("xy"):rep(1e9)`, StatusFailed, "over the limit"},
		{"concat_huge", `local x = string.rep("x", 1e6) local t = {} for i = 1, 100 do t[i] = x end local s = table.concat(t)`, StatusFailed, "table.concat: result over the limit"},
		{"gsub_huge", `local s = string.rep("x", 2e5) s = s:gsub("x", string.rep("y", 400))`, StatusFailed, "string.gsub: result over the limit"},
		{"recursion", `local function f() return 1 + f() end f()`, StatusFailed, "stack overflow"},
		{"tail_recursion", `local function f(n) return f(n + 1) end f(1)`, StatusTimeout, "timeout"},
		{"busy_loop", `while true do end`, StatusTimeout, "timeout"},
		{"pcall_swallow", `while true do pcall(function() while true do end end) end`, StatusTimeout, "timeout"},
		{"xpcall_swallow", `while true do xpcall(function() while true do end end, function(e) return e end) end`, StatusTimeout, "timeout"},
		{"coroutine_swallow", `local co = coroutine.wrap(function() while true do end end) pcall(co) return "done"`, StatusTimeout, "timeout"},
		{"coroutine_bomb", `for i = 1, 1e6 do coroutine.create(function() end) end`, StatusFailed, "more than 1000 coroutines"},
		{"tostring_loop", `error(setmetatable({}, {__tostring = function() while true do end end}))`, StatusTimeout, "timeout"},
		{"gsub_callback_loop", `string.gsub("abc", "%w", function() while true do end end)`, StatusTimeout, "timeout"},
		{"sort_comparator_error", `table.sort({3, 2, 1}, function(a, b) error("cmp") end)`, StatusFailed, "cmp"},
		{"unpack_overflow", `local t = {} unpack(t, 1, 1e8)`, StatusFailed, "more than a call can take"},
		{"registry_overflow", `local n = select('#', string.byte(string.rep("x", 200000), 1, -1))`, StatusFailed, "registry overflow (the Lua VM could not go on)"},
		{"memory_hog", `local t = {} for i = 1, 1e9 do t[i] = {i, string.rep("x", 1000) .. i} end`, StatusFailed, "memory limit"},
		{"big_index", `local t = {} t[67108863] = true assert(#t == 0) error("survived")`, StatusFailed, "survived"},
		{"os_date_absurd", `os.date("%Y", 1e300) error("survived")`, StatusFailed, ""},
		{"error_nil", `error(nil)`, StatusFailed, "error called with nil"},
		{"collectgarbage_noop", `assert(collectgarbage("count") == 0) error("noop")`, StatusFailed, "noop"},
		{"pattern_bad", `string.find("x", "[")`, StatusFailed, "malformed pattern \"[\""},
	}
	files := map[string]string{
		"canary_fast.lua":  "return {ok = true}",
		"canary_sleep.lua": "require('task').sleep(0.2) local s = 0 for i = 1, 1e5 do s = s + i end return s",
	}
	for _, a := range attempts {
		// Attempts that must time out get a short limit; the others a long
		// one, since a dozen busy loops share two cores under -race.
		timeout := "5m"
		if a.status == StatusTimeout {
			timeout = "1s"
		}
		files["x_"+a.name+".lua"] = "--! timeout = " + timeout + "\n" + a.src
	}
	paths := writeScripts(t, t.TempDir(), files)
	r := &Runner{Modules: stdModules(), MaxMemory: 64 << 20, Grace: 2 * time.Second, Timeout: time.Minute}
	start := time.Now()
	rep, by := runScripts(t, context.Background(), r, paths)
	t.Logf("%d attempts ran in %v", len(attempts), time.Since(start))
	if len(attempts) < 30 {
		t.Fatalf("only %d attempts; the suite promises at least 30", len(attempts))
	}
	for _, a := range attempts {
		res := by["x_"+a.name]
		if res == nil {
			t.Errorf("%s: no result", a.name)
			continue
		}
		if res.Status != a.status || !strings.Contains(res.Error, a.want) {
			t.Errorf("%s: %s %q\n  want %s containing %q", a.name, res.Status, firstLineOf(res.Error), a.status, a.want)
		}
		if strings.Contains(res.Error, "abandoned") {
			t.Errorf("%s: the script had to be abandoned: %q", a.name, res.Error)
		}
	}
	for _, c := range []string{"canary_fast", "canary_sleep"} {
		if by[c].Status != StatusOK {
			t.Errorf("%s: %s %q", c, by[c].Status, by[c].Error)
		}
	}
	if rep.Status != StatusFailed {
		t.Errorf("run status %s", rep.Status)
	}
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestPatternStopsAtDeadline: a backtracking pattern on a long subject is
// matched off the state's goroutine, so the script ends at its deadline
// instead of when the match would finish.
func TestPatternStopsAtDeadline(t *testing.T) {
	t.Parallel()
	// About a second of matching without the race detector: enough to
	// outlast the deadline, short enough not to burn a core for long after.
	src := "--! timeout = 100ms\nlocal s = string.rep('a', 900)\nreturn string.find(s, '.-.-.-b')"
	paths := writeScripts(t, t.TempDir(), map[string]string{"pat.lua": src})
	start := time.Now()
	_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules(), Grace: 10 * time.Second}, paths)
	res := by["pat"]
	if res.Status != StatusTimeout || !strings.Contains(res.Error, "pattern matching stopped") {
		t.Fatalf("%s %q", res.Status, res.Error)
	}
	if strings.Contains(res.Error, "abandoned") {
		t.Fatalf("abandoned after %v: the match was not interruptible", time.Since(start))
	}
}

// TestStringFunctionsStillWork checks that the replaced string functions
// behave like Lua's.
func TestStringFunctionsStillWork(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ab ", 200) // over the inline threshold
	cases := []struct{ code, want string }{
		{`return string.format("%5.2f|%-4d|%x|%s|%q|%%|%c", 3.14159, 7, 255, nil, 'a"b\n', 65)`, " 3.14|7   |ff|nil|\"a\\\"b\\n\"|%|A"},
		{`return string.format("%s %s", 1, true)`, "1 true"},
		{`return string.format("%d", 3.0)`, "3"},
		{`return string.rep("ab", 3, ",")`, "ab,ab,ab"},
		{`return string.rep("x", 0)`, ""},
		{`return ("hello world"):find("o w")`, "5"},
		{`return select(2, ("hello world"):find("(o)%s(w)"))`, "7"},
		{`return select(3, ("hello world"):find("(o)%s(w)"))`, "o"},
		{`return ("key=value"):match("(%w+)=(%w+)")`, "key"},
		{`return select(2, ("key=value"):match("(%w+)=(%w+)"))`, "value"},
		{`return ("  trim  "):match("^%s*(.-)%s*$")`, "trim"},
		{`local n = 0 for w in ("a b c"):gmatch("%a") do n = n + 1 end return n`, "3"},
		{`return (string.gsub("hello world", "o", "0"))`, "hell0 w0rld"},
		{`return (string.gsub("hello world", "(%w+)", "<%1>"))`, "<hello> <world>"},
		{`return (string.gsub("abc", "%w", "%0%0"))`, "aabbcc"},
		{`return (string.gsub("$name is $age", "%$(%w+)", {name = "Ann", age = 30}))`, "Ann is 30"},
		{`return (string.gsub("abc", "%w", function(c) return c:upper() end))`, "ABC"},
		{`return select(2, string.gsub("abc", "%w", "x", 2))`, "2"},
		{`return (string.gsub("abc", "", "-"))`, "-a-b-c-"},
		{`return ("x"):find("y") == nil and "nil" or "found"`, "nil"},
		{`return ("a.b"):find(".", 1, true)`, "2"},
		{`local s = "` + long + `" return select(2, s:gsub("ab", "x"))`, "200"},
		{`local s = "` + long + `" return #s:match("^(.-)%s*$")`, fmt.Sprint(len(long) - 1)},
		{`return table.concat({1, "a", 2.5}, ",")`, "1,a,2.5"},
		{`return table.concat({"a", "b", "c"}, "-", 2, 3)`, "b-c"},
		{`return tostring(getmetatable("abc"))`, "false"},
		{`local t = setmetatable({}, {__metatable = "locked"}) return getmetatable(t)`, "locked"},
		{`local t = setmetatable({}, {__metatable = "locked"}) return tostring(pcall(setmetatable, t, {}))`, "false"},
		{`return os.date("!%Y-%m-%d", 0)`, "1970-01-01"},
		{`local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end) return co(1) + co(10)`, "22"},
	}
	for i, tc := range cases {
		paths := writeScripts(t, t.TempDir(), map[string]string{fmt.Sprintf("s%d.lua", i): tc.code})
		_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules()}, paths)
		res := by[fmt.Sprintf("s%d", i)]
		if res.Status != StatusOK {
			t.Errorf("%s: %s", tc.code, res.Error)
			continue
		}
		if got := fmt.Sprint(res.Value); got != tc.want {
			t.Errorf("%s\n  = %q, want %q", tc.code, got, tc.want)
		}
	}
}
