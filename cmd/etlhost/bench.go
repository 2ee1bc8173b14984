package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/internal/bench"
)

// benchCommand is `etlhost bench`: etlhost against the Python baseline it
// replaces, on one simulator process and one PostgreSQL (internal/bench).
func (a *App) benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "measure etlhost against the Python baseline on the same Odoo simulator and PostgreSQL",
		Description: `Starts a throwaway PostgreSQL and the Odoo simulator (etlhost odoo-sim, in a process of
its own, with per-call and per-record costs), then, each round, runs the Python baseline
(python3 DIR/run_all_etls.py, the three scripts as asyncio subprocesses) and etlhost
(etlhost run --quiet SCRIPTS), each as a child process, in an order that alternates between
rounds. It measures each run's wall time, client CPU and peak memory, and what it cost
the server (calls, records examined and read, bytes sent, serving time: the simulator's
counters, reset before each run). After each etlhost run, DIR/verify.py checks the tables
against a second simulator with the same data and no latency or costs.

It prints the medians of the rounds, the etlhost/baseline ratios, each round's figures,
the verify results and the server's work by (model, method). Exit code 1 when a run
fails or verify finds etlhost's tables wrong.

Without the baseline folder, or without /usr/bin/python3 and psycopg2, etlhost runs alone
with the same figures, and the output says what was left out and why.

Examples:
   etlhost bench
   etlhost bench --moves 200000 --rounds 3
   etlhost bench --latency 5ms --cost-call 0 --baseline ../shared/baseline --json > bench.json`,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return usageErr("%v", err) },
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "moves", Value: bench.DefaultMoves, Usage: "account.move records the simulator generates"},
			&cli.Int64Flag{Name: "seed", Value: bench.DefaultSeed, Usage: "generator seed (same seed, same data)"},
			&cli.DurationFlag{Name: "latency", Value: bench.DefaultLatency, Usage: "latency the simulator adds to every call"},
			&cli.IntFlag{Name: "workers", Value: bench.DefaultWorkers, Usage: "calls the simulator serves at once (Odoo workers)"},
			&cli.DurationFlag{Name: "cost-call", Value: bench.DefaultCostCall, Usage: "server time each call costs"},
			&cli.DurationFlag{Name: "cost-examine", Value: bench.DefaultCostExamine, Usage: "server time each record a search examines costs"},
			&cli.DurationFlag{Name: "cost-read", Value: bench.DefaultCostRead, Usage: "server time each record read costs"},
			&cli.IntFlag{Name: "rounds", Value: bench.DefaultRounds, Usage: "runs of each side; the order alternates"},
			&cli.StringFlag{Name: "baseline", Usage: "folder of the Python baseline (run_all_etls.py, verify.py, schema.sql)", DefaultText: bench.DefaultBaseline + " if it exists"},
			&cli.StringFlag{Name: "scripts", Value: bench.DefaultScripts, Usage: "`GLOB` of the ETL scripts etlhost runs (lib/ beside them)"},
			&cli.BoolFlag{Name: "json", Usage: "print the whole result as JSON on stdout (the tables go to stderr)"},
		},
		Action: a.benchAction,
	}
}

func (a *App) benchAction(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return usageErr("bench takes no arguments (got %q); use --scripts GLOB", c.Args().First())
	}
	exe, err := os.Executable()
	if err != nil {
		return &exitError{code: ExitFailed, err: fmt.Errorf("bench: cannot find the etlhost binary: %w", err)}
	}
	o := bench.NewOptions()
	o.Exe = exe
	o.Moves, o.Seed = c.Int("moves"), c.Int64("seed")
	o.Latency, o.Workers = c.Duration("latency"), c.Int("workers")
	o.CostCall, o.CostExamine, o.CostRead = c.Duration("cost-call"), c.Duration("cost-examine"), c.Duration("cost-read")
	o.Rounds = c.Int("rounds")
	o.Scripts = c.String("scripts")
	if c.IsSet("baseline") {
		o.Baseline = c.String("baseline")
	} else {
		o.Baseline, o.BaselineWhy = bench.DefaultBaselineDir()
	}
	o.Log = a.Stderr
	if err := o.Validate(); err != nil {
		return usageErr("bench: %v", err)
	}

	res, err := bench.Run(c.Context, o)
	if res != nil {
		text := a.Stdout
		if c.Bool("json") {
			text = a.Stderr
		}
		fmt.Fprintln(text)
		res.WriteText(text)
		if c.Bool("json") {
			enc := json.NewEncoder(a.Stdout)
			enc.SetIndent("", "  ")
			if jerr := enc.Encode(res); jerr != nil && err == nil {
				err = fmt.Errorf("cannot write the JSON result: %w", jerr)
			}
		}
	}
	switch {
	case err == nil:
		return nil
	case c.Context.Err() != nil:
		return &exitError{code: ExitInterrupted, err: fmt.Errorf("bench: %v", context.Cause(c.Context))}
	default:
		return &exitError{code: ExitFailed, err: fmt.Errorf("bench: %w", err)}
	}
}
