package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/odoo/odoosim"
)

// odooSimCommand serves the project's Odoo simulator, for the demo and for
// analysts working offline.
func (a *App) odooSimCommand() *cli.Command {
	return &cli.Command{
		Name:  "odoo-sim",
		Usage: "serve an Odoo-compatible simulator with generated accounting data",
		Description: `Serves Odoo's external API as a real Odoo of --odoo-version serves it to scripting
clients (XML-RPC on /xmlrpc/2/<service> and the legacy /xmlrpc/<service>, JSON-RPC on
/jsonrpc, the web session routes /web/session/authenticate and /web/dataset/call_kw, and
with 19.0 JSON-2 on /json/2/<model>/<method> with /doc-bearer/<model>.json) over generated data:
companies in several countries, partners, journals, accounts, invoices and vendor bills
with their installments. Log in as admin/admin (API key demo-api-key) on database "demo".
Writes change its data in memory; nothing is kept after it stops.

It counts the work a real Odoo would do: calls, records examined by searches, records
read, response bytes and the time calls held a worker, in total and per model and
method. GET /sim/stats returns them as JSON and POST /sim/stats/reset returns them and
starts again from zero; these routes are not calls (never counted, delayed or queued).
On stop (Ctrl+C) it prints them as a table on stderr, or as JSON on stdout with --json.

The simulator answers at once by default. To make wall time respond to server work as
on a real Odoo, --workers caps the calls served at once (1: a single-worker Odoo) and
the cost flags keep a worker busy after each call for --cost-call, plus --cost-examine
per record examined and --cost-read per record read. --latency models the network: a
call in its latency holds no worker.

Examples:
   etlhost odoo-sim --addr 127.0.0.1:8069 --moves 20000 --seed 1 --latency 5ms
   ETLHOST_ODOO_URL=http://127.0.0.1:8069 ETLHOST_ODOO_DB=demo ETLHOST_ODOO_USER=admin \
   ETLHOST_ODOO_PASSWORD=admin etlhost run scripts/*.lua

   # a single-worker Odoo across a network
   etlhost odoo-sim --workers 1 --latency 50ms --cost-call 2ms --cost-examine 2us --cost-read 100us
   curl -s http://127.0.0.1:8069/sim/stats`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8069", Usage: "address to listen on"},
			&cli.IntFlag{Name: "moves", Value: defaultSimMoves, Usage: "number of account.move records to generate"},
			&cli.Int64Flag{Name: "seed", Value: defaultSimSeed, Usage: "generator seed (same seed, same data)"},
			&cli.DurationFlag{Name: "latency", Usage: "latency added to every call, like 5ms"},
			&cli.StringSliceFlag{Name: "index", Usage: "an index the simulated database has besides Odoo's own, `MODEL.FIELD` (account.move.write_date: what incremental readers want); fewer records are examined (repeatable)"},
			&cli.StringFlag{Name: "db", Value: "demo", Usage: "database name"},
			&cli.StringFlag{Name: "odoo-version", Value: "17.0", Usage: "server version to report; 19.0 also serves JSON-2"},
			&cli.IntFlag{Name: "workers", Usage: "serve at most `N` calls at once, as Odoo's workers (1: a single-worker Odoo)", DefaultText: "unlimited"},
			&cli.DurationFlag{Name: "cost-call", Usage: "busy time of a worker per call, like 2ms"},
			&cli.DurationFlag{Name: "cost-examine", Usage: "busy time per record a search examines, like 5us"},
			&cli.DurationFlag{Name: "cost-read", Usage: "busy time per record read, like 100us"},
			&cli.BoolFlag{Name: "json", Usage: "on stop, print the stats as JSON on stdout instead of a table on stderr"},
		},
		Action: func(c *cli.Context) error {
			if c.Int("moves") < 0 {
				return usageErr("--moves cannot be negative")
			}
			if c.Int("workers") < 0 {
				return usageErr("--workers cannot be negative (0 is unlimited)")
			}
			for _, name := range []string{"latency", "cost-call", "cost-examine", "cost-read"} {
				if c.Duration(name) < 0 {
					return usageErr("--%s cannot be negative", name)
				}
			}
			if err := odoosim.CheckIndexes(c.String("odoo-version"), c.StringSlice("index")); err != nil {
				return usageErr("--%v", err)
			}
			start := time.Now()
			sim := odoosim.NewHandler(odoosim.Options{Moves: c.Int("moves"), Seed: c.Int64("seed"), Indexes: c.StringSlice("index"),
				Latency: c.Duration("latency"), DB: c.String("db"), Version: c.String("odoo-version"),
				Workers: c.Int("workers"), CostPerCall: c.Duration("cost-call"),
				CostPerExamined: c.Duration("cost-examine"), CostPerRead: c.Duration("cost-read")})
			defer sim.Close()
			ln, err := net.Listen("tcp", c.String("addr"))
			if err != nil {
				return &exitError{code: ExitUsage, err: fmt.Errorf("cannot listen on %s: %w", c.String("addr"), err)}
			}
			fmt.Fprintf(a.Stderr, "odoo-sim: serving %d moves (seed %d) on http://%s, database %q, login admin/admin; generated in %v\n",
				c.Int("moves"), c.Int64("seed"), ln.Addr(), c.String("db"), time.Since(start).Round(time.Millisecond))
			if err := serveUntilDone(c.Context, ln, sim); err != nil {
				return err
			}
			sim.Close() // the calls still in progress end, and are counted
			st := sim.Stats()
			if c.Bool("json") {
				enc := json.NewEncoder(a.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printSimStats(a.Stderr, st)
			return nil
		},
	}
}

// printSimStats writes the stats of a simulator's run as a table: the
// totals, then one line per model and method; names to the left, figures to
// the right.
func printSimStats(w io.Writer, st odoosim.Stats) {
	fmt.Fprintf(w, "odoo-sim: served %d calls; %d records examined, %d read; %d bytes sent; %.3fs serving\n",
		st.Calls, st.Examined, st.Read, st.ResponseBytes, st.ServingSeconds)
	rows := [][]string{{"model", "method", "calls", "examined", "read", "bytes", "serving"}}
	row := func(model, method string, calls, examined, read, bytes int64, serving float64) {
		rows = append(rows, []string{model, method, strconv.FormatInt(calls, 10), strconv.FormatInt(examined, 10),
			strconv.FormatInt(read, 10), strconv.FormatInt(bytes, 10), fmt.Sprintf("%.3fs", serving)})
	}
	row("total", "", st.Calls, st.Examined, st.Read, st.ResponseBytes, st.ServingSeconds)
	for _, c := range st.ByCall {
		row(cmp.Or(c.Model, "-"), c.Method, c.Calls, c.Examined, c.Read, c.ResponseBytes, c.ServingSeconds)
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], len(cell))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, cell := range r {
			if i < 2 {
				fmt.Fprintf(&b, "%-*s  ", widths[i], cell)
			} else {
				fmt.Fprintf(&b, "%*s  ", widths[i], cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// serveUntilDone serves h on ln until ctx ends, then shuts down.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil
	}
}
