package followup

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

type periodsView struct {
	chrome
	Rows []periodRow
}

type periodRow struct {
	Label, Href       string
	State, StateClass string
	Due               bool
	Ready             string
	Percent           int
	Closed            string
	Bodies            string // the responsible bodies' completion, "" without bodies
}

// servePeriods lists the report periods with their state and completion.
func (s *Service) servePeriods(w http.ResponseWriter, r *http.Request, q *req) {
	ctx := r.Context()
	rep, err := s.evaluate(ctx, q.st)
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	states, err := s.states(ctx, q.st)
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	d, err := s.loadBodyData(ctx, q.st.Municipality.Code)
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	now := s.opts.Now()
	due := s.duePeriod(q.st)
	v := &periodsView{chrome: s.chrome(q, "periods")}
	for _, p := range s.reportPeriods(q.st) {
		rp := s.buildReport(rep, d, states, q.st, q.who, p)
		row := periodRow{Label: p.Label(q.lang), Href: q.url("/uppfoljning/rapport/" + p.String()), Due: p == due,
			Ready: trf(q.lang, "of", rp.Total.Ready, rp.Total.Total), Percent: rp.Total.Percent()}
		if rp.BodyTotal.Total > 0 {
			row.Bodies = rp.BodyTotal.Text(q.lang)
		}
		switch st := states[p]; {
		case st.Closed:
			row.State, row.StateClass = tr(q.lang, "state_closed"), "good"
			row.Closed = trf(q.lang, "closed_by", formatTime(st.At), st.Actor)
		case p.End().After(now):
			row.State, row.StateClass = tr(q.lang, "state_running"), "none"
		default:
			row.State, row.StateClass = tr(q.lang, "state_open"), "warn"
		}
		v.Rows = append(v.Rows, row)
	}
	s.render(w, r, q, http.StatusOK, "periods", tr(q.lang, "periods_title"), v)
}

type reportView struct {
	chrome
	Title     string
	Running   bool
	Closed    bool
	ClosedBy  string
	IsAdmin   bool
	CloseURL  string
	ReopenURL string
	CloseNote string
	// Done says every goal and indicator is marked ready: the period
	// closes with one button. Otherwise ConfirmURL leads to a step that
	// says what is missing first.
	Done       bool
	ConfirmURL string
	PrintURL   string
	CSVURL     string
	Owners     []countView
	Total      countView
	Areas      []areaView
}

type countView struct {
	Owner                                   string
	Total, Missing, Draft, Confirmed, Ready int
	Percent                                 int
}

func countOf(c Count, lang string) countView {
	return countView{Owner: ownerText(c.Owner, lang), Total: c.Total, Missing: c.Missing, Draft: c.Draft,
		Confirmed: c.Confirmed, Ready: c.Ready, Percent: c.Percent()}
}

type areaView struct {
	ID, Title, Caption string
	Goals              []goalView
}

type goalView struct {
	Row        rowView
	Indicators []rowView
	Parts      *partsView // responsible bodies and activities (page_bodies.go)
}

type rowView struct {
	Kind, ID, Title, Owner   string
	Outcome, Target          string
	Proposed, Level          *levelView
	Forecast                 string
	State, StateClass        string
	Comment, Author, Saved   string
	EditURL, EditLabel       string
	ProposedReason, Reason   string
	HasForecast, IsIndicator bool
}

func (s *Service) rowView(q *req, p strategy.Period, row Row) rowView {
	v := rowView{Kind: string(row.Subject), ID: row.ID, Title: row.Title.In(q.lang), Owner: ownerText(row.Owner, q.lang),
		Outcome: "–", Target: "–", Proposed: levelOf(row.Proposed, q.lang), ProposedReason: row.Reason.In(q.lang),
		State: stateLabel(row.State, q.lang), StateClass: stateClass(row.State),
		HasForecast: p.Kind != strategy.Year, IsIndicator: row.Subject == strategy.SubjectIndicator}
	if row.Outcome != nil {
		v.Outcome = formatValue(row.Outcome.Value, row.Unit, q.lang) + " (" + row.Outcome.Period.Label(q.lang) + ")"
	}
	if row.Target != nil {
		v.Target = formatValue(*row.Target, row.Unit, q.lang)
	}
	if a := row.Latest; a != nil {
		v.Level = levelOf(a.Level, q.lang)
		v.Comment, v.Author, v.Saved = a.Comment, a.Author, formatTime(a.Created)
		if v.HasForecast {
			v.Forecast = forecastLabel(a.Forecast, q.lang)
		}
	}
	path := "/uppfoljning/mal/"
	if row.Subject == strategy.SubjectIndicator {
		path = "/uppfoljning/indikator/"
	}
	v.EditURL = q.url(path + row.ID + "/" + p.String())
	v.EditLabel = tr(q.lang, "show")
	if row.MayEdit {
		v.EditLabel = tr(q.lang, "edit")
	}
	return v
}

