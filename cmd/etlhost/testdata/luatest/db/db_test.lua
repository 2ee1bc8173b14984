local pg = require("pg")
local odoo = require("odoo")

function TestPostgres(t)
  local db = pg.connect()
  db:exec("create table amounts (id int, cents bigint)")
  t:eq(db:copy("amounts", {"id", "cents"}, {{1, 100}, {2, 250}}), 2)
  local row = db:query_row("select sum(cents)::bigint as total from amounts")
  t:eq(row.total, 350)
end

function TestOdooSimulator(t)
  local erp = odoo.connect()
  local n = erp:count("account.move", {})
  t:eq(n > 0, true, "moves in the simulator")
  local v = erp:version()
  t:log("server", v.server_version)
end
