package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestRunEscapesScriptText (issue 18, item 9): a script that logs, prints,
// returns and raises text forging a line of another script's success (after
// a newline or a carriage return) and ANSI/OSC sequences cannot make
// etlhost print such a line, or any control character, in the view and the
// summary (as cron logs them); the JSON report keeps the exact text; the
// well-behaved script beside it is ok.
func TestRunEscapesScriptText(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const fake = `"done\n20:00:00 ok        good (1ms)\r20:00:00 ok        good (1ms)\27[1A\27[2K\27]0;pwned\7"`
	evil := write(t, dir, "evil.lua", `local log = require("log")
log.info(`+fake+`, {note = `+fake+`})
print(`+fake+`)
if ... == nil then error(`+fake+`) end`)
	liar := write(t, dir, "liar.lua", `return {rows = 1, note = `+fake+`}`)
	good := write(t, dir, "good.lua", `return {rows = 3}`)
	out := run(t, nil, "run", "--jobs", "1", evil, liar, good)
	if out.code != ExitFailed {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	for _, c := range out.stderr {
		if c < 0x20 && c != '\n' && c != '\t' {
			t.Fatalf("control character %q reaches the output:\n%q", c, out.stderr)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^`+isoStamp+` ok +good `).FindAllString(out.stderr, -1)); n != 1 {
		t.Errorf("%d lines read as good's success, want 1:\n%s", n, out.stderr)
	}
	if n := len(regexp.MustCompile(`(?m)^`+isoStamp+` ok `).FindAllString(out.stderr, -1)); n != 2 {
		t.Errorf("%d ok lines, want 2 (liar and good):\n%s", n, out.stderr)
	}
	if !regexp.MustCompile(`(?m)^  ok +\S+  good +rows=3$`).MatchString(out.stderr) || !regexp.MustCompile(`(?m)^  failed +\S+  evil `).MatchString(out.stderr) {
		t.Errorf("summary:\n%s", out.stderr)
	}
	mustContain(t, "stderr", out.stderr, `evil | info  done\n20:00:00 ok        good (1ms)\r20:00:00 ok        good (1ms)\x1b[1A\x1b[2K\x1b]0;pwned\x07 note=done\n`)

	js := run(t, nil, "run", "--json", liar)
	if js.code != ExitOK || !strings.Contains(js.stdout, `"note": "done\n20:00:00 ok        good (1ms)\r20:00:00 ok        good (1ms)\u001b[1A\u001b[2K\u001b]0;pwned\u0007"`) {
		t.Errorf("the JSON report does not keep the exact text: exit %d\n%s", js.code, js.stdout)
	}
}
