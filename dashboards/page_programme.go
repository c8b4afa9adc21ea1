package dashboards

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/malbild/malbild/internal/richtext"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// Pages for goal hierarchies (issue 12): a programme page with budget
// against outcome per year and the goals its projects serve, a page per
// goal of the level above (KF) with the goals that contribute, and the
// strategy's lifecycle as a partial ("lifecycle") other pages include.
// Internal: programmes and budgets are not on the public page.

// messagesStrategy are this file's interface texts, Swedish first; they
// join messages at start-up.
var messagesStrategy = map[string][2]string{
	"nav_programmes":         {"Program", "Programmes"},
	"nav_upper":              {"KF-mål", "Council goals"},
	"programmes_title":       {"Program och portföljer", "Programmes and portfolios"},
	"programmes_intro":       {"Budgetram och utfall per år, och hur det går för målen som projekten stödjer.", "Budget frame and outcome per year, and how the goals the projects serve are doing."},
	"programmes_none":        {"Strategin har inga program.", "The strategy has no programmes."},
	"programme":              {"Program", "Programme"},
	"programme_budget":       {"Budgetram: %s", "Budget frame: %s"},
	"programme_owner":        {"Ansvarig: %s", "Responsible: %s"},
	"programme_areas":        {"Målområden: %s", "Goal areas: %s"},
	"programme_years":        {"Budget och utfall per år", "Budget and outcome per year"},
	"programme_years_cap":    {"Budget och utfall per år, tkr", "Budget and outcome per year, SEK thousands"},
	"programme_projects":     {"Projekt", "Projects"},
	"programme_goals":        {"Mål som projekten stödjer", "Goals the projects serve"},
	"programme_goals_cap":    {"Målen som programmets projekt stödjer och hur de står, %s", "The goals the programme's projects serve and how they stand, %s"},
	"programme_no_goals":     {"Inga projekt är kopplade till mål.", "No project is linked to a goal."},
	"year":                   {"År", "Year"},
	"budget_tkr":             {"Budget (tkr)", "Budget (SEK k)"},
	"outcome_tkr":            {"Utfall (tkr)", "Outcome (SEK k)"},
	"deviation_tkr":          {"Avvikelse (tkr)", "Deviation (SEK k)"},
	"unknown":                {"okänt", "unknown"},
	"project":                {"Projekt", "Project"},
	"projects_serving":       {"Projekt", "Projects"},
	"tkr":                    {"%s tkr", "SEK %s k"},
	"upper_title":            {"Mål från kommunfullmäktige", "Goals of the city council"},
	"upper_intro":            {"Vilka av strategins mål som bidrar till varje mål på nivån ovanför, och hur de står %s.", "Which of the strategy's goals contribute to each goal of the level above, and how they stand %s."},
	"upper_none":             {"Strategin är inte kopplad till mål på nivån ovanför.", "The strategy is not linked to goals of the level above."},
	"upper_caption":          {"Mål på nivån ovanför och strategins bidrag, %s", "Goals of the level above and the strategy's contribution, %s"},
	"upper_goal":             {"KF-mål", "Council goal"},
	"upper_level":            {"Nivå", "Level"},
	"upper_contributing":     {"Bidragande mål", "Contributing goals"},
	"upper_from":             {"Hämtat från %s.", "Read from %s."},
	"upper_parent":           {"Del av inriktningsmålet %s.", "Part of the direction goal %s."},
	"upper_children":         {"Mål under inriktningsmålet", "Goals under this direction goal"},
	"upper_goals_caption":    {"Mål som bidrar, %s", "Contributing goals, %s"},
	"upper_summary":          {"%d mål bidrar: %d uppfyllda, %d delvis uppfyllda, %d ej uppfyllda, %d ej bedömda.", "%d goals contribute: %d met, %d partly met, %d not met, %d not assessed."},
	"level_inriktningsmål":   {"Inriktningsmål", "Direction goal"},
	"level_mål":              {"Mål", "Goal"},
	"lifecycle_adopted":      {"Antagen %s", "Adopted %s"},
	"lifecycle_by":           {"av %s", "by the %s"},
	"lifecycle_period":       {"Gäller %s", "Runs %s"},
	"lifecycle_owner":        {"Ansvarig: %s", "Owner: %s"},
	"lifecycle_ended":        {"Strategiperioden är slut (%s). Uppföljningen visar strategins egna perioder.", "The strategy period has ended (%s). The follow-up shows the strategy's own periods."},
	"lifecycle_unknown":      {"antagningsdatum okänt", "adoption date unknown"},
	"body_kommunfullmäktige": {"kommunfullmäktige", "city council"},
	"body_kommunstyrelse":    {"kommunstyrelsen", "executive board"},
	"body_nämnd":             {"nämnden", "committee"},
	"body_ledningsgrupp":     {"ledningsgruppen", "management group"},
	"goal_area":              {"Målområde", "Goal area"},
}

