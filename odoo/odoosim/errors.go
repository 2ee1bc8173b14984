package odoosim

import (
	"fmt"
	"net/http"
	"strings"
)

// pyErr is a Python exception as Odoo would raise it. The transports turn it
// into an XML-RPC fault (code and faultString) or a JSON-2 error (status and
// body) the way Odoo's RPC controllers do.
type pyErr struct {
	class  string // qualified class, "ValueError" or "odoo.exceptions.UserError"
	msg    string
	fault  int // XML-RPC faultCode
	status int // JSON-2 HTTP status
	frames []string
	// args are the exception's args when they differ from (msg,): a
	// KeyError's message is the repr of its key, its args the key itself.
	args []any
}

// arguments is the exception's args, as JSON-RPC's serialize_exception
// reports them (odoo/http.py).
func (e *pyErr) arguments() []any {
	if e.args != nil {
		return e.args
	}
	if strings.HasPrefix(e.class, "werkzeug.") {
		return []any{e.msg, int64(e.status)}
	}
	return []any{e.msg}
}

// unicode is odoo.tools.exception_to_unicode(e): the args joined by new
// lines, which the legacy /xmlrpc/<service> route puts in faultCode.
func (e *pyErr) unicode() string {
	args := e.arguments()
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = pyStr(a)
	}
	return strings.Join(parts, "\n")
}

// legacyFault is the faultCode and faultString of the legacy
// /xmlrpc/<service> route, from xmlrpc_handle_exception_string
// (odoo/addons/base/controllers/rpc.py): "warning -- <Class>\n\n<message>"
// and an empty string for Odoo's user-facing exceptions, "AccessDenied"
// and the message for a refused login, the message and the traceback for
// anything else.
func (e *pyErr) legacyFault() (code, str string) {
	switch e.class {
	case "odoo.exceptions.MissingError":
		return "warning -- MissingError\n\n" + e.msg, ""
	case "odoo.exceptions.AccessError":
		return "warning -- AccessError\n\n" + e.msg, ""
	case "odoo.exceptions.AccessDenied":
		return "AccessDenied", e.msg
	case "odoo.exceptions.UserError", "odoo.exceptions.ValidationError":
		return "warning -- UserError\n\n" + e.msg, ""
	}
	return e.unicode(), e.traceback()
}

func (e *pyErr) Error() string { return e.class + ": " + e.msg }

// pyName is the class name as JSON-2 reports it: builtins get their module.
func (e *pyErr) pyName() string {
	if !strings.Contains(e.class, ".") {
		return "builtins." + e.class
	}
	return e.class
}

// faultString is what Odoo puts in the XML-RPC fault: the message for the
// Odoo exceptions it knows (codes 2-4), a full traceback otherwise (code 1).
func (e *pyErr) faultString() string {
	if e.fault != 1 {
		return e.msg
	}
	return e.traceback()
}

// traceback renders a Python traceback whose last line is the message, the
// line clients show to users.
func (e *pyErr) traceback() string {
	var b strings.Builder
	b.WriteString("Traceback (most recent call last):\n")
	frames := e.frames
	if len(frames) == 0 {
		frames = defaultFrames
	}
	for _, f := range frames {
		b.WriteString(f)
	}
	b.WriteString(e.class)
	if e.msg != "" {
		b.WriteString(": ")
		b.WriteString(e.msg)
	}
	b.WriteByte('\n')
	return b.String()
}

const odooPath = "/usr/lib/python3/dist-packages/odoo"

var defaultFrames = []string{
	`  File "` + odooPath + `/addons/base/controllers/rpc.py", line 162, in xmlrpc_2` + "\n" +
		"    response = self._xmlrpc(service)\n",
	`  File "` + odooPath + `/addons/base/controllers/rpc.py", line 139, in _xmlrpc` + "\n" +
		"    result = dispatch_rpc(service, method, params)\n",
	`  File "` + odooPath + `/http.py", line 368, in dispatch_rpc` + "\n" +
		"    return dispatch(method, params)\n",
	`  File "` + odooPath + `/service/model.py", line 39, in dispatch` + "\n" +
		"    res = execute_kw(db, uid, *params[3:])\n",
	`  File "` + odooPath + `/service/model.py", line 64, in execute_kw` + "\n" +
		"    return execute(db, uid, obj, method, *args, **kw or {})\n",
	`  File "` + odooPath + `/service/model.py", line 70, in execute` + "\n" +
		"    res = execute_cr(cr, uid, obj, method, *args, **kw)\n",
	`  File "` + odooPath + `/api.py", line 466, in call_kw` + "\n" +
		"    result = _call_kw_model(method, model, args, kwargs)\n",
}

