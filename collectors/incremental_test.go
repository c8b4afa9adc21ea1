package collectors

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// allMeasuresStrategy has one indicator per built-in measure, and a few
// with parameters.
func allMeasuresStrategy() *strategy.Strategy {
	var inds []*strategy.Indicator
	for _, m := range clickhouse.Measures {
		inds = append(inds, &strategy.Indicator{ID: "m-" + m.Name, Unit: m.Unit, Source: strategy.Source{Measure: m.Name}})
	}
	with := func(id, measure string, params map[string]string) {
		m, _ := clickhouse.LookupMeasure(measure)
		inds = append(inds, &strategy.Indicator{ID: id, Unit: m.Unit, Source: strategy.Source{Measure: measure, Params: params}})
	}
	with("ht-top", "handling_time_p90", map[string]string{"top": "2"})
	with("ds-bygg", "digital_share", map[string]string{"case_types": "Bygglov,Rivning", "department": "Bygg"})
	with("sat-min", "satisfaction_top_share", map[string]string{"min": "3", "survey": "S1"})
	with("av-a", "availability_uptime", map[string]string{"service": "A"})
	with("es-cat", "eservices_added", map[string]string{"category": "Bygga"})
	return &strategy.Strategy{
		Municipality: strategy.Municipality{Code: "0120", Name: "Värmdö kommun"},
		Rhythm:       strategy.RhythmTertial,
		Areas:        []*strategy.GoalArea{{ID: "a", Goals: []*strategy.Goal{{ID: "g", Indicators: inds}}}},
	}
}

// randomFacts makes facts of every kind from r, dated 2023–2025.
type randomFacts struct {
	r     *rand.Rand
	cases []facts.Case
	snaps []time.Time
}

func (g *randomFacts) day() time.Time {
	return time.Date(2023, 1, 1, 0, 0, 0, 0, strategy.Stockholm).AddDate(0, 0, g.r.IntN(3*365))
}

func (g *randomFacts) pick(s ...string) string { return s[g.r.IntN(len(s))] }

func (g *randomFacts) newCase(id int) facts.Case {
	c := facts.Case{ID: fmt.Sprint("c", id), Type: g.pick("Bygglov", "Rivning", "Strandskydd", "Förhandsbesked"),
		Department: g.pick("Bygg", "Miljö"), Digital: g.r.IntN(2) == 0, Application: g.r.IntN(5) > 0,
		Received: g.day().Add(time.Duration(g.r.IntN(24*60)) * time.Minute)}
	if g.r.IntN(4) > 0 {
		c.Decided = c.Received.Add(time.Duration(g.r.IntN(120*24)) * time.Hour)
	}
	return c
}

func (g *randomFacts) probes(n int, from time.Time, days int) []facts.ProbeResult {
	out := make([]facts.ProbeResult, n)
	for i := range out {
		out[i] = facts.ProbeResult{Service: g.pick("A", "B"), Time: from.Add(time.Duration(g.r.IntN(days*24*60)) * time.Minute),
			OK: g.r.IntN(6) > 0, Status: 200, Duration: time.Duration(g.r.IntN(900)) * time.Millisecond}
	}
	return out
}

func (g *randomFacts) snapshot(d time.Time) []facts.EService {
	var out []facts.EService
	for i := range 8 {
		out = append(out, facts.EService{Snapshot: d, ID: fmt.Sprint("e", i), Name: fmt.Sprint("E-tjänst ", i),
			Category: g.pick("Bygga", "Skola"), Department: g.pick("Bygg", "Utbildning"),
			Integrated: g.r.IntN(2) == 0, EID: g.r.IntN(2) == 0, Active: g.r.IntN(4) > 0})
	}
	return out
}

func (g *randomFacts) responses(lo, n int) []facts.SurveyResponse {
	out := make([]facts.SurveyResponse, n)
	for i := range out {
		out[i] = facts.SurveyResponse{Survey: g.pick("S1", "S2"), ID: fmt.Sprint("r", lo+i), System: g.pick("X", "Y", "Z"),
			Group: g.pick("chefer", "handläggare"), Score: float64(1 + g.r.IntN(5)), ScaleMin: 1, ScaleMax: 5, Answered: g.day()}
	}
	return out
}

