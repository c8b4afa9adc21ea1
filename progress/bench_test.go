package progress

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

// benchStrategy is a strategy of 300 indicators (10 areas × 10 goals × 3)
// with 10 years of monthly values each, plus two department rows per month,
// in a mix that gives every status.
func benchStrategy() (*strategy.Strategy, map[string][]strategy.Observation, time.Time) {
	rng := rand.New(rand.NewSource(5))
	now := d(2025, 6, 10)
	first := month(2015, 6)
	s := &strategy.Strategy{ID: "bench", Rhythm: strategy.RhythmTertial, Start: d(2016, 1, 1),
		Maturity: &strategy.MaturityModel{}}
	obs := map[string][]strategy.Observation{}
	for a := range 10 {
		dim := fmt.Sprintf("d%d", a%4)
		if a < 4 {
			s.Maturity.Dimensions = append(s.Maturity.Dimensions, &strategy.MaturityDimension{ID: dim, Survey: "survey-" + dim, SurveyShare: 0.2})
			obs["survey-"+dim] = obs2(years(2016, 2024), 50)
		}
		area := &strategy.GoalArea{ID: fmt.Sprintf("a%d", a), Dimension: dim}
		for g := range 10 {
			goal := &strategy.Goal{ID: fmt.Sprintf("g%d-%d", a, g), Kind: strategy.GoalMeasured, AreaID: area.ID}
			if g == 9 {
				goal.Kind = strategy.GoalMilestone
				goal.Milestone = &strategy.Milestone{Due: d(2025, 12, 31)}
			}
			for i := range 3 {
				id := fmt.Sprintf("i%d-%d-%d", a, g, i)
				dir := strategy.Increase
				sgn := 1.0
				if rng.Intn(3) == 0 {
					dir, sgn = strategy.Decrease, -1
				}
				base := 50 + rng.NormFloat64()*10
				ind := &strategy.Indicator{ID: id, Unit: strategy.UnitPercent, Direction: dir, Tolerance: 2,
					Freshness: 90 * 24 * time.Hour, GoalID: goal.ID,
					Baseline: &strategy.Baseline{Value: base, Date: d(2015, 12, 31)},
					Targets: []strategy.Target{
						horizon(d(2018, 12, 31), base+sgn*15, 3), horizon(d(2027, 12, 31), base+sgn*40, 5),
						yearly(2024, base+sgn*30, time.Time{}), yearly(2025, base+sgn*32, time.Time{}), yearly(2025, base+sgn*33, d(2025, 5, 1)),
					}}
				kind := (a*30 + g*3 + i) % 10
				if kind == 8 {
					ind.Targets = nil // no target
				}
				goal.Indicators = append(goal.Indicators, ind)
				if kind == 9 {
					continue // no data
				}
				n := 120
				if kind == 7 {
					n = 100 // stale
				}
				pace := sgn * (2 + rng.Float64()*3) / 12 // per month
				var os []strategy.Observation
				for k, m := range months(first, n) {
					v := base + pace*float64(k) + 3*math.Sin(2*math.Pi*float64(m.N)/12) + rng.NormFloat64()
					if kind == 6 {
						v = base + sgn*50 // met
					}
					os = append(os, strategy.Observation{Indicator: id, Period: m, Value: v, Version: 1})
					for _, dep := range []string{"Socialförvaltningen", "Kulturförvaltningen"} {
						os = append(os, strategy.Observation{Indicator: id, Period: m, Value: v + 1, Version: 1,
							Dimension: strategy.Dimension{Kind: "department", Value: dep}})
					}
				}
				obs[id] = os
			}
			area.Goals = append(area.Goals, goal)
		}
		s.Areas = append(s.Areas, area)
	}
	return s, obs, now
}

func obs2(ps []strategy.Period, v float64) []strategy.Observation {
	out := make([]strategy.Observation, len(ps))
	for i, p := range ps {
		out[i] = strategy.Observation{Period: p, Value: v + float64(i), Version: 1}
	}
	return out
}

func TestBenchStrategyCoversEveryStatus(t *testing.T) {
	s, obs, now := benchStrategy()
	r := Evaluate(s, obs, nil, now)
	if len(r.Indicators) != 300 {
		t.Fatalf("%d indicators", len(r.Indicators))
	}
	for _, st := range Statuses {
		if r.Overall.Counts[st] == 0 {
			t.Errorf("no indicator is %s: %v", st, r.Overall.Counts)
		}
	}
	seasonal := 0
	for _, ir := range r.Indicators {
		if ir.Forecast.Seasonal {
			seasonal++
		}
	}
	if seasonal == 0 {
		t.Error("no seasonal forecast")
	}
	t.Logf("counts %v, %d seasonal forecasts", r.Overall.Counts, seasonal)
}

func BenchmarkEvaluate(b *testing.B) {
	s, obs, now := benchStrategy()
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(s, obs, nil, now)
	}
}
