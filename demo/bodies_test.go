package demo

import (
	"testing"

	"github.com/malbild/malbild/strategy"
)

// TestILSBodiesAndActivities: the ILS IT plan demos with both responsible
// bodies of its shared goal reporting each closed period, and its
// activities followed up per period from the file's values.
func TestILSBodiesAndActivities(t *testing.T) {
	s, err := strategy.Load("../examples/strategies/ils-it-plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := generate(t, s, Options{Now: faithfulNow})
	ps := p.BodyReports
	per := map[strategy.Period]map[string]bool{}
	for _, r := range ps {
		if r.Goal != "it-inloggning" {
			continue
		}
		if per[r.Period] == nil {
			per[r.Period] = map[string]bool{}
		}
		per[r.Period][r.Body] = true
		if r.Comment == "" || r.Author == "" || r.Created.IsZero() {
			t.Errorf("report %+v lacks comment, author or time", r)
		}
	}
	both := 0
	for _, bodies := range per {
		if bodies["utbildningsnamnden"] && bodies["stockholm-vatten"] {
			both++
		}
	}
	if both < 2 {
		t.Errorf("both bodies reported in %d periods (%v), want at least 2", both, per)
	}
	statuses := map[strategy.ActivityStatus]bool{}
	acts := map[string]bool{}
	for _, u := range p.ActivityUpdates {
		statuses[u.Status] = true
		acts[u.Activity] = true
		if u.Outcome != nil && *u.Outcome < 0 {
			t.Errorf("negative outcome %+v", u)
		}
	}
	if !acts["it-inloggning-migrering"] || !acts["it-e-arkiv-leveranser"] || len(statuses) < 2 {
		t.Errorf("activity updates: activities %v, statuses %v", acts, statuses)
	}
}