func init() {
	for k, v := range messagesStrategy {
		if _, dup := messages[k]; !dup {
			messages[k] = v
		}
	}
}

// richText renders a strategy text (the safe Markdown subset) as HTML.
func richText(s string) template.HTML { return richtext.HTML(s) }

// lifecycleView is the strategy's lifecycle as the "lifecycle" partial
// shows it: adoption, deciding body, period, owner, and whether it ended.
type lifecycleView struct {
	Adopted, Period, Owner, Ended string
}

// lifecycleOf describes st's lifecycle at now in lang.
func lifecycleOf(st *strategy.Strategy, now time.Time, lang string) *lifecycleView {
	v := &lifecycleView{}
	if d := st.AdoptionDate(); d.Known() {
		v.Adopted = trf(lang, "lifecycle_adopted", d.Label(lang))
	} else {
		v.Adopted = capitalize(tr(lang, "lifecycle_unknown"))
	}
	if st.DecidedBy != "" {
		v.Adopted += " " + trf(lang, "lifecycle_by", tr(lang, "body_"+st.DecidedBy))
	}
	v.Adopted += "."
	if !st.Start.IsZero() {
		span := formatDate(st.Start) + " – "
		if !st.End.IsZero() {
			span += formatDate(st.End)
		}
		v.Period = trf(lang, "lifecycle_period", span) + "."
	}
	if st.Owner != "" {
		v.Owner = trf(lang, "lifecycle_owner", st.Owner) + "."
	}
	if st.Ended(now) {
		v.Ended = trf(lang, "lifecycle_ended", formatDate(st.End))
	}
	return v
}

// money writes an amount in tkr, or "okänt" when it is unknown.
func money(v *float64, lang string) string {
	if v == nil {
		return tr(lang, "unknown")
	}
	return progress.FormatNumber(*v, lang)
}

type programmeListView struct {
	Lifecycle  *lifecycleView
	Single     bool // the page of one programme
	Programmes []programmeView
}

type programmeView struct {
	ID, Title, Href   string
	Description       template.HTML
	Budget            string
	Owner, Areas      string
	Years             table
	Projects          table
	Goals             table
	HasYears, HasGoal bool
}

// serveProgrammes lists the strategy's programmes.
func (s *Server) serveProgrammes(w http.ResponseWriter, r *http.Request) {
	s.serveProgrammePage(w, r, "")
}

// serveProgramme answers /program/{id}: one programme.
func (s *Server) serveProgramme(w http.ResponseWriter, r *http.Request) {
	s.serveProgrammePage(w, r, r.PathValue("id"))
}

func (s *Server) serveProgrammePage(w http.ResponseWriter, r *http.Request, id string) {
	if !s.internal(r) {
		s.serveError(w, r, http.StatusUnauthorized, "err_unauthorized")
		return
	}
	q := reqInfo(r)
	st := q.strat
	if id != "" && st.Programme(id) == nil {
		s.serveNotFound(w, r)
		return
	}
	snap := s.data(r.Context(), st)
	period := leadershipPeriod(snap)
	s.serveCached(w, r, snap, "programme|"+id+"|"+period.String(), func() (cached, error) {
		lang := q.lang
		rep := s.reportAt(snap, period)
		title := tr(lang, "programmes_title")
		if id != "" {
			title = st.Programme(id).Title.In(lang)
		}
		p := s.newPage(r, title, "programmes")
		stalePage(p, snap)
		v := &programmeListView{Lifecycle: lifecycleOf(st, rep.Now, lang), Single: id != ""}
		for _, pr := range st.Programmes {
			if id != "" && pr.ID != id {
				continue
			}
			v.Programmes = append(v.Programmes, programmeViewOf(q.base, st, rep, pr, period, lang))
		}
		p.Data = v
		return s.htmlPage("programme", p)
	})
}

