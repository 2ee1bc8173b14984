package event_test

import (
	"fmt"
	"testing"

	"github.com/etlhost/etlhost/event"
)

// TestLine: each event renders as the line the views print; progress and
// rows have none.
func TestLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ev    event.Event
		level event.Level
		msg   string
		ok    bool
	}{
		{event.Log{Level: event.LevelWarn, Msg: "sent: write res.partner [1]"}, event.LevelWarn, "sent: write res.partner [1]", true},
		{event.OdooWrite{Connection: "default", Model: "res.partner", Method: "write", IDs: []int64{4, 5}, Values: map[string]any{"city": "Arras"}},
			event.LevelInfo, `sent: write res.partner ids=[4,5] values={"city":"Arras"}`, true},
		{event.OdooWrite{Model: "res.partner", Method: "create", Values: map[string]any{"name": "X"}, Result: "9", Planned: true},
			event.LevelInfo, `plan: create res.partner values={"name":"X"} -> 9`, true},
		{event.OdooWrite{Model: "res.partner", Method: "unlink", IDs: []int64{3}, Err: "fault"},
			event.LevelWarn, "sent: unlink res.partner ids=[3] failed", true},
		{event.Statement{Connection: "default", Text: "exec UPDATE t SET v = 1", Rows: 2}, event.LevelInfo, "plan: exec UPDATE t SET v = 1", true},
		{event.Transaction{Outcome: event.Committed}, event.LevelInfo, "plan: committed", true},
		{event.Transaction{Outcome: event.RolledBack, DryRun: true}, event.LevelInfo, "plan: dry run rolled back: nothing was changed", true},
		{event.Transaction{Outcome: event.RollbackFailed, Err: "conn closed"}, event.LevelWarn, "plan: rolling back failed: conn closed", true},
		{event.Progress{Done: 1, Total: 2}, "", "", false},
		{event.Rows{Fetched: 3}, "", "", false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%T", tc.ev), func(t *testing.T) {
			level, msg, _, ok := event.Line(tc.ev)
			if level != tc.level || msg != tc.msg || ok != tc.ok {
				t.Errorf("Line(%#v) = %q %q %v, want %q %q %v", tc.ev, level, msg, ok, tc.level, tc.msg, tc.ok)
			}
		})
	}
}

// TestRecords counts the records a write touches.
func TestRecords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		w    event.OdooWrite
		want int64
	}{
		{event.OdooWrite{Method: "create", Values: map[string]any{"name": "x"}}, 1},
		{event.OdooWrite{Method: "create", Values: []any{map[string]any{}, map[string]any{}}}, 2},
		{event.OdooWrite{Method: "write", IDs: []int64{1, 2, 3}}, 3},
		{event.OdooWrite{Method: "action_post"}, 1},
	} {
		if got := tc.w.Records(); got != tc.want {
			t.Errorf("%+v: %d records, want %d", tc.w, got, tc.want)
		}
	}
}
