// Package jsonreport writes a run's JSON report (`etlhost run --json`):
// host.Report in its JSON form, indented.
//
// The run's status is ok, failed or cancelled; each script's is ok, failed,
// timeout, skipped (not run: a job it runs after did not end ok; its error
// says which, "skipped: achat_importation_upsert failed") or cancelled. A
// job that may be retried (retries > 0) lists its attempts, the last one
// being what its status reports: attempt, started_at, duration_ms, status,
// error, transient and reason.
package jsonreport

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/etlhost/etlhost/host"
)

// Writer writes the JSON report of a run to W when the run ends. It is a
// host.Observer that needs only the run's report.
type Writer struct{ W io.Writer }

// ScriptStarted implements host.Observer.
func (*Writer) ScriptStarted(*host.Script, time.Time) {}

// ScriptEvent implements host.Observer.
func (*Writer) ScriptEvent(*host.Script, host.Event) {}

// ScriptFinished implements host.Observer.
func (*Writer) ScriptFinished(*host.Result) {}

// Finish writes the report.
func (w *Writer) Finish(rep *host.Report) error {
	enc := json.NewEncoder(w.W)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("cannot write the JSON report: %w", err)
	}
	return nil
}
