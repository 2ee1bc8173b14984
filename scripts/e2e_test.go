// End-to-end tests of the ETL jobs: the three scripts of this folder run
// through host.Runner with the real modules (or through the etlhost binary)
// against the Odoo simulator over XML-RPC and a real PostgreSQL, and every
// table they load is compared with rows computed here, in plain Go, from
// the simulator's records. The expected rows apply the business rules of
// issue 5 to the typed records of odoosim.Snapshot: they share nothing with
// the scripts (no domains, no Lua), so a wrong domain or rule in a script
// shows up as a difference.
package scripts_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/etl"
	luajson "github.com/etlhost/etlhost/luabind/json"
	"github.com/etlhost/etlhost/luabind/log"
	odoomod "github.com/etlhost/etlhost/luabind/odoo"
	"github.com/etlhost/etlhost/luabind/pg"
	"github.com/etlhost/etlhost/luabind/shared"
	"github.com/etlhost/etlhost/luabind/task"
	"github.com/etlhost/etlhost/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The jobs and their tables.
var (
	jobs = []string{"achat_importation_upsert.lua", "ventes_locales_upsert.lua", "achats_locaux_echeance_upsert.lua"}
	// sequentialJobs are the same jobs without light threads (the bench's
	// baseline): they must load exactly the same rows.
	sequentialJobs = []string{"testdata/sequential/achat_importation_upsert.lua",
		"testdata/sequential/ventes_locales_upsert.lua", "testdata/sequential/achats_locaux_echeance_upsert.lua"}
	tableOf = map[string]string{
		"achat_importation_upsert":      "achat_importation",
		"ventes_locales_upsert":         "ventes_locales",
		"achats_locaux_echeance_upsert": "achats_locaux_echeance",
	}
	tableNames = []string{"achat_importation", "achats_locaux_echeance", "ventes_locales"}
)

// invoiceCols and installmentCols are the columns, in its order,
// etl_loaded_at last; every value is read back as text.
var (
	invoiceCols = []string{"odoo_move_id", "company", "reference", "partner", "partner_country", "currency",
		"invoice_date", "due_date", "amount_total", "amount_residual", "etl_loaded_at"}
	installmentCols = []string{"odoo_line_id", "odoo_move_id", "company", "reference", "partner",
		"partner_country", "currency", "invoice_date", "due_date", "date_maturity", "amount_total",
		"amount_residual", "line_amount_residual", "etl_loaded_at"}
	columnsOf = map[string][]string{
		"achat_importation":      invoiceCols,
		"ventes_locales":         invoiceCols,
		"achats_locaux_echeance": installmentCols,
	}
)

// null stands for SQL NULL in rows read back as text.
const null = "<NULL>"

// table is a table's content: primary key -> the row's values as text.
type table map[int64][]string

// --- expected rows, computed in Go from the simulator's records -------------

// expectation is what the three tables must hold, without etl_loaded_at,
// and counts of the edge cases the data exercises.
type expectation struct {
	tables map[string]table
	cases  map[string]int
}

