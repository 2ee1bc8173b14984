package date

import (
	"fmt"
	"strconv"
	"strings"
)

// The calendar arithmetic of the module, in plain Go: proleptic Gregorian
// dates of years 1..9999, times of day to the second, all in UTC. It does
// not use package time, so that no input can reach a clock, a zone
// database or an overflow in time.Time's arithmetic.

const (
	minYear = 1
	maxYear = 9999

	secondsPerDay = 86400

	// MaxTextBytes bounds the text the parsers read; the longest valid
	// value ("2026-12-04T21:30:00.123456789+01:00") has 35 bytes.
	MaxTextBytes = 64
	// MaxLayoutBytes bounds the layout of date.format and date.parse.
	MaxLayoutBytes = 256
)

// value is a date, or a datetime (hasTime) at sec seconds after midnight
// UTC. day counts days from 1970-01-01 (negative before).
type value struct {
	day     int64
	sec     int64 // 0..86399; 0 for a date
	hasTime bool
}

var (
	minDay = daysFromCivil(minYear, 1, 1)
	maxDay = daysFromCivil(maxYear, 12, 31)
)

// daysFromCivil is the number of days from 1970-01-01 to y-m-d (Howard
// Hinnant's days_from_civil), for any y.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// daysIn is the number of days of month m of year y.
func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func (v value) ymd() (y, m, d int64) { return civilFromDays(v.day) }

func (v value) hms() (h, mi, s int64) { return v.sec / 3600, v.sec / 60 % 60, v.sec % 60 }

// weekday is ISO's: 1 for Monday .. 7 for Sunday. 1970-01-01 was a Thursday.
func (v value) weekday() int64 {
	w := (v.day + 3) % 7 // 0 for Monday
	if w < 0 {
		w += 7
	}
	return w + 1
}

func (v value) yearDay() int64 {
	y, _, _ := v.ymd()
	return v.day - daysFromCivil(y, 1, 1) + 1
}

// String is the value in Odoo's form: "2026-12-04" or "2026-12-04 21:30:00".
func (v value) String() string {
	y, m, d := v.ymd()
	if !v.hasTime {
		return fmt.Sprintf("%04d-%02d-%02d", y, m, d)
	}
	h, mi, s := v.hms()
	return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", y, m, d, h, mi, s)
}

// dateOf drops the time of day.
func (v value) dateOf() value { return value{day: v.day} }

// withTime makes v a datetime (midnight for a date).
func (v value) withTime() value { v.hasTime = true; return v }

// compare orders instants: a date is its midnight (UTC).
func compare(a, b value) int {
	switch {
	case a.day < b.day:
		return -1
	case a.day > b.day:
		return 1
	case a.sec < b.sec:
		return -1
	case a.sec > b.sec:
		return 1
	}
	return 0
}

// rangeError is a result outside years 1..9999.
type rangeError struct{ what string }

func (e *rangeError) Error() string {
	return e.what + " is outside the supported years 0001..9999"
}

func checkDay(day int64, what func() string) error {
	if day < minDay || day > maxDay {
		return &rangeError{what()}
	}
	return nil
}

// make builds a value from its parts, checking each.
func makeValue(y, m, d, h, mi, s int64, hasTime bool) (value, error) {
	if y < minYear || y > maxYear {
		return value{}, fmt.Errorf("year %d is outside 1..9999", y)
	}
	if m < 1 || m > 12 {
		return value{}, fmt.Errorf("month %d is outside 1..12", m)
	}
	if n := daysIn(y, m); d < 1 || d > n {
		return value{}, fmt.Errorf("day %d is outside 1..%d for %04d-%02d", d, n, y, m)
	}
	if h < 0 || h > 23 {
		return value{}, fmt.Errorf("hour %d is outside 0..23", h)
	}
	if mi < 0 || mi > 59 {
		return value{}, fmt.Errorf("minute %d is outside 0..59", mi)
	}
	if s < 0 || s > 59 {
		return value{}, fmt.Errorf("second %d is outside 0..59", s)
	}
	return value{day: daysFromCivil(y, m, d), sec: h*3600 + mi*60 + s, hasTime: hasTime}, nil
}