// serveReport is a period's work list: every goal and indicator with
// outcome, target, proposal and assessment, completion per owner, and
// for admins closing and reopening.
func (s *Service) serveReport(w http.ResponseWriter, r *http.Request, q *req) {
	p, ok := s.periodOf(r, q)
	if !ok {
		s.fail(w, r, q, errNotFound())
		return
	}
	rp, err := s.BuildReport(r.Context(), q.st, q.who, p)
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	base := "/uppfoljning/rapport/" + p.String()
	v := &reportView{chrome: s.chrome(q, "periods"), Title: trf(q.lang, "report_title", p.Label(q.lang)),
		Running: p.End().After(s.opts.Now()), Closed: rp.Closed(), IsAdmin: q.who.Is(auth.Admin),
		CloseURL: q.url(base + "/stang"), ReopenURL: q.url(base + "/oppna"),
		PrintURL: q.url(base + "/utskrift"), CSVURL: q.url(base + "/rapport.csv"),
		Total: countOf(rp.Total, q.lang), CloseNote: trf(q.lang, "close_note", rp.Total.Ready, rp.Total.Total, rp.Total.Percent()),
		Done: rp.Total.Done(), ConfirmURL: q.url(base + "/stang")}
	if rp.Closed() {
		v.ClosedBy = trf(q.lang, "closed_by", formatTime(rp.State.At), rp.State.Actor)
	}
	if r.URL.Query().Get("sparat") != "" {
		v.Flash = tr(q.lang, "saved")
	}
	v.Owners, v.Areas = s.reportViews(q, p, rp)
	s.render(w, r, q, http.StatusOK, "report", v.Title, v)
}

// closeView is the step before closing a period that is not fully
// ready: what is missing, per owner and one by one, and the form that
// closes it anyway.
type closeView struct {
	chrome
	Title, Note, Period string
	Action, Back        string
	Closed, Done        bool
	Owners              []countView
	Total               countView
	Open                []rowView
}

// serveCloseConfirm asks before closing a period (admins): it lists
// what is not marked ready; its form posts the close with bekraftat=1.
func (s *Service) serveCloseConfirm(w http.ResponseWriter, r *http.Request, q *req) {
	p, ok := s.periodOf(r, q)
	if !ok {
		s.fail(w, r, q, errNotFound())
		return
	}
	rp, err := s.BuildReport(r.Context(), q.st, q.who, p)
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	base := "/uppfoljning/rapport/" + p.String()
	v := &closeView{chrome: s.chrome(q, "periods"), Title: trf(q.lang, "close_title", p.Label(q.lang)), Period: p.Label(q.lang),
		Action: q.url(base + "/stang"), Back: q.url(base), Closed: rp.Closed(), Done: rp.Total.Done(),
		Total: countOf(rp.Total, q.lang)}
	notReady := rp.Total.Total - rp.Total.Ready
	v.Note = trf(q.lang, "close_missing", notReady, rp.Total.Total, rp.Total.Percent())
	for _, c := range rp.Owners {
		if c.Ready < c.Total {
			v.Owners = append(v.Owners, countOf(c, q.lang))
		}
	}
	for _, a := range rp.Areas {
		for _, g := range a.Goals {
			for _, row := range append([]Row{g.Row}, g.Indicators...) {
				if row.State != StateReady {
					rv := s.rowView(q, p, row)
					rv.Title = tr(q.lang, string(row.Subject)) + ": " + rv.Title
					v.Open = append(v.Open, rv)
				}
			}
		}
	}
	s.render(w, r, q, http.StatusOK, "close", v.Title, v)
}