// expectedTables applies issue 5's rules to the records of d.
func expectedTables(d *odoosim.Data) expectation {
	ex := expectation{tables: map[string]table{}, cases: map[string]int{}}
	for _, n := range tableNames {
		ex.tables[n] = table{}
	}
	for i := range d.Moves {
		mv := &d.Moves[i]
		unpaid := mv.State == "posted" && (mv.PaymentState == "not_paid" || mv.PaymentState == "partial")
		isBill, isInvoice := mv.MoveType == "in_invoice", mv.MoveType == "out_invoice"
		if !isBill && !isInvoice {
			if mv.State == "posted" && (mv.PaymentState == "not_paid" || mv.PaymentState == "partial") &&
				strings.HasSuffix(mv.MoveType, "_refund") {
				ex.cases["unpaid refunds left out"]++
			}
			continue
		}
		if !unpaid {
			ex.cases["invoices and bills left out as "+mv.State+"/"+mv.PaymentState]++
			continue
		}
		partner := d.Partner(mv.PartnerID)
		company := d.Company(mv.CompanyID)
		if partner == nil {
			continue
		}
		if partner.CountryID == 0 {
			ex.cases["unpaid documents of partners without a country left out"]++
			continue
		}
		local := partner.CountryID == company.CountryID
		row := []string{
			strconv.FormatInt(mv.ID, 10),
			company.Name,
			mv.Name,
			completeName(d, partner),
			d.Country(partner.CountryID).Code,
			d.Currency(mv.CurrencyID).Name,
			dateText(mv.InvoiceDate),
			dateText(mv.InvoiceDateDue),
			money(mv.AmountTotal),
			money(mv.AmountResidual),
		}
		countCases(ex.cases, d, mv, partner, company)
		switch {
		case isBill && !local:
			ex.tables["achat_importation"][mv.ID] = row
		case isInvoice && local:
			ex.tables["ventes_locales"][mv.ID] = row
		case isBill && local:
			open := 0
			for _, l := range d.Lines(mv) {
				acc := d.Account(l.AccountID)
				if acc == nil || acc.AccountType != "liability_payable" || l.Reconciled || l.AmountResidual == 0 {
					continue
				}
				maturity := l.DateMaturity
				if maturity == "" {
					maturity = mv.InvoiceDateDue // the script's stand-in; never needed with generated data
				}
				if maturity == "" {
					continue
				}
				open++
				ex.tables["achats_locaux_echeance"][l.ID] = []string{
					strconv.FormatInt(l.ID, 10), row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
					maturity, row[8], row[9], money(math.Abs(l.AmountResidual)),
				}
			}
			if open > 1 {
				ex.cases["local bills with several open installments"]++
			}
			if mv.PaymentState == "partial" && open > 0 {
				ex.cases["partly paid local bills"]++
			}
		}
	}
	currencies := map[string]bool{}
	for _, n := range tableNames {
		for _, r := range ex.tables[n] {
			currencies[r[slices.Index(columnsOf[n], "currency")]] = true
		}
	}
	ex.cases["currencies in the tables"] = len(currencies)
	for _, mv := range d.Moves {
		if mv.MoveType == "in_invoice" || mv.MoveType == "out_invoice" {
			continue
		}
		ex.cases["other move types ("+mv.MoveType+")"]++
	}
	return ex
}

func countCases(c map[string]int, d *odoosim.Data, mv *odoosim.Move, p *odoosim.Partner, co *odoosim.Company) {
	if !p.Active {
		c["unpaid documents of archived partners"]++
	}
	if p.ParentID != 0 {
		c["unpaid documents of contacts (Parent, Contact)"]++
	}
	if mv.PaymentState == "partial" {
		c["partly paid documents"]++
	}
	if mv.CurrencyID != co.CurrencyID {
		c["documents in a foreign currency"]++
	}
}

// completeName is Odoo's complete_name of a partner: "Parent, Contact" for
// a contact of a company, recursively.
func completeName(d *odoosim.Data, p *odoosim.Partner) string {
	if p.ParentID != 0 && !p.IsCompany {
		if parent := d.Partner(p.ParentID); parent != nil {
			return completeName(d, parent) + ", " + p.Name
		}
	}
	return p.Name
}

func dateText(s string) string {
	if s == "" {
		return null
	}
	return s
}

