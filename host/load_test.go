package host

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A script that does not compile, has a bad header or cannot be read fails
// alone: the others run, and the run's status is failed (exit 1), not a
// usage error.
func TestBrokenScriptsFailAlone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	paths := writeScripts(t, dir, map[string]string{
		"good.lua":      "return {rows = 1}",
		"syntax.lua":    "local x = 1\nif x = 2 then end\nreturn {}",
		"header.lua":    "--! timeout = soon\nreturn {}",
		"unknown.lua":   "--! colour = blue\nreturn {}",
		"good_test.lua": "return {}",
	})
	paths = append(paths, filepath.Join(dir, "missing.lua"))
	r := &Runner{Modules: stdModules()}
	rep, by := runScripts(t, context.Background(), r, paths)
	if rep.Status != StatusFailed {
		t.Errorf("run status %s, want failed", rep.Status)
	}
	if by["good"] == nil || by["good"].Status != StatusOK {
		t.Fatalf("good: %+v, want ok", by["good"])
	}
	for name, want := range map[string]string{
		"syntax":  filepath.Join(dir, "syntax.lua") + ":2:",
		"header":  filepath.Join(dir, "header.lua") + `:1: bad timeout "soon"`,
		"unknown": filepath.Join(dir, "unknown.lua") + `:1: unknown header key "colour"`,
		"missing": "cannot read script",
	} {
		res := by[name]
		if res == nil || res.Status != StatusFailed || !strings.Contains(res.Error, want) {
			t.Errorf("%s: %+v, want failed with %q", name, res, want)
		}
	}
	if by["good_test"] != nil {
		t.Errorf("a test file ran as a job: %+v", by["good_test"])
	}
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "good_test.lua is a test file, not a job: not run (run it with `etlhost test") {
		t.Errorf("notes %q, want the test file's", rep.Notes)
	}
}

func TestOnlyTestFilesIsAUsageError(t *testing.T) {
	t.Parallel()
	paths := writeScripts(t, t.TempDir(), map[string]string{"a_test.lua": "return {}"})
	_, err := (&Runner{Modules: stdModules()}).Load(paths)
	if err == nil || !strings.Contains(err.Error(), "every script given is a test file") {
		t.Fatalf("err %v, want the test files refused", err)
	}
}

func TestReturnedNothingGetsANote(t *testing.T) {
	t.Parallel()
	paths := writeScripts(t, t.TempDir(), map[string]string{"nothing.lua": "local x = 1", "some.lua": "return {rows = 0}"})
	_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules()}, paths)
	if by["nothing"].Note != NoteReturnedNothing {
		t.Errorf("nothing: note %q, want %q", by["nothing"].Note, NoteReturnedNothing)
	}
	if by["some"].Note != "" {
		t.Errorf("some: note %q, want none", by["some"].Note)
	}
}

// A limit's message says where the limit came from.
func TestLimitMessagesSayTheirSource(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		header string
		from   Source
		run    time.Duration
		want   string
	}{
		{"header", "--! timeout = 200ms\n", FromConfig, time.Minute, "limit (the script header, %s:1)"},
		{"header beaten by flag", "--! timeout = 1m\n", FromFlag, 200 * time.Millisecond, "limit (--timeout on the command line)"},
		{"env", "", FromEnv, 200 * time.Millisecond, "limit ($ETLHOST_TIMEOUT in the environment)"},
		{"config", "", FromConfig, 200 * time.Millisecond, "limit ([run] timeout in the configuration file)"},
		{"default", "", FromDefault, 200 * time.Millisecond, "limit (the default; to change it: --timeout 30m or a `--! timeout = 30m` header)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			paths := writeScripts(t, t.TempDir(), map[string]string{"slow.lua": tc.header + "while true do end"})
			r := &Runner{Modules: stdModules(), Timeout: tc.run, TimeoutFrom: tc.from}
			_, by := runScripts(t, context.Background(), r, paths)
			want := tc.want
			if strings.Contains(want, "%s") {
				want = strings.Replace(want, "%s", paths[0], 1)
			}
			if res := by["slow"]; res.Status != StatusTimeout || !strings.Contains(res.Error, want) {
				t.Errorf("got %s %q, want timeout with %q", res.Status, res.Error, want)
			}
		})
	}
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		paths := writeScripts(t, t.TempDir(), map[string]string{"hog.lua": "local t = {} for i = 1, 1e8 do t[i] = {i} end"})
		r := &Runner{Modules: stdModules(), MaxMemory: 32 << 20, MaxMemoryFrom: FromEnv}
		_, by := runScripts(t, context.Background(), r, paths)
		want := "(" + "$ETLHOST_MAX_MEMORY in the environment)"
		if res := by["hog"]; res.Status != StatusFailed || !strings.Contains(res.Error, want) {
			t.Errorf("got %s %q, want failed with %q", res.Status, res.Error, want)
		}
	})
}

// exec and the REPL see every module as a global; a job requires them.
func TestModuleGlobals(t *testing.T) {
	t.Parallel()
	code := "return {log = type(log), json = type(json)}"
	for _, globals := range []bool{true, false} {
		paths := writeScripts(t, t.TempDir(), map[string]string{"g.lua": code})
		_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules(), ModuleGlobals: globals}, paths)
		want := "nil"
		if globals {
			want = "table"
		}
		v, _ := by["g"].Value.(map[string]any)
		if v["log"] != want || v["json"] != want {
			t.Errorf("ModuleGlobals %v: %v, want %s", globals, by["g"].Value, want)
		}
	}
	s, err := (&Runner{Modules: stdModules(), ModuleGlobals: true}).NewSession(context.Background(), "repl")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Eval("type(json)"); err != nil || len(v) != 1 || v[0].String() != "table" {
		t.Errorf("session: type(json) = %v, %v", v, err)
	}
}

func TestKnobOrigin(t *testing.T) {
	t.Parallel()
	k := MaxMemoryKnob
	if got, want := k.Origin(FromDefault, ""), "the default; to change it: --max-memory 2GiB"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var te *TimeoutError
	if !errors.As(error(timeoutError(&Script{Path: "x.lua", TimeoutLine: 2}, Given(time.Second, FromHeader))), &te) || te.Origin != "the script header, x.lua:2" {
		t.Errorf("origin %+v", te)
	}
}
