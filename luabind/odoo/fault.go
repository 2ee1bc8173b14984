package odoo

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/odoo"
)

// classify says whether err, a failed call raised as an error of kind
// kind, is worth running the job again for (see luabind.Fault), and why.
// timeout is the connection's per-call timeout, for the reason.
//
// Transient: the server could not be reached or the connection broke
// (refused, reset, lost, unreachable, a name lookup that failed for now),
// HTTP 5xx and 429, a call that ran out of its own time, and the faults of
// exceptions Odoo itself treats as passing (see transientExceptions).
// Everything else is not: faults about data or access, a refused login
// (Odoo locks an address out after 5 of them), a field not read, a
// malformed or too large answer, a TLS or URL problem, a name that does not
// resolve, and the script's own deadline or Ctrl+C (kind stopped).
func classify(kind string, err error, timeout time.Duration) luabind.Fault {
	switch kind {
	case KindFault:
		var f *odoo.Fault
		errors.As(err, &f)
		if class := exceptionClass(f); transientExceptions[class] != "" {
			return luabind.Fault{Transient: true, Reason: "odoo: " + transientExceptions[class]}
		}
		return luabind.Fault{Reason: fmt.Sprintf("odoo: fault %d", f.Code)}
	case KindStopped:
		var stopped *luabind.StoppedError
		errors.As(err, &stopped)
		return luabind.Fault{Reason: "odoo: stopped: " + stopped.Cause.Error()}
	case KindAuth:
		return luabind.Fault{Reason: "odoo: login refused"}
	case KindHTTP:
		var he *odoo.HTTPError
		errors.As(err, &he)
		return luabind.Fault{Transient: he.Status >= 500 || he.Status == 429, Reason: fmt.Sprintf("odoo: HTTP %d", he.Status)}
	case KindTimeout:
		var opErr *net.OpError
		if errors.As(err, &opErr) {
			// The network's own timeout (dialing, a TLS handshake).
			return luabind.Fault{Transient: true, Reason: "odoo: connection timed out"}
		}
		return luabind.Fault{Transient: true, Reason: fmt.Sprintf("odoo: call timed out after %v", timeout)}
	case KindConnect:
		if reason := netReason(err); reason != "" {
			return luabind.Fault{Transient: true, Reason: "odoo: " + reason}
		}
		return luabind.Fault{Reason: "odoo: cannot connect"}
	}
	return luabind.Fault{Reason: "odoo: " + kind + " error"}
}

// netReason names a failure of the network that may pass by itself, or
// returns "" for the others (a TLS certificate, a bad URL, a name that
// does not resolve).
func netReason(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection lost"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EHOSTDOWN), errors.Is(err, syscall.ENETDOWN):
		return "host unreachable"
	case errors.Is(err, syscall.ETIMEDOUT):
		return "connection timed out"
	case errors.As(err, &dnsErr) && (dnsErr.IsTemporary || dnsErr.IsTimeout) && !dnsErr.IsNotFound:
		return "name lookup failed"
	}
	return ""
}

// transientExceptions are the Python exceptions that, raised in Odoo and
// sent as a fault, come from concurrent work rather than from the call:
// those Odoo retries itself before giving up (odoo/service/model.py,
// PG_CONCURRENCY_EXCEPTIONS_TO_RETRY: a serialization failure, a deadlock,
// a lock not available; TransactionRollbackError is the name psycopg2
// before 2.8 gave the first two), PostgreSQL shutting down or starting
// under Odoo, and werkzeug's answers for a busy server. The value is the
// reason.
var transientExceptions = map[string]string{
	"psycopg2.errors.SerializationFailure":         "serialization failure",
	"psycopg2.extensions.TransactionRollbackError": "serialization failure",
	"psycopg2.errors.DeadlockDetected":             "deadlock detected",
	"psycopg2.errors.LockNotAvailable":             "lock not available",
	"psycopg2.errors.AdminShutdown":                "database shutting down",
	"psycopg2.errors.CrashShutdown":                "database shutting down",
	"psycopg2.errors.CannotConnectNow":             "database starting up",
	"werkzeug.exceptions.ServiceUnavailable":       "service unavailable",
	"werkzeug.exceptions.TooManyRequests":          "too many requests",
}

// exceptionClass returns the qualified class of the exception a fault
// reports ("psycopg2.errors.SerializationFailure"), read from the
// traceback: the first unindented line after the last frame of the last
// exception (a message may span lines, and a chained exception ends with
// the one raised last). "" when the fault has no traceback.
func exceptionClass(f *odoo.Fault) string {
	if f == nil || f.Traceback == "" {
		return ""
	}
	lines := strings.Split(f.Traceback, "\n")
	last := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "  File ") {
			last = i
		}
	}
	if last < 0 {
		return ""
	}
	for _, l := range lines[last+1:] {
		if l == "" || l[0] == ' ' || l[0] == '\t' {
			continue
		}
		class, _, _ := strings.Cut(strings.TrimRight(l, "\r"), ":")
		return strings.TrimSpace(class)
	}
	return ""
}
