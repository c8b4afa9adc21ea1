package dashboards

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// statusView is a status as shown: always a symbol and words, the colour
// (Class) only supports them.
type statusView struct {
	Key, Symbol, Label, Class string
}

// indicatorStatus is an indicator's status on the one scale; not
// assessed says why ("Ej bedömt (inga data)").
func indicatorStatus(st progress.Status, lang string) *statusView {
	v := scaleStatus(st.Scale(), lang)
	if st.Scale() == progress.ScaleNotAssessed {
		v.Label += " (" + strings.ToLower(st.Label(lang)) + ")"
	}
	return v
}

func levelStatus(l strategy.Level, lang string) *statusView {
	class := "none"
	switch l {
	case strategy.LevelMet:
		class = "good"
	case strategy.LevelPartly:
		class = "warn"
	case strategy.LevelNotMet:
		class = "bad"
	}
	label := progress.LevelLabel(l, lang)
	sym := progress.LevelSymbol(l)
	if l == strategy.LevelNone {
		label, sym = progress.LevelLabel(strategy.LevelNotAssessed, lang), progress.LevelSymbol(strategy.LevelNotAssessed)
	}
	return &statusView{Key: string(l), Symbol: sym, Label: capitalize(label), Class: class}
}

func capitalize(s string) string {
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}

// table is a data table; the first cell of each row is its header.
type table struct {
	Caption string
	Head    []string
	Num     []bool // right-aligned numeric columns
	Rows    []row
	Empty   string
}

type row struct {
	Cells []cell
	Mark  bool // a deviation
}

type cell struct {
	Text   string
	Href   string
	Status *statusView
}

func newTable(lang, caption string, head ...string) table {
	return table{Caption: caption, Head: head, Num: make([]bool, len(head)), Empty: tr(lang, "table_empty")}
}

func (t *table) add(cells ...cell) { t.Rows = append(t.Rows, row{Cells: cells}) }

// Transposed turns the table's columns into rows: the column names
// (but the first) become row names under corner, the row names column
// names. A year-by-year table with a column per long dimension name reads
// better with a row per dimension and a column per year. The values stay
// numeric when all of them were.
func (t table) Transposed(corner string) table {
	out := table{Caption: t.Caption, Empty: t.Empty, Head: []string{corner}}
	numeric := true
	for i := 1; i < len(t.Head); i++ {
		numeric = numeric && i < len(t.Num) && t.Num[i]
	}
	for _, r := range t.Rows {
		if len(r.Cells) > 0 {
			out.Head = append(out.Head, r.Cells[0].Text)
		}
	}
	out.Num = make([]bool, len(out.Head))
	for i := 1; i < len(out.Num); i++ {
		out.Num[i] = numeric
	}
	for j := 1; j < len(t.Head); j++ {
		cells := []cell{txt(t.Head[j])}
		for _, r := range t.Rows {
			if len(r.Cells) == 0 {
				continue
			}
			c := cell{Text: "–"}
			if j < len(r.Cells) {
				c = r.Cells[j]
			}
			cells = append(cells, c)
		}
		out.add(cells...)
	}
	return out
}

// Stacks says whether the table turns into one block per row on a phone
// (each cell on a line of its own after its column's name): tables with
// a text column, whose narrow wrapped cells made rows tall and mostly
// empty. Tables of numbers only keep their columns and scroll sideways.
func (t table) Stacks() bool {
	for i := 1; i < len(t.Head); i++ {
		if i >= len(t.Num) || !t.Num[i] {
			return true
		}
	}
	return false
}

func txt(s string) cell { return cell{Text: s} }

// value formats v in unit u, "–" when missing.
func value(v *float64, u strategy.Unit, lang string) string {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return "–"
	}
	return progress.FormatValue(*v, u, lang)
}

func pointValue(p *progress.Point, u strategy.Unit, lang string) string {
	if p == nil {
		return "–"
	}
	return progress.FormatValue(p.Value, u, lang)
}

// targetLabel names a target: its label, "Mål 3 år" or the date.
func targetLabel(t strategy.Target, lang string) string {
	switch {
	case t.Years == 3:
		return tr(lang, "target_3")
	case t.Years == 5:
		return tr(lang, "target_5")
	case t.Label != "":
		return trf(lang, "target_n", t.Label)
	}
	return trf(lang, "target_n", formatDate(t.Date))
}

