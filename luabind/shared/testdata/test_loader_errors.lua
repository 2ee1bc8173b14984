-- What callers waiting for a loader get when it fails. Here the loader and
-- the caller waiting for it are two light threads of one script; across
-- scripts (one stopped at its deadline) see loader_test.go.
local shared, task = require("shared"), require("task")
local loads = 0

-- A loader's own error reaches the caller that waited for it, saying where
-- it came from.
local loader = task.spawn(function()
  return shared.get_or_load("companies", function()
    loads = loads + 1
    task.sleep(0.05) -- the other thread asks meanwhile
    error("bad domain")
  end)
end)
local waiter = task.spawn(function()
  task.sleep(0.01)
  return shared.get_or_load("companies", function()
    loads = loads + 1
    return "not run: it waits for the first loader"
  end)
end)
local err = expect.fails(function() task.wait(waiter) end,
  'shared.get_or_load("companies"): the loader run by another light thread of this script failed: ')
expect.truthy(tostring(err):find("bad domain", 1, true), "the loader's own error is in the message")
expect.fails(function() task.wait(loader) end, "bad domain")
expect.eq(loads, 1, "loads")

-- Nothing was cached: the next caller loads again.
expect.eq(shared.get_or_load("companies", function() return "loaded again" end), "loaded again")