// The shapes parse accepts, for messages.
const (
	shapeAll      = `"YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS" (UTC; or ISO 8601 "YYYY-MM-DDTHH:MM:SSZ")`
	shapeDatetime = `"YYYY-MM-DD HH:MM:SS" (UTC; or ISO 8601 "YYYY-MM-DDTHH:MM:SSZ")`
)

// quote shows a text in a message, cut to a readable length.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// parseError says which text was bad, why when it can, and the shape
// expected when the text does not have it.
type parseError struct {
	text   string
	noun   string // "date" or "datetime"
	why    string
	expect string // "" when the shape was right (a day out of range)
}

func (e *parseError) Error() string {
	msg := quote(e.text) + " is not a " + e.noun
	if e.why != "" {
		msg += ": " + e.why
	}
	if e.expect != "" {
		msg += "; expected " + e.expect
	}
	return msg
}

// parse reads a date ("2026-12-04"), an Odoo datetime ("2026-12-04
// 21:30:00", UTC) or an ISO 8601 datetime ("2026-12-04T21:30:00Z",
// "2026-12-04T22:30:00+01:00", "2026-12-04 21:30:00.123456+00" as
// PostgreSQL prints a timestamptz). A datetime without a zone is UTC; one
// with an offset is converted to UTC; a fraction of a second is dropped.
func parse(s string) (value, error) {
	if len(s) > MaxTextBytes {
		return value{}, &parseError{s, "date", fmt.Sprintf("%d bytes is longer than any date", len(s)), ""}
	}
	badShape := func() (value, error) { return value{}, &parseError{s, "date", "", shapeAll} }
	badTime := func(why string) (value, error) { return value{}, &parseError{s, "datetime", why, shapeDatetime} }
	p := scanner{s: s}
	y, ok1 := p.digits(4)
	ok2 := p.lit('-')
	m, ok3 := p.digits(2)
	ok4 := p.lit('-')
	d, ok5 := p.digits(2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return badShape()
	}
	if p.done() {
		v, err := makeValue(y, m, d, 0, 0, 0, false)
		if err != nil {
			return value{}, &parseError{s, "date", err.Error(), ""}
		}
		return v, nil
	}
	if !p.lit(' ') && !p.lit('T') && !p.lit('t') {
		return badShape()
	}
	h, ok1 := p.digits(2)
	ok2 = p.lit(':')
	mi, ok3 := p.digits(2)
	ok4 = p.lit(':')
	sec, ok5 := p.digits(2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return badTime("the time must be HH:MM:SS")
	}
	if p.lit('.') || p.lit(',') {
		n := 0
		for !p.done() && isDigit(p.s[p.i]) {
			p.i++
			n++
		}
		if n == 0 || n > 9 {
			return badTime("a fraction of a second has 1 to 9 digits")
		}
	}
	var offset int64
	switch {
	case p.done():
	case p.lit('Z') || p.lit('z'):
	case p.peek('+') || p.peek('-'):
		sign := int64(1)
		if p.lit('-') {
			sign = -1
		} else {
			p.lit('+')
		}
		oh, ok := p.digits(2)
		if !ok {
			return badTime("a zone offset is +HH, +HH:MM or +HHMM")
		}
		var om int64
		if !p.done() {
			p.lit(':')
			if om, ok = p.digits(2); !ok {
				return badTime("a zone offset is +HH, +HH:MM or +HHMM")
			}
		}
		if oh > 23 || om > 59 {
			return badTime("the zone offset is out of range")
		}
		offset = sign * (oh*3600 + om*60)
	}
	if !p.done() {
		return badTime("unexpected " + quote(p.s[p.i:]) + " after the time")
	}
	v, err := makeValue(y, m, d, h, mi, sec, true)
	if err != nil {
		return value{}, &parseError{s, "datetime", err.Error(), ""}
	}
	if offset != 0 {
		total := v.day*secondsPerDay + v.sec - offset
		v.day, v.sec = floorDiv(total, secondsPerDay), floorMod(total, secondsPerDay)
		if err := checkDay(v.day, func() string { return "in UTC it" }); err != nil {
			return value{}, &parseError{s, "datetime", err.Error(), ""}
		}
	}
	return v, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

type scanner struct {
	s string
	i int
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *scanner) done() bool { return p.i >= len(p.s) }

func (p *scanner) peek(c byte) bool { return p.i < len(p.s) && p.s[p.i] == c }

func (p *scanner) lit(c byte) bool {
	if p.peek(c) {
		p.i++
		return true
	}
	return false
}

// digits reads exactly n digits.
func (p *scanner) digits(n int) (int64, bool) {
	if p.i+n > len(p.s) {
		return 0, false
	}
	var v int64
	for k := 0; k < n; k++ {
		c := p.s[p.i+k]
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	p.i += n
	return v, true
}

// digitsUpTo reads 1 to n digits.
func (p *scanner) digitsUpTo(n int) (int64, bool) {
	var v int64
	k := 0
	for k < n && !p.done() && isDigit(p.s[p.i]) {
		v = v*10 + int64(p.s[p.i]-'0')
		p.i++
		k++
	}
	return v, k > 0
}

// parseLayout reads text written in layout: %Y (four digits), %m, %d, %H,
// %M, %S (one or two digits) and %% stand for themselves, any other byte
// must appear as is. The layout must hold %Y, %m and %d; with any of %H,
// %M, %S the result is a datetime (UTC).
func parseLayout(text, layout string) (value, error) {
	if len(layout) > MaxLayoutBytes {
		return value{}, fmt.Errorf("a layout of %d bytes is over the limit of %d", len(layout), MaxLayoutBytes)
	}
	if len(text) > MaxTextBytes {
		return value{}, fmt.Errorf("%s (%d bytes) is longer than any date", quote(text), len(text))
	}
	bad := func(why string) (value, error) {
		return value{}, fmt.Errorf("%s does not match the layout %s: %s", quote(text), strconv.Quote(layout), why)
	}
	var parts [6]int64 // Y m d H M S
	var seen [6]bool
	p := scanner{s: text}
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' {
			if !p.lit(c) {
				return bad(fmt.Sprintf("expected %q at byte %d", c, p.i+1))
			}
			continue
		}
		i++
		if i == len(layout) {
			return value{}, fmt.Errorf("the layout %s ends with a lone %%", strconv.Quote(layout))
		}
		k := strings.IndexByte("YmdHMS", layout[i])
		if layout[i] == '%' {
			if !p.lit('%') {
				return bad(fmt.Sprintf("expected '%%' at byte %d", p.i+1))
			}
			continue
		}
		if k < 0 {
			return value{}, fmt.Errorf("the layout %s has %%%c; date.parse knows %%Y %%m %%d %%H %%M %%S %%%%", strconv.Quote(layout), layout[i])
		}
		if seen[k] {
			return value{}, fmt.Errorf("the layout %s has %%%c twice", strconv.Quote(layout), layout[i])
		}
		var v int64
		var ok bool
		if k == 0 {
			v, ok = p.digits(4)
		} else {
			v, ok = p.digitsUpTo(2)
		}
		if !ok {
			names := [...]string{"a four-digit year", "a month", "a day", "an hour", "minutes", "seconds"}
			return bad(fmt.Sprintf("expected %s at byte %d", names[k], p.i+1))
		}
		parts[k], seen[k] = v, true
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return value{}, fmt.Errorf("the layout %s must hold %%Y, %%m and %%d", strconv.Quote(layout))
	}
	if !p.done() {
		return bad("unexpected " + quote(text[p.i:]) + " at the end")
	}
	v, err := makeValue(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], seen[3] || seen[4] || seen[5])
	if err != nil {
		return bad(err.Error())
	}
	return v, nil
}