// money is an amount as numeric(16,2) prints it.
func money(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// --- running the jobs ---------------------------------------------------------

// bundle is one test's world: a simulator and an empty database.
type bundle struct {
	t   *testing.T
	srv *odoosim.Server
	sim *odoosim.Sim
	dsn string
}

func setup(t *testing.T, opts odoosim.Options) *bundle {
	t.Helper()
	srv := odoosim.NewServer(opts)
	t.Cleanup(srv.Close)
	return &bundle{t: t, srv: srv, sim: srv.Sim(), dsn: pgtest.DSN(t)}
}

// runOpts vary a run.
type runOpts struct {
	timeout time.Duration
	jobs    int
	args    map[string]string
	retries int // Odoo retries of read calls: 0 the client's default, -1 none
	// jobRetries and backoff: the run's retries of jobs failing on a
	// transient error, and the wait between attempts (nil: the default).
	jobRetries int
	backoff    func(int) time.Duration
	// odooURL replaces the simulator's URL (a proxy in front of it).
	odooURL string
	// full asks the jobs for a full refresh (--arg full_refresh=1).
	full bool
}

// odooConfig is the default Odoo connection to the bundle's simulator.
func (b *bundle) odooConfig(retries int) odoo.Config {
	return odoo.Config{URL: b.srv.URL, DB: b.sim.DB(), User: "admin", Password: "admin",
		Transport: "xmlrpc", Retries: retries, RetryBackoff: 10 * time.Millisecond}
}

// run runs scripts (paths relative to this folder) as `etlhost run` does:
// host.Runner, the same modules, lib/ beside the scripts.
func (b *bundle) run(ctx context.Context, o runOpts, scripts ...string) *host.Report {
	b.t.Helper()
	rep := b.runQuiet(ctx, o, scripts...)
	if rep == nil {
		b.t.Fatalf("cannot run %v", scripts)
	}
	return rep
}

// runQuiet is run for other goroutines than the test's: nil when the run
// cannot start (the reason is logged).
func (b *bundle) runQuiet(ctx context.Context, o runOpts, scripts ...string) *host.Report {
	pgm := pg.New([]pg.Conn{{Name: "default", DSN: b.dsn}})
	oc := b.odooConfig(o.retries)
	if o.odooURL != "" {
		oc.URL = o.odooURL
	}
	om := odoomod.New(map[string]odoo.Config{"default": oc}, odoomod.Options{})
	defer func() {
		om.Close()
		pgm.Close()
	}()
	// A job that hangs fails its test in two minutes, naming itself, rather
	// than the whole test binary at its timeout.
	if o.timeout == 0 {
		o.timeout = 2 * time.Minute
	}
	args := o.args
	if o.full {
		args = map[string]string{"full_refresh": "1"}
		for k, v := range o.args {
			args[k] = v
		}
	}
	r := &host.Runner{
		Modules: []luabind.Module{log.Module{}, luajson.Module{}, etl.Module{}, task.Module{}, shared.New(), pgm, om},
		Jobs:    o.jobs,
		Timeout: o.timeout,
		Args:    args,
		LibDir:  "lib",
		Grace:   5 * time.Second,
		Retries: o.jobRetries, RetriesFrom: host.FromFlag,
		Backoff: o.backoff,
	}
	loaded, err := r.Load(scripts)
	if err != nil {
		b.t.Logf("load scripts: %v", err)
		return nil
	}
	rep, err := r.Run(ctx, loaded)
	if err != nil {
		b.t.Logf("run: %v", err)
		return nil
	}
	return rep
}

// mustSucceed fails the test unless every script of rep ended ok, and
// returns the results by table.
func mustSucceed(t *testing.T, rep *host.Report) map[string]*host.Result {
	t.Helper()
	out := map[string]*host.Result{}
	for _, r := range rep.Scripts {
		if r.Status != host.StatusOK {
			t.Fatalf("%s: %s: %s", r.Name, r.Status, r.Error)
		}
		out[tableOf[r.Name]] = r
	}
	return out
}

// --- reading the tables back ----------------------------------------------------

// readTable reads a whole table, every column as text; with loadedAt false
// the etl_loaded_at column is left out.
func readTable(t *testing.T, dsn, name string, loadedAt bool) table {
	t.Helper()
	cols := columnsOf[name]
	if !loadedAt {
		cols = cols[:len(cols)-1]
	}
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = c + "::text"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, fmt.Sprintf("SELECT %s FROM %s", strings.Join(sel, ", "), name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	out := table{}
	vals := make([]*string, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	_, err = pgx.ForEachRow(rows, dest, func() error {
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = null
			if v != nil {
				row[i] = *v
			}
		}
		id, err := strconv.ParseInt(row[0], 10, 64)
		if err != nil {
			return err
		}
		out[id] = row
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return out
}

func readAll(t *testing.T, dsn string, loadedAt bool) map[string]table {
	t.Helper()
	out := map[string]table{}
	for _, n := range tableNames {
		out[n] = readTable(t, dsn, n, loadedAt)
	}
	return out
}

// diffTables describes how got differs from want (empty: equal).
func diffTables(name string, cols []string, want, got table) string {
	var b strings.Builder
	keys := slices.Sorted(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	shown := 0
	for _, k := range keys {
		w, inW := want[k]
		g, inG := got[k]
		var line string
		switch {
		case !inG:
			line = fmt.Sprintf("%s: row %d missing: %q", name, k, w)
		case !inW:
			line = fmt.Sprintf("%s: row %d unexpected: %q", name, k, g)
		default:
			for i := range w {
				if w[i] != g[i] {
					line += fmt.Sprintf("%s: row %d: %s = %q, want %q\n", name, k, cols[i], g[i], w[i])
				}
			}
			line = strings.TrimSuffix(line, "\n")
		}
		if line == "" {
			continue
		}
		if shown++; shown <= 10 {
			b.WriteString(line + "\n")
		}
	}
	if shown > 10 {
		fmt.Fprintf(&b, "%s: ... %d differences in all\n", name, shown)
	}
	return b.String()
}

// checkTables compares every table of dsn with ex (all columns but
// etl_loaded_at).
func checkTables(t *testing.T, dsn string, ex expectation) {
	t.Helper()
	got := readAll(t, dsn, false)
	for _, n := range tableNames {
		if d := diffTables(n, columnsOf[n], ex.tables[n], got[n]); d != "" {
			t.Errorf("table %s differs from the rows computed from the simulator's data:\n%s", n, d)
		}
	}
}

// checkUnchanged compares every table with a snapshot taken before a fault,
// etl_loaded_at included: a load that went through, even with the same
// rows, would have stamped them anew.
func checkUnchanged(t *testing.T, dsn string, before map[string]table) {
	t.Helper()
	after := readAll(t, dsn, true)
	for _, n := range tableNames {
		if len(before[n]) == 0 {
			t.Fatalf("table %s was empty before the fault: the test proves nothing", n)
		}
		if d := diffTables(n, columnsOf[n], before[n], after[n]); d != "" {
			t.Errorf("table %s changed although its load failed:\n%s", n, d)
		}
	}
}

func rowsResult(r *host.Result) int64 {
	m, ok := r.Value.(map[string]any)
	if !ok {
		return -1
	}
	switch v := m["rows"].(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	}
	return -1
}

// --- the tests -----------------------------------------------------------------------

// TestJobsMatchSimulatorData runs the three jobs together, for several
// seeds, and compares every table with the rows computed in Go.
func TestJobsMatchSimulatorData(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			b := setup(t, odoosim.Options{Moves: 2000, Seed: seed})
			ex := expectedTables(b.sim.Snapshot())
			checkEdgeCases(t, ex)
			res := mustSucceed(t, b.run(context.Background(), runOpts{}, jobs...))
			checkTables(t, b.dsn, ex)
			for _, n := range tableNames {
				if got, want := rowsResult(res[n]), int64(len(ex.tables[n])); got != want {
					t.Errorf("%s returned rows = %d, want %d", res[n].Name, got, want)
				}
			}
		})
	}
}

// checkEdgeCases makes sure the generated data exercises what the issue
// names, so that matching tables mean the rules were really tested.
func checkEdgeCases(t *testing.T, ex expectation) {
	t.Helper()
	for _, c := range []string{
		"unpaid documents of archived partners",
		"unpaid documents of partners without a country left out",
		"unpaid documents of contacts (Parent, Contact)",
		"partly paid documents",
		"partly paid local bills",
		"local bills with several open installments",
		"documents in a foreign currency",
		"unpaid refunds left out",
		"invoices and bills left out as draft/not_paid",
		"invoices and bills left out as cancel/not_paid",
		"invoices and bills left out as posted/paid",
		"invoices and bills left out as posted/in_payment",
		"other move types (entry)",
	} {
		if ex.cases[c] == 0 {
			t.Errorf("the generated data has no case of %q", c)
		}
	}
	if ex.cases["currencies in the tables"] < 3 {
		t.Errorf("only %d currencies in the expected tables, want several", ex.cases["currencies in the tables"])
	}
	for _, n := range tableNames {
		if len(ex.tables[n]) < 20 {
			t.Errorf("only %d expected rows in %s", len(ex.tables[n]), n)
		}
	}
}

// TestJobsRunAlone runs each job on its own, on an empty database: it
// creates its table and loads exactly its rows, and only its table exists.
func TestJobsRunAlone(t *testing.T) {
	t.Parallel()
	for _, job := range jobs {
		t.Run(strings.TrimSuffix(job, ".lua"), func(t *testing.T) {
			t.Parallel()
			b := setup(t, odoosim.Options{Moves: 1500, Seed: 11})
			ex := expectedTables(b.sim.Snapshot())
			mustSucceed(t, b.run(context.Background(), runOpts{}, job))
			name := tableOf[strings.TrimSuffix(job, ".lua")]
			got := readTable(t, b.dsn, name, false)
			if d := diffTables(name, columnsOf[name], ex.tables[name], got); d != "" {
				t.Errorf("%s alone:\n%s", job, d)
			}
			// Its table, and etlhost_state for its watermarks.
			rows := pgtest.QueryRows(t, b.dsn, `SELECT table_name::text FROM information_schema.tables
				WHERE table_schema = 'public' AND table_name <> 'etlhost_state' ORDER BY 1`)
			if len(rows) != 1 || rows[0][0] != name {
				t.Errorf("tables after %s alone: %v, want only %s", job, rows, name)
			}
		})
	}
}

// TestSequentialVariantsMatch checks the bench's baseline: the jobs
// without light threads load the same rows (the "before" of the bench
// measures the same work). Small pages make them page for real.
func TestSequentialVariantsMatch(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 1500, Seed: 5})
	ex := expectedTables(b.sim.Snapshot())
	mustSucceed(t, b.run(context.Background(), runOpts{args: map[string]string{"batch": "100"}}, sequentialJobs...))
	checkTables(t, b.dsn, ex)
}

