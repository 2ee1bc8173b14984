package metrics

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/task"
)

// promFamily is one metric family of a parsed exposition.
type promFamily struct {
	Name, Help, Type string
	Samples          []promSample
}

type promSample struct {
	Labels map[string]string
	Value  float64
}

// parseProm is a strict parser of Prometheus' text exposition format
// (version 0.0.4), written from the format's specification rather than
// taken from github.com/prometheus/common, a dependency the project does not
// have. It refuses what Prometheus and node_exporter's textfile collector
// refuse: bad metric or label names, bad escapes, a HELP or TYPE given twice
// or after the family's samples, an unknown type, a family split into
// several groups, the same series twice, a value that is not a float, a
// missing final newline.
func parseProm(text string) (map[string]*promFamily, error) {
	var (
		nameRe  = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*`)
		labelRe = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*`)
	)
	fams := map[string]*promFamily{}
	closed := map[string]bool{} // families whose samples group has ended
	seenSeries := map[string]bool{}
	current := ""
	if text != "" && !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("the last line does not end with a newline")
	}
	get := func(name string) *promFamily {
		if fams[name] == nil {
			fams[name] = &promFamily{Name: name}
		}
		return fams[name]
	}
	for n, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		lineNo := n + 1
		fail := func(format string, args ...any) error {
			return fmt.Errorf("line %d: %s: %q", lineNo, fmt.Sprintf(format, args...), line)
		}
		switch {
		case strings.TrimSpace(line) == "":
			continue
		case strings.HasPrefix(line, "#"):
			fields := strings.SplitN(strings.TrimLeft(line[1:], " \t"), " ", 3)
			if len(fields) < 2 || (fields[0] != "HELP" && fields[0] != "TYPE") {
				continue // a plain comment
			}
			name := fields[1]
			if nameRe.FindString(name) != name {
				return nil, fail("bad metric name %q", name)
			}
			f := get(name)
			if len(f.Samples) > 0 {
				return nil, fail("%s after the samples of %s", fields[0], name)
			}
			rest := ""
			if len(fields) == 3 {
				rest = fields[2]
			}
			if fields[0] == "HELP" {
				if f.Help != "" {
					return nil, fail("second HELP for %s", name)
				}
				help, err := unescapeHelp(rest)
				if err != nil {
					return nil, fail("%v", err)
				}
				f.Help = help
			} else {
				if f.Type != "" {
					return nil, fail("second TYPE for %s", name)
				}
				switch rest {
				case "counter", "gauge", "histogram", "summary", "untyped":
				default:
					return nil, fail("unknown type %q", rest)
				}
				f.Type = rest
			}
		default:
			name := nameRe.FindString(line)
			if name == "" {
				return nil, fail("no metric name")
			}
			rest := line[len(name):]
			labels := map[string]string{}
			if strings.HasPrefix(rest, "{") {
				rest = rest[1:]
				for {
					rest = strings.TrimLeft(rest, " ")
					if strings.HasPrefix(rest, "}") {
						rest = rest[1:]
						break
					}
					ln := labelRe.FindString(rest)
					if ln == "" {
						return nil, fail("bad label name")
					}
					rest = rest[len(ln):]
					if !strings.HasPrefix(rest, `="`) {
						return nil, fail("label %s without =\"", ln)
					}
					val, after, ok := unescapeLabel(rest[2:])
					if !ok {
						return nil, fail("bad label value of %s", ln)
					}
					if _, dup := labels[ln]; dup {
						return nil, fail("label %s twice", ln)
					}
					labels[ln] = val
					rest = after
					if strings.HasPrefix(rest, ",") {
						rest = rest[1:]
					} else if !strings.HasPrefix(rest, "}") {
						return nil, fail("expected , or } after a label")
					}
				}
			}
			if !strings.HasPrefix(rest, " ") {
				return nil, fail("no space before the value")
			}
			parts := strings.Fields(rest)
			if len(parts) < 1 || len(parts) > 2 {
				return nil, fail("expected a value and an optional timestamp")
			}
			v, err := parseFloat(parts[0])
			if err != nil {
				return nil, fail("bad value")
			}
			if len(parts) == 2 {
				if _, err := strconv.ParseInt(parts[1], 10, 64); err != nil {
					return nil, fail("bad timestamp")
				}
			}
			if name != current {
				if closed[name] {
					return nil, fail("the samples of %s are not grouped together", name)
				}
				if current != "" {
					closed[current] = true
				}
				current = name
			}
			keys := make([]string, 0, len(labels))
			for k := range labels {
				keys = append(keys, k+"="+labels[k])
			}
			sort.Strings(keys)
			series := name + "{" + strings.Join(keys, ",") + "}"
			if seenSeries[series] {
				return nil, fail("series %s twice", series)
			}
			seenSeries[series] = true
			f := get(name)
			f.Samples = append(f.Samples, promSample{Labels: labels, Value: v})
		}
	}
	return fams, nil
}

