package demo

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/examples"
	"github.com/malbild/malbild/internal/municipalities"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// faithfulNow is long after every example strategy has ended, as the demo
// runs today.
var faithfulNow = time.Date(2026, 12, 6, 8, 0, 0, 0, strategy.Stockholm)

// faithfulStrategies are the example strategies and the qualitative test
// strategy.
func faithfulStrategies(t *testing.T) map[string]*strategy.Strategy {
	t.Helper()
	out := map[string]*strategy.Strategy{}
	for _, name := range examples.Strategies() {
		data, file, err := examples.Strategy(name)
		if err != nil {
			t.Fatal(err)
		}
		if out[name], err = strategy.Parse(file, data); err != nil {
			t.Fatal(err)
		}
	}
	s, err := strategy.Load(filepath.Join("testdata", "kvalitativ.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out["kvalitativ"] = s
	return out
}

// wantFacts is what the indicators (and maturity surveys) of s read,
// worked out from the strategy file itself.
func wantFacts(s *strategy.Strategy) []string {
	uses := map[string]bool{}
	for _, ind := range indicators(s) {
		switch {
		case ind.Source.Measure != "":
			uses[measureFacts[ind.Source.Measure]] = true
		case ind.Source.Kolada != "":
			uses["kolada"] = true
		case ind.Series() != "":
			uses["series"] = true
		}
	}
	if s.Maturity != nil {
		for _, d := range s.Maturity.Dimensions {
			if d.Survey != "" {
				uses["series"] = true
			}
		}
	}
	var out []string
	for _, f := range factOrder {
		if uses[f] {
			out = append(out, f)
		}
	}
	return out
}

// measureFacts are the facts each built-in measure reads, by name prefix,
// written out here rather than taken from the registry the demo uses.
var measureFacts = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"digital_share", "handling_time_median", "handling_time_p90"} {
		m[n] = "cases"
	}
	for _, n := range []string{"eservices_active", "eservices_integrated_share", "eservices_eid_share", "eservices_added", "eservices_retired"} {
		m[n] = "eservices"
	}
	for _, n := range []string{"satisfaction_mean", "satisfaction_top_share", "satisfaction_systems_top_share", "satisfaction_responses"} {
		m[n] = "survey"
	}
	for _, n := range []string{"availability_uptime", "availability_maintenance_share", "response_time_mean", "response_time_p95"} {
		m[n] = "probes"
	}
	return m
}()

// strategyWindow is the span the demo of s may cover: from the strategy's
// start (or its earliest baseline, the nuläge it states) to the end of its
// last day.
func strategyWindow(s *strategy.Strategy) (from, end time.Time) {
	from = s.Start
	for _, ind := range indicators(s) {
		if ind.Baseline != nil && !ind.Baseline.Date.IsZero() && ind.Baseline.Date.Before(from) {
			from = ind.Baseline.Date
		}
	}
	from = monthStart(from.Year(), from.Month())
	end = s.End.In(strategy.Stockholm).AddDate(0, 0, 1)
	return from, time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, strategy.Stockholm)
}

