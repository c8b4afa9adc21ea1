package demo

import (
	"math"
	"time"

	"github.com/malbild/malbild/strategy"
)

// MaturitySurvey is the yearly self-assessment series of a maturity
// dimension (its survey), written to the series file with the
// indicators' series.
type MaturitySurvey struct {
	Dimension string // maturity dimension id
	Series    string // the series name the dimension gives

	value func(t float64) float64
}

// Expected is the score (0–100) the self-assessment aims at on t, before
// noise.
func (m MaturitySurvey) Expected(t time.Time) float64 { return m.value(unix(t)) }

// maturitySurveyNoise is the standard deviation of a year's score around
// the trend: self-assessments move a few points from year to year.
const maturitySurveyNoise = 2.5

// buildMaturitySurveys adds a yearly series for every maturity dimension
// that names a survey: scores that rise from a modest start and level off,
// each dimension at its own pace. A survey named like an indicator or
// series that is already written is left to that indicator.
func (g *generator) buildMaturitySurveys() {
	if g.s.Maturity == nil {
		return
	}
	taken := map[string]bool{}
	for _, ind := range indicators(g.s) {
		taken[ind.ID] = true
	}
	for _, s := range g.series {
		taken[s.name] = true
	}
	written := map[string]func(float64) float64{}
	for _, d := range g.s.Maturity.Dimensions {
		name := d.Survey
		if name == "" || (taken[name] && written[name] == nil) {
			continue
		}
		value := written[name]
		if value == nil {
			h := hashString(name)
			start := 25 + 15*unit(key(g.seed, 'm', h, 0))
			end := math.Min(start+30+15*unit(key(g.seed, 'm', h, 1)), 90)
			value = risingCurve(start, end, g.from, g.now)
			written[name] = value
			taken[name] = true
			g.series = append(g.series, seriesSpec{
				name: name, value: value, kind: strategy.Year, lo: 0, hi: 100,
				noise: maturitySurveyNoise, first: g.from,
			})
		}
		g.surveys = append(g.surveys, MaturitySurvey{Dimension: d.ID, Series: name, value: value})
	}
}

// risingCurve rises from a at t0 to b at t1, fast at first and levelling
// off, flat outside.
func risingCurve(a, b float64, t0, t1 time.Time) func(t float64) float64 {
	const k = 1.5
	x0, x1 := unix(t0), unix(t1)
	return func(t float64) float64 {
		x := clamp((t-x0)/(x1-x0), 0, 1)
		return a + (b-a)*(1-math.Exp(-k*x))/(1-math.Exp(-k))
	}
}
