package dashboards

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/municipalities"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

type option struct {
	Value, Label string
	Selected     bool
}

type benchmarkView struct {
	Title string
	Chart *chart
	Table table
}

type leadershipView struct {
	Lifecycle   *lifecycleView
	Strategy    string
	PeriodLabel string
	PrevLabel   string
	Action      string
	Periods     []option
	// The filters (area, owner, status), each with "" for all.
	Areas, Owners, Scales []option
	Filtered              string // "Visar 12 av 57 rader."
	Summary               *leadershipSummary
	Deviations            statusTable
	Rest                  statusTable // the goals and indicators without deviation
	// Unassessed says how many goals are not assessed ("N av M mål ej
	// bedömda"); empty when every goal is.
	Unassessed   string
	Overview     table
	GoalOverview table // goals per area on the one scale
	Maturity     *maturityView
	Indicators   table
	Benchmarks   []benchmarkView
}

// leadershipSummary is the counts at the top of /ledning: goals and
// indicators on the one scale, and what changed since the previous period.
type leadershipSummary struct {
	Goals, Indicators []glanceCount
	GoalsLine         string // "5 av 8 mål uppfyllda eller enligt plan"
	Changes           string
	Legend            []legendItem
}

// statusTable lists goals and indicators with the previous period's
// status beside the current one and the change between them.
type statusTable struct {
	Caption         string
	Prev, Cur       string // the periods' names, for the column heads
	Rows            []statusRow
	Empty           string
	WithoutDeviates bool
}

type statusRow struct {
	Kind        string // "Mål" / "Indikator"
	Title, Href string
	Owner       string
	Prev, Cur   *statusView
	Change      *changeView
	Value       string
	Why         string
	Deviation   int
	area, scale string
}

type changeView struct {
	Key, Symbol, Label string
}

func changeViewOf(c progress.Change, lang string) *changeView {
	if c == progress.ChangeNone {
		return nil
	}
	return &changeView{Key: string(c), Symbol: c.Symbol(), Label: c.Label(lang)}
}

// leadershipFilter is what /ledning is narrowed to: ?omrade=, ?ansvarig=,
// ?status=; "" is all.
type leadershipFilter struct {
	Area, Owner, Status string
}

func (f leadershipFilter) key() string { return f.Area + "|" + f.Owner + "|" + f.Status }

func (f leadershipFilter) values() url.Values {
	v := url.Values{}
	if f.Area != "" {
		v.Set("omrade", f.Area)
	}
	if f.Owner != "" {
		v.Set("ansvarig", f.Owner)
	}
	if f.Status != "" {
		v.Set("status", f.Status)
	}
	return v
}

func (f leadershipFilter) keeps(r statusRow) bool {
	return (f.Area == "" || r.area == f.Area) && (f.Owner == "" || r.Owner == f.Owner) && (f.Status == "" || r.scale == f.Status)
}

// owners lists the owners named in st, sorted.
func owners(st *strategy.Strategy) []string {
	seen := map[string]bool{}
	for _, a := range st.Areas {
		for _, g := range a.Goals {
			if g.Owner != "" {
				seen[g.Owner] = true
			}
			for _, ind := range g.Indicators {
				if ind.Owner != "" {
					seen[ind.Owner] = true
				}
			}
		}
	}
	return sortedKeys(seen)
}

// filterParam reads the filters; ok is false when one names no area,
// owner or status of the strategy.
func filterParam(r *http.Request, st *strategy.Strategy) (leadershipFilter, bool) {
	q := r.URL.Query()
	f := leadershipFilter{Area: q.Get("omrade"), Owner: q.Get("ansvarig"), Status: q.Get("status")}
	if f.Area != "" && !slices.ContainsFunc(st.Areas, func(a *strategy.GoalArea) bool { return a.ID == f.Area }) {
		return f, false
	}
	if f.Owner != "" && !slices.Contains(owners(st), f.Owner) {
		return f, false
	}
	if f.Status != "" && !slices.Contains(progress.Scales, progress.Scale(f.Status)) {
		return f, false
	}
	return f, true
}

