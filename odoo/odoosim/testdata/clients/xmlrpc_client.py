"""Python's xmlrpc.client on /xmlrpc/2/<service> and, with "legacy", on
/xmlrpc/<service>: python3 xmlrpc_client.py URL DB [legacy]."""
import sys
import xmlrpc.client

from scenario import Steps, orm_steps

url, db = sys.argv[1], sys.argv[2]
root = url + ("/xmlrpc/" if sys.argv[3:] == ["legacy"] else "/xmlrpc/2/")
common = xmlrpc.client.ServerProxy(root + "common")
models = xmlrpc.client.ServerProxy(root + "object")
dbs = xmlrpc.client.ServerProxy(root + "db")

s = Steps()
s.run("version", lambda: common.version()["server_version"])
s.run("db_list", lambda: dbs.list())
s.run("db_server_version", lambda: dbs.server_version())
uid = s.run("login", lambda: common.authenticate(db, "admin", "admin", {}))
s.run("login_wrong_password", lambda: common.authenticate(db, "admin", "wrong", {}))
orm_steps(s, lambda model, method, args, kw: models.execute_kw(db, uid, "admin", model, method, args, kw))
s.run("fault_password", lambda: models.execute_kw(db, uid, "wrong", "res.partner", "search", [[]]))
s.dump()