func programmeViewOf(base string, st *strategy.Strategy, rep *progress.Report, pr *strategy.Programme, period strategy.Period, lang string) programmeView {
	v := programmeView{ID: pr.ID, Title: pr.Title.In(lang), Href: link(base, "/program/"+pr.ID, lang, nil),
		Description: richText(pr.Description.In(lang)), Budget: trf(lang, "programme_budget", money(pr.Budget, lang)+" tkr")}
	if pr.Owner != "" {
		v.Owner = trf(lang, "programme_owner", pr.Owner)
	}
	var areas []string
	for _, id := range pr.Areas {
		if a := st.Area(id); a != nil {
			areas = append(areas, a.Title.In(lang))
		}
	}
	if len(areas) > 0 {
		v.Areas = trf(lang, "programme_areas", strings.Join(areas, ", "))
	}
	v.Years = newTable(lang, tr(lang, "programme_years_cap"), tr(lang, "year"), tr(lang, "budget_tkr"), tr(lang, "outcome_tkr"), tr(lang, "deviation_tkr"))
	v.Years.Num = []bool{false, true, true, true}
	for _, y := range pr.Years {
		dev := "–"
		over := false
		if y.Budget != nil && y.Outcome != nil {
			d := *y.Outcome - *y.Budget
			dev = progress.FormatNumber(d, lang)
			if d > 0 {
				dev = "+" + dev
			}
			over = d > 0
		}
		v.Years.Rows = append(v.Years.Rows, row{Mark: over, Cells: []cell{txt(fmt.Sprint(y.Year)), txt(money(y.Budget, lang)), txt(money(y.Outcome, lang)), txt(dev)}})
	}
	v.HasYears = len(pr.Years) > 0
	v.Projects = newTable(lang, tr(lang, "programme_projects"), tr(lang, "project"), tr(lang, "budget_tkr"), tr(lang, "goal"))
	v.Projects.Num[1] = true
	served := map[string][]string{}
	var order []string
	for _, pj := range pr.Projects {
		var names []string
		for _, gid := range pj.Goals {
			if g := st.Goal(gid); g != nil {
				names = append(names, g.Title.In(lang))
				if _, seen := served[gid]; !seen {
					order = append(order, gid)
				}
				served[gid] = append(served[gid], pj.Title.In(lang))
			}
		}
		v.Projects.add(txt(pj.Title.In(lang)), txt(money(pj.Budget, lang)), txt(strings.Join(names, "; ")))
	}
	v.Goals = newTable(lang, trf(lang, "programme_goals_cap", period.Label(lang)), tr(lang, "goal"), tr(lang, "status"), tr(lang, "projects_serving"), tr(lang, "why"))
	v.Goals.Empty = tr(lang, "programme_no_goals")
	for _, gid := range order {
		gr := rep.Goal(gid)
		if gr == nil {
			continue
		}
		level, reason := goalLevel(rep, gr, period, lang)
		v.Goals.Rows = append(v.Goals.Rows, row{Mark: progress.LevelScale(level).Deviation() > 0, Cells: []cell{
			txt(gr.Goal.Title.In(lang)), {Status: levelStatus(level, lang)}, txt(strings.Join(served[gid], ", ")), txt(reason)}})
	}
	v.HasGoal = len(order) > 0
	return v
}

type upperListView struct {
	Lifecycle *lifecycleView
	Intro     string
	Table     table
	// One is set on the page of a single upper goal.
	One *upperView
}

type upperView struct {
	Title, Level, From, Parent, ParentHref, Summary string
	Description                                     template.HTML
	Children                                        []option
	Goals                                           table
}

// serveUpperGoals lists the goals of the level above with their roll-up.
func (s *Server) serveUpperGoals(w http.ResponseWriter, r *http.Request) {
	s.serveUpperPage(w, r, "")
}

// serveUpperGoal answers /kf-mal/{id}: which goals contribute to one goal
// of the level above and how they stand.
func (s *Server) serveUpperGoal(w http.ResponseWriter, r *http.Request) {
	s.serveUpperPage(w, r, r.PathValue("id"))
}

func (s *Server) serveUpperPage(w http.ResponseWriter, r *http.Request, id string) {
	if !s.internal(r) {
		s.serveError(w, r, http.StatusUnauthorized, "err_unauthorized")
		return
	}
	q := reqInfo(r)
	st := q.strat
	if id != "" && st.UpperGoal(id) == nil {
		s.serveNotFound(w, r)
		return
	}
	snap := s.data(r.Context(), st)
	period := leadershipPeriod(snap)
	s.serveCached(w, r, snap, "upper|"+id+"|"+period.String(), func() (cached, error) {
		lang := q.lang
		rep := s.reportAt(snap, period)
		title := tr(lang, "upper_title")
		if id != "" {
			title = st.UpperGoal(id).Title.In(lang)
		}
		p := s.newPage(r, title, "upper")
		stalePage(p, snap)
		v := &upperListView{Lifecycle: lifecycleOf(st, rep.Now, lang), Intro: trf(lang, "upper_intro", period.Label(lang))}
		if id != "" {
			v.One = upperViewOf(q.base, st, rep, rep.Upper(id), period, lang)
		} else {
			v.Table = upperTable(q.base, st, rep, period, lang)
		}
		p.Data = v
		return s.htmlPage("uppergoal", p)
	})
}

