package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/host"
	store "github.com/etlhost/etlhost/internal/history"
	"github.com/etlhost/etlhost/queue"
	"github.com/etlhost/etlhost/report/history"
	"github.com/etlhost/etlhost/report/web"
)

const defaultUIAddr = "127.0.0.1:8080"

func (a *App) uiCommand() *cli.Command {
	return &cli.Command{
		Name:  "ui",
		Usage: "serve the operators' web page: each job's recent runs from the history, and River's UI for the queue",
		Description: "The page has no login: it listens on localhost unless --addr says otherwise; put it behind\n" +
			"the proxy that authenticates the team's other tools before opening it wider. etlhost's own\n" +
			"page only reads; River's UI under /riverui/ can cancel and retry jobs.",
		Flags: []cli.Flag{
			configFlag(),
			&cli.StringFlag{Name: "addr", Value: defaultUIAddr, Usage: "listen on `ADDR` (host:port)"},
			&cli.IntFlag{Name: "runs", Usage: "how many recent runs to show per job", DefaultText: "20"},
			&cli.BoolFlag{Name: "no-queue", Usage: "serve the run history alone, without River's UI (for teams on `etlhost run` only)"},
		},
		Action: a.uiAction,
	}
}

func (a *App) uiAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("ui takes no arguments (got %q)", c.Args().First())
	}
	cfg, err := a.loadConfig(c)
	if err != nil {
		return err
	}
	if c.Int("runs") < 0 {
		return usageErr("--runs must be 1 or more")
	}
	hist, err := a.historyStore(cfg, !c.Bool("no-queue"))
	if err != nil {
		return &exitError{code: ExitUsage, err: fmt.Errorf("ui: history: %w", err)}
	}
	defer hist.Close()
	var client *river.Client[pgx.Tx]
	if !c.Bool("no-queue") {
		dsn, _, err := queueDSN(cfg)
		if err != nil {
			return usageErr("ui: %v (or pass --no-queue)", err)
		}
		q, err := queue.Open(c.Context, dsn)
		if err != nil {
			return &exitError{code: ExitUsage, err: fmt.Errorf("ui: queue: %w", err)}
		}
		defer q.Close()
		client = q.Client()
	}
	stop, err := a.serveUI(c.Context, c.String("addr"), c.Int("runs"), cfg, hist, client)
	if err != nil {
		return err
	}
	<-c.Context.Done()
	stop()
	return nil
}

// historyStore is the run history the page shows: [history] connection,
// else the queue's when withQueue, else the default connection.
func (a *App) historyStore(cfg *host.Config, withQueue bool) (*store.Store, error) {
	conn := "default"
	if withQueue {
		_, qc, err := queueDSN(cfg)
		if err != nil && cfg.History.Connection == "" {
			return nil, err
		}
		conn = qc
	}
	return history.Open(cfg, historyConn(cfg, conn))
}

// serveUI serves the page on addr until the returned stop is called; an
// empty addr serves nothing. client is nil to serve without River's UI.
func (a *App) serveUI(ctx context.Context, addr string, runs int, cfg *host.Config, hist *store.Store, client *river.Client[pgx.Tx]) (func(), error) {
	if addr == "" {
		return func() {}, nil
	}
	// Listen first: a taken or malformed address is the operator's to fix
	// before anything runs.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usageErr("web page: cannot listen on %s: %v", addr, err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var river http.Handler
	if client != nil {
		river, err = web.RiverUI(ctx, client, slog.New(slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if err != nil {
			cancel()
			ln.Close()
			return nil, &exitError{code: ExitFailed, err: fmt.Errorf("web page: %w", err)}
		}
	}
	srv := &http.Server{
		Handler:           web.New(hist, river, web.Options{Runs: runs, Location: cfg.Worker.Location}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(slog.NewTextHandler(a.Stderr, nil), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(a.Stderr, "etlhost: web page on http://%s/\n", ln.Addr())
	return func() {
		shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = srv.Shutdown(shutdown)
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(a.Stderr, "etlhost: web page: %v\n", err)
		}
		cancel()
	}, nil
}
