// Package host runs Lua scripts: each in its own sandboxed gopher-lua state,
// on its own goroutine, under its own deadline, and collects their results.
// It knows scripts, states, deadlines and results; what scripts can reach
// beyond the sandbox comes from the luabind modules it is given.
package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luaconv"
)

// Defaults of a Runner.
const (
	DefaultTimeout = 10 * time.Minute
	DefaultGrace   = 3 * time.Second
	// MaxLogLines bounds the log lines kept in a result; later lines still
	// reach the observer.
	MaxLogLines = 10000
)

// ErrInterrupted is the cause of a run stopped by Ctrl+C or SIGTERM.
var ErrInterrupted = errors.New("interrupted")

// TimeoutError is the cause of a script stopped at its deadline.
type TimeoutError struct {
	Timeout time.Duration
	// Origin says where the limit was set, for the message: "the script
	// header, scripts/x.lua:2" (empty: not said).
	Origin string
}

func (e *TimeoutError) Error() string {
	msg := fmt.Sprintf("timeout: the script ran longer than its %v limit", e.Timeout)
	if e.Origin != "" {
		msg += " (" + e.Origin + ")"
	}
	return msg
}

// MemoryError is the cause of a script stopped by the memory watchdog.
type MemoryError struct {
	Limit, Used int64
}

func (e *MemoryError) Error() string {
	return fmt.Sprintf("memory limit: the script used about %s, more than its limit of %s", FormatSize(e.Used), FormatSize(e.Limit))
}

// Observer hears about a run as it happens. Calls come from the scripts'
// goroutines, concurrently: implementations synchronise themselves.
type Observer interface {
	ScriptStarted(s *Script, at time.Time)
	// ScriptEvent hears each event the script's modules emitted, in the
	// order they were emitted.
	ScriptEvent(s *Script, e Event)
	ScriptFinished(r *Result)
}

// Observers is an Observer that passes each call to every one of its
// observers in turn (a run's text view, its JSON report, its history).
type Observers []Observer

func (o Observers) ScriptStarted(s *Script, at time.Time) {
	for _, x := range o {
		x.ScriptStarted(s, at)
	}
}

func (o Observers) ScriptEvent(s *Script, e Event) {
	for _, x := range o {
		x.ScriptEvent(s, e)
	}
}

func (o Observers) ScriptFinished(r *Result) {
	for _, x := range o {
		x.ScriptFinished(r)
	}
}

// Event is one event of a script (see package event), stamped by the host.
type Event struct {
	Time time.Time
	event.Event
	// RowsFetched and RowsLoaded are the script's running totals, this
	// event included.
	RowsFetched, RowsLoaded int64
}

// Line is the event as a log line (see event.Line); ok is false for the
// events that have none (progress, rows).
func (e Event) Line() (LogLine, bool) {
	level, msg, fields, ok := event.Line(e.Event)
	return LogLine{Time: e.Time, Level: level, Msg: msg, Fields: fields}, ok
}

