"""Try one of the real Odoo clients of ../shared/clients against a running
`etlhost odoo-sim` (try_shared_clients.sh starts the simulators and sets
PYTHONPATH to the client's folder).

    python3 shared_clients.py CLIENT URL_17 URL_19

CLIENT is erppeek, odooly, odooly-2.5.8 or odoo-client-lib. It prints one
line per protocol and step: "ok" with what the client returned, or
"FAILED" with the error it raised, and exits 1 when a step that a real Odoo
of the simulated version answers failed.
"""
import sys
import traceback
from urllib.parse import urlsplit

client, url17, url19 = sys.argv[1], sys.argv[2], sys.argv[3]
DB, USER, PASSWORD, API_KEY = "demo", "admin", "admin", "demo-api-key"
failures = 0


def short(v, n=110):
    s = repr(v).replace("\n", " ")
    return s if len(s) <= n else s[: n - 3] + "..."


def step(label, fn, expect_error=None):
    """Run one step; expect_error names the error a real Odoo raises too."""
    global failures
    try:
        v = fn()
    except Exception as exc:
        msg = "%s: %s" % (type(exc).__name__, str(exc).strip().splitlines()[-1] if str(exc).strip() else "")
        if expect_error and expect_error in str(exc):
            print("  ok      %-28s raised, as Odoo does: %s" % (label, short(msg)))
            return None
        failures += 1
        print("  FAILED  %-28s %s" % (label, short(msg, 200)))
        if "-v" in sys.argv:
            traceback.print_exc()
        return None
    if expect_error:
        failures += 1
        print("  FAILED  %-28s returned %s, want an error (%s)" % (label, short(v), expect_error))
        return v
    print("  ok      %-28s %s" % (label, short(v)))
    return v


def hostport(url):
    u = urlsplit(url)
    return u.hostname, u.port


def orm(label, call):
    """The same ORM steps through call(model, method, *args, **kw)."""
    print(label)
    ids = step("search (domain)", lambda: call("res.partner", "search", [("is_company", "=", True)], limit=3))
    step("search_count", lambda: call("res.partner", "search_count", [("customer_rank", ">", 0)]))
    step("read", lambda: call("res.partner", "read", ids[:2], ["name", "country_id"]))
    step("search_read", lambda: call("account.move", "search_read", [("state", "=", "posted")],
                                     ["name", "amount_total"], limit=2))
    step("fields_get", lambda: sorted(call("account.move", "fields_get", ["state"], attributes=["type", "selection"])))
    step("name_search", lambda: call("res.partner", "name_search", "a", limit=3))
    new = step("create", lambda: call("res.partner", "create", {"name": "Shared Client Test"}))
    step("write", lambda: call("res.partner", "write", [new], {"city": "Gent"}))
    step("unlink", lambda: call("res.partner", "unlink", [new]))
    step("read_group", lambda: call("account.move", "read_group", [("state", "=", "posted")], ["amount_total:sum"],
                                    ["invoice_date:month"], limit=2))
    step("bad field", lambda: call("res.partner", "search", [("nope", "=", 1)]), expect_error="Invalid field")
    step("bad model", lambda: call("x.y", "search", []), expect_error="x.y")
    step("contact without a name", lambda: call("res.partner", "create", {"email": "a@b.c"}),
         expect_error="Contacts require a name")


def try_erppeek():
    import erppeek
    for url in (url17, url17 + "/xmlrpc", url17 + "/xmlrpc/2"):
        print("erppeek %s, Client(%r, %r, %r)" % (erppeek.__version__, url, DB, USER))
        c = step("connect + login", lambda: erppeek.Client(url, DB, USER, PASSWORD))
        if c is None:
            continue
        step("server_version", lambda: c.server_version)
        step("model lookup (ir.model)", lambda: c.model("res.partner"))
        step("models('account.')", lambda: sorted(c.models("account.")))
        step("count", lambda: c.count("res.partner", [("is_company", "=", True)]))
        step("read with a domain", lambda: c.read("res.partner", [("is_company", "=", True)], "name", limit=2))

        def call(model, method, *args, **kw):
            return c.execute_kw(model, method, list(args), kw)
        orm("erppeek execute_kw", call)
        # erppeek's Model.keys() calls fields_get_keys, which Odoo 17 removed.
        step("record attribute (fields_get_keys)", lambda: c.model("res.partner").browse(1).name,
             expect_error="fields_get_keys")
    step("wrong password", lambda: erppeek.Client(url17, DB, USER, "wrong"), expect_error="Invalid username or password")


def try_odooly():
    import odooly
    runs = [(url17, dict(password=PASSWORD)), (url17 + "/jsonrpc", dict(password=PASSWORD)),
            (url19, dict(password=PASSWORD)), (url19, dict(api_key=API_KEY))]
    if odooly.__version__.startswith("2.5"):
        runs = [(url17 + "/xmlrpc", dict(password=PASSWORD)), (url17 + "/jsonrpc", dict(password=PASSWORD)),
                (url17, dict(password=PASSWORD))]
    for url, cred in runs:
        odooly.Env._cache.clear()
        print("odooly %s, Client(%r, %r, %r, %s)" % (odooly.__version__, url, DB, USER, "api_key" if "api_key" in cred else "password"))
        c = step("connect + login", lambda: odooly.Client(url, DB, USER, **cred))
        if c is None:
            continue
        env = c.env
        proto = getattr(env._execute_kw, "_protocol_name", "?")
        step("version, uid, protocol", lambda: (c.server_version, env.uid, proto))
        step("user", lambda: (env.user.name, env.user.login, env.context))
        step("models('account.')", lambda: env.models("account."))
        step("search RecordList", lambda: env["res.partner"].search([("is_company", "=", True)], limit=2).name)

        def call(model, method, *args, **kw):
            return env.execute(model, method, *args, **kw)
        orm("odooly env.execute", call)
    odooly.Env._cache.clear()
    step("wrong password", lambda: odooly.Client(url17, DB, USER, "wrong"), expect_error="Invalid username or password")


def try_odoolib():
    import odoolib
    for proto, url, secret in (("xmlrpc", url17, PASSWORD), ("jsonrpc", url17, PASSWORD), ("json2", url19, API_KEY)):
        host, port = hostport(url)
        print("odoo-client-lib %s on %s" % (proto, url))
        conn = odoolib.get_connection(hostname=host, port=port, protocol=proto, database=DB, login=USER, password=secret)
        step("user context (context_get)", lambda: conn.get_user_context())
        step("read res.users", lambda: conn.get_model("res.users").read(2, ["name", "login"]))

        def call(model, method, *args, **kw):
            return getattr(conn.get_model(model), method)(*args, **kw)
        orm("odoo-client-lib %s" % proto, call)
        bad = odoolib.get_connection(hostname=host, port=port, protocol=proto, database=DB, login=USER,
                                     password="wrong")
        # json2 maps positional arguments first: /doc-bearer answers 401.
        step("wrong password", lambda: bad.get_model("res.partner").search([]),
             expect_error="401" if proto == "json2" else "Authentication fail")


{"erppeek": try_erppeek, "odooly": try_odooly, "odooly-2.5.8": try_odooly, "odoo-client-lib": try_odoolib}[client]()
print("%s: %s" % (client, "every step answered as Odoo does" if not failures else "%d step(s) FAILED" % failures))
sys.exit(1 if failures else 0)