// sourceText is the "Källa: …" line of an indicator.
func sourceText(ind *strategy.Indicator, lang string) string {
	return tr(lang, "source") + ": " + sourceName(ind, lang)
}

// sourceName says where an indicator's values come from; Kolada by name,
// as its terms of use ask.
func sourceName(ind *strategy.Indicator, lang string) string {
	switch {
	case ind.Source.Kolada != "":
		return "Kolada (" + ind.Source.Kolada + ")"
	case ind.Source.Note != "":
		return ind.Source.Note
	case ind.Source.Measure != "":
		name := ind.Source.Measure
		if m, ok := strategy.Measures[name]; ok {
			name = m.Title.In(lang)
		}
		return trf(lang, "source_measure", name)
	case ind.Source.Series != "":
		return ind.Source.Series
	}
	return ind.ID
}

// indicatorForecast is the forecast line beside an indicator's status,
// the same on every page.
func indicatorForecast(ir *progress.IndicatorResult, lang string) string {
	if ir.Status.Status == progress.StatusMet {
		return tr(lang, "forecast_met")
	}
	return forecastTextFor(ir, ir.Forecast.Final, lang)
}

// forecastTextFor is forecastText for indicator ir, in agreement with its
// status: a target the latest value already reaches is "already reached",
// and one reached after its date is said so, never "not reached in time"
// beside "met" (issue 13).
func forecastTextFor(ir *progress.IndicatorResult, tf *progress.TargetForecast, lang string) string {
	if tf != nil && ir.Progress.Latest != nil && reachesNow(ir, tf.Target.Value) {
		if tf.Passed && tf.MetAtDate != nil && !*tf.MetAtDate {
			return tr(lang, "forecast_passed_late")
		}
		if !tf.Passed {
			return tr(lang, "forecast_reached_now")
		}
	}
	return forecastText(&ir.Forecast, tf, lang)
}

// reachesNow reports whether the latest value of ir reaches target value
// t, as progress.TargetProgress.Met says.
func reachesNow(ir *progress.IndicatorResult, t float64) bool {
	for _, tp := range ir.Progress.Targets {
		if tp.Target.Value == t {
			return tp.Met
		}
	}
	if ir.Indicator.Direction == strategy.Decrease {
		return ir.Progress.Latest.Value <= t
	}
	return ir.Progress.Latest.Value >= t
}

// forecastText says whether target forecast tf is reached at the current
// pace; "" when there is nothing to say.
func forecastText(f *progress.Forecast, tf *progress.TargetForecast, lang string) string {
	switch {
	case tf == nil:
		return ""
	case tf.Passed && tf.MetAtDate != nil && *tf.MetAtDate:
		return tr(lang, "forecast_passed_met")
	case tf.Passed && tf.MetAtDate != nil:
		return tr(lang, "forecast_passed_not_met")
	case tf.Passed:
		return ""
	case tf.ReachDate != nil && tf.Reaches:
		return trf(lang, "forecast_reached", tf.ReachDate.In(strategy.Stockholm).Year())
	case tf.ReachDate != nil:
		return trf(lang, "forecast_late", tf.ReachDate.In(strategy.Stockholm).Year())
	case !f.OK:
		return tr(lang, "forecast_none")
	}
	return tr(lang, "forecast_never")
}

// targetView is one target with the progress toward it.
type targetView struct {
	Label, Value, Date string
	Progress           string
	Bar                int
	HasBar             bool
}

func targetViews(ir *progress.IndicatorResult, lang string) []targetView {
	var out []targetView
	for _, tp := range ir.Progress.Targets {
		tv := targetView{
			Label: targetLabel(tp.Target, lang),
			Value: progress.FormatValue(tp.Target.Value, ir.Indicator.Unit, lang),
			Date:  formatDate(tp.Target.Date),
		}
		switch {
		case tp.Met:
			tv.Progress, tv.Bar, tv.HasBar = tr(lang, "target_met"), 100, true
		case tp.Covered != nil:
			c := math.Max(0, math.Min(100, *tp.Covered))
			tv.Progress = trf(lang, "target_progress", progress.FormatNumber(math.Round(*tp.Covered), lang)+"\u00a0%")
			tv.Bar, tv.HasBar = int(math.Round(c)), true
		}
		out = append(out, tv)
	}
	return out
}

