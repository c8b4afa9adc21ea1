package progress

import "github.com/malbild/malbild/strategy"

// Rollup summarises indicators and goals (of a goal area, the whole
// strategy, or any selection such as the public ones).
type Rollup struct {
	Indicators int            `json:"indicators"`
	Counts     map[Status]int `json:"counts"`
	// Judged counts indicators that are met, on track, at risk or off
	// track; Good those met or on track. GoodShare is Good / Judged in
	// percent (nil when nothing is judged): indicators without data, with
	// stale data or without a target are left out rather than counted as
	// failing, and Counts shows how many there are.
	Judged    int      `json:"judged"`
	Good      int      `json:"good"`
	GoodShare *float64 `json:"good_share,omitempty"`
	// ThreeYear counts indicators with a 3-year target whose outcome can be
	// told (a trend, or a passed target with a known outcome);
	// ThreeYearReached those that reach it at the current pace (or did at
	// its date). ThreeYearShare is their share in percent.
	ThreeYear        int      `json:"three_year"`
	ThreeYearReached int      `json:"three_year_reached"`
	ThreeYearShare   *float64 `json:"three_year_share,omitempty"`
	// Goals counts goals; GoalLevels their proposed levels for the closed
	// report period, OpenGoalLevels for the open one.
	Goals          int                    `json:"goals"`
	GoalLevels     map[strategy.Level]int `json:"goal_levels"`
	OpenGoalLevels map[strategy.Level]int `json:"open_goal_levels"`
}

// Summarize rolls up the given indicator and goal results.
func Summarize(inds []*IndicatorResult, goals []*GoalResult) Rollup {
	r := Rollup{
		Indicators:     len(inds),
		Counts:         make(map[Status]int, len(Statuses)),
		Goals:          len(goals),
		GoalLevels:     map[strategy.Level]int{},
		OpenGoalLevels: map[strategy.Level]int{},
	}
	for _, ir := range inds {
		st := ir.Status.Status
		r.Counts[st]++
		if st.Judged() {
			r.Judged++
		}
		if st.Good() {
			r.Good++
		}
		if ty := ir.Forecast.ThreeYear; ty != nil && (ir.Forecast.OK || ty.MetAtDate != nil) {
			r.ThreeYear++
			if ty.Reaches {
				r.ThreeYearReached++
			}
		}
	}
	if r.Judged > 0 {
		r.GoodShare = ptr(float64(r.Good) / float64(r.Judged) * 100)
	}
	if r.ThreeYear > 0 {
		r.ThreeYearShare = ptr(float64(r.ThreeYearReached) / float64(r.ThreeYear) * 100)
	}
	for _, g := range goals {
		r.GoalLevels[g.Closed.Level]++
		r.OpenGoalLevels[g.Open.Level]++
	}
	return r
}
