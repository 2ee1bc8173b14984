---@meta
-- LuaLS definitions for the `t` object that `etlhost test` passes to each
-- global function TestXxx(t) of a *_test.lua file.

---A running test. Methods that fail a test add the caller's file:line to
---the message, as Go's testing package does.
---@class etlhost.T
local T = {}

---The test's name ("TestTotals").
---@return string
function T:name() end

---Logs a line, shown under the test's result when it fails or with -v.
---@param ... any values, joined with spaces
function T:log(...) end

---Marks the test failed and goes on.
---@param ... any the message, joined with spaces
function T:error(...) end

---Marks the test failed and stops it.
---@param ... any the message, joined with spaces
function T:fatal(...) end

---Stops the test and reports it skipped (not failed).
---@param ... any the reason, joined with spaces
function T:skip(...) end

---Fails the test (and goes on) when got and want differ: plain values are
---compared deeply (tables key by key). Returns whether they were equal.
---@param got any
---@param want any
---@param msg? string what was compared, shown before the difference
---@return boolean equal
function T:eq(got, want, msg) end

---Calls fn and fails the test when it raises no error or one whose message
---does not contain substring. Returns the error message.
---@param fn fun()
---@param substring string
---@return string message
function T:raises(fn, substring) end

---Whether the test has failed so far.
---@return boolean
function T:failed() end

return T
