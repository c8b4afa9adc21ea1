package followup

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// Who may report for a responsible body: an editor whose owners include
// the body's id or name (the same owner mechanism as for goals and
// indicators: a user owning "Utbildningsnämnden" reports for that body on
// every goal it shares), the goal's owner's editors (who confirm the goal's
// assessment and may fill in for a body), and admins. Who may update an
// activity: the editors of its responsible and of the goal's owner, and
// admins.

// BodyReportInput is a body's report on a goal as an editor submits it.
type BodyReportInput struct {
	Goal    string
	Body    string // the body's id in the strategy
	Period  strategy.Period
	Level   strategy.Level
	Comment string
	// Base is the revision the form was loaded with (0: there was none).
	Base uint64
}

// ActivityInput is an activity's follow-up as an editor submits it.
type ActivityInput struct {
	Activity string
	Period   strategy.Period
	// Status is a status code ("delayed") or its Swedish name ("försenad").
	Status string
	// Outcome is the money spent in tkr as typed ("1 250,5"); empty is
	// unknown.
	Outcome string
	Comment string
	// Base is the revision the form was loaded with (0: there was none).
	Base uint64
}

var fieldActivityComment = textField{SV: "Kommentaren", EN: "The comment", Max: MaxComment, Lines: true}

// Audit-journal check kinds of the writes in this file.
const (
	checkBodyReport = "body_report"
	checkActivity   = "activity"
)

func bodyOf(g *strategy.Goal, id string) *strategy.Body {
	for i := range g.Bodies {
		if g.Bodies[i].ID == id {
			return &g.Bodies[i]
		}
	}
	return nil
}

// activityOf finds an activity of st and its goal (sub-goals included).
func activityOf(st *strategy.Strategy, id string) (*strategy.Activity, *strategy.Goal) {
	var walk func(gs []*strategy.Goal) (*strategy.Activity, *strategy.Goal)
	walk = func(gs []*strategy.Goal) (*strategy.Activity, *strategy.Goal) {
		for _, g := range gs {
			for _, a := range g.Activities {
				if a.ID == id {
					return a, g
				}
			}
			if a, ag := walk(g.SubGoals); a != nil {
				return a, ag
			}
		}
		return nil, nil
	}
	for _, ar := range st.Areas {
		if a, g := walk(ar.Goals); a != nil {
			return a, g
		}
	}
	return nil, nil
}

// parseStatus accepts a status code or its Swedish or English name.
func parseStatus(s string) (strategy.ActivityStatus, bool) {
	s = strings.TrimSpace(s)
	for _, a := range strategy.ActivityStatuses {
		if strings.EqualFold(s, string(a.Status)) || strings.EqualFold(s, a.Label.SV) || strings.EqualFold(s, a.Label.EN) {
			return a.Status, true
		}
	}
	return "", false
}

// parseMoney reads a sum in tkr as typed: spaces group digits, a comma or
// a point separates decimals. Empty is unknown (nil).
func parseMoney(p *problems, s string) *float64 {
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", ",", ".").Replace(strings.TrimSpace(s))
	if s == "" {
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
		p.add("Utfallet är inte ett belopp i tkr (t.ex. 1 250,5).", "The outcome is not a sum in tkr (e.g. 1 250.5).")
		return nil
	case v < 0:
		p.add("Utfallet kan inte vara negativt.", "The outcome cannot be negative.")
		return nil
	}
	return &v
}

