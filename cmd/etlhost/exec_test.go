package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/audit"
	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// runIn runs etlhost in process with stdin.
func runIn(t *testing.T, env map[string]string, stdin string, args ...string) runOut {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := &App{Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] }}
	code := app.Run(context.Background(), append([]string{"etlhost"}, args...))
	return runOut{code, stdout.String(), stderr.String()}
}

// The Odoo user's password in these tests: it must never reach an output
// or the audit trail.
const odooSecret = "Odoo-S3cret-Pw"

// fixBundle is a simulator, a PostgreSQL database with a report table, and
// the environment that points etlhost at both.
type fixBundle struct {
	sim   *odoosim.Server
	dsn   string
	env   map[string]string
	dir   string
	audit string // the audit file
}

func setupFix(t *testing.T) *fixBundle {
	t.Helper()
	sim := odoosim.NewServer(odoosim.Options{Moves: 20, Seed: 3, Users: []odoosim.User{{ID: 2, Login: "fixer", Password: odooSecret}}})
	t.Cleanup(sim.Close)
	dsn := pgtest.DSN(t)
	pgtest.Exec(t, dsn, "CREATE TABLE report (id int, status text); INSERT INTO report VALUES (1, 'broken'), (2, 'broken'), (3, 'ok')")
	dir := t.TempDir()
	return &fixBundle{sim: sim, dsn: dsn, dir: dir, audit: filepath.Join(dir, "state", "audit.jsonl"), env: map[string]string{
		"ETLHOST_PG_DSN":        dsn,
		"ETLHOST_ODOO_URL":      sim.URL,
		"ETLHOST_ODOO_DB":       "demo",
		"ETLHOST_ODOO_USER":     "fixer",
		"ETLHOST_ODOO_PASSWORD": odooSecret,
		"HOME":                  dir,
	}}
}

// fixScript writes to Odoo (a real record and a created one, through its
// id), then to PostgreSQL (with the created id), and fails at the end when
// asked to.
const fixScript = `local odoo, pg, etl = require("odoo"), require("pg"), require("etl")
local erp, db = odoo.connect(), pg.connect()
local p = erp:search("res.partner", {}, {limit = 1, order = "id"})[1]
erp:write("res.partner", {p}, {city = "Arras"})
local id = erp:create("res.partner", {name = "Fix SARL"})
erp:write("res.partner", {id}, {ref = "FIX-" .. id})
assert(erp:read("res.partner", id, {"ref"}).ref == "FIX-" .. id, "the created record reads back")
local n = db:exec("UPDATE report SET status = 'fixed' WHERE status = 'broken'")
db:exec("INSERT INTO report (id, status) VALUES ($1, 'new')", id)
if etl.arg("fail", "") == "yes" then error("something went wrong half way") end
return {partner = p, created = id, fixed = n}
`

// auditConfig writes a configuration that audits into the bundle's file
// and into the table of the default connection.
func (b *fixBundle) auditConfig(t *testing.T) string {
	return write(t, b.dir, "etlhost.toml", fmt.Sprintf(`[postgres.default]
dsn_env = "ETLHOST_PG_DSN"
[audit]
file = %q
connection = "default"
`, b.audit))
}

func (b *fixBundle) script(t *testing.T) string { return write(t, b.dir, "fix.lua", fixScript) }

func (b *fixBundle) partner(id int64) *odoosim.Partner {
	return b.sim.Sim().Snapshot().Partner(id)
}

func (b *fixBundle) partnerNamed(name string) *odoosim.Partner {
	for _, p := range b.sim.Sim().Snapshot().Partners {
		if p.Name == name {
			return &p
		}
	}
	return nil
}

func (b *fixBundle) report(t *testing.T) string {
	return fmt.Sprint(pgtest.QueryRows(t, b.dsn, "SELECT id, status FROM report ORDER BY id"))
}

const reportBefore = "[[1 broken] [2 broken] [3 ok]]"