func unescapeHelp(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		if i == len(s) {
			return "", fmt.Errorf("HELP ends with a backslash")
		}
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		default:
			return "", fmt.Errorf("bad escape \\%c in HELP", s[i])
		}
	}
	return b.String(), nil
}

func parseFloat(s string) (float64, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, 64)
}

// value finds the sample of name with exactly these labels.
func value(t *testing.T, fams map[string]*promFamily, name string, labels ...string) (float64, bool) {
	t.Helper()
	f := fams[name]
	if f == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, s := range f.Samples {
		if fmt.Sprint(s.Labels) == fmt.Sprint(want) {
			return s.Value, true
		}
	}
	return 0, false
}

func TestPromParserRefuses(t *testing.T) {
	t.Parallel()
	good := "# HELP a_b A help\\nline.\n# TYPE a_b gauge\na_b{x=\"1\\\"\\\\\\n\"} 1.5\na_b{x=\"2\"} NaN\n"
	fams, err := parseProm(good)
	if err != nil {
		t.Fatalf("good exposition refused: %v", err)
	}
	if v, ok := value(t, fams, "a_b", "x", "1\"\\\n"); !ok || v != 1.5 || fams["a_b"].Help != "A help\nline." {
		t.Fatalf("parsed %+v", fams["a_b"])
	}
	for name, bad := range map[string]string{
		"no final newline":  "a 1",
		"bad name":          "1a 1\n",
		"bad label name":    "a{1x=\"1\"} 1\n",
		"bad escape":        "a{x=\"\\t\"} 1\n",
		"unclosed value":    "a{x=\"1} 1\n",
		"bad value":         "a one\n",
		"same series twice": "a{x=\"1\"} 1\na{x=\"1\"} 2\n",
		"split family":      "a 1\nb 1\na{x=\"1\"} 2\n",
		"type after sample": "a 1\n# TYPE a gauge\n",
		"unknown type":      "# TYPE a gauges\na 1\n",
		"two helps":         "# HELP a x\n# HELP a y\na 1\n",
		"label twice":       "a{x=\"1\",x=\"2\"} 1\n",
	} {
		if _, err := parseProm(bad); err == nil {
			t.Errorf("%s: accepted %q", name, bad)
		}
	}
}

// runWithMetrics runs the scripts at paths as `etlhost run --metrics-file
// prom` does, and returns the run's status.
func runWithMetrics(t *testing.T, prom string, paths ...string) host.Status {
	t.Helper()
	r := &host.Runner{Modules: []luabind.Module{task.Module{}}}
	scripts, err := r.Load(paths)
	if err != nil {
		t.Fatal(err)
	}
	f := &File{Path: prom}
	r.Observer = f
	rep, err := r.Run(context.Background(), scripts)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Finish(rep); err != nil {
		t.Fatal(err)
	}
	return rep.Status
}