// postClose closes a period (admins). A period that is not fully ready
// closes only from the confirmation step (bekraftat=1); without it the
// browser is sent there and nothing is written.
func (s *Service) postClose(w http.ResponseWriter, r *http.Request, q *req) {
	p, ok := s.periodOf(r, q)
	if !ok {
		s.fail(w, r, q, errNotFound())
		return
	}
	if r.PostFormValue("bekraftat") != "1" {
		rp, err := s.BuildReport(r.Context(), q.st, q.who, p)
		if err != nil {
			s.fail(w, r, q, err)
			return
		}
		if !rp.Total.Done() && !rp.Closed() {
			redirect(w, r, q.url("/uppfoljning/rapport/"+p.String()+"/stang"))
			return
		}
	}
	if err := s.ClosePeriod(r.Context(), q.st, q.who, q.remote, p); err != nil {
		s.fail(w, r, q, err)
		return
	}
	redirect(w, r, q.url("/uppfoljning/rapport/"+p.String(), "sparat", "stangd"))
}

// postReopen reopens a closed period with a reason (admins).
func (s *Service) postReopen(w http.ResponseWriter, r *http.Request, q *req) {
	p, ok := s.periodOf(r, q)
	if !ok {
		s.fail(w, r, q, errNotFound())
		return
	}
	if err := s.ReopenPeriod(r.Context(), q.st, q.who, q.remote, p, r.PostFormValue("motivering")); err != nil {
		s.fail(w, r, q, err)
		return
	}
	redirect(w, r, q.url("/uppfoljning/rapport/"+p.String(), "sparat", "oppnad"))
}

type printView struct {
	chrome
	Municipality, Strategy, Vision string
	Period, Made, ClosedBy         string
	Prelim                         bool
	Total                          countView
	Owners                         []countView
	Areas                          []areaView
}

// servePrint is the period report for print: a cover block, a summary,
// then every goal and indicator with outcome, target, assessment and
// comment, one goal area per page.
func (s *Service) servePrint(w http.ResponseWriter, r *http.Request, q *req) {
	p, ok := s.periodOf(r, q)
	if !ok {
		s.fail(w, r, q, errNotFound())
		return
	}
	rp, err := s.BuildReport(r.Context(), q.st, nil, p)
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	v := &printView{chrome: s.chrome(q, ""), Municipality: q.st.Municipality.Name, Strategy: q.st.Title.In(q.lang),
		Vision: q.st.Vision.In(q.lang), Period: p.Label(q.lang), Made: trf(q.lang, "print_made", formatTime(rp.Made)),
		Prelim: !rp.Closed(), Total: countOf(rp.Total, q.lang)}
	if rp.Closed() {
		v.ClosedBy = trf(q.lang, "closed_by", formatTime(rp.State.At), rp.State.Actor)
	}
	v.Owners, v.Areas = s.reportViews(q, p, rp)
	s.render(w, r, q, http.StatusOK, "print", trf(q.lang, "print_title", p.Label(q.lang)), v)
}

// serveReportCSV downloads the period report: one row per goal and
// indicator, semicolon-separated UTF-8 with a BOM, as Swedish Excel opens
// it.
func (s *Service) serveReportCSV(w http.ResponseWriter, r *http.Request, q *req) {
	p, ok := s.periodOf(r, q)
	if !ok {
		s.fail(w, r, q, errNotFound())
		return
	}
	rp, err := s.BuildReport(r.Context(), q.st, nil, p)
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	head := []string{"område", "mål", "typ", "id", "titel", "ansvarig", "enhet", "utfall", "utfallsperiod", "årsmål",
		"förslag", "bedömning", "prognos", "kommentar", "status", "författare", "sparad"}
	if q.lang == "en" {
		head = []string{"area", "goal", "type", "id", "title", "owner", "unit", "outcome", "outcome_period", "yearly_target",
			"proposal", "assessment", "forecast", "comment", "state", "author", "saved"}
	}
	var rows [][]string
	for _, a := range rp.Areas {
		for _, g := range a.Goals {
			for _, row := range append([]Row{g.Row}, g.Indicators...) {
				rec := []string{a.Area.ID, g.Goal.ID, string(row.Subject), row.ID, row.Title.In(q.lang), row.Owner, string(row.Unit)}
				if row.Outcome != nil {
					rec = append(rec, csvNumber(row.Outcome.Value), row.Outcome.Period.String())
				} else {
					rec = append(rec, "", "")
				}
				if row.Target != nil {
					rec = append(rec, csvNumber(*row.Target))
				} else {
					rec = append(rec, "")
				}
				rec = append(rec, progress.LevelLabel(row.Proposed, q.lang))
				if a := row.Latest; a != nil {
					fc := ""
					if p.Kind != strategy.Year {
						fc = forecastLabel(a.Forecast, q.lang)
					}
					rec = append(rec, progress.LevelLabel(a.Level, q.lang), fc, a.Comment, stateLabel(row.State, q.lang), a.Author, formatTime(a.Created))
				} else {
					rec = append(rec, "", "", "", stateLabel(row.State, q.lang), "", "")
				}
				rows = append(rows, rec)
			}
			rows = append(rows, partsCSV(a.Area.ID, g, q.lang)...)
		}
	}
	name := fmt.Sprintf("uppfoljning-%s-%s.csv", q.st.Municipality.Code, p)
	if err := writeCSV(w, name, head, rows); err != nil {
		s.log.Warn("followup: writing a CSV download failed", "err", err)
	}
}