func (b *fixBundle) records(t *testing.T) []audit.Record {
	t.Helper()
	f, err := os.Open(b.audit)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []audit.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line: %v\n%s", err, sc.Text())
		}
		recs = append(recs, r)
	}
	return recs
}

func (b *fixBundle) noSecrets(t *testing.T, outs ...string) {
	t.Helper()
	raw, _ := os.ReadFile(b.audit)
	for _, s := range append(outs, string(raw)) {
		if strings.Contains(s, odooSecret) || strings.Contains(s, b.dsn) {
			t.Fatalf("a secret leaked:\n%s", s)
		}
	}
}

func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

// TestExecDryRun: without --commit nothing changes in Odoo or PostgreSQL,
// the plan lists every write and statement, placeholder ids flow through
// (the create's -1 is written to, read back and inserted), and nothing is
// audited.
func TestExecDryRun(t *testing.T) {
	t.Parallel()
	b := setupFix(t)
	before := b.sim.Sim().Snapshot()
	out := runIn(t, b.env, "", "exec", "--audit-file", b.audit, b.script(t))
	if out.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	first := before.Partners[0].ID
	mustContain(t, "stdout", out.stdout,
		fmt.Sprintf(`Result: {"created":-1,"fixed":2,"partner":%d}`, first),
		"Plan (dry run: nothing was changed):",
		fmt.Sprintf(`  odoo  write res.partner ids=[%d] values={"city":"Arras"}`, first),
		`  odoo  create res.partner values={"name":"Fix SARL"} -> -1`,
		`  odoo  write res.partner ids=[-1] values={"ref":"FIX--1"}`,
		`  pg    exec UPDATE report SET status = 'fixed' WHERE status = 'broken'  rows=2`,
		`  pg    exec INSERT INTO report (id, status) VALUES ($1, 'new')  rows=1`,
		"6 changes planned: 3 Odoo writes (3 records), 2 PostgreSQL statements (3 rows).",
		"Nothing was changed (dry run)")
	if got := b.report(t); got != reportBefore {
		t.Errorf("PostgreSQL changed by a dry run: %s", got)
	}
	after := b.sim.Sim().Snapshot()
	if len(after.Partners) != len(before.Partners) || after.Partners[0].City != before.Partners[0].City {
		t.Errorf("Odoo changed by a dry run")
	}
	if b.partnerNamed("Fix SARL") != nil {
		t.Error("the dry run created the partner")
	}
	if _, err := os.Stat(b.audit); !os.IsNotExist(err) {
		t.Errorf("a dry run wrote the audit file (%v)", err)
	}
	b.noSecrets(t, out.stdout, out.stderr)
}

