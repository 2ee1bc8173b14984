// Package pg is the Lua module `pg`: PostgreSQL for ETL scripts, on pgx.
//
// Scripts name connections; the host holds their DSNs, which never reach
// Lua, a log line or an error message. Each named connection has one pool
// (pgxpool) shared by all the scripts of a run; a statement outside a
// transaction takes a connection for that statement only. Waiting for a
// free connection happens under the script's own deadline, so a run with
// more scripts than connections never deadlocks.
//
// # Lua API
//
//	local pg = require("pg")
//	local db = pg.connect()              -- the "default" connection
//	local wh = pg.connect("warehouse")   -- a named one; unknown names list the configured ones
//	pg.connections()                     -- {"default", "warehouse"}: the names, never the DSNs
//
//	rows, cols = db:query(sql, ...)      -- all rows; cols = {"id", "name", ...}
//	row, cols  = db:query_row(sql, ...)  -- the first row, or nil
//	n = db:exec(sql, ...)                -- rows affected; one statement per call
//	for row in db:iter(sql, ...) do ... end   -- streams, 500 rows per round trip (a cursor)
//	n = db:copy(table, columns, rows)    -- COPY protocol; rows: array of rows, or a function returning the next (nil at the end)
//	r = db:replace(table, columns, rows, {where = "company_id = $1", args = {3}})  -- r = {deleted = n, inserted = m}
//	... = db:tx(function(tx) ... end, {isolation = "serializable", read_only = true})  -- fn's results
//	v = db:get_state(key)                -- this script's watermark, or nil
//	db:set_state(key, v)                 -- any plain value (stored as JSON); nil deletes
//	db:quote_ident(name)                 -- "name" quoted as an SQL identifier
//	db:close()                           -- nothing to do: connections go back after each call
//	pg.record(row)                       -- a row as a table keyed by column name
//
// A tx object has the same methods as db. Parameters are $1..$n, bound by
// the server, never interpolated into the SQL text. Every call sends one
// statement (see One statement, no transaction control).
//
// # Rows
//
// A row is an array of its values by position (row[1], row[2] ...) whose
// metatable maps column names to positions, so row.name reads (and
// row.name = v writes) the value of column "name". This costs a fifth of a
// table keyed by name when converting large results. Reading a name that
// is not a column is an error (a typo does not read as NULL). With two
// columns of the same name (SELECT a.id, b.id) the first wins: alias them.
// Because NULL is nil, #row is not the number of columns when the last
// values are NULL: use the second result of query (the column names).
// pg.record(row) copies a row into a table keyed by name (for json.encode,
// say). Rows returned by query can be passed to copy as they are.
//
// # Types, PostgreSQL to Lua
//
//   - smallint, integer, bigint, oid: numbers. A bigint beyond ±2^53 is an
//     error naming the column (a Lua number would silently lose digits):
//     cast it to text in SQL.
//   - real, double precision: numbers.
//   - numeric: numbers, that is float64: about 15 significant digits are
//     exact (numeric(16,2) amounts up to 10^13 round-trip exactly); cast to
//     text in SQL when more digits matter. NaN and infinities become Lua's.
//   - text, varchar, char, name, enums, citext and other text-like types:
//     strings.
//   - boolean: booleans.
//   - date: "YYYY-MM-DD" ("infinity" and "-infinity" as such).
//   - timestamp with time zone: ISO 8601 in UTC with a "Z", fractional
//     seconds only when not zero: "2024-01-31T08:11:12.5Z".
//   - timestamp without time zone: ISO 8601 without a zone:
//     "2024-01-31T10:11:12".
//   - json, jsonb: Lua values (objects to tables, arrays to arrays, null to
//     nil, numbers to numbers).
//   - arrays: Lua arrays of the element values (NULL elements are nil).
//   - uuid: the usual 36-character string; bytea: a string of the bytes.
//   - interval, inet, time, tsvector, point, money...: their text form.
//   - a type with no such form (ranges, for example) is an error naming the
//     column: cast it in SQL.
//   - NULL is nil.
//
// # Types, Lua to PostgreSQL
//
// Parameters: nil is NULL; booleans; a whole number is sent as an integer
// (so integer columns accept it) and other numbers as float8; a string is
// sent as text and parsed by the server as the parameter's type (dates,
// numerics, timestamps, uuids...); a table becomes JSON for a json/jsonb
// parameter and an array for an array parameter. A number bound to a text
// parameter is an error: pass tostring(n).
//
// copy and replace read each row by position 1..#columns (a nil anywhere is
// NULL, the last column included) or, for a row with no positional values,
// by column name (a key that is not a column is an error). Each value is
// converted for its column's type, looked up once per call:
//
//   - integer columns: whole numbers or strings of digits;
//   - real, double precision: numbers or numeric strings;
//   - numeric: numbers (12.34 is stored as 12.34: the shortest decimal that
//     reads back as the same float64) or strings ("12.34", exact);
//   - text: strings, or numbers (written without ".0" when whole);
//   - boolean: booleans, or "true"/"false"/"t"/"f"/"yes"/"no"/"1"/"0";
//   - date: "YYYY-MM-DD";
//   - timestamp, timestamptz: "YYYY-MM-DD HH:MM:SS[.ffffff]", ISO 8601
//     ("2024-01-31T10:00:00+02:00"), a date alone (midnight), or a number
//     of seconds since 1970 (os.time()). A string without a zone is UTC; in
//     a timestamp column a zoned value is converted to UTC;
//   - json, jsonb: tables and numbers are encoded; a string is taken as
//     JSON text as it is;
//   - arrays: Lua arrays ({} is the empty array) or PostgreSQL's text form;
//   - other types (uuid, interval, inet...): their text form, parsed by pgx;
//     enums and other types unknown to pgx: strings.
//
// A value the column cannot take is an error naming the row and the column.
// Odoo's false for an empty field is not NULL: write `v or nil`.
//
// # Transactions
//
// db:tx(fn) begins a transaction on a connection of its own, calls fn(tx),
// commits when fn returns and rolls back when fn raises, raising the error
// again unchanged. tx:tx(fn) is a savepoint: its failure undoes only its
// own work, and the outer transaction can go on (an SQL error caught with
// pcall directly inside a transaction aborts that transaction, as in
// PostgreSQL; run the risky statement in a nested tx instead). A tx object
// used after its function returned is an error. Inside fn, use tx, not db:
// db takes another connection, outside the transaction, counted against
// the script's connection quota (beyond it, an error at once).
//
// db:replace deletes the rows matched by opts.where (every row when there
// is none) and copies the new ones, in one transaction (a savepoint when
// called on a tx): if anything fails the table is exactly as before, and
// readers see the old rows until the new ones are committed, never an
// empty or half-filled table. It locks the table against other writers
// (SHARE ROW EXCLUSIVE: readers are not blocked) so two replaces do not
// interleave; opts.lock = false skips that.
//
// db:iter runs the query through a cursor, in the transaction of tx (other
// statements can run on it between rows), in the dry-run transaction, or
// in a transaction of its own that ends with the loop. A loop left early
// keeps its connection until the script ends.
//
// # Watermarks
//
// get_state and set_state keep per-script values (keyed by the script's
// name) in the table etlhost_state(script, key, value jsonb, updated_at),
// created in the connection's schema (see Sessions) when first written to.
// tx:set_state writes inside the transaction, so the watermark commits
// with the data it describes, or not at all.
//
// # Sessions
//
// The pool's connections are shared by the scripts of a run, one call (or
// one db:tx, one db:iter loop, one dry or atomic run) at a time, and a
// connection goes back to the pool as clean as it came: when it is given
// back, etlhost runs DISCARD ALL on it (off the script's path; a connection
// that cannot be reset, or is still in a transaction, is closed instead).
// So a TEMP table, a SET (search_path, statement_timeout, role...), a
// prepared statement, a cursor WITH HOLD, LISTEN, a session advisory lock
// last until the end of the call that made them, or of the db:tx they were
// made in (the whole script in a dry or atomic run), and never reach
// another script. To use a temporary table over several statements, work
// in one db:tx. pgx keeps no prepared statement across calls (statements
// are described on every execution, copy uses unnamed ones), so the reset
// invalidates nothing it relies on.
//
// copy and replace write to the table they name the same way whatever the
// session did: an unqualified name is a table of the connection's schema,
// the current_schema() of a fresh connection (the first existing schema of
// the search_path configured for the role, database or DSN, usually
// public), not of the session's search_path now, and never a temporary
// table of the same name. Write schema.table for another schema, and
// pg_temp.name for a temporary table. etlhost_state lives in the same
// schema. (With a search_path that names no existing schema, unqualified
// names are refused: qualify them.) query, exec and iter see the session's
// search_path, as PostgreSQL does.
//
// # One statement, no transaction control
//
// No statement a script sends can end or escape the transaction the host
// holds (a dry run's, exec --commit's, db:tx's). Every call sends one
// statement through the extended protocol, which refuses several
// ("INSERT ...; COMMIT" fails with SQLSTATE 42601 before anything runs,
// with or without parameters), and transaction control is refused in every
// mode with a usage error naming it and pointing to db:tx: BEGIN, START
// TRANSACTION, COMMIT, COMMIT PREPARED, END, ROLLBACK, ROLLBACK TO,
// ROLLBACK PREPARED, ABORT, SAVEPOINT, RELEASE, PREPARE TRANSACTION, SET
// TRANSACTION, SET SESSION CHARACTERISTICS, SET transaction_isolation (and
// the other transaction_* settings), DISCARD. The check reads the
// statement's first keywords as PostgreSQL's lexer does: after whitespace,
// comments (nested too) and empty statements, in any case. A DO block or a
// procedure that COMMITs or ROLLBACKs is refused by the server inside a
// transaction (SQLSTATE 2D000); outside one (a plain db:exec) it ends only
// its own work. Group statements with db:tx(fn); nest tx:tx(fn) for a
// savepoint.
//
// What a dry run cannot guard against: work that leaves the transaction
// through the server rather than through the SQL etlhost sees. dblink
// (dblink_exec, or a query through dblink) opens another connection whose
// work commits on its own, even in a dry run (and a named dblink
// connection outlives DISCARD ALL); so does any extension or function
// that writes outside the transaction (files with COPY ... TO or
// lo_export, COPY ... TO PROGRAM, a foreign server through another
// wrapper that commits on its own). Sequences advance (nextval is never
// rolled back), and a function may have side effects the plan does not
// show. To deny them, give the connections of dry runs (the ones in the
// configuration etlhost exec uses) a role without those rights: not a
// superuser, without EXECUTE on the dblink functions (REVOKE EXECUTE ON
// FUNCTION dblink_exec(text, text) ... FROM PUBLIC, or no dblink extension
// in that database), not a member of pg_write_server_files,
// pg_execute_server_program or pg_read_server_files, with no USAGE on
// foreign servers, and with only the table rights the fixes need.
//
// # Connection quota
//
// One script cannot take every connection of a pool and starve the other
// scripts of the run: it may hold at most Conn.ScriptConns connections of
// each pool at once (default: half the pool, at least 2, at most the pool:
// 2 of pgx's default pool of 4; a db:iter loop whose body runs a statement
// needs two). What holds one: an open db:tx, a db:iter loop until it ends
// (a loop left early keeps its connection until the script ends), a copy
// while it runs, a statement while it runs. A light thread that holds one
// of them and asks for another beyond the quota gets a usage error at once
// naming the quota (waiting could be waiting for itself: db:query inside
// db:tx, a loop inside a loop, on a pool that cannot serve both); a thread
// holding none waits for one of the script's other threads to give one
// back, under the script's deadline. A dry or atomic run uses one
// connection per pool.
//
// # Errors
//
// Errors raised by the module are tables with fields (kind, code, message and
// where are the shape the odoo module's errors share):
//
//	kind        "sql", "connect", "stopped" (deadline or Ctrl+C), "value" (conversion),
//	            "usage" (transaction control, the connection quota, a tx used after its end...), "client"
//	code        the SQLSTATE, for sql errors (and connect errors the server sent)
//	sqlstate    the same
//	message     the server's message, or what went wrong
//	detail, hint, constraint, table, column, position   when the server sent them
//	where       the script's "file:line"
//	op          the method ("query", "copy" ...); connection: the connection's name
//
// tostring(e) gives `scripts/x.lua:12: pg: ERROR: relation "nope" does
// not exist (SQLSTATE 42P01)`, followed by DETAIL and HINT lines when
// present; `"..." .. e` works too. pcall can test e.sqlstate, for example
// "23505" for a unique violation. Argument errors are plain strings.
//
// Each error value is classified for the host's retries (`--! retries = n`,
// see luabind.Fault), as the very value raised, even caught and raised
// again. Transient: SQLSTATEs 40001 (serialization failure), 40P01
// (deadlock), 55P03 (lock not available), 57P01, 57P02 and 57P03 (the
// server shutting down, crashed, not accepting connections yet), 53300
// (too many connections) and class 08; a connection refused, reset, lost or
// timed out, and a server socket missing (PostgreSQL removes it while it is
// down). Not transient: any other SQL error, kinds "value", "usage" and
// "stopped", a DSN or TLS problem, a host name that does not resolve.
//
// # Time limits
//
// Every call runs under the script's context: at the deadline or on
// Ctrl+C the server is asked to cancel the running statement, the
// transaction is rolled back, and the connection goes back to the pool
// (or is discarded when the server does not answer within 3 seconds).
//
// # Dry runs and atomic runs
//
// When the run is a dry run (luabind.Env.DryRun), all of a script's work
// on a connection happens in one transaction (db:tx becomes a savepoint in
// it), so the script sees its own changes, and that transaction is rolled
// back when the script ends. With luabind.Env.Atomic (etlhost exec
// --commit) the same transaction is committed when the script has ended
// without error, after its light threads have finished (env.OnSettle; a
// failed commit fails the script), and rolled back otherwise: a script
// failing half way commits nothing. An `etlhost repl --commit` session
// settles after each input: each input's work commits, or rolls back, on
// its own. In both modes exec, copy, replace and set_state report a
// Statement event (package event) with the rows affected, shown as a line
// like "plan: exec UPDATE d SET v = 'x' WHERE id <= $1" rows=2, and the
// transaction's steps are Transaction events (begun, committed, rolled
// back), shown as "plan: committed" and the like. The plan, the applied
// changes and the audit trail of exec are built from these events only.
//
// # Light threads
//
// Scripts may run Lua on several light threads (the task module). Every
// wait on the database is made inside env.Block, so the other threads run
// meanwhile; rows are converted to and from Lua outside of it (query
// results are read off the network first, then converted; copy encodes a
// chunk of rows, then sends it). Statements outside a transaction take
// connections of their own, within the script's connection quota. A tx shared by several threads, or the single
// transaction of a dry or atomic run, runs their statements one at a time;
// a nested transaction (savepoint) on such a shared connection belongs to
// the thread that began it until it ends, and the other threads' statements
// on that connection wait meanwhile (PostgreSQL's savepoints form a stack:
// interleaved work would be undone with it). So, in a dry or atomic run, a
// db:tx function must not wait for other threads that use the database: it
// would wait until the script's deadline. A rows function of db:copy that
// uses the copy's own transaction is refused (the connection is busy).
package pg
