package progress

import (
	"slices"
	"time"

	"github.com/malbild/malbild/strategy"
)

// Report is everything the engine says about a strategy at one time. Build
// it with Evaluate; it is read-only afterwards and safe for concurrent
// readers.
type Report struct {
	Strategy *strategy.Strategy `json:"-"`
	Now      time.Time          `json:"now"`
	// Rule is the goal roll-up rule in use (RuleStrict or RuleMajority).
	Rule string `json:"rule"`
	// Closed is the latest ended report period (its report is due), Open
	// the one in progress (see ClosedReportPeriod, OpenReportPeriod).
	Closed strategy.Period `json:"closed"`
	Open   strategy.Period `json:"open"`

	Indicators []*IndicatorResult `json:"indicators"` // in strategy order
	Goals      []*GoalResult      `json:"goals"`      // in strategy order
	Areas      []*AreaResult      `json:"areas"`
	// Overall rolls up every indicator and goal not dropped.
	Overall  Rollup         `json:"overall"`
	Maturity *MaturityIndex `json:"maturity"`

	byIndicator map[string]*IndicatorResult
	byGoal      map[string]*GoalResult
	byArea      map[string]*AreaResult
	assessed    map[assessKey]*assessPair
}

// IndicatorResult is what the engine says about one indicator.
type IndicatorResult struct {
	ID        string              `json:"id"`
	Indicator *strategy.Indicator `json:"-"`
	Goal      *strategy.Goal      `json:"-"`
	Area      *strategy.GoalArea  `json:"-"`
	// Path is the target path as known at the report's time.
	Path *TargetPath `json:"-"`
	// Series is the total values known at the report's time.
	Series   Series       `json:"series"`
	Status   StatusResult `json:"status"`
	Progress Progress     `json:"progress"`
	Forecast Forecast     `json:"forecast"`
	// Closed and Open are the proposals for the report's closed and open
	// report periods.
	Closed Proposal `json:"closed"`
	Open   Proposal `json:"open"`
	// Dropped is set when the indicator's goal was dropped before the
	// report's time; it is then left out of roll-ups.
	Dropped bool `json:"dropped,omitempty"`
}

// GoalResult is what the engine says about one goal.
type GoalResult struct {
	ID         string             `json:"id"`
	Goal       *strategy.Goal     `json:"-"`
	Area       *strategy.GoalArea `json:"-"`
	Indicators []*IndicatorResult `json:"-"`
	Dropped    bool               `json:"dropped,omitempty"`
	// SubGoals are the results of the goal's sub-goals (delmål), whose
	// levels roll up into the goal's proposal with its criteria.
	SubGoals []*GoalResult `json:"-"`
	// Rollup summarises the goal's indicators.
	Rollup Rollup       `json:"rollup"`
	Closed GoalProposal `json:"closed"`
	Open   GoalProposal `json:"open"`
}

// AreaResult is what the engine says about one goal area.
type AreaResult struct {
	ID    string             `json:"id"`
	Area  *strategy.GoalArea `json:"-"`
	Goals []*GoalResult      `json:"-"`
	// Referenced are the goals defined under another area that this area
	// references (GoalArea.Refs): in this area's Rollup, but counted once
	// in the strategy's.
	Referenced []*GoalResult `json:"-"`
	Rollup     Rollup        `json:"rollup"`
}

type assessKey struct {
	subject strategy.SubjectKind
	id      string
	period  strategy.Period
}

// assessPair is the latest revision and the latest confirmed revision.
type assessPair struct{ latest, confirmed *strategy.Assessment }

// newer reports whether a supersedes b.
func newer(a, b *strategy.Assessment) bool {
	if a.Revision != b.Revision {
		return a.Revision > b.Revision
	}
	return a.Created.After(b.Created)
}

