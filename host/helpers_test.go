package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/etl"
	"github.com/etlhost/etlhost/luabind/json"
	"github.com/etlhost/etlhost/luabind/log"
	"github.com/etlhost/etlhost/luabind/task"
)

// writeScripts writes name -> source files into a temp dir and returns the
// paths in the order given by names.
func writeScripts(t testing.TB, dir string, files map[string]string) []string {
	t.Helper()
	var paths []string
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".lua") && !strings.Contains(name, "/") {
			paths = append(paths, p)
		}
	}
	return paths
}

// probe is a test module that records how many scripts are inside
// probe.hold() at once, and offers a Go function that ignores the context
// (probe.stuck), as a buggy binding would.
type probe struct {
	active, peak atomic.Int32
	release      chan struct{}
	once         sync.Once
}

func newProbe() *probe { return &probe{release: make(chan struct{})} }

func (p *probe) Name() string { return "probe" }

func (p *probe) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	t := L.NewTable()
	t.RawSetString("hold", L.NewFunction(func(L *lua.LState) int {
		d := time.Duration(float64(L.CheckNumber(1)) * float64(time.Second))
		n := p.active.Add(1)
		for {
			old := p.peak.Load()
			if n <= old || p.peak.CompareAndSwap(old, n) {
				break
			}
		}
		defer p.active.Add(-1)
		err := env.Block(func(ctx context.Context) error {
			select {
			case <-time.After(d):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil {
			L.RaiseError("%v", err)
		}
		return 0
	}))
	t.RawSetString("rows", L.NewFunction(func(L *lua.LState) int {
		env.CountRows(int64(L.CheckInt(1)), int64(L.CheckInt(2)))
		return 0
	}))
	t.RawSetString("stuck_waiting", L.NewFunction(func(L *lua.LState) int {
		// a blocking call that ignores its context, as a buggy client would
		_ = env.Block(func(context.Context) error { <-p.release; return nil })
		return 0
	}))
	t.RawSetString("stuck", L.NewFunction(func(L *lua.LState) int {
		<-p.release // ignores the context on purpose
		return 0
	}))
	return t
}

func (p *probe) unstick() { p.once.Do(func() { close(p.release) }) }

func stdModules(extra ...luabind.Module) []luabind.Module {
	return append([]luabind.Module{log.Module{}, json.Module{}, etl.Module{}, task.Module{}}, extra...)
}

// runScripts loads and runs the scripts with r and returns results by name.
func runScripts(t testing.TB, ctx context.Context, r *Runner, paths []string) (*Report, map[string]*Result) {
	t.Helper()
	scripts, err := r.Load(paths)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	rep, err := r.Run(ctx, scripts)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	by := map[string]*Result{}
	for _, res := range rep.Scripts {
		by[res.Name] = res
	}
	return rep, by
}
