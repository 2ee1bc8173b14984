-- A block left open: gopher-lua stops at the end of the file; the hint
-- names the block, as Lua 5.3 does.
local function net(amount, tax)
  if tax then
    return amount - tax
  end

return net(10, 2) --> 'end' expected (to close 'function' at line 3) (Lua said: syntax error at the end of the file)