// progressData lays an indicator's values, target path, targets,
// baseline and forecast out on the periods from its start to its last
// target (or latest value).
func progressData(ir *progress.IndicatorResult, now time.Time, lang string) (progressSeries, []strategy.Period) {
	ind := ir.Indicator
	kind := strategy.Year
	if len(ir.Series) > 0 {
		kind = ir.Series[0].Period.Kind
	}
	var from, to time.Time
	stretch := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if from.IsZero() || t.Before(from) {
			from = t
		}
		if to.IsZero() || t.After(to) {
			to = t
		}
	}
	if len(ir.Series) > 0 {
		stretch(ir.Series[0].Date)
		stretch(ir.Series[len(ir.Series)-1].Date)
	}
	if ind.Baseline != nil {
		stretch(ind.Baseline.Date)
	}
	horizon := ir.Path.Horizon(now)
	for _, t := range horizon {
		stretch(t.Date)
	}
	if from.IsZero() {
		return progressSeries{}, nil
	}
	periods := progress.PeriodsBetween(kind, from, to)
	// From the baseline through the last target, so baseline and target
	// markers are always on the chart; only beyond 30 years of months is
	// the start cut.
	if len(periods) > 360 {
		periods = periods[len(periods)-360:]
	}
	var d progressSeries
	latest, hasLatest := ir.Series.Latest()
	values := map[strategy.Period]float64{}
	for _, p := range ir.Series {
		values[p.Period] = p.Value
	}
	for _, p := range periods {
		d.Periods = append(d.Periods, p.Label(lang))
		day := progress.LastDay(p)
		var pt point
		if v, ok := values[p]; ok {
			pt = some(v)
		}
		d.Actual = append(d.Actual, pt)
		pt = point{}
		if v, ok := ir.Path.At(day); ok {
			pt = some(v)
		}
		d.TargetPath = append(d.TargetPath, pt)
		pt = point{}
		for _, t := range horizon {
			if p.Contains(t.Date) {
				pt = some(t.Value)
			}
		}
		d.Targets = append(d.Targets, pt)
		pt = point{}
		if ind.Baseline != nil && p.Contains(ind.Baseline.Date) {
			pt = some(ind.Baseline.Value)
		}
		d.Baseline = append(d.Baseline, pt)
		var f, lo, hi point
		if hasLatest && !p.Before(latest.Period) {
			if p == latest.Period {
				f, lo, hi = some(latest.Value), some(latest.Value), some(latest.Value)
			} else if v, l, h, ok := ir.Forecast.At(day); ok {
				f, lo, hi = some(v), some(l), some(h)
			}
		}
		d.Forecast = append(d.Forecast, f)
		d.BandLow = append(d.BandLow, lo)
		d.BandHigh = append(d.BandHigh, hi)
	}
	// A forecast is more than the latest value it starts from: without a
	// forecast point after it, there is no forecast (and no legend entry).
	if countOK(d.Forecast) < 2 || !ir.Forecast.OK {
		d.Forecast, d.BandLow, d.BandHigh = nil, nil, nil
	}
	return d, periods
}

func countOK(ps []point) int {
	n := 0
	for _, p := range ps {
		if p.OK {
			n++
		}
	}
	return n
}

// yearRows picks the rows of a table by year out of periods (aligned with
// a progressSeries): the last period of each year with a value, and every
// period with a target or the baseline, so no target is lost (and, past
// the latest value, the last forecast month of each year). nil unless the
// periods are months.
func yearRows(periods []strategy.Period, d progressSeries) map[int]bool {
	if len(periods) == 0 || periods[0].Kind != strategy.Month {
		return nil
	}
	keep := map[int]bool{}
	lastActual, lastForecast := map[int]int{}, map[int]int{}
	ok := func(ps []point, i int) bool { return i < len(ps) && ps[i].OK }
	for i, p := range periods {
		switch {
		case ok(d.Actual, i):
			lastActual[p.Year] = i
		case ok(d.Forecast, i):
			lastForecast[p.Year] = i
		}
		if ok(d.Targets, i) || ok(d.Baseline, i) {
			keep[i] = true
		}
	}
	for _, m := range []map[int]int{lastActual, lastForecast} {
		for _, i := range m {
			keep[i] = true
		}
	}
	return keep
}

