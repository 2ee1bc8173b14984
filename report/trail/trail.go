// Package trail prints the audit trail of committed fixes (package
// internal/audit) as `etlhost audit` shows it: one line per fix, and with
// Full each fix's source, Odoo writes and PostgreSQL statements below it.
package trail

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/audit"
	"github.com/etlhost/etlhost/report/text"
)

// Options of WriteText.
type Options struct {
	// Full prints each fix's source, writes and statements below its line.
	Full bool
	// From names where the records were read, for the empty message.
	From string
}

// WriteText writes recs, oldest first, as a table.
func WriteText(w io.Writer, recs []audit.Record, o Options) {
	if len(recs) == 0 {
		fmt.Fprintf(w, "No committed fix matches (read %s).\n", o.From)
		return
	}
	header := []string{"TIME", "USER", "COMMAND", "SCRIPT", "STATUS", "CHANGES", "RESULT"}
	rows := make([][]string, 0, len(recs))
	for i := range recs {
		r := &recs[i]
		user := r.User
		if r.SudoUser != "" {
			user += " (sudo " + r.SudoUser + ")"
		}
		rows = append(rows, []string{r.Time.UTC().Format(time.RFC3339), user, r.Command, r.Script, r.Status,
			Changes(r), result(r)})
	}
	widths := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(text.Escape(c)))
		}
	}
	line := func(row []string) {
		var b strings.Builder
		for i, c := range row {
			c = text.Escape(c)
			if i == len(row)-1 {
				b.WriteString(text.Truncate(c, 80))
				break
			}
			b.WriteString(c + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(header)
	for i, row := range rows {
		line(row)
		if o.Full {
			writeFull(w, &recs[i])
		}
	}
}

// Changes counts what a fix changed: "2 Odoo writes, 1 statement (5 rows)".
func Changes(r *audit.Record) string {
	var parts []string
	if n := len(r.OdooWrites); n > 0 {
		parts = append(parts, plural(n, "Odoo write"))
	}
	if n := len(r.Statements); n > 0 {
		var rows int64
		for _, s := range r.Statements {
			rows += s.Rows + s.Deleted
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", plural(n, "statement"), plural(int(rows), "row")))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// result is the fix's result as the run summary shows a script's, or the
// first line of its error.
func result(r *audit.Record) string {
	st := host.Status(r.Status)
	return text.Outcome(&host.Result{Status: st, Value: r.Result, Error: r.Error})
}

func writeFull(w io.Writer, r *audit.Record) {
	fmt.Fprintf(w, "    sha256 %s on %s", r.SHA256, r.Host)
	if len(r.Args) > 0 {
		fmt.Fprintf(w, "; args%s", text.Fields(toAny(r.Args)))
	}
	fmt.Fprintln(w)
	if r.Error != "" {
		fmt.Fprintf(w, "    error: %s\n", text.Escape(host.FirstLine(r.Error)))
	}
	for _, ow := range r.OdooWrites {
		ids := ""
		if len(ow.IDs) > 0 {
			ids = fmt.Sprintf(" %v", ow.IDs)
		}
		failed := ""
		if ow.Error != "" {
			failed = " (failed: " + host.FirstLine(ow.Error) + ")"
		}
		fmt.Fprintf(w, "    odoo %s %s.%s%s%s\n", text.Escape(ow.Connection), text.Escape(ow.Model), text.Escape(ow.Method), ids, text.Escape(failed))
	}
	for _, s := range r.Statements {
		fmt.Fprintf(w, "    pg %s %s: %s\n", text.Escape(s.Connection), text.Escape(s.Statement), plural(int(s.Rows), "row"))
	}
	fmt.Fprintln(w, "    source:")
	for _, l := range strings.Split(strings.TrimRight(r.Source, "\n"), "\n") {
		fmt.Fprintf(w, "      %s\n", text.Escape(l))
	}
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
