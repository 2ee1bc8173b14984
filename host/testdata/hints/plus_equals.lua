-- Lua has no augmented assignment.
local total = 0
for _, price in ipairs({10, 20}) do
  total += price --> Lua has no +=: write total = total + price (Lua said: parse error near '+')
end
return total
