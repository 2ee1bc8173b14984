// Package text is the plain text view of a run: one timestamped line per
// script started, log line and script finished, and the summary table
// printed when the run ends. The live view (package live) writes the same
// summary, in colour, through WriteSummary.
package text

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/luabind/luaconv"
)

// Statuses are the statuses a script can end with, in the order the
// summaries list them.
var Statuses = []host.Status{host.StatusOK, host.StatusFailed, host.StatusTimeout, host.StatusCancelled}

// View prints a run as it happens, one line per event, and the summary
// when it ends. Lines of concurrent scripts interleave whole. It is a
// host.Observer.
type View struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	quiet bool
}

// NewView returns the view of a run writing to w, stamping lines with now;
// quiet leaves out the scripts' log lines.
func NewView(w io.Writer, now func() time.Time, quiet bool) *View {
	return &View{w: w, now: now, quiet: quiet}
}

func (v *View) printf(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintf(v.w, "%s "+format+"\n", append([]any{v.now().Format("15:04:05")}, args...)...)
}

// ScriptStarted implements host.Observer.
func (v *View) ScriptStarted(s *host.Script, _ time.Time) {
	v.printf("%-9s %s", "start", Escape(s.Name))
}

// ScriptEvent implements host.Observer: an event that has a log line
// prints it.
func (v *View) ScriptEvent(s *host.Script, e host.Event) {
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
		msg = "  " + Escape(FirstLine(r.Error))
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
	fmt.Fprintf(v.w, "%s %-5s %s%s\n", v.now().Format("15:04:05"), l.Level, Escape(l.Msg), Fields(l.Fields))
}

// ScriptFinished implements host.Observer.
func (v *ScriptView) ScriptFinished(r *host.Result) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if r.Status == host.StatusOK {
		fmt.Fprintf(v.w, "%s ok (%s)\n", v.now().Format("15:04:05"), Duration(r.Duration))
		return
	}
	// The error's first line on the status line, the rest (the traceback)
	// indented below it, so that no line of it reads as one of etlhost's.
	first, rest, _ := strings.Cut(r.Error, "\n")
	fmt.Fprintf(v.w, "%s %s (%s): %s\n", v.now().Format("15:04:05"), r.Status, Duration(r.Duration), Escape(first))
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
	for _, r := range rep.Scripts {
		fmt.Fprintf(&b, "  %s %9s  %-*s  %s\n", PaintStatus(color, r.Status, 9), Duration(r.Duration), nameW, Escape(r.Name), Truncate(Outcome(r), 100))
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
		if r.Status != host.StatusOK && strings.Contains(r.Error, "\n") {
			fmt.Fprintf(&b, "\n%s (%s):\n%s\n", Escape(r.Name), PaintStatus(color, r.Status, len(r.Status)), indent(EscapeLines(r.Error)))
		}
	}
	_, _ = io.WriteString(w, b.String())
}

// Outcome is a script's result in one line: the scalar fields of the
// table it returned, or the first line of its error, escaped (see Escape).
func Outcome(r *host.Result) string {
	if r.Status != host.StatusOK {
		return Escape(FirstLine(r.Error))
	}
	return Escape(value(r.Value))
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

// FirstLine is s up to its first newline.
func FirstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
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
	default:
		return Paint(color, s, "35")
	}
}
