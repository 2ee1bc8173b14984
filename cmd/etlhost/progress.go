package main

// The live view of `etlhost run` on a terminal: one line per running
// script, redrawn in place about ten times a second, with log lines and
// finished scripts printed above it, and a coloured summary table at the end.

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/host"
)

func init() {
	runExtensions = append(runExtensions, runExtension{
		Flags: []cli.Flag{
			sharedBool(&cli.BoolFlag{Name: "no-progress", Usage: "print plain timestamped lines even on a terminal (no live view)"}),
		},
		Observer: liveObserverFor,
	})
}

// redrawEvery is the live view's refresh period.
const redrawEvery = 100 * time.Millisecond

// liveObserverFor replaces the plain text observer with the live view when
// stderr is a terminal that can move its cursor (not TERM=dumb) and
// --no-progress is not given. It only replaces the plain observer: another
// extension's wrapper is left alone rather than dropped.
func liveObserverFor(a *App, c *cli.Context, next host.Observer) host.Observer {
	if _, plain := next.(*textObserver); !plain || c.Bool("no-progress") || a.Getenv("TERM") == "dumb" {
		return next
	}
	cols, tty := terminalWidth(a.Stderr)
	if !tty {
		return next
	}
	return newLiveObserver(c.Context, a.Stderr, a.Now, liveOptions{
		Color: a.Getenv("NO_COLOR") == "",
		Quiet: c.Bool("quiet"),
		Width: cols,
		Total: c.Args().Len(),
	})
}

