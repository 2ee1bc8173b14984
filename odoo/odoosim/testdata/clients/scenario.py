"""The scenario every client runs against the simulator (clients_test.go).

Each step records its value, or the error the client raised, under its
name; the script prints them as one JSON object. The Go test compares them
with what Odoo returns (from Odoo's source) and with the simulator's data.
"""
import json
import sys
import traceback
import urllib.error
import xmlrpc.client


class Steps:
    def __init__(self):
        self.out = {}

    def run(self, name, fn):
        try:
            self.out[name] = {"value": fn()}
        except Exception as exc:  # the test compares the error
            self.out[name] = {"error": describe(exc)}
        return self.out[name].get("value")

    def dump(self):
        json.dump(self.out, sys.stdout, ensure_ascii=False, sort_keys=True, default=str)
        sys.stdout.write("\n")


def describe(exc):
    """A JSON description of an error as the client raised it."""
    if isinstance(exc, xmlrpc.client.Fault):
        return {"type": "Fault", "faultCode": exc.faultCode, "faultString": exc.faultString}
    if isinstance(exc, urllib.error.HTTPError):
        body = exc.read().decode("utf-8", "replace")
        try:
            body = json.loads(body)
        except ValueError:
            pass
        return {"type": "HTTPError", "status": exc.code, "body": body}
    info = getattr(exc, "info", None)
    if info is not None:  # odoorpc.error.RPCError
        return {"type": type(exc).__name__, "message": str(exc.args[0]), "info": info}
    if getattr(exc, "error", None) is not None:  # JSON-RPC error dict
        return {"type": type(exc).__name__, "error": exc.error}
    return {"type": type(exc).__name__, "message": str(exc),
            "traceback": traceback.format_exc()}


def orm_steps(s, call):
    """The ORM calls, through call(model, method, args, kwargs)."""
    s.run("search", lambda: call("res.partner", "search",
                                 [[["is_company", "=", True], ["country_id.code", "=", "MA"]]], {"order": "id"}))
    s.run("search_count", lambda: call("res.partner", "search_count", [[["is_company", "=", True]]], {}))
    s.run("search_read", lambda: call("res.partner", "search_read", [[["id", "in", [1, 2]]]],
                                      {"fields": ["name", "country_id"], "order": "id"}))
    s.run("read", lambda: call("res.partner", "read", [[10]], {"fields": ["name", "is_company", "country_id"]}))
    s.run("fields_get", lambda: call("res.partner", "fields_get", [["name", "country_id"]],
                                     {"attributes": ["type", "string", "relation"]}))
    s.run("name_search", lambda: call("res.partner", "name_search", ["Atlas"], {"limit": 10}))
    new_id = s.run("create", lambda: call("res.partner", "create", [{"name": "Client Test", "is_company": True}], {}))
    s.run("write", lambda: call("res.partner", "write", [[new_id], {"city": "Gent"}], {}))
    s.run("read_back", lambda: call("res.partner", "read", [[new_id]], {"fields": ["name", "city"]}))
    s.run("unlink", lambda: call("res.partner", "unlink", [[new_id]], {}))
    s.run("gone", lambda: call("res.partner", "search_count", [[["id", "=", new_id]]], {}))
    s.run("read_group", lambda: call("account.move", "read_group",
                                     [[["state", "=", "posted"]], ["amount_total:sum"], ["partner_id"]], {}))
    s.run("read_group_month", lambda: call("account.move", "read_group",
                                           [[["state", "=", "posted"]], ["amount_total"], ["invoice_date:month"]],
                                           {"orderby": "invoice_date:month"}))
    s.run("user", lambda: call("res.users", "read", [[2]], {"fields": ["name", "login"]}))
    s.run("context_get", lambda: call("res.users", "context_get", [], {}))
    s.run("check_access", lambda: call("res.users", "check_access_rights", [],
                                       {"operation": "read", "raise_exception": False}))
    s.run("model_lookup", lambda: call("ir.model", "search_read", [[["model", "=", "res.partner"]]],
                                       {"fields": ["model", "name"]}))
    s.run("field_lookup", lambda: call("ir.model.fields", "search_read",
                                       [[["model", "=", "res.partner"], ["name", "=", "country_id"]]],
                                       {"fields": ["name", "ttype", "relation"]}))
    s.run("fault_field", lambda: call("res.partner", "search", [[["nope", "=", 1]]], {}))
    s.run("fault_model", lambda: call("x.y", "search", [[]], {}))
    s.run("fault_no_name", lambda: call("res.partner", "create", [{"email": "nobody@example.com"}], {}))
