package date

import (
	"testing"
	"time"
)

// TestCivilEveryDay checks the calendar against Go's time package on
// every day of years 1..9999, both ways, with the weekday.
func TestCivilEveryDay(t *testing.T) {
	t.Parallel()
	want := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	if minDay != want.Unix()/secondsPerDay {
		t.Fatalf("minDay %d, want %d", minDay, want.Unix()/secondsPerDay)
	}
	for day := minDay; day <= maxDay; day++ {
		y, m, d := civilFromDays(day)
		if y != int64(want.Year()) || m != int64(want.Month()) || d != int64(want.Day()) {
			t.Fatalf("day %d is %04d-%02d-%02d, want %s", day, y, m, d, want.Format(time.DateOnly))
		}
		if back := daysFromCivil(y, m, d); back != day {
			t.Fatalf("%04d-%02d-%02d is day %d, want %d", y, m, d, back, day)
		}
		wd := int64(want.Weekday())
		if wd == 0 {
			wd = 7
		}
		if got := (value{day: day}).weekday(); got != wd {
			t.Fatalf("%s: weekday %d, want %d", want.Format(time.DateOnly), got, wd)
		}
		if d == 1 && daysIn(y, m) != int64(want.AddDate(0, 1, -1).Day()) {
			t.Fatalf("%04d-%02d has %d days", y, m, daysIn(y, m))
		}
		want = want.AddDate(0, 0, 1)
	}
	if maxDay-minDay != maxAddDays {
		t.Fatalf("maxAddDays %d, want %d", maxAddDays, maxDay-minDay)
	}
}
