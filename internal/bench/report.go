package bench

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Result is everything one bench measured; `etlhost bench --json` prints
// it as JSON, WriteText as tables.
type Result struct {
	Machine  Machine  `json:"machine"`
	Settings Settings `json:"settings"`
	// SideBySide is false when etlhost ran alone; BaselineOmitted then
	// says why (no baseline folder, no python3, no psycopg2).
	SideBySide      bool   `json:"side_by_side"`
	BaselineOmitted string `json:"baseline_omitted,omitempty"`
	// VerifyNote says how the tables were checked, or why they were not.
	VerifyNote string  `json:"verify_note"`
	Rounds     []Round `json:"rounds"`
	// Summary has one row per figure: medians, ranges and ratios of the
	// rounds.
	Summary []Row `json:"summary"`
}

// Machine are the facts of the machine the figures were taken on.
type Machine struct {
	CPUs int `json:"cpus"`
	// LoadStart and LoadEnd are /proc/loadavg's 1-minute load average
	// when the bench started and ended ("" when unreadable).
	LoadStart  string `json:"load_average_start,omitempty"`
	LoadEnd    string `json:"load_average_end,omitempty"`
	Kernel     string `json:"kernel,omitempty"`
	PostgreSQL string `json:"postgresql,omitempty"`
	// Python is the baseline's interpreter and psycopg2 versions.
	Python string `json:"python,omitempty"`
}

// Settings are the options the bench ran with.
type Settings struct {
	Moves       int      `json:"moves"`
	Seed        int64    `json:"seed"`
	Latency     string   `json:"latency"`
	Workers     int      `json:"workers"`
	CostCall    string   `json:"cost_call"`
	CostExamine string   `json:"cost_examine"`
	CostRead    string   `json:"cost_read"`
	Rounds      int      `json:"rounds"`
	Baseline    string   `json:"baseline,omitempty"`
	Python      string   `json:"python,omitempty"`
	Etlhost     string   `json:"etlhost"`
	Scripts     []string `json:"scripts"`
}

// Side names, as in Round.Order.
const (
	SideBaseline = "baseline"
	SideEtlhost  = "etlhost"
)

// Round is one round: each side once, in Order.
type Round struct {
	N        int      `json:"round"`
	Order    []string `json:"order"`
	Baseline *SideRun `json:"baseline,omitempty"`
	Etlhost  *SideRun `json:"etlhost"`
}

// SideRun is the figures of one side's run.
type SideRun struct {
	WallSeconds float64 `json:"wall_seconds"`
	// CPUSeconds is UserSeconds+SysSeconds of the child and of the
	// processes it waited for.
	CPUSeconds  float64 `json:"cpu_seconds"`
	UserSeconds float64 `json:"user_seconds"`
	SysSeconds  float64 `json:"sys_seconds"`
	// PeakRSSBytes: etlhost's peak resident set; for the baseline the sum
	// of its ETL processes' peaks (ProcessesSummed of them), its asyncio
	// runner's own peak apart in RunnerRSSBytes.
	PeakRSSBytes    int64 `json:"peak_rss_bytes"`
	RunnerRSSBytes  int64 `json:"runner_rss_bytes,omitempty"`
	ProcessesSummed int   `json:"processes_summed,omitempty"`
	// ServerCPUSeconds is the CPU the simulator process used during the
	// run (/proc/PID/stat).
	ServerCPUSeconds float64  `json:"server_cpu_seconds"`
	Server           SimStats `json:"server"`
	// Verify is verify.py's verdict on the tables this run loaded (nil:
	// not checked).
	Verify *Verify `json:"verify,omitempty"`
}

// Verify is one verify.py run.
type Verify struct {
	// OK: verify.py exited 0, every table matches.
	OK bool `json:"ok"`
	// Crashed: verify.py ended without a verdict (a traceback): the
	// tables were not checked. Not OK either.
	Crashed bool `json:"crashed,omitempty"`
	// Output is verify.py's output: its verdict lines when OK, all of it
	// when not.
	Output  string  `json:"output"`
	Seconds float64 `json:"seconds"`
}

