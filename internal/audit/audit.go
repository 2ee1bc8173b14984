// Package audit keeps the trail of committed data fixes (`etlhost exec
// --commit`, `etlhost repl --commit`): who ran what, when, and every Odoo
// write and PostgreSQL statement it applied. Each fix is one Record,
// appended as a JSON line to a file and, when a history connection is
// configured, inserted into the table etlhost_audit of that database.
//
// The sinks are opened before the fix runs, so a fix whose record could not
// be kept is never applied: an unwritable file or an unreachable history
// database stops the command first.
//
// A record is written whatever its text holds (see Trail.Append), and the
// file and the table are written independently: one failing never keeps
// the record from the other.
//
// A record holds the script's text and arguments and the values the script
// sent; it never holds a connection's DSN, password or API key (the host
// keeps those away from scripts, and the history connection's secrets are
// scrubbed from this package's errors).
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/etlhost/etlhost/internal/pgtext"
	"github.com/etlhost/etlhost/internal/secret"
)

// Table is the name of the audit table in the history database, created in
// the connection's current schema when missing.
const Table = "etlhost_audit"

// Record is one committed fix: the JSON line of the file, the row of the
// table.
type Record struct {
	Time time.Time `json:"time"`
	// User is the operating system user who ran etlhost; SudoUser the user
	// behind sudo, when there is one.
	User     string `json:"user"`
	SudoUser string `json:"sudo_user,omitempty"`
	Host     string `json:"host"`
	// Command is "exec" or "repl".
	Command string `json:"command"`
	// Script is the script's path, "-e" for code given on the command line,
	// or "repl" for an input of the REPL.
	Script string `json:"script"`
	// Source is the script's text (a REPL input), SHA256 its hex digest.
	Source string            `json:"source"`
	SHA256 string            `json:"sha256"`
	Args   map[string]string `json:"args"`
	// Status is ok, failed or cancelled; Error says why it was not ok.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Result is what the script returned, as JSON values (nil: nothing):
	// the fix's own account of what it did, beside what the host saw.
	Result any `json:"result,omitempty"`
	// OdooWrites are the writes sent to Odoo, in order, failed ones
	// included (Odoo may have applied them all the same).
	OdooWrites []OdooWrite `json:"odoo_writes"`
	// Statements are the PostgreSQL statements committed, in order. A
	// failed fix has none: its work was rolled back.
	Statements []Statement `json:"pg_statements"`
}

// OdooWrite is one write sent to Odoo.
type OdooWrite struct {
	Connection string  `json:"connection"`
	Model      string  `json:"model"`
	Method     string  `json:"method"`
	IDs        []int64 `json:"ids,omitempty"`
	Values     any     `json:"values,omitempty"`
	// Result is what a create returned (the new ids).
	Result string `json:"result,omitempty"`
	// Error is set when the call failed.
	Error string `json:"error,omitempty"`
}

// Statement is one data-changing PostgreSQL statement (exec, copy,
// replace, set_state) with the rows it affected.
type Statement struct {
	Connection string `json:"connection"`
	// Statement is what was run: "exec UPDATE ...", "copy into t",
	// "replace t" (whitespace collapsed; long SQL shortened, the script's
	// text has it whole).
	Statement string `json:"statement"`
	Rows      int64  `json:"rows"`
	// Deleted is the rows a replace deleted (Rows: inserted).
	Deleted int64 `json:"deleted,omitempty"`
}

// Hash returns the hex SHA-256 of a script's text.
func Hash(source string) string {
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:])
}

// NewRecord starts a record for command on script with its text and
// arguments, stamped with who runs it and where.
func NewRecord(now time.Time, getenv func(string) string, command, script, source string, args map[string]string) *Record {
	if args == nil {
		args = map[string]string{}
	}
	host, _ := os.Hostname()
	return &Record{Time: now.UTC(), User: CurrentUser(getenv), SudoUser: getenv("SUDO_USER"), Host: host,
		Command: command, Script: script, Source: source, SHA256: Hash(source), Args: args,
		OdooWrites: []OdooWrite{}, Statements: []Statement{}}
}

// CurrentUser is the operating system user running the process: the
// account's name, else $USER or $LOGNAME, else its uid.
func CurrentUser(getenv func(string) string) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return fmt.Sprintf("uid %d", os.Getuid())
}

// DefaultFile is where the trail goes without --audit-file or [audit]
// file: $XDG_STATE_HOME/etlhost/audit.jsonl, by default
// ~/.local/state/etlhost/audit.jsonl.
func DefaultFile(getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "etlhost", "audit.jsonl"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no home directory for the audit file (set --audit-file): %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "etlhost", "audit.jsonl"), nil
}

