-- A misspelled function is nil.
local erp = {search_read = function() return {} end}
local partners = erp.serch_read("res.partner", {}) --> erp.serch_read is nil: no such function (Lua said: attempt to call a non-function object)
return #partners
