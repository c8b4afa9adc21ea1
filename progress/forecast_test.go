package progress

import (
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

// line is a series over ps whose values lie exactly on
// a + b·(years since ref) — plus noise(i) — in the engine's calendar time.
func line(ps []strategy.Period, ref time.Time, a, b float64, noise func(i int) float64) Series {
	vs := make([]float64, len(ps))
	for i, p := range ps {
		x := (civil(LastDay(p)) - civil(ref)) / secondsPerYear
		vs[i] = a + b*x
		if noise != nil {
			vs[i] += noise(i)
		}
	}
	return series(ps, vs...)
}

func TestForecastExactLine(t *testing.T) {
	ind := indicator(strategy.Increase, d(2022, 12, 31), 40, 2,
		horizon(d(2027, 12, 31), 80, 3), horizon(d(2029, 12, 31), 95, 5))
	ref := d(2025, 12, 31)
	// 36 months up to December 2025 on 60 + 6·x: 6 a year, 60 at 2025-12-31.
	s := line(months(month(2023, 1), 36), ref, 60, 6, nil)
	f := ForecastAt(ind, Path(ind), s, d(2026, 1, 15))
	if !f.OK || f.Points != 24 || !f.To.Equal(ref) || !f.From.Equal(d(2024, 1, 31)) {
		t.Fatalf("fit %+v", f)
	}
	wantNear(t, "slope", f.Slope, 6, 1e-9)
	wantNear(t, "slope low", f.SlopeLow, 6, 1e-9)
	wantNear(t, "slope high", f.SlopeHigh, 6, 1e-9)
	wantNear(t, "level", f.Level, 60, 1e-9)
	if f.Seasonal || f.Outliers != 0 || f.ResidualLow != 0 || f.ResidualHigh != 0 {
		t.Errorf("seasonal %v outliers %d residuals %v %v", f.Seasonal, f.Outliers, f.ResidualLow, f.ResidualHigh)
	}
	// 2027-12-31 is 730 days on: 60 + 6·730/365.2425.
	three := f.ThreeYear
	if three == nil || three.Target.Years != 3 || three.Passed {
		t.Fatalf("three-year %+v", three)
	}
	want3 := 60 + 6*730*86400/secondsPerYear
	wantNear(t, "projected 3y", val(three.Projected), want3, 1e-9)
	wantNear(t, "low 3y", val(three.Low), want3, 1e-9)
	wantNear(t, "high 3y", val(three.High), want3, 1e-9)
	if three.Reaches || f.Reaches3Year { // 71.99 < 80
		t.Error("3-year target reached at 6 a year")
	}
	// 80 is reached 20/6 years after 2025-12-31.
	wantReach := fromCivil(civil(ref) + 20.0/6*secondsPerYear)
	if three.ReachDate == nil || !three.ReachDate.Equal(wantReach) {
		t.Errorf("reach date %v, want %v", three.ReachDate, wantReach)
	}
	five := f.FiveYear
	want5 := 60 + 6*1461*86400/secondsPerYear
	wantNear(t, "projected 5y", val(five.Projected), want5, 1e-9)
	if five.Reaches != (want5 >= 95) || f.Final != five {
		t.Errorf("five-year %+v", five)
	}
	// Percent: projections never pass 100.
	if v, lo, hi, _ := f.At(d(2040, 1, 1)); v != 100 || lo != 100 || hi != 100 {
		t.Errorf("clamped projection %v %v %v", v, lo, hi)
	}
	ind.Unit = strategy.UnitCount
	fc := ForecastAt(ind, Path(ind), s, d(2026, 1, 15))
	if v, _, _, _ := fc.At(d(2040, 1, 1)); v <= 100 {
		t.Errorf("count projection clamped: %v", v)
	}
}

func TestForecastOutlier(t *testing.T) {
	ind := indicator(strategy.Increase, d(2022, 12, 31), 40, 2, horizon(d(2027, 12, 31), 80, 3))
	ref := d(2025, 12, 31)
	s := line(months(month(2024, 1), 24), ref, 60, 6, func(i int) float64 {
		if i == 10 {
			return 1000
		}
		return 0
	})
	f := ForecastAt(ind, Path(ind), s, d(2026, 1, 15))
	wantNear(t, "slope", f.Slope, 6, 1e-9)
	wantNear(t, "level", f.Level, 60, 1e-9)
	if f.Outliers != 1 || f.Seasonal {
		t.Errorf("outliers %d, seasonal %v", f.Outliers, f.Seasonal)
	}
}

func TestForecastFlat(t *testing.T) {
	ind := indicator(strategy.Increase, d(2022, 12, 31), 40, 2, horizon(d(2027, 12, 31), 80, 3))
	s := series(years(2020, 2025), 50, 50, 50, 50, 50, 50)
	f := ForecastAt(ind, Path(ind), s, d(2026, 3, 1))
	if !f.OK || f.Slope != 0 || f.Level != 50 || f.Points != 6 {
		t.Fatalf("%+v", f)
	}
	tf := f.Final
	if tf.Reaches || tf.ReachDate != nil || val(tf.Projected) != 50 {
		t.Errorf("flat below target: %+v", tf)
	}
	// Flat at the target: already reached at the last value's date.
	ind.Targets = []strategy.Target{horizon(d(2027, 12, 31), 50, 3)}
	f = ForecastAt(ind, Path(ind), s, d(2026, 3, 1))
	if !f.Final.Reaches || f.Final.ReachDate == nil || !f.Final.ReachDate.Equal(d(2025, 12, 31)) {
		t.Errorf("flat at target: %+v", f.Final)
	}
}

func TestForecastTooFewPoints(t *testing.T) {
	ind := indicator(strategy.Increase, d(2022, 12, 31), 40, 2, horizon(d(2027, 12, 31), 80, 3))
	for n, s := range map[int]Series{0: nil, 1: series(years(2025, 2025), 50), 2: series(years(2024, 2025), 50, 60)} {
		f := ForecastAt(ind, Path(ind), s, d(2026, 3, 1))
		if f.OK || !strings.Contains(f.Reason.SV, "har "+string(rune('0'+n))) || !strings.Contains(f.Reason.EN, "At least 3") {
			t.Errorf("%d points: %+v", n, f)
		}
		if _, _, _, ok := f.At(d(2027, 1, 1)); ok {
			t.Errorf("%d points: projection without a trend", n)
		}
		if f.Final == nil || f.Final.Projected != nil || f.Final.Reaches || f.Reaches3Year {
			t.Errorf("%d points: final %+v", n, f.Final)
		}
	}
}

func TestForecastDecrease(t *testing.T) {
	// Handling time 100 days falling 5 a year; target 70 (−30 %).
	ind := indicator(strategy.Decrease, d(2022, 12, 31), 100, 2, horizon(d(2027, 12, 31), 70, 3), horizon(d(2029, 12, 31), 50, 5))
	ind.Unit = strategy.UnitDays
	ref := d(2025, 12, 31)
	s := line(years(2020, 2025), ref, 90, -5, nil)
	f := ForecastAt(ind, Path(ind), s, d(2026, 3, 1))
	wantNear(t, "slope", f.Slope, -5, 1e-9)
	// 80 at 2027-12-31: not 70.
	if f.Reaches3Year || f.ThreeYear.ReachDate == nil {
		t.Errorf("three-year %+v", f.ThreeYear)
	}
	wantReach := fromCivil(civil(ref) + 4*secondsPerYear)
	if !f.ThreeYear.ReachDate.Equal(wantReach) {
		t.Errorf("reach %v, want %v", f.ThreeYear.ReachDate, wantReach)
	}
	// Rising handling time never reaches a lower target.
	s = line(years(2020, 2025), ref, 90, 5, nil)
	f = ForecastAt(ind, Path(ind), s, d(2026, 3, 1))
	if f.ThreeYear.ReachDate != nil || f.Reaches3Year || f.Reaches5Year {
		t.Errorf("rising: %+v", f.ThreeYear)
	}
	// Falling fast enough: reached, and "reaches" for both.
	s = line(years(2020, 2025), ref, 90, -12, nil)
	f = ForecastAt(ind, Path(ind), s, d(2026, 3, 1))
	if !f.Reaches3Year || !f.Reaches5Year {
		t.Errorf("falling fast: 3y %v 5y %v", f.Reaches3Year, f.Reaches5Year)
	}
}

func TestForecastNotAtCurrentPace(t *testing.T) {
	ind := indicator(strategy.Increase, d(2022, 12, 31), 40, 2, horizon(d(2027, 12, 31), 1e6, 3))
	ind.Unit = strategy.UnitCount
	s := line(years(2020, 2025), d(2025, 12, 31), 60, 1, nil)
	if f := ForecastAt(ind, Path(ind), s, d(2026, 3, 1)); f.Final.ReachDate != nil {
		t.Errorf("a million years away: %v", f.Final.ReachDate)
	}
	// Percent targets beyond 100 are never reached.
	ind = indicator(strategy.Increase, d(2022, 12, 31), 40, 2, horizon(d(2027, 12, 31), 101, 3))
	if f := ForecastAt(ind, Path(ind), s, d(2026, 3, 1)); f.Final.ReachDate != nil || f.Final.Reaches {
		t.Errorf("101 %%: %+v", f.Final)
	}
}

func TestForecastPassedTargets(t *testing.T) {
	ind := indicator(strategy.Increase, d(2019, 12, 31), 40, 2,
		horizon(d(2022, 12, 31), 60, 3), horizon(d(2024, 12, 31), 80, 5), horizon(d(2028, 12, 31), 90, 0))
	s := series(years(2020, 2025), 45, 52, 61, 66, 75, 85)
	f := ForecastAt(ind, Path(ind), s, d(2026, 3, 1))
	three, five := f.ThreeYear, f.FiveYear
	if !three.Passed || three.Actual == nil || three.Actual.Period != year(2022) || three.MetAtDate == nil || !*three.MetAtDate || three.Estimated {
		t.Errorf("three %+v", three)
	}
	if !three.ReachDate.Equal(d(2022, 12, 31)) || !f.Reaches3Year {
		t.Errorf("three reached %v %v", three.ReachDate, f.Reaches3Year)
	}
	if !five.Passed || *five.MetAtDate || f.Reaches5Year || !five.ReachDate.Equal(d(2025, 12, 31)) {
		t.Errorf("five %+v", five)
	}
	if f.Final.Passed || f.Final.Target.Value != 90 {
		t.Errorf("final %+v", f.Final)
	}
	// A passed target whose period has no value is estimated from the trend.
	s = series([]strategy.Period{year(2020), year(2021), year(2023), year(2024), year(2025)}, 45, 52, 66, 75, 85)
	f = ForecastAt(ind, Path(ind), s, d(2026, 3, 1))
	if three := f.ThreeYear; three.Actual != nil || !three.Estimated || three.MetAtDate == nil {
		t.Errorf("estimated %+v", three)
	}
	// With too few values for a trend it falls back to the last earlier value.
	s = series([]strategy.Period{year(2020), year(2021)}, 45, 52)
	f = ForecastAt(ind, Path(ind), s, d(2026, 3, 1))
	if three := f.ThreeYear; !three.Estimated || three.MetAtDate == nil || *three.MetAtDate || f.OK {
		t.Errorf("fallback %+v", three)
	}
}

func TestForecastYearsFallback(t *testing.T) {
	ind := indicator(strategy.Increase, d(2022, 12, 31), 40, 2, horizon(d(2025, 12, 31), 60, 0), horizon(d(2027, 12, 31), 80, 0), horizon(d(2030, 12, 31), 90, 0))
	s := line(years(2020, 2025), d(2025, 12, 31), 60, 10, nil)
	f := ForecastAt(ind, Path(ind), s, d(2026, 3, 1))
	if f.ThreeYear != &f.Targets[0] || f.FiveYear != &f.Targets[1] {
		t.Error("without Years the first and second horizon targets count")
	}
	ind.Targets[2].Years = 5
	f = ForecastAt(ind, Path(ind), s, d(2026, 3, 1))
	if f.ThreeYear != nil || f.FiveYear != &f.Targets[2] || f.Reaches3Year {
		t.Error("with Years only exact matches count")
	}
	// Yearly targets only: no 3- or 5-year target.
	ind.Targets = []strategy.Target{yearly(2026, 70, time.Time{})}
	f = ForecastAt(ind, Path(ind), s, d(2026, 3, 1))
	if f.ThreeYear != nil || f.Final == nil || f.Final.Target.Kind != strategy.TargetYearly {
		t.Errorf("yearly only: %+v", f)
	}
}

func TestForecastSeasonal(t *testing.T) {
	ind := indicator(strategy.Increase, d(2021, 12, 31), 40, 2, horizon(d(2027, 12, 31), 95, 3))
	ind.Unit = strategy.UnitCount
	ref := d(2025, 12, 31)
	rng := rand.New(rand.NewSource(3))
	ps := months(month(2022, 1), 48)
	// 6 a year, a ±10 yearly wave peaking in March, and a little noise.
	wave := func(m int) float64 { return 10 * math.Sin(2*math.Pi*float64(m)/12) }
	s := line(ps, ref, 60, 6, func(i int) float64 { return wave(ps[i].N) + rng.NormFloat64()*0.3 })
	f := ForecastAt(ind, Path(ind), s, d(2026, 1, 15))
	if !f.Seasonal || f.SeasonalStrength < 0.9 || len(f.SeasonalFactors) != 12 {
		t.Fatalf("seasonal %v strength %v", f.Seasonal, f.SeasonalStrength)
	}
	for m := 1; m <= 12; m++ {
		wantNear(t, "factor "+time.Month(m).String(), f.SeasonalFactors[m-1], wave(m), 1)
	}
	wantNear(t, "slope", f.Slope, 6, 0.5)
	wantNear(t, "level", f.Level, 60, 0.5) // the deseasonalised level, not December's 60 + wave(12)
	if f.ResidualHigh-f.ResidualLow > 3 {
		t.Errorf("band %v–%v too wide after deseasonalising", f.ResidualLow, f.ResidualHigh)
	}
	// Without removing the pattern, the last 24 months would leave residuals
	// of ±10: the same data without enough history is not deseasonalised.
	f = ForecastAt(ind, Path(ind), s[len(s)-20:], d(2026, 1, 15))
	if f.Seasonal {
		t.Error("seasonal with 20 months")
	}
	// Noise without a pattern is not seasonal.
	s = line(ps, ref, 60, 6, func(int) float64 { return rng.NormFloat64() * 3 })
	if f := ForecastAt(ind, Path(ind), s, d(2026, 1, 15)); f.Seasonal {
		t.Errorf("noise seasonal (strength %v)", f.SeasonalStrength)
	}
	// Yearly data is never seasonal.
	if f := ForecastAt(ind, Path(ind), series(years(2015, 2025), 1, 9, 1, 9, 1, 9, 1, 9, 1, 9, 1), d(2026, 3, 1)); f.Seasonal {
		t.Error("yearly seasonal")
	}
}

func TestForecastBandContainsProjection(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for iter := range 300 {
		ind := randomIndicator(rng)
		n := 3 + rng.Intn(40)
		ps := months(month(2020, 1+rng.Intn(12)), n)
		slope := rng.NormFloat64() * 10
		s := line(ps, d(2020, 1, 1), rng.NormFloat64()*100, slope, func(int) float64 { return rng.NormFloat64() * 5 })
		at := ps[n-1].End()
		f := ForecastAt(ind, Path(ind), s, at)
		if !f.OK || f.SlopeLow > f.Slope || f.SlopeHigh < f.Slope {
			t.Fatalf("iteration %d: slope %v not in [%v, %v]", iter, f.Slope, f.SlopeLow, f.SlopeHigh)
		}
		for _, when := range []time.Time{at, at.AddDate(1, 0, 0), at.AddDate(5, 0, 0)} {
			v, lo, hi, _ := f.At(when)
			if lo > v || hi < v {
				t.Fatalf("iteration %d: %v not in [%v, %v]", iter, v, lo, hi)
			}
		}
	}
}

func TestNthAndMedian(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	for iter := range 2000 {
		n := 1 + rng.Intn(60)
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(rng.Intn(10)) // many ties
			if iter%2 == 0 {
				v[i] = rng.NormFloat64()
			}
		}
		sorted := append([]float64(nil), v...)
		slices.Sort(sorted)
		k := rng.Intn(n)
		if got := nth(append([]float64(nil), v...), k); got != sorted[k] {
			t.Fatalf("nth(%v, %d) = %v, want %v", v, k, got, sorted[k])
		}
		if got, want := median(append([]float64(nil), v...)), quantile(sorted, 0.5); !near(got, want, 1e-12) {
			t.Fatalf("median(%v) = %v, want %v", v, got, want)
		}
	}
	if median(nil) != 0 {
		t.Error("median of nothing")
	}
}
