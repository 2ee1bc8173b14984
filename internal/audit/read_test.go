package audit

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/internal/pgtest"
)

// trailRecords are three fixes by two users, an hour apart, the second
// failed; each keeps its result.
func trailRecords() []*Record {
	var recs []*Record
	for i, who := range []string{"alice", "bob", "alice"} {
		r := sampleRecord("fix()")
		r.Time = time.Date(2026, 12, 1, 8+i, 0, 0, 0, time.UTC)
		r.User, r.SudoUser = who, ""
		r.Script = []string{"fixes/partner.lua", "fixes/moves.lua", "-e"}[i]
		r.Status = []string{"ok", "failed", "ok"}[i]
		r.Result = map[string]any{"fixed": float64(i + 1)}
		recs = append(recs, r)
	}
	return recs
}

func writeTrail(t *testing.T, o Options) {
	t.Helper()
	tr, err := Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for _, r := range trailRecords() {
		if err := tr.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

var filterCases = []struct {
	name string
	f    Filter
	want []string // scripts, oldest first
}{
	{"all", Filter{}, []string{"fixes/partner.lua", "fixes/moves.lua", "-e"}},
	{"user", Filter{User: "alice"}, []string{"fixes/partner.lua", "-e"}},
	{"script", Filter{Script: "fixes/"}, []string{"fixes/partner.lua", "fixes/moves.lua"}},
	{"status", Filter{Status: "failed"}, []string{"fixes/moves.lua"}},
	{"since", Filter{Since: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}, []string{"fixes/moves.lua", "-e"}},
	{"last", Filter{Last: 2}, []string{"fixes/moves.lua", "-e"}},
	{"last of a user", Filter{User: "alice", Last: 1}, []string{"-e"}},
}

func checkRecords(t *testing.T, got []Record, want []string) {
	t.Helper()
	var scripts []string
	for _, r := range got {
		scripts = append(scripts, r.Script)
	}
	if strings.Join(scripts, ",") != strings.Join(want, ",") {
		t.Fatalf("records %q, want %q", scripts, want)
	}
	for _, r := range got {
		if m, ok := r.Result.(map[string]any); !ok || m["fixed"] == nil {
			t.Errorf("%s: result %#v, want the script's result kept", r.Script, r.Result)
		}
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	writeTrail(t, Options{File: path})
	for _, tc := range filterCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, skipped, err := ReadFile(path, tc.f)
			if err != nil || skipped != nil {
				t.Fatal(err, skipped)
			}
			checkRecords(t, got, tc.want)
		})
	}
}

// A line cut short (a crash while appending) is left out and named; the
// records around it are read. The next record appended after such a line
// starts on a line of its own.
func TestReadFileBadLines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	writeTrail(t, Options{File: path})
	good, _ := os.ReadFile(path)
	cut := filepath.Join(dir, "cut.jsonl")
	os.WriteFile(cut, append(append([]byte{}, good...), `{"time":"2026-12-0`...), 0o600)
	if got, skipped, err := ReadFile(cut, Filter{}); err != nil || len(got) != 3 || fmt.Sprint(skipped) != "[4]" {
		t.Fatalf("cut last line: %d records, skipped %v, %v; want 3, [4]", len(got), skipped, err)
	}
	writeTrail(t, Options{File: cut}) // three more, after the cut line
	if got, skipped, err := ReadFile(cut, Filter{}); err != nil || len(got) != 6 || fmt.Sprint(skipped) != "[4]" {
		t.Fatalf("after appending: %d records, skipped %v, %v; want 6, [4]", len(got), skipped, err)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, append([]byte("not json\n"), good...), 0o600)
	if got, skipped, err := ReadFile(bad, Filter{}); err != nil || len(got) != 3 || fmt.Sprint(skipped) != "[1]" {
		t.Fatalf("bad first line: %d records, skipped %v, %v", len(got), skipped, err)
	}
	if _, _, err := ReadFile(filepath.Join(dir, "none.jsonl"), Filter{}); err == nil || !strings.Contains(err.Error(), "cannot open the audit file") {
		t.Fatalf("error %v", err)
	}
}

