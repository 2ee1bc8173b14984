local log = require("log")

function TestEq(t)
  t:eq(1 + 1, 3, "sum")
  t:eq({a = {1, 2}}, {a = {1, 3}})
  log.info("still running", {step = 2})
end

function TestFatal(t)
  t:log("before")
  t:fatal("cannot go on:", 42)
  t:error("never reached")
end

function TestRuntimeError(t)
  local row = nil
  return row.amount
end

function TestPasses(t)
  t:eq("a", "a")
end

function TestRaisesNothing(t)
  t:raises(function() end, "boom")
end
