---@meta
-- LuaLS definitions for etlhost's `etl` module.

-- A script cannot tell a dry run from the run that commits: there is no
-- etl.dry_run.
---@class etl.Module
---@field name string the script's name (file name without .lua)
---@field args table<string, string> the run's --arg key=value pairs
local etl = {}

---Seconds left before the script's timeout (math.huge when there is none).
---@return number
function etl.deadline() end

---An argument of the run, or a default.
---@param key string
---@param default? string
---@return string|nil
function etl.arg(key, default) end

return etl