// The first frames of a traceback on the other routes (rpc.py's xmlrpc_1
// and jsonrpc, dataset.py's call_kw), in place of defaultFrames' first two
// (or, for call_kw, of all but the last, api.call_kw).
var (
	legacyFrames = []string{
		`  File "` + odooPath + `/addons/base/controllers/rpc.py", line 155, in xmlrpc_1` + "\n" +
			"    response = self._xmlrpc(service)\n",
		defaultFrames[1],
	}
	jsonrpcFrames = []string{
		`  File "` + odooPath + `/addons/base/controllers/rpc.py", line 171, in jsonrpc` + "\n" +
			"    return dispatch_rpc(service, method, args)\n",
	}
	callKwFrames = []string{
		`  File "` + odooPath + `/addons/web/controllers/dataset.py", line 42, in call_kw` + "\n" +
			"    return self._call_kw(model, method, args, kwargs)\n",
		`  File "` + odooPath + `/addons/web/controllers/dataset.py", line 33, in _call_kw` + "\n" +
			"    return call_kw(request.env[model], method, args, kwargs)\n",
	}
)

// onRoute gives e the traceback of the route it was raised on: head
// replaces defaultFrames' first skip frames. An error with frames of its
// own keeps them.
func (e *pyErr) onRoute(head []string, skip int) *pyErr {
	if len(e.frames) == 0 {
		e.frames = append(append([]string{}, head...), defaultFrames[skip:]...)
	}
	return e
}

func newErr(class string, fault, status int, format string, args ...any) *pyErr {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &pyErr{class: class, msg: msg, fault: fault, status: status}
}

// valueErr is Python's ValueError: bad field, bad domain, bad order.
func valueErr(format string, args ...any) *pyErr {
	return newErr("ValueError", 1, http.StatusInternalServerError, format, args...)
}

// typeErr is Python's TypeError: bad arguments to a method.
func typeErr(format string, args ...any) *pyErr {
	return newErr("TypeError", 1, http.StatusInternalServerError, format, args...)
}

func attributeErr(format string, args ...any) *pyErr {
	return newErr("AttributeError", 1, http.StatusInternalServerError, format, args...)
}

func userErr(format string, args ...any) *pyErr {
	return newErr("odoo.exceptions.UserError", 2, http.StatusUnprocessableEntity, format, args...)
}

func validationErr(format string, args ...any) *pyErr {
	return newErr("odoo.exceptions.ValidationError", 2, http.StatusUnprocessableEntity, format, args...)
}

func missingErr(format string, args ...any) *pyErr {
	return newErr("odoo.exceptions.MissingError", 2, http.StatusNotFound, format, args...)
}

func accessErr(format string, args ...any) *pyErr {
	return newErr("odoo.exceptions.AccessError", 4, http.StatusForbidden, format, args...)
}

func accessDenied() *pyErr {
	return newErr("odoo.exceptions.AccessDenied", 3, http.StatusUnauthorized, "Access Denied")
}

// pgErr is an error raised by PostgreSQL through psycopg2 (fault 1).
func pgErr(class, format string, args ...any) *pyErr {
	return newErr("psycopg2."+class, 1, http.StatusInternalServerError, format, args...)
}

// httpErr is a werkzeug HTTP exception, only raised by the JSON-2 layer.
func httpErr(status int, format string, args ...any) *pyErr {
	class := "werkzeug.exceptions." + strings.ReplaceAll(http.StatusText(status), " ", "")
	return newErr(class, 1, status, format, args...)
}

// keyErr is Python's KeyError: its message is the key's repr.
func keyErr(key string) *pyErr {
	e := newErr("KeyError", 1, http.StatusInternalServerError, "%s", pyRepr(key))
	e.args = []any{key}
	return e
}

func invalidField(model, name string) *pyErr {
	return valueErr("Invalid field %s on model %s", pyRepr(name), pyRepr(model))
}

func recordMissing(model string, ids []int64, uid int64) *pyErr {
	var b strings.Builder
	b.WriteString("Record does not exist or has been deleted.\n(Record: ")
	b.WriteString(model)
	b.WriteByte('(')
	for _, id := range ids {
		fmt.Fprintf(&b, "%d,", id)
	}
	b.WriteString(")")
	fmt.Fprintf(&b, ", User: %d)", uid)
	return missingErr("%s", b.String())
}
