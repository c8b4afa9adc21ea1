package followup

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// assessForm is a posted assessment form, shown again after a refusal.
type assessForm struct {
	in  AssessmentInput
	err *Error
}

// valueForm is a posted value form, shown again after a refusal.
type valueForm struct {
	period, value, dimension, comment string
	base                              uint64
	err                               *Error
}

type option struct {
	Value, Label string
	Checked      bool
}

type fact struct{ Label, Value string }

type assessView struct {
	chrome
	Kind, Title, Context, Owner string
	PeriodLabel, Back           string
	Facts                       []fact
	Level                       *levelView
	Items                       []itemView
	Action                      string
	Editable                    bool
	Closed                      bool
	NotAllowed                  string
	Levels, Forecasts           []option
	HasForecast                 bool
	Comment                     string
	Ready                       bool
	Base                        string
	MaxComment                  int
	Problems                    []string
	Conflict                    *conflictView
	History                     []historyRow
	Values                      *valuesView
}

type itemView struct {
	Label     string
	Level     *levelView
	Confirmed bool
	Reason    string
}

type conflictView struct {
	Theirs, Yours []fact
	TheirsHead    string
}

type historyRow struct {
	Saved, Author     string
	Level             *levelView
	Forecast, Comment string
	State             string
}

type valuesView struct {
	Action, Back                      string
	Editable                          bool
	Note, Unit                        string
	Period, Value, Dimension, Comment string
	Base                              string
	Problems                          []string
	Conflict                          []string
	// Latest is the newest total value; Count how many values there are
	// in the years shown.
	Latest  *valueRow
	Count   string
	Summary []summaryRow
	// Filter names the one period the list shows (ClearURL shows all).
	Filter, ClearURL string
	Current          []valueRow
	Pager            *pagerView
	History          []valueRow
	HistoryCount     string
	HistoryPager     *pagerView
}

type valueRow struct {
	Period, Dimension, Value       string
	Source, Author, Comment, Saved string
	CorrectURL                     string
}

// summaryRow is one period of the values: its total and how many values
// by dimension it has, with a link to list them.
type summaryRow struct {
	Period, Total, Source string
	Breakdowns, Saved     string
	Href                  string
	Current               bool
}

// pagerView is the navigation of a list shown in pages: where we are
// ("Visar 51–100 av 100 000") and the links around.
type pagerView struct {
	Label, Shown            string
	First, Prev, Next, Last string
}

func (s *Service) serveIndicator(w http.ResponseWriter, r *http.Request, q *req) {
	s.serveAssess(w, r, q, strategy.SubjectIndicator)
}

func (s *Service) serveGoal(w http.ResponseWriter, r *http.Request, q *req) {
	s.serveAssess(w, r, q, strategy.SubjectGoal)
}

func (s *Service) serveAssess(w http.ResponseWriter, r *http.Request, q *req, subject strategy.SubjectKind) {
	p, ok := s.periodOf(r, q)
	if _, known := owners(q.st, subject, r.PathValue("id")); !ok || !known {
		s.fail(w, r, q, errNotFound())
		return
	}
	var vf *valueForm
	if subject == strategy.SubjectIndicator {
		vf = s.correctionForm(r, q)
	}
	s.assessPage(w, r, q, subject, r.PathValue("id"), p, nil, vf, http.StatusOK)
}

// correctionForm fills the value form from ?varde=PERIOD&dim=KIND=VALUE:
// the value to correct, with its version as the base.
func (s *Service) correctionForm(r *http.Request, q *req) *valueForm {
	qs := r.URL.Query()
	per, err := strategy.ParsePeriod(qs.Get("varde"))
	if err != nil {
		return nil
	}
	ind := q.st.Indicator(r.PathValue("id"))
	var d strategy.Dimension
	if k, v, ok := strings.Cut(qs.Get("dim"), "="); ok {
		d = strategy.Dimension{Kind: k, Value: v}
	}
	vf := &valueForm{period: per.String(), dimension: qs.Get("dim")}
	cur, err := s.currentValue(r.Context(), q.st.Municipality.Code, valueKey(ind), per, d)
	if err == nil && cur != nil {
		vf.value = progress.FormatNumber(cur.Value, "sv")
		vf.base = cur.Version
	}
	return vf
}

