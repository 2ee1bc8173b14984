-- Faults, bad arguments and refused writes.
local odoo = require("odoo")
local erp = odoo.connect()

-- fault 1: the useful line of the traceback, the traceback in a field
local ok, err = pcall(function()
  return erp:search_read("res.partner", {}, {fields = {"no_such_field"}, limit = 1})
end)
expect.eq(ok, false)
expect.eq(err.code, 1, "fault code 1")
expect.truthy(string.find(err.message, "Invalid field", 1, true) ~= nil, "message: " .. tostring(err.message))
expect.truthy(string.find(err.message, "\n", 1, true) == nil, "message is one line")
expect.truthy(string.find(err.traceback, "Traceback (most recent call last)", 1, true) == 1, "traceback kept")
expect.eq(err.model, "res.partner")
expect.eq(err.method, "search_read")
expect.truthy(string.match(tostring(err), "^test_errors%.lua:%d+: odoo: fault 1: ") ~= nil, "tostring: " .. tostring(err))
expect.truthy(string.match(err.where, "^test_errors%.lua:%d+$") ~= nil, "where: " .. tostring(err.where))

-- fault 2: a missing record
ok, err = pcall(function() erp:write("res.partner", {987654321}, {name = "ghost"}) end)
expect.eq(ok, false)
expect.eq(err.code, 2, "missing record is fault 2")
expect.truthy(string.find(err.message, "Record does not exist or has been deleted", 1, true) ~= nil, err.message)
expect.truthy(string.find(err.message, "Traceback", 1, true) == nil, "the message is not a traceback")
expect.fails(function() erp:write("res.partner", {987654321}, {name = "ghost"}) end,
  "odoo: fault 2: Record does not exist or has been deleted")

-- fault 2: an unknown model
ok, err = pcall(function() erp:search("no.such.model", {}) end)
expect.eq(ok, false)
expect.eq(err.code, 2, "unknown model is fault 2")
expect.truthy(string.find(err.message, "no.such.model", 1, true) ~= nil, err.message)

-- fault 4: a private method
ok, err = pcall(function() erp:call("res.partner", "_private_thing", {}) end)
expect.eq(ok, false)
expect.eq(err.code, 4, "private methods are access errors")

-- malformed domains are refused before sending, showing the bad term
expect.fails(function() erp:search("res.partner", {{"id", "=", 1}, {"state", "=="}}) end,
  'bad domain term #2 {"state", "=="}: expected {field, operator, value} with a known operator')
expect.fails(function() erp:search("res.partner", {{"city", "=", nil}}) end, "use false, not nil")
expect.fails(function() erp:search("res.partner", {{"city", "between", 1}}) end,
  'bad domain term #1 {"city", "between", 1}')
expect.fails(function() erp:search("res.partner", {"|", {"id", "=", 1}}) end, '"|" at #1 needs two terms after it')
expect.fails(function() erp:search("res.partner", {"!"}) end, '"!" at #1 needs a term after it')
expect.fails(function() erp:search("res.partner", {"or", {"id", "=", 1}}) end, 'bad domain term #1 "or"')
expect.fails(function() erp:search("res.partner", {{"country_id", "any", 3}}) end, "must be a domain")
expect.fails(function() erp:search("res.partner", {{"country_id", "any", {{"code"}}}}) end, "in term #1")
expect.fails(function() erp:search("res.partner", "state = posted") end, "bad domain: expected a table")

-- bad options and calls
expect.fails(function() erp:search_read("res.partner", {}, {feilds = {"name"}}) end, "unknown option feilds")
expect.fails(function() erp:search_read("res.partner", {}, {limit = -1}) end, "opts.limit must be a whole number")
expect.fails(function() erp.search_read("res.partner", {}) end, "search_read: call it with a colon: erp:search_read(...)")
expect.fails(function() erp:search_read(nil, {}) end, "the model name (argument 1) must be a string")
expect.fails(function() odoo.connect("nope") end, 'no Odoo connection named "nope" (configured: default')

-- writes need a grant: this state grants res.partner and account.move only
expect.fails(function() erp:create("res.country", {name = "Atlantis", code = "AT"}) end,
  'odoo: write to res.country refused: add "--! odoo-writes = res.country" to the script header or run with --odoo-writes')
expect.fails(function() erp:unlink("res.country", {1}) end, "write to res.country refused")
expect.fails(function() erp:call("res.country", "action_archive", {{1}}) end,
  "write to res.country refused (action_archive is not known to be read-only)")
-- read-only methods need none
local c = erp:call("res.country", "search_count", {{}})
expect.truthy(type(c) == "number" and c > 0, "read-only call allowed")