// TestPagingArguments runs the jobs with small pages, one page at a time
// (concurrency=1: the odoo module's paging) and with many pages at once:
// the same rows every time.
func TestPagingArguments(t *testing.T) {
	t.Parallel()
	for _, args := range []map[string]string{
		{"batch": "37", "concurrency": "1"},
		{"batch": "50", "concurrency": "7"},
	} {
		t.Run(fmt.Sprintf("batch=%s,concurrency=%s", args["batch"], args["concurrency"]), func(t *testing.T) {
			t.Parallel()
			b := setup(t, odoosim.Options{Moves: 1200, Seed: 6})
			ex := expectedTables(b.sim.Snapshot())
			mustSucceed(t, b.run(context.Background(), runOpts{args: args}, jobs...))
			checkTables(t, b.dsn, ex)
		})
	}
}

// TestBadArgument: a bad --arg fails each job with a message naming it.
func TestBadArgument(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 50, Seed: 1})
	rep := b.run(context.Background(), runOpts{args: map[string]string{"batch": "0"}}, jobs...)
	for _, r := range rep.Scripts {
		if r.Status != host.StatusFailed || !strings.Contains(r.Error, "--arg batch=0: expected a whole number") {
			t.Errorf("%s: status %s, error %q; want failed naming --arg batch", r.Name, r.Status, r.Error)
		}
	}
}

