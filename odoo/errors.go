package odoo

import (
	"errors"
	"fmt"
	"strings"
)

// Fault codes Odoo's XML-RPC layer uses (odoo/service/wsgi_server.py).
// JSON-2 HTTP statuses map onto the same codes.
const (
	FaultApplication  = 1 // any other exception; the string is a traceback
	FaultWarning      = 2 // user error: validation, missing record, lock, unknown model
	FaultAccessDenied = 3 // bad uid, password or API key
	FaultAccessError  = 4 // record rules, private method, unauthorized company
)

// ErrAuth is matched (errors.Is) by a failed login and by an access-denied
// fault (code 3). Such errors are never retried: Odoo locks an address out
// for 60 s after 5 failed logins. Only a refused login (and, over JSON-2, a
// refused API key) is kept for the life of the Client; a fault 3 that a
// method raises (res.users.change_password with a wrong old password) fails
// that call alone (see Client.Call).
var ErrAuth = errors.New("odoo login failed")

// ErrResponseTooLarge is matched by a response cut off at
// Config.MaxResponseBytes.
var ErrResponseTooLarge = errors.New("odoo response too large")

// AuthError is a failed login: Odoo answered authenticate with False (XML-RPC)
// or refused the API key (JSON-2). It never carries the password.
type AuthError struct {
	User, DB string
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("odoo login failed for user %s on db %s", e.User, e.DB)
}

// Is makes errors.Is(err, ErrAuth) true.
func (e *AuthError) Is(target error) bool { return target == ErrAuth }

// Fault is an error Odoo reported for a call (an XML-RPC fault, or a JSON-2
// error status). Use errors.As to inspect it.
type Fault struct {
	// Code is one of the Fault* constants.
	Code int
	// Message is the useful part: for code 1 the last line of the traceback
	// ("ValueError: Invalid field 'x' on model 'account.move'"), otherwise
	// Odoo's message.
	Message string
	// Traceback is the full text Odoo sent for code 1 (or JSON-2's debug
	// field), kept for verbose output; empty otherwise.
	Traceback string
	// Model and Method name the call that failed.
	Model, Method string
}

func (f *Fault) Error() string {
	where := ""
	if f.Model != "" {
		where = f.Model + "." + f.Method + ": "
	}
	return fmt.Sprintf("odoo: %sfault %d: %s", where, f.Code, f.Message)
}

// Is makes an access-denied fault match ErrAuth.
func (f *Fault) Is(target error) bool { return target == ErrAuth && f.Code == FaultAccessDenied }

// newFault builds a Fault from an XML-RPC faultCode/faultString pair.
func newFault(code int, s string) *Fault {
	f := &Fault{Code: code}
	s = strings.TrimRight(s, " \t\r\n")
	if code == FaultApplication || strings.HasPrefix(s, "Traceback (most recent call last)") {
		f.Traceback = s
		f.Message = lastLine(s)
	} else {
		f.Message = s
	}
	if f.Message == "" {
		f.Message = "(no message)"
	}
	return f
}

func lastLine(s string) string {
	s = strings.TrimRight(s, " \t\r\n")
	if i := strings.LastIndexAny(s, "\r\n"); i >= 0 {
		return strings.TrimSpace(s[i+1:])
	}
	return strings.TrimSpace(s)
}

// HTTPError is an unexpected HTTP status (a proxy's 502, a 500 without an
// Odoo error body). 5xx statuses are retried for read calls.
type HTTPError struct {
	Status int
	Body   string // the first 300 bytes of the body once its secrets are removed
}

func (e *HTTPError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("HTTP status %d", e.Status)
	}
	return fmt.Sprintf("HTTP status %d: %s", e.Status, e.Body)
}

// CallError wraps what went wrong with a call that reached no answer from
// Odoo (transport, timeout, decoding) with the model and method.
type CallError struct {
	Model, Method string
	Attempts      int
	Err           error
}

func (e *CallError) Error() string {
	name := e.Method
	if e.Model != "" {
		name = e.Model + "." + e.Method
	}
	if e.Attempts > 1 {
		return fmt.Sprintf("odoo: %s failed after %d attempts: %v", name, e.Attempts, e.Err)
	}
	return fmt.Sprintf("odoo: %s: %v", name, e.Err)
}

func (e *CallError) Unwrap() error { return e.Err }
