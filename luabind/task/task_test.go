package task_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/luabind/task"
)

func TestLuaSpecs(t *testing.T) {
	t.Parallel()
	luatest.RunFiles(t, "testdata/test_*.lua", func(t *testing.T) *luatest.State {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		t.Cleanup(cancel)
		return luatest.New(t, luatest.Options{Ctx: ctx}, task.Module{})
	})
}

func TestSleepStopsAtDeadline(t *testing.T) {
	t.Parallel()
	cause := errors.New("the script's time is up")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 50*time.Millisecond, cause)
	defer cancel()
	s := luatest.New(t, luatest.Options{Ctx: ctx}, task.Module{})
	_, err := s.Exec("sleepy.lua", "\nrequire('task').sleep(3600)")
	if err == nil {
		t.Fatal("a sleep of an hour returned without error")
	}
	for _, want := range []string{"sleepy.lua:2:", "task.sleep", "the script's time is up"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// TestDeadlineStopsEveryThread: at the deadline, threads sleeping, spinning
// and waiting on channels all stop, and the script ends.
func TestDeadlineStopsEveryThread(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	s := luatest.New(t, luatest.Options{Ctx: ctx}, task.Module{})
	done := make(chan error, 1)
	go func() {
		_, err := s.Exec("many.lua", `
local task = require("task")
local ch = task.channel()
local hs = {
  task.spawn(function() task.sleep(3600) end),
  task.spawn(function() while true do end end),
  task.spawn(function() ch:recv() end),
  task.spawn(function() ch:send(1) ch:send(2) end),
}
task.wait_all(hs)`)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "deadline") {
			t.Fatalf("error %v, want a deadline error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the script did not stop at its deadline")
	}
}

// TestUnwaitedErrorFailsTheScript: an error in a thread nobody waits for
// fails the script at its end, naming where the thread started.
func TestUnwaitedErrorFailsTheScript(t *testing.T) {
	t.Parallel()
	s := luatest.New(t, luatest.Options{}, task.Module{})
	if _, err := s.Exec("orphan.lua", "local task = require('task')\n\ntask.spawn(function() error('orphan failed') end)\nreturn 1"); err != nil {
		t.Fatal(err)
	}
	err := s.Env.Finish()
	if err == nil || !strings.Contains(err.Error(), "orphan.lua:3") || !strings.Contains(err.Error(), "orphan failed") {
		t.Fatalf("Finish: %v", err)
	}
}

// TestFinishWaitsForThreads: the script's end waits for running threads.
func TestFinishWaitsForThreads(t *testing.T) {
	t.Parallel()
	s := luatest.New(t, luatest.Options{}, task.Module{})
	if _, err := s.Exec("bg.lua", "local task = require('task')\nDONE = false\ntask.spawn(function() task.sleep(0.05) DONE = true end)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Env.Finish(); err != nil {
		t.Fatal(err)
	}
	if s.L.GetGlobal("DONE").String() != "true" {
		t.Fatal("Finish returned before the thread ended")
	}
}

// TestEndWithRunningThreadsStopsThem: when the main chunk fails, threads
// still waiting are stopped and the state can close.
func TestEndWithRunningThreadsStopsThem(t *testing.T) {
	t.Parallel()
	s := luatest.New(t, luatest.Options{}, task.Module{})
	_, err := s.Exec("fail.lua", "local task = require('task')\ntask.spawn(function() task.sleep(3600) end)\nerror('main failed')")
	if err == nil || !strings.Contains(err.Error(), "main failed") {
		t.Fatalf("error %v", err)
	}
	closed := make(chan struct{})
	go func() { s.Env.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not stop the sleeping thread")
	}
}

// TestChannelValuesCountAgainstTheMemoryLimit (issue 18, item 3): a value
// waiting in a channel's buffer is charged to the script's memory until it
// is received, so a script cannot park gigabytes in a channel out of the
// limit's sight; sending and receiving gives the charge back.
func TestChannelValuesCountAgainstTheMemoryLimit(t *testing.T) {
	t.Parallel()
	parent, cancelT := context.WithTimeout(context.Background(), time.Minute)
	defer cancelT()
	mem, ctx, cancel := luatest.NewMemory(parent, 64<<20)
	defer cancel(nil)
	s := luatest.New(t, luatest.Options{Ctx: ctx}, task.Module{})
	_, err := s.Exec("park.lua", `local task = require("task")
local ch = task.channel(1000)
local big = string.rep("x", 1048576)
for i = 1, 200 do ch:send(big .. i) end`)
	if err == nil || !errors.Is(context.Cause(ctx), luatest.ErrOverLimit) {
		t.Fatalf("parking 200 MB in a channel was not stopped: %v", err)
	}
	if p := mem.Peak(); p > 80<<20 {
		t.Errorf("charged up to %d bytes past a 64 MiB limit", p)
	}

	mem2, ctx2, cancel2 := luatest.NewMemory(parent, 64<<20)
	defer cancel2(nil)
	s2 := luatest.New(t, luatest.Options{Ctx: ctx2}, task.Module{})
	v, err := s2.Exec("pass.lua", `local task = require("task")
local ch = task.channel(10)
local got = 0
for i = 1, 1000 do ch:send(string.rep("y", 100000)); got = got + #ch:recv() end
return got`)
	if err != nil || v.String() != "100000000" {
		t.Fatalf("send and receive: %v %v", v, err)
	}
	if k := mem2.Kept(); k != 0 {
		t.Errorf("%d bytes still charged once every value was received", k)
	}
	if mem2.Peak() == 0 {
		t.Error("the values were not charged")
	}
}