// TestIdempotent: a second run on unchanged data is incremental, reads no
// record again and leaves the tables as they were (etl_loaded_at
// included); a full refresh then reloads every row, identical but for
// etl_loaded_at, which says when the rows were loaded.
func TestIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 1500, Seed: 8})
	ex := expectedTables(b.sim.Snapshot())
	res := mustSucceed(t, b.run(context.Background(), runOpts{}, jobs...))
	for _, n := range tableNames {
		if m := res[n].Value.(map[string]any); m["load"] != "full" || m["why"] != "the first run" {
			t.Errorf("%s: first run %v, want a full load (the first run)", n, m)
		}
	}
	first := readAll(t, b.dsn, true)
	res = mustSucceed(t, b.run(context.Background(), runOpts{}, jobs...))
	for _, n := range tableNames {
		if m := res[n].Value.(map[string]any); m["load"] != "incremental" || m["changed"] != int64(0) || m["rows"] != int64(0) {
			t.Errorf("%s: second run %v, want incremental with nothing changed", n, m)
		}
	}
	if second := readAll(t, b.dsn, true); !maps.EqualFunc(first, second, func(a, b table) bool {
		return maps.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
	}) {
		t.Error("an incremental run with nothing changed changed the tables")
	}
	res = mustSucceed(t, b.run(context.Background(), runOpts{full: true}, jobs...))
	second := readAll(t, b.dsn, true)
	checkTables(t, b.dsn, ex)
	for _, n := range tableNames {
		cols := columnsOf[n]
		last := len(cols) - 1
		if len(first[n]) != len(second[n]) {
			t.Errorf("%s: %d rows after the first run, %d after the full refresh", n, len(first[n]), len(second[n]))
		}
		for id, r1 := range first[n] {
			r2, ok := second[n][id]
			if !ok {
				t.Errorf("%s: row %d gone after the full refresh", n, id)
				continue
			}
			if !slices.Equal(r1[:last], r2[:last]) {
				t.Errorf("%s: row %d changed: %q then %q", n, id, r1[:last], r2[:last])
			}
			if r1[last] == r2[last] {
				t.Errorf("%s: row %d: etl_loaded_at %s unchanged: the full refresh did not reload", n, id, r1[last])
				break
			}
		}
		m := res[n].Value.(map[string]any)
		if m["load"] != "full" || m["deleted"] != m["rows"] || !strings.Contains(m["why"].(string), "full_refresh") {
			t.Errorf("%s: full refresh %v, want as many rows deleted as inserted", n, m)
		}
	}
}