// Runner runs scripts. The zero value needs at least nothing: defaults apply.
type Runner struct {
	// Modules scripts can require, besides the script library.
	Modules []luabind.Module
	// Jobs is how many scripts run at once; 0 means all of them.
	Jobs int
	// Timeout per script (default 10m); see TimeoutFrom for a header's.
	Timeout time.Duration
	// TimeoutFrom is where Timeout came from: a script header's timeout
	// beats a Timeout from the configuration file or the default, and is
	// beaten by one from the command line or the environment (see Pick).
	TimeoutFrom Source
	// MaxMemory per script in bytes (0: no limit). The watchdog stops the
	// script that exceeds it; the others go on.
	MaxMemory int64
	// MaxMemoryFrom is where MaxMemory came from, for the message of a
	// script stopped by it.
	MaxMemoryFrom Source
	// Grace is how long a script may take to unwind after its context ends
	// before the runner abandons it (default 3s). A script stuck inside Go
	// code cannot be killed; it is reported and its slot freed.
	Grace time.Duration
	// Args are the run's --arg pairs.
	Args map[string]string
	// LibDir is the script library folder (scripts/lib); "" for none.
	LibDir string
	// LibFS, when set, is the script library instead of LibDir: the
	// library files a worker's job was enqueued with, whatever its disk
	// holds.
	LibFS fs.FS
	// DryRun asks the modules to plan changes rather than make them.
	DryRun bool
	// Atomic asks the modules to make each script's database work atomic:
	// committed only when the script ends without error, rolled back
	// otherwise (`etlhost exec --commit`). See luabind.Env.Atomic.
	Atomic bool
	// WithDeps adds to a run the jobs its scripts run after (their header's
	// `after`) that were not given, from the folder of the script naming
	// them. Without it such a job is an error of Load.
	WithDeps bool
	// Retries is how many times a job that failed on a transient error
	// runs again (from RetriesFrom; a script header's `retries` weighs
	// against it as `timeout` does). Backoff is the wait before attempt
	// n+1 after attempt n failed (nil: DefaultBackoff).
	Retries     int
	RetriesFrom Source
	Backoff     func(attempt int) time.Duration
	// ModuleGlobals makes every module a global of its name before the
	// script runs, as if it began with `pg = require("pg")` for each: the
	// convention of `etlhost exec` and the REPL, where a one-off fix or a
	// line typed at the prompt need not require what it uses. A job of
	// `etlhost run` requires what it uses, so that it says what it needs.
	ModuleGlobals bool
	// Observer hears about the run (nil: nobody).
	Observer Observer
	// Now is the clock (nil: time.Now); tests inject theirs.
	Now func() time.Time
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// HeaderKeys lists the script header keys the host and its modules accept.
func (r *Runner) HeaderKeys() []string {
	var keys []string
	for _, m := range r.Modules {
		if hk, ok := m.(luabind.HeaderKeys); ok {
			keys = append(keys, hk.HeaderKeys()...)
		}
	}
	return keys
}

// Load compiles scripts for this runner. A script that cannot be read,
// does not compile or has a bad header does not stop the run: it fails
// alone when the run starts, with its file:line message (`etlhost check`
// is the pre-flight that refuses them all). A test file (*_test.lua) is not
// a job: it is left out of the run with a note in the report. The error is
// for a run that cannot be planned: two scripts of one name, or nothing
// but test files.
func (r *Runner) Load(paths []string) ([]*Script, error) {
	keys := r.HeaderKeys()
	var scripts []*Script
	seen := map[string]string{}
	jobs := 0
	for _, p := range paths {
		s, err := LoadScript(p, keys)
		if err != nil {
			s = &Script{Name: ScriptName(p), Path: p, err: err}
		}
		if IsTestFile(p) {
			s.skip = fmt.Sprintf("%s is a test file, not a job: not run (run it with `etlhost test %s`)", p, p)
		} else {
			jobs++
		}
		if other, dup := seen[s.Name]; dup {
			return nil, fmt.Errorf("two scripts are named %q (%s and %s): names must be unique in a run", s.Name, other, p)
		}
		seen[s.Name] = p
		scripts = append(scripts, s)
	}
	if jobs == 0 && len(paths) > 0 {
		return nil, fmt.Errorf("every script given is a test file (*_test.lua): run them with `etlhost test %s`", strings.Join(paths, " "))
	}
	// The graph of `after` holds the jobs: test files are not in it.
	var graph, tests []*Script
	for _, s := range scripts {
		if s.skip != "" {
			tests = append(tests, s)
		} else {
			graph = append(graph, s)
		}
	}
	if r.WithDeps {
		graph = addDependencies(graph, keys)
	}
	if err := CheckDependencies(graph); err != nil {
		return nil, err
	}
	return append(graph, tests...), nil
}

// ScriptName is the name of the script at path: its file name without .lua.
func ScriptName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".lua")
}

// IsTestFile tells a test file (name_test.lua), which `etlhost test` runs,
// from a job.
func IsTestFile(path string) bool {
	return strings.HasSuffix(filepath.Base(path), "_test.lua")
}