// TestExecCommit: with --commit the same script changes both, lists what
// it applied, and leaves an audit record (file and table) naming who ran
// what, with every write and statement.
func TestExecCommit(t *testing.T) {
	t.Parallel()
	b := setupFix(t)
	cfg := b.auditConfig(t)
	first := b.sim.Sim().Snapshot().Partners[0].ID
	script := b.script(t)
	out := runIn(t, b.env, "", "exec", "--commit", "--config", cfg, "--arg", "ticket=OPS-12", script)
	if out.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	created := b.partnerNamed("Fix SARL")
	if created == nil {
		t.Fatalf("partner not created\n%s", out.stdout)
	}
	if b.partner(first).City != "Arras" || created.Ref != fmt.Sprintf("FIX-%d", created.ID) {
		t.Errorf("Odoo writes not applied: city %q ref %q", b.partner(first).City, created.Ref)
	}
	if got, want := b.report(t), fmt.Sprintf("[[1 fixed] [2 fixed] [3 ok] [%d new]]", created.ID); got != want {
		t.Errorf("PostgreSQL: %s, want %s", got, want)
	}
	mustContain(t, "stdout", out.stdout, "Applied:",
		fmt.Sprintf(`  odoo  create res.partner values={"name":"Fix SARL"} -> %d`, created.ID),
		`  pg    exec UPDATE report SET status = 'fixed' WHERE status = 'broken'  rows=2`,
		"Committed: 3 Odoo writes (3 records) sent, 2 PostgreSQL statements (3 rows) committed.")
	mustContain(t, "stderr", out.stderr, "recorded in the audit trail: "+b.audit+" and table etlhost_audit (default)")

	recs := b.records(t)
	if len(recs) != 1 {
		t.Fatalf("%d audit records", len(recs))
	}
	r := recs[0]
	if r.Command != "exec" || r.Script != script || r.Source != fixScript || r.SHA256 != audit.Hash(fixScript) ||
		r.User == "" || r.Status != "ok" || r.Args["ticket"] != "OPS-12" || r.Time.IsZero() {
		t.Errorf("record %+v", r)
	}
	if len(r.OdooWrites) != 3 || r.OdooWrites[1].Method != "create" || r.OdooWrites[1].Result != fmt.Sprint(created.ID) ||
		r.OdooWrites[0].IDs[0] != first || r.OdooWrites[0].Connection != "default" {
		t.Errorf("odoo writes %+v", r.OdooWrites)
	}
	if len(r.Statements) != 2 || r.Statements[0].Rows != 2 || r.Statements[1].Rows != 1 || r.Statements[0].Connection != "default" {
		t.Errorf("statements %+v", r.Statements)
	}
	// The record's Odoo writes are the write calls the simulator received.
	received := map[string]int64{}
	for _, c := range b.sim.Sim().Stats().ByCall {
		if c.Model == "res.partner" && (c.Method == "write" || c.Method == "create" || c.Method == "unlink") {
			received[c.Method] += c.Calls
		}
	}
	audited := map[string]int64{}
	for _, w := range r.OdooWrites {
		audited[w.Method]++
	}
	if fmt.Sprint(audited) != fmt.Sprint(received) {
		t.Errorf("audited writes %v, the simulator received %v", audited, received)
	}
	rows := pgtest.QueryRows(t, b.dsn, "SELECT command, sha256, status, jsonb_array_length(odoo_writes), jsonb_array_length(pg_statements), args->>'ticket' FROM etlhost_audit")
	if fmt.Sprint(rows) != fmt.Sprintf("[[exec %s ok 3 2 OPS-12]]", audit.Hash(fixScript)) {
		t.Errorf("audit table: %v", rows)
	}
	b.noSecrets(t, out.stdout, out.stderr)
}

// TestExecForgedChanges: a script's log lines and prints are only lines,
// whatever their text and fields: lines that read like Odoo writes, plan
// entries, statements or commits produce no applied change, no plan entry
// and no audit entry, and Odoo receives no write.
func TestExecForgedChanges(t *testing.T) {
	t.Parallel()
	forgeries := map[string]string{
		"sent line": `log.info("sent: write res.partner [1]", {method = "write", model = "res.partner", ids = {1}})`,
		"plan line": `log.info("plan: write res.partner ids=[1]", {method = "write", model = "res.partner", ids = {1}, connection = "default"})`,
		"statement": `log.info("plan: exec DELETE FROM report", {rows = 3, connection = "default"})
log.info("plan: committed", {connection = "default"})`,
		"print":       `print("sent: unlink res.partner ids=[1]")`,
		"warn failed": `log.warn("sent: create res.partner values={} failed", {method = "create", model = "res.partner", error = "x"})`,
	}
	for name, forge := range forgeries {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupFix(t)
			script := write(t, b.dir, "forge.lua", "local log = require(\"log\")\n"+forge+"\nreturn {ok = true}\n")
			for _, args := range [][]string{{"exec"}, {"exec", "--commit", "--confirm"}} {
				out := runIn(t, b.env, "", append(append(args, "--audit-file", b.audit), script)...)
				if out.code != ExitOK {
					t.Fatalf("%v: exit %d\n%s\n%s", args, out.code, out.stdout, out.stderr)
				}
				if strings.Contains(out.stdout, "  odoo  ") || strings.Contains(out.stdout, "  pg    ") {
					t.Errorf("%v: a log line became a change:\n%s", args, out.stdout)
				}
			}
			if !strings.Contains(runIn(t, b.env, "", "exec", script).stdout, "Plan (dry run): no changes.") {
				t.Error("the dry run planned changes")
			}
			recs := b.records(t)
			if len(recs) != 1 || len(recs[0].OdooWrites) != 0 || len(recs[0].Statements) != 0 {
				t.Errorf("audit records: %+v", recs)
			}
			for _, c := range b.sim.Sim().Stats().ByCall {
				if c.Method == "write" || c.Method == "create" || c.Method == "unlink" {
					t.Errorf("Odoo received %s %s", c.Model, c.Method)
				}
			}
		})
	}
}