// assessPage renders the assessment form of a goal or indicator for p;
// af and vf are posted forms to show again (with their problems).
func (s *Service) assessPage(w http.ResponseWriter, r *http.Request, q *req, subject strategy.SubjectKind, id string, p strategy.Period, af *assessForm, vf *valueForm, status int) {
	ctx := r.Context()
	st, lang := q.st, q.lang
	// An indicator's values are read alongside the assessment's data.
	var values func() (*valuesView, error)
	if ind := st.Indicator(id); subject == strategy.SubjectIndicator && ind != nil {
		values = s.goValues(r, q, ind, p, vf)
		defer values()
	}
	rep, err := s.evaluate(ctx, st)
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	states, err := s.states(ctx, st)
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	own, _ := owners(st, subject, id)
	v := &assessView{chrome: s.chrome(q, "periods"), Kind: string(subject), PeriodLabel: p.Label(lang),
		Back: q.url("/uppfoljning/rapport/"+p.String()) + "#rad-" + id, Closed: states[p].Closed,
		HasForecast: p.Kind != strategy.Year, MaxComment: MaxComment}
	if r.URL.Query().Get("sparat") != "" {
		v.Flash = tr(lang, "saved")
	}
	var (
		proposal, pForecast strategy.Level
		ind                 *strategy.Indicator
	)
	switch subject {
	case strategy.SubjectIndicator:
		ind = st.Indicator(id)
		g := st.GoalOf(ind)
		v.Title, v.Owner = ind.Title.In(lang), ownerText(ownerOf(ind, g), lang)
		if g != nil {
			v.Context = tr(lang, "goal") + ": " + g.Title.In(lang)
		}
		v.Action = q.url("/uppfoljning/indikator/" + id + "/" + p.String())
		pr, _ := rep.ProposeIndicator(id, p)
		proposal, pForecast = pr.Level, pr.Forecast
		out, tgt := "–", "–"
		if pr.Outcome != nil {
			out = formatValue(pr.Outcome.Value, ind.Unit, lang) + " (" + pr.Outcome.Period.Label(lang) + ")"
		}
		if pr.Target != nil {
			tgt = formatValue(*pr.Target, ind.Unit, lang)
		}
		v.Facts = append(v.Facts, fact{tr(lang, "outcome"), out}, fact{tr(lang, "target"), tgt},
			fact{tr(lang, "proposal"), capitalize(progress.LevelLabel(pr.Level, lang))},
			fact{tr(lang, "proposal_reason"), pr.Reason.In(lang)})
		if v.HasForecast {
			v.Facts = append(v.Facts, fact{tr(lang, "forecast"), forecastLabel(pr.Forecast, lang)},
				fact{tr(lang, "forecast_reason"), pr.ForecastReason.In(lang)})
		}
	case strategy.SubjectGoal:
		g := st.Goal(id)
		v.Title, v.Owner = g.Title.In(lang), ownerText(g.Owner, lang)
		if a := st.AreaOf(g); a != nil {
			v.Context = a.Title.In(lang)
		}
		v.Action = q.url("/uppfoljning/mal/" + id + "/" + p.String())
		d, err := s.loadBodyData(r.Context(), st.Municipality.Code)
		if err != nil {
			s.fail(w, r, q, err)
			return
		}
		gp := goalProposal(st, rep, d, g, p)
		proposal, pForecast = gp.Level, gp.Forecast
		v.Facts = append(v.Facts, fact{tr(lang, "proposal"), capitalize(progress.LevelLabel(gp.Level, lang))},
			fact{tr(lang, "proposal_reason"), gp.Reason.In(lang)})
		if v.HasForecast {
			v.Facts = append(v.Facts, fact{tr(lang, "forecast"), forecastLabel(gp.Forecast, lang)})
		}
		for _, it := range gp.Items {
			label := it.ID
			if it.Kind == "indicator" {
				if x := st.Indicator(it.ID); x != nil {
					label = x.Title.In(lang)
				}
			} else {
				label = capitalize(it.Kind)
			}
			v.Items = append(v.Items, itemView{Label: label, Level: levelOf(it.Level, lang), Confirmed: it.Confirmed, Reason: it.Reason.In(lang)})
		}
	}
	latest := rep.Assessment(subject, id, p)
	v.Editable = q.who.MayEdit(own...) && !v.Closed
	if !q.who.MayEdit(own...) {
		v.NotAllowed = trf(lang, "not_allowed", strings.Join(nonEmpty(own), ", "))
	}
	// What the form shows: the posted input, else the latest revision,
	// else the engine's proposal.
	in := AssessmentInput{Level: proposal, Forecast: pForecast}
	if latest != nil {
		v.Level = levelOf(latest.Level, lang)
		in = AssessmentInput{Level: latest.Level, Forecast: latest.Forecast, Comment: latest.Comment, Ready: latest.Ready, Base: latest.Revision}
		if latest.Author == "strategy" { // recorded in the strategy file: not a stored revision
			in.Base = 0
		}
	}
	if af != nil {
		in = af.in
		for _, pr := range af.err.Problems {
			v.Problems = append(v.Problems, pr.In(lang))
		}
		if cur := af.err.CurrentAssessment; cur != nil {
			in.Base = cur.Revision
			v.Conflict = &conflictView{
				TheirsHead: trf(lang, "conflict_theirs", cur.Author, formatTime(cur.Created)),
				Theirs:     assessmentFacts(cur, p, lang),
				Yours:      assessmentFacts(&strategy.Assessment{Level: af.in.Level, Forecast: af.in.Forecast, Comment: af.in.Comment, Ready: af.in.Ready, Confirmed: af.in.Confirm}, p, lang),
			}
		}
	}
	v.Comment, v.Ready, v.Base = in.Comment, in.Ready, strconv.FormatUint(in.Base, 10)
	for _, l := range assessLevels {
		v.Levels = append(v.Levels, option{Value: string(l), Label: capitalize(progress.LevelLabel(l, lang)), Checked: in.Level == l})
	}
	v.Forecasts = append(v.Forecasts, option{Value: "", Label: tr(lang, "no_forecast"), Checked: in.Forecast == strategy.LevelNone})
	for _, l := range forecastLevels {
		v.Forecasts = append(v.Forecasts, option{Value: string(l), Label: forecastLabel(l, lang), Checked: in.Forecast == l})
	}
	hist, err := s.store.AssessmentHistory(ctx, st.Municipality.Code, subject, id)
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	for _, a := range hist {
		if a.Period != p {
			continue
		}
		h := historyRow{Saved: formatTime(a.Created), Author: a.Author, Level: levelOf(a.Level, lang), Comment: a.Comment,
			State: stateLabel(stateOf(&a), lang)}
		if v.HasForecast {
			h.Forecast = forecastLabel(a.Forecast, lang)
		}
		v.History = append(v.History, h)
	}
	if values != nil {
		if v.Values, err = values(); err != nil {
			s.fail(w, r, q, err)
			return
		}
	}
	s.render(w, r, q, status, "assess", trf(lang, "assess_title", p.Label(lang), v.Title), v)
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return []string{"–"}
	}
	return out
}

