package followup

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// Completion states of a goal's or indicator's assessment for a period.
const (
	StateMissing   = progress.StateMissing   // nothing written
	StateDraft     = progress.StateDraft     // the latest revision is not confirmed
	StateConfirmed = progress.StateConfirmed // confirmed (published), not marked ready
	StateReady     = progress.StateReady     // confirmed and marked ready (klarmarkerad)
)

// Row is one goal or indicator of a period report.
type Row struct {
	Subject strategy.SubjectKind
	ID      string
	Title   strategy.Text
	Owner   string
	Unit    strategy.Unit
	// The engine's proposal: for indicators outcome, target, level and
	// forecast with their reasons; for goals the roll-up.
	Outcome        *progress.Point
	Target         *float64
	Proposed       strategy.Level
	Reason         strategy.Text
	Forecast       strategy.Level
	ForecastReason strategy.Text
	// Latest is the current revision (draft or not), Confirmed the latest
	// confirmed one; nil when there is none.
	Latest, Confirmed *strategy.Assessment
	State             string
	MayEdit           bool
}

// GoalReport is a goal with its indicators.
type GoalReport struct {
	Goal       *strategy.Goal
	Row        Row
	Indicators []Row
	// Bodies are the responsible bodies' parts (bodies.go), BodyCount how
	// many of them have reported; Activities the goal's activities.
	Bodies     []BodyPart
	BodyCount  BodyCount
	Activities []ActivityRow
}

// AreaReport is a goal area with its goals.
type AreaReport struct {
	Area  *strategy.GoalArea
	Goals []GoalReport
}

// Count is the completion of a set of rows.
type Count struct {
	Owner                                   string
	Total, Missing, Draft, Confirmed, Ready int
}

func (c *Count) add(state string) {
	c.Total++
	switch state {
	case StateMissing:
		c.Missing++
	case StateDraft:
		c.Draft++
	case StateConfirmed:
		c.Confirmed++
	case StateReady:
		c.Ready++
	}
}

// Done reports whether every row is marked ready.
func (c Count) Done() bool { return c.Total > 0 && c.Ready == c.Total }

// Percent is the share of rows marked ready, 0–100.
func (c Count) Percent() int {
	if c.Total == 0 {
		return 0
	}
	return c.Ready * 100 / c.Total
}

// Report is one report period of a strategy: every goal and indicator
// not dropped, in document order, grouped by goal area.
type Report struct {
	Strategy *strategy.Strategy
	Period   strategy.Period
	State    clickhouse.PeriodState
	Areas    []AreaReport
	Owners   []Count // completion per owner, by owner name
	Total    Count
	// BodyTotal counts the responsible bodies' reports over all goals with
	// bodies, Bodies per body (by name): "2 av 3 ansvariga har rapporterat".
	BodyTotal BodyCount
	Bodies    []BodyCompletion
	Made      time.Time
}

// Closed reports whether the period is closed.
func (r *Report) Closed() bool { return r.State.Closed }

// Rows lists every row in order (each goal before its indicators).
func (r *Report) Rows() []Row {
	var out []Row
	for _, a := range r.Areas {
		for _, g := range a.Goals {
			out = append(out, g.Row)
			out = append(out, g.Indicators...)
		}
	}
	return out
}

// stateOf is progress.AssessmentState: the dashboards' follow-up matrix
// uses the same rule.
func stateOf(latest *strategy.Assessment) string { return progress.AssessmentState(latest) }

// BuildReport builds the report of period p for who (who decides which
// rows may be edited; nil: none).
func (s *Service) BuildReport(ctx context.Context, st *strategy.Strategy, who *auth.Identity, p strategy.Period) (*Report, error) {
	rep, err := s.evaluate(ctx, st)
	if err != nil {
		return nil, err
	}
	states, err := s.states(ctx, st)
	if err != nil {
		return nil, err
	}
	d, err := s.loadBodyData(ctx, st.Municipality.Code)
	if err != nil {
		return nil, err
	}
	return s.buildReport(rep, d, states, st, who, p), nil
}

// buildReport builds the report of p from an evaluation, so that several
// periods can share one.
func (s *Service) buildReport(rep *progress.Report, d *bodyData, states map[strategy.Period]clickhouse.PeriodState, st *strategy.Strategy, who *auth.Identity, p strategy.Period) *Report {
	r := &Report{Strategy: st, Period: p, State: states[p], Made: s.opts.Now()}
	owners := map[string]*Count{}
	count := func(owner, state string) {
		r.Total.add(state)
		c := owners[owner]
		if c == nil {
			c = &Count{Owner: owner}
			owners[owner] = c
		}
		c.add(state)
	}
	for _, a := range st.Areas {
		ar := AreaReport{Area: a}
		for _, g := range a.Goals {
			if g.Dropped != nil && g.Dropped.Date.Before(p.Start()) {
				continue
			}
			gp := goalProposal(st, rep, d, g, p)
			row := Row{Subject: strategy.SubjectGoal, ID: g.ID, Title: g.Title, Owner: g.Owner,
				Proposed: gp.Level, Reason: gp.Reason, Forecast: gp.Forecast, ForecastReason: gp.ForecastReason,
				Latest:    rep.Assessment(strategy.SubjectGoal, g.ID, p),
				Confirmed: rep.Confirmed(strategy.SubjectGoal, g.ID, p),
				MayEdit:   who.MayEdit(g.Owner)}
			row.State = stateOf(row.Latest)
			count(g.Owner, row.State)
			gr := GoalReport{Goal: g, Row: row}
			gr.Bodies, gr.BodyCount = d.parts(g, p, who)
			gr.Activities = d.activities(g, p, who)
			r.countBodies(gr.Bodies)
			for _, ind := range g.Indicators {
				pr, _ := rep.ProposeIndicator(ind.ID, p)
				ir := Row{Subject: strategy.SubjectIndicator, ID: ind.ID, Title: ind.Title, Owner: ownerOf(ind, g), Unit: ind.Unit,
					Outcome: pr.Outcome, Target: pr.Target, Proposed: pr.Level, Reason: pr.Reason,
					Forecast: pr.Forecast, ForecastReason: pr.ForecastReason,
					Latest:    rep.Assessment(strategy.SubjectIndicator, ind.ID, p),
					Confirmed: rep.Confirmed(strategy.SubjectIndicator, ind.ID, p),
					MayEdit:   who.MayEdit(ind.Owner, g.Owner)}
				ir.State = stateOf(ir.Latest)
				count(ir.Owner, ir.State)
				gr.Indicators = append(gr.Indicators, ir)
			}
			ar.Goals = append(ar.Goals, gr)
		}
		if len(ar.Goals) > 0 {
			r.Areas = append(r.Areas, ar)
		}
	}
	for _, c := range owners {
		r.Owners = append(r.Owners, *c)
	}
	slices.SortFunc(r.Owners, func(a, b Count) int { return strings.Compare(strings.ToLower(a.Owner), strings.ToLower(b.Owner)) })
	return r
}
