// Package task is the Lua module `task`: light threads, channels and
// semaphores, so that one script overlaps its own waiting.
//
//	local task = require("task")
//	local h = task.spawn(function(a, b) return a + b end, 1, 2)
//	local sum = task.wait(h)                         -- 3; re-raises the thread's error
//	local a, b = task.wait(h1, h2)                   -- first result of each, in order
//	local list = task.wait_all({h1, h2, h3})          -- waits for all, then raises the first error
//	local out = task.map(ids, function(id, i) return fetch(id) end, {concurrency = 4})
//	task.sleep(0.5)
//	local ch = task.channel(10)   -- ch:send(v), ch:recv() -> v, ok; ch:close(); for v in ch:iter() do
//	local sem = task.semaphore(3) -- sem:acquire(), sem:release(), sem:with(fn, ...)
//
// How it works: a light thread is a gopher-lua thread of the script's state
// running on a goroutine of its own. Only one of a script's threads runs Lua
// code at a time: it holds the script's baton, which every blocking call
// (Odoo, PostgreSQL, task.sleep, channels, waits) hands over while it
// waits. So waits overlap while Lua code never runs in parallel, pcall and
// error work everywhere (no coroutine yields are involved), and a thread
// is only ever run by its own goroutine.
//
// A script ends when its main chunk returns and every light thread has
// finished; an error of a thread nobody waited for fails the script then,
// with a *ThreadError holding the value. task.wait, wait_all, map and
// sem:with raise a thread's error as the very value the thread raised (an
// odoo or pg error table stays that table, and so keeps what the module
// recorded about it for the host's retries: luabind.Env.FaultOf).
// The script's deadline and Ctrl+C stop every thread.
package task

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/etlhost/etlhost/luabind"
)

// Limits.
const (
	MaxSleep   = 24 * time.Hour
	MaxThreads = 10000 // light threads alive at once in one script
)

// Module is the `task` module.
type Module struct{}

// Name implements luabind.Module.
func (Module) Name() string { return "task" }

// prelude holds the parts of the module written in Lua, compiled once.
var prelude = mustCompile("task.lua", `
local spawn, wait_all, semaphore_new, sem_methods = ...
local M = {}

function M.map(list, fn, opts)
  if type(list) ~= "table" then error("bad argument #1 to 'map' (table expected, got " .. type(list) .. ")", 2) end
  if type(fn) ~= "function" then error("bad argument #2 to 'map' (function expected, got " .. type(fn) .. ")", 2) end
  local n = #list
  local conc = n
  if opts ~= nil and opts.concurrency ~= nil then
    conc = opts.concurrency
    if type(conc) ~= "number" or conc < 1 then error("task.map: concurrency must be a number of at least 1", 2) end
  end
  local results, next_index, workers = {}, 0, {}
  local function worker()
    while true do
      next_index = next_index + 1
      local i = next_index
      if i > n then return end
      results[i] = fn(list[i], i)
    end
  end
  for w = 1, math.min(conc, n) do workers[w] = spawn(worker) end
  wait_all(workers)
  return results
end

function sem_methods.with(sem, fn, ...)
  sem:acquire()
  local res = {pcall(fn, ...)}
  sem:release()
  if not res[1] then error(res[2], 0) end
  return unpack(res, 2, table.maxn(res))
end

return M
`)

func mustCompile(name, src string) *lua.FunctionProto {
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		panic(err)
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		panic(err)
	}
	return proto
}

// scheduler is one script's light threads.
type scheduler struct {
	L       *lua.LState // the state that opened the module
	env     *luabind.Env
	baton   *sync.Mutex
	threads []*handle
	live    int
}

// threadBytes is about what a light thread's state costs before it holds
// anything (its value stack and call frames).
const threadBytes = 24 << 10

