package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/odoo/odoosim"
)

func init() {
	commandRegistry = append(commandRegistry, (*App).odooSimCommand)
}

// odooSimCommand serves the project's Odoo simulator, for the demo and for
// analysts working offline.
func (a *App) odooSimCommand() *cli.Command {
	return &cli.Command{
		Name:  "odoo-sim",
		Usage: "serve an Odoo-compatible simulator with generated accounting data",
		Description: `Serves Odoo's external API (XML-RPC on /xmlrpc/2/common and /xmlrpc/2/object, and
JSON-2 on /json/2/<model>/<method> with --odoo-version 19.0) over generated data:
companies in several countries, partners, journals, accounts, invoices and vendor bills
with their installments. Log in as admin/admin (API key demo-api-key) on database "demo".
Writes change its data in memory; nothing is kept after it stops.

Example:
   etlhost odoo-sim --addr 127.0.0.1:8069 --moves 20000 --seed 1 --latency 5ms
   ETLHOST_ODOO_URL=http://127.0.0.1:8069 ETLHOST_ODOO_DB=demo ETLHOST_ODOO_USER=admin \
   ETLHOST_ODOO_PASSWORD=admin etlhost run scripts/*.lua`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8069", Usage: "address to listen on"},
			&cli.IntFlag{Name: "moves", Value: 20000, Usage: "number of account.move records to generate"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "generator seed (same seed, same data)"},
			&cli.DurationFlag{Name: "latency", Usage: "latency added to every call, like 5ms"},
			&cli.StringFlag{Name: "db", Value: "demo", Usage: "database name"},
			&cli.StringFlag{Name: "odoo-version", Value: "17.0", Usage: "server version to report; 19.0 also serves JSON-2"},
		},
		Action: func(c *cli.Context) error {
			if c.Int("moves") < 0 {
				return usageErr("--moves cannot be negative")
			}
			start := time.Now()
			sim := odoosim.NewHandler(odoosim.Options{Moves: c.Int("moves"), Seed: c.Int64("seed"),
				Latency: c.Duration("latency"), DB: c.String("db"), Version: c.String("odoo-version")})
			defer sim.Close()
			ln, err := net.Listen("tcp", c.String("addr"))
			if err != nil {
				return &exitError{code: ExitUsage, err: fmt.Errorf("cannot listen on %s: %w", c.String("addr"), err)}
			}
			fmt.Fprintf(a.Stderr, "odoo-sim: serving %d moves (seed %d) on http://%s, database %q, login admin/admin; generated in %v\n",
				c.Int("moves"), c.Int64("seed"), ln.Addr(), c.String("db"), time.Since(start).Round(time.Millisecond))
			return serveUntilDone(c.Context, ln, sim)
		},
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
