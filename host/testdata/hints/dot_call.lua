-- A method called with a dot gets no object: the module's self check says
-- so (luabind.CheckSelf), with the script's name for the object.
local thing = require("thing")
local conn = thing.open()
return conn.get("x") --> get: call it with a colon: conn:get(...)
