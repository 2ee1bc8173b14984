package host

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestDateIsCapped (issue 18, item 9): os.date with an 8 MB format (which
// made a 76 MB string) fails with an error naming the cap, beside a script
// whose dates are ordinary and which ends ok.
func TestDateIsCapped(t *testing.T) {
	t.Parallel()
	paths := writeScripts(t, t.TempDir(), map[string]string{
		"huge.lua":  "local s = os.date(string.rep('%c', 4 * 1024 * 1024))\nreturn #s",
		"limit.lua": "return #os.date(string.rep('%c', 512))",
		"dates.lua": "return {day = os.date('!%Y-%m-%d', 86400), t = os.date('*t').year > 2000, now = #os.date()}",
	})
	_, by := runScripts(t, context.Background(), &Runner{Modules: stdModules(), Timeout: time.Minute}, paths)
	if res := by["huge"]; res.Status != StatusFailed || !strings.Contains(res.Error, "bad argument #1 to date (format too long: 8MiB, os.date takes at most 1KiB)") {
		t.Errorf("huge: %s %v %q", res.Status, res.Value, res.Error)
	}
	if res := by["limit"]; res.Status != StatusOK || res.Value.(int64) < 512*19 {
		t.Errorf("limit: %s %v %q", res.Status, res.Value, res.Error)
	}
	res := by["dates"]
	if m, ok := res.Value.(map[string]any); res.Status != StatusOK || !ok || m["day"] != "1970-01-02" || m["t"] != true || m["now"].(int64) < 10 {
		t.Errorf("dates: %s %v %q", res.Status, res.Value, res.Error)
	}
}
