// Package live is the live view of `etlhost run` on a terminal: one line
// per running script, redrawn in place about ten times a second, with log
// lines and finished scripts printed above it, and a coloured summary table
// at the end (package text writes it).
package live

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/report/text"
)

// redrawEvery is the live view's refresh period.
const redrawEvery = 100 * time.Millisecond

// Options of the live view.
type Options struct {
	Color bool // ANSI colours (off with NO_COLOR); cursor movement is used either way
	Quiet bool // no log lines
	Width int  // terminal columns (0: 80)
	Total int  // scripts in the run, for the status line (0: unknown)
}

// liveScript is one running script's line.
type liveScript struct {
	s           *host.Script
	started     time.Time
	done, total int64
	// fetched and loaded are the rows the script's modules have read and
	// written so far, shown when it reports no progress of its own.
	fetched, loaded int64
	last            string // the last log line, shown when there is nothing else
}

// View is the live view of a run, a host.Observer. Finish ends it.
type View struct {
	opts Options
	now  func() time.Time

	mu      sync.Mutex
	w       io.Writer
	start   time.Time
	running []*liveScript
	counts  map[host.Status]int
	pending []string // lines to print above the block at the next redraw
	drawn   int      // lines of the live block on screen, below the cursor's line
	frame   int
	closed  bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// New starts the live view of a run on the terminal w; it redraws until
// Finish, and leaves its block in place when ctx ends (an interrupt).
func New(ctx context.Context, w io.Writer, now func() time.Time, opts Options) *View {
	if opts.Width <= 0 {
		opts.Width = 80
	}
	o := &View{opts: opts, now: now, w: w, start: now(), counts: map[host.Status]int{}, stop: make(chan struct{})}
	o.wg.Add(1)
	go o.loop(ctx)
	return o
}

// loop redraws on a ticker. When the run is interrupted, main prints a
// line of its own at the cursor: the block drawn so far is left where it is
// and the next one starts below the message.
func (o *View) loop(ctx context.Context) {
	defer o.wg.Done()
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	done := ctx.Done()
	for {
		select {
		case <-o.stop:
			return
		case <-done:
			done = nil
			time.Sleep(10 * time.Millisecond) // let main's message out first
			o.mu.Lock()
			o.drawn = 0
			o.mu.Unlock()
		case <-t.C:
			o.mu.Lock()
			o.redraw()
			o.mu.Unlock()
		}
	}
}

func (o *View) find(s *host.Script) *liveScript {
	for _, ls := range o.running {
		if ls.s == s {
			return ls
		}
	}
	return nil
}

// ScriptStarted implements host.Observer.
func (o *View) ScriptStarted(s *host.Script, at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.running = append(o.running, &liveScript{s: s, started: at})
	o.redraw()
}

// ScriptEvent implements host.Observer: progress and rows show at the next
// tick, a line goes above the block.
func (o *View) ScriptEvent(s *host.Script, e host.Event) {
	switch ev := e.Event.(type) {
	case event.Progress:
		o.progress(s, ev.Done, ev.Total)
		return
	case event.Rows:
		o.rows(s, e.RowsFetched, e.RowsLoaded)
		return
	}
	if l, ok := e.Line(); ok {
		o.line(s, l)
	}
}

func (o *View) line(s *host.Script, l host.LogLine) {
	// The script's text is escaped (text.Escape): it cannot print a line
	// of its own or move the cursor over the block.
	msg := text.Escape(l.Msg) + text.Fields(l.Fields)
	o.mu.Lock()
	defer o.mu.Unlock()
	if ls := o.find(s); ls != nil {
		ls.last = text.FirstLine(msg)
	}
	if o.opts.Quiet {
		return
	}
	level := fmt.Sprintf("%-5s", l.Level)
	switch l.Level {
	case "warn":
		level = o.paint(level, "33")
	case "error":
		level = o.paint(level, "31")
	case "debug":
		level = o.paint(level, "2")
	}
	o.pending = append(o.pending, fmt.Sprintf("%s %s | %s %s", o.paint(l.Time.Format("15:04:05"), "2"), text.Escape(s.Name), level, msg))
}

func (o *View) progress(s *host.Script, done, total int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ls := o.find(s); ls != nil {
		ls.done, ls.total = done, total
	}
}

func (o *View) rows(s *host.Script, fetched, loaded int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ls := o.find(s); ls != nil {
		ls.fetched, ls.loaded = fetched, loaded
	}
}

// ScriptFinished implements host.Observer: the script leaves the block and
// its outcome is printed above it.
func (o *View) ScriptFinished(r *host.Result) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, ls := range o.running {
		if ls.s.Name == r.Name {
			o.running = append(o.running[:i], o.running[i+1:]...)
			break
		}
	}
	o.counts[r.Status]++
	detail := text.Outcome(r)
	line := fmt.Sprintf("%s %s %s %s", statusMark(r.Status), o.paintStatus(r.Status), text.Escape(r.Name), o.paint("("+text.Duration(r.Duration)+")", "2"))
	if detail != "" {
		line += "  " + text.Truncate(detail, 200)
	}
	o.pending = append(o.pending, line)
	o.redraw()
}