func assessmentFacts(a *strategy.Assessment, p strategy.Period, lang string) []fact {
	fs := []fact{{tr(lang, "assessment"), capitalize(progress.LevelLabel(a.Level, lang))}}
	if p.Kind != strategy.Year {
		fs = append(fs, fact{tr(lang, "forecast"), forecastLabel(a.Forecast, lang)})
	}
	return append(fs, fact{tr(lang, "comment"), a.Comment}, fact{tr(lang, "status"), stateLabel(stateOf(a), lang)})
}

// goValues starts reading an indicator's value section (valuesView); the
// function it returns waits for it.
func (s *Service) goValues(r *http.Request, q *req, ind *strategy.Indicator, p strategy.Period, vf *valueForm) func() (*valuesView, error) {
	var (
		v    *valuesView
		err  error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		v, err = s.valuesView(r, q, ind, p, vf)
	}()
	return func() (*valuesView, error) {
		<-done
		return v, err
	}
}

// valuesPage is how many values (and versions of the history) one page
// of an indicator's page lists.
const valuesPage = 50

// valuesView is the value section of an indicator's page: the latest
// total and how many values there are first, a summary per period of
// this year and last, one page of the values (of all those periods or of
// one), the form, and one page of the hand-written history. Nothing here
// grows with the number of values: the store counts and pages.
func (s *Service) valuesView(r *http.Request, q *req, ind *strategy.Indicator, p strategy.Period, vf *valueForm) (*valuesView, error) {
	ctx, lang, tenant, key := r.Context(), q.lang, q.st.Municipality.Code, valueKey(ind)
	own, _ := owners(q.st, strategy.SubjectIndicator, ind.ID)
	v := &valuesView{Action: q.url("/uppfoljning/indikator/" + ind.ID + "/varde"), Back: p.String(),
		Editable: q.who.MayEdit(own...), Unit: string(ind.Unit), Base: "0"}
	if note := measureNote(ind.Source, lang); note != "" {
		v.Note = trf(lang, "value_computed", note)
	}
	qs := r.URL.Query()
	page := func(name string) int {
		n, err := strconv.Atoi(qs.Get(name))
		if err != nil || n < 1 {
			return 1
		}
		return n
	}
	filter, _ := strategy.ParsePeriod(qs.Get("vperiod"))
	self := "/uppfoljning/indikator/" + ind.ID + "/" + p.String()
	// link is this page with the list's state, changed by kv.
	link := func(anchor string, kv ...string) string {
		state := map[string]string{"sida": qs.Get("sida"), "vperiod": qs.Get("vperiod"), "logg": qs.Get("logg")}
		for i := 0; i+1 < len(kv); i += 2 {
			state[kv[i]] = kv[i+1]
		}
		var args []string
		for _, k := range []string{"vperiod", "sida", "logg"} {
			if x := state[k]; x != "" && x != "1" {
				args = append(args, k, x)
			}
		}
		return q.url(self, args...) + "#" + anchor
	}

	// The history is read alongside the values (each a count, then a
	// page): the two lists do not wait for each other. Its goroutine sets
	// the history's fields of v only, and is waited for on every return.
	var (
		wg      sync.WaitGroup
		histErr error
	)
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		groups, err := s.store.ObservationHistoryGroups(ctx, tenant, key)
		if err != nil {
			histErr = err
			return
		}
		n := 0
		for _, g := range groups {
			n += g.Versions
		}
		v.HistoryCount = trf(lang, "history_count", countText(n, lang))
		var off int
		v.HistoryPager, off = pager(lang, page("logg"), n, func(n int) string { return link("vardehistorik", "logg", strconv.Itoa(n)) })
		hist, err := s.store.ObservationHistoryPage(ctx, tenant, key, groups, off, valuesPage)
		for _, o := range hist {
			v.History = append(v.History, valueRow{Period: o.Period.Label(lang), Dimension: dimensionText(o.Dimension, lang),
				Value: formatValue(o.Value, ind.Unit, lang), Source: sourceText(o.Source, lang), Author: o.Author, Comment: o.Comment, Saved: formatTime(o.Recorded)})
		}
		histErr = err
	}()

	from := time.Date(p.Year-1, 1, 1, 0, 0, 0, 0, strategy.Stockholm)
	all := clickhouse.ObservationFilter{Tenant: tenant, Indicators: []string{key}, From: from, Dimensions: true}
	sum, err := s.store.ObservationSummary(ctx, all)
	if err != nil {
		return nil, err
	}
	total, totals := 0, 0
	for _, ps := range sum {
		total += ps.Values
		if ps.HasTotal {
			totals++
			if v.Latest == nil {
				v.Latest = &valueRow{Period: ps.Period.Label(lang), Value: formatValue(ps.Total, ind.Unit, lang),
					Source: sourceText(ps.TotalSource, lang), Saved: formatTime(ps.Recorded)}
			}
		}
	}
	v.Count = trf(lang, "values_count", countText(total, lang), from.Year(), p.Year, countText(totals, lang),
		countText(total-totals, lang))
	list, listed := all, total
	if filter.Valid() {
		v.Filter, v.ClearURL = filter.Label(lang), link("vardelista", "vperiod", "", "sida", "")
		list = clickhouse.ObservationFilter{Tenant: tenant, Indicators: []string{key}, Kind: filter.Kind, From: filter.Start(), To: filter.End(), Dimensions: true}
		listed = 0
	}
	for _, ps := range sum {
		row := summaryRow{Period: ps.Period.Label(lang), Total: "–", Source: "–", Breakdowns: countText(ps.Breakdowns, lang),
			Saved: formatTime(ps.Recorded), Href: link("vardelista", "vperiod", ps.Period.String(), "sida", ""), Current: ps.Period == filter}
		if ps.HasTotal {
			row.Total, row.Source = formatValue(ps.Total, ind.Unit, lang), sourceText(ps.TotalSource, lang)
		}
		if row.Current {
			listed = ps.Values
		}
		v.Summary = append(v.Summary, row)
	}
	var off int
	v.Pager, off = pager(lang, page("sida"), listed, func(n int) string { return link("vardelista", "sida", strconv.Itoa(n)) })
	var cur []strategy.Observation
	if filter.Valid() && listed == 0 { // a period before the summary's: read directly
		cur, err = s.store.ObservationPage(ctx, list, off, valuesPage)
	} else {
		cur, err = s.pageByPeriod(ctx, list, sum, off, valuesPage)
	}
	if err != nil {
		return nil, err
	}
	for _, o := range cur {
		row := valueRow{Period: o.Period.Label(lang), Dimension: dimensionText(o.Dimension, lang), Value: formatValue(o.Value, ind.Unit, lang),
			Source: sourceText(o.Source, lang), Author: o.Author, Comment: o.Comment, Saved: formatTime(o.Recorded)}
		dim := ""
		if !o.Dimension.IsTotal() {
			dim = o.Dimension.Kind + "=" + o.Dimension.Value
		}
		row.CorrectURL = q.url(self, "varde", o.Period.String(), "dim", dim) + "#vardeformular"
		v.Current = append(v.Current, row)
	}
	wg.Wait()
	if histErr != nil {
		return nil, histErr
	}
	if vf != nil {
		v.Period, v.Value, v.Dimension, v.Comment = vf.period, vf.value, vf.dimension, vf.comment
		v.Base = strconv.FormatUint(vf.base, 10)
		if vf.err != nil {
			for _, pr := range vf.err.Problems {
				v.Problems = append(v.Problems, pr.In(lang))
			}
			if c := vf.err.CurrentValue; c != nil {
				v.Base = strconv.FormatUint(c.Version, 10)
				v.Conflict = []string{
					trf(lang, "value_conflict", formatValue(c.Value, ind.Unit, lang), c.Author, formatTime(c.Recorded)),
					trf(lang, "value_yours", vf.value),
				}
			}
		}
	}
	return v, nil
}