// reportPeriods lists the report periods from the strategy's start (or
// the first year with values) up to open, newest first. A full year ends
// after its T2, so it is listed once it is the open period.
func reportPeriods(st *strategy.Strategy, open strategy.Period, raw *rawData) []strategy.Period {
	first := open.Year
	if !st.Start.IsZero() {
		first = min(first, st.Start.In(strategy.Stockholm).Year())
	}
	for _, obs := range raw.obs {
		for _, o := range obs {
			first = min(first, o.Period.Year)
		}
	}
	first = max(first, open.Year-20)
	var out []strategy.Period
	for y := open.Year; y >= first; y-- {
		ps := progress.ReportPeriods(st.Rhythm, y)
		for i := len(ps) - 1; i >= 0; i-- {
			if !ps[i].End().After(open.End()) {
				out = append(out, ps[i])
			}
		}
	}
	return out
}

// periodParam reads ?period= as a report period of the strategy's rhythm;
// ok is false when it is present but not one.
func periodParam(r *http.Request, st *strategy.Strategy, def strategy.Period) (strategy.Period, bool) {
	v := r.URL.Query().Get("period")
	if v == "" {
		return def, true
	}
	p, err := strategy.ParsePeriod(v)
	if err != nil || !progress.IsReportPeriod(st.Rhythm, p) || p.Year < 1990 || p.End().After(def.End()) {
		return def, false
	}
	return p, true
}

// leadershipPeriods is /ledning's period picker: the strategy's own report
// periods that have begun, plus its follow-up after the end
// (progress.StrategyReportPeriods, the follow-up's lists), newest first.
// A strategy without a start reaches back to its first values.
func leadershipPeriods(st *strategy.Strategy, rep *progress.Report, raw *rawData) []strategy.Period {
	first := rep.Open.Year
	if !st.Start.IsZero() {
		first = min(first, st.Start.In(strategy.Stockholm).Year())
	}
	for _, obs := range raw.obs {
		for _, o := range obs {
			first = min(first, o.Period.Year)
		}
	}
	return progress.StrategyReportPeriods(st, rep.Now, max(first, rep.Open.Year-20))
}

// reportAt is the full report as it stood at the end of period p (or now,
// for the period in progress).
func (s *Server) reportAt(snap *snapshot, p strategy.Period) *progress.Report {
	rep := snap.eval.full
	if p == rep.Open {
		return rep
	}
	at := p.End()
	if rep.Now.Before(at) {
		at = rep.Now
	}
	all := append(append([]strategy.Assessment(nil), snap.raw.latest...), snap.raw.confirmed...)
	return progress.Evaluate(snap.strat, snap.raw.obs, all, at)
}

