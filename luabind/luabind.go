// Package luabind holds what every Lua module of etlhost shares: the Module
// contract the host loads modules through, and Env, the per-script view of
// the run that a module's functions use (context, logging, arguments, grants).
//
// A module has two parts, as in k6: a value shared by the whole run (pools,
// clients, caches), built once by the caller of the host, and the table built
// for each Lua state by Open. Open runs on the state's own goroutine.
package luabind

import (
	"context"
	"errors"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/event"
)

// Module is one Lua module that scripts `require`.
type Module interface {
	// Name is the name scripts pass to require ("pg", "odoo", ...).
	Name() string
	// Open builds the module's table for one Lua state. env stays valid
	// until the script ends; functions of the table may keep it.
	Open(L *lua.LState, env *Env) lua.LValue
}

// HeaderKeys is implemented by modules that read keys of the script header
// (for example `--! odoo-writes = res.partner`). The host refuses header keys
// that no module and not the host itself declares.
type HeaderKeys interface {
	HeaderKeys() []string
}

// Level of a log line.
type Level = event.Level

// Log levels, lowest first.
const (
	LevelDebug = event.LevelDebug
	LevelInfo  = event.LevelInfo
	LevelWarn  = event.LevelWarn
	LevelError = event.LevelError
)

// Sink receives what a script's modules report, as it happens (see package
// event). The host implements it; it must be safe for concurrent use.
type Sink interface {
	Emit(ev event.Event)
}

// Env is what the host hands the modules for one run of one script.
type Env struct {
	// Ctx is the script's context: its deadline, Ctrl+C and the memory
	// watchdog cancel it. Every blocking call a binding makes takes it.
	Ctx context.Context
	// Script is the script's name (file name without .lua); Path the path it
	// was loaded from, as shown in messages.
	Script, Path string
	// Args are the --arg key=value pairs of the run.
	Args map[string]string
	// Header holds the script header's keys (`--! key = value`).
	Header map[string]string
	// Deadline is when the script's time runs out (zero: none).
	Deadline time.Time
	// Events receives what the modules report (nil: nobody listens).
	Events Sink
	// DryRun asks modules that change data to plan instead (ad-hoc fixes):
	// Odoo writes are not sent, PostgreSQL work is rolled back at the end.
	DryRun bool
	// Atomic asks for all of the script's PostgreSQL work to happen in one
	// transaction, committed only when the script ends without error
	// (`etlhost exec --commit`).
	Atomic bool

	// Stop, set by the host, ends the script's context with a cause (nil:
	// not available). The task module uses it to stop light threads still
	// waiting when the script ends; the cause is then ErrScriptEnded.
	Stop func(cause error)
	// NewThreadContext, set by the host, gives a light thread's state the
	// context it runs with (the host hooks its memory watchdog there). Nil:
	// the thread inherits its parent's context.
	NewThreadContext func(th *lua.LState) context.Context

	mu       sync.Mutex
	closers  []func()
	finishes []func() error
	settles  []func(ok bool) error
	faults   []raised // the error values bindings raised, latest last
	// baton is held by whichever goroutine runs the script's Lua code once
	// the script has light threads (see EnableThreads).
	baton *sync.Mutex
}

// Emit reports ev to the host. Only binding code emits events: a script can
// only log (Log).
func (e *Env) Emit(ev event.Event) {
	if e.Events != nil {
		e.Events.Emit(ev)
	}
}

// Log reports a log line.
func (e *Env) Log(level Level, msg string, fields map[string]any) {
	e.Emit(event.Log{Level: level, Msg: msg, Fields: fields})
}

// CountRows reports rows the script fetched (from Odoo, from a query) or
// loaded (COPY, replace) since the last call; the host keeps running totals.
func (e *Env) CountRows(fetched, loaded int64) {
	if fetched != 0 || loaded != 0 {
		e.Emit(event.Rows{Fetched: fetched, Loaded: loaded})
	}
}

// EnableThreads switches the script to light threads: from now on Lua code
// of the script runs on several goroutines, one at a time, each holding the
// script's baton, and Block hands the baton over while it waits. The
// calling goroutine holds the baton on return. The task module calls it
// before it starts the first light thread; calling it again does nothing.
func (e *Env) EnableThreads() *sync.Mutex {
	if e.baton == nil {
		e.baton = &sync.Mutex{}
		e.baton.Lock()
	}
	return e.baton
}

// OnFinish registers f to run when the script's main chunk has returned
// without error, on the script's goroutine, before its result is taken. An
// error from f fails the script. The task module waits for light threads
// here.
func (e *Env) OnFinish(f func() error) {
	e.mu.Lock()
	e.finishes = append(e.finishes, f)
	e.mu.Unlock()
}

