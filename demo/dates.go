package demo

import (
	"time"

	"github.com/malbild/malbild/strategy"
)

// Civil-date arithmetic on day numbers (days since 1970-01-01), so the hot
// loops format dates without time.Time. The algorithms are Howard
// Hinnant's days_from_civil and civil_from_days.

func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
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

// weekday of a day number: 0 = Sunday.
func weekday(day int) int { return ((day+4)%7 + 7) % 7 }

// dayNumber is the day number of t's calendar date in Stockholm.
func dayNumber(t time.Time) int {
	t = t.In(strategy.Stockholm)
	return daysFromCivil(t.Year(), int(t.Month()), t.Day())
}

// dayTime is the start of day number day in Stockholm.
func dayTime(day int) time.Time {
	y, m, d := civilFromDays(day)
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, strategy.Stockholm)
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// appendDate appends YYYY-MM-DD.
func appendDate(b []byte, y, m, d int) []byte {
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+m/10), byte('0'+m%10), '-')
	return append(b, byte('0'+d/10), byte('0'+d%10))
}

// appendClock appends HH:MM for a minute of the day.
func appendClock(b []byte, minute int) []byte {
	h, mi := minute/60, minute%60
	return append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10))
}

// monthStart is the first instant of a month in Stockholm.
func monthStart(y int, m time.Month) time.Time {
	return time.Date(y, m, 1, 0, 0, 0, 0, strategy.Stockholm)
}