// pageByPeriod reads one page of the values list f selects (after off,
// at most limit) a period at a time: the summary sum says how many values
// each period holds, in the list's order, so each read groups one
// period's keys (5 000 of an upload by department) rather than all of
// the indicator's (100 000).
func (s *Service) pageByPeriod(ctx context.Context, f clickhouse.ObservationFilter, sum []clickhouse.PeriodSummary, off, limit int) ([]strategy.Observation, error) {
	var out []strategy.Observation
	for _, ps := range sum {
		if limit <= 0 {
			break
		}
		if f.Kind != "" && ps.Period.Kind != f.Kind || !f.From.IsZero() && ps.Period.Start().Before(f.From) ||
			!f.To.IsZero() && !ps.Period.Start().Before(f.To) {
			continue // not in the list (a period filter)
		}
		if off >= ps.Values {
			off -= ps.Values
			continue
		}
		one := f
		one.Kind, one.From, one.To = ps.Period.Kind, ps.Period.Start(), ps.Period.End()
		page, err := s.store.ObservationPage(ctx, one, off, limit)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		off, limit = 0, limit-len(page)
	}
	return out, nil
}

// pager places page (1-based; past the end: the last page) of a list of
// n items shown valuesPage at a time, with links made by href; it returns
// nil when everything fits on one page, and the offset of the page.
func pager(lang string, page, n int, href func(int) string) (*pagerView, int) {
	pages := max(1, (n+valuesPage-1)/valuesPage)
	page = min(max(page, 1), pages)
	off := (page - 1) * valuesPage
	if pages == 1 {
		return nil, off
	}
	v := &pagerView{Label: trf(lang, "page_of", countText(page, lang), countText(pages, lang)),
		Shown: trf(lang, "shown_of", countText(off+1, lang), countText(min(off+valuesPage, n), lang), countText(n, lang))}
	if page > 1 {
		v.First, v.Prev = href(1), href(page-1)
	}
	if page < pages {
		v.Next, v.Last = href(page+1), href(pages)
	}
	return v, off
}

