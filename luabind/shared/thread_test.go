package shared_test

import (
	"context"
	"testing"
	"time"

	"github.com/etlhost/etlhost/luabind/luatest"
	"github.com/etlhost/etlhost/luabind/shared"
	"github.com/etlhost/etlhost/luabind/task"
)

// TestTwoThreadsOfOneScriptShareALoad (issue 18, item 9): two light threads
// of one script ask for the same key; the second waits for the first's
// loader instead of failing with "the loader asked for its own key", and
// the loader runs once.
func TestTwoThreadsOfOneScriptShareALoad(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := luatest.New(t, luatest.Options{Ctx: ctx}, shared.New(), task.Module{})
	v, err := s.Exec("threads.lua", `
local shared, task = require("shared"), require("task")
local loads = 0
local function get()
  return shared.get_or_load("companies", function()
    loads = loads + 1
    task.sleep(0.1) -- the other thread asks meanwhile
    return {"Atlas SARL", "Lyon SAS"}
  end)
end
local a, b = task.wait(task.spawn(get), task.spawn(get))
-- a coroutine of the loader asking for the key is still the loader asking
local ok, err = pcall(shared.get_or_load, "self", function()
  local co = coroutine.wrap(function() return shared.get_or_load("self", function() return 1 end) end)
  return co()
end)
assert(not ok and tostring(err):find("its own key"), tostring(err))
return loads .. " " .. a[1] .. " " .. b[2]`)
	if err != nil {
		t.Fatal(err)
	}
	if v.String() != "1 Atlas SARL Lyon SAS" {
		t.Fatalf("got %q", v.String())
	}
}
