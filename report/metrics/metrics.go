// Package metrics writes a run's figures in Prometheus' text format, for
// node_exporter's textfile collector (`etlhost run --metrics-file`).
package metrics

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/report/text"
)

// File is the metrics file of a run: when the run ends, Finish writes its
// metrics at Path. It is a host.Observer that needs the run's report and
// which jobs started (a job that finishes without starting ran no attempt).
type File struct {
	Path string

	mu      sync.Mutex
	started map[string]bool
}

// ScriptStarted implements host.Observer.
func (f *File) ScriptStarted(s *host.Script, _ time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started == nil {
		f.started = map[string]bool{}
	}
	f.started[s.Name] = true
}

// ScriptEvent implements host.Observer.
func (*File) ScriptEvent(*host.Script, host.Event) {}

// ScriptFinished implements host.Observer.
func (*File) ScriptFinished(*host.Result) {}

// Finish writes the metrics of rep to the file.
func (f *File) Finish(rep *host.Report) error {
	f.mu.Lock()
	started := f.started
	f.mu.Unlock()
	return writeMetricsFile(f.Path, rep, started)
}

// lastSuccessMetric carries each script's last success from one run to the
// next: it is read back from the previous file at the same path, so it
// works without the run history (and the history's database).
const lastSuccessMetric = "etlhost_script_last_success_timestamp_seconds"

// writeMetricsFile writes the metrics of rep to path atomically: a
// temporary file in the same folder (named so the textfile collector, which
// reads *.prom only, skips it), then a rename over the old file.
func writeMetricsFile(path string, rep *host.Report, started map[string]bool) error {
	prev, err := readLastSuccess(path)
	if err != nil {
		return err
	}
	data := renderMetrics(rep, prev, started)
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot create a temporary file beside %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename: nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot replace %s: %w", path, err)
	}
	return nil
}

// readLastSuccess reads the last-success timestamps of a previous metrics
// file (none when there is no file). Lines it does not recognise are
// ignored: the file is ours, but a hand edit must not stop a run.
func readLastSuccess(path string) (map[string]float64, error) {
	out := map[string]float64{}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the previous metrics file: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	prefix := lastSuccessMetric + `{script="`
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		name, rest, ok := unescapeLabel(line[len(prefix):])
		if !ok || !strings.HasPrefix(rest, "} ") {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(rest[2:])[0], 64)
		if err == nil && !math.IsNaN(v) {
			out[name] = v
		}
	}
	return out, nil
}

