package host

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule is a job's `--! schedule` header: when workers enqueue it.
type Schedule interface {
	// Next is the first tick after t, in t's location: a worker passes t
	// in the time zone of the configuration ([worker] time_zone).
	Next(t time.Time) time.Time
}

// scheduleParser reads cron's five fields (minute hour day-of-month month
// day-of-week), an optional leading seconds field, and the descriptors
// @daily, @hourly, @every 15m.
var scheduleParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule reads a schedule header's value. A time zone in the value
// (CRON_TZ=, TZ=) is refused: the configuration states the one time zone
// of every schedule, so two jobs cannot silently disagree about 02:00.
func ParseSchedule(value string) (Schedule, error) {
	if strings.HasPrefix(value, "CRON_TZ=") || strings.HasPrefix(value, "TZ=") {
		return nil, fmt.Errorf("bad schedule %q: the time zone of schedules is the configuration's ([worker] time_zone = \"Europe/Paris\"), not the header's", value)
	}
	s, err := scheduleParser.Parse(value)
	if err != nil {
		return nil, fmt.Errorf("bad schedule %q: %v; expected cron's fields minute hour day-of-month month day-of-week, like `0 2 * * *` (02:00 every day) or `30 6 * * 1-5` (06:30 on weekdays), or @daily, @hourly, @every 15m", value, err)
	}
	return s, nil
}
