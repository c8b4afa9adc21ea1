package progress

import (
	"math"
	"testing"

	"github.com/malbild/malbild/strategy"
)

func TestSeriesOf(t *testing.T) {
	dept := strategy.Dimension{Kind: "department", Value: "Socialförvaltningen"}
	o := func(p strategy.Period, v float64, version uint64) strategy.Observation {
		return strategy.Observation{Period: p, Value: v, Version: version}
	}
	later := o(month(2025, 3), 33, 2)
	later.Recorded = d(2025, 4, 2)
	earlier := o(month(2025, 3), 31, 2)
	earlier.Recorded = d(2025, 4, 1)
	byDept := o(month(2025, 2), 99, 9)
	byDept.Dimension = dept
	s := SeriesOf([]strategy.Observation{
		o(month(2025, 3), 30, 1), later, earlier, // version 2 wins, then the later recording
		o(month(2025, 1), 10, 1),
		byDept, o(month(2025, 2), 20, 1), // department rows do not count
		o(month(2025, 4), math.NaN(), 1), o(month(2025, 5), math.Inf(1), 1), // not numbers
		o(strategy.Period{Kind: strategy.Month, Year: 2025, N: 13}, 1, 1), // not a period
		o(year(2024), 5, 1), o(tertial(2025, 1), 7, 1), // fewer than the months
	})
	want := []struct {
		p strategy.Period
		v float64
	}{{month(2025, 1), 10}, {month(2025, 2), 20}, {month(2025, 3), 33}}
	if len(s) != len(want) {
		t.Fatalf("%d points: %+v", len(s), s)
	}
	for i, w := range want {
		if s[i].Period != w.p || s[i].Value != w.v || !s[i].Date.Equal(LastDay(w.p)) {
			t.Errorf("point %d: %v %v %v, want %v %v", i, s[i].Period, s[i].Value, s[i].Date, w.p, w.v)
		}
	}
	// The kind with most periods wins; on a tie the finer one.
	s = SeriesOf([]strategy.Observation{o(year(2023), 1, 1), o(year(2024), 2, 1), o(tertial(2025, 1), 3, 1)})
	if len(s) != 2 || s[0].Period.Kind != strategy.Year {
		t.Errorf("years: %+v", s)
	}
	s = SeriesOf([]strategy.Observation{o(year(2024), 2, 1), o(tertial(2025, 1), 3, 1)})
	if len(s) != 1 || s[0].Period.Kind != strategy.Tertial {
		t.Errorf("tie: %+v", s)
	}
	if s := SeriesOf([]strategy.Observation{byDept}); s != nil {
		t.Errorf("only a department row: %+v", s)
	}
}

func TestSeriesCuts(t *testing.T) {
	s := series([]strategy.Period{year(2023), year(2024), year(2025)}, 1, 2, 3)
	if got := s.KnownAt(d(2025, 1, 1)); len(got) != 2 {
		t.Errorf("KnownAt(2025-01-01) = %d points", len(got))
	}
	if got := s.KnownAt(d(2025, 1, 1).Add(1)); len(got) != 3 {
		t.Errorf("KnownAt just after = %d points", len(got))
	}
	if got := s.Through(tertial(2025, 2)); len(got) != 2 {
		t.Errorf("Through(T2 2025) = %d points", len(got))
	}
	if got := s.Through(year(2025)); len(got) != 3 {
		t.Errorf("Through(2025) = %d points", len(got))
	}
	if p, ok := s.On(d(2024, 6, 1)); !ok || p.Period != year(2024) {
		t.Errorf("On(2024-06-01) = %v", p.Period)
	}
	if _, ok := s.On(d(2022, 12, 31)); ok {
		t.Error("On before the first period")
	}
	if _, ok := Series(nil).Latest(); ok {
		t.Error("Latest of nothing")
	}
	// Points built by hand (zero start/end) cut the same way.
	hand := Series{{Period: year(2023), Value: 1}, {Period: year(2024), Value: 2}}
	if got := hand.KnownAt(d(2024, 1, 1)); len(got) != 1 {
		t.Errorf("hand-built KnownAt = %d", len(got))
	}
	if got := hand.Through(year(2023)); len(got) != 1 {
		t.Errorf("hand-built Through = %d", len(got))
	}
}

func TestNewPointBounds(t *testing.T) {
	for _, k := range []strategy.PeriodKind{strategy.Month, strategy.Quarter, strategy.Tertial, strategy.Year} {
		for p := range Periods(k, d(2023, 1, 1), d(2025, 12, 31)) {
			pt := NewPoint(p, 1)
			if !pt.Date.Equal(LastDay(p)) || !pt.begin().Equal(p.Start()) || !pt.finish().Equal(p.End()) {
				t.Errorf("%v: %v %v %v", p, pt.Date, pt.begin(), pt.finish())
			}
		}
	}
}