// format writes v in layout: %Y %m %d %H %M %S (zero-padded), %y (two-digit
// year), %j (day of the year, three digits), %u (ISO weekday, 1 = Monday),
// %F (%Y-%m-%d), %T (%H:%M:%S) and %%. Any other directive is an error: no
// names of months or days, which would depend on a language.
func format(v value, layout string) (string, error) {
	if len(layout) > MaxLayoutBytes {
		return "", fmt.Errorf("a layout of %d bytes is over the limit of %d", len(layout), MaxLayoutBytes)
	}
	y, m, d := v.ymd()
	h, mi, s := v.hms()
	var b strings.Builder
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(layout) {
			return "", fmt.Errorf("the layout %s ends with a lone %%", strconv.Quote(layout))
		}
		switch layout[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", y)
		case 'y':
			fmt.Fprintf(&b, "%02d", y%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", m)
		case 'd':
			fmt.Fprintf(&b, "%02d", d)
		case 'H':
			fmt.Fprintf(&b, "%02d", h)
		case 'M':
			fmt.Fprintf(&b, "%02d", mi)
		case 'S':
			fmt.Fprintf(&b, "%02d", s)
		case 'j':
			fmt.Fprintf(&b, "%03d", v.yearDay())
		case 'u':
			fmt.Fprintf(&b, "%d", v.weekday())
		case 'F':
			fmt.Fprintf(&b, "%04d-%02d-%02d", y, m, d)
		case 'T':
			fmt.Fprintf(&b, "%02d:%02d:%02d", h, mi, s)
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("the layout %s has %%%c; date.format knows %%Y %%y %%m %%d %%H %%M %%S %%j %%u %%F %%T %%%%", strconv.Quote(layout), layout[i])
		}
	}
	return b.String(), nil
}

