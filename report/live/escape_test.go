package live

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/host"
)

// TestViewEscapesScriptText (issue 18, item 9): a script's log message,
// fields, name, result and error that forge lines and carry ANSI/OSC
// sequences reach the terminal escaped: the only control sequences in the
// output are the view's own (cursor up, clear to the end of the screen),
// and the only ok lines are the genuine script's.
func TestViewEscapesScriptText(t *testing.T) {
	t.Parallel()
	const forged = "done\n✓ ok good (1ms)\r✓ ok good (1ms)\x1b[1A\x1b[2K\x1b]0;pwned\x07"
	var out syncBuffer
	v := New(context.Background(), &out, time.Now, Options{Color: false, Width: 400, Total: 2})
	evil, good := &host.Script{Name: "evil\x1b[2J"}, &host.Script{Name: "good"}
	v.ScriptStarted(evil, time.Now())
	v.ScriptStarted(good, time.Now())
	v.ScriptEvent(evil, host.Event{Time: time.Now(), Event: event.Log{Level: event.LevelInfo, Msg: forged, Fields: map[string]any{"k": forged}}})
	v.mu.Lock()
	v.redraw() // the block shows the evil script's last line
	v.mu.Unlock()
	bad := &host.Result{Name: evil.Name, Status: host.StatusOK, Duration: time.Millisecond, Value: map[string]any{"note": forged}}
	v.ScriptFinished(bad)
	ok := &host.Result{Name: "good", Status: host.StatusOK, Duration: time.Millisecond, Value: map[string]any{"rows": float64(3)}}
	v.ScriptFinished(ok)
	if err := v.Finish(&host.Report{Status: host.StatusOK, Scripts: []*host.Result{bad, ok}}); err != nil {
		t.Fatal(err)
	}
	screen := regexp.MustCompile(`\x1b\[\d+A|\r\x1b\[J`).ReplaceAllString(out.String(), "")
	for _, c := range screen {
		if c < 0x20 && c != '\n' {
			t.Fatalf("control character %q reaches the terminal:\n%q", c, screen)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^✓ ok good \(1ms\)`).FindAllString(screen, -1)); n != 1 {
		t.Errorf("%d lines read as good's outcome, want 1:\n%s", n, screen)
	}
	if !strings.Contains(screen, `evil\x1b[2J | info  done\n✓ ok good (1ms)\r✓ ok good (1ms)\x1b[1A\x1b[2K\x1b]0;pwned\x07 k=done\n`) {
		t.Errorf("the log line is not shown escaped:\n%s", screen)
	}
}
