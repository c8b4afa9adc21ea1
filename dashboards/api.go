package dashboards

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// The open-data API, version 1. Everything is public-only unless the
// request may see internal data; the licence of the public data is CC0.

// writeJSON sends v as indented JSON, with an ETag and compressed for a
// client that takes it (writeBody).
func writeJSON(w http.ResponseWriter, r *http.Request, status int, ctype string, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeBody(w, r, status, ctype, body)
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// serveAPI answers a JSON endpoint from the snapshot's cache.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, key string, build func(snap *snapshot, internal bool) (any, error)) {
	q := reqInfo(r)
	internal := s.internal(r)
	snap := s.data(r.Context(), q.strat)
	s.serveCached(w, r, snap, "api|"+key, func() (cached, error) {
		v, err := build(snap, internal)
		if err != nil {
			return cached{}, err
		}
		body, err := encodeJSON(v)
		if err != nil {
			return cached{}, err
		}
		return cached{status: http.StatusOK, ctype: "application/json; charset=utf-8", body: body}, nil
	})
}

type apiLink struct {
	Path        string `json:"path"`
	Description string `json:"description"`
}

type apiMunicipality struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Slug string `json:"slug,omitempty"`
	API  string `json:"api,omitempty"`
}

// serveAPIIndex lists the endpoints (or, on the top level with several
// municipalities, the municipalities and their APIs).
func (s *Server) serveAPIIndex(w http.ResponseWriter, r *http.Request) {
	q := reqInfo(r)
	out := map[string]any{
		"name":    "Målbild open data API",
		"version": "v1",
		"licence": licenceCC0,
		"note":    "Public goals and indicators only, unless you are signed in. Periods: 2025, 2025-T2, 2025-Q3, 2025-03.",
	}
	if q.strat == nil {
		var list []apiMunicipality
		for _, st := range s.strategies() {
			list = append(list, apiMunicipality{Code: st.Municipality.Code, Name: st.Municipality.Name, Slug: slug(st), API: "/" + slug(st) + "/api/v1/"})
		}
		out["municipalities"] = list
		out["endpoints"] = []apiLink{{"/api/v1/dcat", "DCAT-AP-SE catalogue (JSON-LD) of all municipalities' public data sets"}}
		writeJSON(w, r, http.StatusOK, "application/json; charset=utf-8", out)
		return
	}
	b := q.base + "/api/v1/"
	out["municipality"] = apiMunicipality{Code: q.strat.Municipality.Code, Name: q.strat.Municipality.Name, Slug: q.strat.Municipality.Slug}
	out["endpoints"] = []apiLink{
		{b + "strategy", "The strategy: vision, goal areas, goals, indicators and targets"},
		{b + "indicators", "Every indicator with its latest value, status, targets and progress"},
		{b + "indicators/{id}", "One indicator with its values, breakdowns, target path and forecast"},
		{b + "observations", "All values (JSON); ?indicator=id (repeatable) selects indicators"},
		{b + "observations.csv", "All values (CSV, UTF-8, comma-separated)"},
		{b + "statuses", "Goals and goal areas: status roll-ups and confirmed assessments"},
		{b + "forecasts", "Forecasts per indicator against its targets"},
		{b + "dcat", "DCAT-AP-SE catalogue (JSON-LD) of the public data sets"},
	}
	writeJSON(w, r, http.StatusOK, "application/json; charset=utf-8", out)
}

// visibleStrategy is the strategy a request may see.
func visibleStrategy(snap *snapshot, internal bool) *strategy.Strategy {
	if internal {
		return snap.strat
	}
	return snap.eval.pubStrat
}

func (s *Server) serveAPIStrategy(w http.ResponseWriter, r *http.Request) {
	s.serveAPI(w, r, "strategy", func(snap *snapshot, internal bool) (any, error) {
		return visibleStrategy(snap, internal), nil
	})
}

type apiStatus struct {
	Key    string        `json:"key"`
	Symbol string        `json:"symbol"`
	Label  strategy.Text `json:"label"`
	// Scale is the status on the one scale of goals and indicators
	// (progress.Scale): met, on-track, at-risk, behind, not-assessed.
	Scale string `json:"scale"`
}

func statusOf(st progress.Status) apiStatus {
	return apiStatus{Key: st.Key(), Symbol: st.Symbol(), Label: strategy.Text{SV: st.Label("sv"), EN: st.Label("en")}, Scale: st.Scale().Key()}
}

// apiGoalState is a goal's place on the one scale for the assessment
// period the pages show, and whether a confirmed assessment says so.
type apiGoalState struct {
	Scale     string         `json:"scale"`
	Level     strategy.Level `json:"level"`
	Confirmed bool           `json:"confirmed"`
}

