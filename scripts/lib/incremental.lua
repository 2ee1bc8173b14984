-- incremental: load a reporting table from Odoo reading only what changed,
-- and never be wrong about it.
--
--   local incremental = require("incremental")
--   return incremental.load(db, erp, {
--     table = "ventes_locales", columns = tables.columns.ventes_locales,
--     key = "odoo_move_id",                       -- the column holding the id of the record a row comes from
--     model = "account.move",                     -- that record's model: the cursor
--     scope = { { "move_type", "=", "out_invoice" } },   -- the records of the model the table can hold rows of
--     related = { partner_id = "res.partner", company_id = "res.company" },  -- a change there re-reads the records pointing at it
--     children = { ["account.move.line"] = "move_id" },  -- a changed child re-reads the record its field points at (optional)
--     rows = function(ids) ... end,               -- the rows of those records (ids nil: of every record), as today's job builds them
--     reference = ref.signature,                  -- the reference data the rows depend on, as text (optional)
--   })
--
-- How it stays right (the mechanism of dlt's incremental, dbt's lookback and
-- Airbyte's deduped sync, with their recurring bugs designed out):
--
-- * One transaction per run holds an advisory lock keyed by the job, the
--   rows and the watermarks (tx:set_state): a failed or killed run leaves
--   the table and its watermarks exactly as they were, and two runs of a
--   job (another etlhost, another machine) never interleave: the second
--   waits for the first (--arg if_running=skip: it is skipped instead).
-- * The watermark of each cursor model is the time the run started reading
--   (by etlhost's clock, in UTC). Changed records are those whose
--   write_date is at or after the last watermark minus a look-back window
--   (--arg lookback=SECONDS, default 900). Odoo stamps write_date with the
--   start time of the transaction that wrote it, to the second, on every
--   write and on the recomputation of stored fields (a payment changes the
--   invoice's amount_residual and payment_state, so its write_date). A
--   transaction that started before a run read and committed after it holds
--   rows stamped before the watermark: the window reads them again. Odoo
--   stops an HTTP request after limit_time_real (120 s by default); 15
--   minutes covers that, a cron job's longer transaction and the skew
--   between Odoo's clock and etlhost's, for the price of re-reading 15
--   minutes of changes. (The newest write_date seen would make a poor
--   watermark: records stamped long ago, a company set up once, would fall
--   in the window on every run.)
-- * A changed record replaces its rows: the rows of its id are deleted and
--   the rows it produces now are inserted (an invoice that became paid
--   leaves, a new posted one enters, one reset to draft leaves, a changed
--   installment is replaced). Applying a change twice gives the same rows:
--   the window can overlap without duplicates.
-- * A changed related record (a partner whose country changed, archived,
--   a company whose country changed) re-reads every record pointing at it.
--   A changed child (an installment line whose due date or amount moved,
--   which leaves its invoice's own write_date alone when the invoice's
--   totals do not change) re-reads the record it belongs to.
-- * What incremental reads cannot see (a deleted draft never reaches the
--   tables; a record changed without a write_date, reference data such as a
--   currency renamed) is caught by a full refresh: the first run, --arg
--   full_refresh=1 (etlhost run --full-refresh), a table whose columns are
--   not the job's, reference data that changed (spec.reference: the
--   companies' names and countries, which can change through the company's
--   partner without the company's own write_date), and every --arg
--   full_every_runs=N runs (default 24) or
--   --arg full_every_days=D days (default 7), whichever comes first.
--
-- The result says which load it did and why: {load = "incremental" | "full"
-- | "skipped", why = "...", rows = rows written, deleted = rows removed,
-- changed = records re-read}.

local etl = require("etl")
local log = require("log")
local task = require("task")

local M = {}

-- STATE is the key of the job's state (etlhost_state, per script).
local STATE = "incremental"

local function number_arg(name, default, min)
  local raw = etl.arg(name, tostring(default))
  local v = tonumber(raw)
  if v == nil or v < min or v ~= math.floor(v) then
    error(string.format("--arg %s=%s: expected a whole number of at least %d", name, raw, min), 0)
  end
  return v
end

-- settings are the run arguments the mechanism reads.
local function settings()
  local mode = etl.arg("if_running", "wait")
  if mode ~= "wait" and mode ~= "skip" then
    error(string.format("--arg if_running=%s: expected wait or skip", mode), 0)
  end
  local full = etl.arg("full_refresh", "")
  return {
    lookback = number_arg("lookback", 900, 0),
    every_runs = number_arg("full_every_runs", 24, 1),
    every_days = number_arg("full_every_days", 7, 1),
    full = full ~= "" and full ~= "0" and full ~= "false",
    if_running = mode,
  }
end

-- odoo_time is a time in seconds as Odoo writes datetimes: UTC, to the
-- second. The watermarks are kept as seconds.
local function odoo_time(secs)
  return os.date("!%Y-%m-%d %H:%M:%S", secs)
end

-- signature is the table's columns as the job writes them: a table whose
-- live columns differ (added, dropped, renamed, retyped) gets a full load.
local function live_columns(tx, name)
  local rows = tx:query([[SELECT column_name::text AS name, data_type::text AS type
    FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position]], name)
  local parts = {}
  for _, r in ipairs(rows) do parts[#parts + 1] = r.name .. " " .. r.type end
  return table.concat(parts, ", ")
end

-- full_reason says why this run must be a full refresh (nil: it need not).
local function full_reason(state, cfg, columns, now, models, reference)
  if state == nil then return "the first run" end
  if cfg.full then return "a full refresh was asked for (--arg full_refresh)" end
  if state.columns ~= columns then return "the table's columns are not the ones of its last load" end
  for _, model in ipairs(models) do
    if type((state.watermarks or {})[model]) ~= "number" then return "no watermark for " .. model .. " (the job reads a new model)" end
  end
  if state.reference ~= reference then return "the reference data changed (companies' names or countries)" end
  if (state.runs_since_full or 0) + 1 >= cfg.every_runs then
    return string.format("%d runs since the last full refresh (full_every_runs)", cfg.every_runs)
  end
  if state.full_at and now - state.full_at >= cfg.every_days * 86400 then
    return string.format("%d days since the last full refresh (full_every_days)", cfg.every_days)
  end
  return nil
end

-- changed returns the ids of the records of spec.model to read again: those
-- changed since their watermark (less the look-back), and those pointing at
-- a related record that changed.
local function changed(erp, spec, state, cfg)
  local ids, seen = {}, {}
  local function add(list)
    for _, id in ipairs(list) do
      if not seen[id] then
        seen[id] = true
        ids[#ids + 1] = id
      end
    end
  end
  local function since(model)
    local wm = state.watermarks[model]
    if wm == nil then error("incremental: no watermark for " .. model .. " in the job's state", 0) end
    return odoo_time(wm - cfg.lookback)
  end
  local function scoped(term)
    local dom = {}
    for _, t in ipairs(spec.scope) do dom[#dom + 1] = t end
    dom[#dom + 1] = term
    return dom
  end
  local all = { context = { active_test = false } }
  -- Each search is a light thread: their round trips overlap.
  local searches = { task.spawn(function()
    return erp:search(spec.model, scoped({ "write_date", ">=", since(spec.model) }), all)
  end) }
  for _, field in ipairs(spec.related_fields) do
    local model = spec.related[field]
    searches[#searches + 1] = task.spawn(function()
      local rel = erp:search(model, { { "write_date", ">=", since(model) } }, all)
      if #rel == 0 then return {} end
      return erp:search(spec.model, scoped({ field, "in", rel }), all)
    end)
  end
  for _, model in ipairs(spec.child_models) do
    local field = spec.children[model]
    searches[#searches + 1] = task.spawn(function()
      local parents = {}
      for _, c in ipairs(erp:search_read(model, { { "write_date", ">=", since(model) } }, { fields = { field }, context = all.context })) do
        if c[field] then parents[#parents + 1] = c[field].id end
      end
      return parents
    end)
  end
  for _, found in ipairs(task.wait_all(searches)) do add(found) end
  table.sort(ids)
  return ids
end

-- lock takes the job's advisory lock for the transaction: a second run of
-- the job waits for the first to commit, or with if_running=skip is told.
local function lock(tx, job, cfg)
  local key = "etlhost incremental " .. job
  if cfg.if_running == "skip" then
    return tx:query_row("SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok", key).ok
  end
  local free = tx:query_row("SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok", key).ok
  if not free then
    log.info("waiting for another run of the job to end", { job = job })
    tx:query_row("SELECT pg_advisory_xact_lock(hashtext($1)) AS ok", key)
  end
  return true
end

local function check(spec)
  for _, k in ipairs({ "table", "columns", "key", "model", "scope", "rows" }) do
    if spec[k] == nil then error("incremental.load: spec." .. k .. " is missing", 3) end
  end
  spec.related = spec.related or {}
  spec.related_fields = {}
  for field in pairs(spec.related) do spec.related_fields[#spec.related_fields + 1] = field end
  table.sort(spec.related_fields)
  spec.children = spec.children or {}
  spec.child_models = {}
  for model in pairs(spec.children) do spec.child_models[#spec.child_models + 1] = model end
  table.sort(spec.child_models)
end

-- load loads spec.table from Odoo, incrementally when it can (see above),
-- and returns what it did. db must be a pg connection, erp an Odoo one;
-- the table must exist.
function M.load(db, erp, spec)
  check(spec)
  local cfg = settings()
  local job = spec.job or etl.name
  return db:tx(function(tx)
    if not lock(tx, job, cfg) then
      log.warn("another run of the job holds its lock: skipped", { job = job })
      return { load = "skipped", why = "another run of " .. job .. " holds its lock (if_running=skip)", rows = 0 }
    end
    local state = tx:get_state(STATE)
    local columns = live_columns(tx, spec.table)
    -- The watermarks: when this run starts reading. A change made while it
    -- reads is read again next time.
    local now = os.time()
    local marks = { [spec.model] = now }
    for _, field in ipairs(spec.related_fields) do marks[spec.related[field]] = now end
    for _, model in ipairs(spec.child_models) do marks[model] = now end
    local models = {}
    for model in pairs(marks) do models[#models + 1] = model end
    table.sort(models)
    local why = full_reason(state, cfg, columns, now, models, spec.reference)
    if why then
      local r = tx:replace(spec.table, spec.columns, spec.rows(nil), { lock = false })
      tx:set_state(STATE, { columns = columns, watermarks = marks, runs_since_full = 0, full_at = now, reference = spec.reference })
      log.info("full load of " .. spec.table, { why = why, rows = r.inserted })
      return { load = "full", why = why, rows = r.inserted, deleted = r.deleted }
    end
    local ids = changed(erp, spec, state, cfg)
    local deleted, inserted = 0, 0
    if #ids > 0 then
      local rows = spec.rows(ids)
      deleted = tx:exec("DELETE FROM " .. tx:quote_ident(spec.table) .. " WHERE " .. tx:quote_ident(spec.key) .. " = ANY($1)", ids)
      inserted = tx:copy(spec.table, spec.columns, rows)
    end
    tx:set_state(STATE, { columns = columns, watermarks = marks, runs_since_full = (state.runs_since_full or 0) + 1,
      full_at = state.full_at, reference = spec.reference })
    local r = { load = "incremental", why = string.format("%d records changed since the watermarks (look-back %ds)", #ids, cfg.lookback),
      rows = inserted, deleted = deleted, changed = #ids }
    log.info("incremental load of " .. spec.table, { changed = #ids, inserted = inserted, deleted = deleted })
    return r
  end)
end

return M
