package progress

import (
	"cmp"
	"slices"
	"sort"
	"time"

	"github.com/malbild/malbild/strategy"
)

// Point is one value of an indicator's total series.
type Point struct {
	Period strategy.Period `json:"period"`
	// Date is the period's last day (see LastDay): the day the value is
	// taken to describe when it is compared with targets.
	Date  time.Time `json:"date"`
	Value float64   `json:"value"`

	start, end time.Time
}

// Series is an indicator's total values, one per period, in period order.
type Series []Point

// kindRank orders period kinds from fine to coarse.
func kindRank(k strategy.PeriodKind) int {
	switch k {
	case strategy.Month:
		return 0
	case strategy.Quarter:
		return 1
	case strategy.Tertial:
		return 2
	case strategy.Year:
		return 3
	}
	return 4
}

// SeriesOf builds an indicator's series from its observations:
//   - only the total dimension counts (rows broken down by department,
//     case type, ... are ignored);
//   - observations with an invalid period or a value that is not a finite
//     number are ignored;
//   - per period the highest Version wins (then the latest Recorded);
//   - when an indicator has observations of several period kinds, only the
//     kind with the most periods is used (ties: the finer kind), so that
//     "previous period", trends and seasonality compare like with like.
func SeriesOf(obs []strategy.Observation) Series { return seriesOf(obs, nil) }

// bounds caches the instants of periods shared by many series.
type bounds map[strategy.Period]Point

func seriesOf(obs []strategy.Observation, cache bounds) Series {
	var counts [5]int
	for i := range obs {
		o := &obs[i]
		if o.Dimension.IsTotal() && isFinite(o.Value) && o.Period.Valid() {
			counts[kindRank(o.Period.Kind)]++
		}
	}
	best := -1
	for r := range 4 {
		if counts[r] > 0 && (best < 0 || counts[r] > counts[best]) {
			best = r
		}
	}
	if best < 0 {
		return nil
	}
	type row struct {
		key int
		o   *strategy.Observation
	}
	rows := make([]row, 0, counts[best])
	for i := range obs {
		o := &obs[i]
		if o.Dimension.IsTotal() && isFinite(o.Value) && o.Period.Valid() && kindRank(o.Period.Kind) == best {
			rows = append(rows, row{o.Period.Year*16 + o.Period.N, o})
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := cmp.Compare(b.o.Version, a.o.Version); c != 0 {
			return c
		}
		return b.o.Recorded.Compare(a.o.Recorded)
	})
	s := make(Series, 0, len(rows))
	for i, r := range rows {
		if i > 0 && rows[i-1].key == r.key {
			continue
		}
		p, ok := cache[r.o.Period]
		if !ok {
			p = NewPoint(r.o.Period, 0)
			if cache != nil {
				cache[r.o.Period] = p
			}
		}
		p.Value = r.o.Value
		s = append(s, p)
	}
	return s
}

// Latest is the last point; ok is false for an empty series.
func (s Series) Latest() (p Point, ok bool) {
	if len(s) == 0 {
		return Point{}, false
	}
	return s[len(s)-1], true
}

// KnownAt is the part of s whose periods had begun before t: what a
// dashboard looking at time t shows (including a running month's value).
func (s Series) KnownAt(t time.Time) Series {
	return s[:sort.Search(len(s), func(i int) bool { return !s[i].begin().Before(t) })]
}

// Through is the part of s whose periods end no later than p does: the
// values a report for p may use. A yearly value for 2025 is not used for
// T1 2025.
func (s Series) Through(p strategy.Period) Series {
	end := p.End()
	return s[:sort.Search(len(s), func(i int) bool { return s[i].finish().After(end) })]
}

// On is the value that describes date t: the last point whose period began
// on or before t. ok is false when there is none.
func (s Series) On(t time.Time) (p Point, ok bool) {
	i := sort.Search(len(s), func(i int) bool { return s[i].begin().After(t) })
	if i == 0 {
		return Point{}, false
	}
	return s[i-1], true
}

// NewPoint is the point of value v for period p.
func NewPoint(p strategy.Period, v float64) Point {
	start := p.Start()
	y, m, _ := start.Date()
	n := 12 / max(perYear(p.Kind), 1)
	end := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, strategy.Stockholm)
	last := time.Date(y, m+time.Month(n), 0, 0, 0, 0, 0, strategy.Stockholm)
	return Point{Period: p, Date: last, Value: v, start: start, end: end}
}

// begin is the start of the point's period.
func (p Point) begin() time.Time {
	if p.start.IsZero() {
		return p.Period.Start()
	}
	return p.start
}

// finish is the end of the point's period (the first instant after it).
func (p Point) finish() time.Time {
	if p.end.IsZero() {
		return p.Period.End()
	}
	return p.end
}
