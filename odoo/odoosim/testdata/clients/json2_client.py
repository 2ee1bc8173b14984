"""JSON-2 (Odoo 19) from Python's standard library, positional arguments
named from /doc-bearer/<model>.json as odoo-client-lib does: python3
json2_client.py URL DB API_KEY."""
import json
import sys
import urllib.request

from scenario import Steps, orm_steps

url, db, key = sys.argv[1], sys.argv[2], sys.argv[3]


def request(path, body=None, api_key=key):
    headers = {"Authorization": "bearer " + api_key, "X-Odoo-Database": db}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    req = urllib.request.Request(url + path, data, headers, method="POST" if body is not None else "GET")
    with urllib.request.urlopen(req) as resp:
        return json.load(resp)


docs = {}


def call(model, method, args, kw):
    """Name the positional arguments with the model's document."""
    if model not in docs:
        docs[model] = request("/doc-bearer/%s.json" % model)["methods"]
    params = dict(kw)
    if args:
        doc = docs[model][method]
        names = list(doc["parameters"])
        if "model" not in doc["api"]:
            names.insert(0, "ids")
        params.update(zip(names, args))
    return request("/json/2/%s/%s" % (model, method), params)


s = Steps()
s.run("version", lambda: request("/web/version")["server_version"])
s.run("login", lambda: request("/json/2/res.users/context_get", {})["uid"])
s.run("doc", lambda: sorted(request("/doc-bearer/res.partner.json")["methods"]["search"]["parameters"]))
orm_steps(s, call)
s.run("fault_password", lambda: request("/json/2/res.partner/search", {"domain": []}, api_key="wrong"))
s.dump()
