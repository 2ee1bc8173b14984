package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeBaseline makes a folder with the files the bench looks for.
func fakeBaseline(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("# fake\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeScripts makes a folder with two .lua files and returns its glob.
func fakeScripts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"b.lua", "a.lua"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("return {}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "dir.lua"), 0o755); err != nil { // a folder is no script
		t.Fatal(err)
	}
	return filepath.Join(dir, "*.lua")
}

func TestValidate(t *testing.T) {
	scripts := fakeScripts(t)
	good := func() Options {
		o := NewOptions()
		o.Exe = "/bin/true"
		o.Scripts = scripts
		return o
	}
	full := fakeBaseline(t, baselineFiles...)
	noVerify := fakeBaseline(t, "run_all_etls.py", "schema.sql")
	for _, tc := range []struct {
		name   string
		change func(*Options)
		want   string // "" valid, else a part of the error
	}{
		{"defaults", func(*Options) {}, ""},
		{"baseline", func(o *Options) { o.Baseline = full }, ""},
		{"zero durations", func(o *Options) { o.Latency, o.CostCall, o.CostExamine, o.CostRead = 0, 0, 0, 0 }, ""},
		{"no binary", func(o *Options) { o.Exe = "" }, "etlhost binary"},
		{"no moves", func(o *Options) { o.Moves = 0 }, "--moves must be positive"},
		{"negative moves", func(o *Options) { o.Moves = -5 }, "--moves must be positive (got -5)"},
		{"no workers", func(o *Options) { o.Workers = 0 }, "--workers must be at least 1"},
		{"no rounds", func(o *Options) { o.Rounds = 0 }, "--rounds must be at least 1"},
		{"negative latency", func(o *Options) { o.Latency = -time.Millisecond }, "--latency cannot be negative"},
		{"negative cost-call", func(o *Options) { o.CostCall = -1 }, "--cost-call cannot be negative"},
		{"negative cost-examine", func(o *Options) { o.CostExamine = -1 }, "--cost-examine cannot be negative"},
		{"negative cost-read", func(o *Options) { o.CostRead = -1 }, "--cost-read cannot be negative"},
		{"baseline missing", func(o *Options) { o.Baseline = filepath.Join(full, "nope") }, "not a folder"},
		{"baseline without verify.py", func(o *Options) { o.Baseline = noVerify }, "no verify.py in it"},
		{"no script", func(o *Options) { o.Scripts = filepath.Join(t.TempDir(), "*.lua") }, "no script matches"},
		{"bad glob", func(o *Options) { o.Scripts = "[" }, "syntax error in pattern"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := good()
			tc.change(&o)
			err := o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestScriptPathsAreAbsoluteAndSorted(t *testing.T) {
	o := NewOptions()
	o.Scripts = fakeScripts(t)
	paths, err := o.scriptPaths()
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || filepath.Base(paths[0]) != "a.lua" || filepath.Base(paths[1]) != "b.lua" {
		t.Fatalf("paths %v, want a.lua then b.lua (the folder dir.lua left out)", paths)
	}
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			t.Errorf("%s is not absolute", p)
		}
	}
}

func TestDefaultBaselineDir(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "main")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(repo)
	dir, why := DefaultBaselineDir()
	if dir != "" || !strings.Contains(why, DefaultBaseline) {
		t.Errorf("without ../shared/baseline: %q, %q; want no folder and a reason naming it", dir, why)
	}
	want := filepath.Join(root, "shared", "baseline")
	if err := os.MkdirAll(want, 0o755); err != nil {
		t.Fatal(err)
	}
	if dir, why = DefaultBaselineDir(); dir != want || why != "" {
		t.Errorf("with ../shared/baseline: %q, %q; want %q", dir, why, want)
	}
}

func TestSimArgs(t *testing.T) {
	o := NewOptions()
	got := strings.Join(simArgs("127.0.0.1:9", &o, true), " ")
	want := "odoo-sim --addr 127.0.0.1:9 --moves 20000 --seed 1 --latency 50ms --workers 1 --cost-call 2ms --cost-examine 2µs --cost-read 100µs"
	if got != want {
		t.Errorf("measured simulator:\n got %s\nwant %s", got, want)
	}
	got = strings.Join(simArgs("127.0.0.1:9", &o, false), " ")
	want = "odoo-sim --addr 127.0.0.1:9 --moves 20000 --seed 1 --latency 0s --cost-call 0s --cost-examine 0s --cost-read 0s"
	if got != want {
		t.Errorf("verify's simulator:\n got %s\nwant %s", got, want)
	}
}

func TestChildEnvLeavesTheUsersSettingsOut(t *testing.T) {
	t.Setenv("ETLHOST_PG_DSN", "postgres://prod")
	t.Setenv("ETLHOST_NOTIFY_URL", "https://hooks.example.com/x")
	t.Setenv("PGPASSWORD", "secret")
	t.Setenv("ODOO_URL", "https://erp.example.com")
	t.Setenv("XDG_STATE_HOME", "/home/someone/.local/state")
	home := t.TempDir()
	env := childEnv(home, map[string]string{"ETLHOST_ODOO_URL": "http://127.0.0.1:1"})
	joined := "\n" + strings.Join(env, "\n") + "\n"
	for _, bad := range []string{"postgres://prod", "hooks.example.com", "PGPASSWORD=", "erp.example.com", "/home/someone"} {
		if strings.Contains(joined, bad) {
			t.Errorf("the child's environment holds %q", bad)
		}
	}
	for _, want := range []string{"\nHOME=" + home + "\n", "\nETLHOST_ODOO_URL=http://127.0.0.1:1\n", "\nXDG_STATE_HOME=" + home} {
		if !strings.Contains(joined, want) {
			t.Errorf("the child's environment lacks %q", strings.TrimSpace(want))
		}
	}
}

// Without python3, or without psycopg2, the baseline is left out with the
// reason; these need no Python on the machine.
func TestProbePythonSaysWhy(t *testing.T) {
	ctx := context.Background()
	if _, err := probePython(ctx, "/nonexistent/python3"); err == nil || !strings.Contains(err.Error(), "no /nonexistent/python3") {
		t.Errorf("missing interpreter: %v", err)
	}
	if _, err := probePython(ctx, "/bin/false"); err == nil || !strings.Contains(err.Error(), "python3-psycopg2") {
		t.Errorf("interpreter without psycopg2: %v", err)
	}
}
