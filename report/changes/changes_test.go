package changes

import (
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/host"
	"github.com/etlhost/etlhost/internal/audit"
)

func feed(l *Log, evs ...event.Event) {
	s := &host.Script{Name: "fix"}
	l.ScriptStarted(s, time.Now())
	for _, ev := range evs {
		l.ScriptEvent(s, host.Event{Time: time.Now(), Event: ev})
	}
}

// TestLogIgnoresLogText: a log line, whatever its text or fields, is no
// change: only the bindings' typed events are.
func TestLogIgnoresLogText(t *testing.T) {
	t.Parallel()
	l := New()
	feed(l,
		event.Log{Level: event.LevelInfo, Msg: "sent: write res.partner [1]", Fields: map[string]any{"method": "write", "model": "res.partner", "ids": []any{1}}},
		event.Log{Level: event.LevelInfo, Msg: "plan: exec UPDATE t SET x = 1", Fields: map[string]any{"rows": 5, "connection": "default"}},
		event.Log{Level: event.LevelInfo, Msg: "plan: committed", Fields: map[string]any{"connection": "default"}},
	)
	if n := l.Count(); n != 0 {
		t.Fatalf("%d changes from log lines", n)
	}
	rec := &audit.Record{}
	l.Fill(rec, &host.Result{Status: host.StatusOK})
	if len(rec.OdooWrites) != 0 || len(rec.Statements) != 0 {
		t.Fatalf("audit record from log lines: %+v", rec)
	}
	var b strings.Builder
	l.WritePlan(&b)
	if b.String() != "Plan (dry run): no changes.\n" {
		t.Fatalf("plan:\n%s", b.String())
	}
	if Is(host.Event{Event: event.Log{Msg: "sent: write res.partner [1]"}}) {
		t.Fatal("a log line is taken for a change")
	}
}

// TestLogFromEvents: the plan, the applied list and the audit record come
// from the typed events; only the statements of a connection that
// committed reach the audit record.
func TestLogFromEvents(t *testing.T) {
	t.Parallel()
	write := event.OdooWrite{Connection: "default", Model: "res.partner", Method: "write", IDs: []int64{1, 2},
		Values: map[string]any{"city": "Lyon"}}
	l := New()
	feed(l,
		event.Transaction{Connection: "default", Outcome: event.Begun},
		write,
		event.Statement{Connection: "default", Text: "exec UPDATE t SET x = 1", Rows: 3},
		event.Statement{Connection: "warehouse", Text: "replace t", Rows: 4, Deleted: 2},
		event.Transaction{Connection: "default", Outcome: event.Committed},
	)
	if n := l.Count(); n != 2+3+4+2 {
		t.Fatalf("count %d", n)
	}
	var plan strings.Builder
	l.WritePlan(&plan)
	for _, want := range []string{
		"Plan (dry run: nothing was changed):",
		`  odoo  write res.partner ids=[1,2] values={"city":"Lyon"}`,
		"  pg    exec UPDATE t SET x = 1  rows=3",
		"  pg    replace t  rows=4 deleted=2 on warehouse",
		"11 changes planned: 1 Odoo write (2 records), 2 PostgreSQL statements (9 rows).",
	} {
		if !strings.Contains(plan.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, plan.String())
		}
	}
	var applied strings.Builder
	l.WriteApplied(&applied, &host.Result{Status: host.StatusFailed})
	for _, want := range []string{
		"Not committed: the script failed.",
		"PostgreSQL: the work of some connections was committed before the failure:",
		"Odoo writes already sent (Odoo has no transaction across calls: they stay applied):",
	} {
		if !strings.Contains(applied.String(), want) {
			t.Errorf("applied list lacks %q:\n%s", want, applied.String())
		}
	}
	rec := &audit.Record{}
	l.Fill(rec, &host.Result{Status: host.StatusFailed, Error: "boom"})
	if rec.Status != "failed" || rec.Error != "boom" || len(rec.OdooWrites) != 1 || rec.OdooWrites[0].Model != "res.partner" {
		t.Fatalf("record %+v", rec)
	}
	if len(rec.Statements) != 1 || rec.Statements[0].Connection != "default" || rec.Statements[0].Rows != 3 {
		t.Fatalf("statements %+v (only the committed connection's belong)", rec.Statements)
	}
}
