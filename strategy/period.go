package strategy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Stockholm must resolve on machines without tzdata
)

// Stockholm is the time zone periods are defined in.
var Stockholm = mustLoad("Europe/Stockholm")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// PeriodKind is the length of a reporting period.
type PeriodKind string

const (
	Month    PeriodKind = "month"
	Quarter  PeriodKind = "quarter"
	HalfYear PeriodKind = "half_year" // H1 Jan–Jun (delår), H2 Jul–Dec
	Tertial  PeriodKind = "tertial"   // T1 Jan–Apr, T2 May–Aug, T3 Sep–Dec
	Year     PeriodKind = "year"
)

// months returns the length of a period of kind k in months.
func (k PeriodKind) months() int {
	switch k {
	case Month:
		return 1
	case Quarter:
		return 3
	case Tertial:
		return 4
	case HalfYear:
		return 6
	case Year:
		return 12
	}
	return 0
}

// Valid reports whether k is a known period kind.
func (k PeriodKind) Valid() bool { return k.months() > 0 }

// Period is a calendar period in Europe/Stockholm time. N is the month
// (1–12), quarter (1–4), tertial (1–3) or half year (1–2) within Year; 0
// for a whole year.
type Period struct {
	Kind PeriodKind `json:"kind"`
	Year int        `json:"year"`
	N    int        `json:"n,omitempty"`
}

// PeriodOf returns the period of kind k that contains t.
func PeriodOf(k PeriodKind, t time.Time) Period {
	t = t.In(Stockholm)
	m := int(t.Month())
	switch k {
	case Year:
		return Period{Kind: Year, Year: t.Year()}
	default:
		return Period{Kind: k, Year: t.Year(), N: (m-1)/k.months() + 1}
	}
}

// Start is the first instant of the period.
func (p Period) Start() time.Time {
	m := 1
	if p.Kind != Year {
		m = (p.N-1)*p.Kind.months() + 1
	}
	return time.Date(p.Year, time.Month(m), 1, 0, 0, 0, 0, Stockholm)
}

// End is the first instant after the period.
func (p Period) End() time.Time { return p.Start().AddDate(0, p.Kind.months(), 0) }

// Contains reports whether t lies within the period.
func (p Period) Contains(t time.Time) bool {
	return !t.Before(p.Start()) && t.Before(p.End())
}

// Next returns the period that follows p.
func (p Period) Next() Period { return PeriodOf(p.Kind, p.End()) }

// Prev returns the period before p.
func (p Period) Prev() Period { return PeriodOf(p.Kind, p.Start().Add(-time.Hour)) }

// Before reports whether p starts before q.
func (p Period) Before(q Period) bool { return p.Start().Before(q.Start()) }

// IsZero reports whether p is the zero Period.
func (p Period) IsZero() bool { return p.Kind == "" }

// Valid reports whether p names a real period.
func (p Period) Valid() bool {
	if !p.Kind.Valid() || p.Year < 1900 || p.Year > 9999 {
		return false
	}
	if p.Kind == Year {
		return p.N == 0
	}
	return p.N >= 1 && p.N <= 12/p.Kind.months()
}

// String is the machine form used in CSV and URLs: 2025, 2025-T2, 2025-Q3,
// 2025-H1, 2025-03.
func (p Period) String() string {
	switch p.Kind {
	case Year:
		return strconv.Itoa(p.Year)
	case Quarter:
		return fmt.Sprintf("%d-Q%d", p.Year, p.N)
	case Tertial:
		return fmt.Sprintf("%d-T%d", p.Year, p.N)
	case HalfYear:
		return fmt.Sprintf("%d-H%d", p.Year, p.N)
	case Month:
		return fmt.Sprintf("%d-%02d", p.Year, p.N)
	}
	return ""
}

var monthsSV = [...]string{"januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober", "november", "december"}

