-- An empty result: the first row is nil.
local rows = {}
local first = rows[1].name --> rows[1] is nil (reading rows[1].name) (Lua said: attempt to index a non-table object(nil) with key 'name')
return first
