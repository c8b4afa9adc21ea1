package followup

import (
	"context"
	"maps"

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
	byKey := map[string][]strategy.Observation{}
	for _, o := range obs {
		byKey[o.Indicator] = append(byKey[o.Indicator], o)
	}
	// Keyed by indicator id; other keys stay, for the series a maturity
	// dimension names.
	byInd := maps.Clone(byKey)
	for _, ind := range st.Indicators() {
		byInd[ind.ID] = byKey[valueKey(ind)]
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

// valueKey is the key an indicator's values are stored under: the series
// that feeds it, or its id for built-in measures and Kolada figures.
// Manual values go there too, so that they join the indicator's series.
func valueKey(ind *strategy.Indicator) string {
	if k := ind.Series(); k != "" {
		return k
	}
	return ind.ID
}

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
