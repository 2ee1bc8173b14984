// Package odoosim is an Odoo server in memory, for tests, the demo and
// analysts working offline. It speaks Odoo's real wire protocols, so the
// project's Odoo client is tested against it exactly as it talks to Odoo,
// and the clients Odoo users script with (Python's xmlrpc.client, OdooRPC,
// odoo-client-lib, erppeek, odooly) work against it unmodified.
//
// What it serves, as Odoo of Options.Version does (default 17.0):
//
//   - XML-RPC on /xmlrpc/2/<service> with int fault codes: 1 for any other
//     exception (the faultString is a Python traceback whose last line is
//     the message, "ValueError: Invalid field ..."), 2 for user errors
//     (missing record, unknown model, validation), 3 for a bad uid/password,
//     4 for access errors (private methods, record rules, unauthorized
//     companies);
//   - the legacy XML-RPC on /xmlrpc/<service>, the same services with
//     string fault codes ("warning -- UserError\n\n<message>",
//     "AccessDenied", or the message with the traceback as faultString);
//   - JSON-RPC 2.0 on POST /jsonrpc with the same services; errors are
//     {"code": 200, "message": "Odoo Server Error", "data": {name, debug,
//     message, arguments, context}} with HTTP 200;
//   - the services: common (version, about, login, authenticate), object
//     (execute_kw, execute) and db (list, server_version, db_exist,
//     list_lang; the methods that need the master password are refused
//     with AccessDenied, as the simulator has none);
//   - the web client's JSON-RPC routes that scripting clients use:
//     /web/webclient/version_info, /web/database/list,
//     /web/session/authenticate (a session_id cookie, the session info),
//     /web/session/get_session_info, /web/session/check,
//     /web/session/destroy, /web/session/get_lang_list and
//     /web/dataset/call_kw[/<model>/<method>]; without a session they
//     answer code 100 "Odoo Session Expired". "/" and /web (/odoo from
//     18.0) redirect to /web/login, a page, so that clients resolving the
//     server's URL find it;
//   - GET /web/version from 18.0;
//   - from 19.0, JSON-2 on /json/2/<model>/<method> with bearer API keys
//     and real HTTP statuses, and the model documents of api_doc, GET
//     /doc-bearer/<model>.json (bearer) and /doc/<model>.json (session),
//     whose methods name every parameter (odoo-client-lib and odooly use
//     them to turn positional arguments into named ones), and their
//     index.json.
//
// It serves res.company, res.country, res.currency, res.partner,
// account.journal, account.account, account.move and account.move.line with
// Odoo 17's field names and types, and the metadata models clients read at
// login and lookup: res.users (the users of Options.Users and OdooBot,
// uid 1, archived), ir.model (one record per served model; abstract from
// 19.0) and ir.model.fields (one per field); these three are read-only.
// The ORM methods are search, search_count, search_read, read, fields_get,
// create, write, unlink, name_search, default_get, exists,
// check_access_rights and read_group (groupby on any stored field, a date
// or datetime by day, week, month, quarter or year; aggregates "f",
// "f:agg" and "alias:agg(f)" with sum, avg, min, max, count,
// count_distinct, bool_and and bool_or; lazy, orderby, offset, limit; the
// count, __range, __domain and __context keys of Odoo 17), plus
// res.users.context_get and res.users.change_password, whose wrong old
// password raises AccessDenied (fault 3; 403 over JSON-2). Domains are
// evaluated as odoo/osv/expression.py compiles them to SQL: prefix &, | and
// !, every operator (= != > >= < <= =? like not like ilike not ilike =like
// =ilike in not in child_of parent_of any not any), dotted paths through
// relations, False as NULL and SQL's three-valued logic. Values follow
// Odoo's conventions: False for an empty field (0 and [] for numbers and
// x2many), many2one as [id, display_name], dates as "YYYY-MM-DD", datetimes
// as "YYYY-MM-DD HH:MM:SS". The context keys active_test and
// allowed_company_ids are honoured.
//
// The data rules Odoo enforces on create and write: required fields, the
// many2one targets and ondelete policies, posted moves that cannot be
// deleted ("You cannot delete an item linked to a posted entry.", raised
// by their lines, which account.move.unlink deletes first) nor change
// journal, drafts that were posted once and are not the last of their
// sequence that cannot be deleted either (the sequence-chain message of
// _unlink_forbid_parts_of_chain; other drafts can), the partners of active
// users that cannot be archived, and the models' SQL constraints and parent
// checks, reported as Odoo reports them ("The operation cannot be
// completed: ..." as a ValidationError): a contact needs a name
// (res.partner check_name), country names and codes and currency codes are
// unique, a currency's rounding is positive, journal codes and account codes
// are unique per company, a journal item is not both debit and credit, and
// partners and companies cannot be their own ancestors.
//
// The data comes from Generate (deterministic for a seed, see its doc) or
// from Options.Data. Writes change it in memory. Snapshot returns a deep
// copy for tests that compute expected results on their own.
//
// Changes stamp write_date as Odoo does, for incremental loads to be
// tested: a record gets the write_date of the transaction that writes it,
// its start time by Options.Now in whole seconds (what Odoo sends of
// cr.now(), which it stores with microseconds), whether the transaction
// writes its fields or recomputes its stored computed and related ones
// (BaseModel._write stamps both). One RPC call is one transaction: all it
// writes shares one stamp. A write cascades as Odoo's does: a move's name,
// state or date to its lines (move_name, parent_state, date are stored
// related fields), a partner's address (country_id, city, street) to its
// active children of type 'contact' (update_address; not to other address
// types nor grandchildren), a company's country_id and city to its partner
// (the fields are the partner's in Odoo) and back without a new write_date
// for the company (res.company.country_id is not stored), an installment's
// date_maturity to its move's invoice_date_due. Deletions stamp nothing.
// For tests, Sim has the changes Odoo users make, each one transaction:
// Pay (a payment reconciled with the installments: their residuals, the
// move's amount_residual and payment_state), Post, ResetToDraft (which
// takes the payments off, as button_draft does), Cancel, DeleteDraft,
// CreateMove (a new invoice, bill or refund with installments),
// SetInstallment, SetPartnerCountry, SetCompanyCountry and ArchivePartner,
// and RandomChanges, which applies random ones of every kind. Begin starts
// a long transaction: its changes are stamped with Begin's time and
// become visible only at Commit, so a load that read meanwhile finds them
// later with write_dates older than its watermark. Over RPC, account.move
// has action_post (returns False), button_draft and button_cancel; these
// two return None as in Odoo, which XML-RPC cannot marshal: the call
// commits, then faults with "TypeError: cannot marshal None unless
// allow_none is enabled" (JSON-RPC and JSON-2 answer null). The work
// counters (Stats) count RPC calls only: the Go helpers are not calls.
//
// Authentication follows Odoo too: a bad password makes authenticate return
// False (not a fault) and /web/session/authenticate raise AccessDenied, and
// after Options.LoginFailures failures from one address (default 5) even
// the right password is refused for Options.LoginCooldown (default 60s);
// execute_kw checks the password (or API key) on every call and is not
// subject to the cooldown; web sessions last 7 days of inactivity.
//
// Knobs make it misbehave on purpose for tests of timeouts and retries:
// SetLatency, FailEvery (HTTP 500), ResetEvery (TCP reset), Hang (no answer
// until the client gives up) and Calls (how many object calls arrived:
// execute_kw and execute on any route, call_kw and JSON-2).
//
// Stats counts the work a real Odoo server would do (calls, records
// examined by searches and read, response bytes, the time calls held a
// worker), in total and per model and method, whatever the route; GET
// /sim/stats serves it as JSON and POST /sim/stats/reset zeroes it.
// Options.Workers and the Options.Cost* durations model a real server's
// cost, so that wall time on the simulator responds to that work: calls
// queue for a few workers, each busy for a time that grows with the records
// the call examined and read.
//
// What it leaves out: the web client itself (its pages, /web/login's form,
// /web/dataset/search_read and the other routes of the browser), the
// database manager, two-factor authentication, translations (every user
// gets en_US), time zones in read_group (datetimes are grouped in UTC) and
// en_US week numbers (weeks start on Monday, with ISO numbers), fill_temporal
// and the properties fields of read_group, formatted_read_group (19.0),
// the business methods but account.move's action_post, button_draft and
// button_cancel, the records of payments (Pay reconciles amounts; no
// account.payment nor its journal entry is created), recomputing
// installments from payment terms (posting a customer invoice without
// date gives its installments that day), removed methods (name_get,
// fields_get_keys), writing one2many fields with commands, recomputing
// amounts when lines change, many2many fields (none of the served models
// has one), the other constraints of Odoo's modules (unique move names per
// journal, balanced posted moves, lock dates...) and writing the metadata
// models.
package odoosim