// levelCounts counts goals by the level they are shown with for period:
// met, partly, not met, not assessed.
func levelCounts(rep *progress.Report, goals []*progress.GoalResult, period strategy.Period) (met, partly, notMet, none int) {
	for _, gr := range goals {
		l, _ := goalLevel(rep, gr, period, "sv")
		switch l {
		case strategy.LevelMet:
			met++
		case strategy.LevelPartly:
			partly++
		case strategy.LevelNotMet:
			notMet++
		default:
			none++
		}
	}
	return
}

func upperTable(base string, st *strategy.Strategy, rep *progress.Report, period strategy.Period, lang string) table {
	levels := []strategy.Level{strategy.LevelMet, strategy.LevelPartly, strategy.LevelNotMet, strategy.LevelNotAssessed}
	head := []string{tr(lang, "upper_goal"), tr(lang, "upper_level"), tr(lang, "upper_contributing")}
	for _, l := range levels {
		head = append(head, progress.LevelSymbol(l)+" "+progress.LevelLabel(l, lang))
	}
	t := newTable(lang, trf(lang, "upper_caption", period.Label(lang)), head...)
	t.Empty = tr(lang, "upper_none")
	for i := 2; i < len(head); i++ {
		t.Num[i] = true
	}
	for _, u := range st.UpperGoals {
		ur := rep.Upper(u.ID)
		met, partly, notMet, none := levelCounts(rep, ur.Goals, period)
		name := u.Title.In(lang)
		if u.Parent != "" {
			name = "– " + name
		}
		t.Rows = append(t.Rows, row{Mark: notMet > 0, Cells: []cell{
			{Text: name, Href: link(base, "/kf-mal/"+u.ID, lang, nil)}, txt(tr(lang, "level_"+string(u.Level))),
			txt(fmt.Sprint(len(ur.Goals))), txt(fmt.Sprint(met)), txt(fmt.Sprint(partly)), txt(fmt.Sprint(notMet)), txt(fmt.Sprint(none))}})
	}
	return t
}

func upperViewOf(base string, st *strategy.Strategy, rep *progress.Report, ur *progress.UpperResult, period strategy.Period, lang string) *upperView {
	u := ur.Upper
	v := &upperView{Title: u.Title.In(lang), Level: tr(lang, "level_"+string(u.Level)), Description: richText(u.Description.In(lang))}
	if u.From != "" {
		v.From = trf(lang, "upper_from", u.From)
	}
	if pu := st.UpperGoal(u.Parent); pu != nil {
		v.Parent = pu.Title.In(lang)
		v.ParentHref = link(base, "/kf-mal/"+pu.ID, lang, nil)
	}
	for _, c := range st.UpperGoals {
		if c.Parent == u.ID {
			v.Children = append(v.Children, option{Value: link(base, "/kf-mal/"+c.ID, lang, nil), Label: c.Title.In(lang)})
		}
	}
	met, partly, notMet, none := levelCounts(rep, ur.Goals, period)
	v.Summary = trf(lang, "upper_summary", len(ur.Goals), met, partly, notMet, none)
	v.Goals = newTable(lang, trf(lang, "upper_goals_caption", period.Label(lang)), tr(lang, "goal"), tr(lang, "goal_area"), tr(lang, "status"), tr(lang, "why"))
	v.Goals.Empty = tr(lang, "upper_none")
	for _, gr := range ur.Goals {
		var areas []string
		for _, a := range st.AreasOf(gr.Goal) {
			areas = append(areas, a.Title.In(lang))
		}
		level, reason := goalLevel(rep, gr, period, lang)
		v.Goals.Rows = append(v.Goals.Rows, row{Mark: progress.LevelScale(level).Deviation() > 0, Cells: []cell{
			txt(gr.Goal.Title.In(lang)), txt(strings.Join(areas, ", ")), {Status: levelStatus(level, lang)}, txt(reason)}})
	}
	return v
}
