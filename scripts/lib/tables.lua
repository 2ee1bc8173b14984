-- tables: the reporting tables the ETL jobs fill, their DDL and columns.
--
--   local tables = require("tables")
--   tables.create(db, "ventes_locales")      -- CREATE TABLE IF NOT EXISTS (+ its index)
--   db:replace("ventes_locales", tables.columns.ventes_locales, rows)
--
-- etl_loaded_at is left out of the columns the jobs write: its default,
-- now(), stamps every row with the time of the load's transaction.

local M = {}

-- One row per unpaid invoice or bill (achat_importation, ventes_locales).
local INVOICE_DDL = [[
CREATE TABLE IF NOT EXISTS %s (
    odoo_move_id     integer PRIMARY KEY,
    company          text NOT NULL,
    reference        text NOT NULL,
    partner          text NOT NULL,
    partner_country  text NOT NULL,
    currency         text NOT NULL,
    invoice_date     date,
    due_date         date,
    amount_total     numeric(16,2) NOT NULL,
    amount_residual  numeric(16,2) NOT NULL,
    etl_loaded_at    timestamptz NOT NULL DEFAULT now()
)]]

local INVOICE_COLUMNS = {
  "odoo_move_id", "company", "reference", "partner", "partner_country", "currency",
  "invoice_date", "due_date", "amount_total", "amount_residual",
}

M.ddl = {
  achat_importation = { string.format(INVOICE_DDL, "achat_importation") },
  ventes_locales = { string.format(INVOICE_DDL, "ventes_locales") },
  -- One row per unpaid installment of a bill.
  achats_locaux_echeance = {
    [[
CREATE TABLE IF NOT EXISTS achats_locaux_echeance (
    odoo_line_id          integer PRIMARY KEY,
    odoo_move_id          integer NOT NULL,
    company               text NOT NULL,
    reference             text NOT NULL,
    partner               text NOT NULL,
    partner_country       text NOT NULL,
    currency              text NOT NULL,
    invoice_date          date,
    due_date              date,
    date_maturity         date NOT NULL,
    amount_total          numeric(16,2) NOT NULL,
    amount_residual       numeric(16,2) NOT NULL,
    line_amount_residual  numeric(16,2) NOT NULL,
    etl_loaded_at         timestamptz NOT NULL DEFAULT now()
)]],
    [[CREATE INDEX IF NOT EXISTS achats_locaux_echeance_odoo_move_id_idx
    ON achats_locaux_echeance (odoo_move_id)]],
  },
}

M.columns = {
  achat_importation = INVOICE_COLUMNS,
  ventes_locales = INVOICE_COLUMNS,
  achats_locaux_echeance = {
    "odoo_line_id", "odoo_move_id", "company", "reference", "partner", "partner_country", "currency",
    "invoice_date", "due_date", "date_maturity", "amount_total", "amount_residual", "line_amount_residual",
  },
}

-- Two runs creating the same missing table at the same moment: one of the
-- CREATE ... IF NOT EXISTS loses with a unique violation on the catalog
-- (23505) or "already exists" (42P07, 42710). The table is there: fine.
local ALREADY_THERE = { ["23505"] = true, ["42P07"] = true, ["42710"] = true }

-- create makes the table `name` (and its index) when it is missing.
function M.create(db, name)
  local statements = M.ddl[name]
  if statements == nil then
    error("tables.create: unknown table " .. tostring(name), 2)
  end
  for _, sql in ipairs(statements) do
    local ok, err = pcall(db.exec, db, sql)
    if not ok and not (type(err) == "table" and ALREADY_THERE[err.sqlstate]) then
      error(err, 0)
    end
  end
end

return M
