package host

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestStatusesAndResults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	paths := writeScripts(t, dir, map[string]string{
		"good.lua":     "local log = require('log')\nlog.info('loaded', {rows = 2})\nprint('a', 1)\nreturn {rows = 2, names = {'x', 'y'}}",
		"nothing.lua":  "local x = 1",
		"bad.lua":      "local t = nil\n\nlocal function f()\n  return t.field\nend\nf()",
		"raise.lua":    "error('custom failure')",
		"errtab.lua":   "error({code = 7})",
		"slow.lua":     "--! timeout = 300ms\nwhile true do end",
		"returnfn.lua": "return {f = print}",
	})
	r := &Runner{Modules: stdModules(), Timeout: 20 * time.Second}
	rep, by := runScripts(t, context.Background(), r, paths)
	if rep.Status != StatusFailed {
		t.Errorf("run status %s, want failed", rep.Status)
	}
	want := map[string]Status{"good": StatusOK, "nothing": StatusOK, "bad": StatusFailed, "raise": StatusFailed,
		"errtab": StatusFailed, "slow": StatusTimeout, "returnfn": StatusFailed}
	for name, st := range want {
		if by[name] == nil || by[name].Status != st {
			t.Errorf("%s: status %v, want %s (error %q)", name, by[name], st, by[name].Error)
		}
	}
	good := by["good"]
	if good.Value.(map[string]any)["rows"] != int64(2) {
		t.Errorf("good returned %#v", good.Value)
	}
	if len(good.Logs) != 2 || good.Logs[0].Msg != "loaded" || good.Logs[1].Msg != "a\t1" {
		t.Errorf("good logs %+v", good.Logs)
	}
	if by["nothing"].Value != nil {
		t.Errorf("a script returning nothing has result %#v", by["nothing"].Value)
	}
	for name, wantSub := range map[string][]string{
		"bad":      {"bad.lua:4:", "attempt to index", "stack traceback:", "bad.lua:6: in main chunk"},
		"raise":    {"raise.lua:1: custom failure"},
		"errtab":   {"errtab.lua:1:", "code:7"},
		"slow":     {"timeout: the script ran longer than its 300ms limit", "slow.lua:2"},
		"returnfn": {"return value cannot be reported", "f: a function cannot be converted"},
	} {
		for _, w := range wantSub {
			if !strings.Contains(by[name].Error, w) {
				t.Errorf("%s: error %q does not contain %q", name, by[name].Error, w)
			}
		}
	}
	if d := by["slow"].Duration; d < 300*time.Millisecond {
		t.Errorf("slow ran %v, less than its timeout", d)
	}
}

func TestJobsBoundsConcurrency(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ jobs, scripts, want int }{{1, 4, 1}, {2, 5, 2}, {0, 4, 4}} {
		p := newProbe()
		files := map[string]string{}
		for i := 0; i < tc.scripts; i++ {
			files[string(rune('a'+i))+".lua"] = "require('probe').hold(0.15)"
		}
		paths := writeScripts(t, t.TempDir(), files)
		r := &Runner{Modules: stdModules(p), Jobs: tc.jobs}
		rep, _ := runScripts(t, context.Background(), r, paths)
		if rep.Status != StatusOK {
			t.Fatalf("jobs=%d: run %s", tc.jobs, rep.Status)
		}
		if got := int(p.peak.Load()); got != tc.want {
			t.Errorf("jobs=%d with %d scripts: peak concurrency %d, want %d", tc.jobs, tc.scripts, got, tc.want)
		}
	}
}

