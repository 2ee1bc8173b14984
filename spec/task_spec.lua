--! timeout = 1m
-- Light threads overlap waiting; errors keep their position.
local expect = require("expect")
local task = require("task")

local t0 = os.time()
local hs = {}
for i = 1, 20 do hs[i] = task.spawn(function() task.sleep(0.1) return i * i end) end
local squares = task.wait_all(hs)
expect.eq(squares[20], 400, "results in order")

local h = task.spawn(function() error("broken thread") end)
local err = expect.fails(function() task.wait(h) end, "task_spec.lua:12: broken thread")

local ch = task.channel(4)
task.spawn(function() for i = 1, 5 do ch:send(i) end ch:close() end)
local sum = 0
for v in ch:iter() do sum = sum + v end
expect.eq(sum, 15, "channel sum")

local out = task.map({"a", "b", "c"}, function(x, i) task.sleep(0.01) return x .. i end, {concurrency = 2})
expect.eq(out, {"a1", "b2", "c3"}, "map keeps order")
return {ok = true}