// SaveBodyReport writes a new revision of one responsible body's own
// assessment and comment of a goal for a report period. It is refused
// (*Error) for an unknown goal (404), a body the goal does not have or bad
// input (400), an identity that may not report for the body (403), a
// closed period or a stale form (409).
func (s *Service) SaveBodyReport(ctx context.Context, st *strategy.Strategy, who *auth.Identity, remote string, in BodyReportInput) (clickhouse.BodyReport, error) {
	g := st.Goal(in.Goal)
	if g == nil || !s.begun(st, in.Period) {
		return clickhouse.BodyReport{}, errNotFound()
	}
	b := bodyOf(g, in.Body)
	if b == nil {
		return clickhouse.BodyReport{}, &Error{Status: http.StatusBadRequest, Problems: []strategy.Text{{
			SV: fmt.Sprintf("Målet har inget ansvarigt organ med id ”%s”.", clip(in.Body)),
			EN: fmt.Sprintf("The goal has no responsible body with id “%s”.", clip(in.Body))}}}
	}
	if !who.MayEdit(b.ID, b.Name, g.Owner) {
		return clickhouse.BodyReport{}, errForbidden()
	}
	var pr problems
	if !oneOf(in.Level, assessLevels) {
		pr.add("Välj en bedömning.", "Choose an assessment.")
	}
	in.Comment = checkText(&pr, fieldComment, "", in.Comment)
	if err := pr.err(); err != nil {
		return clickhouse.BodyReport{}, err
	}
	tenant := st.Municipality.Code
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.checkOpen(ctx, st, in.Period); err != nil {
		return clickhouse.BodyReport{}, err
	}
	all, err := s.store.BodyReports(ctx, tenant)
	if err != nil {
		return clickhouse.BodyReport{}, err
	}
	var cur *clickhouse.BodyReport
	for i := range all {
		if r := &all[i]; r.Goal == g.ID && r.Body == b.ID && r.Period == in.Period {
			cur = r
		}
	}
	var curRev uint64
	if cur != nil {
		curRev = cur.Revision
	}
	if curRev != in.Base {
		return clickhouse.BodyReport{}, refuse(http.StatusConflict,
			"Någon annan har sparat en rapport för organet sedan du öppnade formuläret. Ladda om och spara igen.",
			"Someone else saved a report for the body since you opened the form. Reload and save again.")
	}
	now := s.opts.Now()
	r := clickhouse.BodyReport{Tenant: tenant, Goal: g.ID, Body: b.ID, Period: in.Period, Level: in.Level,
		Comment: in.Comment, Author: who.Name, Created: now, Revision: max(uint64(now.UnixNano()), curRev+1)}
	entry := clickhouse.AuditEntry{Tenant: tenant, Actor: who.Name, Role: string(who.Role), Action: "body.report",
		Subject: string(strategy.SubjectGoal), SubjectID: g.ID, Period: in.Period.String(),
		Before: toJSON(bodyReportJSON(cur)), After: toJSON(bodyReportJSON(&r)), Remote: remote}
	check := writeCheck{Kind: checkBodyReport, Tenant: tenant, Subject: b.ID, ID: g.ID, Period: in.Period.String(), Version: r.Revision}
	if err := s.audited(ctx, entry, check, func() error { return s.store.WriteBodyReport(ctx, r) }); err != nil {
		return clickhouse.BodyReport{}, err
	}
	return r, nil
}

func bodyReportJSON(r *clickhouse.BodyReport) any {
	if r == nil {
		return nil
	}
	return map[string]any{"body": r.Body, "level": r.Level, "comment": r.Comment, "author": r.Author,
		"revision": fmt.Sprint(r.Revision)}
}

// SaveActivity writes a new revision of an activity's follow-up for a
// report period: status, outcome in tkr and a comment. It is refused
// (*Error) for an unknown activity (404), bad input (400: a status not in
// the list, an outcome that is not a sum or is negative), an identity
// that may not write for it (403), a closed period or a stale form (409).
func (s *Service) SaveActivity(ctx context.Context, st *strategy.Strategy, who *auth.Identity, remote string, in ActivityInput) (clickhouse.ActivityUpdate, error) {
	act, g := activityOf(st, in.Activity)
	if act == nil || !s.begun(st, in.Period) {
		return clickhouse.ActivityUpdate{}, errNotFound()
	}
	if !who.MayEdit(act.Responsible, g.Owner) {
		return clickhouse.ActivityUpdate{}, errForbidden()
	}
	var pr problems
	status, ok := parseStatus(in.Status)
	if !ok {
		var names []string
		for _, a := range strategy.ActivityStatuses {
			names = append(names, a.Label.SV)
		}
		pr.add("Välj en status: "+strings.Join(names, ", ")+".", "Choose a status: not started, ongoing, done, delayed or cancelled.")
	}
	outcome := parseMoney(&pr, in.Outcome)
	in.Comment = checkText(&pr, fieldActivityComment, "", in.Comment)
	if err := pr.err(); err != nil {
		return clickhouse.ActivityUpdate{}, err
	}
	tenant := st.Municipality.Code
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.checkOpen(ctx, st, in.Period); err != nil {
		return clickhouse.ActivityUpdate{}, err
	}
	all, err := s.store.ActivityUpdates(ctx, tenant)
	if err != nil {
		return clickhouse.ActivityUpdate{}, err
	}
	var cur *clickhouse.ActivityUpdate
	for i := range all {
		if u := &all[i]; u.Activity == act.ID && u.Period == in.Period {
			cur = u
		}
	}
	var curRev uint64
	if cur != nil {
		curRev = cur.Revision
	}
	if curRev != in.Base {
		return clickhouse.ActivityUpdate{}, refuse(http.StatusConflict,
			"Någon annan har sparat aktiviteten sedan du öppnade formuläret. Ladda om och spara igen.",
			"Someone else saved the activity since you opened the form. Reload and save again.")
	}
	now := s.opts.Now()
	u := clickhouse.ActivityUpdate{Tenant: tenant, Goal: g.ID, Activity: act.ID, Period: in.Period, Status: status,
		Outcome: outcome, Comment: in.Comment, Author: who.Name, Created: now, Revision: max(uint64(now.UnixNano()), curRev+1)}
	before := activityJSON(cur)
	if cur == nil {
		// The first update starts from the strategy file's values.
		before = map[string]any{"status": act.Status, "outcome": act.Outcome, "source": "strategy"}
	}
	entry := clickhouse.AuditEntry{Tenant: tenant, Actor: who.Name, Role: string(who.Role), Action: "activity.update",
		Subject: "activity", SubjectID: act.ID, Period: in.Period.String(),
		Before: toJSON(before), After: toJSON(activityJSON(&u)), Remote: remote}
	check := writeCheck{Kind: checkActivity, Tenant: tenant, ID: act.ID, Period: in.Period.String(), Version: u.Revision}
	if err := s.audited(ctx, entry, check, func() error { return s.store.WriteActivityUpdate(ctx, u) }); err != nil {
		return clickhouse.ActivityUpdate{}, err
	}
	return u, nil
}

