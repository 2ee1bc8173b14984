// Package live is the live view of `etlhost run` on a terminal: one line
// per running script, redrawn in place about ten times a second, with log
// lines and finished scripts printed above it, and a coloured summary table
// at the end (package text writes it).
package live

import (
	"context"
	"fmt"
	"io"
	"slices"
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
	// attempt of attempts is the attempt under way of a job that was
	// retried (0: its first); retryAt is when that attempt starts.
	attempt, attempts int
	retryAt           time.Time
}

// waitingScript is a job waiting for the jobs it runs after (an
// event.Waiting), until it starts or finishes without starting (skipped,
// cancelled). wait is what it still waits for: the jobs named that have not
// finished yet.
type waitingScript struct {
	s    *host.Script
	wait []string
}

// View is the live view of a run, a host.Observer. Finish ends it.
type View struct {
	opts Options
	now  func() time.Time

	mu      sync.Mutex
	w       io.Writer
	start   time.Time
	running []*liveScript
	waiting []*waitingScript
	counts  map[host.Status]int
	ended   map[string]bool // the jobs that finished, by name
	pending []string        // lines to print above the block at the next redraw
	drawn   int             // lines of the live block on screen, below the cursor's line
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
	o := &View{opts: opts, now: now, w: w, start: now(), counts: map[host.Status]int{}, ended: map[string]bool{}, stop: make(chan struct{})}
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

// ScriptStarted implements host.Observer: a waiting job's line becomes a
// running one.
func (o *View) ScriptStarted(s *host.Script, at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.unwait(s.Name)
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
	case event.Waiting:
		o.wait(s, ev.For)
		return
	}
	if l, ok := e.Line(); ok {
		o.line(s, l)
	}
	if ev, ok := e.Event.(event.Retrying); ok {
		o.retrying(s, e.Time, ev)
	}
}

func (o *View) line(s *host.Script, l host.LogLine) {
	// The script's text is escaped (text.Escape): it cannot print a line
	// of its own or move the cursor over the block.
	msg := text.Escape(l.Msg) + text.Fields(l.Fields)
	o.mu.Lock()
	defer o.mu.Unlock()
	if ls := o.find(s); ls != nil {
		ls.last = host.FirstLine(msg)
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

func (o *View) wait(s *host.Script, names []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.unwait(s.Name)
	var pending []string
	for _, n := range names {
		if !o.ended[n] {
			pending = append(pending, n)
		}
	}
	o.waiting = append(o.waiting, &waitingScript{s: s, wait: pending})
}

// unwait removes the waiting line of the job named name, if any.
func (o *View) unwait(name string) {
	for i, ws := range o.waiting {
		if ws.s.Name == name {
			o.waiting = append(o.waiting[:i], o.waiting[i+1:]...)
			return
		}
	}
}

// retrying resets the line of a job about to run again: the host rolled
// back the failed attempt's rows and progress with it.
func (o *View) retrying(s *host.Script, at time.Time, ev event.Retrying) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ls := o.find(s); ls != nil {
		ls.done, ls.total, ls.fetched, ls.loaded = 0, 0, 0, 0
		ls.attempt, ls.attempts = ev.Attempt+1, ev.Attempts
		ls.retryAt = at.Add(ev.Delay)
		ls.last = "attempt " + fmt.Sprint(ev.Attempt) + " failed: " + text.Escape(ev.Reason)
	}
}

// ScriptFinished implements host.Observer: the script leaves the block and
// its outcome is printed above it. A job that never started (skipped, or
// cancelled before it started or while it waited) leaves its waiting line,
// if it had one; it was never in the running ones.
func (o *View) ScriptFinished(r *host.Result) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, ls := range o.running {
		if ls.s.Name == r.Name {
			o.running = append(o.running[:i], o.running[i+1:]...)
			break
		}
	}
	o.unwait(r.Name)
	o.ended[r.Name] = true
	for _, ws := range o.waiting {
		for i, n := range ws.wait {
			if n == r.Name {
				ws.wait = append(ws.wait[:i:i], ws.wait[i+1:]...)
				break
			}
		}
	}
	o.counts[r.Status]++
	line := o.outcomeLine(r)
	o.pending = append(o.pending, line)
	o.redraw()
}

