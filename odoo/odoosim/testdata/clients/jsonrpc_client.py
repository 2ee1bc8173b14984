"""JSON-RPC from Python's standard library: /jsonrpc (common, object, db)
and the web client's routes with a session cookie: python3
jsonrpc_client.py URL DB."""
import http.cookiejar
import json
import sys
import urllib.request

from scenario import Steps, orm_steps

url, db = sys.argv[1], sys.argv[2]


class JsonRPCError(Exception):
    def __init__(self, error):
        super().__init__(error.get("message"))
        self.error = error


def opener():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def post(op, path, params):
    body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params, "id": 17}).encode()
    req = urllib.request.Request(url + path, body, {"Content-Type": "application/json"})
    with op.open(req) as resp:
        answer = json.load(resp)
    if answer.get("jsonrpc") != "2.0" or answer.get("id") != 17:
        raise ValueError("not a JSON-RPC 2.0 answer to request 17: %r" % answer)
    if "error" in answer:
        raise JsonRPCError(answer["error"])
    return answer.get("result")


plain = opener()


def rpc(service, method, *args):
    return post(plain, "/jsonrpc", {"service": service, "method": method, "args": args})


s = Steps()
s.run("version", lambda: rpc("common", "version")["server_version"])
s.run("db_list", lambda: rpc("db", "list"))
s.run("db_server_version", lambda: rpc("db", "server_version"))
uid = s.run("login", lambda: rpc("common", "login", db, "admin", "admin"))
s.run("login_wrong_password", lambda: rpc("common", "login", db, "admin", "wrong"))
orm_steps(s, lambda model, method, args, kw: rpc("object", "execute_kw", db, uid, "admin", model, method, args, kw))
s.run("fault_password", lambda: rpc("object", "execute_kw", db, uid, "wrong", "res.partner", "search", [[]]))

# The web client's routes: a session cookie instead of credentials.
web = opener()
s.run("web_version_info", lambda: post(web, "/web/webclient/version_info", {})["server_version"])
s.run("web_no_session", lambda: post(web, "/web/dataset/call_kw",
                                     {"model": "res.partner", "method": "search_count", "args": [[]], "kwargs": {}}))
s.run("web_wrong_password", lambda: post(web, "/web/session/authenticate",
                                         {"db": db, "login": "admin", "password": "wrong"}))
info = s.run("web_login", lambda: post(web, "/web/session/authenticate", {"db": db, "login": "admin", "password": "admin"}))
s.run("web_session_info", lambda: post(web, "/web/session/get_session_info", {}))


def call_kw(model, method, args, kw):
    return post(web, "/web/dataset/call_kw/%s/%s" % (model, method),
                {"model": model, "method": method, "args": args, "kwargs": kw})


s.run("web_search_count", lambda: call_kw("res.partner", "search_count", [[["is_company", "=", True]]], {}))
s.run("web_read_group", lambda: call_kw("account.move", "read_group",
                                        [[["state", "=", "posted"]], ["amount_total:sum"], ["partner_id"]], {}))
s.run("web_fault_model", lambda: call_kw("x.y", "search", [[]], {}))
s.run("web_destroy", lambda: post(web, "/web/session/destroy", {}))
s.run("web_after_destroy", lambda: call_kw("res.partner", "search_count", [[]], {}))
s.dump()
