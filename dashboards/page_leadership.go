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
	Strategy    string
	PeriodLabel string
	Action      string
	Periods     []option
	Deviations  table
	Rest        table // the goals and indicators that follow plan
	// Unassessed says how many goals are not assessed ("N av M mål ej
	// bedömda"); empty when every goal is.
	Unassessed   string
	Overview     table
	GoalOverview table // goals per area and level
	Maturity     *maturityView
	Indicators   table
	Benchmarks   []benchmarkView
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

// severity orders deviations, most serious first; 0 is no deviation.
func severity(st progress.Status) int {
	switch st {
	case progress.StatusOffTrack:
		return 4
	case progress.StatusAtRisk:
		return 3
	case progress.StatusStale:
		return 2
	case progress.StatusNoData:
		return 1
	}
	return 0
}

func levelSeverity(l strategy.Level) int {
	switch l {
	case strategy.LevelNotMet:
		return 4
	case strategy.LevelPartly:
		return 3
	}
	return 0
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
	asked := r.URL.Query().Get("period") != ""
	if !asked {
		period = leadershipPeriod(snap)
	}
	s.serveCached(w, r, snap, "leadership|"+period.String()+"|"+strconv.FormatBool(asked), func() (cached, error) {
		lang := q.lang
		st := q.strat
		rep := s.reportAt(snap, period)
		p := s.newPage(r, tr(lang, "leadership_title"), "leadership")
		if asked {
			p.keepQuery(url.Values{"period": {period.String()}})
		}
		p.Charts = true
		stalePage(p, snap)
		v := &leadershipView{
			Strategy:    st.Title.In(lang),
			PeriodLabel: period.Label(lang),
			Action:      q.base + "/ledning",
		}
		for _, rp := range reportPeriods(st, snap.eval.full.Open, snap.raw) {
			v.Periods = append(v.Periods, option{Value: rp.String(), Label: rp.Label(lang), Selected: rp == period})
		}
		v.Deviations, v.Rest = s.deviations(q.base, rep, period, lang)
		if n, m := unassessedGoals(rep, period); n > 0 {
			v.Unassessed = trf(lang, "goals_unassessed", n, m)
		}
		if len(rep.Indicators) > 0 {
			v.Overview = overviewTable(rep, lang)
		}
		v.GoalOverview = goalOverviewTable(rep, period, lang)
		m, err := maturityViewOf(rep.Maturity, "", lang)
		if err != nil {
			return cached{}, err
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

// deviations lists the goals and indicators that deviate from plan, most
// serious first, and then the rest, in strategy order: exception first,
// but every goal on the page.
func (s *Server) deviations(base string, rep *progress.Report, period strategy.Period, lang string) (devTable, restTable table) {
	devTable = newTable(lang, tr(lang, "deviations_caption"),
		tr(lang, "indicator")+" / "+tr(lang, "goal"), tr(lang, "status"), tr(lang, "actual"), tr(lang, "why"))
	restTable = newTable(lang, tr(lang, "rest_caption"),
		tr(lang, "indicator")+" / "+tr(lang, "goal"), tr(lang, "status"), tr(lang, "actual"), tr(lang, "why"))
	devTable.Num[2], restTable.Num[2] = true, true
	type dev struct {
		sev int
		r   row
	}
	var devs []dev
	add := func(sev int, r row) {
		if sev > 0 {
			r.Mark = true
			devs = append(devs, dev{sev, r})
			return
		}
		restTable.Rows = append(restTable.Rows, r)
	}
	for _, gr := range rep.Goals {
		if gr.Dropped {
			continue
		}
		level, reason := goalLevel(rep, gr, period, lang)
		add(levelSeverity(level), row{Cells: []cell{
			txt(tr(lang, "goal") + ": " + gr.Goal.Title.In(lang)), {Status: levelStatus(level, lang)}, txt("–"), txt(reason)}})
	}
	for _, ir := range rep.Indicators {
		if ir.Dropped {
			continue
		}
		add(severity(ir.Status.Status), row{Cells: []cell{
			{Text: ir.Indicator.Title.In(lang), Href: link(base, "/indikator/"+ir.ID, lang, nil)},
			{Status: indicatorStatus(ir.Status.Status, lang)},
			txt(pointValue(ir.Status.Latest, ir.Indicator.Unit, lang)),
			txt(ir.Status.Reason.In(lang))}})
	}
	slices.SortStableFunc(devs, func(a, b dev) int { return cmp.Compare(b.sev, a.sev) })
	for _, d := range devs {
		devTable.Rows = append(devTable.Rows, d.r)
	}
	return devTable, restTable
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

// leadershipPeriod is the period the leadership view opens on: the latest
// report period with a confirmed assessment (recorded in the strategy or
// in the follow-up), not the one still open; without any, the latest
// closed report period.
func leadershipPeriod(snap *snapshot) strategy.Period {
	rep := snap.eval.full
	periods := reportPeriods(snap.strat, rep.Open, snap.raw)
	for _, p := range periods {
		if p == rep.Open {
			continue
		}
		for _, gr := range rep.Goals {
			if rep.Confirmed(strategy.SubjectGoal, gr.ID, p) != nil {
				return p
			}
		}
		for _, ir := range rep.Indicators {
			if rep.Confirmed(strategy.SubjectIndicator, ir.ID, p) != nil {
				return p
			}
		}
	}
	if len(periods) > 1 {
		return periods[1]
	}
	return rep.Open
}

// goalOverviewTable counts the goals of each area by the level they are
// shown with for period (measured, milestone and qualitative alike).
func goalOverviewTable(rep *progress.Report, period strategy.Period, lang string) table {
	levels := []strategy.Level{strategy.LevelMet, strategy.LevelPartly, strategy.LevelNotMet, strategy.LevelNotAssessed}
	head := []string{tr(lang, "goal_area")}
	for _, l := range levels {
		head = append(head, progress.LevelSymbol(l)+" "+progress.LevelLabel(l, lang))
	}
	head = append(head, tr(lang, "total"))
	t := newTable(lang, tr(lang, "goal_overview"), head...)
	for i := 1; i < len(head); i++ {
		t.Num[i] = true
	}
	total := make([]int, len(levels)+1)
	add := func(name string, counts []int) {
		cells := []cell{txt(name)}
		for _, c := range counts {
			cells = append(cells, txt(fmt.Sprint(c)))
		}
		t.add(cells...)
	}
	for _, ar := range rep.Areas {
		counts := make([]int, len(levels)+1)
		for _, gr := range ar.Goals {
			if gr.Dropped {
				continue
			}
			l, _ := goalLevel(rep, gr, period, lang)
			i := slices.Index(levels, l)
			if unassessed(l) || i < 0 {
				i = len(levels) - 1
			}
			counts[i]++
			counts[len(levels)]++
		}
		for i, c := range counts {
			total[i] += c
		}
		add(ar.Area.Title.In(lang), counts)
	}
	add(tr(lang, "total"), total)
	return t
}

func overviewTable(rep *progress.Report, lang string) table {
	head := []string{tr(lang, "goal_area")}
	for _, st := range progress.Statuses {
		head = append(head, st.Symbol()+" "+st.Label(lang))
	}
	head = append(head, tr(lang, "total"))
	t := newTable(lang, tr(lang, "overview_caption"), head...)
	for i := 1; i < len(head); i++ {
		t.Num[i] = true
	}
	add := func(name string, ru progress.Rollup) {
		cells := []cell{txt(name)}
		for _, st := range progress.Statuses {
			cells = append(cells, txt(fmt.Sprint(ru.Counts[st])))
		}
		cells = append(cells, txt(fmt.Sprint(ru.Indicators)))
		t.add(cells...)
	}
	for _, ar := range rep.Areas {
		add(ar.Area.Title.In(lang), ar.Rollup)
	}
	add(tr(lang, "total"), rep.Overall)
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
		if s := forecastText(&ir.Forecast, tf, lang); s != "" {
			return s
		}
		return "–"
	}
	for _, ir := range rep.Indicators {
		if ir.Dropped {
			continue
		}
		f := &ir.Forecast
		r := row{Mark: severity(ir.Status.Status) > 2, Cells: []cell{
			{Text: ir.Indicator.Title.In(lang), Href: link(base, "/indikator/"+ir.ID, lang, nil)},
			{Status: indicatorStatus(ir.Status.Status, lang)},
			txt(pointValue(ir.Progress.Latest, ir.Indicator.Unit, lang)),
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
