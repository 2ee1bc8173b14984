package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/etlhost/etlhost/host"
)

// textObserver prints a run as it happens, one line per event, and the
// summary at the end. Lines of concurrent scripts interleave whole.
type textObserver struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	quiet bool
}

func newTextObserver(w io.Writer, now func() time.Time, quiet bool) *textObserver {
	return &textObserver{w: w, now: now, quiet: quiet}
}

func (o *textObserver) printf(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, "%s "+format+"\n", append([]any{o.now().Format("15:04:05")}, args...)...)
}

func (o *textObserver) ScriptStarted(s *host.Script, _ time.Time) {
	o.printf("%-9s %s", "start", s.Name)
}

func (o *textObserver) ScriptEvent(s *host.Script, e host.Event) {
	l, ok := e.Line()
	if o.quiet || !ok {
		return
	}
	o.printf("%s | %-5s %s%s", s.Name, l.Level, l.Msg, formatFields(l.Fields))
}

func (o *textObserver) ScriptFinished(r *host.Result) {
	msg := ""
	if r.Status != host.StatusOK {
		msg = "  " + firstLine(r.Error)
	}
	o.printf("%-9s %s (%s)%s", r.Status, r.Name, fmtDuration(r.Duration), msg)
}

// Summary prints the table of results in completion order and the totals.
func (o *textObserver) Summary(rep *host.Report) {
	o.mu.Lock()
	defer o.mu.Unlock()
	nameW := len("SCRIPT")
	for _, r := range rep.Scripts {
		nameW = max(nameW, len(r.Name))
	}
	fmt.Fprintf(o.w, "\nSummary (completion order)\n")
	fmt.Fprintf(o.w, "  %-9s %9s  %-*s  %s\n", "STATUS", "DURATION", nameW, "SCRIPT", "RESULT")
	for _, r := range rep.Scripts {
		detail := summarizeValue(r.Value)
		if r.Status != host.StatusOK {
			detail = firstLine(r.Error)
		}
		fmt.Fprintf(o.w, "  %-9s %9s  %-*s  %s\n", r.Status, fmtDuration(r.Duration), nameW, r.Name, truncate(detail, 100))
	}
	counts := rep.Counts()
	var parts []string
	for _, st := range []host.Status{host.StatusOK, host.StatusFailed, host.StatusTimeout, host.StatusCancelled} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	fmt.Fprintf(o.w, "Wall time %s; script time %s (one after another); %s\n",
		fmtDuration(rep.Duration), fmtDuration(rep.ScriptTime()), strings.Join(parts, ", "))
	for _, r := range rep.Scripts {
		if r.Status != host.StatusOK && strings.Contains(r.Error, "\n") {
			fmt.Fprintf(o.w, "\n%s (%s):\n%s\n", r.Name, r.Status, indent(r.Error))
		}
	}
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		return d.Round(time.Second).String()
	}
}

func formatFields(f map[string]any) string {
	if len(f) == 0 {
		return ""
	}
	var b strings.Builder
	for _, k := range sortedMapKeys(f) {
		fmt.Fprintf(&b, " %s=%v", k, f[k])
	}
	return b.String()
}

// summarizeValue shows a script's returned table as k=v pairs of its scalar
// fields ({rows = 120} -> rows=120).
func summarizeValue(v any) string {
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
				parts = append(parts, fmt.Sprintf("%s=%v", k, e))
			}
		}
		return strings.Join(parts, " ")
	default:
		return fmt.Sprint(x)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