// apiMaturity is the maturity index as the pages show it, with its scope:
// "public" (public indicators) or "all".
type apiMaturity struct {
	Scope   string   `json:"scope"`
	Year    int      `json:"year"`
	Index   *float64 `json:"index"`
	Partial bool     `json:"partial,omitempty"`
}

func apiMaturityOf(m *progress.MaturityIndex, internal bool) *apiMaturity {
	if m == nil || len(m.Years) == 0 || len(m.Overall) == 0 {
		return nil
	}
	last := len(m.Years) - 1
	out := &apiMaturity{Scope: "public", Year: m.Years[last], Index: m.Overall[last].Score, Partial: m.Overall[last].Partial}
	if internal {
		out.Scope = "all"
	}
	return out
}

type apiIndicator struct {
	ID        string                `json:"id"`
	Goal      string                `json:"goal"`
	Area      string                `json:"area"`
	Title     strategy.Text         `json:"title"`
	Unit      strategy.Unit         `json:"unit"`
	Direction strategy.Direction    `json:"direction"`
	Public    bool                  `json:"public"`
	Page      string                `json:"page"`
	Source    string                `json:"source"`
	Baseline  *strategy.Baseline    `json:"baseline,omitempty"`
	Targets   []strategy.Target     `json:"targets"`
	Latest    *progress.Point       `json:"latest,omitempty"`
	Status    apiStatus             `json:"status"`
	Judgement progress.StatusResult `json:"judgement"`
	Progress  progress.Progress     `json:"progress"`
	Updated   *time.Time            `json:"updated,omitempty"`
}

func apiIndicatorOf(base string, ir *progress.IndicatorResult, raw *rawData) apiIndicator {
	ind := ir.Indicator
	a := apiIndicator{
		ID: ind.ID, Goal: ir.Goal.ID, Area: ir.Area.ID, Title: ind.Title, Unit: ind.Unit, Direction: ind.Direction,
		Public: ind.Public && ir.Goal.Public, Page: base + "/indikator/" + ind.ID, Source: sourceName(ind, "sv"),
		Baseline: ind.Baseline, Targets: ind.Targets, Latest: ir.Progress.Latest,
		Status: statusOf(ir.Status.Status), Judgement: ir.Status, Progress: ir.Progress,
	}
	if a.Targets == nil {
		a.Targets = []strategy.Target{}
	}
	if t, ok := raw.updated[ind.ID]; ok {
		t := t.UTC()
		a.Updated = &t
	}
	return a
}

func (s *Server) serveAPIIndicators(w http.ResponseWriter, r *http.Request) {
	base := reqInfo(r).base
	s.serveAPI(w, r, "indicators", func(snap *snapshot, internal bool) (any, error) {
		rep := snap.eval.report(internal)
		out := []apiIndicator{}
		for _, ir := range rep.Indicators {
			out = append(out, apiIndicatorOf(base, ir, snap.raw))
		}
		return map[string]any{"municipality": snap.strat.Municipality.Code, "evaluated": rep.Now, "indicators": out}, nil
	})
}

type apiObservation struct {
	Municipality string              `json:"municipality"`
	Indicator    string              `json:"indicator"`
	Period       strategy.Period     `json:"period"`
	Dimension    *strategy.Dimension `json:"dimension,omitempty"`
	Value        float64             `json:"value"`
	Unit         strategy.Unit       `json:"unit"`
	Source       string              `json:"source,omitempty"`
	Recorded     time.Time           `json:"recorded"`
	Comment      string              `json:"comment,omitempty"` // internal only
}

// observationsOf lists the observations of the visible indicators (all,
// or those named in ids), in strategy order.
func observationsOf(snap *snapshot, internal bool, ids []string) []apiObservation {
	st := visibleStrategy(snap, internal)
	out := []apiObservation{}
	for _, ind := range st.Indicators() {
		if len(ids) > 0 && !slices.Contains(ids, ind.ID) {
			continue
		}
		for _, o := range snap.raw.obs[ind.ID] {
			ao := apiObservation{Municipality: snap.strat.Municipality.Code, Indicator: ind.ID, Period: o.Period,
				Value: o.Value, Unit: ind.Unit, Source: o.Source, Recorded: o.Recorded.UTC()}
			if !o.Dimension.IsTotal() {
				d := o.Dimension
				ao.Dimension = &d
			}
			if internal {
				ao.Comment = o.Comment
			}
			out = append(out, ao)
		}
	}
	return out
}

// indicatorParams reads ?indicator= (repeatable, or comma-separated),
// keeping the ids of st's indicators the request may see, sorted. ok is
// false when the request named indicators but none of them exists for it.
func (s *Server) indicatorParams(r *http.Request, st *strategy.Strategy) (ids []string, ok bool) {
	internal := s.internal(r)
	asked := false
	for _, v := range r.URL.Query()["indicator"] {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				asked = true
				// An indicator the request may not see counts as unknown.
				if ind := st.Indicator(id); ind != nil && (internal || isPublic(st, ind)) {
					ids = append(ids, id)
				}
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), !asked || len(ids) > 0
}