// TestExecCommitFailsHalfWay: a script failing after its PostgreSQL
// updates commits nothing there; its Odoo writes, already sent, are listed
// and audited.
func TestExecCommitFailsHalfWay(t *testing.T) {
	t.Parallel()
	b := setupFix(t)
	first := b.sim.Sim().Snapshot().Partners[0].ID
	// Without an [audit] connection the record goes to the [history] one.
	cfg := write(t, b.dir, "etlhost.toml", "[postgres.default]\ndsn_env = \"ETLHOST_PG_DSN\"\n[history]\nconnection = \"default\"\n")
	out := runIn(t, b.env, "", "exec", "--commit", "--config", cfg, "--arg", "fail=yes", b.script(t))
	if out.code != ExitFailed {
		t.Fatalf("exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	if got := b.report(t); got != reportBefore {
		t.Errorf("PostgreSQL committed by a failed script: %s", got)
	}
	created := b.partnerNamed("Fix SARL")
	if created == nil || b.partner(first).City != "Arras" {
		t.Fatal("the Odoo writes sent before the failure should be there (Odoo has no transaction)")
	}
	mustContain(t, "stderr", out.stderr, "fix.lua:10: something went wrong half way")
	mustContain(t, "stdout", out.stdout,
		"Not committed: the script failed.",
		"PostgreSQL: rolled back, nothing was committed (2 statements undone).",
		"Odoo writes already sent (Odoo has no transaction across calls: they stay applied):",
		fmt.Sprintf(`  odoo  write res.partner ids=[%d] values={"city":"Arras"}`, first),
		fmt.Sprintf(`  odoo  create res.partner values={"name":"Fix SARL"} -> %d`, created.ID),
		fmt.Sprintf(`  odoo  write res.partner ids=[%d] values={"ref":"FIX-%d"}`, created.ID, created.ID))
	if strings.Contains(out.stdout, "  pg  ") {
		t.Errorf("rolled-back statements listed as applied:\n%s", out.stdout)
	}
	// The default audit file, under $HOME.
	b.audit = filepath.Join(b.dir, ".local", "state", "etlhost", "audit.jsonl")
	recs := b.records(t)
	if len(recs) != 1 || recs[0].Status != "failed" || !strings.Contains(recs[0].Error, "half way") ||
		len(recs[0].OdooWrites) != 3 || len(recs[0].Statements) != 0 {
		t.Fatalf("audit records %+v", recs)
	}
	rows := pgtest.QueryRows(t, b.dsn, "SELECT status, jsonb_array_length(odoo_writes), jsonb_array_length(pg_statements) FROM etlhost_audit")
	if fmt.Sprint(rows) != "[[failed 3 0]]" {
		t.Errorf("audit table: %v", rows)
	}
	b.noSecrets(t, out.stdout, out.stderr)
}

// TestExecConfirm: with --confirm (or on a terminal) a commit first shows
// the dry run's plan and asks when it holds more than --confirm-over
// changes; a refusal changes nothing.
func TestExecConfirm(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		args    []string
		stdin   string
		code    int
		asked   bool
		applied bool
	}{
		{"declined", []string{"--confirm", "--confirm-over", "5"}, "n\n", ExitFailed, true, false},
		{"no answer", []string{"--confirm", "--confirm-over", "5"}, "", ExitFailed, true, false},
		{"accepted", []string{"--confirm", "--confirm-over", "5"}, "yes\n", ExitOK, true, true},
		{"at the threshold", []string{"--confirm", "--confirm-over", "6"}, "", ExitOK, false, true},
		{"under the default threshold", []string{"--confirm"}, "", ExitOK, false, true},
		{"zero always asks", []string{"--confirm", "--confirm-over", "0"}, "Y\n", ExitOK, true, true},
		{"--yes skips", []string{"--confirm", "--yes"}, "", ExitOK, false, true},
		{"not a terminal, no --confirm", nil, "n\n", ExitOK, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupFix(t)
			args := append(append([]string{"exec", "--commit", "--audit-file", b.audit}, tc.args...), b.script(t))
			out := runIn(t, b.env, tc.stdin, args...)
			if out.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", out.code, tc.code, out.stdout, out.stderr)
			}
			if asked := strings.Contains(out.stderr, "Apply these 6 changes? [y/N]"); asked != tc.asked {
				t.Errorf("asked=%v, want %v\n%s", asked, tc.asked, out.stderr)
			}
			if tc.asked {
				mustContain(t, "stdout", out.stdout, "Plan (dry run: nothing was changed):", "6 changes planned")
			}
			applied := b.partnerNamed("Fix SARL") != nil
			if applied != tc.applied || (b.report(t) != reportBefore) != tc.applied {
				t.Errorf("applied=%v (report %s), want %v", applied, b.report(t), tc.applied)
			}
			if !tc.applied {
				mustContain(t, "stderr", out.stderr, "not confirmed: nothing was committed")
				if len(b.records(t)) != 0 {
					t.Error("a declined fix was audited")
				}
			}
		})
	}
}