// Finish stops the redraws and prints the run's summary, in colour unless
// NO_COLOR, in place of the block.
func (o *View) Finish(rep *host.Report) error {
	o.close()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.running = nil
	o.redraw()
	o.drawn = 0
	text.WriteSummary(o.w, rep, o.opts.Color)
	return nil
}

func (o *View) close() {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.closed = true
	o.mu.Unlock()
	close(o.stop)
	o.wg.Wait()
}

// redraw moves the cursor up over the block, clears to the end of the
// screen, prints pending lines and draws the block again, in one write.
// Block lines are cut to the terminal's width: a wrapped line would throw
// off the count of lines to move up over.
func (o *View) redraw() {
	var b strings.Builder
	if o.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", o.drawn)
	}
	b.WriteString("\r\x1b[J")
	for _, l := range o.pending {
		b.WriteString(l)
		b.WriteString("\n")
	}
	o.pending = o.pending[:0]
	o.frame++
	lines := o.block()
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\n")
	}
	o.drawn = len(lines)
	_, _ = io.WriteString(o.w, b.String())
}

var spinner = []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")

// block renders the live lines: one per running script, then a status line.
func (o *View) block() []string {
	if len(o.running) == 0 && o.closed {
		return nil
	}
	now := o.now()
	nameW := 0
	for _, ls := range o.running {
		nameW = max(nameW, utf8.RuneCountInString(text.Escape(ls.s.Name)))
	}
	var lines []string
	width := o.opts.Width - 1
	for _, ls := range o.running {
		spin := string(spinner[o.frame%len(spinner)])
		head := fmt.Sprintf(" %s %-*s %8s  ", spin, nameW, text.Escape(ls.s.Name), fmtElapsed(now.Sub(ls.started)))
		room := width - utf8.RuneCountInString(head)
		var tail, plainTail string
		switch {
		case ls.total > 0:
			pct := float64(ls.done) / float64(ls.total)
			pct = min(max(pct, 0), 1)
			figures := fmt.Sprintf(" %3.0f%%  %d/%d", pct*100, ls.done, ls.total)
			barW := min(30, room-utf8.RuneCountInString(figures)-2)
			if barW >= 5 {
				fill := int(pct * float64(barW))
				plainTail = "[" + strings.Repeat("█", fill) + strings.Repeat("░", barW-fill) + "]" + figures
				tail = "[" + o.paint(strings.Repeat("█", fill), "36") + strings.Repeat("░", barW-fill) + "]" + figures
			} else {
				plainTail = strings.TrimSpace(figures)
				tail = plainTail
			}
		case ls.done > 0:
			plainTail = fmt.Sprintf("%d done", ls.done)
			tail = plainTail
		case ls.fetched > 0 || ls.loaded > 0:
			plainTail = fmt.Sprintf("%d rows fetched, %d loaded", ls.fetched, ls.loaded)
			if ls.last != "" {
				plainTail += " · " + ls.last
			}
			tail = o.paint(cut(plainTail, room), "2")
		default:
			plainTail = ls.last
			tail = o.paint(cut(ls.last, room), "2")
		}
		if utf8.RuneCountInString(plainTail) > room {
			tail = cut(plainTail, room)
		}
		lines = append(lines, cut(head, width)+tail)
	}
	var parts []string
	parts = append(parts, fmt.Sprintf("%d running", len(o.running)))
	finished := 0
	for _, st := range text.Statuses {
		if n := o.counts[st]; n > 0 {
			finished += n
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	if waiting := o.opts.Total - finished - len(o.running); o.opts.Total > 0 && waiting > 0 {
		parts = append(parts, fmt.Sprintf("%d waiting", waiting))
	}
	status := fmt.Sprintf(" %s  %s", strings.Join(parts, " · "), fmtElapsed(now.Sub(o.start)))
	lines = append(lines, o.paint(cut(status, width), "2"))
	return lines
}

// fmtElapsed shows a running time with a tenth of a second, so the line
// visibly moves: 0.4s, 12.3s, 2m05.1s.
func fmtElapsed(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	m := int(d / time.Minute)
	return fmt.Sprintf("%dm%04.1fs", m, (d - time.Duration(m)*time.Minute).Seconds())
}

// cut shortens s to n runes.
func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func (o *View) paint(s, sgr string) string {
	return text.Paint(o.opts.Color, s, sgr)
}

func (o *View) paintStatus(st host.Status) string {
	return text.PaintStatus(o.opts.Color, st, len(st))
}

func statusMark(st host.Status) string {
	if st == host.StatusOK {
		return "✓"
	}
	return "✗"
}