func write(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMetricsFile runs ok, failed, timed-out scripts with a metrics file,
// parses the file strictly, and checks that a script's last success
// survives a later failure.
func TestMetricsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	prom := filepath.Join(dir, "textfile", "etlhost.prom")
	if err := os.MkdirAll(filepath.Dir(prom), 0o755); err != nil {
		t.Fatal(err)
	}
	flaky := filepath.Join(dir, "flaky.lua")
	loader := write(t, dir, "loader.lua", "return {rows = 412}")
	noRows := write(t, dir, "no_rows.lua", "return 'done'")
	slow := write(t, dir, "slow.lua", "--! timeout = 150ms\nrequire('task').sleep(10)")
	write(t, dir, "flaky.lua", "return {rows = 7}")

	before := time.Now()
	if st := runWithMetrics(t, prom, loader, noRows, slow, flaky); st != host.StatusFailed {
		t.Fatalf("run %s", st)
	}
	data, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	fams, err := parseProm(string(data))
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	for name, f := range fams {
		if f.Type != "gauge" || f.Help == "" || len(f.Samples) == 0 {
			t.Errorf("%s: type %q, help %q, %d samples", name, f.Type, f.Help, len(f.Samples))
		}
	}
	expect := func(want float64, name string, labels ...string) {
		t.Helper()
		got, ok := value(t, fams, name, labels...)
		if !ok || got != want {
			t.Errorf("%s%v = %v (present %v), want %v", name, labels, got, ok, want)
		}
	}
	expect(1, "etlhost_run_status", "status", "failed")
	expect(0, "etlhost_run_status", "status", "ok")
	expect(3, "etlhost_run_scripts", "status", "ok")
	expect(1, "etlhost_run_scripts", "status", "timeout")
	expect(1, "etlhost_script_status", "script", "loader", "status", "ok")
	expect(0, "etlhost_script_status", "script", "loader", "status", "failed")
	expect(1, "etlhost_script_status", "script", "slow", "status", "timeout")
	expect(412, "etlhost_script_rows", "script", "loader")
	if _, ok := value(t, fams, "etlhost_script_rows", "script", "no_rows"); ok {
		t.Error("a script without rows in its result has a rows series")
	}
	if d, _ := value(t, fams, "etlhost_script_duration_seconds", "script", "slow"); d < 0.15 || d > 5 {
		t.Errorf("slow ran %vs", d)
	}
	if d, _ := value(t, fams, "etlhost_run_duration_seconds"); d < 0.15 {
		t.Errorf("run duration %v", d)
	}
	firstSuccess, ok := value(t, fams, lastSuccessMetric, "script", "flaky")
	if !ok || firstSuccess < float64(before.Unix()) || firstSuccess > float64(time.Now().Unix()+1) {
		t.Fatalf("flaky's last success %v, run started at %d", firstSuccess, before.Unix())
	}
	if _, ok := value(t, fams, lastSuccessMetric, "script", "slow"); ok {
		t.Error("a script that never succeeded has a last success")
	}

	// flaky now fails: its last success stays that of the first run.
	write(t, dir, "flaky.lua", "error('odoo is down')")
	time.Sleep(20 * time.Millisecond)
	if st := runWithMetrics(t, prom, loader, flaky); st != host.StatusFailed {
		t.Fatalf("run %s", st)
	}
	data, _ = os.ReadFile(prom)
	if fams, err = parseProm(string(data)); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	expect(1, "etlhost_script_status", "script", "flaky", "status", "failed")
	expect(firstSuccess, lastSuccessMetric, "script", "flaky")
	if again, _ := value(t, fams, lastSuccessMetric, "script", "loader"); again <= firstSuccess {
		t.Errorf("loader succeeded again but its last success did not move: %v <= %v", again, firstSuccess)
	}
	if _, ok := value(t, fams, "etlhost_script_status", "script", "slow", "status", "timeout"); ok {
		t.Error("a script of the previous run only is still reported")
	}
	// Written atomically: no temporary file left beside it.
	entries, _ := os.ReadDir(filepath.Dir(prom))
	if len(entries) != 1 {
		t.Errorf("files in the textfile folder: %v", entries)
	}
	if st, _ := os.Stat(prom); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode())
	}
}

func TestMetricsLabelEscaping(t *testing.T) {
	t.Parallel()
	rep := &host.Report{Status: host.StatusOK, StartedAt: time.Unix(1700000000, 0), Duration: time.Second,
		Scripts: []*host.Result{{Name: "odd\"name\\with\nstuff", Status: host.StatusOK, StartedAt: time.Unix(1700000000, 0),
			Duration: 500 * time.Millisecond, Value: map[string]any{"rows": float64(3)}}}}
	data := renderMetrics(rep, map[string]float64{}, nil)
	fams, err := parseProm(string(data))
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if v, ok := value(t, fams, "etlhost_script_rows", "script", "odd\"name\\with\nstuff"); !ok || v != 3 {
		t.Fatalf("rows of the odd name: %v %v\n%s", v, ok, data)
	}
	if v, _ := value(t, fams, lastSuccessMetric, "script", "odd\"name\\with\nstuff"); v != 1700000000.5 {
		t.Fatalf("last success %v", v)
	}
	// And read back for the next run.
	p := filepath.Join(t.TempDir(), "m.prom")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	prev, err := readLastSuccess(p)
	if err != nil || prev["odd\"name\\with\nstuff"] != 1700000000.5 {
		t.Fatalf("read back %v %v", prev, err)
	}
}