// TestExecCode: -e runs code given on the command line.
func TestExecCode(t *testing.T) {
	t.Parallel()
	out := runIn(t, nil, "", "exec", "-e", "local etl = require('etl'); return {sum = 1 + 1, name = etl.name}")
	if out.code != ExitOK {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	mustContain(t, "stdout", out.stdout, `Result: {"name":"exec","sum":2}`, "Plan (dry run): no changes.")
	out = runIn(t, nil, "", "exec", "-e", "error('nope')")
	if out.code != ExitFailed || !strings.Contains(out.stderr, "-e:1: nope") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
}

func TestExecUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok := write(t, dir, "ok.lua", "return 1")
	blocker := write(t, dir, "blocker", "")
	cases := []struct {
		name string
		args []string
		err  string
	}{
		{"nothing", []string{"exec"}, "no script given"},
		{"both", []string{"exec", "-e", "return 1", ok}, "not both"},
		{"two files", []string{"exec", ok, ok}, "one script at a time"},
		{"flag after file", []string{"exec", ok, "--commit"}, "flags go before FILE"},
		{"syntax", []string{"exec", "-e", "local = 1"}, "-e:1:"},
		{"bad header", []string{"exec", write(t, dir, "h.lua", "--! nope = 1\n")}, "unknown header key"},
		{"missing file", []string{"exec", filepath.Join(dir, "missing.lua")}, "cannot read script"},
		{"bad arg", []string{"exec", "--arg", "x", ok}, `bad --arg "x"`},
		{"negative threshold", []string{"exec", "--confirm-over", "-1", ok}, "--confirm-over"},
		{"unwritable audit file", []string{"exec", "--commit", "--audit-file", filepath.Join(blocker, "a.jsonl"), ok}, "audit: cannot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := runIn(t, map[string]string{"HOME": dir}, "", tc.args...)
			if out.code != ExitUsage || !strings.Contains(out.stderr, tc.err) {
				t.Fatalf("exit %d, want 2 with %q\n%s", out.code, tc.err, out.stderr)
			}
		})
	}
}