func (s *Server) serveAPIObservations(w http.ResponseWriter, r *http.Request) {
	ids, ok := s.indicatorParams(r, reqInfo(r).strat)
	if !ok {
		writeJSON(w, r, http.StatusNotFound, "application/json; charset=utf-8", map[string]string{"error": "no such indicator"})
		return
	}
	s.serveAPI(w, r, "observations|"+strings.Join(ids, ","), func(snap *snapshot, internal bool) (any, error) {
		return map[string]any{"municipality": snap.strat.Municipality.Code, "licence": licenceCC0,
			"observations": observationsOf(snap, internal, ids)}, nil
	})
}

// csvSafe keeps a spreadsheet from reading a text cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (s *Server) serveAPIObservationsCSV(w http.ResponseWriter, r *http.Request) {
	q := reqInfo(r)
	internal := s.internal(r)
	ids, ok := s.indicatorParams(r, q.strat)
	if !ok {
		http.Error(w, "no such indicator", http.StatusNotFound)
		return
	}
	snap := s.data(r.Context(), q.strat)
	key := "api|csv|" + strings.Join(ids, ",")
	s.serveCached(w, r, snap, key, func() (cached, error) {
		titles := map[string]string{}
		for _, ind := range snap.strat.Indicators() {
			titles[ind.ID] = ind.Title.SV
		}
		var buf bytes.Buffer
		cw := csv.NewWriter(&buf)
		cw.Write([]string{"municipality", "indicator", "indicator_title", "period", "dimension_kind", "dimension_value", "value", "unit", "source", "recorded"})
		for _, o := range observationsOf(snap, internal, ids) {
			var dk, dv string
			if o.Dimension != nil {
				dk, dv = o.Dimension.Kind, o.Dimension.Value
			}
			cw.Write([]string{o.Municipality, csvSafe(o.Indicator), csvSafe(titles[o.Indicator]), o.Period.String(), csvSafe(dk), csvSafe(dv),
				strconv.FormatFloat(o.Value, 'f', -1, 64), string(o.Unit), csvSafe(o.Source), o.Recorded.Format(time.RFC3339)})
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return cached{}, err
		}
		return cached{status: http.StatusOK, ctype: "text/csv; charset=utf-8", body: buf.Bytes()}, nil
	})
}

type apiAssessment struct {
	Period    strategy.Period `json:"period"`
	Level     strategy.Level  `json:"level"`
	Label     strategy.Text   `json:"label"`
	Forecast  strategy.Level  `json:"forecast,omitempty"`
	Comment   string          `json:"comment,omitempty"`
	Confirmed bool            `json:"confirmed"`
	Created   *time.Time      `json:"created,omitempty"`
	Author    string          `json:"author,omitempty"` // internal only
}

func apiAssessmentOf(a *strategy.Assessment, internal bool) apiAssessment {
	out := apiAssessment{Period: a.Period, Level: a.Level, Forecast: a.Forecast, Comment: a.Comment, Confirmed: a.Confirmed,
		Label: strategy.Text{SV: progress.LevelLabel(a.Level, "sv"), EN: progress.LevelLabel(a.Level, "en")}}
	if !a.Created.IsZero() {
		t := a.Created.UTC()
		out.Created = &t
	}
	if internal {
		out.Author = a.Author
	}
	return out
}

type apiGoal struct {
	ID          string                   `json:"id"`
	Area        string                   `json:"area"`
	Title       strategy.Text            `json:"title"`
	Kind        strategy.GoalKind        `json:"kind"`
	Public      bool                     `json:"public"`
	Dropped     bool                     `json:"dropped,omitempty"`
	Rollup      progress.Rollup          `json:"rollup"`
	Assessments []apiAssessment          `json:"assessments"`
	Indicators  map[string]apiStatus     `json:"indicators"`
	State       apiGoalState             `json:"state"`               // for assessment_period
	Proposals   []progress.GoalProposal  `json:"proposals,omitempty"` // internal only
	Latest      map[string]apiAssessment `json:"latest,omitempty"`    // internal only: drafts included
}

type apiArea struct {
	ID     string          `json:"id"`
	Title  strategy.Text   `json:"title"`
	Rollup progress.Rollup `json:"rollup"`
}

