package dashboards

import (
	"cmp"
	"context"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// fact is a term and its value; Lang is set when the value is in
// another language than the page (a strategy text not translated).
type fact struct{ Term, Value, Lang string }

// fallbackLang is the language of t as shown on a page in lang when that
// differs from lang: "sv" for a strategy text without an English
// version on an English page, else "".
func fallbackLang(t strategy.Text, lang string) string {
	if lang == "en" && t.EN == "" && t.SV != "" {
		return "sv"
	}
	return ""
}

// The indicator page's table resolution: ?upplosning=manad lists every
// month of a monthly series; the default (or =ar) the end of each year.
const (
	resolutionParam = "upplosning"
	resolutionMonth = "manad"
	resolutionYear  = "ar"
)

type breakdownView struct {
	Title string
	Chart *chart
	Table table
}

type indicatorPage struct {
	Back, Area, Goal string
	Title            string
	Description      string
	HasValue         bool
	Latest           string
	LatestPeriod     string
	Status           *statusView
	Reason           string
	Forecast         string
	Baseline         string
	Targets          []targetView
	Chart            *chart
	Table            table
	// A monthly table shows the end of each year (and every target)
	// unless ?upplosning=manad asks for every month: ByMonth. Switch
	// links to the other resolution; "" when the series is not monthly.
	ByMonth    bool
	Switch     string
	SwitchText string
	Breakdowns []breakdownView
	About      []fact
	History    table

	// The language of Area, Goal, Title and Description where it is not
	// the page's (see fallbackLang).
	AreaLang, GoalLang, TitleLang, DescriptionLang string
}

// serveIndicator answers /indikator/{id}: the large chart, the data
// table, breakdowns, definition and assessment history. Internal
// indicators (or public ones under an internal goal) answer a request
// that may not see internal data exactly like an unknown id (404), so the
// answer does not tell which ids exist.
func (s *Server) serveIndicator(w http.ResponseWriter, r *http.Request) {
	q := reqInfo(r)
	id := r.PathValue("id")
	internal := s.internal(r)
	ind := q.strat.Indicator(id)
	if ind == nil || !internal && !isPublic(q.strat, ind) {
		s.serveNotFound(w, r)
		return
	}
	var byMonth bool
	switch r.URL.Query().Get(resolutionParam) {
	case "", resolutionYear:
	case resolutionMonth:
		byMonth = true
	default:
		s.serveError(w, r, http.StatusBadRequest, "err_bad_request")
		return
	}
	snap := s.data(r.Context(), q.strat)
	key := "indicator|" + id
	if byMonth {
		key += "|" + resolutionMonth
	}
	s.serveCached(w, r, snap, key, func() (cached, error) {
		lang := q.lang
		rep := snap.eval.report(internal)
		ir := rep.Indicator(id)
		if ir == nil {
			return s.errorPage(r, http.StatusNotFound, "err_not_found")
		}
		p := s.newPage(r, ind.Title.In(lang), "")
		p.Charts = true
		stalePage(p, snap)
		v := &indicatorPage{
			Back:        link(q.base, "/", lang, nil),
			Area:        ir.Area.Title.In(lang),
			Goal:        ir.Goal.Title.In(lang),
			Title:       ind.Title.In(lang),
			Description: ind.Description.In(lang),
			Status:      indicatorStatus(ir.Status.Status, lang),
			Reason:      ir.Status.Reason.In(lang),
			Targets:     targetViews(ir, lang),

			AreaLang:        fallbackLang(ir.Area.Title, lang),
			GoalLang:        fallbackLang(ir.Goal.Title, lang),
			TitleLang:       fallbackLang(ind.Title, lang),
			DescriptionLang: fallbackLang(ind.Description, lang),
		}
		if h := headlineOf(ir, rep.Now, lang); h.OK {
			v.HasValue, v.Latest, v.LatestPeriod = true, h.Value, h.PeriodText()
		}
		v.Forecast = indicatorForecast(ir, lang)
		if b := ind.Baseline; b != nil {
			v.Baseline = progress.FormatValue(b.Value, ind.Unit, lang) + " (" + formatDate(b.Date) + ")"
		}
		d, periods := progressData(ir, rep.Now, lang)
		if len(periods) > 0 {
			c, err := progressChart("diagram-"+ind.ID, "large", trf(lang, "chart_label", ind.Title.In(lang)), d, ind.Unit, lang)
			if err != nil {
				return cached{}, err
			}
			v.Chart = c
		}
		var only map[int]bool
		if rows := yearRows(periods, d); rows != nil {
			self := "/indikator/" + ind.ID
			if byMonth {
				v.ByMonth = true
				v.Switch, v.SwitchText = link(q.base, self, lang, nil)+"#utveckling", tr(lang, "table_by_year")
				p.keepQuery(url.Values{resolutionParam: {resolutionMonth}})
			} else {
				only = rows
				v.Switch = link(q.base, self, lang, url.Values{resolutionParam: {resolutionMonth}}) + "#utveckling"
				v.SwitchText = trf(lang, "table_by_month", countOK(d.Actual))
			}
		}
		v.Table = progressTable(ir, d, only, lang)
		if only != nil {
			v.Table.Caption = trf(lang, "table_progress_years", ind.Title.In(lang))
		}
		var err error
		if v.Breakdowns, err = breakdowns(ind, snap.raw.obs[id], lang); err != nil {
			return cached{}, err
		}
		v.About = aboutFacts(ind, lang)
		v.History = s.historyTable(r.Context(), q.strat, ind, snap, internal, lang)
		p.Data = v
		return s.htmlPage("indicator", p)
	})
}

// errorPage renders an error page into a cache entry (not cached: the
// status is not 200).
func (s *Server) errorPage(r *http.Request, status int, key string) (cached, error) {
	lang := reqInfo(r).lang
	p := s.newPage(r, tr(lang, key), "")
	p.Data = struct{ Heading, Text string }{tr(lang, key), tr(lang, key+"_text")}
	c, err := s.htmlPage("error", p)
	c.status = status
	return c, err
}

// dimensionName names a kind of breakdown in lang.
func dimensionName(kind, lang string) string {
	if m, ok := messages["dim_"+kind]; ok {
		if lang == "en" {
			return m[1]
		}
		return m[0]
	}
	return kind
}

// breakdowns builds one table and bar chart per kind of dimension: the
// values of the last (up to) four periods of that kind.
func breakdowns(ind *strategy.Indicator, obs []strategy.Observation, lang string) ([]breakdownView, error) {
	byKind := map[string][]strategy.Observation{}
	for _, o := range obs {
		if !o.Dimension.IsTotal() {
			byKind[o.Dimension.Kind] = append(byKind[o.Dimension.Kind], o)
		}
	}
	var out []breakdownView
	for i, kind := range sortedKeys(byKind) {
		rows := byKind[kind]
		var periods []strategy.Period
		for _, o := range rows {
			if !slices.Contains(periods, o.Period) {
				periods = append(periods, o.Period)
			}
		}
		slices.SortFunc(periods, func(a, b strategy.Period) int { return a.Start().Compare(b.Start()) })
		if len(periods) > 4 {
			periods = periods[len(periods)-4:]
		}
		latest := periods[len(periods)-1]
		vals := map[string]map[strategy.Period]float64{}
		for _, o := range rows {
			if vals[o.Dimension.Value] == nil {
				vals[o.Dimension.Value] = map[strategy.Period]float64{}
			}
			vals[o.Dimension.Value][o.Period] = o.Value
		}
		names := sortedKeys(vals)
		slices.SortStableFunc(names, func(a, b string) int {
			va, oka := vals[a][latest]
			vb, okb := vals[b][latest]
			if oka != okb {
				if oka {
					return -1
				}
				return 1
			}
			return cmp.Compare(vb, va)
		})
		dn := dimensionName(kind, lang)
		title := trf(lang, "breakdown_by", dn, latest.Label(lang))
		head := []string{capitalize(dn)}
		for _, p := range periods {
			head = append(head, p.Label(lang))
		}
		t := newTable(lang, ind.Title.In(lang)+": "+strings.ToLower(title[:1])+title[1:], head...)
		for j := 1; j < len(head); j++ {
			t.Num[j] = true
		}
		var bars []point
		for _, n := range names {
			cells := []cell{txt(n)}
			for _, p := range periods {
				if v, ok := vals[n][p]; ok {
					cells = append(cells, txt(progress.FormatValue(v, ind.Unit, lang)))
				} else {
					cells = append(cells, txt("–"))
				}
			}
			t.add(cells...)
			if v, ok := vals[n][latest]; ok {
				bars = append(bars, some(v))
			} else {
				bars = append(bars, point{})
			}
		}
		c, err := barChart("fordelning-"+ind.ID+"-"+string(rune('a'+i%26)), "", trf(lang, "chart_label", title), names,
			[]namedValues{{Name: latest.Label(lang), Values: bars}}, ind.Unit, lang)
		if err != nil {
			return nil, err
		}
		out = append(out, breakdownView{Title: capitalize(title), Chart: c, Table: t})
	}
	return out, nil
}

func aboutFacts(ind *strategy.Indicator, lang string) []fact {
	var out []fact
	add := func(key, v string) {
		if v != "" {
			out = append(out, fact{Term: tr(lang, key), Value: v})
		}
	}
	addText := func(key string, t strategy.Text) {
		if v := t.In(lang); v != "" {
			out = append(out, fact{Term: tr(lang, key), Value: v, Lang: fallbackLang(t, lang)})
		}
	}
	addText("definition", ind.Description)
	addText("method", ind.Method)
	unit := strings.TrimSpace(progress.FormatValue(2, ind.Unit, lang)[1:])
	if unit == "" {
		unit = string(ind.Unit)
	}
	add("unit", unit)
	if ind.Direction == strategy.Decrease {
		add("direction", tr(lang, "dir_decrease"))
	} else {
		add("direction", tr(lang, "dir_increase"))
	}
	add("source", sourceName(ind, lang))
	add("owner", ind.Owner)
	if ind.Freshness > 0 {
		days := int(math.Round(ind.Freshness.Hours() / 24))
		if days >= 60 {
			add("freshness", trf(lang, "freshness_months", int(math.Round(float64(days)/30.44))))
		} else {
			add("freshness", trf(lang, "freshness_days", days))
		}
	}
	if ind.Public {
		add("visibility", tr(lang, "vis_public"))
	} else {
		add("visibility", tr(lang, "vis_internal"))
	}
	return out
}

// historyTable lists the indicator's assessments, latest period first.
// The public sees the confirmed ones only, without names; staff see every
// revision (from the store, or the latest per period when it is down).
func (s *Server) historyTable(ctx context.Context, st *strategy.Strategy, ind *strategy.Indicator, snap *snapshot, internal bool, lang string) table {
	var list []strategy.Assessment
	if internal {
		cctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
		h, err := s.opts.Store.AssessmentHistory(cctx, st.Municipality.Code, strategy.SubjectIndicator, ind.ID)
		cancel()
		if err == nil && !snap.stale {
			list = h
		} else {
			for _, a := range snap.raw.latest {
				if a.Subject == strategy.SubjectIndicator && a.SubjectID == ind.ID {
					list = append(list, a)
				}
			}
		}
	} else {
		for _, a := range snap.raw.confirmed {
			if a.Confirmed && a.Subject == strategy.SubjectIndicator && a.SubjectID == ind.ID {
				list = append(list, a)
			}
		}
	}
	slices.SortStableFunc(list, func(a, b strategy.Assessment) int {
		if c := b.Period.End().Compare(a.Period.End()); c != 0 {
			return c
		}
		return cmp.Compare(b.Revision, a.Revision)
	})
	head := []string{tr(lang, "period"), tr(lang, "assessment"), tr(lang, "comment"), tr(lang, "date")}
	if internal {
		head = append(head, tr(lang, "state"), tr(lang, "author"))
	}
	t := newTable(lang, tr(lang, "history_caption"), head...)
	for _, a := range list {
		cells := []cell{txt(a.Period.Label(lang)), {Status: levelStatus(a.Level, lang)}, txt(a.Comment), txt(formatDate(a.Created))}
		if internal {
			state := tr(lang, "state_draft")
			switch {
			case a.Confirmed:
				state = tr(lang, "state_confirmed")
			case a.Ready:
				state = tr(lang, "state_ready")
			}
			cells = append(cells, txt(state), txt(a.Author))
		}
		t.add(cells...)
	}
	return t
}
