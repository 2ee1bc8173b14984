package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestReplStdin: the REPL evaluates lines fed on stdin: multi-line input,
// expressions and =expr, pretty-printed tables, errors that leave the
// session (and its globals) alive, dot commands.
func TestReplStdin(t *testing.T) {
	t.Parallel()
	input := strings.Join([]string{
		`x = {b = 1, a = {1, 2, "three"}, ["not ident"] = true, [10] = 5, ["end"] = 0}`,
		`x`,
		`=x.a[3]`,
		`function add(a, b)`,
		`  return a + b`,
		`end`,
		`add(2, 3)`,
		`error("boom")`,
		`local function f() error("deep") end`, // a local dies with its input
		`f()`,
		`for i = 1, 2 do print("line", i) end`,
		`1, "two", nil`,
		`t = {`,
		`  n = 1,`,
		`}`,
		`t.n + add(1, 1)`,
		`.help`,
		`.nope`,
		`io, os.exit`,
		`json.encode({z = 1})`,
		`etl.args.who`,
		`string.rep("é", 150)`,
		`{{id = 1, name = "a"}, {id = 2, name = "` + strings.Repeat("b", 60) + `"}}`,
		`local deep = {}; local c = deep; for i = 1, 10 do c.next = {}; c = c.next end; return deep`,
		`local big = {}; for i = 1, 60 do big[i] = i end; return big`,
		`local cyc = {}; cyc.self = cyc; return cyc`,
		`setmetatable({}, {__tostring = function() return "<custom>" end})`,
		`print`,
		`for i = 1, 3 do`, // never finished
	}, "\n") + "\n"
	out := runIn(t, nil, input, "repl", "--arg", "who=tester")
	if out.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	mustContain(t, "stdout", out.stdout,
		`{[10] = 5, a = {1, 2, "three"}, b = 1, ["end"] = 0, ["not ident"] = true}`+"\n",
		"\"three\"\n",
		"5\n",
		"line\t1\nline\t2\n",
		"1\t\"two\"\tnil\n",
		"3\n",
		".exit     leave",
		"nil\tnil\n",
		`"{\"z\":1}"`+"\n",
		"\"tester\"\n",
		`"`+strings.Repeat("é", 100)+`"…(300 bytes)`,
		"{\n  {id = 1, name = \"a\"},\n  {id = 2, name = \""+strings.Repeat("b", 60)+"\"}\n}\n",
		"{next = {next = {next = {next = {…}}}}}\n",
		"{\n  1, 2, 3, 4, 5,",
		"48, 49, 50,\n  … (10 more)\n}\n",
		"{self = <cycle>}\n",
		"<custom>\n",
		"<function>\n",
	)
	mustContain(t, "stderr", out.stderr,
		"etlhost repl (dry run",
		"repl:1: boom\n",
		"repl:1: f is nil: no such function (Lua said: attempt to call a non-function object)",
		"unknown command .nope",
		"the last input was not finished; it was not run",
	)
	if strings.Contains(out.stderr, "stack traceback") {
		t.Errorf("a traceback that names only the input is noise:\n%s", out.stderr)
	}
}

// TestReplDryRun: a dry session against the simulator and PostgreSQL shows
// each planned change, lets later inputs see earlier PostgreSQL changes and
// placeholder ids, and changes nothing.
func TestReplDryRun(t *testing.T) {
	t.Parallel()
	b := setupFix(t)
	first := b.sim.Sim().Snapshot().Partners[0].ID
	input := strings.Join([]string{
		`erp, db = odoo.connect(), pg.connect()`,
		fmt.Sprintf(`erp:write("res.partner", {%d}, {city = "Arras"})`, first),
		`id = erp:create("res.partner", {name = "Fix SARL"})`,
		`id`,
		`erp:read("res.partner", id, {"name"}).name`,
		`db:exec("UPDATE report SET status = 'fixed' WHERE status = 'broken'")`,
		`db:query_row("SELECT count(*) AS n FROM report WHERE status = 'fixed'")`,
		`db:query("SELECT id, status FROM report ORDER BY id LIMIT 2")`,
	}, "\n") + "\n"
	out := runIn(t, b.env, input, "repl")
	if out.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	mustContain(t, "stdout", out.stdout,
		fmt.Sprintf(`plan  odoo  write res.partner ids=[%d] values={"city":"Arras"}`, first),
		`plan  odoo  create res.partner values={"name":"Fix SARL"} -> -1`,
		"-1\n",
		"\"Fix SARL\"\n",
		`plan  pg    exec UPDATE report SET status = 'fixed' WHERE status = 'broken'  rows=2`,
		"{n = 2}\t{\"n\"}\n",
		`{{id = 1, status = "fixed"}, {id = 2, status = "fixed"}}`+"\t"+`{"id", "status"}`,
	)
	mustContain(t, "stderr", out.stderr, "Dry run: nothing was changed (4 changes planned).")
	if b.report(t) != reportBefore || b.partnerNamed("Fix SARL") != nil || b.partner(first).City == "Arras" {
		t.Fatal("a dry session changed data")
	}
}