// Row is one figure summarized over the rounds.
type Row struct {
	Name     string `json:"name"`
	Baseline *Stat  `json:"baseline,omitempty"`
	Etlhost  Stat   `json:"etlhost"`
	// Ratio is etlhost's median over the baseline's (nil: no baseline, or
	// its median is 0).
	Ratio *float64 `json:"ratio,omitempty"`
}

// Stat is one figure of one side over the rounds.
type Stat struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Values []float64 `json:"values"`
}

// metric is a row of the summary: how to get it from a run and how many
// decimals to print.
type metric struct {
	name     string
	decimals int
	get      func(*SideRun) float64
}

const megabyte = 1e6

var metrics = []metric{
	{"wall s", 2, func(r *SideRun) float64 { return r.WallSeconds }},
	{"client CPU s", 2, func(r *SideRun) float64 { return r.CPUSeconds }},
	{"peak RSS MB", 1, func(r *SideRun) float64 { return float64(r.PeakRSSBytes) / megabyte }},
	{"calls", 0, func(r *SideRun) float64 { return float64(r.Server.Calls) }},
	{"records examined", 0, func(r *SideRun) float64 { return float64(r.Server.Examined) }},
	{"records read", 0, func(r *SideRun) float64 { return float64(r.Server.Read) }},
	{"response MB", 1, func(r *SideRun) float64 { return float64(r.Server.ResponseBytes) / megabyte }},
	{"server serving s", 2, func(r *SideRun) float64 { return r.Server.ServingSeconds }},
	{"server CPU s", 2, func(r *SideRun) float64 { return r.ServerCPUSeconds }},
}

// median is the middle value of vs (the mean of the two middle ones for an
// even count); 0 for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratio is a/b, or nil when b is 0 (nothing to compare with).
func ratio(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	r := a / b
	return &r
}

func statOf(vs []float64) Stat {
	if len(vs) == 0 {
		return Stat{}
	}
	return Stat{Median: median(vs), Min: slices.Min(vs), Max: slices.Max(vs), Values: vs}
}

// summarize computes the summary rows of rounds.
func summarize(rounds []Round, sideBySide bool) []Row {
	rows := make([]Row, 0, len(metrics))
	for _, m := range metrics {
		var b, e []float64
		for _, r := range rounds {
			if r.Baseline != nil {
				b = append(b, m.get(r.Baseline))
			}
			if r.Etlhost != nil {
				e = append(e, m.get(r.Etlhost))
			}
		}
		row := Row{Name: m.name, Etlhost: statOf(e)}
		if sideBySide && len(b) > 0 {
			bs := statOf(b)
			row.Baseline = &bs
			row.Ratio = ratio(row.Etlhost.Median, bs.Median)
		}
		rows = append(rows, row)
	}
	return rows
}

// num formats v with the metric's decimals.
func num(v float64, decimals int) string {
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

func fmtRatio(r *float64) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%.2fx", *r)
}

func fmtRange(s Stat, decimals int) string {
	if s.Min == s.Max {
		return num(s.Min, decimals)
	}
	return num(s.Min, decimals) + "-" + num(s.Max, decimals)
}