func TestCancelStopsEveryScript(t *testing.T) {
	t.Parallel()
	paths := writeScripts(t, t.TempDir(), map[string]string{
		"sleeper.lua": "require('task').sleep(60)",
		"spinner.lua": "while true do end",
		"waiting.lua": "require('task').sleep(60)",
		"fast.lua":    "return 1",
	})
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(300*time.Millisecond, func() { cancel(ErrInterrupted) })
	r := &Runner{Modules: stdModules(), Jobs: 3}
	rep, by := runScripts(t, ctx, r, paths)
	if rep.Status != StatusCancelled {
		t.Fatalf("run status %s, want cancelled", rep.Status)
	}
	for _, n := range []string{"sleeper", "spinner", "waiting"} {
		if by[n].Status != StatusCancelled || !strings.Contains(by[n].Error, "interrupted") {
			t.Errorf("%s: %s %q, want cancelled by the interrupt", n, by[n].Status, by[n].Error)
		}
	}
	if len(rep.Scripts) != 4 {
		t.Errorf("%d results, want 4 (scripts that never started are reported too)", len(rep.Scripts))
	}
}

func TestStuckScriptIsAbandoned(t *testing.T) {
	t.Parallel()
	p := newProbe()
	defer p.unstick()
	paths := writeScripts(t, t.TempDir(), map[string]string{
		"stuck.lua": "--! timeout = 200ms\nrequire('probe').stuck()",
		"after.lua": "return 'ran'",
	})
	r := &Runner{Modules: stdModules(p), Jobs: 1, Grace: 100 * time.Millisecond}
	rep, by := runScripts(t, context.Background(), r, paths)
	if by["stuck"].Status != StatusTimeout || !strings.Contains(by["stuck"].Error, "abandoned") {
		t.Errorf("stuck: %s %q", by["stuck"].Status, by["stuck"].Error)
	}
	if by["after"].Status != StatusOK {
		t.Errorf("the script after the stuck one: %s %q (its slot was not freed?)", by["after"].Status, by["after"].Error)
	}
	if rep.Status != StatusFailed {
		t.Errorf("run %s", rep.Status)
	}
}

func TestMemoryLimitStopsOnlyTheHog(t *testing.T) {
	t.Parallel()
	paths := writeScripts(t, t.TempDir(), map[string]string{
		"hog.lua":   "local t = {}\nfor i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end",
		"calm1.lua": "require('task').sleep(0.5) return 'calm'",
		"calm2.lua": "local s = 0 for i = 1, 1e5 do s = s + i end require('task').sleep(0.3) return s",
	})
	r := &Runner{Modules: stdModules(), MaxMemory: 32 << 20, Timeout: 5 * time.Minute}
	_, by := runScripts(t, context.Background(), r, paths)
	if by["hog"].Status != StatusFailed || !strings.Contains(by["hog"].Error, "memory limit") {
		t.Errorf("hog: %s %q, want failed with a memory limit error", by["hog"].Status, by["hog"].Error)
	}
	for _, n := range []string{"calm1", "calm2"} {
		if by[n].Status != StatusOK {
			t.Errorf("%s: %s %q", n, by[n].Status, by[n].Error)
		}
	}
}

func TestLibraryRequire(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	paths := writeScripts(t, dir, map[string]string{
		"lib/dates.lua":     "local M = {} function M.iso(y, m, d) return string.format('%04d-%02d-%02d', y, m, d) end return M",
		"lib/fmt/money.lua": "return {show = function(x) return string.format('%.2f', x) end}",
		"lib/broken.lua":    "return {",
		"lib/cycle_a.lua":   "return require('cycle_b')",
		"lib/cycle_b.lua":   "return require('cycle_a')",
		"uses.lua":          "local d = require('dates') local m = require('fmt.money')\nassert(require('dates') == d)\nreturn {d.iso(2024, 1, 31), m.show(3)}",
		"broken.lua":        "require('broken')",
		"missing.lua":       "require('nope')",
		"escape.lua":        "require('../secret')",
		"cycle.lua":         "require('cycle_a')",
		"symlink.lua":       "require('leak')",
	})
	if err := os.Symlink("/etc/hostname", dir+"/lib/leak.lua"); err != nil {
		t.Fatal(err)
	}
	r := &Runner{Modules: stdModules(), LibDir: dir + "/lib"}
	_, by := runScripts(t, context.Background(), r, paths)
	if by["uses"].Status != StatusOK {
		t.Fatalf("uses: %s", by["uses"].Error)
	}
	got, _ := json.Marshal(by["uses"].Value)
	if string(got) != `["2024-01-31","3.00"]` {
		t.Errorf("uses returned %s", got)
	}
	for name, want := range map[string]string{
		"broken":  "lib/broken.lua:1:",
		"missing": "not found in the script library",
		"escape":  "bad module name",
		"cycle":   "require cycle",
		"symlink": "cannot read lib/leak.lua",
	} {
		if by[name].Status != StatusFailed || !strings.Contains(by[name].Error, want) {
			t.Errorf("%s: %s %q, want failed with %q", name, by[name].Status, by[name].Error, want)
		}
		if strings.Contains(by[name].Error, dir+"/lib") {
			t.Errorf("%s: error shows the host path: %q", name, by[name].Error)
		}
	}
}

func TestDuplicateNamesAreRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	paths := writeScripts(t, dir, map[string]string{"a/job.lua": "", "b/job.lua": ""})
	_ = paths
	r := &Runner{}
	_, err := r.Load([]string{dir + "/a/job.lua", dir + "/b/job.lua"})
	if err == nil || !strings.Contains(err.Error(), `two scripts are named "job"`) {
		t.Fatalf("error %v", err)
	}
}

func TestReportJSON(t *testing.T) {
	t.Parallel()
	paths := writeScripts(t, t.TempDir(), map[string]string{"one.lua": "return {rows = 1}"})
	r := &Runner{Modules: stdModules()}
	rep, _ := runScripts(t, context.Background(), r, paths)
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Status     string `json:"status"`
		DurationMS *int64 `json:"duration_ms"`
		Scripts    []struct {
			Name, Path, Status string
			StartedAt          time.Time      `json:"started_at"`
			DurationMS         *int64         `json:"duration_ms"`
			Result             map[string]any `json:"result"`
		} `json:"scripts"`
	}
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Status != "ok" || back.DurationMS == nil || len(back.Scripts) != 1 {
		t.Fatalf("report %s", data)
	}
	s := back.Scripts[0]
	if s.Name != "one" || s.Status != "ok" || s.DurationMS == nil || s.StartedAt.IsZero() || s.Result["rows"] != float64(1) {
		t.Fatalf("script entry %s", data)
	}
}

func TestNoGoroutinesLeftAfterARun(t *testing.T) {
	before := runtime.NumGoroutine()
	paths := writeScripts(t, t.TempDir(), map[string]string{
		"a.lua": "require('task').sleep(0.01) return 1", "b.lua": "error('x')", "c.lua": "--! timeout = 50ms\nwhile true do end",
	})
	r := &Runner{Modules: stdModules(), MaxMemory: 1 << 30}
	runScripts(t, context.Background(), r, paths)
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before the run, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestTimeoutDecidedByContextNotByReturn(t *testing.T) {
	t.Parallel()
	// The coroutine swallows the deadline error; the script would return
	// normally if the runner trusted the returned error.
	paths := writeScripts(t, t.TempDir(), map[string]string{
		"swallow.lua": "--! timeout = 200ms\nlocal co = coroutine.create(function() while true do end end)\nlocal ok = coroutine.resume(co)\nreturn 'finished'",
	})
	_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules()}, paths)
	if by["swallow"].Status != StatusTimeout {
		t.Fatalf("status %s, want timeout", by["swallow"].Status)
	}
}

func TestTimeoutErrorType(t *testing.T) {
	t.Parallel()
	var te *TimeoutError
	err := error(&TimeoutError{Timeout: time.Second})
	if !errors.As(err, &te) || te.Error() != "timeout: the script ran longer than its 1s limit" {
		t.Fatal(err)
	}
}

