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
		return luatest.New(t, luatest.Options{}, task.Module{})
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
