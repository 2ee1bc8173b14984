---@meta
-- LuaLS definitions for etlhost's `json` module.

---@class json.Module
local json = {}

---Encodes a value as JSON (object keys sorted). Tables with keys 1..n are arrays.
---@param value any
---@param opts? {indent?: string}
---@return string
function json.encode(value, opts) end

---Decodes JSON text; null becomes nil. A document nested deeper than 100 levels is an error.
---@param text string
---@return any
function json.decode(text) end

return json