// TestExecAuditBeforeRun: when the history connection cannot be reached,
// the fix does not run at all.
func TestExecAuditBeforeRun(t *testing.T) {
	t.Parallel()
	b := setupFix(t)
	b.env["HIST_DSN"] = "postgres://etl:Hist-S3cret@127.0.0.1:1/h?connect_timeout=2"
	cfg := write(t, b.dir, "etlhost.toml", `[postgres.default]
dsn_env = "ETLHOST_PG_DSN"
[postgres.history]
dsn_env = "HIST_DSN"
[audit]
connection = "history"
`)
	out := runIn(t, b.env, "", "exec", "--commit", "--config", cfg, b.script(t))
	if out.code != ExitUsage || !strings.Contains(out.stderr, `history connection "history"`) || strings.Contains(out.stderr, "Hist-S3cret") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	if b.partnerNamed("Fix SARL") != nil || b.report(t) != reportBefore {
		t.Fatal("the fix ran without its audit trail")
	}
}

// TestRunOdooReadOnly: `etlhost run` sends no Odoo write unless the
// script's header grants it.
func TestRunOdooReadOnly(t *testing.T) {
	t.Parallel()
	b := setupFix(t)
	body := `local erp = require("odoo").connect()
local p = erp:search("res.partner", {}, {limit = 1, order = "id"})[1]
erp:write("res.partner", {p}, {city = "Granted"})
return p`
	first := b.sim.Sim().Snapshot().Partners[0].ID
	out := runIn(t, b.env, "", "run", write(t, b.dir, "nogrant.lua", body))
	if out.code != ExitFailed || !strings.Contains(out.stderr, "write to res.partner refused") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	if b.partner(first).City == "Granted" {
		t.Fatal("run wrote to Odoo without a grant")
	}
	out = runIn(t, b.env, "", "run", write(t, b.dir, "granted.lua", "--! odoo-writes = res.partner\n"+body))
	if out.code != ExitOK || b.partner(first).City != "Granted" {
		t.Fatalf("with the header grant: exit %d, city %q\n%s", out.code, b.partner(first).City, out.stderr)
	}
}