// Options say where a Trail writes.
type Options struct {
	// File is the JSON-lines file (created with its folders, mode 0600).
	File string
	// DSN, when set, is the history database; ConnName its name in the
	// configuration, for messages. The DSN never appears in an error.
	DSN      string
	ConnName string
}

// Trail is an open audit trail. Append is safe for concurrent use.
type Trail struct {
	mu      sync.Mutex
	path    string
	file    *os.File
	conn    *pgx.Conn
	name    string
	secrets []string
}

// Open opens the file for appending and, with a DSN, connects to the
// history database and creates the table when missing. Call it before the
// fix runs.
func Open(ctx context.Context, o Options) (*Trail, error) {
	if o.File == "" {
		return nil, errors.New("audit: no file given")
	}
	if err := os.MkdirAll(filepath.Dir(o.File), 0o700); err != nil {
		return nil, fmt.Errorf("audit: cannot create the folder of the audit file: %w", err)
	}
	f, err := os.OpenFile(o.File, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: cannot open the audit file: %w", err)
	}
	// A record cut short by a crash leaves the file without its last
	// newline: end that line, so the next record starts on its own.
	if err := endLastLine(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: cannot prepare the audit file: %w", err)
	}
	t := &Trail{path: o.File, file: f, name: o.ConnName}
	if o.DSN == "" {
		return t, nil
	}
	t.secrets = secret.OfDSN(o.DSN)
	if err := t.connect(ctx, o.DSN); err != nil {
		f.Close()
		return nil, err
	}
	return t, nil
}