// serveLeadership answers the leadership view: deviations first, the
// goal areas by status, the maturity index, each indicator's forecast
// against its 3- and 5-year targets and comparisons with other
// municipalities. Internal: signed-in staff only.
func (s *Server) serveLeadership(w http.ResponseWriter, r *http.Request) {
	if !s.internal(r) {
		s.serveError(w, r, http.StatusUnauthorized, "err_unauthorized")
		return
	}
	q := reqInfo(r)
	snap := s.data(r.Context(), q.strat)
	period, ok := periodParam(r, q.strat, snap.eval.full.Open)
	if !ok {
		s.serveError(w, r, http.StatusBadRequest, "err_bad_request")
		return
	}
	filter, ok := filterParam(r, q.strat)
	if !ok {
		s.serveError(w, r, http.StatusBadRequest, "err_bad_request")
		return
	}
	asked := r.URL.Query().Get("period") != ""
	periods := leadershipPeriods(q.strat, snap.eval.full, snap.raw)
	if !asked {
		period = leadershipPeriod(snap)
	}
	// A period outside the list can still be asked for by URL (like the
	// follow-up's report pages: what was written for it stays reachable);
	// the picker and the default keep to the strategy's periods.
	if !asked && len(periods) > 0 && !slices.Contains(periods, period) {
		period = periods[0]
	}
	s.serveCached(w, r, snap, "leadership|"+period.String()+"|"+strconv.FormatBool(asked)+"|"+filter.key(), func() (cached, error) {
		lang := q.lang
		st := q.strat
		rep := s.reportAt(snap, period)
		prev := progress.PrevReportPeriod(st.Rhythm, period)
		prevRep := s.reportAt(snap, prev)
		p := s.newPage(r, tr(lang, "leadership_title"), "leadership")
		kept := filter.values()
		if asked {
			kept.Set("period", period.String())
		}
		if len(kept) > 0 {
			p.keepQuery(kept)
		}
		p.Charts = true
		stalePage(p, snap)
		v := &leadershipView{
			Strategy:    st.Title.In(lang),
			PeriodLabel: period.Label(lang),
			PrevLabel:   prev.Label(lang),
			Action:      q.base + "/ledning",
			Lifecycle:   lifecycleOf(st, rep.Now, lang),
		}
		for _, rp := range periods {
			v.Periods = append(v.Periods, option{Value: rp.String(), Label: rp.Label(lang), Selected: rp == period})
		}
		v.Areas = []option{{Value: "", Label: tr(lang, "filter_all")}}
		for _, a := range st.Areas {
			v.Areas = append(v.Areas, option{Value: a.ID, Label: a.Title.In(lang), Selected: a.ID == filter.Area})
		}
		v.Owners = []option{{Value: "", Label: tr(lang, "filter_all")}}
		for _, o := range owners(st) {
			v.Owners = append(v.Owners, option{Value: o, Label: o, Selected: o == filter.Owner})
		}
		v.Scales = []option{{Value: "", Label: tr(lang, "filter_all")}}
		for _, sc := range progress.Scales {
			v.Scales = append(v.Scales, option{Value: sc.Key(), Label: sc.Symbol() + " " + sc.Label(lang), Selected: sc.Key() == filter.Status})
		}
		rows := s.statusRows(q.base, rep, prevRep, period, prev, lang)
		v.Summary = summaryOf(rows, prev, lang)
		v.Deviations, v.Rest = splitRows(rows, filter, period, prev, lang)
		if n := len(v.Deviations.Rows) + len(v.Rest.Rows); n < len(rows) {
			v.Filtered = trf(lang, "filtered", n, len(rows))
		}
		if n, m := unassessedGoals(rep, period); n > 0 {
			v.Unassessed = trf(lang, "goals_unassessed", n, m)
		}
		if len(rep.Indicators) > 0 {
			v.Overview = overviewTable(rep, lang)
		}
		v.GoalOverview = goalOverviewTable(rep, period, lang)
		// The maturity index as known now, like on / and in the API
		// (its trend shows the years); only its scope differs from /'s.
		m, err := maturityViewOf(snap.eval.full.Maturity, "", lang)
		if err != nil {
			return cached{}, err
		}
		if m != nil {
			m.Scope = trf(lang, "maturity_scope", maturityScope(true, lang))
		}
		v.Maturity = m
		v.Indicators = forecastTable(q.base, rep, lang)
		if v.Benchmarks, err = benchmarkViews(st, rep, snap.raw.benchmarks, lang); err != nil {
			return cached{}, err
		}
		p.Data = v
		return s.htmlPage("leadership", p)
	})
}

