// Package demo generates deterministic, realistic synthetic data for a
// strategy in the real input formats — case-management exports, e-service
// catalogue snapshots, survey exports and a series file — and starts
// loopback upstreams that answer like Kolada, Prometheus and a few
// e-services, so `malbild demo` and the benchmarks run the real collectors
// over them.
//
// Each indicator gets a scenario (on track, at risk, off track, target
// met) and the raw facts are generated so that the built-in measures
// computed from them follow it relative to the indicator's target path.
// Only the facts the strategy's indicators read are generated, and only
// for the strategy's period: from its start (or earliest baseline) to its
// end, or to now while it runs. Nothing generated names a person.
package demo

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// Options control Generate.
type Options struct {
	// Seed makes the data reproducible (default 1).
	Seed int64
	// Scale multiplies the volume of cases and of probe history (≥ 1,
	// default 1: a year of probes). It is for load tests; the
	// municipality's size is Inhabitants.
	Scale int
	// Inhabitants is the municipality's population, which sets the
	// volumes (cases, survey responses): about 1 500 cases a month for
	// Värmdö's 45 000. Default: the size of the example municipalities,
	// else 20 000, about the median Swedish municipality.
	Inhabitants int
	// Now is the current time (default: time.Now). The data ends at Now
	// or at the end of the strategy, whichever comes first, and only
	// report periods closed by Now are assessed. Collectors reject dates
	// in the future, so Now must not be later than the time the
	// collectors run.
	Now time.Time
}

// Plan describes what Generate wrote and started.
type Plan struct {
	Dir    string
	Tenant string    // the strategy's kommunkod
	From   time.Time // first day of the data (the case exports start six months earlier)
	Now    time.Time // end of the data: Options.Now, or the day after the strategy's end
	// Clock is Options.Now: when the data was generated.
	Clock       time.Time
	Seed        int64
	Scale       int
	Inhabitants int
	// Facts lists, in a fixed order, what data was generated: cases,
	// eservices, survey, probes, series, kolada — only what the
	// strategy's indicators (and its maturity model's surveys) read.
	Facts []string

	Files Files
	// Kolada is the loopback Kolada API.
	Kolada KoladaUpstream
	// Prometheus is the loopback Prometheus with the probe history (from
	// Prometheus.From to Now; when Now was the current time, the history
	// goes on growing with the clock while the server runs).
	Prometheus PrometheusUpstream
	// Probes are the loopback e-services for the live http_probe (one of
	// them answers 503).
	Probes []ProbeTarget
	// Maintenance are the weekly maintenance windows of the monitored
	// services over the probe history and the coming week, one by one.
	Maintenance []facts.MaintenanceWindow

	// Indicators says, per indicator in strategy order, which scenario its
	// facts follow.
	Indicators []IndicatorPlan
	// MaturitySurveys are the self-assessment series of the maturity
	// dimensions that name one, in the series file with the indicators'.
	MaturitySurveys []MaturitySurvey
	// Assessments are ILS-style assessments of indicators and goals for
	// the latest report periods; those of the latest period are partly
	// drafts.
	Assessments []strategy.Assessment
	// BodyReports are the responsible bodies' reports on their goals and
	// ActivityUpdates the activities' follow-up, for the same periods.
	BodyReports     []clickhouse.BodyReport
	ActivityUpdates []clickhouse.ActivityUpdate
	Rows            Rows

	servers []*http.Server
}

// Files are the generated files, by kind, in the order written.
type Files struct {
	CasesDir     string
	Cases        []string // arenden-YYYY-MM.csv, Windows-1252
	EServicesDir string
	EServices    []string // eservices-YYYY-MM-DD.csv, UTF-8 with BOM
	SurveyDir    string
	Surveys      []string // enkat-YYYY.csv, UTF-8, comma-separated
	Series       string   // serier/serier.csv; "" when no indicator or maturity survey has a series
}

// KoladaUpstream is the loopback Kolada API.
type KoladaUpstream struct {
	BaseURL        string   // e.g. http://127.0.0.1:41234/v3
	KPIs           []string // KPIs of the strategy's indicators
	Municipalities []string // the tenant's own code first, then its peers
	FirstYear      int
	LastYear       int
	// Indicator maps a KPI to the indicator it feeds.
	Indicator map[string]string
}

// PrometheusUpstream is the loopback Prometheus.
type PrometheusUpstream struct {
	URL      string    // e.g. http://127.0.0.1:41235
	From     time.Time // start of the probe history
	Step     time.Duration
	Services []string
	// Weekly are the services' weekly maintenance windows when they are
	// the same length every week, as the prometheus instance declares
	// them; nil when an indicator of the share of time in maintenance
	// makes their length change, or when the strategy has ended (the
	// instance then lists Plan.Maintenance one by one).
	Weekly []WeeklyWindow
}

// WeeklyWindow is a weekly maintenance window in Swedish local time.
type WeeklyWindow struct {
	Service  string
	Weekday  time.Weekday
	From, To int // minutes after midnight; To before From runs over midnight
	Note     string
}

