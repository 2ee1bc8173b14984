// Package odoosim is an Odoo server in memory, for tests, the demo and
// analysts working offline. It speaks Odoo's real wire protocols, so the
// project's Odoo client is tested against it exactly as it talks to Odoo:
//
//   - XML-RPC on /xmlrpc/2/common (version, authenticate, login) and
//     /xmlrpc/2/object (execute_kw, execute), with Odoo's fault codes: 1 for
//     any other exception (the faultString is a Python traceback whose last
//     line is the message, "ValueError: Invalid field ..."), 2 for user
//     errors (missing record, unknown model, validation), 3 for a bad
//     uid/password, 4 for access errors (private methods, record rules,
//     unauthorized companies);
//   - JSON-2 on /json/2/<model>/<method> when Options.Version is "19.0" or
//     later, with bearer API keys and real HTTP statuses.
//
// It serves res.company, res.country, res.currency, res.partner,
// account.journal, account.account, account.move and account.move.line with
// Odoo 17's field names and types, and the ORM methods search, search_count,
// search_read, read, fields_get, create, write, unlink, name_search,
// default_get and exists, plus res.users.change_password, whose wrong old
// password raises AccessDenied (fault 3; 403 over JSON-2). Domains are evaluated as odoo/osv/expression.py
// compiles them to SQL: prefix &, | and !, every operator (= != > >= < <=
// =? like not like ilike not ilike =like =ilike in not in child_of
// parent_of any not any), dotted paths through relations, False as NULL and
// SQL's three-valued logic. Values follow Odoo's conventions: False for an
// empty field (0 and [] for numbers and x2many), many2one as [id,
// display_name], dates as "YYYY-MM-DD", datetimes as "YYYY-MM-DD HH:MM:SS".
// The context keys active_test and allowed_company_ids are honoured.
//
// The data comes from Generate (deterministic for a seed, see its doc) or
// from Options.Data. Writes change it in memory. Snapshot returns a deep
// copy for tests that compute expected results on their own.
//
// Authentication follows Odoo too: a bad password makes authenticate return
// False (not a fault), and after Options.LoginFailures failures from one
// address (default 5) even the right password gets False for
// Options.LoginCooldown (default 60s); execute_kw checks the password (or
// API key) on every call and is not subject to the cooldown.
//
// Knobs make it misbehave on purpose for tests of timeouts and retries:
// SetLatency, FailEvery (HTTP 500), ResetEvery (TCP reset), Hang (no answer
// until the client gives up) and Calls (how many object calls arrived).
//
// Stats counts the work a real Odoo server would do (calls, records
// examined by searches and read, response bytes, the time calls held a
// worker), in total and per model and method; GET /sim/stats serves it as
// JSON and POST /sim/stats/reset zeroes it. Options.Workers and the
// Options.Cost* durations model a real server's cost, so that wall time on
// the simulator responds to that work: calls queue for a few workers, each
// busy for a time that grows with the records the call examined and read.
//
// What it leaves out: the legacy /xmlrpc/ endpoint with string fault codes,
// /jsonrpc, read_group and the business methods (action_post, ...),
// writing one2many fields with commands, recomputing amounts when lines
// change, translations, and many2many fields (none of the served models
// has one).
package odoosim
