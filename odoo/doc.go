// Package odoo is a client for Odoo's external API, usable without Lua.
//
// Two transports serve one API:
//
//   - XML-RPC (the default; Odoo 8 to 21): /xmlrpc/2/common for version and
//     authenticate, /xmlrpc/2/object for execute_kw. Credentials travel with
//     every call; the uid from the first authenticate is cached.
//   - JSON-2 (Odoo 19+): POST /json/2/<model>/<method> with a bearer API key
//     and named parameters. Call maps execute_kw-style positional arguments
//     to names for the ORM methods (search_read: domain, fields, offset,
//     limit, order; search: domain, offset, limit, order; search_count:
//     domain, limit; read: ids, fields; write: ids, vals; create: vals_list;
//     unlink: ids; fields_get: allfields, attributes; name_search: name,
//     domain, operator, limit). For any other method, kwargs become named
//     parameters and a first positional argument that is an id or a list of
//     ids becomes "ids"; other positional arguments are refused, since
//     JSON-2 has no positions. HTTP error statuses become the same *Fault as
//     XML-RPC faults: 401 code 3, 403 code 4, 404/409/422 code 2, 500 and
//     other 4xx code 1.
//
// What the client guarantees, whatever the transport:
//
//   - At most Config.MaxInFlight requests are in flight per Client; callers
//     beyond that wait, and the wait takes their context.
//   - Each request has Config.Timeout; the caller's context cancels it too.
//   - A response larger than Config.MaxResponseBytes is refused
//     (ErrResponseTooLarge) instead of filling memory.
//   - Only the read methods (search, search_read, read, search_count,
//     fields_get, name_search) and version/authenticate are retried, with
//     exponential backoff and jitter, after transport errors, timeouts and
//     HTTP 5xx. Writes are sent once: a write that timed out may have
//     committed. Faults and refused logins are never retried.
//   - A refused login is an *AuthError ("odoo login failed for user X on db
//     Y"), remembered for the life of the Client so the password is never
//     tried twice (Odoo locks out an address after five failures). Over
//     JSON-2 a 401 (the API key refused) is remembered the same way. A fault
//     on a call fails that call alone, whatever its code: over XML-RPC a
//     fault 3 (AccessDenied) is followed by one login to tell a method's own
//     AccessDenied (res.users.change_password with a wrong old password)
//     from credentials that stopped passing during the run, and only a
//     refused login is remembered.
//   - Faults are *Fault values (errors.As): Code, the useful Message (the
//     last line of the traceback for code 1), the full Traceback.
//   - Passwords and API keys never appear in errors or in the printed form
//     of Config, nor escaped the ways a server that echoes the request
//     shows them (XML and HTML entities, JSON and Go string escapes, URL
//     percent-encoding, each once or twice). Server text is scrubbed before
//     it is cut to the length an error quotes, so a secret across the cut
//     is not partly shown.
//
// Values come back as plain Go values: int64, float64, bool, string, nil,
// []any and map[string]any, exactly as Odoo sends them (False for an empty
// field, [id, name] for a many2one). The Lua module luabind/odoo applies
// Odoo's conventions (False to nil by field type, many2one to {id, name}).
package odoo
