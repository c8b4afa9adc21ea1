package dashboards

import (
	"fmt"
	"net/http"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// serveCached answers from the snapshot's cache, building (and caching)
// the answer on a miss. Only 200 answers are cached.
func (s *Server) serveCached(w http.ResponseWriter, r *http.Request, snap *snapshot, key string, build func() (cached, error)) {
	q := reqInfo(r)
	// The menu differs for staff, so the key says who may see what.
	// The path is in the key too: a page links to itself in the other
	// language, and nothing else of the request may shape it.
	k := pageKey{base: q.base, path: r.URL.Path, lang: q.lang, internal: s.internal(r), key: key}
	e := snap.get(k)
	if e == nil {
		c, err := build()
		if err != nil {
			s.log.Error("dashboards: building a page failed", "path", r.URL.Path, "err", err)
			s.serveError(w, r, http.StatusInternalServerError, "err_internal")
			return
		}
		if c.status != http.StatusOK {
			writeBody(w, r, c.status, c.ctype, c.body)
			return
		}
		e = snap.put(k, c)
	}
	e.write(w, r, http.StatusOK, e.headers)
}

// htmlPage renders a page into a cache entry.
func (s *Server) htmlPage(name string, p *page) (cached, error) {
	body, err := s.renderPage(name, p)
	if err != nil {
		return cached{}, err
	}
	return cached{status: http.StatusOK, ctype: "text/html; charset=utf-8", body: body}, nil
}

// stalePage marks a page built from stale data.
func stalePage(p *page, snap *snapshot) {
	if !snap.stale {
		return
	}
	p.Stale = true
	if !snap.loaded.IsZero() {
		p.StaleSince = formatDateTime(snap.loaded)
	}
}

type publicView struct {
	Title, Vision, Description string
	Lifecycle                  *lifecycleView
	Glance                     *glanceView
	Areas                      []*areaView
	Services                   []serviceView
	Maturity                   *maturityView
	Downloads                  []download
}

type areaView struct {
	ID, Title, Description string
	Goals                  []*goalView
}

type goalView struct {
	ID, Title, Description string
	Assessment             *assessmentView
	NoAssessment           string // "Ingen fastställd bedömning för T2 2026."
	Milestone              string
	Indicators             []*indicatorView
}

type serviceView struct {
	Name   string
	Status *statusView
	Detail string
}

type download struct {
	Href, Label, Type string
}

// servePublic answers the public transparency page: public goals with
// their confirmed assessments and public indicators, the e-services'
// operating status, the maturity index and the downloads. It never shows
// anything internal, whoever asks.
func (s *Server) servePublic(w http.ResponseWriter, r *http.Request) {
	q := reqInfo(r)
	snap := s.data(r.Context(), q.strat)
	s.serveCached(w, r, snap, "public", func() (cached, error) {
		lang := q.lang
		st := q.strat
		rep := snap.eval.public
		p := s.newPage(r, st.Title.In(lang), "public")
		p.Charts = true
		stalePage(p, snap)
		v := &publicView{Title: st.Title.In(lang), Vision: st.Vision.In(lang), Description: st.Description.In(lang),
			Lifecycle: lifecycleOf(st, rep.Now, lang)}
		// One assessment period for the whole page, named in the glance
		// and beside every goal (issue 13).
		period := assessmentPeriod(st, rep, snap.raw)
		state := func(gr *progress.GoalResult) goalState { return publicGoalState(rep, gr, period) }
		v.Glance = glanceOf(rep, period, state, lang)
		for _, ar := range rep.Areas {
			av := &areaView{ID: ar.ID, Title: ar.Area.Title.In(lang), Description: ar.Area.Description.In(lang)}
			for _, gr := range ar.Goals {
				if gr.Dropped {
					continue
				}
				g := gr.Goal
				gv := &goalView{ID: g.ID, Title: g.Title.In(lang), Description: g.Description.In(lang),
					Assessment: goalAssessmentView(state(gr), period, lang),
					Milestone:  milestoneText(g, lang)}
				if gv.Assessment == nil {
					gv.NoAssessment = trf(lang, "no_assessment_for", period.Label(lang))
				}
				for _, ir := range gr.Indicators {
					iv, err := s.indicatorView(q.base, ir, rep.Now, snap.raw, lang)
					if err != nil {
						return cached{}, err
					}
					gv.Indicators = append(gv.Indicators, iv)
				}
				av.Goals = append(av.Goals, gv)
			}
			v.Areas = append(v.Areas, av)
		}
		if readsProbes(st) {
			v.Services = serviceViews(snap.raw, lang)
		}
		m, err := maturityViewOf(rep.Maturity, "", lang)
		if err != nil {
			return cached{}, err
		}
		if m != nil {
			m.Scope = trf(lang, "maturity_scope", maturityScope(false, lang))
		}
		v.Maturity = m
		api := func(path string) string { return q.base + "/api/v1/" + path }
		v.Downloads = []download{
			{api("observations.csv"), tr(lang, "dl_csv"), "text/csv"},
			{api("observations"), tr(lang, "dl_json"), "application/json"},
			{api("statuses"), tr(lang, "dl_status"), "application/json"},
			{api("strategy"), tr(lang, "dl_strategy"), "application/json"},
			{api("dcat"), tr(lang, "dl_dcat"), "application/ld+json"},
			{api(""), tr(lang, "dl_api"), "application/json"},
		}
		p.Data = v
		return s.htmlPage("public", p)
	})
}

func milestoneText(g *strategy.Goal, lang string) string {
	m := g.Milestone
	if m == nil {
		return ""
	}
	if m.Done != nil {
		return trf(lang, "milestone_done", formatDate(*m.Done))
	}
	return trf(lang, "milestone_due", formatDate(m.Due))
}

// scored reports whether anything feeds the maturity index: a score in
// some year, overall or for a dimension. Without one the section is left
// out rather than shown empty.
func scored(m *progress.MaturityIndex) bool {
	for _, sc := range m.Overall {
		if sc.Score != nil {
			return true
		}
	}
	for _, d := range m.Dimensions {
		for _, sc := range d.Scores {
			if sc.Score != nil {
				return true
			}
		}
	}
	return false
}

// readsProbes reports whether an indicator of st is computed from probe
// results: only then does the operating status belong to its page.
func readsProbes(st *strategy.Strategy) bool {
	for _, ind := range st.Indicators() {
		if m, ok := clickhouse.LookupMeasure(ind.Source.Measure); ok && m.Facts == facts.KindProbes {
			return true
		}
	}
	return false
}

func serviceViews(raw *rawData, lang string) []serviceView {
	var out []serviceView
	for _, sv := range raw.services {
		v := serviceView{Name: sv.Service, Detail: trf(lang, "service_checked", formatDateTime(sv.Time))}
		if sv.OK && sv.Duration > 0 {
			v.Detail += ", " + trf(lang, "service_response", progress.FormatValue(float64(sv.Duration.Milliseconds()), strategy.UnitMillis, lang))
		}
		if sv.OK {
			v.Status = &statusView{Key: "up", Symbol: "✓", Label: tr(lang, "service_up"), Class: "good"}
		} else {
			v.Status = &statusView{Key: "down", Symbol: "✗", Label: tr(lang, "service_down"), Class: "bad"}
		}
		out = append(out, v)
	}
	return out
}

// maturityView is the maturity index: a radar of the latest year, the
// trend year by year, both as tables too, and the method in words.
type maturityView struct {
	Intro      string
	Scope      string // which indicators it is calculated from
	HasIndex   bool
	Index      string
	IndexNote  string
	Radar      *chart
	RadarTable table
	Trend      *chart
	TrendTable table
	Method     []string
}

func maturityViewOf(m *progress.MaturityIndex, idPrefix, lang string) (*maturityView, error) {
	if m == nil || len(m.Years) == 0 || len(m.Dimensions) == 0 || !scored(m) {
		return nil, nil
	}
	v := &maturityView{Method: []string{m.MethodText(lang)}}
	if t := m.Name.In(lang); t != "" {
		v.Intro = t + "."
	}
	last := len(m.Years) - 1
	if sc := m.Overall[last].Score; sc != nil {
		v.HasIndex = true
		v.Index = progress.FormatNumber(*sc, lang)
		note := fmt.Sprint(m.Years[last])
		if m.Overall[last].Partial {
			note += " " + tr(lang, "preliminary")
		}
		v.IndexNote = trf(lang, "maturity_of", note)
	}
	score := func(ms progress.MaturityScore) point {
		if ms.Score == nil {
			return point{}
		}
		return some(*ms.Score)
	}
	// Radar: the latest year and the one before.
	var dims []string
	for _, d := range m.Dimensions {
		dims = append(dims, d.Title.In(lang))
	}
	var radar []namedValues
	head := []string{tr(lang, "dimension")}
	for _, i := range []int{last, last - 1} {
		if i < 0 {
			continue
		}
		nv := namedValues{Name: fmt.Sprint(m.Years[i])}
		for _, d := range m.Dimensions {
			nv.Values = append(nv.Values, score(d.Scores[i]))
		}
		radar = append(radar, nv)
		head = append(head, fmt.Sprint(m.Years[i]))
	}
	rt := newTable(lang, tr(lang, "maturity_radar_caption"), head...)
	for i := 1; i < len(head); i++ {
		rt.Num[i] = true
	}
	for j, d := range m.Dimensions {
		cells := []cell{txt(d.Title.In(lang))}
		for _, nv := range radar {
			cells = append(cells, txt(pointText(nv.Values[j], lang)))
		}
		rt.add(cells...)
	}
	v.RadarTable = rt
	var err error
	// A radar needs three axes; with fewer dimensions bars say it better.
	if len(dims) >= 3 {
		v.Radar, err = radarChart(idPrefix+"mognad-radar", "radar", trf(lang, "chart_label", tr(lang, "maturity_radar")), dims, radar, lang)
	} else {
		v.Radar, err = barChart(idPrefix+"mognad-radar", "small", trf(lang, "chart_label", tr(lang, "maturity_radar")), dims, radar, strategy.UnitIndex, lang)
	}
	if err != nil {
		return nil, err
	}
	// Trend: overall and every dimension per year.
	var years []string
	overall := namedValues{Name: tr(lang, "maturity_index")}
	for i, y := range m.Years {
		years = append(years, fmt.Sprint(y))
		overall.Values = append(overall.Values, score(m.Overall[i]))
	}
	series := []namedValues{overall}
	for _, d := range m.Dimensions {
		nv := namedValues{Name: d.Title.In(lang)}
		for i := range m.Years {
			nv.Values = append(nv.Values, score(d.Scores[i]))
		}
		series = append(series, nv)
	}
	head = []string{tr(lang, "year")}
	for _, sr := range series {
		head = append(head, sr.Name)
	}
	tt := newTable(lang, tr(lang, "maturity_trend_caption"), head...)
	for i := 1; i < len(head); i++ {
		tt.Num[i] = true
	}
	for i, y := range years {
		label := y
		if m.Overall[i].Partial {
			label += " (" + tr(lang, "preliminary") + ")"
		}
		cells := []cell{txt(label)}
		for _, sr := range series {
			cells = append(cells, txt(pointText(sr.Values[i], lang)))
		}
		tt.add(cells...)
	}
	v.TrendTable = tt
	if v.Trend, err = trendChart(idPrefix+"mognad-trend", "", trf(lang, "chart_label", tr(lang, "maturity_trend")), years, series, strategy.UnitIndex, lang); err != nil {
		return nil, err
	}
	return v, nil
}

func pointText(p point, lang string) string {
	if !p.OK {
		return "–"
	}
	return progress.FormatNumber(p.V, lang)
}