// outcomeLine is the line printed for a finished job: its mark, status,
// name, duration, then its result or error (text.Outcome: with the attempt
// that ended it, when it was retried). A skipped job never ran: no duration, and its reason without the
// "skipped: " its error starts with.
func (o *View) outcomeLine(r *host.Result) string {
	if r.Status == host.StatusSkipped {
		line := fmt.Sprintf("%s %s %s", o.paint(statusMark(r.Status), skippedSGR), o.paintStatus(r.Status), text.Escape(r.Name))
		if why := strings.TrimPrefix(text.Outcome(r), "skipped: "); why != "" {
			line += "  " + o.paint(text.Truncate(why, 200), skippedSGR)
		}
		return line
	}
	line := fmt.Sprintf("%s %s %s %s", statusMark(r.Status), o.paintStatus(r.Status), text.Escape(r.Name), o.paint("("+text.Duration(r.Duration)+")", "2"))
	if detail := text.Outcome(r); detail != "" {
		line += "  " + text.Truncate(detail, 200)
	}
	return line
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
	for _, ws := range o.waiting {
		nameW = max(nameW, utf8.RuneCountInString(text.Escape(ws.s.Name)))
	}
	var lines []string
	width := o.opts.Width - 1
	for _, ls := range o.running {
		spin := string(spinner[o.frame%len(spinner)])
		head := fmt.Sprintf(" %s %-*s %8s  ", spin, nameW, text.Escape(ls.s.Name), fmtElapsed(now.Sub(ls.started)))
		if ls.attempt > 1 {
			head += fmt.Sprintf("attempt %d/%d", ls.attempt, ls.attempts)
			if wait := ls.retryAt.Sub(now); wait > 0 {
				head += fmt.Sprintf(" in %.1fs", wait.Seconds())
			}
			head += "  "
		}
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
	for _, ws := range o.waiting {
		l := fmt.Sprintf(" · %-*s %8s  ", nameW, text.Escape(ws.s.Name), "")
		if len(ws.wait) > 0 {
			l += "waiting for " + text.Escape(strings.Join(ws.wait, ", "))
		} else {
			l += "waiting for a free slot (--jobs)"
		}
		lines = append(lines, o.paint(cut(l, width), "2"))
	}
	var parts []string
	parts = append(parts, fmt.Sprintf("%d running", len(o.running)))
	finished := 0
	for _, st := range statuses(o.counts) {
		if n := o.counts[st]; n > 0 {
			finished += n
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	// Waiting: the jobs waiting for others, and those not started yet (a
	// --jobs slot), as far as the run's size tells.
	waiting := len(o.waiting)
	if o.opts.Total > 0 {
		waiting = max(waiting, o.opts.Total-finished-len(o.running))
	}
	if waiting > 0 {
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

// skippedSGR is the colour of a skipped job, which did not fail itself:
// blue, as text.PaintStatus paints its status.
const skippedSGR = "34"

func (o *View) paintStatus(st host.Status) string {
	return text.PaintStatus(o.opts.Color, st, len(st))
}

func statusMark(st host.Status) string {
	switch st {
	case host.StatusOK:
		return "✓"
	case host.StatusSkipped:
		return "○"
	}
	return "✗"
}

// statuses are the statuses to count in the status line: text.Statuses in
// their order, then any other that a job ended with, so that no finished
// job goes uncounted.
func statuses(counts map[host.Status]int) []host.Status {
	out := append([]host.Status(nil), text.Statuses...)
	var extra []host.Status
	for st := range counts {
		if !slices.Contains(out, st) {
			extra = append(extra, st)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}
