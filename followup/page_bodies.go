package followup

import (
	"net/http"
	"strconv"

	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// partsView is a goal's responsible bodies and activities in the period
// report, with their forms for who may write.
type partsView struct {
	Lang, CSRF string
	GoalID     string
	Count      string // "2 av 3 ansvariga har rapporterat"
	Bodies     []bodyView
	Activities []activityView
	Levels     []*levelOption
	Statuses   []statusOption
}

type bodyView struct {
	ID, Name, Kind         string
	Level                  *levelView
	Comment, Author, Saved string
	Base                   uint64
	MayEdit                bool
	Action                 string
}

type activityView struct {
	ID, Title, Responsible string
	Due, Status, Budget    string
	Outcome, OutcomeInput  string
	Comment                string
	StatusCode             string
	Base                   uint64
	MayEdit                bool
	Action                 string
}

type levelOption struct {
	Value, Label string
}

type statusOption struct {
	Value, Label string
}

func money(v *float64, lang string) string {
	if v == nil {
		return "–"
	}
	return progress.FormatNumber(*v, lang) + " tkr"
}

// partsOf builds a goal's parts view; nil when it has no bodies and no
// activities.
func (s *Service) partsOf(q *req, p strategy.Period, g GoalReport) *partsView {
	if len(g.Bodies) == 0 && len(g.Activities) == 0 {
		return nil
	}
	v := &partsView{Lang: q.lang, CSRF: q.who.CSRFToken(), GoalID: g.Goal.ID}
	if g.BodyCount.Total > 0 {
		v.Count = g.BodyCount.Text(q.lang)
	}
	for _, l := range assessLevels {
		v.Levels = append(v.Levels, &levelOption{Value: string(l), Label: progress.LevelLabel(l, q.lang)})
	}
	for _, a := range strategy.ActivityStatuses {
		v.Statuses = append(v.Statuses, statusOption{Value: string(a.Status), Label: a.Label.In(q.lang)})
	}
	for _, b := range g.Bodies {
		bv := bodyView{ID: b.Body.ID, Name: b.Body.Name, Kind: b.Body.Kind, MayEdit: b.MayEdit,
			Action: q.url("/uppfoljning/mal/" + g.Goal.ID + "/" + p.String() + "/organ/" + b.Body.ID)}
		if r := b.Report; r != nil {
			bv.Level = levelOf(r.Level, q.lang)
			bv.Comment, bv.Author, bv.Saved, bv.Base = r.Comment, r.Author, formatTime(r.Created), r.Revision
		}
		v.Bodies = append(v.Bodies, bv)
	}
	for _, a := range g.Activities {
		av := activityView{ID: a.Activity.ID, Title: a.Activity.Title.In(q.lang), Responsible: a.Activity.Responsible,
			Due: a.Activity.Due.String(), Status: a.Status.Label(q.lang), StatusCode: string(a.Status),
			Budget: money(a.Activity.Budget, q.lang), Outcome: money(a.Outcome, q.lang), Comment: a.Comment, MayEdit: a.MayEdit,
			Action: q.url("/uppfoljning/aktivitet/" + a.Activity.ID + "/" + p.String())}
		if a.Outcome != nil {
			av.OutcomeInput = progress.FormatNumber(*a.Outcome, q.lang)
		}
		if u := a.Update; u != nil && u.Period == p {
			av.Base = u.Revision
		}
		v.Activities = append(v.Activities, av)
	}
	return v
}

// postBodyReport saves a responsible body's report on a goal.
func (s *Service) postBodyReport(w http.ResponseWriter, r *http.Request, q *req) {
	id := r.PathValue("id")
	p, ok := s.periodOf(r, q)
	if !ok {
		s.fail(w, r, q, errNotFound())
		return
	}
	base, _ := strconv.ParseUint(r.PostFormValue("bas"), 10, 64)
	_, err := s.SaveBodyReport(r.Context(), q.st, q.who, q.remote, BodyReportInput{Goal: id, Body: r.PathValue("body"), Period: p,
		Level: strategy.Level(r.PostFormValue("niva")), Comment: r.PostFormValue("kommentar"), Base: base})
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	redirect(w, r, q.url("/uppfoljning/rapport/"+p.String(), "sparat", id)+"#rad-"+id)
}

// postActivity saves an activity's status, outcome and comment.
func (s *Service) postActivity(w http.ResponseWriter, r *http.Request, q *req) {
	p, ok := s.periodOf(r, q)
	if !ok {
		s.fail(w, r, q, errNotFound())
		return
	}
	base, _ := strconv.ParseUint(r.PostFormValue("bas"), 10, 64)
	u, err := s.SaveActivity(r.Context(), q.st, q.who, q.remote, ActivityInput{Activity: r.PathValue("id"), Period: p,
		Status: r.PostFormValue("status"), Outcome: r.PostFormValue("utfall"), Comment: r.PostFormValue("kommentar"), Base: base})
	if err != nil {
		s.fail(w, r, q, err)
		return
	}
	redirect(w, r, q.url("/uppfoljning/rapport/"+p.String(), "sparat", u.Goal)+"#rad-"+u.Goal)
}
