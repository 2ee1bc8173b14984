package text

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/host"
)

func TestEscape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain été\ttab":                 "plain été\ttab",
		"done\n09:30:00 ok        other": `done\n09:30:00 ok        other`,
		"x\r09:30:00 ok":                 `x\r09:30:00 ok`,
		"\x1b[2K\x1b[1A":                 `\x1b[2K\x1b[1A`,
		"\x1b]0;title\x07":               `\x1b]0;title\x07`,
		"nul\x00 del\x7f bs\b":           `nul\x00 del\x7f bs\x08`,
		"c1 \u009b2J":                    `c1 \u009b2J`,
		"bidi \u202eevil\u2066":          `bidi \u202eevil\u2066`,
		"caf\xe9":                        `caf\xe9`,
		`C:\path\n`:                      `C:\path\n`,
	} {
		got := Escape(in)
		if got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
		if Escape(got) != got {
			t.Errorf("Escape is not idempotent on %q", got)
		}
	}
	if got := EscapeLines("a\nb\x1b[1A\r"); got != "a\nb\\x1b[1A\\r" {
		t.Errorf("EscapeLines: %q", got)
	}
	s := strings.Repeat("é", 10)
	if Escape(s) != s {
		t.Error("a safe string is returned as is")
	}
}

// forged is what a script prints to pass for etlhost: a line that reads
// like another script's success, after a carriage return or a newline, and
// ANSI/OSC sequences that move the cursor, clear the line, retitle the
// window.
const forged = "done\n09:30:00 ok        good (1ms)\r09:30:00 ok        good (1ms)\x1b[1A\x1b[2K\x1b]0;pwned\x07"

// checkNoForgery fails when out holds a control character other than a
// newline or a tab, or more lines starting as an ok script's do (in the
// view, "09:30:00 ok        name (1ms)", and in the summary, "  ok ...")
// than there are ok scripts.
func checkNoForgery(t *testing.T, out string, oks int) {
	t.Helper()
	for _, c := range out {
		if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			t.Fatalf("control character %q reaches the output:\n%q", c, out)
		}
	}
	view, summary := 0, 0
	for _, line := range strings.Split(out, "\n") {
		if viewOK.MatchString(line) {
			view++
		}
		if strings.HasPrefix(line, "  ok ") {
			summary++
		}
	}
	if view > oks || summary > oks {
		t.Errorf("%d ok lines and %d ok rows for %d ok scripts:\n%s", view, summary, oks, out)
	}
}

var viewOK = regexp.MustCompile(`^\d\d:\d\d:\d\d (ok|✓) `)

// TestViewEscapesScriptText (issue 18, item 9): a log message, its fields,
// a result and an error forging lines and escapes are printed on one line
// each, escaped, by the text view, its summary and exec's view; a
// well-behaved script's lines are unchanged.
func TestViewEscapesScriptText(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	v := NewView(&b, clock, false)
	evil, good := &host.Script{Name: "evil"}, &host.Script{Name: "good"}
	v.ScriptStarted(good, clock())
	v.ScriptEvent(evil, host.Event{Event: event.Log{Level: event.LevelInfo, Msg: forged, Fields: map[string]any{"k\nx": forged}}})
	res := &host.Result{Name: "evil", Status: host.StatusOK, Duration: time.Millisecond, Value: map[string]any{"note": forged}}
	failed := &host.Result{Name: "evil\x1b[1A", Status: host.StatusFailed, Duration: time.Millisecond, Error: "evil.lua:1: " + forged + "\nstack traceback:\n\t[G]: in ?"}
	ok := &host.Result{Name: "good", Status: host.StatusOK, Duration: time.Millisecond, Value: map[string]any{"rows": float64(3)}}
	v.ScriptFinished(res)
	v.ScriptFinished(failed)
	v.ScriptFinished(ok)
	if err := v.Finish(&host.Report{Status: host.StatusFailed, Duration: time.Second, Scripts: []*host.Result{res, failed, ok}}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	checkNoForgery(t, out, 2)
	for _, want := range []string{
		`09:30:00 evil | info  done\n09:30:00 ok        good (1ms)\r09:30:00 ok        good (1ms)\x1b[1A\x1b[2K\x1b]0;pwned\x07 k\nx=done\n`,
		"09:30:00 failed    evil\\x1b[1A (1ms)  evil.lua:1: done\n",
		"09:30:00 ok        good (1ms)\n",
		"\n  09:30:00 ok        good (1ms)\\r09:30:00",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	b.Reset()
	sv := NewScriptView(&b, clock, false, nil)
	sv.ScriptEvent(evil, host.Event{Event: event.Log{Level: event.LevelWarn, Msg: forged}})
	sv.ScriptFinished(failed)
	checkNoForgery(t, b.String(), 0)
	if lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"); len(lines) < 2 || !strings.HasPrefix(lines[0], "09:30:00 warn  done\\n") {
		t.Errorf("exec's view:\n%s", b.String())
	} else {
		for _, l := range lines[2:] {
			if !strings.HasPrefix(l, "  ") {
				t.Errorf("exec's view: the error's line %q is not indented:\n%s", l, b.String())
			}
		}
	}
}

func TestTruncateKeepsCharactersWhole(t *testing.T) {
	t.Parallel()
	for _, n := range []int{2, 3, 4, 5, 6} {
		got := Truncate("aéééé", n)
		if !utf8.ValidString(got) || len(got) > n-1+len("…") {
			t.Errorf("Truncate(_, %d) = %q", n, got)
		}
	}
}
