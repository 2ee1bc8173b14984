package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func sampleRecord(source string) *Record {
	env := map[string]string{"SUDO_USER": "alice"}
	r := NewRecord(time.Date(2026, 11, 29, 7, 41, 0, 0, time.FixedZone("CET", 3600)), func(k string) string { return env[k] },
		"exec", "fix.lua", source, map[string]string{"since": "2024-01-01"})
	r.Status = "ok"
	r.OdooWrites = append(r.OdooWrites, OdooWrite{Connection: "default", Model: "res.partner", Method: "write",
		IDs: []int64{7}, Values: map[string]any{"city": "Arras"}})
	r.Statements = append(r.Statements, Statement{Connection: "default", Statement: "exec UPDATE t SET v = 1", Rows: 2})
	return r
}

func TestHash(t *testing.T) {
	t.Parallel()
	// sha256("abc"), from FIPS 180-2.
	if got := Hash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("Hash = %s", got)
	}
}

func TestNewRecord(t *testing.T) {
	t.Parallel()
	r := sampleRecord("return 1")
	if r.User == "" || r.SudoUser != "alice" || r.SHA256 != Hash("return 1") || r.Time.Location() != time.UTC {
		t.Fatalf("record %+v", r)
	}
	empty := NewRecord(time.Now(), func(string) string { return "" }, "repl", "repl", "x = 1", nil)
	b, _ := json.Marshal(empty)
	for _, want := range []string{`"args":{}`, `"odoo_writes":[]`, `"pg_statements":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("empty lists must be [] and {} in JSON, not null: %s", b)
		}
	}
}

func TestDefaultFile(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/state", "HOME": "/home/a"}, "/state/etlhost/audit.jsonl"},
		{map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/home/a"}, "/home/a/.local/state/etlhost/audit.jsonl"},
		{map[string]string{"HOME": "/home/a"}, "/home/a/.local/state/etlhost/audit.jsonl"},
	}
	for _, tc := range cases {
		got, err := DefaultFile(func(k string) string { return tc.env[k] })
		if err != nil || got != tc.want {
			t.Errorf("%v: %q %v, want %q", tc.env, got, err, tc.want)
		}
	}
}

// TestFile: records are appended as JSON lines, to a file created with its
// folders and readable by its owner only.
func TestFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state", "etlhost", "audit.jsonl")
	for i := 0; i < 2; i++ {
		tr, err := Open(context.Background(), Options{File: path})
		if err != nil {
			t.Fatal(err)
		}
		if tr.HasTable() || tr.Path() != path {
			t.Fatal("file only")
		}
		if err := tr.Append(context.Background(), sampleRecord("print(1)")); err != nil {
			t.Fatal(err)
		}
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v %v", st.Mode(), err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if r.Script != "fix.lua" || r.Source != "print(1)" || len(r.OdooWrites) != 1 || r.Statements[0].Rows != 2 || r.Args["since"] != "2024-01-01" {
			t.Fatalf("line %d: %+v", n, r)
		}
	}
	if n != 2 {
		t.Fatalf("%d lines, want 2 (appended, not overwritten)", n)
	}
}

func TestFileUnwritable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), Options{File: filepath.Join(blocker, "audit.jsonl")})
	if err == nil || !strings.Contains(err.Error(), "audit: cannot") {
		t.Fatalf("error %v", err)
	}
}

// TestTable: with a history connection the table is created when missing
// (by two trails at once), and each record becomes a row.
func TestTable(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	trails := make(chan *Trail, 2)
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func(i int) {
			tr, err := Open(context.Background(), Options{File: filepath.Join(dir, "a.jsonl"), DSN: dsn, ConnName: "history"})
			errs <- err
			trails <- tr
		}(i)
	}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		tr := <-trails
		if !tr.HasTable() {
			t.Fatal("no table")
		}
		if err := tr.Append(context.Background(), sampleRecord("fix()")); err != nil {
			t.Fatal(err)
		}
		tr.Close()
	}
	rows := pgtest.QueryRows(t, dsn, `SELECT os_user <> '', sudo_user, command, script, sha256, source, args->>'since',
		status, error, odoo_writes->0->>'model', (pg_statements->0->>'rows')::int FROM etlhost_audit`)
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	want := []any{true, "alice", "exec", "fix.lua", Hash("fix()"), "fix()", "2024-01-01", "ok", nil, "res.partner", int32(2)}
	for i, v := range want {
		if rows[0][i] != v {
			t.Errorf("column %d = %#v, want %#v", i, rows[0][i], v)
		}
	}
}

// TestNoSecretInErrors: a history connection that cannot be reached is an
// error naming it, never showing its password or DSN.
func TestNoSecretInErrors(t *testing.T) {
	t.Parallel()
	const secret = "Sup3r-S3cret-pw"
	dsn := "postgres://etl:" + secret + "@127.0.0.1:1/history?connect_timeout=2"
	_, err := Open(context.Background(), Options{File: filepath.Join(t.TempDir(), "a.jsonl"), DSN: dsn, ConnName: "history"})
	if err == nil {
		t.Fatal("connected to port 1?")
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), dsn) || !strings.Contains(err.Error(), `history connection "history"`) {
		t.Fatalf("error: %v", err)
	}
	_, err = Open(context.Background(), Options{File: filepath.Join(t.TempDir(), "a.jsonl"), DSN: "postgres://etl:" + secret + "@host:notaport/x", ConnName: "h"})
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("unparsable DSN: %v", err)
	}
}

// TestAnyText (issue 18, item 6): a record whose text PostgreSQL refuses (a
// NUL byte in the source, the error, an argument, a value sent; invalid
// UTF-8) is written to the file and to the table, with U+FFFD in the table
// where PostgreSQL refuses a character; the checksum is the exact source's.
func TestAnyText(t *testing.T) {
	t.Parallel()
	dsn, path, tr := openTrail(t)
	source := "fix()\n-- bad\x00byte caf\xe9\n"
	r := sampleRecord(source)
	r.Script = "fix\x00.lua"
	r.Status, r.Error = "failed", "fix.lua:2: bad\x00byte"
	r.Args["note"] = "a\x00b"
	r.OdooWrites[0].Values = map[string]any{"city": "Arr\x00as", "k\x00": "caf\xe9"}
	r.Statements[0].Statement = "exec UPDATE t SET v = 'a\x00b'"
	if err := tr.Append(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	rows := pgtest.QueryRows(t, dsn, `SELECT script, sha256, source, args->>'note', error, odoo_writes->0->'values'->>'city', pg_statements->0->>'statement' FROM etlhost_audit`)
	want := []any{"fix�.lua", Hash(source), "fix()\n-- bad�byte caf�\n", "a�b", "fix.lua:2: bad�byte", "Arr�as", "exec UPDATE t SET v = 'a�b'"}
	if len(rows) != 1 {
		t.Fatalf("%d rows in the table", len(rows))
	}
	for i, v := range want {
		if rows[0][i] != v {
			t.Errorf("column %d = %#v, want %#v", i, rows[0][i], v)
		}
	}
	raw, _ := os.ReadFile(path)
	var got Record
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	// The file keeps the NUL bytes (JSON escapes them); encoding/json
	// writes invalid UTF-8 as U+FFFD.
	if got.Source != "fix()\n-- bad\x00byte caf�\n" || got.Error != r.Error || got.SHA256 != Hash(source) {
		t.Errorf("file record %+v", got)
	}
}

// TestUnencodableValue (issue 18, item 6): a value JSON cannot hold (NaN,
// from 0/0 in Lua) does not cost the record: the file and the table get it
// with that value written as text.
func TestUnencodableValue(t *testing.T) {
	t.Parallel()
	dsn, path, tr := openTrail(t)
	r := sampleRecord("fix()")
	r.OdooWrites = append(r.OdooWrites, OdooWrite{Connection: "default", Model: "res.partner", Method: "write",
		IDs: []int64{8}, Values: map[string]any{"credit": math.NaN()}})
	if err := tr.Append(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	rows := pgtest.QueryRows(t, dsn, `SELECT odoo_writes->0->'values'->>'city', odoo_writes->1->>'values' FROM etlhost_audit`)
	if fmt.Sprint(rows) != "[[Arras map[credit:NaN]]]" {
		t.Errorf("table: %v", rows)
	}
	raw, _ := os.ReadFile(path)
	var got Record
	if err := json.Unmarshal(raw, &got); err != nil || len(got.OdooWrites) != 2 || fmt.Sprint(got.OdooWrites[1].Values) != "map[credit:NaN]" {
		t.Errorf("file: %v %+v\n%s", err, got, raw)
	}
}

// openTrail opens a trail on a file and the table of a fresh database.
func openTrail(t *testing.T) (dsn, path string, tr *Trail) {
	t.Helper()
	dsn = pgtest.DSN(t)
	path = filepath.Join(t.TempDir(), "a.jsonl")
	tr, err := Open(context.Background(), Options{File: path, DSN: dsn, ConnName: "audit"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return dsn, path, tr
}
