-- Assertions for the executable specifications in spec/. A spec passes when
-- its script ends with status ok.
local json = require("json")
local M = {}

local function show(v)
  local ok, s = pcall(json.encode, v)
  if ok then return s end
  return tostring(v)
end

-- eq fails unless got and want encode to the same JSON (plain values).
function M.eq(got, want, what)
  local g, w = show(got), show(want)
  if g ~= w then
    error((what or "value") .. ": got " .. g .. ", want " .. w, 2)
  end
end

-- fails(fn, substring) runs fn, which must raise an error containing
-- substring (plain text); returns the error value.
function M.fails(fn, substring)
  local ok, err = pcall(fn)
  if ok then error("expected an error containing '" .. substring .. "', got none", 2) end
  local msg = tostring(err)
  if not msg:find(substring, 1, true) then
    error("expected an error containing '" .. substring .. "', got: " .. msg, 2)
  end
  return err
end

function M.truthy(v, what)
  if not v then error((what or "value") .. " should be true", 2) end
end

return M
