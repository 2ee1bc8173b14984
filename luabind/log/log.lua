---@meta
-- LuaLS definitions for etlhost's `log` module.

---@class log.Module
local log = {}

---Logs a debug line (shown with -v).
---@param msg any
---@param fields? table<string, any>
function log.debug(msg, fields) end

---Logs an info line, shown prefixed with the script's name.
---@param msg any
---@param fields? table<string, any>
function log.info(msg, fields) end

---Logs a warning.
---@param msg any
---@param fields? table<string, any>
function log.warn(msg, fields) end

---Logs an error line (the script goes on; raise an error to fail it).
---@param msg any
---@param fields? table<string, any>
function log.error(msg, fields) end

---Reports progress for progress displays.
---@param done integer
---@param total? integer
function log.progress(done, total) end

return log