// observationMap is every stored observation of tenant 0120 as
// "indicator period dimension" → value.
func observationMap(t *testing.T, s *clickhouse.Store) map[string]float64 {
	t.Helper()
	obs, err := s.Observations(context.Background(), clickhouse.ObservationFilter{Tenant: "0120", Dimensions: true})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, o := range obs {
		out[fmt.Sprintf("%s %s %s=%s", o.Indicator, o.Period, o.Dimension.Kind, o.Dimension.Value)] = o.Value
	}
	return out
}

// Property: after any sequence of batches — new facts, re-imports that
// move dates, the same facts sent twice — recomputing only what each batch
// touched leaves exactly the observations a full recompute gives, for
// every built-in measure. Fixed seeds keep it deterministic.
func TestRecomputeTouchedEqualsFull(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { checkTouchedEqualsFull(t, seed) })
	}
}

func checkTouchedEqualsFull(t *testing.T, seed uint64) {
	ctx := context.Background()
	s := openStore(t)
	st := allMeasuresStrategy()
	g := &randomFacts{r: rand.New(rand.NewPCG(seed, 15))}
	for i := range 300 {
		g.cases = append(g.cases, g.newCase(i))
	}
	first := &facts.Batch{Tenant: "0120", Source: "initial", Version: 1, Cases: slices.Clone(g.cases),
		Probes:      g.probes(400, time.Date(2024, 1, 1, 0, 0, 0, 0, strategy.Stockholm), 200),
		Maintenance: []facts.MaintenanceWindow{{Service: "A", Start: time.Date(2024, 2, 1, 22, 0, 0, 0, time.UTC), End: time.Date(2024, 2, 3, 4, 0, 0, 0, time.UTC)}},
		Responses:   g.responses(0, 120)}
	for _, d := range []string{"2023-02-01", "2023-06-15", "2023-11-01", "2024-03-01", "2024-09-01"} {
		day, _ := time.ParseInLocation(time.DateOnly, d, strategy.Stockholm)
		first.EServices = append(first.EServices, g.snapshot(day)...)
	}
	if err := s.WriteBatch(ctx, first); err != nil {
		t.Fatal(err)
	}
	if res, err := Recompute(ctx, s, st, nil); err != nil {
		t.Fatal(err)
	} else if res.Indicators != len(clickhouse.Measures)+5 {
		t.Fatalf("full recompute: %+v", res)
	}
	for round := range 6 {
		b := &facts.Batch{Tenant: "0120", Source: fmt.Sprint("round", round), Version: uint64(round + 2)}
		switch round % 3 {
		case 0: // a case export: corrections that move dates, new cases, and cases sent again unchanged
			for range 20 {
				i := g.r.IntN(len(g.cases))
				c := g.cases[i]
				c.Received = c.Received.AddDate(0, g.r.IntN(9)-4, g.r.IntN(30))
				c.Digital = !c.Digital
				if g.r.IntN(2) == 0 {
					c.Decided = c.Received.Add(time.Duration(g.r.IntN(60*24)) * time.Hour)
				} else if g.r.IntN(3) == 0 {
					c.Decided = time.Time{}
				}
				g.cases[i] = c
				b.Cases = append(b.Cases, c)
			}
			for range 30 {
				c := g.newCase(len(g.cases))
				g.cases = append(g.cases, c)
				b.Cases = append(b.Cases, c)
			}
			b.Cases = append(b.Cases, g.cases[:10]...)
			b.Responses = g.responses(g.r.IntN(100), 10) // re-answered: dates and scores move
		case 1: // probes: a new stretch, results sent again with another outcome, a window moved
			b.Probes = g.probes(60, time.Date(2024, 8, 1, 0, 0, 0, 0, strategy.Stockholm), 30)
			again := first.Probes[g.r.IntN(300):][:20]
			for _, p := range again {
				p.OK = !p.OK
				b.Probes = append(b.Probes, p)
			}
			b.Maintenance = []facts.MaintenanceWindow{{Service: "A", Start: first.Maintenance[0].Start, End: time.Date(2024, 3, 2, 4, 0, 0, 0, time.UTC)}}
			if round > 3 {
				b.Maintenance = append(b.Maintenance, facts.MaintenanceWindow{Service: "*", Start: time.Date(2024, 8, 10, 0, 0, 0, 0, time.UTC), End: time.Date(2024, 8, 11, 0, 0, 0, 0, time.UTC)})
			}
		case 2: // an e-service snapshot between earlier ones, and a later one
			day := time.Date(2023, 8, 1+round, 0, 0, 0, 0, strategy.Stockholm)
			if round > 3 {
				day = time.Date(2025, 2, 1, 0, 0, 0, 0, strategy.Stockholm)
			}
			b.EServices = g.snapshot(day)
		}
		touched, err := s.WriteBatchTouched(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		res, err := RecomputeTouched(ctx, s, st, nil, touched)
		if err != nil {
			t.Fatal(err)
		}
		// Only ht-top is recomputed in full, and only when its top case
		// types changed (top=N depends on every case).
		if res.Full > 1 || (res.Full == 1 && round%3 != 0) {
			t.Fatalf("round %d: %d indicators recomputed in full (%+v)", round, res.Full, res)
		}
	}
	got := observationMap(t, s)
	if _, err := Recompute(ctx, s, st, nil); err != nil {
		t.Fatal(err)
	}
	want := observationMap(t, s)
	var diffs []string
	for k, w := range want {
		if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
			diffs = append(diffs, fmt.Sprintf("%s: incremental %v (present %v), full %v", k, g, ok, w))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, k+": only incremental")
		}
	}
	slices.Sort(diffs)
	if len(diffs) > 0 {
		t.Fatalf("%d of %d observations differ from a full recompute:\n%s", len(diffs), len(want), strings.Join(diffs[:min(len(diffs), 20)], "\n"))
	}
	if len(want) < 500 {
		t.Fatalf("only %d observations: the random data is too thin to test anything", len(want))
	}
}