// TestExecCommitInterrupted: Ctrl+C during a commit rolls back the
// PostgreSQL work, exits 130, and the audit trail says the run was
// cancelled, with the Odoo writes already sent.
func TestExecCommitInterrupted(t *testing.T) {
	t.Parallel()
	b := setupFix(t)
	script := write(t, b.dir, "slow.lua", `local erp, db = require("odoo").connect(), require("pg").connect()
local p = erp:search("res.partner", {}, {limit = 1, order = "id"})[1]
erp:write("res.partner", {p}, {city = "Arras"})
db:exec("UPDATE report SET status = 'fixed'")
require("log").info("updated")
require("task").sleep(30)`)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stderr := &lockedBuffer{}
	var stdout bytes.Buffer
	app := &App{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: stderr, Getenv: func(k string) string { return b.env[k] }}
	done := make(chan int)
	go func() {
		done <- app.Run(ctx, []string{"etlhost", "exec", "--commit", "--audit-file", b.audit, script})
	}()
	for !strings.Contains(stderr.String(), "updated") {
		select {
		case code := <-done:
			t.Fatalf("ended early with %d\n%s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel(host.ErrInterrupted)
	if code := <-done; code != ExitInterrupted {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if got := b.report(t); got != reportBefore {
		t.Errorf("an interrupted commit committed: %s", got)
	}
	mustContain(t, "stdout", stdout.String(), "Not committed: the script was interrupted.", "Odoo writes already sent")
	recs := b.records(t)
	if len(recs) != 1 || recs[0].Status != "cancelled" || len(recs[0].OdooWrites) != 1 || len(recs[0].Statements) != 0 {
		t.Fatalf("audit %+v", recs)
	}
}

// TestExecCannotEscapeTransaction (issue 18, item 2): a script under
// etlhost exec cannot commit the dry run's transaction, nor the one exec
// --commit holds for a script that then fails: several statements in one
// call and transaction control are refused, and nothing is committed.
func TestExecCannotEscapeTransaction(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, code, err string
		args            []string
	}{
		{"dry run, several statements", `db:exec("UPDATE report SET status = 'fixed' WHERE id = 1; COMMIT")`,
			"cannot insert multiple commands", nil},
		{"dry run, COMMIT alone", `db:exec("UPDATE report SET status = 'fixed' WHERE id = 1"); db:exec("/* x */ commit")`,
			"COMMIT is transaction control", nil},
		{"commit, ROLLBACK then a failure", `db:exec("UPDATE report SET status = 'fixed' WHERE id = 1"); pcall(db.exec, db, "ROLLBACK"); ` +
			`pcall(db.exec, db, "UPDATE report SET status = 'fixed' WHERE id = 2; COMMIT"); error("fails after its changes")`,
			"fails after its changes", []string{"--commit"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupFix(t)
			args := append(append([]string{"exec", "--audit-file", b.audit}, tc.args...), "-e", `local db = require("pg").connect(); `+tc.code)
			out := runIn(t, b.env, "", args...)
			if out.code != ExitFailed {
				t.Fatalf("exit %d, want %d\n%s\n%s", out.code, ExitFailed, out.stdout, out.stderr)
			}
			mustContain(t, "stderr", out.stderr, tc.err)
			if got := b.report(t); got != reportBefore {
				t.Fatalf("the script committed: %s\n%s\n%s", got, out.stdout, out.stderr)
			}
		})
	}
}

// TestExecAuditAnyText (issue 18, item 6): a fix whose source holds a NUL
// byte (and a byte that is not UTF-8) commits and is audited in the file
// and in the [audit] table, its checksum the exact source's; a failing fix
// whose error holds a NUL is audited too.
func TestExecAuditAnyText(t *testing.T) {
	t.Parallel()
	b := setupFix(t)
	cfg := b.auditConfig(t)
	source := fixScript + "-- a NUL: \x00, latin-1: caf\xe9\n"
	script := write(t, b.dir, "fix.lua", source)
	out := runIn(t, b.env, "", "exec", "--commit", "--config", cfg, script)
	if out.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	created := b.partnerNamed("Fix SARL")
	if created == nil || b.report(t) != fmt.Sprintf("[[1 fixed] [2 fixed] [3 ok] [%d new]]", created.ID) {
		t.Fatalf("not applied: %s\n%s", b.report(t), out.stdout)
	}
	mustContain(t, "stderr", out.stderr, "recorded in the audit trail: "+b.audit+" and table etlhost_audit (default)")

	failing := write(t, b.dir, "failing.lua", `require("pg").connect():exec("UPDATE report SET status = 'x'"); error("bad\0byte")`)
	out = runIn(t, b.env, "", "exec", "--commit", "--config", cfg, failing)
	if out.code != ExitFailed {
		t.Fatalf("exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	mustContain(t, "stderr", out.stderr, "recorded in the audit trail: "+b.audit+" and table etlhost_audit (default)")

	rows := pgtest.QueryRows(t, b.dsn, "SELECT sha256, status, position(E'a NUL: \\uFFFD, latin-1: caf\\uFFFD' in source) > 0, split_part(coalesce(error, ''), E'\\n', 1) FROM etlhost_audit ORDER BY id")
	want := fmt.Sprintf("[[%s ok true ] [%s failed false %s:1: bad�byte]]", audit.Hash(source), audit.Hash(`require("pg").connect():exec("UPDATE report SET status = 'x'"); error("bad\0byte")`), failing)
	if got := fmt.Sprint(rows); got != want {
		t.Errorf("audit table:\n%s\nwant\n%s", got, want)
	}
	recs := b.records(t)
	if len(recs) != 2 || recs[0].SHA256 != audit.Hash(source) || !strings.Contains(recs[0].Source, "a NUL: \x00,") || recs[1].Status != "failed" {
		t.Errorf("audit file: %+v", recs)
	}
}
