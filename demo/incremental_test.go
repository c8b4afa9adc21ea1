package demo

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/collectors"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

// On the demo's cases and probe results, arriving a batch at a time,
// recomputing only what each batch touched leaves the observations of a
// full recompute, for every built-in measure.
func TestIncrementalEqualsFullOnDemoData(t *testing.T) {
	ctx := context.Background()
	s, err := clickhouse.Open(ctx, chtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var inds []*strategy.Indicator
	for _, m := range clickhouse.Measures {
		inds = append(inds, &strategy.Indicator{ID: "m-" + m.Name, Unit: m.Unit, Source: strategy.Source{Measure: m.Name}})
	}
	inds = append(inds, &strategy.Indicator{ID: "top", Unit: strategy.UnitDays, Source: strategy.Source{Measure: "handling_time_median", Params: map[string]string{"top": "3"}}})
	st := &strategy.Strategy{Municipality: strategy.Municipality{Code: "0120", Name: "Värmdö kommun"}, Rhythm: strategy.RhythmQuarter,
		Areas: []*strategy.GoalArea{{ID: "a", Goals: []*strategy.Goal{{ID: "g", Indicators: inds}}}}}
	var batches []*facts.Batch
	var cases []facts.Case
	for c := range Cases(20_000, 1) {
		if cases = append(cases, c); len(cases) == 2500 {
			batches = append(batches, &facts.Batch{Cases: cases})
			cases = nil
		}
	}
	var probes []facts.ProbeResult
	for p := range ProbeResults(40_000, 1) {
		if probes = append(probes, p); len(probes) == 5000 {
			batches = append(batches, &facts.Batch{Probes: probes})
			probes = nil
		}
	}
	observations := func() map[string]float64 {
		obs, err := s.Observations(ctx, clickhouse.ObservationFilter{Tenant: "0120", Dimensions: true})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, o := range obs {
			out[fmt.Sprintf("%s %s %s=%s", o.Indicator, o.Period, o.Dimension.Kind, o.Dimension.Value)] = o.Value
		}
		return out
	}
	for i, b := range batches {
		b.Tenant, b.Source, b.Version = "0120", fmt.Sprint("demo-", i), uint64(i+1)
		if i == 0 {
			if err := s.WriteBatch(ctx, b); err != nil {
				t.Fatal(err)
			}
			if _, err := collectors.Recompute(ctx, s, st, nil); err != nil {
				t.Fatal(err)
			}
			continue
		}
		touched, err := s.WriteBatchTouched(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := collectors.RecomputeTouched(ctx, s, st, nil, touched); err != nil {
			t.Fatal(err)
		}
	}
	got := observations()
	if _, err := collectors.Recompute(ctx, s, st, nil); err != nil {
		t.Fatal(err)
	}
	want := observations()
	bad := 0
	for k, w := range want {
		if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
			if bad++; bad <= 10 {
				t.Errorf("%s: incremental %v (present %v), full %v", k, g, ok, w)
			}
		}
	}
	if len(got) != len(want) || len(want) < 1000 || bad > 0 {
		t.Fatalf("%d observations incremental, %d full, %d differ", len(got), len(want), bad)
	}
}
