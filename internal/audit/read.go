package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/etlhost/etlhost/internal/secret"
)

// Filter selects records of the trail (`etlhost audit`). Its zero value
// selects all of them.
type Filter struct {
	// Since keeps the records made at or after it (zero: all).
	Since time.Time
	// User keeps the records of this operating system user (also matched
	// against the user behind sudo).
	User string
	// Script keeps the records whose script path contains it.
	Script string
	// Status keeps the records of this status (ok, failed, cancelled...).
	Status string
	// Last keeps the most recent Last records of those selected (0: all).
	Last int
}

// Match reports whether rec passes the filter (Last aside).
func (f Filter) Match(rec *Record) bool {
	switch {
	case !f.Since.IsZero() && rec.Time.Before(f.Since):
		return false
	case f.User != "" && rec.User != f.User && rec.SudoUser != f.User:
		return false
	case f.Script != "" && !strings.Contains(rec.Script, f.Script):
		return false
	case f.Status != "" && rec.Status != f.Status:
		return false
	}
	return true
}

// ReadFile reads the records of the audit file at path that pass f, oldest
// first. A line that is not a record (a write cut short by a crash) does
// not hide the others: its line number is in skipped.
func ReadFile(path string, f Filter) (recs []Record, skipped []int, err error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("audit: cannot open the audit file: %w", err)
	}
	defer file.Close()
	return read(file, path, f)
}

func read(r io.Reader, path string, f Filter) (out []Record, skipped []int, err error) {
	br := bufio.NewReader(r)
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var rec Record
			if jerr := json.Unmarshal(line, &rec); jerr != nil {
				skipped = append(skipped, lineNo)
			} else if f.Match(&rec) {
				out = append(out, rec)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("audit: read %s: %w", path, err)
		}
	}
	return keepLast(out, f.Last), skipped, nil
}

func keepLast(recs []Record, n int) []Record {
	if n > 0 && len(recs) > n {
		return recs[len(recs)-n:]
	}
	return recs
}

// ReadTable reads the records of the table etlhost_audit in the database of
// dsn (the history connection connName) that pass f, oldest first. The DSN
// and its password never appear in an error.
func ReadTable(ctx context.Context, dsn, connName string, f Filter) ([]Record, error) {
	t := &Trail{name: connName, secrets: secret.OfDSN(dsn)}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("audit: the DSN of history connection %q cannot be parsed; check the configuration", connName)
	}
	cfg.RuntimeParams["application_name"] = "etlhost audit"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("audit: connect to history connection %q: %s", connName, t.scrub(err.Error()))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var since any
	if !f.Since.IsZero() {
		since = f.Since
	}
	last := f.Last
	if last <= 0 {
		last = -1
	}
	// The newest `last` of the selected rows, then oldest first. The
	// result column may be missing from a table older than it.
	rows, err := conn.Query(ctx, `SELECT * FROM (
  SELECT id, at, os_user, coalesce(sudo_user, ''), host, command, script, sha256, source, args,
         status, coalesce(error, ''), odoo_writes, pg_statements, to_jsonb(a) -> 'result'
  FROM `+Table+` a
  WHERE ($1::timestamptz IS NULL OR at >= $1)
    AND ($2 = '' OR os_user = $2 OR sudo_user = $2)
    AND ($3 = '' OR strpos(script, $3) > 0)
    AND ($4 = '' OR status = $4)
  ORDER BY id DESC
  LIMIT CASE WHEN $5 < 0 THEN NULL ELSE $5 END) newest
ORDER BY id`, since, f.User, f.Script, f.Status, last)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42P01" {
			return nil, fmt.Errorf("audit: history connection %q has no table %s: no fix was committed with it configured", connName, Table)
		}
		return nil, fmt.Errorf("audit: read %s on history connection %q: %s", Table, connName, t.scrub(err.Error()))
	}
	var out []Record
	for rows.Next() {
		var (
			rec                 Record
			id                  int64
			args, writes, stmts []byte
			result              []byte
		)
		if err := rows.Scan(&id, &rec.Time, &rec.User, &rec.SudoUser, &rec.Host, &rec.Command, &rec.Script, &rec.SHA256,
			&rec.Source, &args, &rec.Status, &rec.Error, &writes, &stmts, &result); err != nil {
			return nil, fmt.Errorf("audit: read %s: %w", Table, err)
		}
		for _, p := range []struct {
			b []byte
			v any
		}{{args, &rec.Args}, {writes, &rec.OdooWrites}, {stmts, &rec.Statements}, {result, &rec.Result}} {
			if len(p.b) > 0 {
				if err := json.Unmarshal(p.b, p.v); err != nil {
					return nil, fmt.Errorf("audit: record %d of %s: %w", id, Table, err)
				}
			}
		}
		rec.Time = rec.Time.UTC()
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: read %s on history connection %q: %s", Table, connName, t.scrub(err.Error()))
	}
	return out, nil
}
