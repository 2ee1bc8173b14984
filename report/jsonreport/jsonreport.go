// Package jsonreport writes a run's JSON report (`etlhost run --json`):
// host.Report in its JSON form, indented.
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
