package main

// Run history: `etlhost run --history` (or [history] connection = "...")
// records each run after it ends; `etlhost history` reads it back.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/history"
)

// historyTimeout bounds each talk with the history database: it happens
// before and after the run, and must not hold up the exit for long.
const historyTimeout = 15 * time.Second

func init() {
	runExtensions = append(runExtensions, runExtension{
		Flags: []cli.Flag{
			sharedBool(&cli.BoolFlag{Name: "history", Usage: "record the run in the history (schema etlhost of the default PostgreSQL connection, or of [history] connection)"}),
		},
		Observer: historyBefore,
		After:    historyAfter,
	})
	commandRegistry = append(commandRegistry, (*App).historyCommand)
}

// openStores holds the store opened before a run until it is recorded,
// by the run's cli context.
var openStores sync.Map // *cli.Context -> *history.Store

// historyConnection is the connection the run is recorded on: [history]
// connection, else "default" with --history, else none.
func historyConnection(c *cli.Context, cfg *host.Config) string {
	if cfg != nil && cfg.History.Connection != "" {
		return cfg.History.Connection
	}
	if c.Bool("history") {
		return "default"
	}
	return ""
}

func openHistory(cfg *host.Config, conn string) (*history.Store, error) {
	pc, ok := cfg.Postgres[conn]
	if !ok {
		if conn == "default" {
			return nil, errors.New("no default PostgreSQL connection to keep the history in (set ETLHOST_PG_DSN or a [postgres.default] section, or [history] connection)")
		}
		return nil, fmt.Errorf("no PostgreSQL connection named %q", conn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), historyTimeout)
	defer cancel()
	s, err := history.Open(ctx, pc.DSN)
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", conn, err)
	}
	return s, nil
}

// historyBefore opens the history before the run, so a database that
// cannot be reached is reported at once rather than after hours of work.
// The run goes on either way.
func historyBefore(a *App, c *cli.Context, next host.Observer) host.Observer {
	cfg, err := a.loadConfig(c)
	if err != nil {
		cfg = nil // the run checks its own configuration
	}
	conn := historyConnection(c, cfg)
	if conn == "" || cfg == nil {
		return next
	}
	s, err := openHistory(cfg, conn)
	if err != nil {
		fmt.Fprintf(a.Stderr, "etlhost: history: %v (the run goes on; etlhost tries again to record it at the end)\n", err)
		return next
	}
	openStores.Store(c, s)
	return next
}

// historyAfter records the run, however it ended, with a fresh context:
// the run's own may be cancelled (Ctrl+C).
func historyAfter(a *App, c *cli.Context, cfg *host.Config, rep *host.Report) error {
	var s *history.Store
	if v, ok := openStores.LoadAndDelete(c); ok {
		s = v.(*history.Store)
	}
	conn := historyConnection(c, cfg)
	if conn == "" {
		if s != nil {
			s.Close()
		}
		return nil
	}
	if s == nil {
		var err error
		if s, err = openHistory(cfg, conn); err != nil {
			return fmt.Errorf("history: the run was not recorded: %w", err)
		}
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), historyTimeout)
	defer cancel()
	id, err := s.Record(ctx, historyRun(rep))
	if err != nil {
		return fmt.Errorf("history: the run was not recorded: %w", err)
	}
	fmt.Fprintf(a.Stderr, "Recorded as run %d in the history (etlhost history).\n", id)
	return nil
}

// historyRun converts a report for the history.
func historyRun(rep *host.Report) *history.Run {
	hostname, _ := os.Hostname()
	run := &history.Run{StartedAt: rep.StartedAt, Duration: rep.Duration, Status: string(rep.Status),
		Hostname: hostname, Version: version()}
	for _, r := range rep.Scripts {
		sr := history.ScriptRun{Name: r.Name, Path: r.Path, Status: string(r.Status), StartedAt: r.StartedAt,
			Duration: r.Duration, Error: r.Error}
		if n, ok := rowsOf(r.Value); ok {
			rows := int64(n)
			sr.Rows = &rows
		}
		if r.Value != nil {
			if b, err := json.Marshal(r.Value); err == nil {
				sr.Result = b
			}
		}
		run.Scripts = append(run.Scripts, sr)
	}
	return run
}

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
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "configuration `FILE` (TOML; default: etlhost.toml if present)"},
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
	s, err := openHistory(cfg, conn)
	if err != nil {
		return &exitError{code: ExitFailed, err: fmt.Errorf("history: %w", err)}
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(c.Context, time.Minute)
	defer cancel()
	q := history.Query{Last: c.Int("last"), Script: c.String("script")}
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
			runs = []history.Run{}
		}
		if stats == nil {
			stats = []history.ScriptStats{}
		}
		enc := json.NewEncoder(a.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"runs": runs, "scripts": stats})
	}
	printHistory(a.Stdout, runs, stats, q)
	return nil
}

