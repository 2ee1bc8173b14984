package pg

import (
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/etlhost/etlhost/luabind"
)

// transientStates are the SQLSTATEs of failures that come from outside the
// script and pass by themselves, with the reason the report shows. Class
// 08 (connection exceptions) is transient as a whole, see classify.
var transientStates = map[string]string{
	"40001": "serialization failure",
	"40P01": "deadlock detected",
	"55P03": "lock not available", // NOWAIT or lock_timeout: another transaction holds the lock
	"57P01": "admin shutdown",     // server shutting down, or pg_terminate_backend
	"57P02": "crash shutdown",     // another server process crashed
	"57P03": "cannot connect now", // the server is starting up, shutting down or in recovery
	"53300": "too many connections",
}

// classify says whether err, raised as a pg error value of kind kind, is
// worth running the job again for (see luabind.Fault), and why.
//
// Transient: the SQLSTATEs of transientStates and of class 08 (connection
// exceptions), whether the server sent them on connecting or during a
// statement, and a network failure: a connection refused, reset, lost or
// timed out, a server socket missing (PostgreSQL removes it while it is
// down). Not transient: any other SQL error (bad SQL, a constraint, a
// refused password, a database that does not exist), a value that does not
// convert, a misuse of the API and the script's own deadline or Ctrl+C.
//
// The SQLSTATE is read with errors.As from the *pgconn.PgError, never from
// the message. pgconn.SafeToRetry is not used: it says whether one
// statement reached the server, which matters to a driver sending it again
// but not here, where the whole job is run again either way.
func classify(kind string, err error) luabind.Fault {
	var pgErr *pgconn.PgError
	switch {
	case kind == KindStopped:
		var stopped *luabind.StoppedError
		errors.As(err, &stopped)
		return luabind.Fault{Reason: "pg: stopped: " + stopped.Cause.Error()}
	case kind == KindValue, kind == KindUsage:
		return luabind.Fault{Reason: "pg: " + kind + " error"}
	case errors.As(err, &pgErr):
		if reason, ok := transientStates[pgErr.Code]; ok {
			return luabind.Fault{Transient: true, Reason: "pg: " + reason + " (" + pgErr.Code + ")"}
		}
		if len(pgErr.Code) == 5 && pgErr.Code[:2] == "08" {
			return luabind.Fault{Transient: true, Reason: "pg: connection failure (" + pgErr.Code + ")"}
		}
		return luabind.Fault{Reason: "pg: SQLSTATE " + pgErr.Code}
	}
	if reason := netReason(err); reason != "" {
		return luabind.Fault{Transient: true, Reason: "pg: " + reason}
	}
	if kind == KindConnect {
		return luabind.Fault{Reason: "pg: cannot connect"}
	}
	return luabind.Fault{Reason: "pg: " + kind + " error"}
}

// netReason names a failure of the network or of the connection that may
// pass by itself, or returns "" (a TLS problem, a DSN that does not parse,
// a host name that does not resolve).
func netReason(err error) string {
	var netErr net.Error
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ENOENT) && isDial(err):
		return "no server socket"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EHOSTDOWN), errors.Is(err, syscall.ENETDOWN):
		return "host unreachable"
	case errors.As(err, &dnsErr):
		if (dnsErr.IsTemporary || dnsErr.IsTimeout) && !dnsErr.IsNotFound {
			return "name lookup failed"
		}
		return ""
	case errors.Is(err, syscall.ETIMEDOUT), pgconn.Timeout(err), errors.As(err, &netErr) && netErr.Timeout():
		return "connection timed out"
	case errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, pgconn.ErrConnClosed):
		return "connection lost"
	}
	return ""
}

func isDial(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}
