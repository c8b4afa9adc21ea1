package strategy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Calendar lengths used by ParseDuration. A month is 31 days and a year
// 366 days: the longest each can be, so that a value exactly "one month"
// or "one year" old is never counted as stale a day too early.
const (
	durDay   = 24 * time.Hour
	durWeek  = 7 * durDay
	durMonth = 31 * durDay
	durYear  = 366 * durDay
)

var durationUnits = []struct {
	suffix string
	d      time.Duration
}{
	{"mo", durMonth},
	{"h", time.Hour},
	{"d", durDay},
	{"w", durWeek},
	{"y", durYear},
}

// ParseDuration reads a freshness duration: one or more whole numbers each
// followed by a unit — h (hours), d (days), w (weeks), mo (months of 31
// days) or y (years of 366 days) — e.g. "90d", "6w", "13mo", "1y",
// "1y6mo". Zero and negative durations are rejected.
func ParseDuration(s string) (time.Duration, error) {
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid duration %q (want e.g. 90d, 6w, 13mo or 1y)", in)
		}
		n, err := strconv.Atoi(s[:i])
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("invalid duration %q: number too large", in)
		}
		s = s[i:]
		var unit time.Duration
		for _, u := range durationUnits {
			if strings.HasPrefix(s, u.suffix) {
				unit = u.d
				s = s[len(u.suffix):]
				break
			}
		}
		if unit == 0 {
			if s == "" {
				return 0, fmt.Errorf("invalid duration %q: missing unit (use h, d, w, mo or y)", in)
			}
			return 0, fmt.Errorf("invalid duration %q: unknown unit (use h, d, w, mo or y)", in)
		}
		total += time.Duration(n) * unit
	}
	if total <= 0 {
		return 0, fmt.Errorf("invalid duration %q: must be longer than zero", in)
	}
	return total, nil
}

// FormatDuration writes d in the largest ParseDuration unit that divides
// it exactly ("13mo", "90d", "12h"); it is the inverse of ParseDuration
// for single-unit values.
func FormatDuration(d time.Duration) string {
	for _, u := range []struct {
		suffix string
		d      time.Duration
	}{{"y", durYear}, {"mo", durMonth}, {"w", durWeek}, {"d", durDay}, {"h", time.Hour}} {
		if d > 0 && d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.suffix
		}
	}
	return d.String()
}