// HeldValues implements luabind.Holder: a finished thread's results and
// error live as long as its handle.
func (h *handle) HeldValues(yield func(lua.LValue)) {
	select {
	case <-h.done:
	default:
		return // still running: its stack is measured as a thread
	}
	for _, v := range h.results {
		yield(v)
	}
	if h.err != nil {
		yield(h.err)
	}
}

type handle struct {
	where   string
	done    chan struct{}
	cancel  context.CancelFunc
	results []lua.LValue // written by the thread before done closes
	err     lua.LValue   // the raised value, nil when the thread succeeded
	waited  bool
}

// Open implements luabind.Module.
func (Module) Open(L *lua.LState, env *luabind.Env) lua.LValue {
	s := &scheduler{L: L, env: env}
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"sleep":     s.sleep,
		"spawn":     s.spawn,
		"wait":      s.wait,
		"wait_all":  s.waitAll,
		"channel":   s.channel,
		"semaphore": s.semaphore,
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	hmt := L.NewTypeMetatable("etlhost.task.handle")
	hmt.RawSetString("__index", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"wait": s.handleWait,
		"done": func(L *lua.LState) int {
			h := checkHandle(L, 1)
			select {
			case <-h.done:
				L.Push(lua.LTrue)
			default:
				L.Push(lua.LFalse)
			}
			return 1
		},
	}))
	hmt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("task started at " + checkHandle(L, 1).where))
		return 1
	}))
	cmt := L.NewTypeMetatable("etlhost.task.channel")
	cmt.RawSetString("__index", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"send": s.chanSend, "recv": s.chanRecv, "close": s.chanClose, "iter": s.chanIter,
	}))
	smethods := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{"acquire": s.semAcquire, "release": s.semRelease})
	smt := L.NewTypeMetatable("etlhost.task.semaphore")
	smt.RawSetString("__index", smethods)

	L.Push(L.NewFunctionFromProto(prelude))
	L.Push(t.RawGetString("spawn"))
	L.Push(t.RawGetString("wait_all"))
	L.Push(t.RawGetString("semaphore"))
	L.Push(smethods)
	L.Call(4, 1)
	if extra, ok := L.Get(-1).(*lua.LTable); ok {
		extra.ForEach(func(k, v lua.LValue) { t.RawSet(k, v) })
	}
	L.Pop(1)
	env.OnFinish(s.finish)
	env.OnClose(s.stopAll)
	return t
}