func (t *Trail) connect(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("audit: the DSN of history connection %q cannot be parsed; check the configuration", t.name)
	}
	cfg.RuntimeParams["application_name"] = "etlhost audit"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("audit: connect to history connection %q: %s", t.name, t.scrub(err.Error()))
	}
	// The table is created only when missing: CREATE TABLE IF NOT EXISTS
	// needs the CREATE privilege on the schema even when there is nothing
	// to create, and the role writing the trail may only have been granted
	// INSERT on the table.
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, Table).Scan(&exists); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return fmt.Errorf("audit: look for %s on history connection %q: %s", Table, t.name, t.scrub(err.Error()))
	}
	if !exists {
		if _, err := conn.Exec(ctx, createSQL); err != nil {
			var pe *pgconn.PgError
			// Two etlhosts creating the table at once: the loser fails on
			// one of the catalog's unique indexes (the relation, 42P07, its
			// row type, 42710, or the index itself, 23505) once the winner
			// has committed, and the table is there.
			if !errors.As(err, &pe) || (pe.Code != "23505" && pe.Code != "42P07" && pe.Code != "42710") {
				conn.Close(context.WithoutCancel(ctx))
				return fmt.Errorf("audit: create table %s on history connection %q: %s", Table, t.name, t.scrub(err.Error()))
			}
		}
	}
	// Likewise the column: ALTER TABLE needs the table's owner even when
	// there is nothing to add.
	var hasResult bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'result')`, Table).Scan(&hasResult); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return fmt.Errorf("audit: read the columns of %s on history connection %q: %s", Table, t.name, t.scrub(err.Error()))
	}
	if !hasResult {
		if _, err := conn.Exec(ctx, upgradeSQL); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return fmt.Errorf("audit: add the result column to %s on history connection %q: %s", Table, t.name, t.scrub(err.Error()))
		}
	}
	t.conn = conn
	return nil
}

const createSQL = `CREATE TABLE IF NOT EXISTS ` + Table + ` (
	id bigserial PRIMARY KEY,
	at timestamptz NOT NULL,
	os_user text NOT NULL,
	sudo_user text,
	host text NOT NULL,
	command text NOT NULL,
	script text NOT NULL,
	sha256 text NOT NULL,
	source text NOT NULL,
	args jsonb NOT NULL,
	status text NOT NULL,
	error text,
	odoo_writes jsonb NOT NULL,
	pg_statements jsonb NOT NULL,
	result jsonb
)`

// MaxResultBytes bounds the result an audit record keeps (as JSON): a fix
// returning a large table is recorded with a note of its size instead.
const MaxResultBytes = 64 << 10

// upgradeSQL brings a table created before the result column up to date.
const upgradeSQL = `ALTER TABLE ` + Table + ` ADD COLUMN IF NOT EXISTS result jsonb`

// Path is the audit file's path.
func (t *Trail) Path() string { return t.path }

// HasTable reports whether records also go to the history database.
func (t *Trail) HasTable() bool { return t.conn != nil }

// Connection is the name of the history connection ("" without a table).
func (t *Trail) Connection() string {
	if t.conn == nil {
		return ""
	}
	return t.name
}

// Append writes rec to the file (synced to disk) and to the table. Both are
// attempted, each whatever happened to the other; the error names what
// failed.
//
// A record is written whatever its text holds. The file keeps it exactly
// (JSON escapes control characters; encoding/json writes bytes that are not
// UTF-8 as U+FFFD); in the table, where PostgreSQL refuses NUL bytes and
// invalid UTF-8, each of those is stored as U+FFFD (package pgtext). The
// sha256 column is always the digest of the exact source. A value JSON
// cannot hold (NaN or an infinity from Lua arithmetic) is written as its
// text, in both.
func (t *Trail) Append(ctx context.Context, rec *Record) error {
	rec = encodable(rec)
	var errs []error
	line, err := json.Marshal(rec)
	if err != nil {
		errs = append(errs, fmt.Errorf("audit: encode the record for %s: %w", t.path, err))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		line = append(line, '\n')
		if _, err := t.file.Write(line); err != nil {
			errs = append(errs, fmt.Errorf("audit: write %s: %w", t.path, err))
		} else if err := t.file.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("audit: sync %s: %w", t.path, err))
		}
	}
	if t.conn != nil {
		if err := t.insert(ctx, rec); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// encodable returns rec, or when one of its Odoo writes' values or its
// result cannot be encoded as JSON, a copy with those replaced by their
// text (a result too large for a record: by a note of its size).
func encodable(rec *Record) *Record {
	_, werr := json.Marshal(rec.OdooWrites)
	result, rerr := json.Marshal(rec.Result)
	if werr == nil && rerr == nil && len(result) <= MaxResultBytes {
		return rec
	}
	c := *rec
	switch {
	case rerr != nil:
		c.Result = fmt.Sprint(rec.Result)
	case len(result) > MaxResultBytes:
		c.Result = fmt.Sprintf("a result of %d bytes of JSON, more than the %d an audit record keeps", len(result), MaxResultBytes)
	}
	c.OdooWrites = make([]OdooWrite, len(rec.OdooWrites))
	for i, w := range rec.OdooWrites {
		if _, err := json.Marshal(w); err != nil {
			w.Values = fmt.Sprint(w.Values)
		}
		c.OdooWrites[i] = w
	}
	return &c
}

func (t *Trail) insert(ctx context.Context, rec *Record) error {
	args, _ := json.Marshal(rec.Args)
	writes, err := json.Marshal(rec.OdooWrites)
	if err != nil {
		return fmt.Errorf("audit: encode the Odoo writes: %w", err)
	}
	stmts, _ := json.Marshal(rec.Statements)
	var result []byte // NULL: the script returned nothing
	if rec.Result != nil {
		result, _ = json.Marshal(rec.Result)
		result = pgtext.JSON(result)
	}
	text := pgtext.Text
	jsonb := func(b []byte) string { return string(pgtext.JSON(b)) }
	// The record must land even when the fix was interrupted.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err = t.conn.Exec(ctx, `INSERT INTO `+Table+` (at, os_user, sudo_user, host, command, script, sha256, source, args, status, error, odoo_writes, pg_statements, result)
VALUES ($1, $2, NULLIF($3, ''), $4, $5, $6, $7, $8, $9, $10, NULLIF($11, ''), $12, $13, $14::jsonb)`,
		rec.Time, text(rec.User), text(rec.SudoUser), text(rec.Host), text(rec.Command), text(rec.Script), rec.SHA256, text(rec.Source),
		jsonb(args), text(rec.Status), text(rec.Error), jsonb(writes), jsonb(stmts), nullText(result))
	if err != nil {
		return fmt.Errorf("audit: insert into %s on history connection %q: %s", Table, t.name, t.scrub(err.Error()))
	}
	return nil
}

// Close closes the file and the history connection.
func (t *Trail) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	err := t.file.Close()
	if t.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = t.conn.Close(ctx)
		t.conn = nil
	}
	return err
}

func (t *Trail) scrub(s string) string { return secret.Scrub(s, t.secrets) }

// nullText is b as text, nil (SQL NULL) when b is.
func nullText(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// endLastLine appends a newline to f when it does not end with one.
func endLastLine(f *os.File) error {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, st.Size()-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	_, err = f.Write([]byte{'\n'})
	return err
}
