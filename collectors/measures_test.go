package collectors

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

func measureStrategy() *strategy.Strategy {
	ind := func(id, measure string, params map[string]string) *strategy.Indicator {
		return &strategy.Indicator{ID: id, Unit: strategy.UnitPercent, Source: strategy.Source{Measure: measure, Params: params}}
	}
	return &strategy.Strategy{
		Municipality: strategy.Municipality{Code: "0120", Name: "Värmdö kommun"},
		Rhythm:       strategy.RhythmTertial,
		Areas: []*strategy.GoalArea{{ID: "a", Goals: []*strategy.Goal{{ID: "g", Indicators: []*strategy.Indicator{
			ind("andel-digitala", "digital_share", map[string]string{"case_types": "Bygglov"}),
			ind("tillganglighet", "availability_uptime", nil),
			{ID: "manuell", Unit: strategy.UnitCount, Source: strategy.Source{Series: "manuell"}},
		}}}}},
	}
}

func openStore(t *testing.T) *clickhouse.Store {
	t.Helper()
	ctx := context.Background()
	s, err := clickhouse.Open(ctx, chtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// Bygglov applications: January one digital, one on paper; May one
// digital. A Strandskydd case in January is filtered out by case_types.
func recomputeCases() *facts.Batch {
	c := func(id, typ string, digital bool, received string) facts.Case {
		r, _ := time.ParseInLocation(time.DateOnly, received, strategy.Stockholm)
		return facts.Case{ID: id, Type: typ, Department: "Bygg", Digital: digital, Application: true, Received: r.Add(10 * time.Hour)}
	}
	return &facts.Batch{Tenant: "0120", Source: "cases.csv", Version: 1, Cases: []facts.Case{
		c("1", "Bygglov", true, "2024-01-10"),
		c("2", "Bygglov", false, "2024-01-20"),
		c("3", "Bygglov", true, "2024-05-02"),
		c("4", "Strandskydd", false, "2024-01-03"),
	}}
}

func recomputeProbes() *facts.Batch {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	return &facts.Batch{Tenant: "0120", Source: "probe", Version: 1, Probes: []facts.ProbeResult{
		{Service: "Mina sidor", Time: t0, OK: true, Status: 200},
		{Service: "Mina sidor", Time: t0.Add(time.Hour), OK: false, Status: 503},
	}}
}

// totals renders the total observations of one indicator as
// "period=value source" lines, sorted.
func totals(t *testing.T, s *clickhouse.Store, indicator string) string {
	t.Helper()
	obs, err := s.Observations(context.Background(), clickhouse.ObservationFilter{Tenant: "0120", Indicators: []string{indicator}})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, o := range obs {
		lines = append(lines, fmt.Sprintf("%s=%.4g %s", o.Period, o.Value, o.Source))
	}
	sort.Strings(lines)
	return strings.Join(lines, ", ")
}

func TestRecompute(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	if err := s.WriteBatch(ctx, recomputeCases()); err != nil {
		t.Fatal(err)
	}
	st := measureStrategy()
	res, err := Recompute(ctx, s, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Month, tertial (the rhythm) and year. Bygglov only: January 1 of 2
	// digital, May 1 of 1; the year 2 of 3.
	want := "2024-01=50 measure:digital_share, 2024-05=100 measure:digital_share, 2024-T1=50 measure:digital_share, " +
		"2024-T2=100 measure:digital_share, 2024=66.67 measure:digital_share"
	if got := totals(t, s, "andel-digitala"); got != want {
		t.Fatalf("andel-digitala:\n got %s\nwant %s", got, want)
	}
	// Both measured indicators were computed; the series one was not.
	if res.Indicators != 2 {
		t.Fatalf("result %+v, want 2 indicators", res)
	}
	// Dimensions are stored too.
	obs, err := s.Observations(ctx, clickhouse.ObservationFilter{Tenant: "0120", Indicators: []string{"andel-digitala"}, Kind: strategy.Tertial, Dimensions: true})
	if err != nil {
		t.Fatal(err)
	}
	var dims []string
	for _, o := range obs {
		if !o.Dimension.IsTotal() {
			dims = append(dims, fmt.Sprintf("%s %s=%s %g", o.Period, o.Dimension.Kind, o.Dimension.Value, o.Value))
		}
	}
	if got := strings.Join(dims, "; "); got != "2024-T1 case_type=Bygglov 50; 2024-T1 department=Bygg 50; 2024-T2 case_type=Bygglov 100; 2024-T2 department=Bygg 100" {
		t.Fatalf("dimensions: %s", got)
	}
	// A correction and a recompute replace, never duplicate.
	fix := recomputeCases()
	fix.Version = 2
	fix.Cases = fix.Cases[1:2]
	fix.Cases[0].Digital = true
	if err := s.WriteBatch(ctx, fix); err != nil {
		t.Fatal(err)
	}
	if _, err := Recompute(ctx, s, st, []strategy.PeriodKind{strategy.Tertial}); err != nil {
		t.Fatal(err)
	}
	want = strings.Replace(want, "2024-T1=50", "2024-T1=100", 1)
	if got := totals(t, s, "andel-digitala"); got != want {
		t.Fatalf("after correction:\n got %s\nwant %s", got, want)
	}
	// A quarterly strategy gets quarters.
	st.Rhythm = strategy.RhythmQuarter
	if k := RhythmKinds(st); fmt.Sprint(k) != "[month quarter year]" {
		t.Fatalf("RhythmKinds = %v", k)
	}
}

func TestRecomputeReportsBadIndicators(t *testing.T) {
	s := openStore(t)
	st := measureStrategy()
	st.Areas[0].Goals[0].Indicators[1].Source.Params = map[string]string{"nope": "1"}
	res, err := Recompute(context.Background(), s, st, nil)
	if err == nil || !strings.Contains(err.Error(), `indicator tillganglighet (measure availability_uptime)`) || !strings.Contains(err.Error(), `unknown parameter "nope"`) {
		t.Fatalf("err = %v", err)
	}
	if res.Indicators != 1 {
		t.Fatalf("the good indicator should still be computed: %+v", res)
	}
}

// After a run that wrote rows, the runner recomputes the measures that
// read those facts, and only those (the first run computes every
// indicator in full once: none has a fingerprint yet).
func TestRunnerRecomputesAfterRun(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	var batch *facts.Batch
	coll := collectFunc(func(ctx context.Context, _ Request, out Sink) error { return out.Write(ctx, batch) })
	sink := NewStoreSink(s, nil, nil)
	r, err := NewRunner(RunnerConfig{
		Instances:  []Instance{{Name: "c", Kind: "test", Tenant: "0120", Timeout: time.Minute}},
		Sink:       sink,
		Runs:       sink,
		Measures:   s,
		Strategies: []*strategy.Strategy{measureStrategy()},
		Build:      func(Instance) (Collector, error) { return coll, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	batch = recomputeCases()
	if _, err := r.RunOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := totals(t, s, "andel-digitala"); !strings.Contains(got, "2024-T1=50 measure:digital_share") {
		t.Fatalf("andel-digitala not recomputed after cases were written: %q", got)
	}
	// Probe facts written outside the runner, then another run of cases.
	if err := s.WriteBatch(ctx, recomputeProbes()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RunOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := totals(t, s, "tillganglighet"); got != "" {
		t.Fatalf("tillganglighet recomputed although no probe facts were written: %q", got)
	}
	batch = recomputeProbes()
	// collector_runs records times in whole seconds; start the second run
	// in a later second so that "the last run" is well defined.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	if _, err := r.RunOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := totals(t, s, "tillganglighet"); !strings.Contains(got, "2024-03=50 measure:availability_uptime") {
		t.Fatalf("tillganglighet after probes: %q", got)
	}
	st, err := s.CollectorStatus(ctx, "0120")
	if err != nil || len(st) != 1 || st[0].LastRun.Outcome != OutcomeOK || st[0].LastRun.Rows != 2 {
		t.Fatalf("collector status %+v %v", st, err)
	}
}
