package main

// `etlhost history`: the run history that `etlhost run --history` (or
// [history] connection) records (package report/history), read back.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	store "github.com/etlhost/etlhost/internal/history"
	"github.com/etlhost/etlhost/report/history"
)

func (a *App) historyCommand() *cli.Command {
	return &cli.Command{
		Name:  "history",
		Usage: "list recent runs and each script's recent durations and failure rate",
		Description: `Reads the run history that 'etlhost run --history' (or a [history] section of the
configuration) records in the schema etlhost of a PostgreSQL database: the most recent
runs with their statuses and durations, then for each script its recent durations,
failure rate and last success.

Examples:
   etlhost history
   etlhost history --last 50 --script ventes_locales_upsert
   etlhost history --json | jq '.scripts[] | select(.failure_rate > 0.1)'`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "last", Value: 20, Usage: "the `N` most recent runs, and each script's N most recent results"},
			&cli.StringFlag{Name: "script", Usage: "only this script (`NAME`, the file name without .lua)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON: {\"runs\": [...], \"scripts\": [...]}"},
			configFlag(),
			&cli.StringFlag{Name: "connection", Usage: "the PostgreSQL connection `NAME` holding the history (default: [history] connection, else default)"},
		},
		Action: a.historyAction,
	}
}

func (a *App) historyAction(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return usageErr("history: unexpected argument %q (use --script NAME)", c.Args().First())
	}
	if c.Int("last") < 1 {
		return usageErr("--last must be 1 or more")
	}
	cfg, err := a.loadConfig(c)
	if err != nil {
		return err
	}
	conn := c.String("connection")
	if conn == "" {
		conn = cfg.History.Connection
	}
	if conn == "" {
		conn = "default"
	}
	s, err := history.Open(cfg, conn)
	if err != nil {
		return &exitError{code: ExitFailed, err: fmt.Errorf("history: %w", err)}
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(c.Context, time.Minute)
	defer cancel()
	q := store.Query{Last: c.Int("last"), Script: c.String("script")}
	runs, err := s.Runs(ctx, q)
	if err != nil {
		return &exitError{code: ExitFailed, err: fmt.Errorf("history: %w", err)}
	}
	stats, err := s.Scripts(ctx, q)
	if err != nil {
		return &exitError{code: ExitFailed, err: fmt.Errorf("history: %w", err)}
	}
	if c.Bool("json") {
		if runs == nil {
			runs = []store.Run{}
		}
		if stats == nil {
			stats = []store.ScriptStats{}
		}
		enc := json.NewEncoder(a.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"runs": runs, "scripts": stats})
	}
	history.WriteText(a.Stdout, runs, stats, q)
	return nil
}