func (s *scheduler) sleep(L *lua.LState) int {
	secs := float64(L.CheckNumber(1))
	if math.IsNaN(secs) || secs < 0 {
		L.ArgError(1, "seconds must be a non-negative number")
	}
	if secs > MaxSleep.Seconds() {
		L.ArgError(1, "sleep longer than 24h")
	}
	d := time.Duration(secs * float64(time.Second))
	err := s.env.Block(func(ctx context.Context) error {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err != nil {
		L.RaiseError("task.sleep: %v", err)
	}
	return 0
}

func (s *scheduler) spawn(L *lua.LState) int {
	fn := L.CheckFunction(1)
	args := make([]lua.LValue, 0, L.GetTop()-1)
	for i := 2; i <= L.GetTop(); i++ {
		args = append(args, L.Get(i))
	}
	if s.live >= MaxThreads {
		L.RaiseError("task.spawn: more than %d light threads alive at once", MaxThreads)
	}
	mem := luabind.MemoryOf(L)
	// The arguments wait on the Go side until the thread starts, then fill
	// its stack: a thousand threads of 65k values each are gigabytes.
	pending := int64(len(args))*16 + threadBytes
	if err := mem.Keep(pending); err != nil {
		mem.Release(pending)
		L.RaiseError("task.spawn: %v", err)
	}
	s.baton = s.env.EnableThreads()
	th, cancel := L.NewThread()
	if s.env.NewThreadContext != nil {
		th.SetContext(s.env.NewThreadContext(th))
	}
	forget := mem.Thread(th)
	h := &handle{where: strings.TrimSuffix(L.Where(1), ":"), done: make(chan struct{}), cancel: cancel}
	s.threads = append(s.threads, h)
	s.live++
	baton := s.baton
	go func() {
		baton.Lock()
		defer func() {
			if r := recover(); r != nil {
				h.err = lua.LString(fmt.Sprintf("%s: light thread crashed: %v", h.where, r))
			}
			s.live--
			forget()
			close(h.done)
			baton.Unlock()
		}()
		nargs := len(args)
		mem.Release(pending)
		if err := th.Context().Err(); err != nil {
			// Stopped before it ran (the script ended or hit a limit).
			h.err = lua.LString(fmt.Sprintf("%s: light thread stopped before it ran: %v", h.where, context.Cause(th.Context())))
			args = nil
			return
		}
		th.Push(fn)
		for _, a := range args {
			th.Push(a)
		}
		args = nil
		if err := th.PCall(nargs, lua.MultRet, nil); err != nil {
			var ae *lua.ApiError
			if errors.As(err, &ae) {
				h.err = ae.Object
			} else {
				h.err = lua.LString(err.Error())
			}
			return
		}
		n := th.GetTop()
		h.results = make([]lua.LValue, n)
		for i := 1; i <= n; i++ {
			h.results[i-1] = th.Get(i)
		}
	}()
	return pushObject(L, h, "etlhost.task.handle")
}

func checkHandle(L *lua.LState, n int) *handle {
	return checkObject[handle](L, n, "task handle")
}

// await waits for h, letting the script's other threads run.
func (s *scheduler) await(L *lua.LState, h *handle) {
	if err := s.env.WaitFor(h.done); err != nil {
		L.RaiseError("task.wait: %v", err)
	}
}

// reraise raises a thread's error value as it was raised.
func reraise(L *lua.LState, h *handle) {
	if h.err != nil {
		L.Error(h.err, 0)
	}
}

func first(h *handle) lua.LValue {
	if len(h.results) == 0 {
		return lua.LNil
	}
	return h.results[0]
}

func (s *scheduler) wait(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.RaiseError("task.wait: no handle given")
	}
	hs := make([]*handle, n)
	for i := range hs {
		hs[i] = checkHandle(L, i+1)
	}
	for _, h := range hs {
		s.await(L, h)
		h.waited = true
		reraise(L, h)
	}
	for _, h := range hs {
		L.Push(first(h))
	}
	return n
}

func (s *scheduler) handleWait(L *lua.LState) int {
	h := checkHandle(L, 1)
	s.await(L, h)
	h.waited = true
	reraise(L, h)
	for _, v := range h.results {
		L.Push(v)
	}
	return len(h.results)
}

func (s *scheduler) waitAll(L *lua.LState) int {
	list := L.CheckTable(1)
	n := list.Len()
	hs := make([]*handle, n)
	for i := 1; i <= n; i++ {
		ud, ok := list.RawGetInt(i).(*lua.LUserData)
		h, ok2 := (*handle)(nil), false
		if ok {
			h, ok2 = ud.Value.(*handle)
		}
		if !ok2 {
			L.ArgError(1, fmt.Sprintf("item %d is not a task handle", i))
		}
		hs[i-1] = h
	}
	for _, h := range hs {
		s.await(L, h)
		h.waited = true
	}
	out := L.CreateTable(n, 0)
	for i, h := range hs {
		reraise(L, h)
		out.RawSetInt(i+1, first(h))
	}
	L.Push(out)
	return 1
}

// finish waits for every light thread, then fails the script with the
// first error that nobody waited for.
func (s *scheduler) finish() error {
	for _, h := range s.threads {
		if err := s.env.WaitFor(h.done); err != nil {
			return fmt.Errorf("waiting for the light threads: %w", err)
		}
	}
	for _, h := range s.threads {
		if h.err != nil && !h.waited {
			return &ThreadError{Where: h.where, Value: h.err, text: s.text(h.err)}
		}
	}
	return nil
}

// ThreadError is the error the script's end fails with when a light thread
// failed and nobody waited for it. Value is the very value the thread
// raised, so that the host can ask luabind.Env.FaultOf about it as about
// an error the main chunk ended with.
type ThreadError struct {
	Where string     // where the thread was started ("scripts/x.lua:12")
	Value lua.LValue // what it raised
	text  string     // Value through its __tostring
}

func (e *ThreadError) Error() string {
	text := e.text
	if text == "" {
		text = e.Value.String()
	}
	return fmt.Sprintf("light thread started at %s failed and nobody waited for it: %s", e.Where, text)
}

// text renders an error value as tostring would (an odoo or pg error
// value through its __tostring), on a thread of its own of the script's
// state (the state that opened the module may be a coroutine, dead by
// now); a __tostring that fails gives the plain rendering.
func (s *scheduler) text(v lua.LValue) string {
	if s.L == nil {
		return v.String()
	}
	fn := s.L.GetMetaField(v, "__tostring")
	if fn == lua.LNil {
		return v.String()
	}
	L, cancel := s.L.NewThread()
	if cancel != nil {
		defer cancel()
	}
	L.Push(fn)
	L.Push(v)
	if err := L.PCall(1, 1, nil); err != nil {
		return v.String()
	}
	r := L.Get(-1)
	L.Pop(1)
	if str, ok := r.(lua.LString); ok {
		return string(str)
	}
	return v.String()
}

// ErrorValue returns the raised value (the host need not import this
// package to reach it: interface{ ErrorValue() lua.LValue }).
func (e *ThreadError) ErrorValue() lua.LValue { return e.Value }

// stopAll runs when the script ends, on its goroutine with the baton held:
// it stops the threads still running and waits for them to unwind, so no
// thread runs on a closed state.
func (s *scheduler) stopAll() {
	if s.baton == nil {
		return
	}
	running := false
	for _, h := range s.threads {
		select {
		case <-h.done:
		default:
			running = true
		}
		h.cancel()
	}
	if running && s.env.Stop != nil {
		// Threads may be waiting in bindings on the script's context.
		s.env.Stop(luabind.ErrScriptEnded)
	}
	s.baton.Unlock()
	for _, h := range s.threads {
		<-h.done
	}
	s.baton.Lock()
}

// channel is a Go channel of Lua values between the threads of one script.
// A value waiting in its buffer is charged to the script's memory (its
// plain size) from its send to its receipt: the host's measurement does not
// see into Go channels.
type channel struct {
	ch       chan queued
	closed   bool
	closedCh chan struct{}
}

// queued is a value in a channel and what its send charged.
type queued struct {
	v    lua.LValue
	size int64
}

// maxQueuedSize bounds the measuring of one value sent (PlainSize stops
// soon past it); larger values are charged at least that much.
const maxQueuedSize = 1 << 30

func (s *scheduler) channel(L *lua.LState) int {
	capacity := L.OptInt(1, 0)
	if capacity < 0 || capacity > 1_000_000 {
		L.ArgError(1, "capacity must be between 0 and 1000000")
	}
	c := &channel{ch: make(chan queued, capacity), closedCh: make(chan struct{})}
	return pushObject(L, c, "etlhost.task.channel")
}

// pushObject pushes v as a userdata with the metatable of typeName.
func pushObject(L *lua.LState, v any, typeName string) int {
	ud := L.NewUserData()
	ud.Value = v
	L.SetMetatable(ud, L.GetTypeMetatable(typeName))
	L.Push(ud)
	return 1
}

// checkObject returns argument n as a *T made by pushObject.
func checkObject[T any](L *lua.LState, n int, what string) *T {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if v, ok := ud.Value.(*T); ok {
			return v
		}
	}
	L.ArgError(n, what+" expected, got "+L.Get(n).Type().String())
	return nil
}

