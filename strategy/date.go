package strategy

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PartialDate is a date as strategy documents give it: a whole day
// ("2012-12-03"), a month ("2012-12"), a year ("2012", "2012-xx-xx") or
// nothing known (the zero PartialDate, written "unknown" or left out).
// Month and Day are 0 when not known.
type PartialDate struct {
	Year, Month, Day int
}

// Known reports whether anything of the date is known.
func (d PartialDate) Known() bool { return d.Year != 0 }

// Precision is "day", "month", "year" or "unknown".
func (d PartialDate) Precision() string {
	switch {
	case d.Year == 0:
		return "unknown"
	case d.Month == 0:
		return "year"
	case d.Day == 0:
		return "month"
	}
	return "day"
}

// String is the machine form: "2012-12-03", "2012-12", "2012", or "" when
// unknown.
func (d PartialDate) String() string {
	switch d.Precision() {
	case "day":
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
	case "month":
		return fmt.Sprintf("%04d-%02d", d.Year, d.Month)
	case "year":
		return strconv.Itoa(d.Year)
	}
	return ""
}

// Label is the human form in lang: "3 december 2012", "december 2012",
// "2012", "okänt" / "unknown".
func (d PartialDate) Label(lang string) string {
	en := lang == "en"
	month := func() string {
		if en {
			return time.Month(d.Month).String()
		}
		return monthsSV[d.Month-1]
	}
	switch d.Precision() {
	case "day":
		return fmt.Sprintf("%d %s %d", d.Day, month(), d.Year)
	case "month":
		return fmt.Sprintf("%s %d", month(), d.Year)
	case "year":
		return strconv.Itoa(d.Year)
	}
	if en {
		return "unknown"
	}
	return "okänt"
}

// First is the first day the date can mean (midnight UTC), zero when
// unknown.
func (d PartialDate) First() time.Time {
	if !d.Known() {
		return time.Time{}
	}
	return time.Date(d.Year, time.Month(max(d.Month, 1)), max(d.Day, 1), 0, 0, 0, 0, time.UTC)
}

// Last is the last day the date can mean (midnight UTC): 2012 → 2012-12-31,
// 2012-02 → 2012-02-29. Zero when unknown.
func (d PartialDate) Last() time.Time {
	switch d.Precision() {
	case "day":
		return d.First()
	case "month":
		return d.First().AddDate(0, 1, -1)
	case "year":
		return time.Date(d.Year, time.December, 31, 0, 0, 0, 0, time.UTC)
	}
	return time.Time{}
}

// Time returns the date as a day when the whole day is known.
func (d PartialDate) Time() (time.Time, bool) {
	if d.Precision() != "day" {
		return time.Time{}, false
	}
	return d.First(), true
}

// DateOf is the PartialDate of a whole day t (the zero time is unknown).
func DateOf(t time.Time) PartialDate {
	if t.IsZero() {
		return PartialDate{}
	}
	return PartialDate{Year: t.Year(), Month: int(t.Month()), Day: t.Day()}
}

// MarshalJSON writes the machine form, or null when unknown.
func (d PartialDate) MarshalJSON() ([]byte, error) {
	if !d.Known() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *PartialDate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = PartialDate{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	p, err := ParsePartialDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// ParsePartialDate reads "2012-12-03", "2012-12", "2012", "2012-xx-xx",
// "2012-12-xx", and "unknown" / "okänt" (or "") for nothing known.
func ParsePartialDate(s string) (PartialDate, error) {
	in := s
	s = strings.ToLower(strings.TrimSpace(s))
	fail := func() (PartialDate, error) {
		return PartialDate{}, fmt.Errorf("invalid date %q (want YYYY-MM-DD, YYYY-MM, YYYY, YYYY-xx-xx or unknown)", in)
	}
	switch s {
	case "", "unknown", "okänt", "okand", "okänd", "xxxx-xx-xx":
		return PartialDate{}, nil
	}
	parts := strings.Split(s, "-")
	if len(parts) > 3 || len(parts[0]) != 4 {
		return fail()
	}
	y, err := strconv.Atoi(parts[0])
	if err != nil || y < 1900 || y > 9999 {
		return fail()
	}
	d := PartialDate{Year: y}
	unknown := func(p string) bool { return p == "xx" || p == "??" }
	if len(parts) >= 2 && !unknown(parts[1]) {
		m, err := strconv.Atoi(parts[1])
		if err != nil || len(parts[1]) != 2 || m < 1 || m > 12 {
			return fail()
		}
		d.Month = m
	}
	if len(parts) == 3 && !unknown(parts[2]) {
		if d.Month == 0 {
			return fail() // a day without a month
		}
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return fail()
		}
		d.Day, _ = strconv.Atoi(parts[2])
	}
	return d, nil
}

// AdoptionDate is when the strategy was adopted, as far as it is known.
func (s *Strategy) AdoptionDate() PartialDate {
	if s.AdoptedOn.Known() {
		return s.AdoptedOn
	}
	return DateOf(s.Adopted)
}

// MarshalJSON writes the strategy with its adoption date as far as it is
// known ("2012", "2012-12", "2012-12-03") or null, never the zero time.
func (s Strategy) MarshalJSON() ([]byte, error) {
	type plain Strategy
	return json.Marshal(struct {
		plain
		Adopted PartialDate `json:"adopted"`
	}{plain(s), s.AdoptionDate()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Strategy) UnmarshalJSON(b []byte) error {
	type plain Strategy
	v := struct {
		*plain
		Adopted PartialDate `json:"adopted"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	s.AdoptedOn = v.Adopted
	s.Adopted, _ = v.Adopted.Time()
	return nil
}