func TestLightThreadsInTheRunner(t *testing.T) {
	t.Parallel()
	paths := writeScripts(t, t.TempDir(), map[string]string{
		"overlap.lua":   "local task = require('task')\nlocal hs = {}\nfor i = 1, 10 do hs[i] = task.spawn(function() task.sleep(0.2) return i end) end\nlocal r = task.wait_all(hs)\nreturn #r",
		"orphan.lua":    "local task = require('task')\ntask.spawn(function() error('lost thread') end)\nreturn 'main done'",
		"mainfail.lua":  "local task = require('task')\ntask.spawn(function() task.sleep(3600) end)\nerror('main broke')",
		"late.lua":      "--! timeout = 300ms\nlocal task = require('task')\ntask.spawn(function() while true do end end)\nreturn 'returned early'",
		"hogthread.lua": "local task = require('task')\nlocal h = task.spawn(function() local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end end)\ntask.wait(h)",
	})
	r := &Runner{Modules: stdModules(), MaxMemory: 32 << 20, Timeout: 5 * time.Minute}
	_, by := runScripts(t, context.Background(), r, paths)
	if res := by["overlap"]; res.Status != StatusOK || res.Value != int64(10) {
		t.Errorf("overlap: %s %v %q", res.Status, res.Value, res.Error)
	} else if res.Duration > 1500*time.Millisecond {
		// ten 200ms sleeps one after another would take 2s
		t.Logf("overlap took %v", res.Duration)
	}
	if res := by["orphan"]; res.Status != StatusFailed || !strings.Contains(res.Error, "orphan.lua:2") || !strings.Contains(res.Error, "lost thread") {
		t.Errorf("orphan: %s %q", res.Status, res.Error)
	}
	if res := by["mainfail"]; res.Status != StatusFailed || !strings.Contains(res.Error, "main broke") {
		t.Errorf("mainfail: %s %q", res.Status, res.Error)
	}
	if res := by["late"]; res.Status != StatusTimeout {
		t.Errorf("late: %s %q (the script waits for its threads, which hit the deadline)", res.Status, res.Error)
	}
	if res := by["hogthread"]; res.Status != StatusFailed || !strings.Contains(res.Error, "memory limit") {
		t.Errorf("hogthread: %s %q", res.Status, res.Error)
	}
}

func TestRowCountsReachTheResult(t *testing.T) {
	t.Parallel()
	paths := writeScripts(t, t.TempDir(), map[string]string{
		"counted.lua": "local p = require('probe')\np.rows(100, 0)\np.rows(50, 0)\np.rows(0, 120)",
		"none.lua":    "return 1",
	})
	_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules(newProbe())}, paths)
	if r := by["counted"]; r.RowsFetched != 150 || r.RowsLoaded != 120 {
		t.Fatalf("fetched %d loaded %d, want 150 and 120", r.RowsFetched, r.RowsLoaded)
	}
	data, _ := json.Marshal(by["counted"])
	if !strings.Contains(string(data), `"rows_fetched":150`) || !strings.Contains(string(data), `"rows_loaded":120`) {
		t.Fatalf("report entry %s", data)
	}
	if data, _ := json.Marshal(by["none"]); strings.Contains(string(data), "rows_fetched") {
		t.Fatalf("a script without rows reports them: %s", data)
	}
}

// TestStuckLightThreadAfterMainFails: the main chunk fails while a light
// thread is stuck in a call that ignores its context; the script is
// reported failed, not ok, and the runner moves on.
func TestStuckLightThreadAfterMainFails(t *testing.T) {
	t.Parallel()
	p := newProbe()
	defer p.unstick()
	paths := writeScripts(t, t.TempDir(), map[string]string{
		"stuckthread.lua": "local task = require('task')\ntask.spawn(function() require('probe').stuck_waiting() end)\ntask.sleep(0.05)\nerror('main gave up')",
	})
	_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules(p), Grace: 200 * time.Millisecond}, paths)
	res := by["stuckthread"]
	if res.Status != StatusFailed || !strings.Contains(res.Error, "a light thread did not stop") {
		t.Fatalf("%s %q", res.Status, res.Error)
	}
}