func checkChannel(L *lua.LState) *channel {
	return checkObject[channel](L, 1, "channel (call it as ch:method())")
}

func (s *scheduler) chanSend(L *lua.LState) int {
	c := checkChannel(L)
	v := L.Get(2)
	if c.closed {
		L.RaiseError("send on a closed channel")
	}
	mem := luabind.MemoryOf(L)
	q := queued{v: v, size: luabind.PlainSize(v, maxQueuedSize)}
	if err := mem.Keep(q.size); err != nil {
		mem.Release(q.size)
		L.RaiseError("channel send: %v", err)
	}
	select {
	case c.ch <- q:
		return 0
	default:
	}
	var closed bool
	err := s.env.Block(func(ctx context.Context) error {
		select {
		case c.ch <- q:
			return nil
		case <-c.closedCh:
			closed = true
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err != nil || closed {
		mem.Release(q.size)
	}
	if err != nil {
		L.RaiseError("channel send: %v", err)
	}
	if closed {
		L.RaiseError("send on a closed channel")
	}
	return 0
}

// recv returns the next value and true, or nil and false once the channel
// is closed and drained.
func (s *scheduler) recv(L *lua.LState, c *channel) (lua.LValue, bool) {
	mem := luabind.MemoryOf(L)
	select {
	case q := <-c.ch:
		mem.Release(q.size)
		return q.v, true
	default:
	}
	if c.closed {
		return lua.LNil, false
	}
	var q queued
	got := false
	err := s.env.Block(func(ctx context.Context) error {
		select {
		case q = <-c.ch:
			got = true
		case <-c.closedCh:
			select {
			case q = <-c.ch:
				got = true
			default:
			}
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
	if err != nil {
		L.RaiseError("channel receive: %v", err)
	}
	if !got {
		return lua.LNil, false
	}
	mem.Release(q.size)
	return q.v, true
}

func (s *scheduler) chanRecv(L *lua.LState) int {
	v, ok := s.recv(L, checkChannel(L))
	L.Push(v)
	L.Push(lua.LBool(ok))
	return 2
}

func (s *scheduler) chanClose(L *lua.LState) int {
	c := checkChannel(L)
	if c.closed {
		L.RaiseError("close of a closed channel")
	}
	c.closed = true
	close(c.closedCh)
	return 0
}

func (s *scheduler) chanIter(L *lua.LState) int {
	c := checkChannel(L)
	L.Push(L.NewFunction(func(L *lua.LState) int {
		v, ok := s.recv(L, c)
		if !ok {
			L.Push(lua.LNil)
			return 1
		}
		if v == lua.LNil {
			L.RaiseError("ch:iter(): nil was sent on the channel; nil ends a for loop, use ch:recv()")
		}
		L.Push(v)
		return 1
	}))
	return 1
}

type semaphore struct{ slots chan struct{} }

func (s *scheduler) semaphore(L *lua.LState) int {
	n := L.CheckInt(1)
	if n < 1 {
		L.ArgError(1, "a semaphore needs at least 1 slot")
	}
	return pushObject(L, &semaphore{slots: make(chan struct{}, n)}, "etlhost.task.semaphore")
}

func checkSem(L *lua.LState) *semaphore {
	return checkObject[semaphore](L, 1, "semaphore (call it as sem:method())")
}

func (s *scheduler) semAcquire(L *lua.LState) int {
	sem := checkSem(L)
	select {
	case sem.slots <- struct{}{}:
		return 0
	default:
	}
	err := s.env.Block(func(ctx context.Context) error {
		select {
		case sem.slots <- struct{}{}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err != nil {
		L.RaiseError("semaphore acquire: %v", err)
	}
	return 0
}

func (s *scheduler) semRelease(L *lua.LState) int {
	sem := checkSem(L)
	select {
	case <-sem.slots:
	default:
		L.RaiseError("semaphore released more often than acquired")
	}
	return 0
}
