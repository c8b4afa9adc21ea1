package demo

import (
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/malbild/malbild/collectors"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// memSink keeps every batch a collector writes.
type memSink struct {
	mu      sync.Mutex
	batches []*facts.Batch
}

func (m *memSink) Write(_ context.Context, b *facts.Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches = append(m.batches, b)
	return nil
}

// all merges the batches.
func (m *memSink) all() *facts.Batch {
	var out facts.Batch
	for _, b := range m.batches {
		out.Cases = append(out.Cases, b.Cases...)
		out.EServices = append(out.EServices, b.EServices...)
		out.Responses = append(out.Responses, b.Responses...)
		out.Probes = append(out.Probes, b.Probes...)
		out.Maintenance = append(out.Maintenance, b.Maintenance...)
		out.Benchmarks = append(out.Benchmarks, b.Benchmarks...)
		out.Observations = append(out.Observations, b.Observations...)
	}
	return &out
}

// collect runs the plan's collector instance name once, the way the
// runner does, and returns everything it wrote.
func collect(t *testing.T, p *Plan, s *strategy.Strategy, name string, from, to time.Time) *facts.Batch {
	t.Helper()
	for _, inst := range p.Instances() {
		if inst.Name != name {
			continue
		}
		c, err := collectors.New(inst)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		req := collectors.Request{Tenant: p.Tenant, From: from, To: to, Indicators: map[string]bool{}, Units: map[string]strategy.Unit{}}
		for _, ind := range indicators(s) {
			req.Indicators[ind.ID], req.Units[ind.ID] = true, ind.Unit
		}
		// Maturity self-assessments are series too, scored 0–100, as the
		// runner tells the collectors.
		if s.Maturity != nil {
			for _, d := range s.Maturity.Dimensions {
				if d.Survey != "" {
					req.Indicators[d.Survey], req.Units[d.Survey] = true, strategy.UnitPercent
				}
			}
		}
		var sink memSink
		if err := c.Collect(context.Background(), req, &sink); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return sink.all()
	}
	t.Fatalf("no collector instance %s", name)
	return nil
}

func TestInstancesBuild(t *testing.T) {
	for _, name := range []string{"varmdo", "molndal", "norrtalje"} {
		p := generate(t, loadStrategy(t, name), Options{})
		kinds := map[string]bool{}
		for _, inst := range p.Instances() {
			if _, err := collectors.New(inst); err != nil {
				t.Errorf("%s: %s: %v", name, inst.Name, err)
			}
			if inst.Tenant != p.Tenant || inst.Schedule <= 0 || inst.Timeout <= 0 {
				t.Errorf("%s: %+v", name, inst)
			}
			kinds[inst.Kind] = true
		}
		// One instance per kind of data the strategy reads; no live
		// probes, as every example strategy has ended.
		want := map[string]bool{}
		for _, f := range p.Facts {
			want[map[string]string{"cases": "cases_csv", "eservices": "eservices", "survey": "survey_csv", "probes": "prometheus", "series": "series_csv", "kolada": "kolada"}[f]] = true
		}
		if len(want) < 3 || !maps.Equal(kinds, want) {
			t.Errorf("%s: instances %v, want %v", name, kinds, want)
		}
	}
}

func TestCollectorsReadThePlan(t *testing.T) {
	s := loadStrategy(t, "varmdo")
	// While the strategy runs, so the live e-services are probed too.
	p := generate(t, s, Options{Now: runningNow})

	cases := collect(t, p, s, "demo-arenden", time.Time{}, time.Time{}).Cases
	if len(cases) != p.Rows.Cases {
		t.Errorf("cases_csv read %d cases, the plan wrote %d", len(cases), p.Rows.Cases)
	}
	if again := collect(t, p, s, "demo-arenden", time.Time{}, time.Time{}).Cases; len(again) != 0 {
		t.Errorf("a second run read %d cases again", len(again))
	}
	if got := collect(t, p, s, "demo-etjanster", time.Time{}, time.Time{}).EServices; len(got) != p.Rows.EServices {
		t.Errorf("eservices read %d rows, the plan wrote %d", len(got), p.Rows.EServices)
	}
	if got := collect(t, p, s, "demo-systemenkat", time.Time{}, time.Time{}).Responses; len(got) != p.Rows.Responses {
		t.Errorf("survey_csv read %d responses, the plan wrote %d", len(got), p.Rows.Responses)
	}
	if got := collect(t, p, s, "demo-serier", time.Time{}, time.Time{}).Observations; len(got) != p.Rows.Series {
		t.Errorf("series_csv read %d observations, the plan wrote %d", len(got), p.Rows.Series)
	}

	kb := collect(t, p, s, "demo-kolada", time.Time{}, time.Time{})
	nulls := 0
	for _, b := range kb.Benchmarks {
		if b.Value == nil {
			nulls++
		}
	}
	if len(kb.Benchmarks) != p.Rows.Benchmarks || nulls == 0 {
		t.Errorf("kolada read %d values (%d null), the plan serves %d", len(kb.Benchmarks), nulls, p.Rows.Benchmarks)
	}
	// The last year's value may not be published yet in March.
	if n := len(kb.Observations); n < p.Kolada.LastYear-p.Kolada.FirstYear || n > p.Kolada.LastYear-p.Kolada.FirstYear+1 || kb.Observations[0].Indicator != "informationsindex-bygga-bo" {
		t.Errorf("kolada wrote %d observations", n)
	}

	from, to := p.Now.Add(-3*24*time.Hour), p.Now
	pb := collect(t, p, s, "demo-prometheus", from, to)
	probes := pb.Probes
	perService := map[string]int{}
	for _, r := range probes {
		perService[r.Service]++
		if r.OK && (r.Duration <= 0 || r.Duration > 10*time.Second) || r.URL == "" {
			t.Fatalf("probe %+v", r)
		}
	}
	if len(perService) != 8 || perService["Bygglov"] < 3*288 || perService["Bygglov"] > 3*288+1 {
		t.Errorf("prometheus: %v", perService)
	}
	// The prometheus instance writes the weekly maintenance windows that
	// overlap the range it collected: the plan's, no more, no fewer.
	if want := windowsOverlapping(p.Maintenance, from, to); len(want) < 8 || !sameWindows(pb.Maintenance, want) {
		t.Errorf("prometheus wrote maintenance windows %v, want %v", pb.Maintenance, want)
	}

	live := collect(t, p, s, "demo-probe", time.Time{}, time.Time{})
	down := 0
	for _, r := range live.Probes {
		if !r.OK {
			down++
		}
	}
	if len(live.Probes) != 4 || down != 1 || len(live.Maintenance) != 0 {
		t.Errorf("http_probe: %d results, %d down, %d maintenance windows", len(live.Probes), down, len(live.Maintenance))
	}
}

// windowsOverlapping returns the windows of ws open at some time in
// [from, to].
func windowsOverlapping(ws []facts.MaintenanceWindow, from, to time.Time) []facts.MaintenanceWindow {
	var out []facts.MaintenanceWindow
	for _, w := range ws {
		if !w.Start.After(to) && w.End.After(from) {
			out = append(out, w)
		}
	}
	return out
}

// sameWindows reports whether a and b hold the same windows, in any order.
func sameWindows(a, b []facts.MaintenanceWindow) bool {
	type win struct {
		service, note string
		start, end    int64
	}
	count := map[win]int{}
	for _, w := range a {
		count[win{w.Service, w.Note, w.Start.Unix(), w.End.Unix()}]++
	}
	for _, w := range b {
		count[win{w.Service, w.Note, w.Start.Unix(), w.End.Unix()}]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

// TestInstancesMaintenance checks how the maintenance windows reach the
// collectors: as a weekly rule per service on the prometheus query, none
// on http_probe; and one by one when an indicator of the share of time in
// maintenance makes their length change from week to week.
func TestInstancesMaintenance(t *testing.T) {
	options := func(p *Plan) map[string]any {
		t.Helper()
		var prom map[string]any
		for _, inst := range p.Instances() {
			var opts map[string]any
			if err := inst.Options.Decode(&opts); err != nil {
				t.Fatal(err)
			}
			switch inst.Kind {
			case "http_probe":
				if opts["maintenance"] != nil {
					t.Errorf("http_probe still has maintenance windows")
				}
			case "prometheus":
				prom = opts["queries"].([]any)[0].(map[string]any)
			}
		}
		if prom == nil {
			t.Fatal("no prometheus instance")
		}
		return prom
	}

	p := generate(t, loadStrategy(t, "varmdo"), Options{Now: runningNow})
	ws, _ := options(p)["maintenance"].([]any)
	if len(ws) != len(probeServices) || len(p.Prometheus.Weekly) != len(probeServices) {
		t.Fatalf("%d maintenance rules, %d weekly windows; want one per service", len(ws), len(p.Prometheus.Weekly))
	}
	days := map[string]int{"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6}
	for i, w := range ws {
		m := w.(map[string]any)
		svc := probeServices[i]
		from := fmt.Sprintf("%02d:00", svc.MaintHour)
		to := fmt.Sprintf("%02d:00", svc.MaintHour+1)
		if m["service"] != svc.Name || days[fmt.Sprint(m["weekday"])] != svc.MaintDay || m["from"] != from || m["to"] != to || m["start"] != nil {
			t.Errorf("rule %d = %v, want %s every %s %s–%s", i, m, svc.Name, time.Weekday(svc.MaintDay), from, to)
		}
	}

	// With a maintenance-share indicator the windows change length, which
	// a weekly rule cannot say.
	s := strategyWith(t, "varmdo", "tillganglighet-e-tjanster", `
          - id: underhall-e-tjanster
            title:
              sv: Andel tid i planerat underhåll
            unit: percent
            direction: decrease
            baseline:
              value: 1.5
              date: 2014-01-01
            targets:
              - {date: 2015-12-31, value: 0.5}
            tolerance: 0.1
            source:
              measure: availability_maintenance_share
`)
	p = generate(t, s, Options{Now: runningNow})
	if ip, _ := p.Indicator("underhall-e-tjanster"); !ip.Shaped {
		t.Fatal("the maintenance share does not shape the windows")
	}
	ws, _ = options(p)["maintenance"].([]any)
	lengths := map[time.Duration]bool{}
	for _, w := range p.Maintenance {
		lengths[w.End.Sub(w.Start)] = true
	}
	if p.Prometheus.Weekly != nil || len(ws) != len(p.Maintenance) || len(lengths) < 3 {
		t.Fatalf("%d weekly, %d one-off rules for %d windows of %d lengths", len(p.Prometheus.Weekly), len(ws), len(p.Maintenance), len(lengths))
	}
	if m := ws[0].(map[string]any); m["start"] == nil || m["weekday"] != nil {
		t.Errorf("rule %v, want a one-off window", m)
	}
	end := p.Now.Add(-24 * time.Hour)
	got := collect(t, p, s, "demo-prometheus", end.Add(-60*24*time.Hour), end).Maintenance
	if want := windowsOverlapping(p.Maintenance, end.Add(-60*24*time.Hour), end); len(want) < 8*8 || !sameWindows(got, want) {
		t.Errorf("prometheus wrote %d maintenance windows, want %d", len(got), len(want))
	}
}

// strategyWith loads an example strategy with indicator YAML inserted
// after the indicator after.
func strategyWith(t *testing.T, name, after, indicator string) *strategy.Strategy {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "examples", "strategies", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(raw)
	at := strings.Index(src, "- id: "+after+"\n")
	if at < 0 {
		t.Fatalf("%s has no indicator %s", name, after)
	}
	next := strings.Index(src[at+1:], "\n      - id: ") // the next goal
	if next < 0 {
		t.Fatalf("%s: no goal after indicator %s", name, after)
	}
	next += at + 1
	src = src[:next] + "\n" + strings.TrimRight(indicator, "\n") + src[next:]
	file := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := strategy.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func yearMid(y int) time.Time { return time.Date(y, 7, 1, 0, 0, 0, 0, strategy.Stockholm) }

// runningNow is a time while Värmdö's strategy (2010-05 to 2015-04) runs.
// A Thursday, like testNow, so the last days hold the same maintenance
// windows.
var runningNow = time.Date(2015, 3, 5, 12, 0, 0, 0, strategy.Stockholm)

// TestFactsFollowScenarios computes the built-in measures' definitions in
// Go over what the real collectors read and checks that they follow the
// plan's scenarios.
func TestFactsFollowScenarios(t *testing.T) {
	s := loadStrategy(t, "varmdo")
	p := generate(t, s, Options{})
	cases := collect(t, p, s, "demo-arenden", time.Time{}, time.Time{}).Cases
	// The data ends with the strategy, 2015-04-30: whole years to 2014.
	lastYear := p.Now.Year() - 1

	// digital_share by year received.
	digital, apps := map[int]float64{}, map[int]float64{}
	for _, c := range cases {
		if c.Application {
			y := c.Received.In(strategy.Stockholm).Year()
			apps[y]++
			if c.Digital {
				digital[y]++
			}
		}
	}
	ip, _ := p.Indicator("andel-ansokningar-e-tjanst")
	for y := 2010; y <= lastYear; y++ {
		got := 100 * digital[y] / apps[y]
		if want := ip.Expected(yearMid(y)); math.Abs(got-want) > 2.5 {
			t.Errorf("digital share %d: %.1f %%, plan %.1f %% (%s)", y, got, want, ip.Scenario)
		}
	}

	// handling_time_median of the 20 most common types, by year decided.
	count := map[string]int{}
	for _, c := range cases {
		count[c.Type]++
	}
	top := map[string]bool{}
	for _, name := range topTypes(count, 20) {
		top[name] = true
	}
	days := map[int][]int{}
	for _, c := range cases {
		if !top[c.Type] || c.Decided.IsZero() {
			continue
		}
		r, d := c.Received.In(strategy.Stockholm), c.Decided.In(strategy.Stockholm)
		n := int(math.Round(time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, time.UTC).Sub(time.Date(r.Year(), r.Month(), r.Day(), 12, 0, 0, 0, time.UTC)).Hours() / 24))
		days[d.Year()] = append(days[d.Year()], n)
	}
	ip, _ = p.Indicator("handlaggningstid-20-vanligaste")
	for y := 2010; y <= lastYear; y++ {
		ds := days[y]
		sort.Ints(ds)
		got := float64(ds[len(ds)/2])
		if want := ip.Expected(yearMid(y)); math.Abs(got-want) > math.Max(1.5, 0.07*want) {
			t.Errorf("median handling time %d: %v days, plan %.1f (%s)", y, got, want, ip.Scenario)
		}
	}

	// eservices_active in each year's last snapshot.
	es := collect(t, p, s, "demo-etjanster", time.Time{}, time.Time{}).EServices
	active := map[string]int{}
	for _, e := range es {
		if e.Active {
			active[e.Snapshot.Format(time.DateOnly)]++
		}
	}
	ip, _ = p.Indicator("antal-e-tjanster")
	for y := 2010; y <= lastYear; y++ {
		d := time.Date(y, 12, 31, 0, 0, 0, 0, strategy.Stockholm)
		if got, want := active[d.Format(time.DateOnly)], int(math.Round(ip.Expected(d))); got != want {
			t.Errorf("active e-services %d: %d, plan %d", y, got, want)
		}
	}

	// satisfaction_mean of Handläggare, by year answered.
	rs := collect(t, p, s, "demo-systemenkat", time.Time{}, time.Time{}).Responses
	sum, n := map[int]float64{}, map[int]float64{}
	for _, r := range rs {
		if r.Group == "Handläggare" {
			sum[r.Answered.Year()] += r.Score
			n[r.Answered.Year()]++
		}
	}
	ip, _ = p.Indicator("nojdhet-verksamhetssystem")
	for y := 2010; y <= lastYear; y++ {
		got := sum[y] / n[y]
		if want := ip.Expected(time.Date(y, 10, 10, 0, 0, 0, 0, strategy.Stockholm)); math.Abs(got-want) > 0.25 {
			t.Errorf("satisfaction of Handläggare %d: %.2f, plan %.2f (%d answers)", y, got, want, int(n[y]))
		}
	}

	// Series: yearly totals near the plan; the maturity self-assessment
	// rising, scores 0–100 near its trend.
	obs := collect(t, p, s, "demo-serier", time.Time{}, time.Time{}).Observations
	if len(p.MaturitySurveys) != 1 || p.MaturitySurveys[0].Dimension != "e-forvaltning" || p.MaturitySurveys[0].Series != "sjalvskattning-e-forvaltning" {
		t.Fatalf("maturity surveys %+v", p.MaturitySurveys)
	}
	ms := p.MaturitySurveys[0]
	checked, self := 0, map[int]float64{}
	for _, o := range obs {
		if o.Indicator == ms.Series {
			if o.Period.Kind != strategy.Year || !o.Dimension.IsTotal() || o.Value < 0 || o.Value > 100 {
				t.Errorf("self-assessment %+v", o)
			}
			if want := ms.Expected(lastDay(o.Period)); math.Abs(o.Value-want) > 4*maturitySurveyNoise {
				t.Errorf("self-assessment %s: %v, plan %.1f", o.Period, o.Value, want)
			}
			self[o.Period.Year] = o.Value
			continue
		}
		if !o.Dimension.IsTotal() {
			continue
		}
		ip, _ := p.Indicator(o.Indicator)
		if want := ip.Expected(lastDay(o.Period)); math.Abs(o.Value-want) > 0.05*ip.traj.span+0.1 {
			t.Errorf("%s %s: %v, plan %.1f", o.Indicator, o.Period, o.Value, want)
		}
		checked++
	}
	if checked != 3*(lastYear-2009+1) {
		t.Errorf("%d series totals checked", checked)
	}
	if len(self) != lastYear-2009+1 || self[lastYear]-self[2009] < 20 {
		t.Errorf("self-assessment by year: %v, want 2009–%d rising", self, lastYear)
	}
}

// The scenarios are what the progress engine should see: check the plan's
// expected values against the target path.
func TestScenarioShapes(t *testing.T) {
	for _, name := range []string{"varmdo", "molndal", "norrtalje"} {
		s := loadStrategy(t, name)
		p := generate(t, s, Options{})
		for _, ind := range indicators(s) {
			ip, _ := p.Indicator(ind.ID)
			if ip.Scenario == NoTarget {
				continue
			}
			tr := ip.traj
			final := tr.pts[len(tr.pts)-1]
			at := time.Unix(int64(tr.t0+0.8*(final.t-tr.t0)), 0)
			v, path := ip.Expected(at), ip.Target(at)
			ahead := tr.dir * (v - path)
			var ok bool
			switch ip.Scenario {
			case OnTrack:
				ok = ahead >= 0
			case TargetMet:
				ok = tr.dir*(ip.Expected(time.Unix(int64(final.t), 0))-final.v) >= 0
			case AtRisk:
				ok = ahead < 0 && ahead >= -tr.tol
			case OffTrack:
				ok = ahead < -tr.tol || (tr.tol == 0 && ahead < 0)
			}
			if !ok {
				t.Errorf("%s %s (%s): %v against the path's %v at %s", name, ind.ID, ip.Scenario, v, path, at.Format(time.DateOnly))
			}
		}
		if !slices.ContainsFunc(p.Indicators, func(ip IndicatorPlan) bool { return ip.Shaped }) {
			t.Errorf("%s: no indicator shapes the data", name)
		}
	}
}
