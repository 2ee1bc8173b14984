package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/urfave/cli/v2"
)

// scriptNameRe is what a new script may be called: its name becomes a
// metric label, a history key and, by default, its table's name.
var scriptNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// newScriptTemplate is the commented skeleton `etlhost new` writes: a
// complete job (Odoo invoices into a table, replaced in one transaction)
// that compiles, runs against the simulator, and shows each habit a script
// should have: a header, named connections, paging, progress, an atomic
// load and a returned summary.
var newScriptTemplate = template.Must(template.New("script").Parse(`--! description = {{.Description}}
--! timeout = 15m
--
-- {{.Name}}: say here what this job loads, from where, into which table,
-- and what the table's readers may rely on.
--
--   etlhost check {{.Path}}          compile only
--   etlhost run {{.Path}}            run it (etlhost run --help for the flags)
--   etlhost run --arg since=2024-01-01 {{.Path}}
--
-- The --! lines above are the script's header: timeout (its time limit),
-- description, and odoo-writes (the Odoo models it may change, none unless
-- listed: --! odoo-writes = res.partner).

local log = require("log")
local etl = require("etl")
local odoo = require("odoo")
local pg = require("pg")

-- The table this job fills. db:replace below swaps its rows in one
-- transaction: readers see the old rows or the new ones, never a half-loaded
-- table, and a failed run leaves it as it was.
local TABLE = "{{.Table}}"
local COLUMNS = { "odoo_id", "reference", "partner", "invoice_date", "amount_total" }

-- Connections are named in etlhost.toml ([odoo.default], [postgres.default])
-- or by the ETLHOST_ODOO_* and ETLHOST_PG_DSN variables. The script never
-- sees a password.
local erp = odoo.connect()
local db = pg.connect()

db:exec("create table if not exists " .. db:quote_ident(TABLE) .. [[ (
  odoo_id      integer primary key,
  reference    text not null,
  partner      text,
  invoice_date date,
  amount_total numeric(16, 2)
)]])

-- Which records: an Odoo domain (conditions are ANDed). etl.arg reads
-- --arg key=value, with a default.
local domain = {
  { "move_type", "=", "out_invoice" },
  { "state", "=", "posted" },
  { "invoice_date", ">=", etl.arg("since", "2000-01-01") },
}
local fields = { "name", "partner_id", "invoice_date", "amount_total" }

-- erp:iter pages by id (500 rows per call here) and keeps one page in
-- memory; log.progress feeds the live view of etlhost run.
local total = erp:count("account.move", domain)
local rows = {}
for move in erp:iter("account.move", domain, { fields = fields, batch = 500 }) do
  rows[#rows + 1] = {
    move.id,
    move.name,
    move.partner_id and move.partner_id.name, -- a many2one is {id = 7, name = "Acme"}, or nil
    move.invoice_date,                         -- dates stay "YYYY-MM-DD" strings
    move.amount_total,
  }
  if #rows % 500 == 0 then
    log.progress(#rows, total)
  end
end
log.progress(#rows, total)

local result = db:replace(TABLE, COLUMNS, rows)
log.info("loaded " .. TABLE, { rows = result.inserted, previous_rows = result.deleted })

-- What the script returns is its result in the summary, the JSON report,
-- the run history and the metrics (rows).
return { rows = result.inserted }
`))

func (a *App) newCommand() *cli.Command {
	return &cli.Command{
		Name:      "new",
		Usage:     "write a new ETL script from a commented template",
		ArgsUsage: "NAME | PATH.lua",
		Description: `Writes scripts/NAME.lua (or PATH.lua) from a commented template: a complete job that
reads posted customer invoices from Odoo page by page and replaces a PostgreSQL table
with them in one transaction, reporting progress and returning {rows = n}. Edit the
domain, fields, columns and table; 'etlhost check' passes as written. An existing file
is never overwritten.

NAME is lowercase letters, digits and _ (it becomes the script's name in reports,
metrics and history, and by default its table's name).

Examples:
   etlhost new ventes_export
   etlhost new --table report_sales --description "Sales per day" etl/sales_daily.lua`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: "scripts", Usage: "`FOLDER` for a NAME given without a path"},
			&cli.StringFlag{Name: "table", Usage: "the table the script fills (default: its name)"},
			&cli.StringFlag{Name: "description", Usage: "the header's description (default: a placeholder to replace)"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 {
				return usageErr("new: give one NAME (like ventes_export) or PATH.lua")
			}
			arg := c.Args().First()
			path := arg
			if !strings.HasSuffix(arg, ".lua") && !strings.ContainsRune(arg, filepath.Separator) {
				path = filepath.Join(c.String("dir"), arg+".lua")
			}
			if !strings.HasSuffix(path, ".lua") {
				return usageErr("new: %s: a script's file name ends in .lua", path)
			}
			name := strings.TrimSuffix(filepath.Base(path), ".lua")
			if !scriptNameRe.MatchString(name) {
				return usageErr("new: %q is not a good script name: use lowercase letters, digits and _, starting with a letter (like ventes_export)", name)
			}
			table := c.String("table")
			if table == "" {
				table = name
			}
			desc := c.String("description")
			if desc == "" {
				desc = "TODO: one line on what " + name + " loads, for people"
			}
			if strings.ContainsAny(desc+table, "\n\r") {
				return usageErr("new: --description and --table are one line each")
			}
			var buf bytes.Buffer
			if err := newScriptTemplate.Execute(&buf, map[string]string{
				"Name": name, "Path": filepath.ToSlash(path), "Table": table, "Description": desc,
			}); err != nil {
				return &exitError{code: ExitFailed, err: err}
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return &exitError{code: ExitFailed, err: fmt.Errorf("new: cannot create the folder: %w", err)}
			}
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return &exitError{code: ExitFailed, err: fmt.Errorf("new: %s already exists; it was left as it is (choose another name or remove it)", path)}
			}
			if err != nil {
				return &exitError{code: ExitFailed, err: fmt.Errorf("new: %w", err)}
			}
			_, err = f.Write(buf.Bytes())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				_ = os.Remove(path)
				return &exitError{code: ExitFailed, err: fmt.Errorf("new: cannot write %s: %w", path, err)}
			}
			fmt.Fprintf(a.Stderr, "wrote %s\nnext: edit it, then etlhost check %s && etlhost run %s\n", path, path, path)
			return nil
		},
	}
}