// unescapeLabel reads a label value up to its closing quote and returns it
// with the text after the quote.
func unescapeLabel(s string) (value, rest string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], true
		case '\\':
			if i+1 >= len(s) {
				return "", "", false
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case '\\', '"':
				b.WriteByte(s[i])
			default:
				return "", "", false
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

// escapeLabel escapes a label value as the text format requires.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// attempts is how many times the job of r ran: its attempts when it may be
// retried, else once if it started, never if it did not.
func attempts(r *host.Result, started map[string]bool) int {
	switch {
	case len(r.Attempts) > 0:
		return len(r.Attempts)
	case r.Status == host.StatusSkipped || !started[r.Name]:
		return 0
	}
	return 1
}

// renderMetrics renders a report as metric families. Per-script series are
// labelled script="name"; statuses are one series per possible status,
// 1 for the actual one (so `== 1` selects it and absent series never
// confuse an alert). started names the jobs that started.
func renderMetrics(rep *host.Report, prevSuccess map[string]float64, started map[string]bool) []byte {
	var b bytes.Buffer
	family := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	ts := func(t time.Time) string { return num(float64(t.UnixMilli()) / 1000) }
	bool01 := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}

	family("etlhost_run_status", "gauge", "Status of the last run: 1 for the status it ended with (ok, failed or cancelled), 0 for the others.")
	for _, st := range []host.Status{host.StatusOK, host.StatusFailed, host.StatusCancelled} {
		fmt.Fprintf(&b, "etlhost_run_status{status=%q} %s\n", st, bool01(rep.Status == st))
	}
	family("etlhost_run_duration_seconds", "gauge", "Wall time of the last run.")
	fmt.Fprintf(&b, "etlhost_run_duration_seconds %s\n", num(rep.Duration.Seconds()))
	family("etlhost_run_timestamp_seconds", "gauge", "When the last run ended, in Unix time.")
	fmt.Fprintf(&b, "etlhost_run_timestamp_seconds %s\n", ts(rep.StartedAt.Add(rep.Duration)))
	family("etlhost_run_scripts", "gauge", "Scripts of the last run by status.")
	counts := rep.Counts()
	for _, st := range text.Statuses {
		fmt.Fprintf(&b, "etlhost_run_scripts{status=%q} %d\n", st, counts[st])
	}

	scripts := append([]*host.Result(nil), rep.Scripts...)
	sort.Slice(scripts, func(i, j int) bool { return scripts[i].Name < scripts[j].Name })
	family("etlhost_script_status", "gauge", "Status of each script in the last run (ok, failed, timeout, skipped or cancelled): 1 for the status it ended with, 0 for the others.")
	for _, r := range scripts {
		for _, st := range text.Statuses {
			fmt.Fprintf(&b, "etlhost_script_status{script=\"%s\",status=%q} %s\n", escapeLabel(r.Name), st, bool01(r.Status == st))
		}
	}
	family("etlhost_script_attempts", "gauge", "How many times each script of the last run ran: 1 most often, 2 or more when it was retried after transient failures, 0 when it never started (skipped because a job it runs after did not end ok, or cancelled before it started).")
	for _, r := range scripts {
		fmt.Fprintf(&b, "etlhost_script_attempts{script=\"%s\"} %d\n", escapeLabel(r.Name), attempts(r, started))
	}
	family("etlhost_script_duration_seconds", "gauge", "How long each script of the last run ran.")
	for _, r := range scripts {
		fmt.Fprintf(&b, "etlhost_script_duration_seconds{script=\"%s\"} %s\n", escapeLabel(r.Name), num(r.Duration.Seconds()))
	}
	var withRows []*host.Result
	for _, r := range scripts {
		if _, ok := text.Rows(r.Value); ok {
			withRows = append(withRows, r)
		}
	}
	if len(withRows) > 0 {
		family("etlhost_script_rows", "gauge", "The rows field of each script's result in the last run (scripts that return {rows = n}).")
		for _, r := range withRows {
			n, _ := text.Rows(r.Value)
			fmt.Fprintf(&b, "etlhost_script_rows{script=\"%s\"} %s\n", escapeLabel(r.Name), num(n))
		}
	}
	family("etlhost_script_last_run_timestamp_seconds", "gauge", "When each script of the last run ended, in Unix time.")
	for _, r := range scripts {
		fmt.Fprintf(&b, "etlhost_script_last_run_timestamp_seconds{script=\"%s\"} %s\n", escapeLabel(r.Name), ts(r.StartedAt.Add(r.Duration)))
	}
	success := map[string]string{}
	for _, r := range scripts {
		switch {
		case r.Status == host.StatusOK:
			success[r.Name] = ts(r.StartedAt.Add(r.Duration))
		case prevSuccess[r.Name] > 0:
			success[r.Name] = num(prevSuccess[r.Name])
		}
	}
	if len(success) > 0 {
		family(lastSuccessMetric, "gauge", "When each script last ended ok, in Unix time; kept across runs from the previous file at this path. Absent for a script that never succeeded.")
		for _, r := range scripts {
			if v, ok := success[r.Name]; ok {
				fmt.Fprintf(&b, "%s{script=\"%s\"} %s\n", lastSuccessMetric, escapeLabel(r.Name), v)
			}
		}
	}
	return b.Bytes()
}