// Evaluate computes the report for strategy s at time now.
//
// obs holds observations keyed by indicator id (and survey series keyed by
// the series name a maturity dimension gives); only total-dimension rows
// count for status, progress and forecasts (see SeriesOf), and only those
// whose period had begun before now (Series.KnownAt). assessments are the
// recorded assessments of this strategy's tenant; for each subject and
// period the highest revision is the current one. Confirmed indicator
// assessments take the place of the engine's proposals when goals are
// rolled up; assessments written in the strategy file (Goal.History) count
// as confirmed. s.RollUp picks the roll-up rule (default RuleStrict).
//
// Evaluate does not modify its arguments.
func Evaluate(s *strategy.Strategy, obs map[string][]strategy.Observation, assessments []strategy.Assessment, now time.Time) *Report {
	r := &Report{
		Strategy:    s,
		Now:         now,
		Rule:        RuleStrict,
		byIndicator: map[string]*IndicatorResult{},
		byGoal:      map[string]*GoalResult{},
		byArea:      map[string]*AreaResult{},
		assessed:    map[assessKey]*assessPair{},
	}
	if s == nil {
		r.Maturity = &MaturityIndex{}
		return r
	}
	if s.RollUp == RuleMajority {
		r.Rule = RuleMajority
	}
	r.Open = OpenReportPeriod(s.Rhythm, now)
	r.Closed = PrevReportPeriod(s.Rhythm, r.Open)
	r.indexAssessments(s, assessments)

	var fi fitter
	cache := bounds{}
	var in []maturityInput
	var allInds []*IndicatorResult
	var allGoals []*GoalResult
	for _, a := range s.Areas {
		ar := &AreaResult{ID: a.ID, Area: a}
		var areaInds []*IndicatorResult
		for _, g := range a.Goals {
			gr := &GoalResult{ID: g.ID, Goal: g, Area: a, Dropped: g.Dropped != nil && g.Dropped.Date.Before(now)}
			for _, ind := range g.Indicators {
				ir := r.evalIndicator(&fi, ind, g, a, seriesOf(obs[ind.ID], cache))
				ir.Dropped = gr.Dropped
				gr.Indicators = append(gr.Indicators, ir)
				r.Indicators = append(r.Indicators, ir)
				r.byIndicator[ind.ID] = ir
				in = append(in, maturityInput{ind, ir.Path, ir.Series})
			}
			for _, sg := range g.SubGoals {
				sgr := &GoalResult{ID: sg.ID, Goal: sg, Area: a, Dropped: gr.Dropped || (sg.Dropped != nil && sg.Dropped.Date.Before(now))}
				sgr.Rollup = Summarize(nil, nil)
				sgr.Closed = r.proposeGoal(&fi, sgr, r.Closed)
				sgr.Open = r.proposeGoal(&fi, sgr, r.Open)
				gr.SubGoals = append(gr.SubGoals, sgr)
				r.byGoal[sg.ID] = sgr
			}
			gr.Rollup = Summarize(gr.Indicators, nil)
			gr.Closed = r.proposeGoal(&fi, gr, r.Closed)
			gr.Open = r.proposeGoal(&fi, gr, r.Open)
			r.Goals = append(r.Goals, gr)
			r.byGoal[g.ID] = gr
			ar.Goals = append(ar.Goals, gr)
			if !gr.Dropped {
				areaInds = append(areaInds, gr.Indicators...)
				allInds = append(allInds, gr.Indicators...)
				allGoals = append(allGoals, gr)
			}
		}
		ar.Rollup = Summarize(areaInds, liveGoals(ar.Goals))
		r.Areas = append(r.Areas, ar)
		r.byArea[a.ID] = ar
	}
	// A goal under a second area counts in that area's roll-up too, and
	// once in the strategy's (allGoals holds it once).
	for _, ar := range r.Areas {
		if len(ar.Area.Refs) == 0 {
			continue
		}
		for _, id := range ar.Area.Refs {
			if gr := r.byGoal[id]; gr != nil {
				ar.Referenced = append(ar.Referenced, gr)
			}
		}
		goals := liveGoals(append(slices.Clone(ar.Goals), ar.Referenced...))
		var inds []*IndicatorResult
		for _, gr := range goals {
			inds = append(inds, gr.Indicators...)
		}
		ar.Rollup = Summarize(inds, goals)
	}
	r.Overall = Summarize(allInds, allGoals)
	r.Maturity = maturity(s, in, func(name string) Series { return SeriesOf(obs[name]).KnownAt(now) }, now)
	return r
}

func liveGoals(gs []*GoalResult) []*GoalResult {
	out := make([]*GoalResult, 0, len(gs))
	for _, g := range gs {
		if !g.Dropped {
			out = append(out, g)
		}
	}
	return out
}

func (r *Report) indexAssessments(s *strategy.Strategy, as []strategy.Assessment) {
	add := func(a *strategy.Assessment) {
		k := assessKey{a.Subject, a.SubjectID, a.Period}
		p := r.assessed[k]
		if p == nil {
			p = &assessPair{}
			r.assessed[k] = p
		}
		if p.latest == nil || newer(a, p.latest) {
			p.latest = a
		}
		if a.Confirmed && (p.confirmed == nil || newer(a, p.confirmed)) {
			p.confirmed = a
		}
	}
	for _, ar := range s.Areas {
		for _, g := range ar.Goals {
			for _, h := range g.History {
				add(&strategy.Assessment{
					Subject: strategy.SubjectGoal, SubjectID: g.ID, Period: h.Period,
					Level: h.Level, Comment: h.Comment, Ready: true, Confirmed: true, Author: "strategy",
				})
			}
		}
	}
	for i := range as {
		a := as[i]
		add(&a)
	}
}

func (r *Report) evalIndicator(fi *fitter, ind *strategy.Indicator, g *strategy.Goal, a *strategy.GoalArea, s Series) *IndicatorResult {
	now := r.Now
	path := Path(ind).AsOf(now)
	s = s.KnownAt(now)
	ir := &IndicatorResult{ID: ind.ID, Indicator: ind, Goal: g, Area: a, Path: path, Series: s}
	ir.Status = StatusAt(ind, path, s, now)
	ir.Progress = ProgressAt(ind, path, s, now)
	ir.Forecast = fi.forecast(ind, path, s, now)
	ir.Closed = fi.proposeIndicator(ind, path, s, r.Closed, now)
	ir.Open = fi.proposeIndicator(ind, path, s, r.Open, now)
	return ir
}

