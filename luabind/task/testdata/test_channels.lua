local task = require("task")

-- producer/consumer through a small buffer
local ch = task.channel(2)
local producer = task.spawn(function()
  for i = 1, 10 do ch:send(i) end
  ch:close()
end)
local got = {}
for v in ch:iter() do got[#got + 1] = v end
task.wait(producer)
expect.eq(got, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})

-- recv after close drains, then reports closed
local c2 = task.channel(3)
c2:send("a") c2:send("b") c2:close()
local v1, ok1 = c2:recv()
local v2, ok2 = c2:recv()
local v3, ok3 = c2:recv()
expect.eq({v1, ok1, v2, ok2, v3, ok3}, {"a", true, "b", true, nil, false})
expect.fails(function() c2:send("x") end, "send on a closed channel")
expect.fails(function() c2:close() end, "close of a closed channel")

-- unbuffered: a rendezvous; tables cross by reference (same script)
local c3 = task.channel()
local t = {n = 1}
local recv = task.spawn(function() local v = c3:recv() v.n = v.n + 1 return v end)
c3:send(t)
expect.eq(task.wait(recv).n, 2)
expect.eq(t.n, 2)

-- a blocked sender learns that the channel closed
local c4 = task.channel(0)
local sender = task.spawn(function() c4:send(1) end)
task.sleep(0.01)
c4:close()
expect.fails(function() task.wait(sender) end, "send on a closed channel")

-- semaphores bound work
local sem = task.semaphore(2)
local inside, most = 0, 0
local hs = {}
for i = 1, 6 do
  hs[i] = task.spawn(function()
    return sem:with(function(x)
      inside = inside + 1
      if inside > most then most = inside end
      task.sleep(0.005)
      inside = inside - 1
      return x
    end, i)
  end)
end
expect.eq(task.wait_all(hs), {1, 2, 3, 4, 5, 6})
expect.eq(most, 2)
expect.fails(function() sem:release() end, "released more often")
expect.fails(function() task.semaphore(0) end, "at least 1 slot")