// Run runs the scripts and returns the report. Cancelling ctx stops every
// script (status cancelled) and returns once they have unwound or the grace
// period has passed.
func (r *Runner) Run(ctx context.Context, scripts []*Script) (*Report, error) {
	var graph []*Script
	for _, s := range scripts {
		if s.skip == "" {
			graph = append(graph, s)
		}
	}
	if err := CheckDependencies(graph); err != nil {
		return nil, err
	}
	lib, err := r.openLib()
	if err != nil {
		return nil, err
	}
	start := r.now()
	report := &Report{StartedAt: start}
	modules := map[string]luabind.Module{}
	for _, m := range r.Modules {
		modules[m.Name()] = m
	}
	var wd *watchdog
	if r.MaxMemory > 0 {
		wd = newWatchdog(r.MaxMemory)
		defer wd.stop()
	}
	jobs := r.Jobs
	if jobs <= 0 || jobs > len(scripts) {
		jobs = len(scripts)
	}
	slots := make(chan struct{}, max(jobs, 1))
	var (
		mu         sync.Mutex
		wg         sync.WaitGroup
		notStarted []*Result
	)
	// Each job's end, for the jobs that run after it.
	ended := map[string]*jobEnd{}
	for _, s := range scripts {
		if s.skip == "" {
			ended[s.Name] = &jobEnd{done: make(chan struct{})}
		}
	}
	finish := func(res *Result) {
		mu.Lock()
		report.Scripts = append(report.Scripts, res)
		mu.Unlock()
		if r.Observer != nil {
			r.Observer.ScriptFinished(res)
		}
		if e := ended[res.Name]; e != nil {
			e.res = res
			close(e.done)
		}
	}
	cancelled := func(s *Script) *Result {
		return &Result{Name: s.Name, Path: s.Path, Status: StatusCancelled,
			StartedAt: r.now(), Error: "cancelled before it started: " + context.Cause(ctx).Error()}
	}
	for _, s := range scripts {
		if s.skip != "" {
			report.Notes = append(report.Notes, s.skip)
			continue
		}
		if s.err != nil {
			// It fails alone, at once, without taking a slot.
			res := &Result{Name: s.Name, Path: s.Path, Status: StatusFailed, StartedAt: r.now(), Error: s.err.Error()}
			if r.Observer != nil {
				r.Observer.ScriptStarted(s, res.StartedAt)
			}
			finish(res)
			continue
		}
		if len(s.After) > 0 {
			// It waits for the jobs it runs after without a slot, then
			// takes one as the others do.
			wg.Add(1)
			go func(s *Script) {
				defer wg.Done()
				if r.Observer != nil {
					r.Observer.ScriptEvent(s, Event{Time: r.now(), Event: event.Waiting{For: s.After}})
				}
				var why []string
				for _, dep := range s.After {
					select {
					case <-ended[dep].done:
					case <-ctx.Done():
					}
					if ctx.Err() != nil {
						finish(cancelled(s))
						return
					}
					if st := ended[dep].res.Status; st != StatusOK {
						why = append(why, dep+" "+endedAs(st))
					}
				}
				if len(why) > 0 {
					finish(&Result{Name: s.Name, Path: s.Path, Status: StatusSkipped, StartedAt: r.now(),
						Error: "skipped: " + strings.Join(why, ", ")})
					return
				}
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					finish(cancelled(s))
					return
				}
				res := r.runOne(ctx, s, modules, lib, wd)
				<-slots
				finish(res)
			}(s)
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			notStarted = append(notStarted, cancelled(s))
			continue
		}
		wg.Add(1)
		go func(s *Script) {
			defer wg.Done()
			res := r.runOne(ctx, s, modules, lib, wd)
			<-slots
			finish(res)
		}(s)
	}
	wg.Wait()
	for _, res := range notStarted {
		finish(res)
	}
	lib.close()
	report.Duration = r.now().Sub(start)
	report.Status = StatusOK
	for _, res := range report.Scripts {
		switch {
		case res.Status == StatusCancelled:
			report.Status = StatusCancelled
		case res.Status != StatusOK && report.Status == StatusOK:
			report.Status = StatusFailed
		}
	}
	return report, nil
}

// jobEnd is how a job ended, once done is closed: what the jobs that run
// after it wait for.
type jobEnd struct {
	done chan struct{}
	res  *Result
}

// endedAs says how a job a skipped one runs after ended.
func endedAs(st Status) string {
	switch st {
	case StatusTimeout:
		return "timed out"
	case StatusCancelled:
		return "was cancelled"
	case StatusSkipped:
		return "was skipped"
	}
	return string(st)
}

func (r *Runner) openLib() (*libLoader, error) {
	if r.LibFS != nil {
		return newLibLoaderFS(r.LibFS), nil
	}
	if r.LibDir == "" {
		return nil, nil
	}
	return newLibLoader(r.LibDir)
}

