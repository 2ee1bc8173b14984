package text

import (
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/host"
)

func clock() time.Time { return time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC) }

// TestView feeds the view a run's events and its report.
func TestView(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	v := NewView(&b, clock, false)
	s := &host.Script{Name: "alpha"}
	v.ScriptStarted(s, clock())
	v.ScriptEvent(s, host.Event{Event: event.Log{Level: event.LevelInfo, Msg: "since", Fields: map[string]any{"since": "2024-01-01"}}})
	v.ScriptEvent(s, host.Event{Event: event.Progress{Done: 1, Total: 2}}) // no line
	ok := &host.Result{Name: "alpha", Status: host.StatusOK, Duration: 1500 * time.Millisecond, Value: map[string]any{"rows": float64(42), "more": map[string]any{}}}
	bad := &host.Result{Name: "beta", Status: host.StatusFailed, Duration: 20 * time.Millisecond, Error: "beta.lua:2: beta broke\nstack traceback:\n\t[G]: in ?"}
	v.ScriptFinished(ok)
	v.ScriptFinished(bad)
	if err := v.Finish(&host.Report{Status: host.StatusFailed, Duration: 2 * time.Second, Scripts: []*host.Result{ok, bad}}); err != nil {
		t.Fatal(err)
	}
	want := `09:30:00 start     alpha
09:30:00 alpha | info  since since=2024-01-01
09:30:00 ok        alpha (1.5s)
09:30:00 failed    beta (20ms)  beta.lua:2: beta broke

Summary (completion order)
  STATUS     DURATION  SCRIPT  RESULT
  ok             1.5s  alpha   more=… rows=42
  failed         20ms  beta    beta.lua:2: beta broke
Wall time 2.0s; script time 1.5s (one after another); 1 ok, 1 failed

beta (failed):
  beta.lua:2: beta broke
  stack traceback:
  	[G]: in ?
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestQuiet: a quiet view prints no log lines.
func TestQuiet(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	v := NewView(&b, clock, true)
	v.ScriptEvent(&host.Script{Name: "a"}, host.Event{Event: event.Log{Msg: "hello"}})
	if b.Len() != 0 {
		t.Fatalf("quiet view printed %q", b.String())
	}
}

// TestScriptView: exec's view leaves out the events omit selects.
func TestScriptView(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	isWrite := func(e host.Event) bool { _, ok := e.Event.(event.OdooWrite); return ok }
	v := NewScriptView(&b, clock, false, isWrite)
	s := &host.Script{Name: "fix"}
	v.ScriptEvent(s, host.Event{Event: event.OdooWrite{Model: "res.partner", Method: "write", IDs: []int64{1}}})
	v.ScriptEvent(s, host.Event{Event: event.Log{Level: event.LevelWarn, Msg: "careful"}})
	v.ScriptFinished(&host.Result{Status: host.StatusOK, Duration: 3 * time.Millisecond})
	if want := "09:30:00 warn  careful\n09:30:00 ok (3ms)\n"; b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}

// TestColorSummary: the live view's summary is the plain one with colours.
func TestColorSummary(t *testing.T) {
	t.Parallel()
	rep := &host.Report{Status: host.StatusOK, Scripts: []*host.Result{{Name: "été", Status: host.StatusTimeout}}}
	var plain, color strings.Builder
	WriteSummary(&plain, rep, false)
	WriteSummary(&color, rep, true)
	stripped := strings.NewReplacer("\x1b[0m", "", "\x1b[1m", "", "\x1b[33m", "").Replace(color.String())
	if stripped != plain.String() || !strings.Contains(color.String(), "\x1b[33mtimeout") {
		t.Fatalf("plain:\n%q\ncolour:\n%q", plain.String(), color.String())
	}
	if !strings.Contains(plain.String(), "  timeout         0ms  été     \n") {
		t.Fatalf("names are padded by characters, not bytes:\n%q", plain.String())
	}
}
