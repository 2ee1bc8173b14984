---@meta
-- LuaLS definitions for etlhost's `task` module.

---@class taskmod
local task = {}

---Waits; stops with an error at the script's deadline or on Ctrl+C.
---@param seconds number
function task.sleep(seconds) end

return task