// Bounds of the counts added: past them any result is outside 1..9999.
const (
	maxAddDays   = 3652058 // maxDay - minDay
	maxAddMonths = 12 * 9999
	maxAddYears  = 9999
)

func addDays(v value, n int64) (value, error) {
	if n < -maxAddDays || n > maxAddDays {
		return value{}, &rangeError{fmt.Sprintf("%s %+d days", v, n)}
	}
	out := v
	out.day += n
	if err := checkDay(out.day, func() string { return fmt.Sprintf("%s %+d days", v, n) }); err != nil {
		return value{}, err
	}
	return out, nil
}

// addMonths moves v by n months, keeping its day unless the month is
// shorter: then the month's last day (Jan 31 + 1 month = Feb 28 or 29).
func addMonths(v value, n int64, unit string, count int64) (value, error) {
	what := func() string { return fmt.Sprintf("%s %+d %s", v, count, unit) }
	if n < -maxAddMonths || n > maxAddMonths {
		return value{}, &rangeError{what()}
	}
	y, m, d := v.ymd()
	months := y*12 + (m - 1) + n
	ny, nm := floorDiv(months, 12), floorMod(months, 12)+1
	if ny < minYear || ny > maxYear {
		return value{}, &rangeError{what()}
	}
	if last := daysIn(ny, nm); d > last {
		d = last
	}
	out := v
	out.day = daysFromCivil(ny, nm, d)
	return out, nil
}

// The periods v falls in: their first and last days, as dates.
func startOfMonth(v value) value {
	y, m, _ := v.ymd()
	return value{day: daysFromCivil(y, m, 1)}
}

func endOfMonth(v value) value {
	y, m, _ := v.ymd()
	return value{day: daysFromCivil(y, m, daysIn(y, m))}
}

func quarter(v value) int64 {
	_, m, _ := v.ymd()
	return (m-1)/3 + 1
}

func startOfQuarter(v value) value {
	y, _, _ := v.ymd()
	return value{day: daysFromCivil(y, (quarter(v)-1)*3+1, 1)}
}

func endOfQuarter(v value) value {
	y, _, _ := v.ymd()
	m := quarter(v) * 3
	return value{day: daysFromCivil(y, m, daysIn(y, m))}
}

func startOfYear(v value) value {
	y, _, _ := v.ymd()
	return value{day: daysFromCivil(y, 1, 1)}
}

func endOfYear(v value) value {
	y, _, _ := v.ymd()
	return value{day: daysFromCivil(y, 12, 31)}
}
