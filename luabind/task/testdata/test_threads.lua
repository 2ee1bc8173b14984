local task = require("task")

-- spawn and wait, with arguments and several results
local h = task.spawn(function(a, b) return a + b, a * b end, 3, 4)
expect.eq(task.wait(h), 7)
local s, p = h:wait()
expect.eq({s, p}, {7, 12})
expect.truthy(h:done())
expect.truthy(tostring(h):find("test_threads.lua:4") ~= nil, tostring(h))

-- wait on several: first result of each, in order
local h1 = task.spawn(function() task.sleep(0.02) return "slow" end)
local h2 = task.spawn(function() return "fast" end)
local a, b = task.wait(h1, h2)
expect.eq({a, b}, {"slow", "fast"})

-- wait_all returns a list; errors re-raised with their position
local list = task.wait_all({task.spawn(function() return 1 end), task.spawn(function() return 2 end)})
expect.eq(list, {1, 2})
local bad = task.spawn(function() error("thread broke") end)
local msg = expect.fails(function() task.wait(bad) end, "test_threads.lua:20: thread broke")

-- error tables pass through unchanged
local tb = task.spawn(function() error({code = 42}) end)
local ok, e = pcall(task.wait, tb)
expect.eq(ok, false)
expect.eq(e.code, 42)

-- threads share the script's globals and upvalues
local counter = 0
local hs = {}
for i = 1, 20 do
  hs[i] = task.spawn(function() task.sleep(0.001) counter = counter + 1 end)
end
task.wait_all(hs)
expect.eq(counter, 20)

-- map keeps input order and bounds concurrency
local running, peak = 0, 0
local out = task.map({5, 4, 3, 2, 1}, function(x, i)
  running = running + 1
  if running > peak then peak = running end
  task.sleep(0.005 * x)
  running = running - 1
  return x * 10 + i
end, {concurrency = 2})
expect.eq(out, {51, 42, 33, 24, 15})
expect.eq(peak, 2)
expect.fails(function() task.map({1}, function() end, {concurrency = 0}) end, "concurrency must be")
expect.fails(function() task.map({1, 2}, function(x) if x == 2 then error("map item failed") end end) end, "map item failed")

-- pcall around blocking calls inside a light thread
local guarded = task.spawn(function()
  local ok1 = pcall(task.sleep, 0.001)
  local ok2, err = pcall(function() task.sleep(0.001) error("inner") end)
  return {ok1, ok2, (err:gsub("^.*: ", ""))}
end)
expect.eq(task.wait(guarded), {true, false, "inner"})

-- nested spawns
local outer = task.spawn(function()
  local inner = task.spawn(function() task.sleep(0.001) return "inner" end)
  return "outer+" .. task.wait(inner)
end)
expect.eq(task.wait(outer), "outer+inner")

expect.fails(function() task.wait() end, "no handle")
expect.fails(function() task.wait(42) end, "task handle expected")