// statusRows is every goal and indicator (not dropped) with its place on
// the one scale for period and for the period before, in strategy order.
func (s *Server) statusRows(base string, rep, prevRep *progress.Report, period, prev strategy.Period, lang string) []statusRow {
	var rows []statusRow
	for _, gr := range rep.Goals {
		if gr.Dropped {
			continue
		}
		cur := internalGoalState(rep, gr, period, lang)
		before := progress.ScaleNotAssessed
		if pg := prevRep.Goal(gr.ID); pg != nil {
			before = internalGoalState(prevRep, pg, prev, lang).Scale
		}
		why := cur.Reason
		if !cur.Confirmed && cur.Level != strategy.LevelNone {
			why = "(" + tr(lang, "proposal_mark") + ") " + why
		}
		rows = append(rows, statusRow{Kind: tr(lang, "kind_goal"), Title: gr.Goal.Title.In(lang), Owner: gr.Goal.Owner,
			Prev: scaleStatus(before, lang), Cur: scaleStatus(cur.Scale, lang), Change: changeViewOf(progress.ChangeOf(before, cur.Scale), lang),
			Value: "–", Why: why, Deviation: cur.Scale.Deviation(), area: gr.Area.ID, scale: cur.Scale.Key()})
	}
	for _, ir := range rep.Indicators {
		if ir.Dropped {
			continue
		}
		cur := ir.Status.Status
		before := progress.StatusNoData
		if pi := prevRep.Indicator(ir.ID); pi != nil {
			before = pi.Status.Status
		}
		h := headlineOf(ir, rep.Now, lang)
		val := "–"
		if h.OK {
			val = h.Value
			if h.Running != "" {
				val += " (" + h.Running + ")"
			}
		}
		rows = append(rows, statusRow{Kind: tr(lang, "kind_indicator"), Title: ir.Indicator.Title.In(lang),
			Href: link(base, "/indikator/"+ir.ID, lang, nil), Owner: ir.Indicator.Owner,
			Prev: indicatorStatus(before, lang), Cur: indicatorStatus(cur, lang),
			Change: changeViewOf(progress.ChangeOf(before.Scale(), cur.Scale()), lang),
			Value:  val, Why: ir.Status.Reason.In(lang), Deviation: cur.Scale().Deviation(), area: ir.Area.ID, scale: cur.Scale().Key()})
	}
	return rows
}

// summaryOf counts goals and indicators on the scale and the changes.
func summaryOf(rows []statusRow, prev strategy.Period, lang string) *leadershipSummary {
	var goals, inds []progress.Scale
	var nNew, nWorse, nBetter int
	for _, r := range rows {
		if r.Href == "" {
			goals = append(goals, progress.Scale(r.scale))
		} else {
			inds = append(inds, progress.Scale(r.scale))
		}
		if r.Change != nil {
			switch progress.Change(r.Change.Key) {
			case progress.ChangeNew:
				nNew++
			case progress.ChangeWorse:
				nWorse++
			case progress.ChangeImproved:
				nBetter++
			}
		}
	}
	sm := &leadershipSummary{Goals: countGoals(goals, lang), Indicators: countGoals(inds, lang), Legend: legend(lang)}
	sm.GoalsLine = goalsSummary(goodOf(sm.Goals), len(goals), lang)
	news := trf(lang, "new_deviations_n", nNew)
	if nNew == 1 {
		news = tr(lang, "new_deviation_1")
	}
	sm.Changes = trf(lang, "summary_changes", prev.Label(lang), news, nWorse, nBetter)
	return sm
}

