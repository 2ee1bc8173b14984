package live

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/host"
)

// syncBuffer is a strings.Builder the view's redraw loop can write to
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestViewFromEvents feeds the view a run's events: progress shows as a
// bar, rows fetched when a script reports no progress, log lines and
// outcomes above the block, and the coloured summary at the end.
func TestViewFromEvents(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	v := New(context.Background(), &out, time.Now, Options{Color: false, Width: 100, Total: 3})
	bar, rows := &host.Script{Name: "progressive"}, &host.Script{Name: "fetcher"}
	v.ScriptStarted(bar, time.Now())
	v.ScriptStarted(rows, time.Now())
	v.ScriptEvent(bar, host.Event{Event: event.Progress{Done: 5, Total: 10}})
	v.ScriptEvent(rows, host.Event{Event: event.Rows{Fetched: 20}, RowsFetched: 20})
	v.ScriptEvent(rows, host.Event{Time: time.Now(), Event: event.Log{Level: event.LevelWarn, Msg: "slow page", Fields: map[string]any{"page": 2}}})
	v.mu.Lock()
	v.redraw()
	v.mu.Unlock()
	screen := out.String()
	for _, re := range []string{
		`progressive +\d+\.\ds  \[█+░+\]  50%  5/10`,
		`fetcher +\d+\.\ds  20 rows fetched, 0 loaded · slow page page=2`,
		`\d\d:\d\d:\d\d fetcher \| warn  slow page page=2`,
		`2 running · 1 waiting`,
	} {
		if !regexp.MustCompile(re).MatchString(screen) {
			t.Errorf("the view lacks %s:\n%s", re, screen)
		}
	}
	done := &host.Result{Name: "fetcher", Status: host.StatusOK, Duration: time.Second, Value: map[string]any{"rows": float64(20)}}
	v.ScriptFinished(done)
	if !strings.Contains(out.String(), "✓ ok fetcher (1.0s)  rows=20") {
		t.Errorf("no outcome line:\n%s", out.String())
	}
	if err := v.Finish(&host.Report{Status: host.StatusOK, Scripts: []*host.Result{done}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Summary (completion order)") {
		t.Errorf("no summary:\n%s", out.String())
	}
}
