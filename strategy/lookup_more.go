package strategy

import (
	"slices"
	"time"
)

// Lookups for goal hierarchies (issue 12).

// AllGoals returns every goal and, after each goal, its sub-goals, in
// document order. Goals referenced from a second area come once.
func (s *Strategy) AllGoals() []*Goal {
	var out []*Goal
	for _, g := range s.Goals() {
		out = append(out, g)
		out = append(out, g.SubGoals...)
	}
	return out
}

// AreaGoals returns the goals of area a: those defined under it, then
// those it references (GoalArea.Refs).
func (s *Strategy) AreaGoals(a *GoalArea) []*Goal {
	out := slices.Clone(a.Goals)
	for _, id := range a.Refs {
		if g := s.Goal(id); g != nil {
			out = append(out, g)
		}
	}
	return out
}

// AreasOf returns every area goal g belongs to: the one it is defined
// under first, then the areas that reference it. A sub-goal belongs to
// the areas of its goal.
func (s *Strategy) AreasOf(g *Goal) []*GoalArea {
	if g == nil {
		return nil
	}
	id := g.ID
	if g.ParentID != "" {
		id = g.ParentID
	}
	var out []*GoalArea
	if a := s.AreaOf(s.Goal(id)); a != nil {
		out = append(out, a)
	}
	for _, a := range s.Areas {
		if slices.Contains(a.Refs, id) {
			out = append(out, a)
		}
	}
	return out
}

// UpperGoal returns the goal of the level above with id, or nil.
func (s *Strategy) UpperGoal(id string) *UpperGoal {
	for _, u := range s.UpperGoals {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// Contributors returns the goals that contribute to the upper goal with
// id: those that name it in contributes_to, those whose area names it,
// and, for an inriktningsmål, those that contribute to one of its mål.
// Each goal comes once, in document order.
func (s *Strategy) Contributors(id string) []*Goal {
	ids := map[string]bool{id: true}
	for _, u := range s.UpperGoals {
		if u.Parent == id {
			ids[u.ID] = true
		}
	}
	hits := func(list []string) bool {
		for _, x := range list {
			if ids[x] {
				return true
			}
		}
		return false
	}
	var out []*Goal
	for _, g := range s.AllGoals() {
		if hits(g.ContributesTo) {
			out = append(out, g)
			continue
		}
		if g.ParentID != "" {
			continue // a sub-goal counts through its goal
		}
		for _, a := range s.AreasOf(g) {
			if hits(a.ContributesTo) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// Criterion returns the criterion with id, or nil.
func (s *Strategy) Criterion(id string) *Criterion {
	for _, g := range s.AllGoals() {
		for _, c := range g.Criteria {
			if c.ID == id {
				return c
			}
		}
	}
	return nil
}

// Activities returns every activity in document order.
func (s *Strategy) Activities() []*Activity {
	var out []*Activity
	for _, g := range s.AllGoals() {
		out = append(out, g.Activities...)
	}
	return out
}

// Bodies returns every responsible body named by a goal, once each (the
// first naming wins), in document order.
func (s *Strategy) Bodies() []Body {
	var out []Body
	seen := map[string]bool{}
	for _, g := range s.AllGoals() {
		for _, b := range g.Bodies {
			if !seen[b.ID] {
				seen[b.ID] = true
				out = append(out, b)
			}
		}
	}
	return out
}

// Programme returns the programme with id, or nil.
func (s *Strategy) Programme(id string) *Programme {
	for _, p := range s.Programmes {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// Year returns the programme's budget and outcome for year (both nil
// when the file gives none).
func (p *Programme) Year(year int) ProgrammeYear {
	for _, y := range p.Years {
		if y.Year == year {
			return y
		}
	}
	return ProgrammeYear{Year: year}
}

// FollowUpYears is how many years after the end of a strategy's period
// its follow-up goes on: the full-year report of the last year is written
// in the spring after it.
const FollowUpYears = 1

// FollowUpEnd is the first instant after the strategy's follow-up: the
// end of the year after its last year (FollowUpYears), in
// Europe/Stockholm. Zero when the strategy has no end.
func (s *Strategy) FollowUpEnd() time.Time {
	if s.End.IsZero() {
		return time.Time{}
	}
	return time.Date(s.End.Year()+FollowUpYears+1, time.January, 1, 0, 0, 0, 0, Stockholm)
}

// LastYear is the last year with periods of the strategy (the year of its
// end), 0 when it has no end.
func (s *Strategy) LastYear() int {
	if s.End.IsZero() {
		return 0
	}
	return s.End.Year()
}

// InPeriod reports whether period p lies (at least partly) within the
// strategy's period: from the start to the end, or onward without an end.
func (s *Strategy) InPeriod(p Period) bool {
	if !s.Start.IsZero() && !p.End().After(time.Date(s.Start.Year(), s.Start.Month(), s.Start.Day(), 0, 0, 0, 0, Stockholm)) {
		return false
	}
	if !s.End.IsZero() && !p.Start().Before(time.Date(s.End.Year(), s.End.Month(), s.End.Day(), 0, 0, 0, 0, Stockholm).AddDate(0, 0, 1)) {
		return false
	}
	return true
}

// Ended reports whether the strategy's period was over at now: it has an
// end and now is after its last day.
func (s *Strategy) Ended(now time.Time) bool {
	if s.End.IsZero() {
		return false
	}
	last := time.Date(s.End.Year(), s.End.Month(), s.End.Day(), 0, 0, 0, 0, Stockholm).AddDate(0, 0, 1)
	return !now.Before(last)
}

// Reported reports whether report period p gets a report by the
// strategy's reports list (every report period when the list is empty).
// p must be a report period of the strategy's rhythm.
func (s *Strategy) Reported(p Period) bool {
	if len(s.Reports) == 0 {
		return true
	}
	return slices.Contains(s.Reports, p.N)
}
