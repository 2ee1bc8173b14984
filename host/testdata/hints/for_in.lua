-- A for-in over a table needs an iterator.
local rows = {{name = "a"}, {name = "b"}}
for _, r in rows do --> for _, r in rows do needs ipairs(rows) (a list) or pairs(rows) (a table with keys) (Lua said: attempt to call a non-function object)
  print(r.name)
end