// scriptLog is the event sink of one script: it keeps the lines and totals
// for the result and passes every event on to the observer.
type scriptLog struct {
	r       *Runner
	s       *Script
	mu      sync.Mutex
	lines   []LogLine
	drops   int
	done    int64
	total   int64
	fetched int64
	loaded  int64
	// sent counts the writes this attempt sent to Odoo (not planned ones).
	sent   int
	nowFun func() time.Time
}

// odooWritesSent is how many writes the current attempt sent to Odoo.
func (l *scriptLog) odooWritesSent() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent
}

// startAttempt resets the totals for a new attempt of the job: the rows and
// progress of a failed attempt were rolled back with it. Its log lines stay.
func (l *scriptLog) startAttempt() {
	l.mu.Lock()
	l.done, l.total, l.fetched, l.loaded, l.sent = 0, 0, 0, 0, 0
	l.mu.Unlock()
}

// Emit implements luabind.Sink.
func (l *scriptLog) Emit(ev event.Event) {
	e := Event{Time: l.nowFun(), Event: ev}
	line, hasLine := e.Line()
	l.mu.Lock()
	switch x := ev.(type) {
	case event.Rows:
		l.fetched += x.Fetched
		l.loaded += x.Loaded
	case event.Progress:
		l.done, l.total = x.Done, x.Total
	case event.OdooWrite:
		if !x.Planned {
			l.sent++
		}
	}
	e.RowsFetched, e.RowsLoaded = l.fetched, l.loaded
	if hasLine {
		if len(l.lines) < MaxLogLines {
			l.lines = append(l.lines, line)
		} else {
			l.drops++
		}
	}
	l.mu.Unlock()
	if l.r.Observer != nil {
		l.r.Observer.ScriptEvent(l.s, e)
	}
}

// timeoutOf is the script's time limit: the run's (Timeout, from
// TimeoutFrom) or the script header's, whichever comes from the higher
// source (see Pick).
func (r *Runner) timeoutOf(s *Script) Setting[time.Duration] {
	run := Given(r.Timeout, r.TimeoutFrom)
	if r.Timeout <= 0 {
		run = Given(DefaultTimeout, FromDefault)
	}
	var header Setting[time.Duration]
	if s.Timeout > 0 {
		header = Given(s.Timeout, FromHeader)
	}
	return Pick(run, header)
}

// TimeoutFor is the time limit of the job s in this runner: its header's
// or the runner's, whichever comes from the higher source.
func (r *Runner) TimeoutFor(s *Script) time.Duration { return r.timeoutOf(s).Value }

// RetriesFor is how many times the job s runs again after a transient
// failure in this runner (see retriesOf).
func (r *Runner) RetriesFor(s *Script) int { return r.retriesOf(s).Value }

// retriesOf is how many times the job s runs again after a transient
// failure: the run's (Retries, from RetriesFrom) or the header's, whichever
// comes from the higher source.
func (r *Runner) retriesOf(s *Script) Setting[int] {
	run := Given(r.Retries, r.RetriesFrom)
	var header Setting[int]
	if s.RetriesSet {
		header = Given(s.Retries, FromHeader)
	}
	return Pick(run, header)
}

// Backoff defaults: the wait before the second attempt, the most any wait
// lasts.
const (
	DefaultBackoffBase = time.Second
	DefaultBackoffMax  = 30 * time.Second
)

