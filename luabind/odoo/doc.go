// Package odoo is the Lua module `odoo`: Odoo's data for ETL scripts, through
// the shared client of package github.com/etlhost/etlhost/odoo.
//
//	local odoo = require("odoo")
//	local erp = odoo.connect()            -- the "default" connection; odoo.connect("eu") for another
//
//	-- every matching row exactly once, fetched by pages of 1000 ordered by id
//	local moves = erp:search_read("account.move",
//	    {{"state", "=", "posted"}, {"move_type", "in", {"in_invoice", "in_refund"}}},
//	    {fields = {"name", "partner_id", "amount_total", "invoice_date"}})
//	for _, m in ipairs(moves) do
//	    print(m.name, m.partner_id and m.partner_id.name, m.amount_total)
//	end
//
//	for line in erp:iter("account.move.line", {{"move_id", "in", ids}}, {fields = {...}, batch = 2000}) do ... end
//
// # Connection methods
//
//   - erp:search_read(model, domain, opts) -> rows. opts: fields (always name
//     them), limit, offset, order, context, batch, concurrency. With a limit
//     or an order and no batch it is one call. Otherwise the module pages,
//     asking Odoo for the least work (see "What the server does" below), and
//     returns every matching row exactly once, in the order asked (id by
//     default). The connection's max_in_flight still bounds the whole run.
//   - erp:iter(model, domain, opts): the same rows, for a generic for,
//     holding one page at a time.
//   - erp:search(model, domain, opts) -> ids (opts: limit, offset, order,
//     context); erp:count(model, domain, opts) -> number.
//   - erp:read(model, ids, fields, opts) -> rows (sent 1000 ids per call;
//     missing records are left out, as Odoo does); erp:read(model, id,
//     fields) -> row or nil.
//   - erp:fields(model) -> {name = {string=, type=, relation=}}: fields_get,
//     cached per run and connection.
//   - erp:name_search(model, name, opts) -> {{id=, name=}, ...} (opts:
//     domain, operator, limit, context).
//   - erp:create(model, vals) -> id; erp:create(model, {vals, ...}) -> ids;
//     erp:write(model, ids, vals) -> true; erp:unlink(model, ids) -> true.
//   - erp:call(model, method, args, kwargs) -> result: any method; the
//     result is converted as plain values (False stays false).
//   - erp:version() -> {server_version=, server_version_info=,
//     server_serie=, protocol_version=, major=}.
//
// # What the server does
//
// Every page of a domain search makes Odoo evaluate the domain again, and
// its dotted paths (partner_id.country_id) are sub-searches of their own; so
// the module never sends the same domain twice for one read:
//
//   - with opts.batch (a read expected to be large) one search returns the
//     ids of every match, in order (with opts.offset and opts.limit), then
//     read fetches them in chunks of batch ids, opts.concurrency at once
//     (default 4; 1 for one request at a time). A read by id tests no
//     domain.
//   - without opts.batch (reference data, small results) the first page is
//     one search_read of 1000 rows in id order: a result that fits costs one
//     call. A full page is followed by a search bounded by its last id (the
//     primary key narrows it, so no record is tested twice), then reads as
//     above.
//   - fields_get is asked once per model and run, and only when a page holds
//     a false of a field whose type is not known yet (see Values).
//
// What a row holds when records change during a paged read: the set of
// rows is the records that matched when the search ran; each row's values
// are those of the moment its page was read. A record changed in between
// comes with its new values even if it no longer matches the domain (re-test
// the condition in the script when that matters); a record deleted in
// between is left out, as Odoo's read skips missing records; a record that
// starts to match after the search is not seen until the next run.
//
// # Domains
//
// A domain is a list of terms {field, operator, value} and the strings "&",
// "|" (two operands) and "!" (one), in Odoo's prefix notation; terms side by
// side are ANDed; {} or nil matches every record. The module checks a domain
// before sending it and names the bad term:
//
//	bad domain term #2 {"state", "=="}: expected {field, operator, value} with a known operator
//
// Operators: = != <> > >= < <= =? like "not like" ilike "not ilike" =like
// =ilike in "not in" child_of parent_of any "not any" (the value of any is a
// domain). A Lua table cannot hold nil: write {"partner_id", "=", false} for
// "is empty". An empty table value is an empty list ({"id", "in", {}}).
//
// # Values
//
// Rows follow Odoo's conventions made Lua-friendly: False becomes nil for
// every non-boolean field (a boolean field keeps false: telling the two
// apart is what fields_get is asked for); a many2one becomes {id = 7, name =
// "Acme"} or nil; one2many and many2many are lists of ids; dates and datetimes stay the
// strings Odoo sends ("2024-03-01", "2024-03-01 10:00:00", UTC). In values
// sent to Odoo, false (or a nil that reaches the client) empties a field, and
// an empty table is an empty list.
//
// A row (of search_read, iter, read, name_search) is a plain table holding
// the fields read that have a value, id always among them; pairs,
// json.encode and keys the script adds work as on any table. The rows of a
// call share a metatable whose __index answers only for names the row does
// not hold: nil for a field that was read (empty in Odoo), an error of kind
// "field" for any other, since a misspelt field would otherwise read as
// empty and load NULL:
//
//	scripts/x.lua:12: odoo: account.move: field "invoice_due_date" was not read (fields read: name, invoice_date_due, id); did you mean invoice_date_due?
//
// When the module knows the model's fields (erp:fields, or a fields_get it
// made), a field of the model that was not asked for says "add it to the
// fields of the call" instead. rawget(row, name) probes without raising.
//
// # Writes
//
// Odoo is read-only for scripts. create, write, unlink, and call of any
// method not known to be read-only (search, read, fields_get, read_group,
// default_get, ...) need a grant: the script header `--! odoo-writes =
// res.partner, account.move` (or `*`), or the run flag --odoo-writes
// (Options.WriteAll). A refused write raises
//
//	odoo: write to res.partner refused: add "--! odoo-writes = res.partner" to the script header or run with --odoo-writes
//
// In a dry run (etlhost exec without --commit) writes are not sent, granted
// or not: each one is reported as a planned OdooWrite event (package event;
// shown as a line starting with "plan: ") and create returns placeholder
// ids (-1, -2, ...). Later calls
// of the same script may use them: writes and unlinks that name one are
// planned, and read returns the planned values for them.
//
// Outside a dry run every write sent is an OdooWrite event (shown as a line
// starting with "sent: "; a failed one at level warn with its error). Only
// the module emits these: a script's own log line that reads like one is a
// log line and nothing more. Odoo has no transaction across calls: when a
// script fails half way, `etlhost exec --commit` lists these writes, which
// stay applied, and keeps them in its audit trail.
//
// # Errors
//
// A call that fails raises an error value (a table) of the shape pg's
// errors have: kind, code, message and where, so pcall can look at
// err.kind whichever module raised it. Kinds: "fault" (Odoo answered with a
// fault; code 1 other exceptions (bad field, bad domain), 2 user errors
// (missing record, validation), 3 access denied, 4 access error; with
// traceback for code 1, model and method), "auth" (login refused),
// "timeout" (no answer within the connection's timeout), "http" (an
// unexpected status; code the status), "connect" (server unreachable,
// connection broken), "stopped" (the script's deadline, Ctrl+C or memory
// limit), "client" (anything else), "field" (a row read by a field the call
// did not read; with field and model). A fault fails that call alone, for the
// script that made it: a method's own access denied
// (res.users.change_password with a wrong old password) leaves the
// connection good for every script of the run. Only a refused login (or
// API key) makes the connection's later calls fail unsent, with kind
// "auth", so the secret is not tried again. Its tostring reads
//
//	scripts/x.lua:12: odoo: fault 2: Record does not exist or has been deleted.
//	scripts/x.lua:12: odoo: res.partner.read: stopped: timeout: ...
//
// Bad arguments are string errors with the script's position. Passwords and
// API keys never reach the script.
//
// Each error value is classified for the host's retries (`--! retries = n`,
// see luabind.Fault), as the very value raised, even caught and raised
// again. Transient: kind "connect" when the connection was refused, reset,
// lost or the host unreachable; "http" 5xx and 429; "timeout" (the call's
// own, after the client's own retries of read methods); and the faults of
// the exceptions Odoo itself retries before giving up (psycopg2's
// SerializationFailure, DeadlockDetected, LockNotAvailable), of PostgreSQL
// shutting down or starting under Odoo, and werkzeug's ServiceUnavailable
// and TooManyRequests, told by the exception's class in the traceback.
// Everything else is not: other faults, "auth", "client", "field",
// "stopped", and a "connect" error of TLS or of a name that does not
// resolve.
//
// Every call goes through the script's context: a hung Odoo stops the call
// at the script's deadline.
package odoo
