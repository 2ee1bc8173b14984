-- Python's elif is elseif in Lua.
local state = "posted"
if state == "draft" then
  print("draft")
elif state == "posted" then --> Lua writes elseif, not elif: elseif state == "posted" then (Lua said: parse error near 'state')
  print("posted")
end