// WriteText writes the result as the tables `etlhost bench` prints.
func (r *Result) WriteText(w io.Writer) {
	s := r.Settings
	fmt.Fprintf(w, "etlhost bench: %d moves (seed %d); simulator: latency %s, %s, costs %s a call, %s a record examined, %s a record read\n",
		s.Moves, s.Seed, s.Latency, plural(s.Workers, "worker"), s.CostCall, s.CostExamine, s.CostRead)
	m := r.Machine
	fmt.Fprintf(w, "machine: %d CPUs", m.CPUs)
	if m.LoadStart != "" {
		fmt.Fprintf(w, ", load average %s at the start, %s at the end", m.LoadStart, m.LoadEnd)
	}
	if m.Kernel != "" {
		fmt.Fprintf(w, ", Linux %s", m.Kernel)
	}
	if m.PostgreSQL != "" {
		fmt.Fprintf(w, ", PostgreSQL %s", m.PostgreSQL)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "etlhost: %s run --quiet --no-progress, %d scripts (%s)\n", s.Etlhost, len(s.Scripts), scriptNames(s.Scripts))
	if r.SideBySide {
		fmt.Fprintf(w, "baseline: %s %s/run_all_etls.py (%s)\n", s.Python, s.Baseline, m.Python)
		fmt.Fprintf(w, "%s, order alternating (odd rounds: baseline first); one simulator process and one PostgreSQL for both sides (a database each)\n", plural(s.Rounds, "round"))
	} else {
		fmt.Fprintf(w, "baseline: LEFT OUT (%s): etlhost ran alone, and verify.py, part of the baseline, did not run\n", r.BaselineOmitted)
		fmt.Fprintf(w, "%s\n", plural(s.Rounds, "round"))
	}
	fmt.Fprintln(w)

	// The summary.
	var tab [][]string
	if r.SideBySide {
		tab = append(tab, []string{"", "baseline", "etlhost", "etlhost/baseline", "baseline min-max", "etlhost min-max"})
	} else {
		tab = append(tab, []string{"", "etlhost", "min-max"})
	}
	for i, row := range r.Summary {
		d := metrics[i].decimals
		if r.SideBySide && row.Baseline != nil {
			tab = append(tab, []string{row.Name, num(row.Baseline.Median, d), num(row.Etlhost.Median, d), fmtRatio(row.Ratio),
				fmtRange(*row.Baseline, d), fmtRange(row.Etlhost, d)})
		} else {
			tab = append(tab, []string{row.Name, num(row.Etlhost.Median, d), fmtRange(row.Etlhost, d)})
		}
	}
	if r.SideBySide {
		fmt.Fprintf(w, "median of %s (peak RSS: etlhost's process; the baseline's ETL processes summed, its runner apart below)\n", plural(len(r.Rounds), "round"))
	} else {
		fmt.Fprintf(w, "median of %s (peak RSS: etlhost's process)\n", plural(len(r.Rounds), "round"))
	}
	writeTable(w, "  ", tab, 1)

	// Round by round.
	fmt.Fprintln(w)
	fmt.Fprintln(w, "rounds:")
	var rt [][]string
	left := 1
	if r.SideBySide {
		left = 2
		rt = append(rt, []string{"round", "order", "baseline wall s", "CPU s", "RSS MB", "runner MB", "verify",
			"etlhost wall s", "CPU s", "RSS MB", "verify"})
	} else {
		rt = append(rt, []string{"round", "etlhost wall s", "CPU s", "RSS MB", "verify"})
	}
	for _, rd := range r.Rounds {
		e := rd.Etlhost
		if r.SideBySide && rd.Baseline != nil {
			b := rd.Baseline
			rt = append(rt, []string{strconv.Itoa(rd.N), strings.Join(rd.Order, " then "),
				num(b.WallSeconds, 2), num(b.CPUSeconds, 2), num(float64(b.PeakRSSBytes)/megabyte, 1),
				num(float64(b.RunnerRSSBytes)/megabyte, 1), verdict(b.Verify),
				num(e.WallSeconds, 2), num(e.CPUSeconds, 2), num(float64(e.PeakRSSBytes)/megabyte, 1), verdict(e.Verify)})
		} else {
			rt = append(rt, []string{strconv.Itoa(rd.N), num(e.WallSeconds, 2), num(e.CPUSeconds, 2),
				num(float64(e.PeakRSSBytes)/megabyte, 1), verdict(e.Verify)})
		}
	}
	writeTable(w, "  ", rt, left)
	fmt.Fprintln(w, "verify:", r.VerifyNote)

	// Server work by (model, method), last round of each side.
	if len(r.Rounds) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "server work by (model, method), last round of each side:")
		writeTable(w, "  ", r.breakdown(), 3)
	}

	r.writeVerifyFailures(w)
}

