package text

import (
	"math"
	"strings"
	"testing"

	"github.com/etlhost/etlhost/event"
	"github.com/etlhost/etlhost/host"
)

// TestNumbersAsLuaWritesThem: log fields and the summary's RESULT column
// write numbers as Lua does (1234567.5, 20000000.01, never Go's
// 1.2345675e+06); the values stay numbers (the JSON report writes them).
func TestNumbersAsLuaWritesThem(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"amount", 1234567.5, "1234567.5"},
		{"cents", 20000000.01, "20000000.01"},
		{"2e7 float", 2e7, "20000000"},
		{"2e7 int", int64(20000000), "20000000"},
		{"3.0", 3.0, "3"},
		{"negative zero", math.Copysign(0, -1), "-0"},
		{"1e15 float", 1e15, "1e+15"},
		{"1e100", 1e100, "1e+100"},
		{"0.1", 0.1, "0.1"},
		{"1/3", 1.0 / 3, "0.33333333333333"},
		{"2^60", float64(1 << 60), "1.1529215046068e+18"},
		{"2^53 int", int64(1 << 53), "9007199254740992"}, // whole numbers within ±2^53 arrive as int64
		{"inf", math.Inf(1), "inf"},
		{"-inf", math.Inf(-1), "-inf"},
		{"nan", math.NaN(), "nan"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Fields(map[string]any{"v": c.v}); got != " v="+c.want {
				t.Errorf("Fields: %q, want %q", got, " v="+c.want)
			}
			res := &host.Result{Name: "pay", Status: host.StatusOK, Value: map[string]any{"v": c.v, "n": int64(3)}}
			if got, want := Outcome(res), "n=3 v="+c.want; got != want {
				t.Errorf("Outcome: %q, want %q", got, want)
			}
			if got := Outcome(&host.Result{Status: host.StatusOK, Value: c.v}); got != c.want {
				t.Errorf("Outcome of a bare value: %q, want %q", got, c.want)
			}
			var b strings.Builder
			WriteSummary(&b, &host.Report{Status: host.StatusOK, Scripts: []*host.Result{res}}, false)
			if row := "  pay     n=3 v=" + c.want + "\n"; !strings.Contains(b.String(), row) {
				t.Errorf("summary:\n%s\nwant the row ending %q", b.String(), row)
			}
		})
	}
	var b strings.Builder
	v := NewScriptView(&b, clock, false, nil)
	v.ScriptEvent(&host.Script{Name: "pay"}, host.Event{Event: event.Log{Level: event.LevelInfo, Msg: "paid",
		Fields: map[string]any{"amount": 1234567.5, "total": 20000000.01, "ids": []any{int64(1), 2.5}}}})
	if want := "09:30:00 info  paid amount=1234567.5 ids=[1 2.5] total=20000000.01\n"; b.String() != want {
		t.Errorf("log line %q, want %q", b.String(), want)
	}
}
