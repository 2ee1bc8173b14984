--! description = tests of lib/money.lua
local money = require("money")
local json = require("json")

function TestCents(t)
  t:eq(money.cents(12.345), 1235, "cents of 12.345")
  t:eq(money.cents(0), 0)
end

function TestSplit(t)
  local parts = money.split(100, 3)
  t:eq(parts, {34, 33, 33})
  t:log("parts", json.encode(parts))
end

function TestRaises(t)
  local msg = t:raises(function() money.cents(nil) end, "mul operation")
  t:eq(type(msg), "string")
end

function TestSkipped(t)
  t:skip("not on this machine")
  t:error("never reached")
end

function TestName(t)
  t:eq(t:name(), "TestName")
  t:eq(t:failed(), false)
  t:eq(tostring(t), "test TestName")
end

-- Not tests: a helper, and a lowercase name after Test.
function helper() return 1 end
function Testify() error("not a test") end