// writeVerifyFailures prints the output of every verify.py run that did
// not pass, once for runs that printed the same (a crash repeats itself).
func (r *Result) writeVerifyFailures(w io.Writer) {
	type failure struct {
		v      *Verify
		rounds map[string][]string // side -> rounds
	}
	var fails []*failure
	byOutput := map[string]*failure{}
	for _, rd := range r.Rounds {
		for _, run := range []struct {
			side string
			run  *SideRun
		}{{SideBaseline, rd.Baseline}, {SideEtlhost, rd.Etlhost}} {
			v := run.run.verify()
			if v == nil || v.OK {
				continue
			}
			f := byOutput[v.Output]
			if f == nil {
				f = &failure{v: v, rounds: map[string][]string{}}
				byOutput[v.Output] = f
				fails = append(fails, f)
			}
			f.rounds[run.side] = append(f.rounds[run.side], strconv.Itoa(rd.N))
		}
	}
	for _, f := range fails {
		what := "verify.py FAILED on the tables loaded by"
		if f.v.Crashed {
			what = "verify.py crashed, without checking the tables loaded by"
		}
		var where []string
		for _, side := range []string{SideBaseline, SideEtlhost} {
			if rs := f.rounds[side]; len(rs) == 1 {
				where = append(where, side+" in round "+rs[0])
			} else if len(rs) > 1 {
				where = append(where, side+" in rounds "+strings.Join(rs, ", "))
			}
		}
		fmt.Fprintf(w, "\n%s %s:\n%s\n", what, strings.Join(where, "; "), strings.TrimRight(f.v.Output, "\n"))
	}
}

// verify is r's verify.py run, nil when r is nil or was not checked.
func (r *SideRun) verify() *Verify {
	if r == nil {
		return nil
	}
	return r.Verify
}

func verdict(v *Verify) string {
	switch {
	case v == nil:
		return "-"
	case v.OK:
		return "ok"
	case v.Crashed:
		return "ERROR"
	default:
		return "FAILED"
	}
}

func scriptNames(paths []string) string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = p[strings.LastIndexByte(p, '/')+1:]
	}
	return strings.Join(names, ", ")
}

// breakdown is the table of the server's counters per (model, method) in
// the last round of each side, the costliest calls first.
func (r *Result) breakdown() [][]string {
	last := r.Rounds[len(r.Rounds)-1]
	type key struct{ model, method string }
	sides := []struct {
		name string
		run  *SideRun
	}{{SideBaseline, last.Baseline}, {SideEtlhost, last.Etlhost}}
	byKey := map[key]map[string]CallStats{}
	weight := map[key]float64{}
	for _, s := range sides {
		if s.run == nil {
			continue
		}
		for _, c := range s.run.Server.ByCall {
			k := key{c.Model, c.Method}
			if byKey[k] == nil {
				byKey[k] = map[string]CallStats{}
			}
			byKey[k][s.name] = c
			weight[k] += c.ServingSeconds
		}
	}
	keys := make([]key, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(weight[b], weight[a]); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.model, b.model), cmp.Compare(a.method, b.method))
	})
	tab := [][]string{{"model", "method", "side", "calls", "examined", "read", "response MB", "serving s"}}
	for _, k := range keys {
		first := true
		for _, s := range sides {
			if s.run == nil {
				continue
			}
			model, method := cmp.Or(k.model, "(no model)"), k.method
			if !first {
				model, method = "", ""
			}
			first = false
			c, ok := byKey[k][s.name]
			if !ok {
				tab = append(tab, []string{model, method, s.name, "-", "-", "-", "-", "-"})
				continue
			}
			tab = append(tab, []string{model, method, s.name, strconv.FormatInt(c.Calls, 10),
				strconv.FormatInt(c.Examined, 10), strconv.FormatInt(c.Read, 10),
				num(float64(c.ResponseBytes)/megabyte, 1), num(c.ServingSeconds, 2)})
		}
	}
	label := "all"
	for _, s := range sides {
		if s.run == nil {
			continue
		}
		t := s.run.Server.Counters
		tab = append(tab, []string{label, "", s.name,
			strconv.FormatInt(t.Calls, 10), strconv.FormatInt(t.Examined, 10), strconv.FormatInt(t.Read, 10),
			num(float64(t.ResponseBytes)/megabyte, 1), num(t.ServingSeconds, 2)})
		label = ""
	}
	return tab
}

// plural is "1 round", "3 rounds".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// writeTable writes rows (the first one the header) in columns two spaces
// apart, each line after indent: the first left columns aligned left, the
// others (figures) right.
func writeTable(w io.Writer, indent string, rows [][]string, left int) {
	var widths []int
	for _, row := range rows {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		b.WriteString(indent)
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < left {
				b.WriteString(c)
				if i < len(row)-1 {
					b.WriteString(pad)
				}
			} else {
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// seconds converts for the JSON figures, rounded to the microsecond.
func seconds(d interface{ Seconds() float64 }) float64 {
	return math.Round(d.Seconds()*1e6) / 1e6
}