// TestDemoFaithfulToStrategy: for every example strategy (and a purely
// qualitative one), the demo generates the data its indicators read and
// nothing else, only inside the strategy's period, and assesses only the
// strategy's closed report periods.
func TestDemoFaithfulToStrategy(t *testing.T) {
	for name, s := range faithfulStrategies(t) {
		t.Run(name, func(t *testing.T) {
			p := generate(t, s, Options{Now: faithfulNow})
			if got, want := p.Facts, wantFacts(s); !slices.Equal(got, want) {
				t.Errorf("generated %v, the indicators read %v", got, want)
			}
			from, end := strategyWindow(s)
			if !p.From.Equal(from) || !p.Now.Equal(end) {
				t.Errorf("data from %s to %s, want the strategy's %s to %s", p.From, p.Now, from, end)
			}
			has := func(f string) bool { return slices.Contains(p.Facts, f) }
			files := p.Files
			if got := len(files.Cases) > 0; got != has("cases") {
				t.Errorf("case exports: %v, cases read: %v", got, has("cases"))
			}
			if got := len(files.EServices) > 0; got != has("eservices") {
				t.Errorf("e-service snapshots: %v, e-services read: %v", got, has("eservices"))
			}
			if got := len(files.Surveys) > 0; got != has("survey") {
				t.Errorf("surveys: %v, survey read: %v", got, has("survey"))
			}
			if got := files.Series != ""; got != has("series") {
				t.Errorf("series file: %v, series read: %v", got, has("series"))
			}
			if got := p.Prometheus.URL != "" || len(p.Probes) > 0 || len(p.Maintenance) > 0; got != has("probes") {
				t.Errorf("probes and Driftinformation services: %v, availability read: %v", got, has("probes"))
			}
			if len(p.Probes) > 0 {
				t.Errorf("%d live e-service probes for a strategy that ended %s", len(p.Probes), s.End.Format(time.DateOnly))
			}
			if got := p.Kolada.BaseURL != ""; got != has("kolada") {
				t.Errorf("Kolada: %v, Kolada read: %v", got, has("kolada"))
			}
			insts := map[string]bool{}
			for _, in := range p.Instances() {
				insts[in.Kind] = true
			}
			for kind, f := range map[string]string{"cases_csv": "cases", "eservices": "eservices", "survey_csv": "survey", "prometheus": "probes", "http_probe": "", "series_csv": "series", "kolada": "kolada"} {
				if insts[kind] != (f != "" && has(f)) {
					t.Errorf("collector %s configured: %v", kind, insts[kind])
				}
			}

			// Every generated date lies in the strategy's period. The
			// case exports start half a year earlier (caseWarmUp) so
			// long-running cases are decided in the first months.
			inside := func(what string, first, last time.Time) {
				t.Helper()
				if first.Before(from) || last.After(end) {
					t.Errorf("%s from %s to %s: outside %s–%s", what, first.Format(time.DateOnly), last.Format(time.DateOnly), from.Format(time.DateOnly), end.Format(time.DateOnly))
				}
			}
			month := regexp.MustCompile(`(\d{4})-(\d{2})(?:-(\d{2}))?\.csv$`)
			for _, list := range [][]string{files.Cases, files.EServices} {
				for _, f := range list {
					m := month.FindStringSubmatch(f)
					y, _ := strconv.Atoi(m[1])
					mo, _ := strconv.Atoi(m[2])
					at := monthStart(y, time.Month(mo))
					first := at
					if strings.Contains(f, "arenden-") {
						first = at.AddDate(0, caseWarmUp, 0)
					}
					inside(filepath.Base(f), first, at)
				}
			}
			for _, f := range files.Surveys {
				y, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "enkat-"), ".csv"))
				inside(filepath.Base(f), time.Date(y, 10, 1, 0, 0, 0, 0, strategy.Stockholm), time.Date(y, 10, 24, 0, 0, 0, 0, strategy.Stockholm))
			}
			if files.Series != "" {
				for _, row := range readCSV(t, files.Series, false, ';')[1:] {
					per, err := strategy.ParsePeriod(row[1])
					if err != nil {
						t.Fatalf("series period %q: %v", row[1], err)
					}
					// A period's value describes its last day: the first
					// is the baseline's.
					inside("series "+row[0]+" "+row[1], lastDay(per), per.End())
				}
			}
			if has("probes") {
				inside("probe history", p.Prometheus.From, p.Now)
				if p.Prometheus.Weekly != nil {
					t.Error("weekly maintenance rules, which run on past the history, for an ended strategy")
				}
				for _, w := range p.Maintenance {
					inside("maintenance window", w.Start, w.Start)
				}
			}
			if has("kolada") {
				if p.Kolada.FirstYear < from.Year() || p.Kolada.LastYear > end.Add(-time.Nanosecond).Year() || p.Kolada.LastYear < p.Kolada.FirstYear {
					t.Errorf("Kolada years %d–%d, strategy %s–%s", p.Kolada.FirstYear, p.Kolada.LastYear, from.Format(time.DateOnly), end.Format(time.DateOnly))
				}
				for _, c := range p.Kolada.Municipalities {
					if municipalities.Name(c) == "" {
						t.Errorf("Kolada municipality %s is not in the register", c)
					}
				}
			}

			// Assessments: only the strategy's report periods, none open.
			var last strategy.Period
			for _, a := range p.Assessments {
				if !a.Period.End().After(s.Start) || a.Period.End().After(end) || !progress.IsReportPeriod(s.Rhythm, a.Period) {
					t.Errorf("%s assessed for %s, outside the strategy's report periods", a.SubjectID, a.Period.Label("sv"))
				}
				if a.Period.End().After(last.End()) || last == (strategy.Period{}) {
					last = a.Period
				}
				if !a.Confirmed {
					t.Errorf("%s %s: not confirmed, though the strategy ended years ago", a.SubjectID, a.Period.Label("sv"))
				}
				if a.Created.After(faithfulNow) || a.Created.Before(a.Period.End()) {
					t.Errorf("%s %s: created %s", a.SubjectID, a.Period.Label("sv"), a.Created)
				}
			}
			if want := progress.ClosedReportPeriod(s.Rhythm, end); last != want {
				t.Errorf("latest assessed period %s, want the strategy's last, %s", last.Label("sv"), want.Label("sv"))
			}
		})
	}
}