// printHistory prints the runs and the scripts' figures as two tables.
func printHistory(w io.Writer, runs []history.Run, stats []history.ScriptStats, q history.Query) {
	if len(runs) == 0 {
		if q.Script != "" {
			fmt.Fprintf(w, "No run of %s in the history.\n", q.Script)
		} else {
			fmt.Fprintln(w, "No run in the history yet (record runs with etlhost run --history).")
		}
		return
	}
	when := func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }
	var t table
	if q.Script == "" {
		fmt.Fprintf(w, "Recent runs (newest first)\n")
		t = table{right: []bool{true, false, true, false, false}}
		t.add("RUN", "STARTED", "DURATION", "STATUS", "SCRIPTS")
	} else {
		fmt.Fprintf(w, "Recent runs of %s (newest first)\n", q.Script)
		t = table{right: []bool{true, false, true, false, true, false}}
		t.add("RUN", "STARTED", "DURATION", "STATUS", "ROWS", "ERROR")
	}
	for _, r := range runs {
		if q.Script == "" {
			counts := map[string]int{}
			for _, sr := range r.Scripts {
				counts[sr.Status]++
			}
			var parts []string
			for _, st := range allStatuses {
				if n := counts[string(st)]; n > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", n, st))
				}
			}
			t.add(fmt.Sprint(r.ID), when(r.StartedAt), fmtDuration(r.Duration), r.Status, strings.Join(parts, ", "))
			continue
		}
		for _, sr := range r.Scripts {
			rows := ""
			if sr.Rows != nil {
				rows = fmt.Sprint(*sr.Rows)
			}
			t.add(fmt.Sprint(r.ID), when(sr.StartedAt), fmtDuration(sr.Duration), sr.Status, rows, truncate(firstLine(sr.Error), 80))
		}
	}
	t.print(w)
	fmt.Fprintf(w, "\nScripts (their last %d results)\n", q.Last)
	t = table{right: []bool{false, true, true, true, false, false, true, true, false}}
	t.add("SCRIPT", "RUNS", "FAILED", "FAILURE RATE", "LAST", "LAST OK", "AVG OK", "MAX OK", "RECENT DURATIONS (newest first)")
	for _, st := range stats {
		lastOK := "never"
		if st.LastSuccess != nil {
			lastOK = when(*st.LastSuccess)
		}
		recent := make([]string, 0, 8)
		for i, d := range st.Durations {
			if i == 8 {
				recent = append(recent, "…")
				break
			}
			recent = append(recent, fmtDuration(d))
		}
		avg, mx := "-", "-"
		if st.AvgOK > 0 {
			avg, mx = fmtDuration(st.AvgOK), fmtDuration(st.MaxOK)
		}
		t.add(st.Name, fmt.Sprint(st.Runs), fmt.Sprint(st.Failures), fmt.Sprintf("%.0f%%", 100*st.FailureRate),
			st.LastStatus, lastOK, avg, mx, strings.Join(recent, " "))
	}
	t.print(w)
}

// table lays out columns two spaces apart, each left or right aligned.
type table struct {
	right []bool
	rows  [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) print(w io.Writer) {
	widths := make([]int, len(t.right))
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range t.rows {
		var b strings.Builder
		b.WriteString(" ")
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			b.WriteString(" ")
			if t.right[i] {
				b.WriteString(pad + c)
			} else if i < len(r)-1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(c)
			}
			if i < len(r)-1 {
				b.WriteString(" ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