func activityJSON(u *clickhouse.ActivityUpdate) any {
	if u == nil {
		return nil
	}
	return map[string]any{"status": u.Status, "outcome": u.Outcome, "comment": u.Comment, "author": u.Author,
		"revision": fmt.Sprint(u.Revision)}
}

// clip shortens an echoed id so a message never carries a long input.
func clip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}

// lookUpBodyWrite finds out whether a body report or activity update of a
// journal entry is in the database.
func (s *Service) lookUpBodyWrite(ctx context.Context, c writeCheck) (outcome, note string, err error) {
	switch c.Kind {
	case checkBodyReport:
		h, err := s.store.BodyReportHistory(ctx, c.Tenant, c.ID)
		if err != nil {
			return "", "", err
		}
		for _, r := range h {
			if r.Revision == c.Version && r.Body == c.Subject && r.Period.String() == c.Period {
				return outcomeDone, "", nil
			}
		}
	case checkActivity:
		h, err := s.store.ActivityHistory(ctx, c.Tenant, c.ID)
		if err != nil {
			return "", "", err
		}
		for _, u := range h {
			if u.Revision == c.Version && u.Period.String() == c.Period {
				return outcomeDone, "", nil
			}
		}
	}
	return outcomeFailed, "nothing of it is in the database", nil
}

// BodyPart is one responsible body's part of a goal in a period report.
type BodyPart struct {
	Body   strategy.Body
	Report *clickhouse.BodyReport // nil: not reported
	// MayEdit says whether the viewer may report for the body.
	MayEdit bool
}

// ActivityRow is one activity of a goal in a period report: the YAML
// values, overridden by the latest update up to the period.
type ActivityRow struct {
	Activity *strategy.Activity
	Status   strategy.ActivityStatus
	Outcome  *float64
	Comment  string
	// Update is the update in force (for this period or carried from an
	// earlier one); nil: the strategy file's values.
	Update  *clickhouse.ActivityUpdate
	MayEdit bool
}

// BodyCount is the completion of a goal's or a report's body reports
// (progress.BodyCount).
type BodyCount = progress.BodyCount

// bodyData is what the store holds on bodies and activities, indexed.
type bodyData struct {
	reports map[bodyKey]*clickhouse.BodyReport
	updates map[string][]clickhouse.ActivityUpdate // per activity, in period order
}

type bodyKey struct {
	goal, body string
	period     strategy.Period
}

func (s *Service) loadBodyData(ctx context.Context, tenant string) (*bodyData, error) {
	rs, err := s.store.BodyReports(ctx, tenant)
	if err != nil {
		return nil, err
	}
	us, err := s.store.ActivityUpdates(ctx, tenant)
	if err != nil {
		return nil, err
	}
	d := &bodyData{reports: map[bodyKey]*clickhouse.BodyReport{}, updates: map[string][]clickhouse.ActivityUpdate{}}
	for i := range rs {
		d.reports[bodyKey{rs[i].Goal, rs[i].Body, rs[i].Period}] = &rs[i]
	}
	for _, u := range us {
		d.updates[u.Activity] = append(d.updates[u.Activity], u)
	}
	return d, nil
}

