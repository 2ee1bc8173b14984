package live

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/host"
)

// screen replays what the view wrote as a terminal shows it: the cursor
// moves up (ESC [n A), back to the line's start (CR) and down (LF), ESC [J
// clears from the cursor to the end of the screen, and colours (ESC [...m)
// are dropped. Any other control sequence fails the test: the view must not
// write one.
func screen(t *testing.T, out string) []string {
	t.Helper()
	var lines [][]rune
	row, col := 0, 0
	csi := regexp.MustCompile(`^\x1b\[([0-9;]*)([A-Za-z])`)
	for i := 0; i < len(out); {
		for len(lines) <= row {
			lines = append(lines, nil)
		}
		switch c := out[i]; c {
		case '\r':
			col = 0
			i++
			continue
		case '\n':
			row, col = row+1, 0
			i++
			continue
		case 0x1b:
			m := csi.FindStringSubmatch(out[i:])
			if m == nil {
				t.Fatalf("unknown escape sequence at %q", out[i:min(i+10, len(out))])
			}
			switch m[2] {
			case "A":
				n, _ := strconv.Atoi(m[1])
				row = max(row-max(n, 1), 0)
			case "J":
				lines[row] = lines[row][:min(col, len(lines[row]))]
				lines = lines[:row+1]
			case "m":
			default:
				t.Fatalf("unexpected escape sequence %q", m[0])
			}
			i += len(m[0])
			continue
		}
		r, size := []rune(out[i:])[0], len(string([]rune(out[i:])[0]))
		for len(lines[row]) <= col {
			lines[row] = append(lines[row], ' ')
		}
		lines[row][col] = r
		col++
		i += size
	}
	text := make([]string, 0, len(lines))
	for _, l := range lines {
		text = append(text, strings.TrimRight(string(l), " "))
	}
	for len(text) > 0 && text[len(text)-1] == "" {
		text = text[:len(text)-1]
	}
	return text
}

