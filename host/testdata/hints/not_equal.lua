-- Expected-error fixture (hints_test.go): the comment starting with `-->`
-- is the exact message reported for its line, after "file:line: ".
local total = 3
if total != 0 then --> Lua writes "not equal" as ~=, not !=: if total ~= 0 then (Lua said: Invalid token near '!')
  print("some")
end