// parts lists g's bodies with their reports for p.
func (d *bodyData) parts(g *strategy.Goal, p strategy.Period, who *auth.Identity) ([]BodyPart, BodyCount) {
	var out []BodyPart
	for _, b := range g.Bodies {
		out = append(out, BodyPart{Body: b, Report: d.reports[bodyKey{g.ID, b.ID, p}], MayEdit: who.MayEdit(b.ID, b.Name, g.Owner)})
	}
	return out, progress.BodyCompletion(g, func(body string) bool { return d.reports[bodyKey{g.ID, body, p}] != nil })
}

// activities lists g's activities as they stand in p: the latest update
// of p or of an earlier period that ends no later than p, else the file's
// values.
func (d *bodyData) activities(g *strategy.Goal, p strategy.Period, who *auth.Identity) []ActivityRow {
	var out []ActivityRow
	for _, a := range g.Activities {
		row := ActivityRow{Activity: a, Status: a.Status, Outcome: a.Outcome, MayEdit: who.MayEdit(a.Responsible, g.Owner)}
		row.Update = clickhouse.ActivityAt(d.updates[a.ID], p)
		if u := row.Update; u != nil {
			row.Status, row.Outcome, row.Comment = u.Status, u.Outcome, u.Comment
		}
		out = append(out, row)
	}
	return out
}

// activityLevel is what an activity's status says of its goal: done is
// met, ongoing partly met, delayed or cancelled not met; not started says
// nothing.
func activityLevel(s strategy.ActivityStatus) strategy.Level {
	switch s {
	case strategy.ActivityDone:
		return strategy.LevelMet
	case strategy.ActivityOngoing:
		return strategy.LevelPartly
	case strategy.ActivityDelayed, strategy.ActivityCancelled:
		return strategy.LevelNotMet
	}
	return strategy.LevelNotAssessed
}

// goalProposal is the proposal for goal g in p. For a goal with
// responsible bodies of which at least one has reported, it is the bodies'
// levels rolled up with the strategy's roll_up rule (strict by default:
// all met → met, any not met → not met, else partly). For a goal without
// indicators that has activities, the activities' levels (activityLevel)
// are rolled up with the engine's proposal from its sub-goals, criteria
// and milestone. Otherwise it is the engine's proposal.
func goalProposal(st *strategy.Strategy, rep *progress.Report, d *bodyData, g *strategy.Goal, p strategy.Period) progress.GoalProposal {
	gp, _ := rep.ProposeGoal(g.ID, p)
	parts, c := d.parts(g, p, nil)
	if c.Reported > 0 {
		var levels []strategy.Level
		for _, bp := range parts {
			if bp.Report != nil {
				levels = append(levels, bp.Report.Level)
			}
		}
		gp.Level = progress.RollUpLevels(levels, st.RollUp)
		gp.Reason = strategy.Text{
			SV: fmt.Sprintf("Från de ansvarigas rapporter (%s).", c.Text("sv")),
			EN: fmt.Sprintf("From the responsible bodies' reports (%s).", c.Text("en"))}
		return gp
	}
	if len(g.Indicators) == 0 && len(g.Activities) > 0 {
		var levels []strategy.Level
		for _, a := range d.activities(g, p, nil) {
			levels = append(levels, activityLevel(a.Status))
		}
		n := len(levels)
		levels = append(levels, gp.Level)
		if l := progress.RollUpLevels(levels, st.RollUp); l != strategy.LevelNotAssessed {
			gp.Level = l
			gp.Reason = strategy.Text{
				SV: fmt.Sprintf("Från målets %d aktiviteter och delmål.", n),
				EN: fmt.Sprintf("From the goal's %d activities and sub-goals.", n)}
		}
	}
	return gp
}

// BodyCompletion is one responsible body's completion over a report's
// goals.
type BodyCompletion struct {
	Body strategy.Body
	BodyCount
}

// countBodies adds a goal's body parts to the report's completion.
func (r *Report) countBodies(parts []BodyPart) {
	for _, bp := range parts {
		r.BodyTotal.Total++
		i := slices.IndexFunc(r.Bodies, func(c BodyCompletion) bool { return c.Body.ID == bp.Body.ID })
		if i < 0 {
			r.Bodies = append(r.Bodies, BodyCompletion{Body: bp.Body})
			i = len(r.Bodies) - 1
		}
		r.Bodies[i].Total++
		if bp.Report != nil {
			r.BodyTotal.Reported++
			r.Bodies[i].Reported++
		}
	}
}