// clock is a test's time, which the view's redraw loop reads too.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestViewDependenciesAndRetries drives the view with the host's events of
// jobs that run after others (waiting, then running or skipped) and of a job
// retried after a transient failure, and checks the screen a terminal shows
// after each step: what must be on it, and what must no longer be (a job
// that finished without starting leaves no waiting line behind).
func TestViewDependenciesAndRetries(t *testing.T) {
	t.Parallel()
	a, b, load := &host.Script{Name: "a"}, &host.Script{Name: "b"}, &host.Script{Name: "load"}
	t0 := time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)
	waitFor := func(s *host.Script, names ...string) func(*View, *clock) {
		return func(v *View, c *clock) {
			v.ScriptEvent(s, host.Event{Time: c.now(), Event: event.Waiting{For: names}})
		}
	}
	start := func(s *host.Script) func(*View, *clock) {
		return func(v *View, c *clock) { v.ScriptStarted(s, c.now()) }
	}
	finish := func(r *host.Result) func(*View, *clock) {
		return func(v *View, _ *clock) { v.ScriptFinished(r) }
	}
	type step struct {
		do        func(*View, *clock)
		want, not []string // regular expressions over the screen's lines
	}
	tests := []struct {
		name  string
		total int
		steps []step
	}{
		{"waiting then running then ok", 3, []step{
			{do: start(a)},
			{do: start(b)},
			{do: waitFor(load, "a", "b"),
				want: []string{`^ · load +waiting for a, b$`, `^ 2 running · 1 waiting `}},
			{do: finish(&host.Result{Name: "a", Status: host.StatusOK, Duration: time.Second}),
				want: []string{`^✓ ok a \(1\.0s\)`, `^ · load +waiting for b$`, `^ 1 running · 1 ok · 1 waiting `},
				not:  []string{`waiting for a`}},
			{do: finish(&host.Result{Name: "b", Status: host.StatusOK, Duration: time.Second}),
				want: []string{`^ · load +waiting for a free slot \(--jobs\)$`}},
			{do: start(load),
				want: []string{`^ \S load +0\.0s`, `^ 1 running · 2 ok `},
				not:  []string{`waiting`}},
			{do: finish(&host.Result{Name: "load", Status: host.StatusOK, Duration: 2 * time.Second, Value: map[string]any{"rows": float64(9)}}),
				want: []string{`^✓ ok load \(2\.0s\)  rows=9$`, `^ 0 running · 3 ok `},
				not:  []string{`waiting`, `^ \S load +\d`}},
		}},
		{"skipped after a failure", 2, []step{
			{do: start(a)},
			{do: waitFor(load, "a"), want: []string{`^ · load +waiting for a$`}},
			{do: finish(&host.Result{Name: "a", Status: host.StatusFailed, Duration: time.Second, Error: "a.lua:3: boom"}),
				want: []string{`^✗ failed a \(1\.0s\)  a\.lua:3: boom$`, `^ · load +waiting for a free slot`}},
			// A skipped job finishes without having started.
			{do: finish(&host.Result{Name: "load", Status: host.StatusSkipped, Error: "skipped: a failed"}),
				want: []string{`^○ skipped load  a failed$`, `^ 0 running · 1 failed · 1 skipped  `},
				not:  []string{`waiting`, `load \(`}},
		}},
		{"cancelled while waiting", 2, []step{
			{do: start(a)},
			{do: waitFor(load, "a")},
			{do: finish(&host.Result{Name: "load", Status: host.StatusCancelled, Error: "cancelled before it started: interrupted"}),
				want: []string{`^✗ cancelled load \(0ms\)  cancelled before it started: interrupted$`, `^ 1 running · 1 cancelled  `},
				not:  []string{`waiting`}},
		}},
		{"a retry", 1, []step{
			{do: start(load)},
			{do: func(v *View, c *clock) {
				v.ScriptEvent(load, host.Event{Time: c.now(), Event: event.Rows{Fetched: 20}, RowsFetched: 20})
			}, want: []string{`^ \S load +0\.0s  20 rows fetched, 0 loaded$`}},
			{do: func(v *View, c *clock) {
				c.advance(time.Second)
				v.ScriptEvent(load, host.Event{Time: c.now(), Event: event.Retrying{Attempt: 1, Attempts: 3, Delay: 2 * time.Second, Reason: "odoo: connection refused"}})
			}, want: []string{
				`^07:00:01 load \| warn  attempt 1 of 3 failed: odoo: connection refused; trying again in 2s$`,
				`^ \S load +1\.0s  attempt 2/3 in 2\.0s  attempt 1 failed: odoo: connection refused$`,
			}, not: []string{`rows fetched`}},
			{do: func(v *View, c *clock) { c.advance(3 * time.Second) },
				want: []string{`^ \S load +4\.0s  attempt 2/3  attempt 1 failed: odoo: connection refused$`},
				not:  []string{`attempt 2/3 in`}},
			{do: finish(&host.Result{Name: "load", Status: host.StatusOK, Duration: 5 * time.Second, Value: map[string]any{"rows": float64(20)},
				Attempts: []host.Attempt{{Attempt: 1, Status: host.StatusFailed, Transient: true, Reason: "odoo: connection refused"}, {Attempt: 2, Status: host.StatusOK}}}),
				want: []string{`^✓ ok load \(5\.0s\)  rows=20 \(attempt 2\)$`},
				not:  []string{`attempt 2/3`}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out syncBuffer
			c := &clock{t: t0}
			v := New(context.Background(), &out, c.now, Options{Width: 100, Total: tt.total})
			defer v.close()
			for i, st := range tt.steps {
				st.do(v, c)
				v.mu.Lock()
				v.redraw()
				v.mu.Unlock()
				lines := screen(t, out.String())
				shown := strings.Join(lines, "\n")
				for _, re := range st.want {
					if !matchesLine(re, lines) {
						t.Errorf("step %d: no line matches %s:\n%s", i+1, re, shown)
					}
				}
				for _, re := range st.not {
					if matchesLine(re, lines) {
						t.Errorf("step %d: a line matches %s:\n%s", i+1, re, shown)
					}
				}
			}
		})
	}
}

func matchesLine(re string, lines []string) bool {
	r := regexp.MustCompile(re)
	for _, l := range lines {
		if r.MatchString(l) {
			return true
		}
	}
	return false
}

// TestSkippedColour: a skipped job is blue, status and reason, apart from
// the failed (red) job it was skipped for.
func TestSkippedColour(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	v := New(context.Background(), &out, time.Now, Options{Color: true, Width: 100, Total: 1})
	defer v.close()
	v.ScriptFinished(&host.Result{Name: "load", Status: host.StatusSkipped, Error: "skipped: a failed"})
	if want := "\x1b[34m○\x1b[0m \x1b[34mskipped\x1b[0m load  \x1b[34ma failed\x1b[0m\n"; !strings.Contains(out.String(), want) {
		t.Errorf("want %q in\n%q", want, out.String())
	}
}