func (s *Server) serveAPIStatuses(w http.ResponseWriter, r *http.Request) {
	s.serveAPI(w, r, "statuses", func(snap *snapshot, internal bool) (any, error) {
		rep := snap.eval.report(internal)
		period := assessmentPeriod(snap.strat, rep, snap.raw)
		// Staff see goals as /ledning shows them for the period: as the
		// report stood at its end.
		var atPeriod *progress.Report
		if internal {
			atPeriod = s.reportAt(snap, period)
		}
		var areas []apiArea
		for _, ar := range rep.Areas {
			areas = append(areas, apiArea{ID: ar.ID, Title: ar.Area.Title, Rollup: ar.Rollup})
		}
		var goals []apiGoal
		for _, gr := range rep.Goals {
			g := gr.Goal
			ag := apiGoal{ID: g.ID, Area: gr.Area.ID, Title: g.Title, Kind: g.Kind, Public: g.Public, Dropped: gr.Dropped,
				Rollup: gr.Rollup, Assessments: []apiAssessment{}, Indicators: map[string]apiStatus{}}
			for _, h := range g.History {
				a := strategy.Assessment{Period: h.Period, Level: h.Level, Comment: h.Comment, Confirmed: true}
				ag.Assessments = append(ag.Assessments, apiAssessmentOf(&a, internal))
			}
			for i := range snap.raw.confirmed {
				if a := &snap.raw.confirmed[i]; a.Confirmed && a.Subject == strategy.SubjectGoal && a.SubjectID == g.ID {
					ag.Assessments = append(ag.Assessments, apiAssessmentOf(a, internal))
				}
			}
			slices.SortStableFunc(ag.Assessments, func(a, b apiAssessment) int { return b.Period.End().Compare(a.Period.End()) })
			for _, ir := range gr.Indicators {
				ag.Indicators[ir.ID] = statusOf(ir.Status.Status)
			}
			gs := publicGoalState(rep, gr, period)
			if internal {
				if pg := atPeriod.Goal(gr.ID); pg != nil {
					gs = internalGoalState(atPeriod, pg, period, "sv")
				}
			}
			ag.State = apiGoalState{Scale: gs.Scale.Key(), Level: gs.Level, Confirmed: gs.Confirmed}
			if internal {
				ag.Proposals = []progress.GoalProposal{gr.Closed, gr.Open}
				ag.Latest = map[string]apiAssessment{}
				for i := range snap.raw.latest {
					if a := &snap.raw.latest[i]; a.Subject == strategy.SubjectGoal && a.SubjectID == g.ID {
						ag.Latest[a.Period.String()] = apiAssessmentOf(a, true)
					}
				}
			}
			goals = append(goals, ag)
		}
		return map[string]any{
			"municipality": snap.strat.Municipality.Code, "evaluated": rep.Now,
			"closed_period": rep.Closed, "open_period": rep.Open, "rule": rep.Rule,
			"assessment_period": period, "maturity": apiMaturityOf(rep.Maturity, internal),
			"overall": rep.Overall, "areas": areas, "goals": goals,
		}, nil
	})
}

type apiForecast struct {
	Indicator string            `json:"indicator"`
	Forecast  progress.Forecast `json:"forecast"`
}

func (s *Server) serveAPIForecasts(w http.ResponseWriter, r *http.Request) {
	s.serveAPI(w, r, "forecasts", func(snap *snapshot, internal bool) (any, error) {
		rep := snap.eval.report(internal)
		out := []apiForecast{}
		for _, ir := range rep.Indicators {
			out = append(out, apiForecast{Indicator: ir.ID, Forecast: ir.Forecast})
		}
		return map[string]any{"municipality": snap.strat.Municipality.Code, "evaluated": rep.Now, "forecasts": out}, nil
	})
}

// serveAPIIndicator answers one indicator in full. Internal indicators
// answer 404 to requests that may not see them, like unknown ones.
func (s *Server) serveAPIIndicator(w http.ResponseWriter, r *http.Request) {
	q := reqInfo(r)
	id := r.PathValue("id")
	internal := s.internal(r)
	ind := q.strat.Indicator(id)
	if ind == nil || !internal && !isPublic(q.strat, ind) {
		writeJSON(w, r, http.StatusNotFound, "application/json; charset=utf-8", map[string]string{"error": "no such indicator: " + id})
		return
	}
	s.serveAPI(w, r, "indicator|"+id, func(snap *snapshot, internal bool) (any, error) {
		rep := snap.eval.report(internal)
		ir := rep.Indicator(id)
		if ir == nil {
			return map[string]string{"error": "no such indicator: " + id}, nil
		}
		return map[string]any{
			"municipality": snap.strat.Municipality.Code,
			"indicator":    apiIndicatorOf(q.base, ir, snap.raw),
			"target_path":  ir.Path.Knots(rep.Now),
			"forecast":     ir.Forecast,
			"observations": observationsOf(snap, internal, []string{id}),
		}, nil
	})
}