// TestReplCommit: with --commit each input applies on its own: committed
// when it ends well, rolled back in PostgreSQL when it fails (its Odoo
// writes stay); inputs that changed something are audited.
func TestReplCommit(t *testing.T) {
	t.Parallel()
	b := setupFix(t)
	first := b.sim.Sim().Snapshot().Partners[0].ID
	input := strings.Join([]string{
		`erp, db = odoo.connect(), pg.connect()`,
		`db:exec("UPDATE report SET status = 'fixed' WHERE id = 1")`,
		fmt.Sprintf(`erp:write("res.partner", {%d}, {city = "Arras"})`, first),
		`db:exec("UPDATE report SET status = 'lost' WHERE id = 2"); error("changed my mind")`,
		`db:query_row("SELECT status FROM report WHERE id = 2").status`,
		`db:exec("UPDATE report SET status = 'fixed' WHERE id = 3")`,
	}, "\n") + "\n"
	out := runIn(t, b.env, input, "repl", "--commit", "--audit-file", b.audit)
	if out.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	if got := b.report(t); got != "[[1 fixed] [2 broken] [3 fixed]]" {
		t.Errorf("PostgreSQL: %s\n%s\n%s", got, out.stdout, out.stderr)
	}
	if b.partner(first).City != "Arras" {
		t.Error("the Odoo write was not sent")
	}
	mustContain(t, "stdout", out.stdout,
		"done  pg    exec UPDATE report SET status = 'fixed' WHERE id = 1  rows=1",
		"(1 PostgreSQL statement (1 row) committed)",
		"(1 Odoo write sent)",
		fmt.Sprintf(`sent  odoo  write res.partner ids=[%d] values={"city":"Arras"}`, first),
		"(rolled back in PostgreSQL: 1 statement undone)",
		"\"broken\"\n",
	)
	mustContain(t, "stderr", out.stderr, "etlhost repl (COMMIT", "repl:1: changed my mind")
	recs := b.records(t)
	if len(recs) != 3 {
		t.Fatalf("%d audit records, want 3 (two statements, one write)", len(recs))
	}
	if recs[0].Command != "repl" || recs[0].Source != `db:exec("UPDATE report SET status = 'fixed' WHERE id = 1")` ||
		len(recs[0].Statements) != 1 || recs[1].OdooWrites[0].Model != "res.partner" || len(recs[2].Statements) != 1 {
		t.Errorf("records %+v", recs)
	}
	b.noSecrets(t, out.stdout, out.stderr)
}

func TestReplUsage(t *testing.T) {
	t.Parallel()
	out := runIn(t, nil, "", "repl", "extra")
	if out.code != ExitUsage || !strings.Contains(out.stderr, "repl takes no arguments") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	dir := t.TempDir()
	blocker := write(t, dir, "blocker", "")
	out = runIn(t, map[string]string{"HOME": dir}, "", "repl", "--commit", "--audit-file", blocker+"/a.jsonl")
	if out.code != ExitUsage || !strings.Contains(out.stderr, "audit: cannot") {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
}

// TestIsTTY: files, pipes and /dev/null are not terminals (cron jobs and
// piped input are never prompted).
func TestIsTTY(t *testing.T) {
	t.Parallel()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(t.TempDir() + "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, file := range map[string]*os.File{"/dev/null": null, "pipe": r, "file": f} {
		if isTTY(file) {
			t.Errorf("%s taken for a terminal", name)
		}
	}
}