// progressTable is the table behind a progress chart: one row per period
// with anything to show, or, when only is set, the rows it names.
func progressTable(ir *progress.IndicatorResult, d progressSeries, only map[int]bool, lang string) table {
	u := ir.Indicator.Unit
	t := newTable(lang, trf(lang, "table_progress", ir.Indicator.Title.In(lang)),
		tr(lang, "period"), tr(lang, "chart_actual"), tr(lang, "chart_target_path"), tr(lang, "chart_targets"))
	withForecast := d.Forecast != nil
	if withForecast {
		t.Head = append(t.Head, tr(lang, "chart_forecast"))
	}
	t.Num = []bool{false, true, true, true, true}[:len(t.Head)]
	f := func(p point) string {
		if !p.OK {
			return "–"
		}
		return progress.FormatValue(p.V, u, lang)
	}
	for i, per := range d.Periods {
		show := d.Actual[i].OK || d.Targets[i].OK || d.Baseline[i].OK || (withForecast && d.Forecast[i].OK && !d.Actual[i].OK)
		if only != nil && !only[i] {
			show = false
		}
		if !show {
			continue
		}
		target := f(d.Targets[i])
		if d.Baseline[i].OK && !d.Targets[i].OK {
			target = tr(lang, "baseline") + " " + f(d.Baseline[i])
		}
		cells := []cell{txt(per), txt(f(d.Actual[i])), txt(f(d.TargetPath[i])), txt(target)}
		if withForecast {
			fc := "–"
			if d.Forecast[i].OK && !d.Actual[i].OK {
				fc = f(d.Forecast[i])
				if d.BandLow[i].OK && d.BandHigh[i].OK {
					fc += " (" + progress.FormatNumber(d.BandLow[i].V, lang) + "–" + f(d.BandHigh[i]) + ")"
				}
			}
			cells = append(cells, txt(fc))
		}
		t.add(cells...)
	}
	return t
}

// indicatorView is an indicator as listed on the public page.
type indicatorView struct {
	ID, Title    string
	Href         string
	HasValue     bool
	Latest       string
	LatestPeriod string
	Status       *statusView
	Targets      []targetView
	Forecast     string
	Chart        *chart
	Source       string
	Updated      string
}

func (s *Server) indicatorView(base string, ir *progress.IndicatorResult, now time.Time, raw *rawData, lang string) (*indicatorView, error) {
	ind := ir.Indicator
	v := &indicatorView{
		ID:      ind.ID,
		Title:   ind.Title.In(lang),
		Href:    link(base, "/indikator/"+ind.ID, lang, nil),
		Status:  indicatorStatus(ir.Status.Status, lang),
		Targets: targetViews(ir, lang),
		Source:  sourceText(ind, lang),
		Updated: formatDate(raw.updated[ind.ID]),
	}
	if h := headlineOf(ir, now, lang); h.OK {
		v.HasValue, v.Latest, v.LatestPeriod = true, h.Value, h.PeriodText()
	}
	v.Forecast = indicatorForecast(ir, lang)
	d, periods := progressData(ir, now, lang)
	if len(periods) > 0 {
		label := trf(lang, "chart_label", ind.Title.In(lang))
		c, err := progressChart("diagram-"+ind.ID, "small", label, d, ind.Unit, lang)
		if err != nil {
			return nil, err
		}
		v.Chart = c
	}
	// The table behind the chart, every period, is on the indicator
	// page (the link beside the chart): in every summary it made most of
	// the public page's elements (issue 13).
	return v, nil
}

// assessmentView is a confirmed assessment as shown publicly.
type assessmentView struct {
	Period  string
	Status  *statusView
	Comment string
	Meta    string
}

// goalAssessmentView is a goal's confirmed assessment for period on the
// one scale; nil when it has none.
func goalAssessmentView(gs goalState, period strategy.Period, lang string) *assessmentView {
	a := gs.Assessed
	if a == nil || !gs.Confirmed {
		return nil
	}
	v := &assessmentView{Period: period.Label(lang), Status: scaleStatus(gs.Scale, lang), Comment: a.Comment}
	if !a.Created.IsZero() {
		v.Meta = trf(lang, "assessed_by", formatDate(a.Created))
	}
	return v
}

// sortedKeys returns the keys of m sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