// Finish runs the OnFinish functions in order, then settles the script's
// work (see OnSettle): as a success when they all succeeded, as a failure
// otherwise. It returns the first error. The host calls it once.
func (e *Env) Finish() error {
	e.mu.Lock()
	fs := e.finishes
	e.finishes = nil
	e.mu.Unlock()
	for _, f := range fs {
		if err := f(); err != nil {
			_ = e.Settle(false)
			return err
		}
	}
	return e.Settle(true)
}

// OnSettle registers f to run once the outcome of the script's work is
// known: f(true) after the script ended without error and every OnFinish
// function succeeded (so its light threads have finished), f(false) when
// it failed or was stopped. The pg module commits or rolls back the
// transaction of an Atomic run here: it must come after the task module
// has waited for the light threads that may still use it, whatever the
// order the modules were opened in.
//
// f runs once. A long-lived session (`etlhost repl`) settles after each
// input; modules register again when they start new work.
func (e *Env) OnSettle(f func(ok bool) error) {
	e.mu.Lock()
	e.settles = append(e.settles, f)
	e.mu.Unlock()
}

// Settle runs the functions registered with OnSettle, in order, and forgets
// them. With ok, once one fails the others are settled as failures (a
// commit that failed makes the script failed). It returns the first error.
// Finish and Close call it; a session calls it after each input.
func (e *Env) Settle(ok bool) error {
	e.mu.Lock()
	fs := e.settles
	e.settles = nil
	e.mu.Unlock()
	var first error
	for _, f := range fs {
		if err := f(ok); err != nil && first == nil {
			first = err
			ok = false
		}
	}
	return first
}

// OnClose registers f to run when the script ends, whatever its outcome, in
// the reverse order of registration. Modules release connections here.
func (e *Env) OnClose(f func()) {
	e.mu.Lock()
	e.closers = append(e.closers, f)
	e.mu.Unlock()
}

// Close settles what is still unsettled as a failure, then runs the
// functions registered with OnClose. The host calls it once.
func (e *Env) Close() {
	_ = e.Settle(false)
	e.mu.Lock()
	fs := e.closers
	e.closers = nil
	e.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// Block runs fn, a call that waits on the outside world (network, database,
// timer), with the script's context, and says why it stopped when the
// context ended. Bindings route every blocking call through Block.
//
// Once the script has light threads, Block lets the script's other threads
// run while fn waits: fn must not touch the Lua state (no Lua values read or
// made).
func (e *Env) Block(fn func(ctx context.Context) error) error {
	if b := e.baton; b != nil {
		b.Unlock()
		defer b.Lock()
	}
	return e.block(fn)
}

// WaitFor waits until done is closed (another script's load, a light
// thread's end), letting the script's other light threads run meanwhile,
// and stops at the end of the script's context.
func (e *Env) WaitFor(done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	default:
	}
	return e.Block(func(ctx context.Context) error {
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

func (e *Env) block(fn func(ctx context.Context) error) error {
	if err := e.Ctx.Err(); err != nil {
		return context.Cause(e.Ctx)
	}
	err := fn(e.Ctx)
	if err != nil && e.Ctx.Err() != nil {
		// Say why the call stopped (deadline, interrupt, memory limit)
		// rather than the client's own wording of "context canceled".
		return &StoppedError{Cause: context.Cause(e.Ctx), Err: err}
	}
	return err
}

// StoppedError is a blocking call cut short because the script's context
// ended.
type StoppedError struct {
	Cause error // why the script was stopped
	Err   error // what the call returned
}

func (e *StoppedError) Error() string {
	return "stopped: " + e.Cause.Error()
}

func (e *StoppedError) Unwrap() []error { return []error{e.Cause, e.Err} }

// ErrScriptEnded is the cause of a context stopped because its script's
// main chunk ended (with an error) while light threads were still waiting.
var ErrScriptEnded = errors.New("the script ended")

// Raise raises a Lua error whose message starts with the position of the
// calling Lua code ("scripts/x.lua:12: "), as L.RaiseError does, but without
// treating the message as a format string.
func Raise(L *lua.LState, msg string) {
	L.RaiseError("%s", msg)
}

// CheckOptTable returns argument n as a table, or nil when it is absent or nil.
func CheckOptTable(L *lua.LState, n int) *lua.LTable {
	v := L.Get(n)
	if v == lua.LNil {
		return nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		L.TypeError(n, lua.LTTable)
	}
	return t
}
