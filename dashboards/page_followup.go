package dashboards

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

type followupView struct {
	Strategy   string
	Year       int
	Action     string
	Reports    string // the period reports, where assessments are written
	Years      []option
	Matrix     table
	Collectors table
}

// serveFollowup answers the follow-up overview: for every indicator and
// report period of a year the outcome, the yearly target and the proposed
// (or recorded) assessment, how fresh the data is, and how the collectors
// are doing. Internal: signed-in staff only.
func (s *Server) serveFollowup(w http.ResponseWriter, r *http.Request) {
	if !s.internal(r) {
		s.serveError(w, r, http.StatusUnauthorized, "err_unauthorized")
		return
	}
	q := reqInfo(r)
	snap := s.data(r.Context(), q.strat)
	rep := snap.eval.full
	periods := reportPeriods(q.strat, rep.Open, snap.raw)
	first, last := periods[len(periods)-1].Year, rep.Open.Year
	year := last
	if v := r.URL.Query().Get("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < first || y > last {
			s.serveError(w, r, http.StatusBadRequest, "err_bad_request")
			return
		}
		year = y
	}
	s.serveCached(w, r, snap, "followup|"+strconv.Itoa(year), func() (cached, error) {
		lang := q.lang
		p := s.newPage(r, tr(lang, "followup_title"), "followup")
		if year != last {
			p.keepQuery(url.Values{"year": {strconv.Itoa(year)}})
		}
		stalePage(p, snap)
		v := &followupView{Strategy: q.strat.Title.In(lang), Year: year, Action: q.base + "/uppfoljning",
			Reports: link(q.base, "/uppfoljning/rapport", lang, nil)}
		for y := last; y >= first; y-- {
			v.Years = append(v.Years, option{Value: strconv.Itoa(y), Label: strconv.Itoa(y), Selected: y == year})
		}
		v.Matrix = followupMatrix(q.base, q.strat, rep, snap.raw, year, lang)
		v.Collectors = collectorTable(snap.raw, lang)
		p.Data = v
		return s.htmlPage("followup", p)
	})
}

func followupMatrix(base string, st *strategy.Strategy, rep *progress.Report, raw *rawData, year int, lang string) table {
	var ps []strategy.Period
	for _, p := range progress.ReportPeriods(st.Rhythm, year) {
		if !p.End().After(rep.Open.End()) {
			ps = append(ps, p)
		}
	}
	head := []string{tr(lang, "goal") + " / " + tr(lang, "indicator")}
	for _, p := range ps {
		head = append(head, p.Label(lang))
	}
	head = append(head, tr(lang, "freshness_col"))
	t := newTable(lang, trf(lang, "followup_caption", year), head...)
	// state is the recorded assessment's state, or "proposal"; and the
	// status to show: the recorded level, else the proposed one.
	state := func(subject strategy.SubjectKind, id string, p strategy.Period, proposed strategy.Level) (string, *statusView) {
		a := rep.Assessment(subject, id, p)
		if a == nil {
			return capitalize(tr(lang, "proposal")), levelStatus(proposed, lang)
		}
		// The state by the follow-up's own rule, so this matrix and the
		// period report never disagree (issue 13).
		st := tr(lang, "state_draft")
		switch progress.AssessmentState(a) {
		case progress.StateConfirmed:
			st = tr(lang, "state_confirmed")
		case progress.StateReady:
			st = tr(lang, "state_ready")
		}
		if a.Level != proposed {
			st += " (" + tr(lang, "proposal") + ": " + progress.LevelLabel(proposed, lang) + ")"
		}
		return st, levelStatus(a.Level, lang)
	}
	// Every goal (measured, milestone or qualitative), each followed by
	// its indicators.
	for _, gr := range rep.Goals {
		if gr.Dropped {
			continue
		}
		cells := []cell{txt(tr(lang, "goal") + ": " + gr.Goal.Title.In(lang))}
		mark := false
		for _, p := range ps {
			gp, _ := rep.ProposeGoal(gr.ID, p)
			text, status := state(strategy.SubjectGoal, gr.ID, p, gp.Level)
			if r := gp.Reason.In(lang); r != "" {
				text += " · " + r
			}
			if len(gr.Goal.Bodies) > 0 {
				text += " · " + bodyCompletion(raw, gr.Goal, p).Text(lang)
			}
			mark = mark || status.Class == "bad"
			cells = append(cells, cell{Status: status, Text: text})
		}
		cells = append(cells, txt("–"))
		t.Rows = append(t.Rows, row{Cells: cells, Mark: mark})
		t.Rows = append(t.Rows, bodyRows(raw, gr.Goal, ps, lang)...)
		t.Rows = append(t.Rows, activityRows(raw, gr.Goal, ps, lang)...)
		for _, ir := range gr.Indicators {
			if ir.Dropped {
				continue
			}
			t.Rows = append(t.Rows, followupIndicatorRow(base, rep, ir, ps, state, lang))
		}
	}
	return t
}