// splitRows filters rows and splits them into deviations, most serious
// first (new ones first among equals), and the rest in strategy order.
func splitRows(rows []statusRow, f leadershipFilter, period, prev strategy.Period, lang string) (devs, rest statusTable) {
	devs = statusTable{Caption: tr(lang, "deviations_caption"), Prev: prev.Label(lang), Cur: period.Label(lang), Empty: tr(lang, "table_empty")}
	rest = statusTable{Caption: tr(lang, "rest_caption"), Prev: prev.Label(lang), Cur: period.Label(lang), Empty: tr(lang, "table_empty")}
	for _, r := range rows {
		if !f.keeps(r) {
			continue
		}
		if r.Deviation > 0 {
			devs.Rows = append(devs.Rows, r)
		} else {
			rest.Rows = append(rest.Rows, r)
		}
	}
	isNew := func(r statusRow) int {
		if r.Change != nil && r.Change.Key == string(progress.ChangeNew) {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(devs.Rows, func(a, b statusRow) int {
		if c := cmp.Compare(b.Deviation, a.Deviation); c != 0 {
			return c
		}
		return cmp.Compare(isNew(b), isNew(a))
	})
	return devs, rest
}

// goalLevel is the level a goal is shown with for period: its confirmed
// assessment, else (for the period in progress) the forecast, else the
// proposal; and why.
func goalLevel(rep *progress.Report, gr *progress.GoalResult, period strategy.Period, lang string) (strategy.Level, string) {
	level, reason := gr.Open.Level, gr.Open.Reason.In(lang)
	if c := rep.Confirmed(strategy.SubjectGoal, gr.ID, period); c != nil {
		level, reason = c.Level, c.Comment
	} else if gr.Open.Forecast != strategy.LevelNone && period == rep.Open {
		level, reason = gr.Open.Forecast, gr.Open.ForecastReason.In(lang)
	}
	return level, reason
}

// unassessed reports whether a goal shown with level l has no assessment.
func unassessed(l strategy.Level) bool {
	return l == strategy.LevelNotAssessed || l == strategy.LevelNone
}

// unassessedGoals counts the goals (not dropped) that are not assessed for
// period, and all goals.
func unassessedGoals(rep *progress.Report, period strategy.Period) (n, m int) {
	for _, gr := range rep.Goals {
		if gr.Dropped {
			continue
		}
		m++
		if l, _ := goalLevel(rep, gr, period, "sv"); unassessed(l) {
			n++
		}
	}
	return n, m
}

// leadershipPeriod is the period the leadership view opens on: the one
// assessment period of the pages (assessmentPeriod) for the whole
// strategy.
func leadershipPeriod(snap *snapshot) strategy.Period {
	return assessmentPeriod(snap.strat, snap.eval.full, snap.raw)
}

// goalOverviewTable counts the goals of each area on the one scale for
// period (measured, milestone and qualitative alike).
func goalOverviewTable(rep *progress.Report, period strategy.Period, lang string) table {
	return scaleTable(rep, tr(lang, "goal_overview"), lang, func(ar *progress.AreaResult) []progress.Scale {
		var out []progress.Scale
		for _, gr := range ar.Goals {
			if !gr.Dropped {
				out = append(out, internalGoalState(rep, gr, period, lang).Scale)
			}
		}
		return out
	})
}

// overviewTable counts the indicators of each area on the one scale.
func overviewTable(rep *progress.Report, lang string) table {
	return scaleTable(rep, tr(lang, "overview_caption"), lang, func(ar *progress.AreaResult) []progress.Scale {
		var out []progress.Scale
		for _, gr := range ar.Goals {
			for _, ir := range gr.Indicators {
				if !ir.Dropped {
					out = append(out, ir.Status.Status.Scale())
				}
			}
		}
		return out
	})
}

// scaleTable counts what of is per area on the one scale, with a total.
func scaleTable(rep *progress.Report, caption, lang string, of func(*progress.AreaResult) []progress.Scale) table {
	head := []string{tr(lang, "goal_area")}
	for _, sc := range progress.Scales {
		head = append(head, sc.Symbol()+" "+sc.Label(lang))
	}
	head = append(head, tr(lang, "total"))
	t := newTable(lang, caption, head...)
	for i := 1; i < len(head); i++ {
		t.Num[i] = true
	}
	add := func(name string, states []progress.Scale) {
		cells := []cell{txt(name)}
		for _, c := range countGoals(states, lang) {
			cells = append(cells, txt(fmt.Sprint(c.N)))
		}
		t.add(append(cells, txt(fmt.Sprint(len(states))))...)
	}
	var all []progress.Scale
	for _, ar := range rep.Areas {
		states := of(ar)
		all = append(all, states...)
		add(ar.Area.Title.In(lang), states)
	}
	add(tr(lang, "total"), all)
	return t
}

func forecastTable(base string, rep *progress.Report, lang string) table {
	t := newTable(lang, tr(lang, "forecast_caption"), tr(lang, "indicator"), tr(lang, "status"), tr(lang, "actual"),
		tr(lang, "target_3"), tr(lang, "forecast_3"), tr(lang, "target_5"), tr(lang, "forecast_5"))
	t.Num[2], t.Num[3], t.Num[5] = true, true, true
	tgt := func(ir *progress.IndicatorResult, tf *progress.TargetForecast) string {
		if tf == nil {
			return "–"
		}
		return progress.FormatValue(tf.Target.Value, ir.Indicator.Unit, lang) + " (" + formatDate(tf.Target.Date) + ")"
	}
	fc := func(ir *progress.IndicatorResult, tf *progress.TargetForecast) string {
		if tf == nil {
			return "–"
		}
		if s := forecastTextFor(ir, tf, lang); s != "" {
			return s
		}
		return "–"
	}
	for _, ir := range rep.Indicators {
		if ir.Dropped {
			continue
		}
		f := &ir.Forecast
		r := row{Mark: ir.Status.Status.Scale().Deviation() > 0, Cells: []cell{
			{Text: ir.Indicator.Title.In(lang), Href: link(base, "/indikator/"+ir.ID, lang, nil)},
			{Status: indicatorStatus(ir.Status.Status, lang)},
			txt(headlineOf(ir, rep.Now, lang).Value),
			txt(tgt(ir, f.ThreeYear)), txt(fc(ir, f.ThreeYear)),
			txt(tgt(ir, f.FiveYear)), txt(fc(ir, f.FiveYear)),
		}}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// benchmarkViews compares the municipality with its peers for every
// indicator with a Kolada key figure: the latest year in which the
// municipality itself has a value, total (gender T).
func benchmarkViews(st *strategy.Strategy, rep *progress.Report, values []facts.BenchmarkValue, lang string) ([]benchmarkView, error) {
	var out []benchmarkView
	for _, ir := range rep.Indicators {
		kpi := ir.Indicator.Source.Kolada
		if kpi == "" || ir.Dropped {
			continue
		}
		byYear := map[int][]facts.BenchmarkValue{}
		ownYear := 0
		for _, b := range values {
			if b.KPI != kpi || b.Value == nil || (b.Gender != "T" && b.Gender != "") {
				continue
			}
			byYear[b.Year] = append(byYear[b.Year], b)
			if b.Municipality == st.Municipality.Code && b.Year > ownYear {
				ownYear = b.Year
			}
		}
		rows := byYear[ownYear]
		if ownYear == 0 || len(rows) < 2 {
			continue
		}
		slices.SortStableFunc(rows, func(a, b facts.BenchmarkValue) int {
			if ir.Indicator.Direction == strategy.Decrease {
				return cmp.Compare(*a.Value, *b.Value)
			}
			return cmp.Compare(*b.Value, *a.Value)
		})
		title := ir.Indicator.Title.In(lang)
		t := newTable(lang, trf(lang, "benchmark_caption", title, ownYear), tr(lang, "municipality"), tr(lang, "value"))
		t.Num[1] = true
		var labels []string
		var vals []point
		var ours []bool
		for _, b := range rows {
			name := municipalityName(st, b.Municipality, lang)
			labels = append(labels, name)
			vals = append(vals, some(*b.Value))
			ours = append(ours, b.Municipality == st.Municipality.Code)
			r := row{Cells: []cell{txt(name), txt(progress.FormatValue(*b.Value, ir.Indicator.Unit, lang))}}
			r.Mark = b.Municipality == st.Municipality.Code
			t.Rows = append(t.Rows, r)
		}
		c, err := barChart("jamforelse-"+ir.ID, "small", trf(lang, "chart_label", title), labels,
			[]namedValues{{Name: fmt.Sprint(ownYear), Values: vals, Mark: ours}}, ir.Indicator.Unit, lang)
		if err != nil {
			return nil, err
		}
		out = append(out, benchmarkView{Title: title, Chart: c, Table: t})
	}
	return out, nil
}

// municipalityName names a municipality or group code for a comparison.
func municipalityName(st *strategy.Strategy, code, lang string) string {
	if code == st.Municipality.Code {
		return trf(lang, "this_municipality", st.Municipality.Name)
	}
	if name := municipalities.Name(code); name != "" {
		return name
	}
	return trf(lang, "municipality_code", code)
}