// on is the window's occurrence on the (Stockholm) day of t, read in
// local time as a collector reads a weekly rule.
func (w WeeklyWindow) on(t time.Time) facts.MaintenanceWindow {
	l := t.In(strategy.Stockholm)
	start := time.Date(l.Year(), l.Month(), l.Day(), 0, w.From, 0, 0, strategy.Stockholm)
	endDay := l.Day()
	if w.To <= w.From {
		endDay++ // over midnight
	}
	end := time.Date(l.Year(), l.Month(), endDay, 0, w.To, 0, 0, strategy.Stockholm)
	return facts.MaintenanceWindow{Service: w.Service, Start: start, End: end, Note: w.Note}
}

// ProbeTarget is one loopback e-service.
type ProbeTarget struct {
	Name    string
	URL     string
	Healthy bool
}

// Rows counts what was generated.
type Rows struct {
	Cases        int
	EServices    int // rows over all snapshots
	Snapshots    int
	Responses    int
	Series       int
	Benchmarks   int // Kolada values (one per KPI, place, year and gender)
	ProbeSamples int // probe_success samples in the history
}

// IndicatorPlan is what the demo did for one indicator.
type IndicatorPlan struct {
	Indicator string
	Scenario  Scenario
	// Facts is what the indicator's values come from: cases, eservices,
	// survey, probes (built-in measures), series or kolada; "" for none.
	Facts string
	// Shaped reports whether the generated facts follow this indicator's
	// scenario. False when another indicator shaped the same facts
	// (Driver) or no data is generated for it.
	Shaped bool
	Driver string

	traj *trajectory
}

// Expected is the value the scenario aims at on t, before noise and
// seasonality.
func (ip IndicatorPlan) Expected(t time.Time) float64 { return ip.traj.Value(t) }

// Target is the indicator's target path on t.
func (ip IndicatorPlan) Target(t time.Time) float64 { return ip.traj.Target(t) }

// Indicator returns the plan of indicator id.
func (p *Plan) Indicator(id string) (IndicatorPlan, bool) {
	for _, ip := range p.Indicators {
		if ip.Indicator == id {
			return ip, true
		}
	}
	return IndicatorPlan{}, false
}

// Close stops the loopback servers.
func (p *Plan) Close() error {
	var errs []error
	for _, s := range p.servers {
		errs = append(errs, s.Close())
	}
	p.servers = nil
	return errors.Join(errs...)
}

// caseWarmUp is how many months before the data the case exports start.
const caseWarmUp = 6

// casesPerMonth is the monthly volume at scale 1, for a municipality of
// Värmdö's size (about 45 000 inhabitants).
const casesPerMonth = 1500