// requestLog records the measure requests a recompute makes.
type requestLog struct {
	*clickhouse.Store
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) ComputeMeasure(ctx context.Context, tenant string, m clickhouse.MeasureRequest) ([]strategy.Observation, error) {
	l.mu.Lock()
	r := m.Name + " " + string(m.Kind)
	if !m.From.IsZero() {
		r += " " + strategy.PeriodOf(m.Kind, m.From).String()
	}
	if !m.To.IsZero() {
		r += "–" + strategy.PeriodOf(m.Kind, m.To).String()
	}
	l.reqs = append(l.reqs, r)
	l.mu.Unlock()
	return l.Store.ComputeMeasure(ctx, tenant, m)
}

// A re-imported case whose received date moved from January to May
// touches both months: only they, and the tertials and year containing
// them, are recomputed, and January loses the case.
func TestRecomputeTouchedPeriods(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	base := recomputeCases()
	old := facts.Case{ID: "9", Type: "Bygglov", Department: "Bygg", Application: true, Received: time.Date(2022, 6, 1, 10, 0, 0, 0, strategy.Stockholm)}
	base.Cases = append(base.Cases, old)
	if err := s.WriteBatch(ctx, base); err != nil {
		t.Fatal(err)
	}
	st := measureStrategy()
	if _, err := RecomputeTouched(ctx, s, st, nil, nil); err != nil {
		t.Fatal(err)
	}
	fix := &facts.Batch{Tenant: "0120", Source: "cases.csv", Version: 2, Cases: []facts.Case{base.Cases[1]}}
	fix.Cases[0].Received = time.Date(2024, 5, 20, 10, 0, 0, 0, strategy.Stockholm) // was 2024-01-20, on paper
	touched, err := s.WriteBatchTouched(ctx, fix)
	if err != nil {
		t.Fatal(err)
	}
	log := &requestLog{Store: s}
	res, err := RecomputeTouched(ctx, log, st, nil, touched)
	if err != nil {
		t.Fatal(err)
	}
	want := "digital_share month 2024-01–2024-01, digital_share month 2024-05–2024-05, " +
		"digital_share tertial 2024-T1–2024-T2, digital_share year 2024–2024"
	if got := strings.Join(log.reqs, ", "); got != want || res.Full != 0 {
		t.Fatalf("requests:\n got %s\nwant %s\n(%+v)", got, want, res)
	}
	// January: 1 of 1 digital now; May: 1 of 2; T1 1/1, T2 1/2; 2024 2/3.
	wantTotals := "2022-06=0 measure:digital_share, 2022-T2=0 measure:digital_share, 2022=0 measure:digital_share, " +
		"2024-01=100 measure:digital_share, 2024-05=50 measure:digital_share, 2024-T1=100 measure:digital_share, " +
		"2024-T2=50 measure:digital_share, 2024=66.67 measure:digital_share"
	if got := totals(t, s, "andel-digitala"); got != wantTotals {
		t.Fatalf("andel-digitala:\n got %s\nwant %s", got, wantTotals)
	}
}

