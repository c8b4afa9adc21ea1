package followup

import (
	"context"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// evaluate runs the progress engine over the store's values and
// assessments of st's municipality, as the dashboards do: the proposals
// it makes are what editors confirm or change.
func (s *Service) evaluate(ctx context.Context, st *strategy.Strategy) (*progress.Report, error) {
	tenant := st.Municipality.Code
	obs, err := s.store.Observations(ctx, clickhouse.ObservationFilter{Tenant: tenant})
	if err != nil {
		return nil, err
	}
	// Every value of an indicator is stored under its id (valueKey); other
	// keys are the series a maturity dimension names.
	byInd := map[string][]strategy.Observation{}
	for _, o := range obs {
		byInd[o.Indicator] = append(byInd[o.Indicator], o)
	}
	latest, err := s.store.Assessments(ctx, clickhouse.AssessmentFilter{Tenant: tenant})
	if err != nil {
		return nil, err
	}
	confirmed, err := s.store.Assessments(ctx, clickhouse.AssessmentFilter{Tenant: tenant, ConfirmedOnly: true})
	if err != nil {
		return nil, err
	}
	return progress.Evaluate(st, byInd, append(latest, confirmed...), s.opts.Now()), nil
}

// valueKey is the key an indicator's values are stored under: its id,
// whatever feeds them (a collector, the form or an upload), so that a
// manual correction overrides a collected value and every page reads one
// series. Values an earlier version stored under the series name are
// moved by clickhouse.MoveSeriesValues.
func valueKey(ind *strategy.Indicator) string { return ind.ID }

// owners are the owners whose editors may write for a subject: an
// indicator's own owner and its goal's; a goal's owner.
func owners(st *strategy.Strategy, subject strategy.SubjectKind, id string) ([]string, bool) {
	switch subject {
	case strategy.SubjectIndicator:
		ind := st.Indicator(id)
		if ind == nil {
			return nil, false
		}
		out := []string{ind.Owner}
		if g := st.GoalOf(ind); g != nil {
			out = append(out, g.Owner)
		}
		return out, true
	case strategy.SubjectGoal:
		g := st.Goal(id)
		if g == nil {
			return nil, false
		}
		return []string{g.Owner}, true
	}
	return nil, false
}

// ownerOf is the owner a subject is counted under in the completion
// table: its own owner, else its goal's.
func ownerOf(ind *strategy.Indicator, g *strategy.Goal) string {
	if ind != nil && ind.Owner != "" {
		return ind.Owner
	}
	if g != nil {
		return g.Owner
	}
	return ""
}
