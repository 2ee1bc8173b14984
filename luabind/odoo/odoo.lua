---@meta
-- LuaLS definitions for etlhost's `odoo` module.

---@class odoo.Module
local odoo = {}

---Returns the connection named `name` ("default" when omitted), as configured
---in the config file ([odoo.NAME]) or the ETLHOST_ODOO_* environment variables.
---@param name? string
---@return odoo.Connection
function odoo.connect(name) end

---@alias odoo.Domain (string|table)[] terms {field, operator, value} and "&", "|", "!"

---@class odoo.SearchOptions
---@field fields? string[] fields to read (always name them)
---@field limit? integer at most this many rows
---@field offset? integer skip this many rows first
---@field order? string "date desc, id" (default "id")
---@field context? table Odoo context: lang, tz, active_test, allowed_company_ids
---@field batch? integer with it: one search for the ids, then pages of this many read side by side
---@field concurrency? integer with batch: pages fetched at once (default 4; 1 fetches one after another)

---The error value raised by a failed call (argument errors are strings).
---`tostring(e)` gives `file:line: odoo: fault 2: message` for a fault,
---`file:line: odoo: model.method: ...` otherwise. Same shape as pg.Error.
---Transient for the host's retries (`--! retries = n`): kinds "connect" (refused, reset, lost),
---"timeout", "http" 5xx and 429, and faults of Odoo's serialization failures and deadlocks.
---Kind "field": a row was read by a field the call did not read, e.g.
---`file:line: odoo: account.move: field "invoice_due_date" was not read (fields read: name, invoice_date_due, id); did you mean invoice_date_due?`
---@class odoo.Error
---@field kind "fault"|"auth"|"timeout"|"http"|"connect"|"stopped"|"client"|"field"
---@field code? integer fault: 1 other exception, 2 user error, 3 access denied, 4 access error; http: the status
---@field message string the useful message
---@field traceback? string Odoo's traceback (code 1)
---@field model? string
---@field method? string
---@field field? string kind "field": the name that was not read
---@field where string "scripts/x.lua:12"

---A record as search_read, iter, read and name_search return it: a plain table of the fields
---read (`id` always) that hold a value. A field that was read and is empty in Odoo is nil; any
---other name raises an odoo.Error of kind "field", so a misspelt field is not read as empty.
---`pairs`, json.encode and adding keys (`row.extra = 1`) work as on any table; `rawget(row, k)`
---probes a key without raising.
---@class odoo.Row: table<string, any>
---@field id integer

---@class odoo.Many2one
---@field id integer
---@field name string

---@class odoo.Connection
local erp = {}

---Rows matching `domain`. Without limit and order, or with opts.batch, pages
---(Odoo evaluates the domain once) and returns every matching row exactly once.
---@param model string
---@param domain? odoo.Domain
---@param opts? odoo.SearchOptions
---@return odoo.Row[] rows
function erp:search_read(model, domain, opts) end

---Iterates over the rows of search_read, one page in memory at a time.
---@param model string
---@param domain? odoo.Domain
---@param opts? odoo.SearchOptions
---@return fun(): odoo.Row|nil
function erp:iter(model, domain, opts) end

---Ids matching `domain`.
---@param model string
---@param domain? odoo.Domain
---@param opts? {limit?: integer, offset?: integer, order?: string, context?: table}
---@return integer[]
function erp:search(model, domain, opts) end

---Number of records matching `domain`.
---@param model string
---@param domain? odoo.Domain
---@param opts? {context?: table}
---@return integer
function erp:count(model, domain, opts) end

---Reads records by id: a list of ids gives a list of rows (missing ones left out),
---a single id gives a row or nil.
---@param model string
---@param ids integer|integer[]
---@param fields? string[]
---@param opts? {context?: table}
---@return odoo.Row|odoo.Row[]|nil
function erp:read(model, ids, fields, opts) end

---The model's fields: name -> {string=, type=, relation=} (cached per run).
---@param model string
---@return table<string, {string: string, type: string, relation?: string}>
function erp:fields(model) end

---Finds records by display name.
---@param model string
---@param name? string
---@param opts? {domain?: odoo.Domain, operator?: string, limit?: integer, context?: table}
---@return odoo.Many2one[]
function erp:name_search(model, name, opts) end

---Creates a record (vals) or several ({vals, ...}); needs a write grant.
---In a dry run, returns placeholder ids (-1, -2, ...).
---@param model string
---@param vals table
---@return integer|integer[]
function erp:create(model, vals) end

---Writes vals on the records; needs a write grant. false empties a field.
---@param model string
---@param ids integer|integer[]
---@param vals table
---@return true
function erp:write(model, ids, vals) end

---Deletes the records; needs a write grant.
---@param model string
---@param ids integer|integer[]
---@return true
function erp:unlink(model, ids) end

---Calls any method. Methods not known to be read-only need a write grant.
---@param model string
---@param method string
---@param args? any[]
---@param kwargs? table<string, any>
---@return any
function erp:call(model, method, args, kwargs) end

---The server's version.
---@return {server_version: string, server_version_info: any[], server_serie: string, protocol_version: integer, major: integer}
function erp:version() end

return odoo
