package bench

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{9, 1, 8, 2, 7}, 7},
	} {
		in := append([]float64(nil), tc.in...)
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("median sorted its argument: %v", tc.in)
			}
		}
	}
}

func TestRatio(t *testing.T) {
	if r := ratio(1, 4); r == nil || *r != 0.25 {
		t.Errorf("ratio(1, 4) = %v, want 0.25", r)
	}
	if r := ratio(3, 0); r != nil {
		t.Errorf("ratio(3, 0) = %v, want nil (nothing to compare with)", *r)
	}
	if got := fmtRatio(ratio(1, 3)); got != "0.33x" {
		t.Errorf("fmtRatio = %q, want 0.33x", got)
	}
	if got := fmtRatio(nil); got != "-" {
		t.Errorf("fmtRatio(nil) = %q, want -", got)
	}
}

func TestFmtRange(t *testing.T) {
	if got := fmtRange(statOf([]float64{2.5, 1.25, 2}), 2); got != "1.25-2.50" {
		t.Errorf("fmtRange = %q", got)
	}
	if got := fmtRange(statOf([]float64{7, 7}), 0); got != "7" {
		t.Errorf("fmtRange of equal values = %q, want 7", got)
	}
}

func TestWriteTableAligns(t *testing.T) {
	var b strings.Builder
	writeTable(&b, "> ", [][]string{
		{"name", "kind", "n"},
		{"long name", "x", "1"},
		{"s", "", "12345"},
	}, 2)
	want := "" +
		"> name       kind      n\n" +
		"> long name  x         1\n" +
		"> s                12345\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// sampleRun builds a run whose figures grow with k.
func sampleRun(k float64, baseline bool) *SideRun {
	r := &SideRun{
		WallSeconds: 10 * k, CPUSeconds: 2 * k, UserSeconds: 1.5 * k, SysSeconds: 0.5 * k,
		PeakRSSBytes: int64(30e6 * k), ServerCPUSeconds: 4 * k,
		Server: SimStats{
			Counters: Counters{Calls: int64(40 * k), Examined: int64(100000 * k), Read: int64(20000 * k), ResponseBytes: int64(12e6 * k), ServingSeconds: 8 * k},
			ByCall: []CallStats{
				{Model: "account.move", Method: "search_read", Counters: Counters{Calls: int64(30 * k), Examined: int64(90000 * k), Read: int64(15000 * k), ResponseBytes: int64(10e6 * k), ServingSeconds: 7 * k}},
				{Model: "res.partner", Method: "search_read", Counters: Counters{Calls: int64(10 * k), Examined: int64(10000 * k), Read: int64(5000 * k), ResponseBytes: int64(2e6 * k), ServingSeconds: 1 * k}},
			},
		},
	}
	if baseline {
		r.RunnerRSSBytes, r.ProcessesSummed = 12e6, 3
	} else {
		// etlhost calls fields_get, which the baseline never does.
		r.Server.ByCall = append(r.Server.ByCall, CallStats{Model: "account.move", Method: "fields_get",
			Counters: Counters{Calls: 1, ResponseBytes: 4000, ServingSeconds: 0.05}})
	}
	return r
}

func sampleResult(sideBySide bool) *Result {
	r := &Result{
		Machine: Machine{CPUs: 2, LoadStart: "0.50", LoadEnd: "1.75", Kernel: "6.1.0", PostgreSQL: "15.8", Python: "Python 3.11.2, psycopg2 2.9.5"},
		Settings: Settings{Moves: 20000, Seed: 1, Latency: "50ms", Workers: 1, CostCall: "2ms", CostExamine: "5µs", CostRead: "100µs",
			Rounds: 3, Etlhost: "/repo/bin/etlhost", Scripts: []string{"/repo/scripts/a.lua", "/repo/scripts/b.lua"}},
		SideBySide: sideBySide,
	}
	for n, k := range []float64{1, 1.2, 0.9} {
		rd := Round{N: n + 1, Etlhost: sampleRun(k/4, false), Order: []string{SideEtlhost}}
		if sideBySide {
			rd.Order = []string{SideBaseline, SideEtlhost}
			if rd.N%2 == 0 {
				rd.Order = []string{SideEtlhost, SideBaseline}
			}
			rd.Baseline = sampleRun(k, true)
			rd.Etlhost.Verify = &Verify{OK: rd.N != 2, Output: "achat_importation: expected 3 rows, found 2: MISMATCH\n  missing odoo_move_id=7\nverify: 1 problem(s)\n"}
			crash := &Verify{Crashed: true, Output: "Traceback (most recent call last):\nKeyError: None\n(python3: exit status 1)"}
			// The same crash, printed once for all three.
			switch rd.N {
			case 1:
				rd.Baseline.Verify, rd.Etlhost.Verify = crash, crash
			case 3:
				rd.Etlhost.Verify = crash
			}
		}
		r.Rounds = append(r.Rounds, rd)
	}
	if sideBySide {
		r.Settings.Baseline, r.Settings.Python = "/shared/baseline", "/usr/bin/python3"
		r.VerifyNote = "checked after each etlhost run"
	} else {
		r.BaselineOmitted = "no baseline folder ../shared/baseline here"
		r.VerifyNote = "not run"
	}
	r.Summary = summarize(r.Rounds, sideBySide)
	return r
}

func TestSummarize(t *testing.T) {
	r := sampleResult(true)
	wall := r.Summary[0]
	if wall.Name != "wall s" || wall.Baseline == nil {
		t.Fatalf("first row %+v, want wall s with a baseline", wall)
	}
	if wall.Baseline.Median != 10 || wall.Baseline.Min != 9 || wall.Baseline.Max != 12 {
		t.Errorf("baseline wall %+v, want median 10 in 9-12", *wall.Baseline)
	}
	if wall.Etlhost.Median != 2.5 || wall.Ratio == nil || *wall.Ratio != 0.25 {
		t.Errorf("etlhost wall %+v, ratio %v: want median 2.5, ratio 0.25", wall.Etlhost, wall.Ratio)
	}
	if len(r.Summary) != len(metrics) {
		t.Errorf("%d rows, want one per metric (%d)", len(r.Summary), len(metrics))
	}
	alone := sampleResult(false)
	for _, row := range alone.Summary {
		if row.Baseline != nil || row.Ratio != nil {
			t.Errorf("etlhost alone: row %s has baseline figures", row.Name)
		}
	}
}

func TestWriteTextSideBySide(t *testing.T) {
	var b bytes.Buffer
	sampleResult(true).WriteText(&b)
	if n := strings.Count(b.String(), "KeyError"); n != 1 {
		t.Errorf("the same crash of verify.py is printed %d times, want once", n)
	}
	golden(t, "report_side_by_side.txt", b.Bytes())
}

func TestWriteTextEtlhostAlone(t *testing.T) {
	var b bytes.Buffer
	sampleResult(false).WriteText(&b)
	out := b.String()
	if !strings.Contains(out, "LEFT OUT (no baseline folder") {
		t.Errorf("the output does not say the baseline was left out and why:\n%s", out)
	}
	golden(t, "report_alone.txt", b.Bytes())
}

func TestResultJSON(t *testing.T) {
	b, err := json.Marshal(sampleResult(true))
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		SideBySide bool `json:"side_by_side"`
		Rounds     []struct {
			Baseline struct {
				Server struct {
					Calls  int64 `json:"calls"`
					ByCall []struct {
						Model string `json:"model"`
					} `json:"by_call"`
				} `json:"server"`
			} `json:"baseline"`
		} `json:"rounds"`
		Summary []struct {
			Name  string   `json:"name"`
			Ratio *float64 `json:"ratio"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.SideBySide || len(back.Rounds) != 3 || back.Rounds[0].Baseline.Server.Calls != 40 ||
		back.Rounds[0].Baseline.Server.ByCall[0].Model != "account.move" {
		t.Errorf("JSON lost figures: %s", b)
	}
	if back.Summary[0].Name != "wall s" || back.Summary[0].Ratio == nil || *back.Summary[0].Ratio != 0.25 {
		t.Errorf("JSON summary: %+v", back.Summary[0])
	}
}

func TestVerdictLines(t *testing.T) {
	out := "achat_importation: expected 3 rows, found 3: OK\nsome noise\nventes_locales: expected 0 rows, found 0: OK\nverify: OK\n"
	want := "achat_importation: expected 3 rows, found 3: OK\nventes_locales: expected 0 rows, found 0: OK\nverify: OK"
	if got := verdictLines([]byte(out)); got != want {
		t.Errorf("verdictLines = %q, want %q", got, want)
	}
}
