---@meta
-- LuaLS definitions for etlhost's `task` module: light threads, channels
-- and semaphores. Only one thread of a script runs Lua code at a time;
-- every blocking call (odoo, pg, task.sleep, channels, waits) lets the
-- others run.

---@class task.Module
local task = {}

---Waits; stops with an error at the script's deadline or on Ctrl+C.
---@param seconds number at most 24 hours
function task.sleep(seconds) end

---Starts fn(...) on a light thread and returns its handle at once.
---@param fn fun(...): ...
---@param ... any arguments passed to fn
---@return task.Handle
function task.spawn(fn, ...) end

---Waits for the threads and returns the first result of each, in order.
---Raises the first thread's error that it meets, as the thread raised it.
---@param ... task.Handle
---@return any ...
function task.wait(...) end

---Waits for every thread of the list, then raises the first error (in list
---order) or returns the list of their first results.
---@param handles task.Handle[]
---@return any[]
function task.wait_all(handles) end

---Calls fn(item, index) for each item on at most opts.concurrency light
---threads (default: one per item) and returns the results in input order.
---@generic T, R
---@param list T[]
---@param fn fun(item: T, index: integer): R
---@param opts? { concurrency: integer? }
---@return R[]
function task.map(list, fn, opts) end

---A channel between the script's threads, holding up to capacity values
---(0, the default: send waits for a receiver).
---@param capacity? integer 0 to 1000000
---@return task.Channel
function task.channel(capacity) end

---A semaphore with n permits: at most n holders at once.
---@param n integer
---@return task.Semaphore
function task.semaphore(n) end

---A light thread started by task.spawn.
---@class task.Handle
local Handle = {}

---Waits for the thread and returns all its results (raises its error).
---@return any ...
function Handle:wait() end

---Whether the thread has finished, without waiting.
---@return boolean
function Handle:done() end

---@class task.Channel
local Channel = {}

---Sends a value, waiting while the channel is full. Raises an error on a
---closed channel.
---@param value any
function Channel:send(value) end

---Receives the next value: value, true; or nil, false once the channel is
---closed and empty. Waits while it is empty.
---@return any value
---@return boolean ok
function Channel:recv() end

---Closes the channel: receivers get what is left, then nil, false.
function Channel:close() end

---Iterates over received values until the channel is closed and empty:
---`for v in ch:iter() do ... end`.
---@return fun(): any
function Channel:iter() end

---@class task.Semaphore
local Semaphore = {}

---Takes a permit, waiting until one is free.
function Semaphore:acquire() end

---Gives a permit back.
function Semaphore:release() end

---Runs fn(...) holding a permit (released even when fn raises) and returns
---its results.
---@param fn fun(...): ...
---@param ... any
---@return any ...
function Semaphore:with(fn, ...) end

return task