// proposeGoal builds the goal's proposal for p, reusing the indicators'
// stored proposals for the closed and open periods.
func (r *Report) proposeGoal(fi *fitter, gr *GoalResult, p strategy.Period) GoalProposal {
	g := gr.Goal
	var items []GoalItem
	if g.Kind == strategy.GoalMilestone || g.Milestone != nil {
		mp := ProposeMilestone(g.Milestone, p, r.Now)
		items = append(items, GoalItem{Kind: "milestone", ID: g.ID, Level: mp.Level, Forecast: mp.Forecast, Reason: mp.Reason})
	}
	for _, ir := range gr.Indicators {
		var pr Proposal
		switch {
		case p == r.Closed:
			pr = ir.Closed
		case p == r.Open:
			pr = ir.Open
		default:
			pr = fi.proposeIndicator(ir.Indicator, ir.Path, ir.Series, p, r.Now)
		}
		it := GoalItem{Kind: "indicator", ID: ir.ID, Level: pr.Level, Forecast: pr.Forecast, Reason: pr.Reason}
		if c := r.Confirmed(strategy.SubjectIndicator, ir.ID, p); c != nil {
			it.Level, it.Forecast, it.Confirmed = c.Level, c.Forecast, true
			it.Reason = strategy.Text{SV: "Bekräftad bedömning.", EN: "Confirmed assessment."}
		}
		items = append(items, it)
	}
	for _, sgr := range gr.SubGoals {
		if sgr.Dropped {
			continue
		}
		var sp GoalProposal
		switch {
		case p == r.Closed:
			sp = sgr.Closed
		case p == r.Open:
			sp = sgr.Open
		default:
			sp = r.proposeGoal(fi, sgr, p)
		}
		it := GoalItem{Kind: "subgoal", ID: sgr.ID, Level: sp.Level, Forecast: sp.Forecast, Reason: sp.Reason}
		if c := r.Confirmed(strategy.SubjectGoal, sgr.ID, p); c != nil {
			it.Level, it.Forecast, it.Confirmed = c.Level, c.Forecast, true
			it.Reason = strategy.Text{SV: "Bekräftad bedömning.", EN: "Confirmed assessment."}
		}
		items = append(items, it)
	}
	for _, c := range g.Criteria {
		it := GoalItem{Kind: "criterion", ID: c.ID, Level: strategy.LevelNotAssessed,
			Reason: strategy.Text{SV: "Inte bedömt.", EN: "Not assessed."}}
		if a := r.Confirmed(strategy.SubjectGoal, c.ID, p); a != nil {
			it.Level, it.Forecast, it.Confirmed = a.Level, a.Forecast, true
			it.Reason = strategy.Text{SV: "Bekräftad bedömning.", EN: "Confirmed assessment."}
		}
		items = append(items, it)
	}
	return ProposeGoal(g, items, r.Rule, p, r.Now)
}

// Indicator is the result for indicator id, nil if there is none.
func (r *Report) Indicator(id string) *IndicatorResult { return r.byIndicator[id] }

// Goal is the result for goal id, nil if there is none.
func (r *Report) Goal(id string) *GoalResult { return r.byGoal[id] }

// Area is the result for goal area id, nil if there is none.
func (r *Report) Area(id string) *AreaResult { return r.byArea[id] }

// Assessment is the current (highest revision) assessment of a subject for
// period p, confirmed or not; nil if there is none.
func (r *Report) Assessment(subject strategy.SubjectKind, id string, p strategy.Period) *strategy.Assessment {
	if a := r.assessed[assessKey{subject, id, p}]; a != nil {
		return a.latest
	}
	return nil
}

// Confirmed is the highest confirmed revision of a subject's assessment for
// period p; nil if there is none.
func (r *Report) Confirmed(subject strategy.SubjectKind, id string, p strategy.Period) *strategy.Assessment {
	if a := r.assessed[assessKey{subject, id, p}]; a != nil {
		return a.confirmed
	}
	return nil
}

// ProposeIndicator is the proposal for indicator id for any report period
// p, from the values known at the report's time; ok is false for an
// unknown id.
func (r *Report) ProposeIndicator(id string, p strategy.Period) (pr Proposal, ok bool) {
	ir := r.byIndicator[id]
	if ir == nil {
		return Proposal{}, false
	}
	var fi fitter
	return fi.proposeIndicator(ir.Indicator, ir.Path, ir.Series, p, r.Now), true
}

// ProposeGoal is the proposal for goal id for any report period p; ok is
// false for an unknown id.
func (r *Report) ProposeGoal(id string, p strategy.Period) (gp GoalProposal, ok bool) {
	gr := r.byGoal[id]
	if gr == nil {
		return GoalProposal{}, false
	}
	var fi fitter
	return r.proposeGoal(&fi, gr, p), true
}