// postIndicator and postGoal save an assessment.
func (s *Service) postIndicator(w http.ResponseWriter, r *http.Request, q *req) {
	s.postAssess(w, r, q, strategy.SubjectIndicator)
}

func (s *Service) postGoal(w http.ResponseWriter, r *http.Request, q *req) {
	s.postAssess(w, r, q, strategy.SubjectGoal)
}

func (s *Service) postAssess(w http.ResponseWriter, r *http.Request, q *req, subject strategy.SubjectKind) {
	id := r.PathValue("id")
	p, ok := s.periodOf(r, q)
	if _, known := owners(q.st, subject, id); !ok || !known {
		s.fail(w, r, q, errNotFound())
		return
	}
	base, _ := strconv.ParseUint(r.PostFormValue("bas"), 10, 64)
	in := AssessmentInput{Subject: subject, ID: id, Period: p,
		Level: strategy.Level(r.PostFormValue("niva")), Forecast: strategy.Level(r.PostFormValue("prognos")),
		Comment: r.PostFormValue("kommentar"), Ready: r.PostFormValue("klar") == "1",
		Confirm: r.PostFormValue("knapp") == "bekrafta", Base: base}
	_, err := s.SaveAssessment(r.Context(), q.st, q.who, q.remote, in)
	var fe *Error
	if errors.As(err, &fe) && (fe.Status == http.StatusBadRequest || fe.CurrentAssessment != nil) {
		s.assessPage(w, r, q, subject, id, p, &assessForm{in: in, err: fe}, nil, fe.Status)
		return
	}
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	redirect(w, r, q.url("/uppfoljning/rapport/"+p.String(), "sparat", id)+"#rad-"+id)
}