// DefaultBackoff is the wait after attempt n failed: 1s, 2s, 4s ... up to
// 30s, each drawn between half and all of it (jitter), so that jobs that
// met the same outage do not come back at the same instant.
func DefaultBackoff(n int) time.Duration {
	d := DefaultBackoffBase << min(n-1, 10)
	d = min(d, DefaultBackoffMax)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func (r *Runner) backoff(n int) time.Duration {
	if r.Backoff != nil {
		return r.Backoff(n)
	}
	return DefaultBackoff(n)
}

// timeoutError is the cause of s stopped by its time limit, saying where
// the limit came from.
func timeoutError(s *Script, limit Setting[time.Duration]) *TimeoutError {
	return &TimeoutError{Timeout: limit.Value, Origin: TimeoutKnob.Origin(limit.From, fmt.Sprintf("%s:%d", s.Path, s.TimeoutLine))}
}

type outcome struct {
	value any
	err   string
	fault *luabind.Fault // the classification of the error a binding raised
	ended time.Time      // when execute returned (wall clock, as deadlines are)
}

// runOne runs one script on its own goroutine and waits for it, or for its
// context to end plus the grace period.
func (r *Runner) runOne(parent context.Context, s *Script, modules map[string]luabind.Module, lib *libLoader, wd *watchdog) *Result {
	limit := r.timeoutOf(s)
	retries := r.retriesOf(s).Value
	// The clock starts before the deadline is set, so a script stopped at
	// its deadline never reports less than its timeout. The deadline is the
	// job's: its attempts share it.
	started := r.now()
	jobCtx, cancelJob := context.WithTimeoutCause(parent, limit.Value, timeoutError(s, limit))
	defer cancelJob()
	logs := &scriptLog{r: r, s: s, nowFun: r.now}
	if r.Observer != nil {
		r.Observer.ScriptStarted(s, started)
	}
	var attempts []Attempt
	for n := 1; ; n++ {
		attemptStart := r.now()
		logs.startAttempt()
		res, fault := r.attempt(parent, jobCtx, s, limit, started, logs, modules, lib, wd)
		res.OdooWrites = logs.odooWritesSent()
		if fault != nil && res.Status == StatusFailed {
			res.Transient, res.Reason = fault.Transient, fault.Reason
		}
		if retries == 0 {
			return res
		}
		a := Attempt{Attempt: n, StartedAt: attemptStart, Duration: r.now().Sub(attemptStart), Status: res.Status, Error: FirstLine(res.Error)}
		if fault != nil {
			a.Transient, a.Reason = fault.Transient, fault.Reason
		}
		attempts = append(attempts, a)
		res.Attempts = attempts
		if res.Status != StatusFailed || fault == nil || !fault.Transient {
			return res
		}
		if sent := logs.odooWritesSent(); sent > 0 {
			// Odoo has no transaction across calls: what the attempt sent
			// stays applied, and running the job again would send it twice.
			res.Error += fmt.Sprintf("\nnot tried again: attempt %d sent %d writes to Odoo, which keeps them (it has no transaction across calls)", n, sent)
			return res
		}
		if n > retries {
			res.Error += fmt.Sprintf("\ngave up after %d attempts: each failed on a transient error", n)
			return res
		}
		delay := r.backoff(n)
		if deadline, _ := jobCtx.Deadline(); !r.now().Add(delay).Before(deadline) {
			res.Error += fmt.Sprintf("\nnot tried again: attempt %d would start after the job's deadline (%v)", n+1, limit.Value)
			return res
		}
		logs.Emit(event.Retrying{Attempt: n, Attempts: retries + 1, Delay: delay, Reason: fault.Reason})
		select {
		case <-time.After(delay):
		case <-jobCtx.Done():
			if parent.Err() != nil {
				// Ctrl+C while it waited: the job was interrupted.
				res.Status = StatusCancelled
				res.Error = "cancelled: " + context.Cause(parent).Error() + "\n" + res.Error
			}
			return res // the deadline came while it waited: what the last attempt left stands
		}
	}
}

// attempt runs one attempt of a job on its own goroutine, in a fresh state,
// and waits for it, or for its context to end plus the grace period. The
// result is the job's as of this attempt (its duration counts from started,
// the job's start); fault is the classification of the error a binding
// raised, when the attempt ended with one.
func (r *Runner) attempt(parent, jobCtx context.Context, s *Script, limit Setting[time.Duration], started time.Time,
	logs *scriptLog, modules map[string]luabind.Module, lib *libLoader, wd *watchdog) (*Result, *luabind.Fault) {
	timeout := limit.Value
	grace := r.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	ctx, cancel := context.WithCancelCause(jobCtx)
	defer cancel(nil)
	env := &luabind.Env{Ctx: ctx, Script: s.Name, Path: s.Path, Args: r.Args, Header: s.Header,
		Events: logs, DryRun: r.DryRun, Atomic: r.Atomic}
	deadline, _ := ctx.Deadline()
	env.Deadline = deadline
	env.Stop = cancel
	var g *guard
	if wd != nil {
		g = &guard{w: wd, cancel: cancel}
		env.NewThreadContext = func(th *lua.LState) context.Context {
			// Light threads measure themselves too; their context is the
			// one gopher-lua derived for them, so stopping them works.
			return &vmContext{Context: th.Context(), guard: &guard{w: wd, cancel: cancel, L: th}}
		}
	}
	sb := &sandbox{env: env, modules: modules, lib: lib, globals: r.ModuleGlobals}
	done := make(chan outcome, 1)
	go func() {
		o := execute(ctx, sb, s, g)
		o.ended = time.Now()
		done <- o
	}()

	var o outcome
	abandoned := false
	select {
	case o = <-done:
	case <-ctx.Done():
		select {
		case o = <-done:
		case <-time.After(grace):
			abandoned = true
		}
	}
	res := &Result{Name: s.Name, Path: s.Path, StartedAt: started, Duration: r.now().Sub(started)}
	var fault *luabind.Fault
	cause := context.Cause(ctx)
	var memErr *MemoryError
	switch {
	case parent.Err() != nil:
		res.Status = StatusCancelled
		res.Error = "cancelled: " + context.Cause(parent).Error()
	case errors.As(cause, &memErr):
		res.Status = StatusFailed
		res.Error = memErr.Error() + " (" + MaxMemoryKnob.Origin(r.MaxMemoryFrom, "") + ")"
	case abandoned && errors.Is(cause, luabind.ErrScriptEnded):
		// The main chunk ended with an error and light threads were stopped,
		// but one of them is stuck inside Go code.
		res.Status = StatusFailed
		res.Error = "the script ended, but a light thread did not stop"
	case ctx.Err() != nil && !errors.Is(cause, luabind.ErrScriptEnded):
		// The deadline decides, not the returned error: a coroutine can
		// swallow the context's error and let the script return normally.
		res.Status = StatusTimeout
		res.Error = cause.Error()
	case (!deadline.IsZero() && o.ended.After(deadline)) || res.Duration > timeout:
		// Past its deadline a script is never ok, whatever it returned,
		// even when its context did not end at the deadline (the timer
		// fired late, or the context ended for another reason first): by
		// the wall clock, or by its own duration as the report shows it.
		res.Status = StatusTimeout
		res.Error = fmt.Sprintf("%v (it ended after %v: a call returned after the deadline)",
			timeoutError(s, limit), res.Duration.Round(time.Millisecond))
	case o.err != "":
		res.Status = StatusFailed
		fault = o.fault // only a script's own error may be retried: not a memory limit, a timeout, a stuck thread
	default:
		res.Status = StatusOK
		res.Value = o.value
		if o.value == nil {
			res.Note = NoteReturnedNothing
		}
	}
	if res.Status != StatusOK && o.err != "" && !strings.Contains(res.Error, o.err) {
		if res.Error == "" {
			res.Error = o.err
		} else {
			res.Error += "\n" + o.err
		}
	}
	if abandoned {
		res.Error += fmt.Sprintf("\nthe script did not stop within %v of the end of its context (stuck inside a Go function); abandoned", grace)
	}
	logs.mu.Lock()
	res.Logs = logs.lines
	res.ProgressDone, res.ProgressTotal = logs.done, logs.total
	res.RowsFetched, res.RowsLoaded = logs.fetched, logs.loaded
	if logs.drops > 0 {
		res.Logs = append(res.Logs, LogLine{Time: r.now(), Level: luabind.LevelWarn, Msg: fmt.Sprintf("%d more log lines were not kept", logs.drops)})
	}
	logs.mu.Unlock()
	return res, fault
}

// execute builds the script's state and runs it. It never panics: a panic
// inside gopher-lua (a registry overflow inside a protected call, say)
// becomes the script's error.
func execute(ctx context.Context, sb *sandbox, s *Script, g *guard) (o outcome) {
	defer func() {
		if p := recover(); p != nil {
			var ae *lua.ApiError
			if err, ok := p.(error); ok && errors.As(err, &ae) {
				// gopher-lua raised outside a protected call (a registry
				// overflow, say): its message names the script's line.
				o = outcome{err: fmt.Sprintf("%s (the Lua VM could not go on)", ae.Object.String())}
				return
			}
			o = outcome{err: fmt.Sprintf("%s: internal error in the Lua VM: %v\n%s", s.Path, p, firstLines(string(debug.Stack()), 12))}
		}
	}()
	L := sb.newState(ctx, g)
	defer L.Close()
	// Before the state closes: modules release connections and stop light
	// threads, which need the state.
	defer sb.env.Close()
	if err := sb.loadGlobals(L); err != nil {
		return outcome{err: fmt.Sprintf("%s: %v", s.Path, err)}
	}
	L.Push(L.NewFunctionFromProto(s.proto))
	// The handler sees the error value itself, before it becomes text: a
	// value a binding raised carries its classification (luabind.Fault).
	explain := explainer(s.Path, s.src)
	var raisedValue lua.LValue
	handler := L.NewFunction(func(L *lua.LState) int {
		raisedValue = L.Get(1)
		return explain(L)
	})
	err := L.PCall(0, 1, handler)
	if err != nil {
		o := outcome{err: err.Error()}
		var ae *lua.ApiError
		if errors.As(err, &ae) {
			o.err = ae.Object.String()
		}
		if f, ok := sb.env.FaultOf(raisedValue); ok {
			o.fault = &f
		}
		return o
	}
	if err := sb.env.Finish(); err != nil {
		o := outcome{err: fmt.Sprintf("%s: %v", s.Path, err)}
		// A light thread nobody waited for failed: its error value (a
		// module's, maybe) is classified as the main chunk's would be.
		var thread interface{ ErrorValue() lua.LValue }
		if errors.As(err, &thread) {
			if f, ok := sb.env.FaultOf(thread.ErrorValue()); ok {
				o.fault = &f
			}
		}
		return o
	}
	ret := L.Get(-1)
	value, cerr := luaconv.FromLua(ret)
	if cerr != nil {
		return outcome{err: fmt.Sprintf("%s: the script's return value cannot be reported: %v", s.Path, cerr)}
	}
	return outcome{value: value}
}

var positionRe = regexp.MustCompile(`^[^\s:]+:\d+: `)

// maxTraceback bounds the traceback: a tail-recursive loop would otherwise
// produce one entry per call.
const maxTraceback = 20

// messageHandler turns an error value into "file:line: message" followed by
// a bounded Lua traceback. Error tables (from pg or odoo) are shown through
// their __tostring.
func messageHandler(L *lua.LState) int {
	v := L.Get(1)
	msg := ""
	switch x := v.(type) {
	case lua.LString:
		msg = string(x)
	case *lua.LTable:
		if mm := L.GetMetaField(x, "__tostring"); mm != lua.LNil {
			msg = L.ToStringMeta(x).String()
		} else if plain, err := luaconv.FromLua(x); err == nil {
			msg = "error object " + luaconv.Sprint(plain)
		} else {
			msg = "error object (a table)"
		}
	case *lua.LNilType:
		msg = "error called with nil"
	default:
		msg = toStringMeta(L, v).String() // a number as Lua writes it
	}
	var frames []string
	where := ""
	prev := ""
	for level := 1; level < maxTraceback+2; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sln", dbg, lua.LNil); err != nil {
			break
		}
		var line string
		if dbg.What == "G" || dbg.CurrentLine < 0 {
			line = "\t[Go]: in " + funcName(dbg)
		} else {
			pos := fmt.Sprintf("%s:%d", dbg.Source, dbg.CurrentLine)
			if where == "" {
				where = pos
			}
			line = "\t" + pos + ": in " + funcName(dbg)
		}
		if line == prev {
			continue
		}
		prev = line
		if len(frames) == maxTraceback {
			frames = append(frames, "\t...")
			break
		}
		frames = append(frames, line)
	}
	if where != "" && !positionRe.MatchString(msg) {
		msg = where + ": " + msg
	}
	if len(frames) > 0 {
		msg += "\nstack traceback:\n" + strings.Join(frames, "\n")
	}
	L.Push(lua.LString(msg))
	return 1
}

func funcName(d *lua.Debug) string {
	switch {
	case d.What == "main" || (d.What == "Lua" && d.LineDefined == 0):
		return "main chunk"
	case d.Name != "":
		return "function '" + d.Name + "'"
	case d.LineDefined > 0:
		return fmt.Sprintf("function <%s:%d>", d.Source, d.LineDefined)
	default:
		return "?"
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
