package progress

import "github.com/malbild/malbild/strategy"

// UpperResult is what the engine says about a goal of the level above (a
// KF inriktningsmål or mål): the goals that contribute to it and their
// roll-up.
type UpperResult struct {
	Upper *strategy.UpperGoal
	// Goals are the contributing goals (strategy.Strategy.Contributors),
	// each once, dropped goals left out.
	Goals  []*GoalResult
	Rollup Rollup
}

// Upper rolls up the goals that contribute to the upper goal with id; nil
// when the strategy has no such upper goal. A goal that contributes both
// by itself and through its area, or under two areas, counts once.
func (r *Report) Upper(id string) *UpperResult {
	if r.Strategy == nil {
		return nil
	}
	u := r.Strategy.UpperGoal(id)
	if u == nil {
		return nil
	}
	ur := &UpperResult{Upper: u}
	var inds []*IndicatorResult
	for _, g := range r.Strategy.Contributors(id) {
		gr := r.byGoal[g.ID]
		if gr == nil || gr.Dropped {
			continue
		}
		ur.Goals = append(ur.Goals, gr)
		inds = append(inds, gr.Indicators...)
	}
	ur.Rollup = Summarize(inds, ur.Goals)
	return ur
}
