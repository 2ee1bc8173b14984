-- The main chunk fails: no test runs.
local x = require("no_such_module")

function TestUnreached(t) end
