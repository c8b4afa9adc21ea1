package progress

import (
	"math"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

func TestResolveTarget(t *testing.T) {
	for _, c := range []struct {
		spec     string
		baseline float64
		want     float64
	}{
		{"80", 50, 80},
		{" 80 ", 50, 80},
		{"1 600 000", 0, 1600000},
		{"1\u00a0600\u00a0000", 0, 1600000},
		{"1_600_000", 0, 1600000},
		{"12,5", 0, 12.5},
		{"0.5", 0, 0.5},
		{"1e3", 0, 1000},
		{"+30", 50, 80},
		{"-5", 20, 15},
		{"\u22125", 20, 15},
		{"-30%", 10, 7},
		{"-30 %", 42, 29.4},
		{"\u221230 %", 42, 29.4},
		{"+10%", 50, 55},
		{"-50%", -8, -4},
		{"halve", 1600000, 800000},
		{"HALVE", 3, 1.5},
		{"double", 3, 6},
		{"-100%", 7, 0},
	} {
		got, err := ResolveTarget(c.spec, c.baseline)
		if err != nil || got != c.want {
			t.Errorf("ResolveTarget(%q, %v) = %v, %v; want %v", c.spec, c.baseline, got, err, c.want)
		}
	}
	for _, spec := range []string{"", "  ", "80%", "80 %", "%", "+%", "abc", "1.2.3", "+-3", "--3", "0x10", "NaN", "Inf", "1e400", "12,5,0", "halv"} {
		if v, err := ResolveTarget(spec, 10); err == nil {
			t.Errorf("ResolveTarget(%q) = %v, want an error", spec, v)
		}
	}
	if _, err := ResolveTarget("+30", math.NaN()); err == nil {
		t.Error("NaN baseline accepted")
	}
	if _, err := ResolveTarget("double", math.MaxFloat64); err == nil {
		t.Error("overflow accepted")
	}
}

func TestPathLines(t *testing.T) {
	// 2021 and 2022 have 365 days each: 2022-01-01 is exactly halfway.
	ind := indicator(strategy.Increase, d(2021, 1, 1), 40, 0,
		horizon(d(2023, 1, 1), 80, 3), horizon(d(2025, 1, 1), 100, 5))
	p := Path(ind)
	for _, c := range []struct {
		at   time.Time
		want float64
		ok   bool
	}{
		{d(2020, 12, 31), 0, false},
		{d(2021, 1, 1), 40, true},
		{d(2022, 1, 1), 60, true},
		{d(2023, 1, 1), 80, true},
		{d(2024, 1, 1), 90, true}, // 2023 has 365 days, 2024 366: not quite half
		{d(2025, 1, 1), 100, true},
		{d(2040, 6, 1), 100, true},
	} {
		got, ok := p.At(c.at)
		if ok != c.ok || (ok && !near(got, c.want, 0.15)) || (ok && c.at.Day() == 1 && c.at.Year() != 2024 && got != c.want) {
			t.Errorf("At(%v) = %v, %v; want %v, %v", c.at.Format("2006-01-02"), got, ok, c.want, c.ok)
		}
	}
	if got, _ := p.At(d(2024, 1, 1)); got != 80+20*365.0/731 {
		t.Errorf("At(2024-01-01) = %v, want %v", got, 80+20*365.0/731)
	}
	if s, ok := p.Start(); !ok || !s.Equal(d(2021, 1, 1)) {
		t.Errorf("Start = %v, %v", s, ok)
	}
	knots := p.Knots(time.Time{})
	if len(knots) != 3 || knots[0].Kind != "baseline" || knots[1].Value != 80 || knots[2].Target.Years != 5 {
		t.Errorf("Knots = %+v", knots)
	}
}

func TestPathWithoutBaselineOrTargets(t *testing.T) {
	p := Path(indicator(strategy.Increase, time.Time{}, 0, 0, horizon(d(2023, 1, 1), 80, 0), horizon(d(2025, 1, 1), 100, 0)))
	if _, ok := p.At(d(2022, 12, 31)); ok {
		t.Error("defined before the first target without a baseline")
	}
	if v, ok := p.At(d(2023, 1, 1)); !ok || v != 80 {
		t.Errorf("At(first target) = %v, %v", v, ok)
	}
	if v, _ := p.At(d(2024, 1, 1)); !near(v, 80+20*365.0/731, 1e-12) {
		t.Errorf("between targets = %v", v)
	}
	empty := Path(indicator(strategy.Increase, d(2021, 1, 1), 40, 0))
	if empty.Defined() {
		t.Error("a path without targets is defined")
	}
	if _, ok := empty.At(d(2022, 1, 1)); ok {
		t.Error("At defined without targets")
	}
	if len(empty.Knots(time.Time{})) != 0 {
		t.Error("knots without targets")
	}
	if Path(nil).Defined() {
		t.Error("nil indicator")
	}
	// A target on or before the baseline date is not on the path but is
	// still a horizon target.
	p = Path(indicator(strategy.Increase, d(2021, 1, 1), 40, 0, horizon(d(2020, 1, 1), 10, 0), horizon(d(2023, 1, 1), 80, 0)))
	if v, _ := p.At(d(2022, 1, 1)); v != 60 {
		t.Errorf("path with an early target = %v, want 60", v)
	}
	if h := p.Horizon(time.Time{}); len(h) != 2 {
		t.Errorf("Horizon = %v", h)
	}
}

func TestPathYearlyTargetChangedMidYear(t *testing.T) {
	// Yearly target for 2025: 70 decided in December 2024, raised to 75 on
	// 15 June 2025. Baseline 60 on 2024-12-31.
	ind := indicator(strategy.Increase, d(2024, 12, 31), 60, 0,
		yearly(2025, 75, d(2025, 6, 15)), yearly(2025, 70, d(2024, 12, 1)))
	p := Path(ind)
	for _, c := range []struct {
		asOf time.Time
		at   time.Time
		want float64
	}{
		{d(2025, 6, 14), d(2025, 3, 31), 60 + 10*90.0/365}, // evaluated before the change: aimed at 70
		{d(2025, 6, 14), d(2025, 12, 31), 70},
		{d(2025, 6, 15), d(2025, 3, 31), 60 + 15*90.0/365}, // from the decision on: aimed at 75
		{d(2025, 6, 15), d(2025, 9, 30), 60 + 15*273.0/365},
		{d(2025, 6, 15), d(2026, 6, 1), 75},
		{time.Time{}, d(2025, 12, 31), 75},   // no limit: the latest version
		{d(2024, 6, 1), d(2025, 12, 31), 70}, // nothing decided yet: the earliest version
	} {
		if got, _ := p.AsOf(c.asOf).At(c.at); !near(got, c.want, 1e-9) {
			t.Errorf("AsOf(%s).At(%s) = %v, want %v", c.asOf.Format("2006-01-02"), c.at.Format("2006-01-02"), got, c.want)
		}
	}
	for _, c := range []struct {
		at   time.Time
		want float64
	}{{d(2025, 5, 1), 70}, {d(2025, 9, 1), 75}, {d(2026, 1, 1), 75}, {d(2024, 1, 1), 70}, {time.Time{}, 75}} {
		if got, ok := p.YearlyTarget(2025, c.at); !ok || got.Value != c.want {
			t.Errorf("YearlyTarget(2025, %s) = %v, %v; want %v", c.at.Format("2006-01-02"), got.Value, ok, c.want)
		}
		if got, _ := p.AsOf(d(2025, 5, 1)).YearlyTarget(2025, c.at); got.Value != 70 {
			t.Errorf("AsOf(May).YearlyTarget(2025, %s) = %v, want 70", c.at.Format("2006-01-02"), got.Value)
		}
	}
	if _, ok := p.YearlyTarget(2026, d(2026, 5, 1)); ok {
		t.Error("YearlyTarget for a year without one")
	}
	knots := p.AsOf(d(2025, 6, 1)).Knots(time.Time{})
	if len(knots) != 2 || knots[1].Value != 70 || knots[1].Kind != "yearly" {
		t.Errorf("knots %+v", knots)
	}
	if knots := p.Knots(d(2025, 7, 1)); knots[1].Value != 75 {
		t.Errorf("knots in July %+v", knots)
	}
}

func TestPathHorizonAndYearlySameDay(t *testing.T) {
	p := Path(indicator(strategy.Increase, d(2024, 12, 31), 50, 0,
		yearly(2027, 78, time.Time{}), horizon(d(2027, 12, 31), 80, 3)))
	if v, _ := p.At(d(2027, 12, 31)); v != 80 {
		t.Errorf("path goes through %v, want the horizon target 80", v)
	}
	if y, _ := p.YearlyTarget(2027, time.Time{}); y.Value != 78 {
		t.Errorf("yearly target %v", y.Value)
	}
	if f, _ := p.Final(time.Time{}); f.Value != 80 {
		t.Errorf("final %v", f.Value)
	}
}

// Property: the path passes through every target exactly at its date, and
// between targets it stays between its neighbours.
func TestPathPassesThroughTargets(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for iter := range 500 {
		base := d(2015+rng.Intn(5), time.Month(1+rng.Intn(12)), 1+rng.Intn(28))
		n := 1 + rng.Intn(5)
		var targets []strategy.Target
		used := map[time.Time]bool{}
		for len(targets) < n {
			td := base.AddDate(0, 0, 1+rng.Intn(4000))
			if used[td] {
				continue
			}
			used[td] = true
			k := strategy.TargetHorizon
			if rng.Intn(2) == 0 {
				k = strategy.TargetYearly
			}
			targets = append(targets, strategy.Target{Date: td, Value: rng.NormFloat64() * 1000, Kind: k})
		}
		withBase := rng.Intn(3) > 0
		var ind *strategy.Indicator
		if withBase {
			ind = indicator(strategy.Increase, base, rng.NormFloat64()*1000, 0, targets...)
		} else {
			ind = indicator(strategy.Increase, time.Time{}, 0, 0, targets...)
		}
		p := Path(ind)
		for _, tg := range targets {
			if v, ok := p.At(tg.Date); !ok || v != tg.Value {
				t.Fatalf("iteration %d: At(%v) = %v, %v; want %v", iter, tg.Date, v, ok, tg.Value)
			}
		}
		knots := p.Knots(time.Time{})
		if !slices.IsSortedFunc(knots, func(a, b Knot) int { return a.Date.Compare(b.Date) }) {
			t.Fatalf("iteration %d: knots out of order", iter)
		}
		for i := 1; i < len(knots); i++ {
			a, b := knots[i-1], knots[i]
			mid := a.Date.Add(b.Date.Sub(a.Date) / 3)
			v, _ := p.At(mid)
			lo, hi := math.Min(a.Value, b.Value), math.Max(a.Value, b.Value)
			if v < lo-1e-9 || v > hi+1e-9 {
				t.Fatalf("iteration %d: At(%v) = %v outside [%v, %v]", iter, mid, v, lo, hi)
			}
		}
	}
}
