package live

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/report/text"
)

// BenchmarkObserverLogLine measures what one script log line costs the
// script's goroutine with the plain observer (the baseline) and with the
// live view, which only queues the line for its next redraw.
func BenchmarkObserverLogLine(b *testing.B) {
	s := &host.Script{Name: "ventes_locales_upsert"}
	line := host.Event{Time: time.Now(), Event: event.Log{Level: "info", Msg: "loaded page", Fields: map[string]any{"rows": 500, "page": 3}}}
	progress := host.Event{Time: time.Now(), Event: event.Progress{Done: 10, Total: 100}}
	b.Run("plain", func(b *testing.B) {
		o := text.NewView(io.Discard, time.Now, false)
		o.ScriptStarted(s, time.Now())
		b.ReportAllocs()
		for b.Loop() {
			o.ScriptEvent(s, line)
		}
	})
	b.Run("live", func(b *testing.B) {
		o := New(context.Background(), io.Discard, time.Now, Options{Color: true, Width: 120, Total: 3})
		defer o.close()
		o.ScriptStarted(s, time.Now())
		b.ReportAllocs()
		for b.Loop() {
			o.ScriptEvent(s, line)
			o.ScriptEvent(s, progress)
		}
	})
}

// BenchmarkLiveRedraw is one frame of the live view with eight running
// scripts: ten of these a second is the view's whole cost.
func BenchmarkLiveRedraw(b *testing.B) {
	o := New(context.Background(), io.Discard, time.Now, Options{Color: true, Width: 120, Total: 8})
	defer o.close()
	for i := 0; i < 8; i++ {
		s := &host.Script{Name: "script_" + string(rune('a'+i))}
		o.ScriptStarted(s, time.Now())
		o.ScriptEvent(s, host.Event{Event: event.Progress{Done: int64(i * 10), Total: 100}})
	}
	b.ReportAllocs()
	for b.Loop() {
		o.mu.Lock()
		o.redraw()
		o.mu.Unlock()
	}
}