// postValue enters or corrects a value of an indicator.
func (s *Service) postValue(w http.ResponseWriter, r *http.Request, q *req) {
	id := r.PathValue("id")
	ind := q.st.Indicator(id)
	back, ok := s.parseReportPeriod(q.st, r.PostFormValue("tillbaka"))
	if ind == nil {
		s.fail(w, r, q, errNotFound())
		return
	}
	if !ok {
		back = progress.ClosedReportPeriod(q.st.Rhythm, s.opts.Now())
	}
	base, _ := strconv.ParseUint(r.PostFormValue("bas"), 10, 64)
	vf := &valueForm{period: strings.TrimSpace(r.PostFormValue("period")), value: strings.TrimSpace(r.PostFormValue("varde")),
		dimension: strings.TrimSpace(r.PostFormValue("dimension")), comment: r.PostFormValue("kommentar"), base: base}
	in := ValueInput{Indicator: id, Comment: vf.comment, Base: base}
	var pr problems
	per, err := strategy.ParsePeriod(vf.period)
	if err != nil {
		pr.add("Ange en period, t.ex. 2025, 2025-T2, 2025-Q3 eller 2025-03.", "Give a period, e.g. 2025, 2025-T2, 2025-Q3 or 2025-03.")
	}
	in.Period = per
	if in.Value, err = strategy.ParseNumber(vf.value); err != nil {
		pr.add("Ange värdet som ett tal, t.ex. 72,5.", "Give the value as a number, e.g. 72.5.")
	}
	if vf.dimension != "" {
		k, v, _ := strings.Cut(vf.dimension, "=")
		in.Dimension = strategy.Dimension{Kind: strings.TrimSpace(k), Value: strings.TrimSpace(v)}
		if in.Dimension.Kind == "" || in.Dimension.Value == "" {
			pr.add("Dimensionen ska skrivas typ=värde, t.ex. department=Socialförvaltningen.", "Write the dimension as kind=value, e.g. department=Socialförvaltningen.")
		}
	}
	if len(pr) == 0 {
		_, err = s.SaveValue(r.Context(), q.st, q.who, q.remote, in)
	} else {
		err = pr.err()
	}
	var fe *Error
	if errors.As(err, &fe) && (fe.Status == http.StatusBadRequest || fe.Status == http.StatusConflict) {
		vf.err = fe
		s.assessPage(w, r, q, strategy.SubjectIndicator, id, back, nil, vf, fe.Status)
		return
	}
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	redirect(w, r, q.url("/uppfoljning/indikator/"+id+"/"+back.String(), "sparat", "varde")+"#varden")
}
