// Package text is the plain text view of a run: one timestamped line per
// script started, log line and script finished, and the summary table
// printed when the run ends. The live view (package live) writes the same
// summary, in colour, through WriteSummary.
package text

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/luabind/luaconv"
)

// Statuses are the statuses a script can end with, in the order the
// summaries list them.
var Statuses = []host.Status{host.StatusOK, host.StatusFailed, host.StatusTimeout, host.StatusSkipped, host.StatusCancelled}

// Layouts of the time a line of a view starts with: the time of day on a
// terminal, which is watched as it happens; the full ISO 8601 date and time
// in a file or a pipe, which is read later (the log of a cron run).
const (
	ShortStamp = "15:04:05"
	ISOStamp   = "2006-01-02T15:04:05.000Z07:00"
)

func stamp(t time.Time, layout string) string {
	if layout == "" {
		layout = ShortStamp
	}
	return t.Format(layout)
}

// View prints a run as it happens, one line per event, and the summary
// when it ends. Lines of concurrent scripts interleave whole. It is a
// host.Observer.
type View struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	quiet bool
	// Stamp is the layout of the time each line starts with (ShortStamp
	// unless set: ISOStamp suits a file or a pipe).
	Stamp string
	// failed maps an error already printed, but for its file:line, to the
	// script that had it: a repeat prints as "the same error as" it.
	failed map[string]string
}

// NewView returns the view of a run writing to w, stamping lines with now;
// quiet leaves out the scripts' log lines.
func NewView(w io.Writer, now func() time.Time, quiet bool) *View {
	return &View{w: w, now: now, quiet: quiet}
}

func (v *View) printf(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintf(v.w, "%s "+format+"\n", append([]any{stamp(v.now(), v.Stamp)}, args...)...)
}

// ScriptStarted implements host.Observer.
func (v *View) ScriptStarted(s *host.Script, _ time.Time) {
	v.printf("%-9s %s", "start", Escape(s.Name))
}

// ScriptEvent implements host.Observer: an event that has a log line
// prints it.
func (v *View) ScriptEvent(s *host.Script, e host.Event) {
	if w, ok := e.Event.(event.Waiting); ok {
		v.printf("%-9s %s (after %s)", "waiting", Escape(s.Name), Escape(strings.Join(w.For, ", ")))
		return
	}
	l, ok := e.Line()
	if v.quiet || !ok {
		return
	}
	v.printf("%s | %-5s %s%s", Escape(s.Name), l.Level, Escape(l.Msg), Fields(l.Fields))
}

// ScriptFinished implements host.Observer.
func (v *View) ScriptFinished(r *host.Result) {
	msg := ""
	if r.Status != host.StatusOK {
		msg = "  " + Escape(host.FirstLine(r.Error))
	}
	if r.Status == host.StatusFailed {
		v.mu.Lock()
		key := errorKey(r.Error)
		if first, ok := v.failed[key]; ok {
			msg = "  " + Escape(errorPlace(r.Error)+"the same error as "+first)
		} else {
			if v.failed == nil {
				v.failed = map[string]string{}
			}
			v.failed[key] = r.Name
		}
		v.mu.Unlock()
	}
	v.printf("%-9s %s (%s)%s", r.Status, Escape(r.Name), Duration(r.Duration), msg)
}

// Finish prints the summary of the run.
func (v *View) Finish(rep *host.Report) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	WriteSummary(v.w, rep, false)
	return nil
}

// ScriptView prints the run of one script, as `etlhost exec` shows it: its
// log lines without the script's name, then its outcome. It is a
// host.Observer.
type ScriptView struct {
	// Stamp is the layout of the time each line starts with (see View).
	Stamp string
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	quiet bool
	omit  func(host.Event) bool
}

// NewScriptView returns the view of one script writing to w; quiet leaves
// out the log lines, and omit (when not nil) the lines of the events it
// selects (exec lists the changes in words of its own).
func NewScriptView(w io.Writer, now func() time.Time, quiet bool, omit func(host.Event) bool) *ScriptView {
	return &ScriptView{w: w, now: now, quiet: quiet, omit: omit}
}

// ScriptStarted implements host.Observer.
func (v *ScriptView) ScriptStarted(*host.Script, time.Time) {}