// TestCheck: the scripts compile and their headers are valid (what
// `etlhost check scripts/*.lua` does).
func TestCheck(t *testing.T) {
	t.Parallel()
	var keys []string
	for _, m := range []luabind.Module{odoomod.New(nil, odoomod.Options{}), pg.New(nil)} {
		if hk, ok := m.(luabind.HeaderKeys); ok {
			keys = append(keys, hk.HeaderKeys()...)
		}
	}
	// Every script of the folder, the shipped jobs and any an analyst
	// added: adding a job never breaks this test.
	found, _ := filepath.Glob("*.lua")
	for _, p := range append(slices.Clone(found), sequentialJobs...) {
		if _, err := host.LoadScript(p, keys); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, j := range jobs {
		if !slices.Contains(found, j) {
			t.Errorf("scripts/*.lua = %v lacks the shipped job %s", found, j)
		}
	}
	if _, err := os.Stat("testdata/sequential/lib/tables.lua"); err != nil {
		t.Errorf("testdata/sequential/lib must lead to lib/: %v", err)
	}
}

// TestInstallmentWithoutDueDate: an open installment without a
// date_maturity takes its bill's due date; one whose bill has none either
// is left out and counted (date_maturity is NOT NULL).
func TestInstallmentWithoutDueDate(t *testing.T) {
	t.Parallel()
	d := odoosim.Generate(1500, 31)
	ex := expectedTables(d)
	// Two open installments of different bills of the table.
	var lines []int64
	moves := map[int64]bool{}
	for _, id := range slices.Sorted(maps.Keys(ex.tables["achats_locaux_echeance"])) {
		l := d.MoveLine(id)
		if !moves[l.MoveID] && len(lines) < 2 {
			moves[l.MoveID] = true
			lines = append(lines, id)
		}
	}
	if len(lines) < 2 {
		t.Fatal("not enough installments in the data")
	}
	d.MoveLine(lines[0]).DateMaturity = ""
	d.MoveLine(lines[1]).DateMaturity = ""
	d.Move(d.MoveLine(lines[1]).MoveID).InvoiceDateDue = ""
	b := setup(t, odoosim.Options{Data: d})
	ex = expectedTables(b.sim.Snapshot())
	if _, ok := ex.tables["achats_locaux_echeance"][lines[1]]; ok {
		t.Fatal("the expected rows keep an installment without any due date")
	}
	res := mustSucceed(t, b.run(context.Background(), runOpts{}, jobs...))
	checkTables(t, b.dsn, ex)
	got := readTable(t, b.dsn, "achats_locaux_echeance", false)
	mv := d.Move(d.MoveLine(lines[0]).MoveID)
	if row := got[lines[0]]; row == nil || row[9] != mv.InvoiceDateDue {
		t.Errorf("installment %d: row %q, want date_maturity %s (the bill's due date)", lines[0], row, mv.InvoiceDateDue)
	}
	m := res["achats_locaux_echeance"].Value.(map[string]any)
	if m["installments_without_due_date"] != int64(1) {
		t.Errorf("installments_without_due_date = %v, want 1", m["installments_without_due_date"])
	}
}

// TestTwoRunsAtOnce: two runs of the jobs on an empty database at the same
// moment (a scheduler firing twice): both create the tables and replace
// their content without failing, and the tables end up exactly right.
func TestTwoRunsAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 1200, Seed: 32})
	ex := expectedTables(b.sim.Snapshot())
	reps := make(chan *host.Report, 2)
	for range 2 {
		go func() { reps <- b.runQuiet(context.Background(), runOpts{}, jobs...) }()
	}
	for range 2 {
		rep := <-reps
		if rep == nil {
			t.Fatal("a run could not start")
		}
		mustSucceed(t, rep)
	}
	checkTables(t, b.dsn, ex)
}