// Label is the human label in lang: "T2 2025", "Kv 3 2025" / "Q3 2025",
// "Helår 2025" / "Full year 2025", "Halvår 1 2025" / "H1 2025", "mars 2025"
// / "March 2025".
func (p Period) Label(lang string) string {
	en := lang == "en"
	switch p.Kind {
	case Year:
		if en {
			return fmt.Sprintf("Full year %d", p.Year)
		}
		return fmt.Sprintf("Helår %d", p.Year)
	case Quarter:
		if en {
			return fmt.Sprintf("Q%d %d", p.N, p.Year)
		}
		return fmt.Sprintf("Kv %d %d", p.N, p.Year)
	case Tertial:
		return fmt.Sprintf("T%d %d", p.N, p.Year)
	case HalfYear:
		if en {
			return fmt.Sprintf("H%d %d", p.N, p.Year)
		}
		return fmt.Sprintf("Halvår %d %d", p.N, p.Year)
	case Month:
		if en {
			return fmt.Sprintf("%s %d", time.Month(p.N), p.Year)
		}
		return fmt.Sprintf("%s %d", monthsSV[p.N-1], p.Year)
	}
	return ""
}

// MarshalText writes the machine form.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads any form ParsePeriod accepts.
func (p *Period) UnmarshalText(b []byte) error {
	q, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// ParsePeriod reads "2025", "2025-T2", "2025-Q3", "2025-03", and the labels
// Label writes ("T2 2025", "Kv 3 2025", "Q3 2025", "Helår 2025",
// "Full year 2025").
func ParsePeriod(s string) (Period, error) {
	in := s
	s = strings.TrimSpace(s)
	fail := func() (Period, error) {
		return Period{}, fmt.Errorf("invalid period %q (want e.g. 2025, 2025-T2, 2025-Q3 or 2025-03)", in)
	}
	lower := strings.ToLower(s)
	var p Period
	switch {
	case strings.HasPrefix(lower, "helår "), strings.HasPrefix(lower, "full year "):
		y, err := strconv.Atoi(strings.TrimSpace(s[strings.LastIndexByte(s, ' ')+1:]))
		if err != nil {
			return fail()
		}
		p = Period{Kind: Year, Year: y}
	case strings.HasPrefix(lower, "halvår "):
		f := strings.Fields(s)
		if len(f) != 3 {
			return fail()
		}
		n, err1 := strconv.Atoi(f[1])
		y, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			return fail()
		}
		p = Period{Kind: HalfYear, Year: y, N: n}
	case strings.HasPrefix(lower, "kv "):
		f := strings.Fields(s)
		if len(f) != 3 {
			return fail()
		}
		n, err1 := strconv.Atoi(f[1])
		y, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			return fail()
		}
		p = Period{Kind: Quarter, Year: y, N: n}
	case len(lower) > 3 && (lower[0] == 't' || lower[0] == 'q' || lower[0] == 'h') && strings.Contains(lower, " "):
		f := strings.Fields(s)
		if len(f) != 2 || len(f[0]) != 2 {
			return fail()
		}
		n, err1 := strconv.Atoi(f[0][1:])
		y, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			return fail()
		}
		p = Period{Kind: Tertial, Year: y, N: n}
		switch lower[0] {
		case 'q':
			p.Kind = Quarter
		case 'h':
			p.Kind = HalfYear
		}
	default:
		ys, rest, found := strings.Cut(s, "-")
		y, err := strconv.Atoi(ys)
		if err != nil || len(ys) != 4 {
			return fail()
		}
		if !found {
			p = Period{Kind: Year, Year: y}
			break
		}
		switch {
		case len(rest) == 2 && (rest[0] == 'T' || rest[0] == 't'):
			p.Kind = Tertial
			rest = rest[1:]
		case len(rest) == 2 && (rest[0] == 'Q' || rest[0] == 'q'):
			p.Kind = Quarter
			rest = rest[1:]
		case len(rest) == 2 && (rest[0] == 'H' || rest[0] == 'h'):
			p.Kind = HalfYear
			rest = rest[1:]
		case len(rest) == 2:
			p.Kind = Month
		default:
			return fail()
		}
		n, err := strconv.Atoi(rest)
		if err != nil {
			return fail()
		}
		p.Year, p.N = y, n
	}
	if !p.Valid() {
		return fail()
	}
	return p, nil
}
