package main

// `etlhost audit`: the audit trail of committed fixes (`exec --commit`,
// `repl --commit`; package internal/audit), read back and filtered.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/internal/audit"
	"github.com/etlhost/etlhost/report/trail"
)

func (a *App) auditCommand() *cli.Command {
	return &cli.Command{
		Name:  "audit",
		Usage: "list the committed fixes of exec --commit and repl --commit (the audit trail)",
		Description: `Reads the audit trail: one record per fix committed with 'etlhost exec --commit' or
'etlhost repl --commit', with who ran it, where, its script's text and digest, its arguments,
its status and result, every Odoo write it sent and every PostgreSQL statement it committed.
It reads the audit file (--audit-file, else [audit] file, else
~/.local/state/etlhost/audit.jsonl), or with --table the table etlhost_audit of the [audit]
(else [history]) connection. Records are listed oldest first.

Examples:
   etlhost audit
   etlhost audit --since 7d --user alice
   etlhost audit --script fixes/ --status failed --full
   etlhost audit --table --json | jq '.[] | select(.pg_statements | length > 0)'`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "last", Value: 20, Usage: "the `N` most recent matching fixes (0: all)"},
			&cli.StringFlag{Name: "since", Usage: "fixes made since `WHEN`: a duration back from now (36h, 7d) or a date (2026-12-01, 2026-12-01T08:00:00Z)"},
			&cli.StringFlag{Name: "user", Usage: "fixes run by this operating system `USER` (or by them through sudo)"},
			&cli.StringFlag{Name: "script", Usage: "fixes whose script path contains `TEXT` (-e for code given on the command line, repl for the REPL)"},
			&cli.StringFlag{Name: "status", Usage: "fixes that ended with `STATUS` (ok, failed, timeout, cancelled)"},
			&cli.BoolFlag{Name: "full", Usage: "print each fix's source, Odoo writes and statements"},
			&cli.BoolFlag{Name: "json", Usage: "print the records as a JSON array"},
			&cli.BoolFlag{Name: "table", Usage: "read the table etlhost_audit of the [audit] (else [history]) connection, not the file"},
			&cli.StringFlag{Name: "audit-file", Usage: "read the audit `FILE` (default: [audit] file, else ~/.local/state/etlhost/audit.jsonl)"},
			configFlag(),
		},
		Action: a.auditAction,
	}
}

func (a *App) auditAction(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return usageErr("audit: unexpected argument %q (use --script TEXT)", c.Args().First())
	}
	if c.Int("last") < 0 {
		return usageErr("--last must be 0 (all) or more")
	}
	f := audit.Filter{User: c.String("user"), Script: c.String("script"), Status: c.String("status"), Last: c.Int("last")}
	if v := c.String("since"); v != "" {
		since, err := parseSince(v, a.Now())
		if err != nil {
			return usageErr("--since: %v", err)
		}
		f.Since = since
	}
	cfg, err := a.loadConfig(c)
	if err != nil {
		return err
	}
	o, err := resolveAudit(c, a.Getenv, cfg)
	if err != nil {
		return usageErr("%v", err)
	}
	var recs []audit.Record
	from := o.File
	if c.Bool("table") {
		if o.ConnName == "" {
			return usageErr("audit --table: no [audit] or [history] connection is configured")
		}
		from = fmt.Sprintf("the table %s of connection %q", audit.Table, o.ConnName)
		ctx, cancel := context.WithTimeout(c.Context, time.Minute)
		defer cancel()
		recs, err = audit.ReadTable(ctx, o.DSN, o.ConnName, f)
	} else {
		var skipped []int
		recs, skipped, err = audit.ReadFile(o.File, f)
		if len(skipped) > 0 {
			fmt.Fprintf(a.Stderr, "etlhost: audit: %s: lines %v are not audit records (a write cut short?): left out\n", o.File, skipped)
		}
	}
	if err != nil {
		return &exitError{code: ExitFailed, err: err}
	}
	if c.Bool("json") {
		if recs == nil {
			recs = []audit.Record{}
		}
		enc := json.NewEncoder(a.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	trail.WriteText(a.Stdout, recs, trail.Options{Full: c.Bool("full"), From: from})
	return nil
}

// parseSince reads --since: a duration back from now ("36h", "7d", "2w")
// or a date or date and time.
func parseSince(v string, now time.Time) (time.Time, error) {
	for _, unit := range []struct {
		suffix string
		d      time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if n, err := strconv.Atoi(strings.TrimSuffix(v, unit.suffix)); err == nil && strings.HasSuffix(v, unit.suffix) && n >= 0 {
			return now.Add(-time.Duration(n) * unit.d), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (36h, 7d) nor a date (2026-12-01)", v)
}
