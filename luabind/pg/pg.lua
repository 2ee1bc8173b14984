---@meta pg
-- LuaLS stub for etlhost's `pg` module (PostgreSQL). Types and conversions
-- are described in luabind/pg/doc.go.

---@class pg.Module
local pg = {}

---A row: an array of the values by position whose metatable maps column
---names to positions (`row.name`, `row[2]`). Reading a name that is not a
---column is an error. NULL is nil, so `#row` may be less than the number of
---columns: use the column names returned by query.
---@class pg.Row: { [string]: any, [integer]: any }

---The error value raised by the module. `tostring(e)` gives
---`file:line: pg: ERROR: message (SQLSTATE xxxxx)`.
---Transient for the host's retries (`--! retries = n`): SQLSTATE 40001, 40P01, 55P03,
---57P01-57P03, 53300 and class 08, and a connection refused, reset or lost.
---@class pg.Error
---@field kind "sql"|"connect"|"stopped"|"value"|"usage"|"client"
---@field code string? SQLSTATE, for errors the server sent (the shape odoo.Error shares)
---@field sqlstate string? the same
---@field message string
---@field detail string?
---@field hint string?
---@field constraint string?
---@field table string?
---@field column string?
---@field position integer? position in the SQL text of the error
---@field where string the script's "file:line"
---@field op string? the method that failed ("query", "copy", ...)
---@field connection string the connection's name

---@class pg.ReplaceOptions
---@field where string? SQL condition selecting the rows to delete (all rows when absent)
---@field args any[]? values of $1..$n in `where`
---@field lock boolean? lock the table against other writers during the replace (default true)

---@class pg.TxOptions
---@field isolation "read committed"|"repeatable read"|"serializable"?
---@field read_only boolean?

---Rows to copy: an array of rows (arrays by position, or tables keyed by
---column name), or a function returning the next row and nil at the end.
---@alias pg.Rows (any[]|table<string, any>)[] | fun(): (any[]|table<string, any>|nil)

---A connection (db) or a transaction (tx): both have the same methods.
---@class pg.DB
local DB = {}

---Runs a query and returns all its rows, and the column names.
---@param sql string SQL with $1..$n parameters
---@param ... any parameter values (nil is NULL; tables are JSON or arrays)
---@return pg.Row[] rows
---@return string[] columns
function DB:query(sql, ...) end

---Runs a query and returns its first row (or nil), and the column names.
---@param sql string
---@param ... any
---@return pg.Row? row
---@return string[] columns
function DB:query_row(sql, ...) end

---Runs a statement and returns the number of rows it affected. Without
---parameters, sql may hold several statements separated by semicolons.
---@param sql string
---@param ... any
---@return integer affected
function DB:exec(sql, ...) end

---Returns an iterator over the rows of a query, fetched 500 at a time
---through a cursor: `for row in db:iter(sql, ...) do ... end`.
---@param sql string a SELECT or VALUES query
---@param ... any
---@return fun(): pg.Row?
function DB:iter(sql, ...) end

---Loads rows with the COPY protocol and returns how many were copied.
---Nothing is copied when any row fails.
---@param table string table name, optionally schema-qualified ("public.sales")
---@param columns string[] the columns the rows' values go to
---@param rows pg.Rows
---@return integer copied
function DB:copy(table, columns, rows) end

---In one transaction, deletes the rows matched by opts.where (all rows
---without it) and copies the new ones. On error the table is unchanged;
---readers never see it empty.
---@param table string
---@param columns string[]
---@param rows pg.Rows
---@param opts pg.ReplaceOptions?
---@return { deleted: integer, inserted: integer }
function DB:replace(table, columns, rows, opts) end

---Runs fn in a transaction (a savepoint when called on a tx): committed
---when fn returns, rolled back when it raises (the error is raised again).
---Returns fn's results.
---@param fn fun(tx: pg.DB): ...
---@param opts pg.TxOptions? top-level transactions only
---@return ...
function DB:tx(fn, opts) end

---Returns this script's stored value for key (a watermark), or nil.
---@param key string
---@return any
function DB:get_state(key) end

---Stores a plain value (as JSON) for key; nil deletes it. On a tx it
---commits with the transaction.
---@param key string
---@param value any
function DB:set_state(key, value) end

---Quotes a name as an SQL identifier.
---@param name string
---@return string
function DB:quote_ident(name) end

---Does nothing: connections return to the pool after each call and when
---the script ends.
function DB:close() end

---Returns the connection with that name ("default" when omitted).
---@param name string?
---@return pg.DB
function pg.connect(name) end

---Returns the names of the configured connections.
---@return string[]
function pg.connections() end

---Returns a copy of a row as a table keyed by column name.
---@param row pg.Row
---@return table<string, any>
function pg.record(row) end

return pg
