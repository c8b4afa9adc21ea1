package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/collectors"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// TestEndToEnd runs the real collectors over a generated plan into a
// throwaway ClickHouse, lets the runner recompute the built-in measures,
// and checks the row counts and that the measures and the progress
// engine's statuses follow the plan's scenarios.
func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	s := stillRunning(loadStrategy(t, "varmdo"))
	p := generate(t, s, Options{})

	store, err := clickhouse.Open(ctx, chtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	sink := collectors.NewStoreSink(store, nil, nil)

	// Everything but Prometheus in a normal run; Prometheus backfills the
	// last 30 days only, to keep the test short.
	var normal, prom []collectors.Instance
	for _, inst := range p.Instances() {
		if inst.Kind == "prometheus" {
			prom = append(prom, inst)
		} else {
			normal = append(normal, inst)
		}
	}
	promFrom := p.Now.Add(-30 * 24 * time.Hour)
	for _, run := range []struct {
		insts    []collectors.Instance
		from, to time.Time
	}{{normal, time.Time{}, time.Time{}}, {prom, promFrom, p.Now}} {
		r, err := collectors.NewRunner(collectors.RunnerConfig{
			Instances: run.insts, Sink: sink, Runs: sink, Measures: store,
			Strategies: []*strategy.Strategy{s}, From: run.from, To: run.to,
		})
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.RunOnce(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := res.Err(); err != nil {
			t.Fatal(err)
		}
	}

	count := func(q string) int {
		t.Helper()
		var n uint64
		if err := store.Conn().QueryRow(ctx, q, p.Tenant).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return int(n)
	}
	promSamples := 8 * int(p.Now.Sub(promFrom)/(5*time.Minute)+1)
	for q, want := range map[string]int{
		"SELECT count(DISTINCT case_id) FROM cases WHERE tenant = ?":                                                     p.Rows.Cases,
		"SELECT count() FROM (SELECT DISTINCT snapshot, service_id FROM eservice_snapshots WHERE tenant = ?)":            p.Rows.EServices,
		"SELECT count() FROM (SELECT DISTINCT survey, response_id FROM survey_responses WHERE tenant = ?)":               p.Rows.Responses,
		"SELECT count() FROM (SELECT DISTINCT kpi, municipality, period, gender FROM benchmark_values WHERE tenant = ?)": p.Rows.Benchmarks,
		"SELECT count() FROM (SELECT DISTINCT service, starts FROM maintenance_windows WHERE tenant = ?)":                len(windowsOverlapping(p.Maintenance, promFrom, p.Now)),
		"SELECT count() FROM (SELECT DISTINCT service, ts FROM probe_results WHERE tenant = ? AND url LIKE 'https://%')": promSamples,
		"SELECT count() FROM probe_results WHERE tenant = ? AND url LIKE 'http://127.0.0.1:%'":                           len(p.Probes),
		"SELECT count() FROM collector_runs WHERE tenant = ? AND outcome = 'ok'":                                         len(normal) + len(prom),
	} {
		if got := count(q); got != want {
			t.Errorf("%s: %d, want %d", q, got, want)
		}
	}

	obs, err := store.Observations(ctx, clickhouse.ObservationFilter{Tenant: p.Tenant})
	if err != nil {
		t.Fatal(err)
	}
	byInd := map[string][]strategy.Observation{}
	for _, o := range obs {
		byInd[o.Indicator] = append(byInd[o.Indicator], o)
	}
	yearly := func(id string, y int) (float64, bool) {
		for _, o := range byInd[id] {
			if o.Period == (strategy.Period{Kind: strategy.Year, Year: y}) && o.Dimension.IsTotal() {
				return o.Value, true
			}
		}
		return 0, false
	}

	// The measures' yearly values follow the plan.
	bands := map[string]func(want float64) float64{
		"andel-ansokningar-e-tjanst":     func(float64) float64 { return 2.5 },
		"handlaggningstid-20-vanligaste": func(w float64) float64 { return math.Max(1.5, 0.07*w) },
		"antal-e-tjanster":               func(float64) float64 { return 0.5 },
		"nojdhet-verksamhetssystem":      func(float64) float64 { return 0.25 },
	}
	for id, band := range bands {
		ip, _ := p.Indicator(id)
		for y := 2010; y <= 2025; y++ {
			got, ok := yearly(id, y)
			at := yearMid(y)
			switch id {
			case "antal-e-tjanster":
				at = time.Date(y, 12, 31, 0, 0, 0, 0, strategy.Stockholm)
			case "nojdhet-verksamhetssystem":
				at = time.Date(y, 10, 10, 0, 0, 0, 0, strategy.Stockholm)
			}
			if want := ip.Expected(at); !ok || math.Abs(got-want) > band(want) {
				t.Errorf("%s %d: measure %v (%v), plan %.2f", id, y, got, ok, want)
			}
		}
	}
	ip, _ := p.Indicator("tillganglighet-e-tjanster")
	maintenanceLeftOut(t, store, p, byInd["tillganglighet-e-tjanster"], strategy.PeriodOf(strategy.Month, promFrom))
	for _, o := range byInd["tillganglighet-e-tjanster"] {
		if o.Period.Kind == strategy.Month && o.Period.Start().After(promFrom) && o.Period.Start().Before(p.Now) && o.Dimension.IsTotal() {
			if want := ip.Expected(o.Period.Start()); math.Abs(o.Value-want) > 0.6 {
				t.Errorf("uptime %s: %.2f %%, plan %.2f %%", o.Period, o.Value, want)
			}
		}
	}

	// The progress engine judges each indicator as its scenario says,
	// four fifths of the way to its final target, where the noise in the
	// data is small against the tolerance.
	judged := 0
	for _, ind := range indicators(s) {
		ip, _ := p.Indicator(ind.ID)
		if !ip.Shaped || ip.Scenario == NoTarget || ip.Facts == "probes" || ip.Facts == "survey" ||
			ind.Source.Measure == "handling_time_median" && ip.Scenario == AtRisk {
			continue
		}
		tr := ip.traj
		final := tr.pts[len(tr.pts)-1]
		at := time.Unix(int64(tr.t0+0.8*(final.t-tr.t0)), 0).In(strategy.Stockholm)
		at = time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, strategy.Stockholm)
		series := progress.SeriesOf(byInd[ind.ID])
		st := progress.StatusAt(ind, progress.Path(ind), series, at)
		want := map[Scenario][]progress.Status{
			OnTrack:   {progress.StatusOnTrack, progress.StatusMet},
			TargetMet: {progress.StatusOnTrack, progress.StatusMet},
			AtRisk:    {progress.StatusAtRisk},
			OffTrack:  {progress.StatusOffTrack},
		}[ip.Scenario]
		if !slices.Contains(want, st.Status) {
			t.Errorf("%s (%s) at %s: %s — %s", ind.ID, ip.Scenario, at.Format(time.DateOnly), st.Status, st.Reason.SV)
		}
		if ip.Scenario == TargetMet {
			end := time.Unix(int64(final.t), 0).AddDate(0, 1, 0)
			if st := progress.StatusAt(ind, progress.Path(ind), series, end); st.Status != progress.StatusMet {
				t.Errorf("%s (%s) at %s: %s — %s", ind.ID, ip.Scenario, end.Format(time.DateOnly), st.Status, st.Reason.SV)
			}
		}
		judged++
	}
	if judged < 5 {
		t.Errorf("only %d indicators judged", judged)
	}

	// The maturity index blends the self-assessment series into its
	// dimension: a survey score for every year it covers, taken from the
	// series.
	rep := progress.Evaluate(s, byInd, nil, p.Now)
	for _, md := range rep.Maturity.Dimensions {
		if md.ID != "e-forvaltning" {
			for _, sc := range md.Scores {
				if sc.Survey != nil {
					t.Errorf("maturity %s %d: survey score %v without a survey", md.ID, sc.Year, *sc.Survey)
				}
			}
			continue
		}
		if md.Survey != "sjalvskattning-e-forvaltning" || len(md.Scores) != 17 || md.Scores[0].Year != 2010 {
			t.Fatalf("maturity %s: survey %q, %d years", md.ID, md.Survey, len(md.Scores))
		}
		for _, sc := range md.Scores {
			want, ok := yearly(md.Survey, sc.Year)
			switch {
			case sc.Year == p.Now.Year(): // no self-assessment yet this year
				if sc.Survey != nil {
					t.Errorf("maturity %s %d: survey score %v before the year's assessment", md.ID, sc.Year, *sc.Survey)
				}
			case !ok || sc.Survey == nil || *sc.Survey != want:
				t.Errorf("maturity %s %d: survey score %v, series %v (%v)", md.ID, sc.Year, sc.Survey, want, ok)
			case sc.FromIndicators != nil && (sc.Score == nil || math.Abs(*sc.Score-(0.75**sc.FromIndicators+0.25*want)) > 1e-9):
				t.Errorf("maturity %s %d: score %v from indicators %v and survey %v", md.ID, sc.Year, sc.Score, *sc.FromIndicators, want)
			}
		}
	}

	// The plan's assessments are accepted by the store.
	for _, a := range p.Assessments {
		if err := store.WriteAssessment(ctx, a); err != nil {
			t.Fatalf("%+v: %v", a, err)
		}
	}
	as, err := store.Assessments(ctx, clickhouse.AssessmentFilter{Tenant: p.Tenant})
	if err != nil || len(as) == 0 {
		t.Fatalf("%d assessments read back: %v", len(as), err)
	}

	grafanaQueries(t, store, p)
}

