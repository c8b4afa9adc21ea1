package progress

import (
	"math"
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

// d is midnight Europe/Stockholm on the given day.
func d(y int, m time.Month, day int) time.Time {
	return time.Date(y, m, day, 0, 0, 0, 0, strategy.Stockholm)
}

func year(y int) strategy.Period { return strategy.Period{Kind: strategy.Year, Year: y} }
func month(y, m int) strategy.Period {
	return strategy.Period{Kind: strategy.Month, Year: y, N: m}
}
func tertial(y, n int) strategy.Period {
	return strategy.Period{Kind: strategy.Tertial, Year: y, N: n}
}

// horizon is a horizon target.
func horizon(date time.Time, v float64, years int) strategy.Target {
	return strategy.Target{Date: date, Value: v, Kind: strategy.TargetHorizon, Years: years}
}

// yearly is a yearly target for year y (dated 31 December) decided at dec.
func yearly(y int, v float64, dec time.Time) strategy.Target {
	return strategy.Target{Date: d(y, 12, 31), Value: v, Kind: strategy.TargetYearly, Decided: dec}
}

// indicator builds an indicator with a baseline (nil when bdate is zero).
func indicator(dir strategy.Direction, bdate time.Time, bval, tol float64, targets ...strategy.Target) *strategy.Indicator {
	ind := &strategy.Indicator{ID: "i", Unit: strategy.UnitPercent, Direction: dir, Tolerance: tol, Targets: targets}
	if !bdate.IsZero() {
		ind.Baseline = &strategy.Baseline{Value: bval, Date: bdate}
	}
	return ind
}

// obs builds total observations for the periods with the values.
func obs(ps []strategy.Period, vs ...float64) []strategy.Observation {
	out := make([]strategy.Observation, len(ps))
	for i, p := range ps {
		out[i] = strategy.Observation{Indicator: "i", Period: p, Value: vs[i], Version: 1}
	}
	return out
}

// series is SeriesOf(obs(...)).
func series(ps []strategy.Period, vs ...float64) Series { return SeriesOf(obs(ps, vs...)) }

func years(from, to int) []strategy.Period {
	var out []strategy.Period
	for y := from; y <= to; y++ {
		out = append(out, year(y))
	}
	return out
}

func months(from strategy.Period, n int) []strategy.Period {
	out := make([]strategy.Period, n)
	for i := range out {
		out[i] = from
		from = from.Next()
	}
	return out
}

func near(a, b, eps float64) bool { return math.Abs(a-b) <= eps }

func wantNear(t *testing.T, what string, got, want, eps float64) {
	t.Helper()
	if !near(got, want, eps) {
		t.Errorf("%s = %v, want %v (±%v)", what, got, want, eps)
	}
}

func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