// A role that may only insert into the table (not its owner) keeps the
// trail: nothing is altered when the result column is there.
func TestTableWriterNotOwner(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	writeTrail(t, Options{File: filepath.Join(t.TempDir(), "a.jsonl"), DSN: dsn, ConnName: "history"})
	role := "audit_writer_" + strings.ReplaceAll(filepath.Base(t.TempDir()), "-", "")
	role = strings.ToLower(role[:min(len(role), 40)])
	pgtest.Exec(t, dsn, "CREATE ROLE "+role+" LOGIN PASSWORD 'pw'")
	t.Cleanup(func() { pgtest.Exec(t, dsn, "DROP OWNED BY "+role+"; DROP ROLE "+role) })
	pgtest.Exec(t, dsn, "GRANT INSERT, SELECT ON "+Table+" TO "+role+"; GRANT USAGE ON SEQUENCE "+Table+"_id_seq TO "+role)
	writer := dsn + " user=" + role + " password=pw" // the last of a key wins
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		u.User = url.UserPassword(role, "pw")
		writer = u.String()
	}
	tr, err := Open(context.Background(), Options{File: filepath.Join(t.TempDir(), "b.jsonl"), DSN: writer, ConnName: "history"})
	if err != nil {
		t.Fatalf("a writer that does not own the table: %v", err)
	}
	defer tr.Close()
	if err := tr.Append(context.Background(), sampleRecord("fix()")); err != nil {
		t.Fatal(err)
	}
}

func TestReadTable(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	writeTrail(t, Options{File: filepath.Join(t.TempDir(), "a.jsonl"), DSN: dsn, ConnName: "history"})
	for _, tc := range filterCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadTable(context.Background(), dsn, "history", tc.f)
			if err != nil {
				t.Fatal(err)
			}
			checkRecords(t, got, tc.want)
			if got[0].Args["since"] != "2024-01-01" || len(got[0].OdooWrites) != 1 || got[0].Statements[0].Rows != 2 {
				t.Errorf("record %+v", got[0])
			}
		})
	}
}

// A table made before the result column gains it when a trail opens it,
// and reads without it before that.
func TestTableGainsResultColumn(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	pgtest.Exec(t, dsn, strings.Replace(createSQL, ",\n\tresult jsonb", "", 1))
	pgtest.Exec(t, dsn, `INSERT INTO `+Table+` (at, os_user, host, command, script, sha256, source, args, status, odoo_writes, pg_statements)
VALUES (now(), 'carol', 'h', 'exec', 'old.lua', 'x', 'fix()', '{}', 'ok', '[]', '[]')`)
	got, err := ReadTable(context.Background(), dsn, "history", Filter{})
	if err != nil || len(got) != 1 || got[0].Result != nil {
		t.Fatalf("old table: %+v, %v", got, err)
	}
	writeTrail(t, Options{File: filepath.Join(t.TempDir(), "a.jsonl"), DSN: dsn, ConnName: "history"})
	got, err = ReadTable(context.Background(), dsn, "history", Filter{Last: 1})
	if err != nil || len(got) != 1 || got[0].Result == nil {
		t.Fatalf("upgraded table: %+v, %v", got, err)
	}
}

func TestReadTableMissing(t *testing.T) {
	t.Parallel()
	_, err := ReadTable(context.Background(), pgtest.DSN(t), "history", Filter{})
	if err == nil || !strings.Contains(err.Error(), `history connection "history" has no table etlhost_audit`) {
		t.Fatalf("error %v", err)
	}
}

// A fix returning a large table is recorded with a note of its size.
func TestLargeResult(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a.jsonl")
	tr, err := Open(context.Background(), Options{File: path})
	if err != nil {
		t.Fatal(err)
	}
	rec := sampleRecord("fix()")
	rec.Result = map[string]any{"blob": strings.Repeat("x", MaxResultBytes)}
	if err := tr.Append(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	got, _, err := ReadFile(path, Filter{})
	if err != nil || len(got) != 1 || !strings.HasPrefix(fmt.Sprint(got[0].Result), "a result of 65547 bytes of JSON, more than the 65536") {
		t.Fatalf("%v %v", got, err)
	}
}