// bodyCompletion is how many of g's responsible bodies have reported for
// p, by the follow-up's own count (progress.BodyCompletion).
func bodyCompletion(raw *rawData, g *strategy.Goal, p strategy.Period) progress.BodyCount {
	return progress.BodyCompletion(g, func(body string) bool { return raw.bodyReports[bodyKey{g.ID, body, p}] != nil })
}

// bodyRows are g's responsible bodies' parts: each body's own assessment
// and comment per report period, or that it has not reported.
func bodyRows(raw *rawData, g *strategy.Goal, ps []strategy.Period, lang string) []row {
	var out []row
	for _, b := range g.Bodies {
		cells := []cell{txt(tr(lang, "body_part") + ": " + b.Name)}
		mark := false
		for _, p := range ps {
			r := raw.bodyReports[bodyKey{g.ID, b.ID, p}]
			if r == nil {
				cells = append(cells, txt(tr(lang, "body_not_reported")))
				continue
			}
			c := cell{Status: levelStatus(r.Level, lang), Text: r.Comment}
			mark = mark || c.Status.Class == "bad"
			cells = append(cells, c)
		}
		out = append(out, row{Cells: append(cells, txt("–")), Mark: mark})
	}
	return out
}

// activityRows are g's activities as they stand in each report period:
// status and outcome from the latest update in force
// (clickhouse.ActivityAt), else the strategy file's values.
func activityRows(raw *rawData, g *strategy.Goal, ps []strategy.Period, lang string) []row {
	var out []row
	for _, a := range g.Activities {
		title := tr(lang, "activity") + ": " + a.Title.In(lang)
		if a.Responsible != "" {
			title += " (" + a.Responsible + ")"
		}
		cells := []cell{txt(title)}
		for _, p := range ps {
			status, outcome, comment := a.Status, a.Outcome, ""
			if u := clickhouse.ActivityAt(raw.activities[a.ID], p); u != nil {
				status, outcome, comment = u.Status, u.Outcome, u.Comment
			}
			text := capitalize(status.Label(lang)) + " · " + tr(lang, "outcome") + " " + money(outcome, lang) + " tkr"
			if comment != "" {
				text += " · " + comment
			}
			cells = append(cells, txt(text))
		}
		out = append(out, row{Cells: append(cells, txt("–"))})
	}
	return out
}

// followupIndicatorRow is an indicator's row of the follow-up matrix.
func followupIndicatorRow(base string, rep *progress.Report, ir *progress.IndicatorResult, ps []strategy.Period,
	state func(strategy.SubjectKind, string, strategy.Period, strategy.Level) (string, *statusView), lang string) row {
	u := ir.Indicator.Unit
	cells := []cell{{Text: ir.Indicator.Title.In(lang), Href: link(base, "/indikator/"+ir.ID, lang, nil)}}
	mark := false
	for _, p := range ps {
		pr, _ := rep.ProposeIndicator(ir.ID, p)
		text, status := state(strategy.SubjectIndicator, ir.ID, p, pr.Level)
		c := cell{Status: status}
		target := tr(lang, "yearly_target")
		if pr.FromPath {
			target = strings.ToLower(tr(lang, "chart_target_path"))
		}
		text += " · " + tr(lang, "outcome") + " " + pointValue(pr.Outcome, u, lang) + " · " + target + " " + value(pr.Target, u, lang)
		if pr.Forecast != strategy.LevelNone {
			text += " · " + tr(lang, "forecast_full_year") + ": " + progress.LevelLabel(pr.Forecast, lang)
		}
		c.Text = text
		mark = mark || c.Status.Class == "bad"
		cells = append(cells, c)
	}
	fresh := "–"
	if l := ir.Status.Latest; l != nil {
		fresh = l.Period.Label(lang) + " · " + tr(lang, "fresh")
		if ir.Status.Status == progress.StatusStale {
			fresh = l.Period.Label(lang) + " · " + tr(lang, "stale")
			mark = true
		}
	}
	cells = append(cells, txt(fresh))
	return row{Cells: cells, Mark: mark}
}

func collectorTable(raw *rawData, lang string) table {
	t := newTable(lang, tr(lang, "collectors_caption"), tr(lang, "collector"), tr(lang, "kind"),
		tr(lang, "last_success"), tr(lang, "last_error"), tr(lang, "rows"))
	t.Num[4] = true
	for _, c := range raw.collectors {
		success := tr(lang, "never")
		if !c.LastSuccess.IsZero() {
			success = formatDateTime(c.LastSuccess)
		}
		lastErr := "–"
		if c.LastError != "" {
			lastErr = formatDateTime(c.LastErrorTime) + ": " + c.LastError
		}
		r := row{Cells: []cell{txt(c.Collector), txt(c.Kind), txt(success), txt(lastErr), txt(fmt.Sprint(c.LastRun.Rows))}}
		r.Mark = c.LastError != "" && c.LastErrorTime.After(c.LastSuccess)
		t.Rows = append(t.Rows, r)
	}
	return t
}
