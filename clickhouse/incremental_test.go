package clickhouse

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/schema"
	"github.com/malbild/malbild/strategy"
)

func touchedString(t Touched) string {
	var parts []string
	for _, k := range []facts.Kind{facts.KindCases, facts.KindEServices, facts.KindSurvey, facts.KindProbes} {
		d := t[k]
		if d == nil {
			continue
		}
		var days []string
		for _, x := range d.List() {
			days = append(days, x.Format(time.DateOnly))
		}
		parts = append(parts, fmt.Sprintf("%s: %s", k, strings.Join(days, " ")))
	}
	return strings.Join(parts, "; ")
}

// A re-import touches the days of the facts it writes and the days of
// the versions it replaces: a case whose received date moved, a response
// answered on another day, a maintenance window whose end moved.
func TestWriteBatchTouched(t *testing.T) {
	ctx := context.Background()
	s := mStore(t)
	first := &facts.Batch{Tenant: measureTenant, Source: "v1", Version: 1,
		Cases: []facts.Case{
			{ID: "1", Type: "Bygglov", Received: mLocal(t, "2024-01-20 23:30"), Decided: mLocal(t, "2024-02-03 10:00")},
			{ID: "2", Type: "Bygglov", Received: mLocal(t, "2024-03-01 10:00")},
		},
		Responses:   []facts.SurveyResponse{{Survey: "S", ID: "r1", Score: 3, ScaleMin: 1, ScaleMax: 5, Answered: mLocal(t, "2024-04-02")}},
		Maintenance: []facts.MaintenanceWindow{{Service: "A", Start: mUTC(t, "2024-06-01 20:00"), End: mUTC(t, "2024-06-03 02:00")}},
	}
	got, err := s.WriteBatchTouched(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	want := "cases: 2024-01-20 2024-02-03 2024-03-01; survey: 2024-04-02; probes: 2024-06-01 2024-06-02 2024-06-03"
	if s := touchedString(got); s != want {
		t.Fatalf("first import:\n got %s\nwant %s", s, want)
	}
	fix := &facts.Batch{Tenant: measureTenant, Source: "v2", Version: 2,
		Cases:       []facts.Case{{ID: "1", Type: "Bygglov", Received: mLocal(t, "2024-05-20 10:00")}},
		Responses:   []facts.SurveyResponse{{Survey: "S", ID: "r1", Score: 4, ScaleMin: 1, ScaleMax: 5, Answered: mLocal(t, "2024-04-09")}},
		Maintenance: []facts.MaintenanceWindow{{Service: "A", Start: mUTC(t, "2024-06-01 20:00"), End: mUTC(t, "2024-06-01 22:00")}},
		Probes:      []facts.ProbeResult{{Service: "A", Time: mUTC(t, "2024-07-01 12:00"), OK: true, Status: 200}},
	}
	got, err = s.WriteBatchTouched(ctx, fix)
	if err != nil {
		t.Fatal(err)
	}
	// Case 1 moved from January (decided in February) to May, undecided.
	want = "cases: 2024-01-20 2024-02-03 2024-05-20; survey: 2024-04-02 2024-04-09; probes: 2024-06-01 2024-06-02 2024-06-03 2024-07-01"
	if s := touchedString(got); s != want {
		t.Fatalf("re-import:\n got %s\nwant %s", s, want)
	}
	// Bad input writes nothing and touches nothing.
	if _, err := s.WriteBatchTouched(ctx, &facts.Batch{Tenant: measureTenant, Cases: []facts.Case{{ID: "3"}}}); err == nil {
		t.Fatal("a case without a received time was accepted")
	}
}

// Many keys are looked up in chunks.
func TestWriteBatchTouchedManyCases(t *testing.T) {
	ctx := context.Background()
	s := mStore(t)
	b := &facts.Batch{Tenant: measureTenant, Source: "v1", Version: 1}
	for i := range 2*priorKeys + 10 {
		b.Cases = append(b.Cases, facts.Case{ID: fmt.Sprint("c", i), Received: mLocal(t, "2024-01-10 10:00")})
	}
	if _, err := s.WriteBatchTouched(ctx, b); err != nil {
		t.Fatal(err)
	}
	last := &b.Cases[len(b.Cases)-1]
	last.Received = mLocal(t, "2024-03-10 10:00")
	b.Version = 2
	got, err := s.WriteBatchTouched(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if s := touchedString(got); s != "cases: 2024-01-10 2024-03-10" {
		t.Fatalf("touched %s", s)
	}
}

func TestMeasureFingerprints(t *testing.T) {
	ctx := context.Background()
	s := mStore(t)
	if err := s.WriteMeasureFingerprints(ctx, "0120", map[string]string{"a": "1", "b": "2"}, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteMeasureFingerprints(ctx, "0120", map[string]string{"a": "3"}, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteMeasureFingerprints(ctx, "0180", map[string]string{"a": "9"}, 3); err != nil {
		t.Fatal(err)
	}
	got, err := s.MeasureFingerprints(ctx, "0120")
	if err != nil || !reflect.DeepEqual(got, map[string]string{"a": "3", "b": "2"}) {
		t.Fatalf("fingerprints %v %v", got, err)
	}
}

// A request limited by From/To reads only the raw facts near those
// periods, yet gives exactly the full computation's values for them, also
// for cases that moved into or out of the periods.
func TestMeasureFromToEqualsFull(t *testing.T) {
	ctx := context.Background()
	s := mStore(t)
	r := rand.New(rand.NewPCG(7, 15))
	if scope, err := s.MeasureScope(ctx, measureTenant, MeasureRequest{Name: "handling_time_median", Params: map[string]string{"top": "2"}}); err != nil || scope != "[]" {
		t.Fatalf("scope without cases: %q %v", scope, err)
	}
	day := func() time.Time {
		return time.Date(2023, 1, 1, 0, 0, 0, 0, strategy.Stockholm).Add(time.Duration(r.IntN(2*365*24)) * time.Hour)
	}
	var cases []facts.Case
	var probes []facts.ProbeResult
	for i := range 400 {
		c := facts.Case{ID: fmt.Sprint(i), Type: []string{"A", "B", "C", "A"}[r.IntN(4)], Digital: r.IntN(2) == 0, Application: true, Received: day()}
		if r.IntN(3) > 0 {
			c.Decided = c.Received.Add(time.Duration(r.IntN(90*24)) * time.Hour)
		}
		cases = append(cases, c)
		probes = append(probes, facts.ProbeResult{Service: "S", Time: day().Add(time.Duration(i) * time.Second), OK: r.IntN(4) > 0, Status: 200})
	}
	mWrite(t, s, 1, facts.Batch{Cases: cases, Probes: probes})
	for i := range cases[:60] {
		cases[i].Received = cases[i].Received.AddDate(0, r.IntN(13)-6, 0)
		if !cases[i].Decided.IsZero() {
			cases[i].Decided = cases[i].Received.Add(time.Duration(r.IntN(90*24)) * time.Hour)
		}
	}
	mWrite(t, s, 2, facts.Batch{Cases: cases[:60]})
	key := func(o strategy.Observation) string {
		return fmt.Sprintf("%s %s=%s", o.Period, o.Dimension.Kind, o.Dimension.Value)
	}
	for _, name := range []string{"digital_share", "handling_time_median", "handling_time_p90", "availability_uptime", "top"} {
		var params map[string]string
		var scope string
		if name == "top" {
			// Handling time of the 2 most common case types, limited with
			// the scope (those types) MeasureScope derived.
			name, params = "handling_time_median", map[string]string{"top": "2"}
			var err error
			if scope, err = s.MeasureScope(ctx, measureTenant, MeasureRequest{Name: name, Params: params}); err != nil || !strings.HasPrefix(scope, `["`) {
				t.Fatalf("scope %q %v", scope, err)
			}
		}
		for _, k := range []strategy.PeriodKind{strategy.Month, strategy.Tertial, strategy.Year} {
			full, err := s.ComputeMeasure(ctx, measureTenant, MeasureRequest{Name: name, Kind: k, Params: params})
			if err != nil {
				t.Fatal(err)
			}
			from, to := mLocal(t, "2023-05-15"), mLocal(t, "2023-09-02")
			part, err := s.ComputeMeasure(ctx, measureTenant, MeasureRequest{Name: name, Kind: k, From: from, To: to, Params: params, Scope: scope})
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := strategy.PeriodOf(k, from), strategy.PeriodOf(k, to)
			var want, got []string
			for _, o := range full {
				if !o.Period.Before(lo) && !hi.Before(o.Period) {
					want = append(want, fmt.Sprintf("%s %.6g", key(o), o.Value))
				}
			}
			for _, o := range part {
				got = append(got, fmt.Sprintf("%s %.6g", key(o), o.Value))
			}
			if len(want) == 0 || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s %s limited:\n got %v\nwant %v", name, k, got, want)
			}
		}
	}
}

// probe_daily is filled from probe results stored before it existed by
// its backfill migration, giving the same figures as the store's refresh.
func TestProbeDailyBackfill(t *testing.T) {
	ctx := context.Background()
	s := mStore(t)
	r := rand.New(rand.NewPCG(3, 15))
	var probes []facts.ProbeResult
	for i := range 500 {
		probes = append(probes, facts.ProbeResult{Service: []string{"A", "B"}[i%2], Time: mUTC(t, "2024-01-30 00:00").Add(time.Duration(i*7) * time.Minute),
			OK: r.IntN(5) > 0, Status: 200, Duration: time.Duration(r.IntN(500)) * time.Millisecond})
	}
	mWrite(t, s, 1, facts.Batch{Probes: probes, Maintenance: []facts.MaintenanceWindow{
		{Service: "A", Start: mUTC(t, "2024-01-30 10:00"), End: mUTC(t, "2024-01-31 02:00")},
		{Service: "*", Start: mUTC(t, "2024-02-01 00:00"), End: mUTC(t, "2024-02-01 03:00")},
	}})
	figures := func() string {
		var out []string
		for _, name := range []string{"availability_uptime", "availability_maintenance_share", "response_time_mean"} {
			for _, o := range mCompute(t, s, name, strategy.Month, nil) {
				out = append(out, fmt.Sprintf("%s %s %s=%s %.9g", name, o.Period, o.Dimension.Kind, o.Dimension.Value, o.Value))
			}
		}
		return strings.Join(out, "\n")
	}
	want := figures()
	if err := s.Exec(ctx, "TRUNCATE TABLE probe_daily"); err != nil {
		t.Fatal(err)
	}
	if got := figures(); got != "" {
		t.Fatalf("figures without probe_daily: %s", got)
	}
	sql, err := fs.ReadFile(schema.Files, "0032_probe_daily_backfill.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, string(sql)); err != nil {
		t.Fatal(err)
	}
	if got := figures(); got != want || !strings.Contains(want, "availability_maintenance_share 2024-01") {
		t.Fatalf("after the backfill:\n%s\nwant\n%s", got, want)
	}
}

// The availability measures read from probe_daily equal the same
// measures computed from the raw probe results, however the results
// arrive: the same batch twice, results sent again with another outcome,
// maintenance windows added and moved after their results.
func TestProbeDailyEqualsRaw(t *testing.T) {
	ctx := context.Background()
	s := mStore(t)
	r := rand.New(rand.NewPCG(11, 15))
	var all []facts.ProbeResult
	batch := func(n int) []facts.ProbeResult {
		var out []facts.ProbeResult
		for range n {
			out = append(out, facts.ProbeResult{Service: []string{"A", "B", "C"}[r.IntN(3)],
				Time: mUTC(t, "2024-01-01 00:00").Add(time.Duration(r.IntN(150*24*60)) * time.Minute),
				OK:   r.IntN(5) > 0, Status: 200, Duration: time.Duration(r.IntN(900)) * time.Millisecond})
		}
		all = append(all, out...)
		return out
	}
	raw := map[string]measureFunc{
		"availability_uptime":            availability("100 * countIf(okv = 1 AND inm = 0) / countIf(inm = 0)", "countIf(inm = 0) > 0"),
		"availability_maintenance_share": availability("100 * countIf(inm = 1) / count()", ""),
		"response_time_mean":             availability("avgIf(dur, inm = 0)", "countIf(inm = 0) > 0"),
	}
	check := func(step string) {
		t.Helper()
		for name, f := range raw {
			for _, k := range []strategy.PeriodKind{strategy.Month, strategy.Tertial, strategy.Year} {
				params := map[string]string(nil)
				if k == strategy.Tertial {
					params = map[string]string{"service": "B"}
				}
				daily := mCompute(t, s, name, k, params)
				m, _ := LookupMeasure(name)
				want, err := f(ctx, s, &measureQuery{tenant: measureTenant, req: MeasureRequest{Name: name, Kind: k, Params: params}, def: m})
				if err != nil {
					t.Fatal(err)
				}
				if len(daily) != len(want) || len(want) == 0 {
					t.Fatalf("%s: %s %s: %d observations from probe_daily, %d from the raw results", step, name, k, len(daily), len(want))
				}
				for i := range want {
					d, w := daily[i], want[i]
					if d.Period != w.Period || d.Dimension != w.Dimension || math.Abs(d.Value-w.Value) > 1e-9*math.Max(1, math.Abs(w.Value)) {
						t.Fatalf("%s: %s %s: probe_daily %+v, raw %+v", step, name, k, d, w)
					}
				}
			}
		}
	}
	first := batch(2000)
	mWrite(t, s, 1, facts.Batch{Probes: first})
	check("first batch")
	mWrite(t, s, 1, facts.Batch{Probes: first})
	mWrite(t, s, 2, facts.Batch{Probes: first})
	check("the same batch twice more")
	again := slices.Clone(first[:300])
	for i := range again {
		again[i].OK = !again[i].OK
		again[i].Duration += time.Second
	}
	mWrite(t, s, 3, facts.Batch{Probes: again, Maintenance: []facts.MaintenanceWindow{
		{Service: "A", Start: mUTC(t, "2024-02-01 00:00"), End: mUTC(t, "2024-02-10 00:00")}}})
	check("results sent again with another outcome, a window")
	mWrite(t, s, 4, facts.Batch{Maintenance: []facts.MaintenanceWindow{
		{Service: "A", Start: mUTC(t, "2024-02-01 00:00"), End: mUTC(t, "2024-02-03 12:00")},
		{Service: "*", Start: mUTC(t, "2024-04-01 00:00"), End: mUTC(t, "2024-04-05 00:00")}}})
	check("the window shortened, another for every service")
	mWrite(t, s, 5, facts.Batch{Probes: batch(500)})
	check("more results")
	// A refresh of some days reads only the windows overlapping them:
	// results written later on days inside a long window that began
	// before them, and at its edges (seconds past the minute), still
	// count as in maintenance.
	mWrite(t, s, 6, facts.Batch{Maintenance: []facts.MaintenanceWindow{
		{Service: "B", Start: mUTC(t, "2024-03-01 10:00").Add(30 * time.Second), End: mUTC(t, "2024-03-20 06:00").Add(30 * time.Second)}}})
	var inside []facts.ProbeResult
	for _, at := range []string{"2024-03-01 09:59", "2024-03-01 10:00", "2024-03-01 10:01", "2024-03-10 12:00", "2024-03-19 23:30", "2024-03-20 05:59", "2024-03-20 06:00", "2024-03-20 06:01"} {
		inside = append(inside, facts.ProbeResult{Service: "B", Time: mUTC(t, at), OK: false, Status: 500, Duration: 2 * time.Second})
	}
	all = append(all, inside...)
	mWrite(t, s, 7, facts.Batch{Probes: inside})
	check("results inside a window that began days before them")
}