// ScriptEvent implements host.Observer.
func (v *ScriptView) ScriptEvent(_ *host.Script, e host.Event) {
	if v.quiet || (v.omit != nil && v.omit(e)) {
		return
	}
	l, ok := e.Line()
	if !ok {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintf(v.w, "%s %-5s %s%s\n", stamp(v.now(), v.Stamp), l.Level, Escape(l.Msg), Fields(l.Fields))
}

// ScriptFinished implements host.Observer.
func (v *ScriptView) ScriptFinished(r *host.Result) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if r.Status == host.StatusOK {
		fmt.Fprintf(v.w, "%s ok (%s)\n", stamp(v.now(), v.Stamp), Duration(r.Duration))
		return
	}
	// The error's first line on the status line, the rest (the traceback)
	// indented below it, so that no line of it reads as one of etlhost's.
	first, rest, _ := strings.Cut(r.Error, "\n")
	fmt.Fprintf(v.w, "%s %s (%s): %s\n", stamp(v.now(), v.Stamp), r.Status, Duration(r.Duration), Escape(first))
	if rest != "" {
		fmt.Fprintln(v.w, indent(EscapeLines(rest)))
	}
}

// WriteSummary writes the summary of a run: the table of results in
// completion order, the totals, then the whole error of each script whose
// error spans lines. With color, statuses and headings are painted with
// ANSI colours (the live view's summary); without, it is plain text.
func WriteSummary(w io.Writer, rep *host.Report, color bool) {
	nameW := len("SCRIPT")
	for _, r := range rep.Scripts {
		nameW = max(nameW, utf8.RuneCountInString(Escape(r.Name)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s\n", Paint(color, "Summary (completion order)", "1"))
	fmt.Fprintf(&b, "  %-9s %9s  %-*s  %s\n", "STATUS", "DURATION", nameW, "SCRIPT", "RESULT")
	first, same := sameErrors(rep.Scripts)
	for _, r := range rep.Scripts {
		outcome := Outcome(r)
		if f := first[r]; f != nil {
			outcome = Escape(errorPlace(r.Error) + "the same error as " + f.Name)
		}
		fmt.Fprintf(&b, "  %s %9s  %-*s  %s\n", PaintStatus(color, r.Status, 9), Duration(r.Duration), nameW, Escape(r.Name), Truncate(outcome, 100))
	}
	counts := rep.Counts()
	var parts []string
	for _, st := range Statuses {
		if counts[st] > 0 {
			parts = append(parts, Paint(color && st != host.StatusOK, fmt.Sprintf("%d %s", counts[st], st), "1"))
		}
	}
	fmt.Fprintf(&b, "Wall time %s; script time %s (one after another); %s\n",
		Duration(rep.Duration), Duration(rep.ScriptTime()), strings.Join(parts, ", "))
	for _, r := range rep.Scripts {
		if r.Status == host.StatusOK && r.Note != "" {
			fmt.Fprintf(&b, "note: %s %s\n", Escape(r.Name), Escape(r.Note))
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "note: %s\n", Escape(n))
	}
	writeAttempts(&b, rep.Scripts)
	for _, r := range rep.Scripts {
		if r.Status != host.StatusOK && first[r] == nil && strings.Contains(r.Error, "\n") {
			names := Escape(r.Name)
			for _, o := range same[r] {
				names += ", " + Escape(o.Name)
			}
			fmt.Fprintf(&b, "\n%s (%s):\n%s\n", names, PaintStatus(color, r.Status, len(r.Status)), indent(EscapeLines(r.Error)))
		}
	}
	_, _ = io.WriteString(w, b.String())
}

// placeRe is the file:line a script's error starts with.
var placeRe = regexp.MustCompile(`^[^\s:]+:\d+: `)

// errorPlace is the file:line prefix of an error ("" when it has none).
func errorPlace(e string) string { return placeRe.FindString(e) }

// errorKey is what two scripts' errors share when they are the same error:
// the first line but for its file:line.
func errorKey(e string) string { return strings.TrimPrefix(host.FirstLine(e), errorPlace(e)) }

// sameErrors finds the failed scripts whose error, but for its file:line
// and traceback, is one an earlier script of the list already had (a
// connection no script can open, say): the summary prints such an error
// once. first maps each such script to the earlier one; same lists, for
// that earlier one, the scripts that repeat it.
func sameErrors(rs []*host.Result) (first map[*host.Result]*host.Result, same map[*host.Result][]*host.Result) {
	first, same = map[*host.Result]*host.Result{}, map[*host.Result][]*host.Result{}
	seen := map[string]*host.Result{}
	for _, r := range rs {
		if r.Status != host.StatusFailed {
			continue
		}
		key := errorKey(r.Error)
		if f, ok := seen[key]; ok {
			first[r] = f
			same[f] = append(same[f], r)
			continue
		}
		seen[key] = r
	}
	return first, same
}

// Outcome is a script's result in one line: the scalar fields of the
// table it returned, or the first line of its error, escaped (see Escape).
func Outcome(r *host.Result) string {
	var out string
	switch {
	case r.Status != host.StatusOK:
		out = Escape(host.FirstLine(r.Error))
	case r.Value == nil && r.Note != "":
		out = "(see the note below)"
	default:
		out = Escape(value(r.Value))
	}
	if n := len(r.Attempts); n > 1 {
		out = strings.TrimSpace(out + fmt.Sprintf(" (attempt %d)", n))
	}
	return out
}

// writeAttempts lists the attempts of the jobs that ran more than once.
func writeAttempts(b *strings.Builder, rs []*host.Result) {
	for _, r := range rs {
		if len(r.Attempts) < 2 {
			continue
		}
		fmt.Fprintf(b, "\n%s: %d attempts\n", Escape(r.Name), len(r.Attempts))
		for _, a := range r.Attempts {
			why := ""
			if a.Status != host.StatusOK {
				why = ": " + Escape(a.Error)
				if a.Reason != "" {
					why = ": " + Escape(a.Reason)
				}
			}
			fmt.Fprintf(b, "  %d  %-9s %9s%s\n", a.Attempt, a.Status, Duration(a.Duration), why)
		}
	}
}

// Rows is the `rows` field of a script's result, when it is a number.
func Rows(v any) (float64, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return 0, false
	}
	switch n := m["rows"].(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	}
	return 0, false
}

// Duration shows a script's or run's duration: 120ms, 4.2s, 2m5s.
func Duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		return d.Round(time.Second).String()
	}
}