// Generate writes the demo data for s into dir (created if missing) and
// starts the loopback upstreams. The files depend only on s and
// opts (Seed, Scale, Now); call Plan.Close to stop the servers.
func Generate(dir string, s *strategy.Strategy, opts Options) (*Plan, error) {
	if s == nil {
		return nil, errors.New("demo: no strategy")
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Scale == 0 {
		opts.Scale = 1
	}
	if opts.Scale < 1 || opts.Scale > 1000 {
		return nil, fmt.Errorf("demo: scale %d: want 1–1000", opts.Scale)
	}
	if opts.Inhabitants == 0 {
		opts.Inhabitants = defaultInhabitants(s.Municipality.Code)
	}
	if opts.Inhabitants < 500 || opts.Inhabitants > 2_000_000 {
		return nil, fmt.Errorf("demo: inhabitants %d: want 500–2 000 000", opts.Inhabitants)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	opts.Now = opts.Now.In(strategy.Stockholm).Truncate(time.Minute)
	g, err := newGenerator(s, opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	p := &Plan{
		Dir: dir, Tenant: s.Municipality.Code, From: g.from, Now: g.now, Clock: g.clock,
		Seed: opts.Seed, Scale: opts.Scale, Inhabitants: opts.Inhabitants, MaturitySurveys: g.surveys,
	}
	for _, f := range factOrder {
		if g.uses[f] {
			p.Facts = append(p.Facts, f)
		}
	}
	for _, ind := range indicators(s) {
		p.Indicators = append(p.Indicators, *g.plans[ind.ID])
	}
	if err := g.writeFiles(p); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	p.Assessments = g.assessments()
	p.BodyReports, p.ActivityUpdates = g.bodyReports(), g.activityUpdates()
	if err := g.start(p); err != nil {
		p.Close()
		return nil, fmt.Errorf("demo: starting loopback upstreams: %w", err)
	}
	return p, nil
}

// generator holds the models built from a strategy.
type generator struct {
	s     *strategy.Strategy
	seed  int64
	scale int
	// people is the municipality's population relative to Värmdö's
	// 45 000, the size the volumes are tuned for.
	people float64
	now    time.Time // end of the data
	clock  time.Time // Options.Now
	from   time.Time
	// uses says which facts the strategy reads (factOrder's names).
	uses    map[string]bool
	plans   map[string]*IndicatorPlan
	host    string // host name used in e-service addresses
	cases   *caseModel
	eserv   *eserviceModel
	survey  *surveyModel
	probes  *probeModel
	kolada  *koladaServer
	series  []seriesSpec
	surveys []MaturitySurvey
	volumes []monthVolume
}

func newGenerator(s *strategy.Strategy, opts Options) (*generator, error) {
	g := &generator{
		s: s, seed: opts.Seed, scale: opts.Scale, people: float64(opts.Inhabitants) / 45000,
		now: opts.Now, clock: opts.Now, plans: map[string]*IndicatorPlan{}, uses: map[string]bool{},
	}
	// A strategy that has ended gets data up to its end: its follow-up
	// (the last reports, Kolada's figures for its last year) comes after.
	if !s.End.IsZero() {
		if end := s.End.In(strategy.Stockholm).AddDate(0, 0, 1); end.Before(g.now) {
			g.now = time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, strategy.Stockholm)
		}
	}
	name := s.Municipality.Slug
	if name == "" {
		name = slug(strings.TrimSuffix(strings.TrimSuffix(s.Municipality.Name, " kommun"), " stad"))
	}
	if name == "" {
		name = "kommunen"
	}
	g.host = "e-tjanster." + name + ".example"

	// The data starts with the month of the earliest baseline (or the
	// strategy's start), at most 25 years back.
	from := s.Start
	for _, ind := range indicators(s) {
		if ind.Baseline != nil && !ind.Baseline.Date.IsZero() && (from.IsZero() || ind.Baseline.Date.Before(from)) {
			from = ind.Baseline.Date
		}
	}
	if from.IsZero() || from.After(g.now) {
		from = g.now.AddDate(-3, 0, 0)
	}
	if earliest := g.now.AddDate(-25, 0, 0); from.Before(earliest) {
		from = earliest
	}
	from = from.In(strategy.Stockholm)
	g.from = monthStart(from.Year(), from.Month())
	if !g.from.Before(g.now) {
		return nil, fmt.Errorf("demo: nothing to generate between %s and %s", g.from.Format(time.DateOnly), g.now.Format(time.DateOnly))
	}

	start := s.Start
	if start.IsZero() {
		start = g.from
	}
	scen := assignScenarios(s, g.seed)
	for _, ind := range indicators(s) {
		g.plans[ind.ID] = &IndicatorPlan{
			Indicator: ind.ID, Scenario: scen[ind.ID], Facts: planFacts(ind),
			traj: newTrajectory(ind, scen[ind.ID], start, g.now),
		}
		if f := g.plans[ind.ID].Facts; f != "" {
			g.uses[f] = true
		}
	}
	// Only the facts some indicator reads are generated: no cases, probes
	// or survey for a strategy that measures none of them.
	for _, b := range []struct {
		kind  string
		build func()
	}{{"cases", g.buildCases}, {"eservices", g.buildEServices}, {"survey", g.buildSurvey}, {"probes", g.buildProbes}, {"kolada", g.buildKolada}} {
		if g.uses[b.kind] {
			b.build()
		}
	}
	g.buildSeries()
	g.buildMaturitySurveys()
	if len(g.series) > 0 {
		g.uses["series"] = true
	}
	return g, nil
}

// factOrder names the kinds of generated data in Plan.Facts' order.
var factOrder = []string{"cases", "eservices", "survey", "probes", "series", "kolada"}

// defaultInhabitants is the population of the example municipalities
// (rounded, in the years of their strategies), else about the median
// Swedish municipality's.
func defaultInhabitants(code string) int {
	if n, ok := inhabitants[code]; ok {
		return n
	}
	return 20000
}

// planFacts says where ind's values come from: the raw facts its measure
// reads (the measure registry says which), or "kolada" or "series".
func planFacts(ind *strategy.Indicator) string {
	switch {
	case ind.Source.Measure != "":
		m, _ := clickhouse.LookupMeasure(ind.Source.Measure)
		return string(m.Facts)
	case ind.Source.Kolada != "":
		return "kolada"
	case ind.Series() != "":
		return "series"
	}
	return ""
}

// driver marks ind as the one whose scenario shapes a part of the facts,
// and returns its trajectory; later indicators on the same facts point to
// it.
func (g *generator) drive(ind *strategy.Indicator) *trajectory {
	p := g.plans[ind.ID]
	p.Shaped, p.Driver = true, ind.ID
	return p.traj
}

func (g *generator) follow(ind *strategy.Indicator, driver string) {
	p := g.plans[ind.ID]
	p.Shaped, p.Driver = false, driver
}

// measureIndicators lists the indicators computed by one of the named
// measures, in strategy order.
func (g *generator) measureIndicators(names ...string) []*strategy.Indicator {
	var out []*strategy.Indicator
	for _, ind := range indicators(g.s) {
		for _, n := range names {
			if ind.Source.Measure == n {
				out = append(out, ind)
			}
		}
	}
	return out
}

func param(ind *strategy.Indicator, k string) string { return strings.TrimSpace(ind.Source.Params[k]) }

// listParam splits a comma-list parameter.
func listParam(ind *strategy.Indicator, k string) []string {
	var out []string
	for _, v := range strings.Split(ind.Source.Params[k], ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// linear is a straight line from a at time t0 to b at time t1, flat
// outside.
func linear(a, b float64, t0, t1 time.Time) func(t float64) float64 {
	x0, x1 := unix(t0), unix(t1)
	return func(t float64) float64 { return a + (b-a)*clamp((t-x0)/(x1-x0), 0, 1) }
}

func (g *generator) buildCases() {
	cm := &caseModel{seed: g.seed, types: append([]caseType(nil), caseTypes...), calib: 1}
	cm.setNow(g.now)
	cm.digital = linear(0.10, 0.75, g.from, g.now)
	cm.dur = func(float64) float64 { return 1 }

	// Case types named by indicators that the vocabulary lacks are added,
	// so every filter finds cases.
	for _, ind := range g.measureIndicators("digital_share", "handling_time_median", "handling_time_p90") {
		for _, name := range listParam(ind, "case_types") {
			if cm.typeIndex(name) < 0 {
				dept := 3
				if d := departmentIndex(param(ind, "department")); d >= 0 {
					dept = d
				}
				cm.types = append(cm.types, caseType{Name: name, Kind: "Ansökan", Dept: dept, Weight: 0.04, Days: 30, Spread: 0.45})
			}
		}
	}
	cm.cum = cm.weights()

	digitalDriver := ""
	for _, ind := range g.measureIndicators("digital_share") {
		types, ok := cm.filtered(ind)
		switch {
		case !ok:
			g.follow(ind, "")
		case types == nil && digitalDriver == "":
			tr := g.drive(ind)
			cm.digital = func(t float64) float64 { return tr.value(t) / 100 }
			digitalDriver = ind.ID
		case types == nil:
			g.follow(ind, digitalDriver)
		default:
			tr := g.drive(ind)
			for _, i := range types {
				if cm.typeDigital == nil {
					cm.typeDigital = map[int]func(float64) float64{}
				}
				cm.typeDigital[i] = func(t float64) float64 { return tr.value(t) / 100 }
			}
		}
	}

	durDriver := ""
	for _, ind := range g.measureIndicators("handling_time_median", "handling_time_p90") {
		types, ok := cm.filtered(ind)
		if !ok {
			g.follow(ind, "")
			continue
		}
		if types == nil && durDriver != "" {
			g.follow(ind, durDriver)
			continue
		}
		tr := g.drive(ind)
		stat := caseStat{p: 0.5, types: map[int]bool{}}
		if ind.Source.Measure == "handling_time_p90" {
			stat.p = 0.9
		}
		top, _ := strconv.Atoi(param(ind, "top")) // the measure rejects a bad top itself
		cover := types
		if cover == nil {
			for i := range cm.types {
				cover = append(cover, i)
			}
		}
		if top > 0 && top < len(cover) {
			cover = cm.mostCommon(cover, top)
		}
		for _, i := range cover {
			stat.types[i] = true
		}
		base := tr.value(tr.t0)
		if types == nil {
			cm.calib = cm.calibrate(stat, base)
			cm.dur = func(t float64) float64 { return tr.value(t) / base }
			durDriver = ind.ID
			continue
		}
		k := cm.calibrate(stat, base) / cm.calib
		for _, i := range types {
			if cm.typeDur == nil {
				cm.typeDur = map[int]func(float64) float64{}
			}
			cm.typeDur[i] = func(t float64) float64 { return k * tr.value(t) / base }
		}
	}
	g.cases = cm

	// Volumes: seasonal, growing with the population, with some noise.
	r := newRand(g.seed, 'v')
	// The exports start half a year before the data, so the cases decided
	// in the first months include long-running ones, as they would in a
	// system that was in use before the baseline.
	midYear := float64(g.from.Year()+g.now.Year()) / 2
	for t := g.from.AddDate(0, -caseWarmUp, 0); t.Before(g.now); t = t.AddDate(0, 1, 0) {
		n := float64(casesPerMonth*g.scale) * g.people * volumeSeason[t.Month()-1] / 0.979 *
			(1 + 0.012*(float64(t.Year())-midYear)) * (1 + 0.03*r.NormFloat64())
		if end := t.AddDate(0, 1, 0); end.After(g.now) {
			n *= g.now.Sub(t).Hours() / end.Sub(t).Hours()
		}
		g.volumes = append(g.volumes, monthVolume{Year: t.Year(), Month: t.Month(), N: int(math.Round(n))})
	}
}

// typeIndex is the index of the case type called name, or -1.
func (cm *caseModel) typeIndex(name string) int {
	for i, ct := range cm.types {
		if strings.EqualFold(ct.Name, name) {
			return i
		}
	}
	return -1
}

func departmentIndex(name string) int {
	for i, d := range departments {
		if name != "" && strings.EqualFold(d.Name, name) {
			return i
		}
	}
	return -1
}

// filtered returns the case types an indicator's case_types and
// department parameters select: nil for all; ok is false when the
// department is unknown.
func (cm *caseModel) filtered(ind *strategy.Indicator) (types []int, ok bool) {
	names := listParam(ind, "case_types")
	dept := param(ind, "department")
	if len(names) == 0 && dept == "" {
		return nil, true
	}
	d := departmentIndex(dept)
	if dept != "" && d < 0 {
		return nil, false
	}
	for i, ct := range cm.types {
		if len(names) > 0 && !containsFold(names, ct.Name) {
			continue
		}
		if d >= 0 && ct.Dept != d {
			continue
		}
		types = append(types, i)
	}
	return types, len(types) > 0
}

func containsFold(xs []string, s string) bool {
	for _, x := range xs {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// mostCommon keeps the n types of ts with the highest weight.
func (cm *caseModel) mostCommon(ts []int, n int) []int {
	out := append([]int(nil), ts...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && cm.types[out[j]].Weight > cm.types[out[j-1]].Weight; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out[:n]
}

func (g *generator) buildEServices() {
	main := &eserviceSegment{
		prefix:     "ET",
		active:     linear(20, 60, g.from, g.now),
		integrated: linear(0.25, 0.70, g.from, g.now),
		eid:        linear(0.35, 0.85, g.from, g.now),
	}
	em := &eserviceModel{seed: g.seed, host: g.host, segments: []*eserviceSegment{main}}
	// segment returns the segment an indicator's category and department
	// parameters select, creating it on first use.
	segment := func(ind *strategy.Indicator) *eserviceSegment {
		cat, dep := param(ind, "category"), param(ind, "department")
		if cat == "" && dep == "" {
			return main
		}
		for _, seg := range em.segments[1:] {
			if strings.EqualFold(seg.category, cat) && strings.EqualFold(seg.department, dep) {
				return seg
			}
		}
		n := len(em.segments)
		seg := &eserviceSegment{
			category: cat, department: dep, prefix: fmt.Sprintf("E%c", 'A'+n%26), offset: 17 * n,
			active:     linear(5, 20, g.from, g.now),
			integrated: linear(0.4, 0.9, g.from, g.now),
			eid:        linear(0.5, 1, g.from, g.now),
		}
		em.segments = append(em.segments, seg)
		return seg
	}
	drivers := map[*eserviceSegment]map[string]string{}
	var subs []*eserviceSegment
	for _, ind := range g.measureIndicators("eservices_active", "eservices_integrated_share", "eservices_eid_share") {
		seg := segment(ind)
		if drivers[seg] == nil {
			drivers[seg] = map[string]string{}
			if seg != main {
				subs = append(subs, seg)
			}
		}
		m := ind.Source.Measure
		if d, ok := drivers[seg][m]; ok {
			g.follow(ind, d)
			continue
		}
		tr := g.drive(ind)
		drivers[seg][m] = ind.ID
		share := func(t float64) float64 { return tr.value(t) / 100 }
		switch m {
		case "eservices_active":
			seg.active = tr.value
		case "eservices_integrated_share":
			seg.integrated = share
		case "eservices_eid_share":
			seg.eid = share
		}
	}
	// An unfiltered count covers every segment: the main segment makes up
	// the rest.
	if total := main.active; len(subs) > 0 && drivers[main]["eservices_active"] != "" {
		main.active = func(t float64) float64 {
			v := total(t)
			for _, seg := range subs {
				v -= math.Round(seg.active(t))
			}
			return math.Max(v, 1)
		}
	}
	for _, ind := range g.measureIndicators("eservices_added", "eservices_retired") {
		g.follow(ind, drivers[segment(ind)]["eservices_active"])
	}
	g.eserv = em
}

func (g *generator) buildSurvey() {
	sm := &surveyModel{seed: g.seed}
	def := linear(3.2, 3.7, g.from, g.now)
	sm.level = func(t float64) float64 { return solveLevel(surveyFilter{}, def(t), expectedScore) }
	staff := math.Max(800*g.people, 60) // a survey of the staff: more of them in a larger municipality
	sm.responses = func(t float64) float64 { return staff * (1 + 0.1*clamp((t-unix(g.from))/yearSeconds/10, 0, 1)) }
	levelDriver, respDriver := "", ""
	for _, ind := range g.measureIndicators("satisfaction_mean", "satisfaction_top_share", "satisfaction_systems_top_share", "satisfaction_responses") {
		f := surveyFilter{system: param(ind, "system"), group: param(ind, "group")}
		if !surveyFilterMatches(f) {
			g.follow(ind, "")
			continue
		}
		min := 4.0
		if v, err := strategy.ParseNumber(param(ind, "min")); err == nil && param(ind, "min") != "" {
			min = v
		}
		switch m := ind.Source.Measure; {
		case m == "satisfaction_responses":
			if respDriver != "" {
				g.follow(ind, respDriver)
				continue
			}
			tr := g.drive(ind)
			share := 0.0
			for _, row := range surveyWeights(f) {
				for _, w := range row {
					share += w
				}
			}
			sm.responses = func(t float64) float64 { return tr.value(t) / share }
			respDriver = ind.ID
		case levelDriver != "":
			g.follow(ind, levelDriver)
		case m == "satisfaction_mean":
			tr := g.drive(ind)
			sm.level = func(t float64) float64 { return solveLevel(f, tr.value(t), expectedScore) }
			levelDriver = ind.ID
		case m == "satisfaction_top_share":
			tr := g.drive(ind)
			sm.level = func(t float64) float64 {
				return solveLevel(f, tr.value(t)/100, func(mu float64) float64 { return topShare(mu, min) })
			}
			levelDriver = ind.ID
		case m == "satisfaction_systems_top_share":
			if f.system != "" || f.group != "" {
				g.follow(ind, "")
				continue
			}
			tr := g.drive(ind)
			sm.systemMeans = func(t float64) []float64 { return systemTopMeans(tr.value(t)/100, min) }
			levelDriver = ind.ID
		}
	}
	g.survey = sm
}

// surveyFilterMatches reports whether any generated answer passes f.
func surveyFilterMatches(f surveyFilter) bool {
	for _, row := range surveyWeights(f) {
		for _, w := range row {
			if w > 0 {
				return true
			}
		}
	}
	return false
}

// surveyName is the survey's name in the exports: the name an indicator
// filters on, else "Systemenkät <year>".
func (g *generator) surveyName() string {
	for _, ind := range g.measureIndicators("satisfaction_mean", "satisfaction_top_share", "satisfaction_systems_top_share", "satisfaction_responses") {
		if s := param(ind, "survey"); s != "" {
			return s
		}
	}
	return ""
}

// probeHistory is how far back the Prometheus history reaches.
func (g *generator) probeHistory() time.Time {
	from := g.now.AddDate(0, 0, -365*g.scale)
	if from.Before(g.from) {
		from = g.from
	}
	return time.Unix(from.Unix()-from.Unix()%probeInterval, 0)
}

func (g *generator) buildProbes() {
	services := demoServices(g.host)
	pm := defaultProbeModel(g.seed, services)
	pm.start, pm.end = g.probeHistory().Unix(), g.now.Unix()
	pm.uptime = func(int, float64) float64 { return 99.6 }
	uptime := map[int]*trajectory{}
	latency := map[int]func(float64) float64{}
	var maint *trajectory
	svcIndex := func(name string) int {
		for i, s := range services {
			if strings.EqualFold(s.Name, name) {
				return i
			}
		}
		return -1
	}
	all := make([]int, len(services))
	for i := range all {
		all[i] = i
	}
	targets := func(ind *strategy.Indicator) ([]int, bool) {
		if name := param(ind, "service"); name != "" {
			i := svcIndex(name)
			return []int{i}, i >= 0
		}
		return all, true
	}
	drivers := map[string]string{}
	for _, ind := range g.measureIndicators("availability_uptime", "availability_maintenance_share", "response_time_mean", "response_time_p95") {
		svcs, ok := targets(ind)
		m := ind.Source.Measure
		group := m
		if strings.HasPrefix(m, "response_time") {
			group = "response_time"
		}
		group += "/" + param(ind, "service")
		switch {
		case !ok:
			g.follow(ind, "")
			continue
		case drivers[group] != "":
			g.follow(ind, drivers[group])
			continue
		}
		tr := g.drive(ind)
		drivers[group] = ind.ID
		switch m {
		case "availability_uptime":
			for _, i := range svcs {
				uptime[i] = tr
			}
		case "availability_maintenance_share":
			maint = tr
		default:
			// Scale each service's usual latency so the pooled statistic
			// of the chosen services follows the trajectory.
			ratio := latencyRatio(g.seed, services, svcs, m == "response_time_p95")
			for _, i := range svcs {
				i := i
				latency[i] = func(t float64) float64 { return tr.value(t) / ratio * services[i].Latency }
			}
		}
	}
	pm.uptime = func(svc int, t float64) float64 {
		if tr := uptime[svc]; tr != nil {
			return tr.value(t)
		}
		return 99.6
	}
	pm.latency = func(svc int, t float64) float64 {
		if f := latency[svc]; f != nil {
			return f(t)
		}
		return services[svc].Latency
	}
	if maint != nil {
		pm.maintMinutes = func(_ int, t float64) int {
			m := maint.value(t) / 100 * 7 * 1440
			return int(clamp(math.Round(m/5)*5, 0, 600))
		}
	}
	g.probes = pm
}

// latencyRatio is the pooled mean (or 95th percentile) response time of
// the services svcs over a day, in units of their mean usual latency, so
// that latency = target / ratio × usual latency gives the target.
func latencyRatio(seed int64, services []probeService, svcs []int, p95 bool) float64 {
	pm := defaultProbeModel(seed, services)
	pm.uptime = func(int, float64) float64 { return 100 }
	pm.maintMinutes = func(int, float64) int { return 0 }
	var xs []float64
	mean := 0.0
	for _, i := range svcs {
		mean += services[i].Latency / float64(len(svcs))
		c := probeCursor{pm: pm, svc: i}
		start := time.Date(2024, 3, 4, 0, 0, 0, 0, strategy.Stockholm).Unix()
		for ts := start; ts < start+14*86400; ts += probeInterval {
			xs = append(xs, c.at(ts).seconds*1000)
		}
	}
	var stat float64
	if p95 {
		stat = quantile(xs, 0.95)
	} else {
		for _, x := range xs {
			stat += x / float64(len(xs))
		}
	}
	return stat / mean
}

func quantile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func (g *generator) buildKolada() {
	own := g.s.Municipality.Code
	peers := peersOf(own)
	// Values for a year are published from March the year after; the
	// strategy's last year is among them once published (its follow-up).
	last := g.clock.Year() - 1
	if g.clock.Before(time.Date(g.clock.Year(), 3, 1, 0, 0, 0, 0, strategy.Stockholm)) {
		last--
	}
	if y := g.now.Add(-time.Nanosecond).Year(); y < last {
		last = y
	}
	ks := &koladaServer{seed: g.seed, own: own, peers: peers, first: g.from.Year(), last: last, kpis: map[string]*koladaKPI{}, now: g.clock}
	for _, ind := range indicators(g.s) {
		id := ind.Source.Kolada
		if id == "" {
			continue
		}
		if _, dup := ks.kpis[id]; dup {
			g.follow(ind, "")
			continue
		}
		tr := g.drive(ind)
		// A year's value describes its last day, as the progress engine
		// reads it.
		end := func(y int) float64 { return unix(time.Date(y, 12, 31, 0, 0, 0, 0, strategy.Stockholm)) }
		ks.kpis[id] = &koladaKPI{
			id:      id,
			own:     func(y int) float64 { return tr.value(end(y)) },
			target:  func(y int) float64 { return tr.path(end(y)) },
			lo:      tr.lo,
			hi:      tr.hi,
			genders: hashString(id)%2 == 0,
		}
	}
	g.kolada = ks
}

func (g *generator) buildSeries() {
	for _, ind := range indicators(g.s) {
		if ind.Source.Measure != "" || ind.Source.Kolada != "" || ind.Series() == "" {
			continue
		}
		tr := g.drive(ind)
		kind := strategy.Tertial
		switch {
		case ind.Freshness >= 180*24*time.Hour:
			kind = strategy.Year
		case g.s.Rhythm == strategy.RhythmQuarter:
			kind = strategy.Quarter
		}
		spec := seriesSpec{
			name: ind.ID, value: tr.value, kind: kind, lo: tr.lo, hi: tr.hi,
			noise: 0.01 * tr.span, first: g.from,
		}
		if spec.hi > 1e12 {
			spec.hi = 1e12
		}
		if hashString(ind.ID)%3 == 0 {
			spec.dims = []string{"Socialförvaltningen", "Utbildningsförvaltningen", "Samhällsbyggnadsförvaltningen"}
		}
		g.series = append(g.series, spec)
	}
}

// writeFiles writes every file and fills p's files and row counts.
func (g *generator) writeFiles(p *Plan) error {
	f := &p.Files
	var err error
	if g.cases != nil {
		f.CasesDir = filepath.Join(p.Dir, "arenden")
		if f.Cases, p.Rows.Cases, err = g.cases.writeCaseFiles(f.CasesDir, g.volumes); err != nil {
			return err
		}
	}
	if g.eserv != nil {
		f.EServicesDir = filepath.Join(p.Dir, "etjanster")
		if f.EServices, p.Rows.EServices, err = g.eserv.writeEServiceFiles(f.EServicesDir, g.from, g.now); err != nil {
			return err
		}
		p.Rows.Snapshots = len(f.EServices)
	}
	if g.survey != nil {
		f.SurveyDir = filepath.Join(p.Dir, "enkater")
		if f.Surveys, p.Rows.Responses, err = g.survey.writeSurveyFiles(f.SurveyDir, g.from, g.now, g.surveyName()); err != nil {
			return err
		}
	}
	if len(g.series) > 0 {
		f.Series = filepath.Join(p.Dir, "serier", "serier.csv")
		if p.Rows.Series, err = writeSeriesFile(f.Series, g.series, g.seed, g.now); err != nil {
			return err
		}
	}
	return nil
}

// start starts the loopback servers and fills in their addresses.
func (g *generator) start(p *Plan) error {
	serve := func(h http.Handler) (string, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		p.servers = append(p.servers, srv)
		go srv.Serve(ln)
		return "http://" + ln.Addr().String(), nil
	}

	if g.kolada != nil {
		if err := g.startKolada(p, serve); err != nil {
			return err
		}
	}
	if g.probes != nil {
		if err := g.startProbes(p, serve); err != nil {
			return err
		}
	}
	return nil
}

// startKolada starts the loopback Kolada API.
func (g *generator) startKolada(p *Plan, serve func(http.Handler) (string, error)) error {
	base, err := serve(g.kolada.handler())
	if err != nil {
		return err
	}
	p.Kolada = KoladaUpstream{
		BaseURL: base + "/v3", Municipalities: append([]string{g.kolada.own}, g.kolada.peers...),
		FirstYear: g.kolada.first, LastYear: g.kolada.last, Indicator: map[string]string{},
	}
	for _, ind := range indicators(g.s) {
		if id := ind.Source.Kolada; id != "" && g.plans[ind.ID].Shaped {
			p.Kolada.KPIs = append(p.Kolada.KPIs, id)
			p.Kolada.Indicator[id] = ind.ID
		}
	}
	for _, e := range g.kolada.entries(p.Kolada.KPIs, p.Kolada.Municipalities, nil, "") {
		p.Rows.Benchmarks += len(e.Values)
	}
	return nil
}

// startProbes starts the loopback Prometheus with the probe history and,
// while the strategy runs, the e-services the live http_probe checks.
func (g *generator) startProbes(p *Plan, serve func(http.Handler) (string, error)) error {
	var err error
	ps := newPromServer(g.probes)
	// When the data ends now, the history goes on growing while the demo
	// runs, so scheduled collector runs find new samples.
	ps.live = math.Abs(time.Since(g.now).Minutes()) < 2
	if p.Prometheus.URL, err = serve(ps.handler()); err != nil {
		return err
	}
	p.Prometheus.From = time.Unix(g.probes.start, 0).In(strategy.Stockholm)
	p.Prometheus.Step = probeInterval * time.Second
	for _, s := range g.probes.services {
		p.Prometheus.Services = append(p.Prometheus.Services, s.Name)
	}
	p.Rows.ProbeSamples = len(g.probes.services) * int((g.probes.end-g.probes.start)/probeInterval+1)
	p.Maintenance = g.maintenanceWindows()
	if !g.running() {
		// A weekly rule has no end: the prometheus collector would write
		// its windows up to today, years after the history, one empty
		// range after another, so the windows are listed one by one. And a
		// probe now says nothing about an ended strategy.
		return nil
	}
	p.Prometheus.Weekly = g.weeklyWindows()
	live, err := serve(liveHandler())
	if err != nil {
		return err
	}
	for _, e := range liveServices {
		p.Probes = append(p.Probes, ProbeTarget{Name: e.name, URL: live + "/" + e.path, Healthy: e.status == http.StatusOK})
	}
	return nil
}

// running reports whether the strategy runs at the generator's clock:
// the data ends now, not at the strategy's end.
func (g *generator) running() bool { return !g.now.Before(g.clock) }

// lastMaintenanceDay is the day number of the last maintenance window
// listed: a week ahead while the strategy runs, else the data's last day.
func (g *generator) lastMaintenanceDay() int {
	if g.running() {
		return dayNumber(g.now) + 7
	}
	return dayNumber(g.now.Add(-time.Nanosecond))
}

// maintenanceWindows lists the weekly maintenance windows of the
// monitored services from the start of the probe history to
// lastMaintenanceDay.
func (g *generator) maintenanceWindows() []facts.MaintenanceWindow {
	var out []facts.MaintenanceWindow
	for svc := range g.probes.services {
		out = append(out, g.serviceWindows(svc)...)
	}
	return out
}

// serviceWindows lists the maintenance windows of service svc from the
// start of the probe history to lastMaintenanceDay.
func (g *generator) serviceWindows(svc int) []facts.MaintenanceWindow {
	pm := g.probes
	s := pm.services[svc]
	var out []facts.MaintenanceWindow
	for day, last := dayNumber(time.Unix(pm.start, 0)), g.lastMaintenanceDay(); day <= last; day++ {
		if weekday(day) != s.MaintDay {
			continue
		}
		dp := pm.plan(svc, day)
		if dp.maint.to <= dp.maint.from {
			continue
		}
		out = append(out, facts.MaintenanceWindow{
			Service: s.Name, Start: time.Unix(dp.maint.from, 0).In(strategy.Stockholm),
			End: time.Unix(dp.maint.to, 0).In(strategy.Stockholm), Note: maintNote,
		})
	}
	return out
}

// weeklyWindows says the services' maintenance windows as weekly rules:
// one per service, at its day and hour, as long as its windows. It is nil
// when some service's windows are not alike every week (an indicator of
// the share of time in maintenance changes their length), which a weekly
// rule cannot say.
func (g *generator) weeklyWindows() []WeeklyWindow {
	var out []WeeklyWindow
	for svc, s := range g.probes.services {
		ws := g.serviceWindows(svc)
		if len(ws) == 0 {
			return nil
		}
		from := s.MaintHour * 60
		w := WeeklyWindow{
			Service: s.Name, Weekday: time.Weekday(s.MaintDay), From: from,
			To: (from + int(ws[0].End.Sub(ws[0].Start).Minutes())) % 1440, Note: maintNote,
		}
		days := 0
		for day, last := dayNumber(time.Unix(g.probes.start, 0)), g.lastMaintenanceDay(); day <= last; day++ {
			if weekday(day) == s.MaintDay {
				days++
			}
		}
		// Every week has its window, and each is the weekly rule's.
		if len(ws) != days {
			return nil
		}
		for _, x := range ws {
			if !w.on(x.Start).Start.Equal(x.Start) || !w.on(x.Start).End.Equal(x.End) {
				return nil
			}
		}
		out = append(out, w)
	}
	return out
}