type liveOptions struct {
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

type liveObserver struct {
	opts liveOptions
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

func newLiveObserver(ctx context.Context, w io.Writer, now func() time.Time, opts liveOptions) *liveObserver {
	if opts.Width <= 0 {
		opts.Width = 80
	}
	o := &liveObserver{opts: opts, now: now, w: w, start: now(), counts: map[host.Status]int{}, stop: make(chan struct{})}
	o.wg.Add(1)
	go o.loop(ctx)
	return o
}

// loop redraws on a ticker. When the run is interrupted, main prints a
// line of its own at the cursor: the block drawn so far is left where it is
// and the next one starts below the message.
func (o *liveObserver) loop(ctx context.Context) {
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

func (o *liveObserver) find(s *host.Script) *liveScript {
	for _, ls := range o.running {
		if ls.s == s {
			return ls
		}
	}
	return nil
}

// ScriptStarted implements host.Observer.
func (o *liveObserver) ScriptStarted(s *host.Script, at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.running = append(o.running, &liveScript{s: s, started: at})
	o.redraw()
}

// ScriptEvent implements host.Observer: progress and rows show at the next
// tick, a line goes above the block.
func (o *liveObserver) ScriptEvent(s *host.Script, e host.Event) {
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

func (o *liveObserver) line(s *host.Script, l host.LogLine) {
	text := fmt.Sprintf("%s%s", l.Msg, formatFields(l.Fields))
	o.mu.Lock()
	defer o.mu.Unlock()
	if ls := o.find(s); ls != nil {
		ls.last = firstLine(text)
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
	o.pending = append(o.pending, fmt.Sprintf("%s %s | %s %s", o.paint(l.Time.Format("15:04:05"), "2"), s.Name, level, text))
}

func (o *liveObserver) progress(s *host.Script, done, total int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ls := o.find(s); ls != nil {
		ls.done, ls.total = done, total
	}
}

func (o *liveObserver) rows(s *host.Script, fetched, loaded int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ls := o.find(s); ls != nil {
		ls.fetched, ls.loaded = fetched, loaded
	}
}

// ScriptFinished implements host.Observer: the script leaves the block and
// its outcome is printed above it.
func (o *liveObserver) ScriptFinished(r *host.Result) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, ls := range o.running {
		if ls.s.Name == r.Name {
			o.running = append(o.running[:i], o.running[i+1:]...)
			break
		}
	}
	o.counts[r.Status]++
	detail := summarizeValue(r.Value)
	if r.Status != host.StatusOK {
		detail = firstLine(r.Error)
	}
	line := fmt.Sprintf("%s %s %s %s", statusMark(r.Status), o.paintStatus(r.Status), r.Name, o.paint("("+fmtDuration(r.Duration)+")", "2"))
	if detail != "" {
		line += "  " + truncate(detail, 200)
	}
	o.pending = append(o.pending, line)
	o.redraw()
}

// Summary prints the final table instead of the block.
func (o *liveObserver) Summary(rep *host.Report) {
	o.close()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.running = nil
	o.redraw()
	o.drawn = 0
	printSummary(o.w, rep, o.opts.Color)
}

func (o *liveObserver) close() {
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
func (o *liveObserver) redraw() {
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
func (o *liveObserver) block() []string {
	if len(o.running) == 0 && o.closed {
		return nil
	}
	now := o.now()
	nameW := 0
	for _, ls := range o.running {
		nameW = max(nameW, utf8.RuneCountInString(ls.s.Name))
	}
	var lines []string
	width := o.opts.Width - 1
	for _, ls := range o.running {
		spin := string(spinner[o.frame%len(spinner)])
		head := fmt.Sprintf(" %s %-*s %8s  ", spin, nameW, ls.s.Name, fmtElapsed(now.Sub(ls.started)))
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
	for _, st := range []host.Status{host.StatusOK, host.StatusFailed, host.StatusTimeout, host.StatusCancelled} {
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

func (o *liveObserver) paint(s, sgr string) string {
	return paint(o.opts.Color, s, sgr)
}

func (o *liveObserver) paintStatus(st host.Status) string {
	return paintStatus(o.opts.Color, st, len(st))
}

func paint(color bool, s, sgr string) string {
	if !color || s == "" {
		return s
	}
	return "\x1b[" + sgr + "m" + s + "\x1b[0m"
}

// paintStatus pads the status to width, then colours it: ok green, failed
// red, timeout yellow, cancelled magenta.
func paintStatus(color bool, st host.Status, width int) string {
	s := fmt.Sprintf("%-*s", width, st)
	switch st {
	case host.StatusOK:
		return paint(color, s, "32")
	case host.StatusFailed:
		return paint(color, s, "1;31")
	case host.StatusTimeout:
		return paint(color, s, "33")
	default:
		return paint(color, s, "35")
	}
}

func statusMark(st host.Status) string {
	if st == host.StatusOK {
		return "✓"
	}
	return "✗"
}

// printSummary is the terminal's summary: the plain summary's table with
// coloured statuses.
func printSummary(w io.Writer, rep *host.Report, color bool) {
	nameW := len("SCRIPT")
	for _, r := range rep.Scripts {
		nameW = max(nameW, utf8.RuneCountInString(r.Name))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s\n", paint(color, "Summary (completion order)", "1"))
	fmt.Fprintf(&b, "  %-9s %9s  %-*s  %s\n", "STATUS", "DURATION", nameW, "SCRIPT", "RESULT")
	for _, r := range rep.Scripts {
		detail := summarizeValue(r.Value)
		if r.Status != host.StatusOK {
			detail = firstLine(r.Error)
		}
		fmt.Fprintf(&b, "  %s %9s  %-*s  %s\n", paintStatus(color, r.Status, 9), fmtDuration(r.Duration), nameW, r.Name, truncate(detail, 100))
	}
	counts := rep.Counts()
	var parts []string
	for _, st := range []host.Status{host.StatusOK, host.StatusFailed, host.StatusTimeout, host.StatusCancelled} {
		if counts[st] > 0 {
			parts = append(parts, paint(color && st != host.StatusOK, fmt.Sprintf("%d %s", counts[st], st), "1"))
		}
	}
	fmt.Fprintf(&b, "Wall time %s; script time %s (one after another); %s\n",
		fmtDuration(rep.Duration), fmtDuration(rep.ScriptTime()), strings.Join(parts, ", "))
	for _, r := range rep.Scripts {
		if r.Status != host.StatusOK && strings.Contains(r.Error, "\n") {
			fmt.Fprintf(&b, "\n%s (%s):\n%s\n", r.Name, paintStatus(color, r.Status, len(r.Status)), indent(r.Error))
		}
	}
	_, _ = io.WriteString(w, b.String())
}
