"""OdooRPC, as Debian packages it (python3-odoorpc), through its own API:
python3 odoorpc_client.py HOST PORT DB."""
import sys

import odoorpc

from scenario import Steps, orm_steps

host, port, db = sys.argv[1], int(sys.argv[2]), sys.argv[3]

s = Steps()
s.run("odoorpc_file", lambda: odoorpc.__file__)
odoo = odoorpc.ODOO(host, port=port)
s.run("version", lambda: odoo.version)
s.run("login_wrong_password", lambda: odoo.login(db, "admin", "wrong"))
s.run("login", lambda: (odoo.login(db, "admin", "admin"), odoo.env.uid)[1])
s.run("context", lambda: odoo.env.context)
s.run("env_user", lambda: [odoo.env.user.name, odoo.env.user.login, odoo.env.user.company_id.name])
s.run("model_exists", lambda: ["res.partner" in odoo.env, "x.y" in odoo.env])
Partner = odoo.env["res.partner"]
s.run("browse", lambda: [[p.name, p.country_id.code] for p in Partner.browse([1, 3])])
s.run("model_search", lambda: Partner.search([("is_company", "=", True), ("country_id.code", "=", "MA")], order="id"))
orm_steps(s, lambda model, method, args, kw: odoo.execute_kw(model, method, args, kw))
s.run("fault_password", lambda: odoorpc.ODOO(host, port=port).login(db, "demo", "wrong"))
s.dump()