// TestQualitativeStrategyDemo: a strategy of goals without indicators
// gets no data but an assessment with a comment for every goal in every
// closed report period of the strategy, levels that move over its course,
// and comments that differ.
func TestQualitativeStrategyDemo(t *testing.T) {
	s := faithfulStrategies(t)["kvalitativ"]
	p := generate(t, s, Options{Now: faithfulNow})
	if len(p.Facts) > 0 || len(p.Instances()) > 0 {
		t.Errorf("data %v and collectors %d for a strategy without indicators", p.Facts, len(p.Instances()))
	}
	var periods []strategy.Period
	for y := s.Start.Year(); y <= s.End.Year(); y++ {
		periods = append(periods, progress.ReportPeriods(s.Rhythm, y)...)
	}
	if len(periods) != 12 {
		t.Fatalf("%d report periods, want 12 (Q1–Q3 and the full year, 2015–2017)", len(periods))
	}
	type subject struct {
		goal   string
		period strategy.Period
	}
	got := map[subject]strategy.Assessment{}
	comments := map[string]bool{}
	for _, a := range p.Assessments {
		if a.Subject != strategy.SubjectGoal {
			t.Errorf("%s %s assessed: the strategy has only goals", a.Subject, a.SubjectID)
			continue
		}
		got[subject{a.SubjectID, a.Period}] = a
		comments[a.Comment] = true
	}
	levels := map[strategy.Level]int{}
	firstMet, lastMet := 0, 0
	for _, g := range s.Goals() {
		for i, per := range periods {
			a, ok := got[subject{g.ID, per}]
			if !ok {
				t.Errorf("goal %s not assessed for %s", g.ID, per.Label("sv"))
				continue
			}
			if a.Level == strategy.LevelNotAssessed || a.Level == strategy.LevelNone || !a.Confirmed || len(a.Comment) < 80 {
				t.Errorf("goal %s %s: level %q, confirmed %v, comment %q", g.ID, per.Label("sv"), a.Level, a.Confirmed, a.Comment)
			}
			levels[a.Level]++
			if a.Level == strategy.LevelMet {
				switch i {
				case 0:
					firstMet++
				case len(periods) - 1:
					lastMet++
				}
			}
		}
	}
	if len(got) != len(s.Goals())*len(periods) {
		t.Errorf("%d assessments, want one per goal and period (%d)", len(got), len(s.Goals())*len(periods))
	}
	if len(levels) < 3 || lastMet <= firstMet {
		t.Errorf("levels %v; met in the first period %d, in the last %d: want all three levels and progress", levels, firstMet, lastMet)
	}
	if len(comments) < len(got)*3/4 {
		t.Errorf("only %d different comments among %d assessments", len(comments), len(got))
	}
}

// TestInhabitantsSetVolumes: the volumes follow the municipality's size,
// and a size out of range is refused before anything is written.
func TestInhabitantsSetVolumes(t *testing.T) {
	s := faithfulStrategies(t)["norrtalje"]
	def := generate(t, s, Options{Now: faithfulNow})
	if def.Inhabitants != 58000 {
		t.Errorf("Norrtälje's default size %d, want 58000", def.Inhabitants)
	}
	small := generate(t, s, Options{Now: faithfulNow, Inhabitants: 11600})
	if r := float64(small.Rows.Cases) / float64(def.Rows.Cases); r < 0.18 || r > 0.22 {
		t.Errorf("cases %d for 11 600 inhabitants, %d for 58 000: ratio %.3f, want about 0.2", small.Rows.Cases, def.Rows.Cases, r)
	}
	q := faithfulStrategies(t)["kvalitativ"]
	q.Municipality.Code = "0643"
	if p := generate(t, q, Options{Now: faithfulNow}); p.Inhabitants != 20000 {
		t.Errorf("default size of a municipality the demo does not know: %d, want 20000", p.Inhabitants)
	}
	dir := t.TempDir()
	_, err := Generate(filepath.Join(dir, "x"), s, Options{Now: faithfulNow, Inhabitants: 12})
	if err == nil || !strings.Contains(err.Error(), "inhabitants 12: want 500–2 000 000") {
		t.Errorf("12 inhabitants: %v", err)
	}
	if _, statErr := os.Stat(filepath.Join(dir, "x")); !os.IsNotExist(statErr) {
		t.Errorf("a refused size wrote %s", filepath.Join(dir, "x"))
	}
}

// TestPeersFromRegister: a municipality without a peer set is compared
// with real municipalities of its county (others where the county has too
// few), so the pages can name them.
func TestPeersFromRegister(t *testing.T) {
	for code, county := range map[string]string{"0643": "06", "2161": "21", "0980": ""} {
		ps := peersOf(code)
		if len(ps) != peerCount {
			t.Errorf("%s: peers %v", code, ps)
		}
		for _, c := range ps {
			m, ok := municipalities.Lookup(c)
			if !ok || c == code || (county != "" && m.County != county) {
				t.Errorf("%s: peer %s (%+v, in register %v)", code, c, m, ok)
			}
		}
	}
	if got := peersOf("0120"); !slices.Equal(got, peerSets["0120"]) {
		t.Errorf("Värmdö's peers %v, want its peer set", got)
	}
}