// Fields shows a log line's fields as " k=v" pairs, keys sorted, escaped
// (see Escape); numbers as Lua writes them (amount=1234567.5, see
// luaconv.Sprint).
func Fields(f map[string]any) string {
	if len(f) == 0 {
		return ""
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, luaconv.Sprint(f[k]))
	}
	return Escape(b.String())
}

// value shows a script's returned table as k=v pairs of its scalar fields
// ({rows = 120} -> rows=120; a nested table shows as k=…), numbers as Lua
// writes them ({amount = 1234567.5} -> amount=1234567.5).
func value(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			switch e := x[k].(type) {
			case map[string]any, []any:
				parts = append(parts, k+"=…")
			default:
				parts = append(parts, k+"="+luaconv.Sprint(e))
			}
		}
		return strings.Join(parts, " ")
	default:
		return luaconv.Sprint(x)
	}
}

// Truncate cuts s to at most n bytes before an ellipsis, never inside a
// character.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:max(n-1, 0)]
	if len(s) > 0 {
		if i := lastStart(s); !utf8.FullRuneInString(s[i:]) {
			s = s[:i]
		}
	}
	return s + "…"
}

func lastStart(s string) int {
	i := len(s) - 1
	for i > 0 && len(s)-i < utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// Paint wraps s in the ANSI SGR sequence sgr when color is on.
func Paint(color bool, s, sgr string) string {
	if !color || s == "" {
		return s
	}
	return "\x1b[" + sgr + "m" + s + "\x1b[0m"
}

// PaintStatus pads the status to width, then colours it: ok green, failed
// red, timeout yellow, cancelled magenta.
func PaintStatus(color bool, st host.Status, width int) string {
	s := fmt.Sprintf("%-*s", width, st)
	switch st {
	case host.StatusOK:
		return Paint(color, s, "32")
	case host.StatusFailed:
		return Paint(color, s, "1;31")
	case host.StatusTimeout:
		return Paint(color, s, "33")
	case host.StatusSkipped:
		return Paint(color, s, "34")
	default:
		return Paint(color, s, "35")
	}
}
