package host

import (
	"testing"
	"time"
)

// TestPick: the flag beats the environment, the environment the header,
// the header the configuration file, the file the default; unset settings
// do not count.
func TestPick(t *testing.T) {
	t.Parallel()
	d := func(s string) time.Duration { v, _ := time.ParseDuration(s); return v }
	tests := []struct {
		name     string
		settings []Setting[time.Duration]
		want     time.Duration
		from     Source
	}{
		{"default only", []Setting[time.Duration]{Given(d("10m"), FromDefault)}, d("10m"), FromDefault},
		{"config beats default", []Setting[time.Duration]{Given(d("10m"), FromDefault), Given(d("5m"), FromConfig)}, d("5m"), FromConfig},
		{"header beats config", []Setting[time.Duration]{Given(d("5m"), FromConfig), Given(d("1s"), FromHeader)}, d("1s"), FromHeader},
		{"environment beats header", []Setting[time.Duration]{Given(d("1s"), FromHeader), Given(d("2m"), FromEnv)}, d("2m"), FromEnv},
		{"flag beats all", []Setting[time.Duration]{Given(d("30m"), FromFlag), Given(d("2m"), FromEnv), Given(d("1s"), FromHeader)}, d("30m"), FromFlag},
		{"unset does not count", []Setting[time.Duration]{{}, Given(d("5m"), FromConfig), {From: FromFlag}}, d("5m"), FromConfig},
		{"first of equals", []Setting[time.Duration]{Given(d("1m"), FromConfig), Given(d("2m"), FromConfig)}, d("1m"), FromConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Pick(tc.settings...)
			if got.Value != tc.want || got.From != tc.from || !got.Set {
				t.Errorf("Pick = %v from %v, want %v from %v", got.Value, got.From, tc.want, tc.from)
			}
		})
	}
	if s := Pick[time.Duration](); s.Set {
		t.Error("Pick of nothing is set")
	}
}
