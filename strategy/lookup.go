package strategy

import (
	"sort"
	"time"
)

// Lookups walk the tree: a strategy holds tens of goals, and walking keeps
// them correct for strategies built by hand as well as parsed ones.

// Area returns the goal area with id, or nil.
func (s *Strategy) Area(id string) *GoalArea {
	for _, a := range s.Areas {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// Goals returns every goal in document order.
func (s *Strategy) Goals() []*Goal {
	var out []*Goal
	for _, a := range s.Areas {
		out = append(out, a.Goals...)
	}
	return out
}

// Goal returns the goal or sub-goal with id, or nil.
func (s *Strategy) Goal(id string) *Goal {
	for _, a := range s.Areas {
		for _, g := range a.Goals {
			if g.ID == id {
				return g
			}
			for _, sg := range g.SubGoals {
				if sg.ID == id {
					return sg
				}
			}
		}
	}
	return nil
}

// PublicGoals returns the goals shown on the public page, in document order.
func (s *Strategy) PublicGoals() []*Goal {
	var out []*Goal
	for _, g := range s.Goals() {
		if g.Public {
			out = append(out, g)
		}
	}
	return out
}

// Indicators returns every indicator in document order.
func (s *Strategy) Indicators() []*Indicator {
	var out []*Indicator
	for _, a := range s.Areas {
		for _, g := range a.Goals {
			out = append(out, g.Indicators...)
		}
	}
	return out
}

// Indicator returns the indicator with id, or nil.
func (s *Strategy) Indicator(id string) *Indicator {
	for _, a := range s.Areas {
		for _, g := range a.Goals {
			for _, ind := range g.Indicators {
				if ind.ID == id {
					return ind
				}
			}
		}
	}
	return nil
}

// GoalOf returns the goal ind belongs to, or nil.
func (s *Strategy) GoalOf(ind *Indicator) *Goal {
	if ind == nil {
		return nil
	}
	for _, a := range s.Areas {
		for _, g := range a.Goals {
			for _, i := range g.Indicators {
				if i == ind {
					return g
				}
			}
		}
	}
	return s.Goal(ind.GoalID)
}

// AreaOf returns the goal area g belongs to (where it is defined), or nil.
func (s *Strategy) AreaOf(g *Goal) *GoalArea {
	if g == nil {
		return nil
	}
	for _, a := range s.Areas {
		for _, x := range a.Goals {
			if x == g {
				return a
			}
		}
	}
	return s.Area(g.AreaID)
}

// ProjectsFor returns the projects that serve the goal with id goalID.
func (s *Strategy) ProjectsFor(goalID string) []*Project {
	var out []*Project
	for _, p := range s.Programmes {
		for _, pr := range p.Projects {
			for _, g := range pr.Goals {
				if g == goalID {
					out = append(out, pr)
					break
				}
			}
		}
	}
	return out
}

// HorizonTargets returns the indicator's horizon targets sorted by date
// (and, for versions of the same date, by when they were decided).
func (ind *Indicator) HorizonTargets() []Target {
	var out []Target
	for _, t := range ind.Targets {
		if t.Kind == TargetHorizon {
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Date.Equal(out[j].Date) {
			return out[i].Date.Before(out[j].Date)
		}
		return out[i].Decided.Before(out[j].Decided)
	})
	return out
}

// YearlyTarget returns the yearly target for year as it was in force at
// at: of the versions for that year decided on or before at, the one
// decided last. A target without a decided date has been in force from
// the start. ok is false when no version was in force.
func (ind *Indicator) YearlyTarget(year int, at time.Time) (Target, bool) {
	var best Target
	found := false
	for _, t := range ind.Targets {
		if t.Kind != TargetYearly || t.Date.In(Stockholm).Year() != year {
			continue
		}
		if !t.Decided.IsZero() && t.Decided.After(at) {
			continue
		}
		if !found || !t.Decided.Before(best.Decided) {
			best, found = t, true
		}
	}
	return best, found
}

// Series returns the name of the series that feeds the indicator, or ""
// when it comes from a built-in measure or Kolada. Without any source the
// series is named after the indicator.
func (ind *Indicator) Series() string {
	switch {
	case ind.Source.Series != "":
		return ind.Source.Series
	case ind.Source.Measure != "" || ind.Source.Kolada != "":
		return ""
	}
	return ind.ID
}
