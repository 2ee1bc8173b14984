-- A library module under test: money amounts in cents.
local M = {}

function M.cents(amount)
  return math.floor(amount * 100 + 0.5)
end

function M.split(total, parts)
  local base = math.floor(total / parts)
  local out = {}
  for i = 1, parts do out[i] = base end
  for i = 1, total - base * parts do out[i] = out[i] + 1 end
  return out
end

return M