// When an indicator's parameters change, it is recomputed over its whole
// history at the next recompute, even with nothing touched; unchanged
// indicators are not.
func TestRecomputeAfterParameterChange(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	if err := s.WriteBatch(ctx, recomputeCases()); err != nil {
		t.Fatal(err)
	}
	st := measureStrategy()
	res, err := RecomputeTouched(ctx, s, st, nil, clickhouse.Touched{})
	if err != nil || res.Full != 2 {
		t.Fatalf("first recompute (no fingerprints yet): %+v %v", res, err)
	}
	res, err = RecomputeTouched(ctx, s, st, nil, clickhouse.Touched{})
	if err != nil || res.Indicators != 0 {
		t.Fatalf("nothing touched, nothing changed: %+v %v", res, err)
	}
	st.Areas[0].Goals[0].Indicators[0].Source.Params = map[string]string{"case_types": "Strandskydd"}
	log := &requestLog{Store: s}
	res, err = RecomputeTouched(ctx, log, st, nil, clickhouse.Touched{})
	if err != nil || res.Indicators != 1 || res.Full != 1 {
		t.Fatalf("after the change: %+v %v", res, err)
	}
	if got := strings.Join(log.reqs, ", "); got != "digital_share month, digital_share tertial, digital_share year" {
		t.Fatalf("requests: %s", got)
	}
	if got := totals(t, s, "andel-digitala"); !strings.Contains(got, "2024-01=0 measure:digital_share") {
		t.Fatalf("andel-digitala after the change: %s", got)
	}
}

// A batch that waited in the spool is, once drained, recomputed like a
// written one: only the periods it touched, the old ones included.
func TestDrainRecomputesTouchedPeriods(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	base := recomputeCases()
	if err := s.WriteBatch(ctx, base); err != nil {
		t.Fatal(err)
	}
	st := measureStrategy()
	if _, err := RecomputeTouched(ctx, s, st, nil, nil); err != nil {
		t.Fatal(err)
	}
	sp, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fix := &facts.Batch{Tenant: "0120", Collector: "c", Source: "cases.csv", Version: 2, Cases: []facts.Case{base.Cases[1]}}
	fix.Cases[0].Received = time.Date(2024, 5, 20, 10, 0, 0, 0, strategy.Stockholm) // was 2024-01-20
	if err := sp.PutBatch(fix); err != nil {
		t.Fatal(err)
	}
	sink := NewStoreSink(s, sp, nil)
	log := &requestLog{Store: s}
	coll := collectFunc(func(context.Context, Request, Sink) error { return nil })
	r, err := NewRunner(RunnerConfig{
		Instances:  []Instance{{Name: "c", Kind: "test", Tenant: "0120", Timeout: time.Minute}},
		Sink:       sink,
		Runs:       sink,
		Measures:   log,
		Strategies: []*strategy.Strategy{st},
		Build:      func(Instance) (Collector, error) { return coll, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.RunOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	want := "digital_share month 2024-01–2024-01, digital_share month 2024-05–2024-05, " +
		"digital_share tertial 2024-T1–2024-T2, digital_share year 2024–2024"
	if got := strings.Join(log.reqs, ", "); got != want {
		t.Fatalf("requests after the drain:\n got %s\nwant %s", got, want)
	}
	if got := totals(t, s, "andel-digitala"); !strings.Contains(got, "2024-01=100 measure:digital_share") {
		t.Fatalf("andel-digitala after the drain: %s", got)
	}
}