// TestJobsServerWork: the jobs ask Odoo for the least work, counted by the
// simulator: one login and one read of the reference data for the whole
// run, no fields_get, one search per job (the domain evaluated once), then
// reads of exactly the rows of the tables, in pages of the batch size; only
// the foreign job reads partners. A search is bounded by one pass over its
// model and its sub-searches' models, which paging by offset, or a search
// per page, would exceed.
func TestJobsServerWork(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Moves: 3000, Seed: 31})
	d := b.sim.Snapshot()
	ex := expectedTables(d)
	const batch = 150
	mustSucceed(t, b.run(context.Background(), runOpts{args: map[string]string{"batch": strconv.Itoa(batch)}}, jobs...))
	checkTables(t, b.dsn, ex)

	pages := func(n int) int64 { return int64((n + batch - 1) / batch) }
	vendors, bills := map[int64]bool{}, map[int64]bool{}
	for id := range ex.tables["achat_importation"] {
		vendors[d.Move(id).PartnerID] = true
	}
	for _, r := range ex.tables["achats_locaux_echeance"] {
		id, _ := strconv.ParseInt(r[1], 10, 64)
		bills[id] = true
	}
	nAchat, nVentes, nLines := len(ex.tables["achat_importation"]), len(ex.tables["ventes_locales"]), len(ex.tables["achats_locaux_echeance"])
	type key struct{ model, method string }
	want := map[key][2]int64{ // calls, records read
		{"", "authenticate"}:            {1, 0},
		{"res.company", "search_read"}:  {1, int64(len(d.Companies))},
		{"res.country", "search_read"}:  {1, int64(len(d.Countries))},
		{"account.move", "search"}:      {2, 0},
		{"account.move.line", "search"}: {1, 0},
		{"account.move", "read"}:        {pages(nAchat) + pages(nVentes) + pages(len(bills)), int64(nAchat + nVentes + len(bills))},
		{"account.move.line", "read"}:   {pages(nLines), int64(nLines)},
		{"res.partner", "read"}:         {pages(len(vendors)), int64(len(vendors))},
	}
	st := b.sim.Stats()
	got := map[key][2]int64{}
	examined := map[key]int64{}
	for _, c := range st.ByCall {
		got[key{c.Model, c.Method}] = [2]int64{c.Calls, c.Read}
		examined[key{c.Model, c.Method}] = c.Examined
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s %s: %d calls reading %d records, want %d calls reading %d", k.model, k.method, got[k][0], got[k][1], w[0], w[1])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected call %s %s (%d)", k.model, k.method, got[k][0])
		}
	}
	// One pass over the moves and, per group of companies by country, over
	// the partners (a sub-search), for each of the two move searches; the
	// line search adds the lines, the accounts and the moves' sub-search.
	groups := map[int64]bool{}
	for _, c := range d.Companies {
		groups[c.CountryID] = true
	}
	moves, partners := int64(len(d.Moves)), int64(len(d.Partners)*len(groups))
	if e, bound := examined[key{"account.move", "search"}], 2*(moves+partners); e == 0 || e > bound {
		t.Errorf("account.move searches examined %d records, want 1 to %d", e, bound)
	}
	if e, bound := examined[key{"account.move.line", "search"}], int64(len(d.MoveLines)+len(d.Accounts))+moves+partners; e == 0 || e > bound {
		t.Errorf("account.move.line search examined %d records, want 1 to %d", e, bound)
	}
}