// partsCSV are the CSV rows of goal g's responsible bodies (type "body":
// the body's assessment, comment, whether it has reported, author and
// time) and activities (type "activity": responsible, outcome in tkr and
// the period of the update in force, status and comment), in the period
// report's columns.
func partsCSV(area string, g GoalReport, lang string) [][]string {
	var rows [][]string
	for _, b := range g.Bodies {
		rec := []string{area, g.Goal.ID, "body", b.Body.ID, b.Body.Name, "", "", "", "", "", ""}
		if r := b.Report; r != nil {
			rec = append(rec, progress.LevelLabel(r.Level, lang), "", r.Comment, tr(lang, "body_reported"), r.Author, formatTime(r.Created))
		} else {
			rec = append(rec, "", "", "", tr(lang, "body_not_reported"), "", "")
		}
		rows = append(rows, rec)
	}
	for _, a := range g.Activities {
		rec := []string{area, g.Goal.ID, "activity", a.Activity.ID, a.Activity.Title.In(lang), a.Activity.Responsible, "tkr"}
		if a.Outcome != nil {
			period := ""
			if a.Update != nil {
				period = a.Update.Period.String()
			}
			rec = append(rec, csvNumber(*a.Outcome), period)
		} else {
			rec = append(rec, "", "")
		}
		author, saved := "", ""
		if u := a.Update; u != nil {
			author, saved = u.Author, formatTime(u.Created)
		}
		rec = append(rec, "", "", "", "", a.Comment, a.Status.Label(lang), author, saved)
		rows = append(rows, rec)
	}
	return rows
}

// csvNumber writes a number with a decimal comma, without grouping.
func csvNumber(v float64) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', -1, 64), ".", ",", 1)
}

// csvCell keeps a text cell from being read as a formula by a
// spreadsheet (=, +, -, @ at the start), leaving numbers alone.
func csvCell(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64); err == nil {
		return s
	}
	return "'" + s
}

// writeCSV sends a CSV download.
func writeCSV(w http.ResponseWriter, name string, head []string, rows [][]string) error {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	if _, err := w.Write([]byte("\ufeff")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, rec := range rows {
		for i := range rec {
			rec[i] = csvCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// reportViews are what the report page and its print version both show:
// completion per owner, and every goal area's goals and indicators.
func (s *Service) reportViews(q *req, p strategy.Period, rp *Report) (owners []countView, areas []areaView) {
	for _, c := range rp.Owners {
		owners = append(owners, countOf(c, q.lang))
	}
	for _, a := range rp.Areas {
		av := areaView{ID: a.Area.ID, Title: a.Area.Title.In(q.lang), Caption: trf(q.lang, "area_table", a.Area.Title.In(q.lang), p.Label(q.lang))}
		for _, g := range a.Goals {
			gv := goalView{Row: s.rowView(q, p, g.Row), Parts: s.partsOf(q, p, g)}
			for _, ind := range g.Indicators {
				gv.Indicators = append(gv.Indicators, s.rowView(q, p, ind))
			}
			av.Goals = append(av.Goals, gv)
		}
		areas = append(areas, av)
	}
	return owners, areas
}