// grafanaQueries runs every query of the example Grafana dashboard, with
// its variables and macros filled in the way Grafana does, and checks that
// each returns rows.
func grafanaQueries(t *testing.T, store *clickhouse.Store, p *Plan) {
	ctx := context.Background()
	raw, err := os.ReadFile(filepath.Join("..", "examples", "grafana", "dashboards", "malbild-overview.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title      string `json:"title"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				RawSQL string `json:"rawSql"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer(
		"${tenant:sqlstring}", "'"+p.Tenant+"'",
		"${kind:sqlstring}", "'tertial'",
		"${indicator:sqlstring}", "'andel-ansokningar-e-tjanst'",
	)
	timeFilter := regexp.MustCompile(`\$__timeFilter\((\w+)\)`)
	run := func(name, q string) {
		q = fill.Replace(q)
		q = timeFilter.ReplaceAllString(q, fmt.Sprintf("$1 >= toDateTime(%d) AND $1 <= toDateTime(%d)", p.Now.AddDate(0, 0, -30).Unix(), time.Now().Unix()))
		if strings.Contains(q, "$") {
			t.Errorf("%s: unfilled variable or macro in %s", name, q)
			return
		}
		rows, err := store.Conn().Query(ctx, q)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil || n == 0 {
			t.Errorf("%s: %d rows, %v", name, n, err)
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			run("variable "+v.Name, q["rawSql"].(string))
		}
	}
	for _, pn := range dash.Panels {
		if pn.Datasource.UID != "malbild-clickhouse" || len(pn.Targets) == 0 {
			t.Errorf("panel %s: data source %q, %d queries", pn.Title, pn.Datasource.UID, len(pn.Targets))
		}
		for _, tg := range pn.Targets {
			run("panel "+pn.Title, tg.RawSQL)
		}
	}
	if len(dash.Panels) < 8 {
		t.Errorf("%d panels", len(dash.Panels))
	}
}

// maintenanceLeftOut checks that availability_uptime leaves the weekly
// maintenance windows out: the measure's value for month m is the share
// of successful checks among those outside the plan's windows, computed
// here from the stored probe results, and not the share over all checks
// (the services are down while they are maintained).
func maintenanceLeftOut(t *testing.T, store *clickhouse.Store, p *Plan, measured []strategy.Observation, m strategy.Period) {
	t.Helper()
	rows, err := store.Conn().Query(context.Background(),
		"SELECT service, ts, argMax(ok, version) FROM probe_results WHERE tenant = ? GROUP BY service, ts", p.Tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	windows := map[string][]facts.MaintenanceWindow{}
	for _, w := range p.Maintenance {
		windows[w.Service] = append(windows[w.Service], w)
	}
	var all, allOK, outside, outsideOK, inside int
	for rows.Next() {
		var (
			svc string
			ts  time.Time
			ok  uint8
		)
		if err := rows.Scan(&svc, &ts, &ok); err != nil {
			t.Fatal(err)
		}
		if strategy.PeriodOf(strategy.Month, ts) != m {
			continue
		}
		all++
		allOK += int(ok)
		in := false
		for _, w := range windows[svc] {
			in = in || !ts.Before(w.Start) && ts.Before(w.End)
		}
		if in {
			inside++
			continue
		}
		outside++
		outsideOK += int(ok)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var got *strategy.Observation
	for i, o := range measured {
		if o.Period == m && o.Dimension.IsTotal() {
			got = &measured[i]
		}
	}
	want, naive := 100*float64(outsideOK)/float64(outside), 100*float64(allOK)/float64(all)
	switch {
	case got == nil:
		t.Fatalf("availability_uptime has no value for %s", m)
	case inside < 8*2*12 || naive > want-0.2:
		t.Errorf("%s: %d checks in maintenance; uptime %.3f %% outside, %.3f %% over all", m, inside, want, naive)
	case math.Abs(got.Value-want) > 1e-6:
		t.Errorf("availability_uptime %s = %.4f %%, want %.4f %% (maintenance left out; %.4f %% with it)", m, got.Value, want, naive)
	}
}
