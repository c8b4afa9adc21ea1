package followup

import (
	"context"
	"fmt"
	"net/http"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/strategy"
)

// AssessmentInput is an assessment as an editor submits it.
type AssessmentInput struct {
	Subject strategy.SubjectKind
	ID      string
	Period  strategy.Period
	Level   strategy.Level
	// Forecast is the full-year forecast (T1, T2, Q1–Q3 only);
	// strategy.LevelNone for none.
	Forecast strategy.Level
	Comment  string
	// Confirm publishes the assessment (Confirmed); without it it is a
	// draft that only signed-in staff see. Ready ("klarmarkerad") needs
	// Confirm.
	Confirm bool
	Ready   bool
	// Base is the revision the form was loaded with (0: there was none).
	// If another revision was saved since, the save is refused as stale.
	Base uint64
}

// levels an assessment may have, and forecasts (besides none).
var (
	assessLevels   = []strategy.Level{strategy.LevelMet, strategy.LevelPartly, strategy.LevelNotMet, strategy.LevelNotAssessed}
	forecastLevels = []strategy.Level{strategy.LevelMet, strategy.LevelPartly, strategy.LevelNotMet}
)

func oneOf(l strategy.Level, ls []strategy.Level) bool {
	for _, x := range ls {
		if l == x {
			return true
		}
	}
	return false
}

// current returns the latest revision of a subject's assessment for p,
// or nil.
func (s *Service) current(ctx context.Context, tenant string, subject strategy.SubjectKind, id string, p strategy.Period) (*strategy.Assessment, error) {
	as, err := s.store.Assessments(ctx, clickhouse.AssessmentFilter{Tenant: tenant, Subject: subject, SubjectIDs: []string{id}, Period: &p})
	if err != nil {
		return nil, err
	}
	for i := range as {
		if as[i].SubjectID == id && as[i].Period == p && as[i].Subject == subject {
			return &as[i], nil
		}
	}
	return nil, nil
}

// SaveAssessment writes a new revision of a goal's or indicator's
// assessment for a report period, with the engine's proposal recorded
// beside it. It is refused (*Error) when the identity may not write for
// the subject (403), the input is bad (400), the period is closed (409) or
// the form is stale (409, with the current revision).
func (s *Service) SaveAssessment(ctx context.Context, st *strategy.Strategy, who *auth.Identity, remote string, in AssessmentInput) (strategy.Assessment, error) {
	own, ok := owners(st, in.Subject, in.ID)
	if !ok || !s.begun(st, in.Period) {
		return strategy.Assessment{}, errNotFound()
	}
	if !who.MayEdit(own...) {
		return strategy.Assessment{}, errForbidden()
	}
	var pr problems
	if !oneOf(in.Level, assessLevels) {
		pr.add("Välj en bedömning.", "Choose an assessment.")
	}
	switch {
	case in.Period.Kind == strategy.Year && in.Forecast != strategy.LevelNone:
		pr.add("Helårsbedömningen har ingen prognos.", "The full-year assessment has no forecast.")
	case in.Forecast != strategy.LevelNone && !oneOf(in.Forecast, forecastLevels):
		pr.add("Välj en helårsprognos eller ingen.", "Choose a full-year forecast or none.")
	}
	in.Comment = checkText(&pr, fieldComment, "", in.Comment)
	if in.Ready && !in.Confirm {
		pr.add("Klarmarkering kräver att bedömningen bekräftas: välj ”Bekräfta”.", "Marking ready needs a confirmed assessment: choose “Confirm”.")
	}
	if err := pr.err(); err != nil {
		return strategy.Assessment{}, err
	}
	rep, err := s.evaluate(ctx, st)
	if err != nil {
		return strategy.Assessment{}, err
	}
	proposed := strategy.LevelNotAssessed
	if in.Subject == strategy.SubjectIndicator {
		if p, ok := rep.ProposeIndicator(in.ID, in.Period); ok {
			proposed = p.Level
		}
	} else if g := st.Goal(in.ID); g != nil {
		// A goal's proposal includes its bodies' reports and activities.
		d, err := s.loadBodyData(ctx, st.Municipality.Code)
		if err != nil {
			return strategy.Assessment{}, err
		}
		proposed = goalProposal(st, rep, d, g, in.Period).Level
	} else if p, ok := rep.ProposeGoal(in.ID, in.Period); ok {
		proposed = p.Level
	}

	tenant := st.Municipality.Code
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.checkOpen(ctx, st, in.Period); err != nil {
		return strategy.Assessment{}, err
	}
	cur, err := s.current(ctx, tenant, in.Subject, in.ID, in.Period)
	if err != nil {
		return strategy.Assessment{}, err
	}
	var curRev uint64
	if cur != nil {
		curRev = cur.Revision
	}
	if curRev != in.Base {
		e := refuse(http.StatusConflict,
			"Någon annan har sparat en bedömning sedan du öppnade formuläret. Jämför versionerna och spara igen.",
			"Someone else saved an assessment since you opened the form. Compare the versions and save again.")
		e.CurrentAssessment = cur
		return strategy.Assessment{}, e
	}
	now := s.opts.Now()
	a := strategy.Assessment{Tenant: tenant, Subject: in.Subject, SubjectID: in.ID, Period: in.Period,
		Level: in.Level, Forecast: in.Forecast, Proposed: proposed, Comment: in.Comment,
		Ready: in.Ready, Confirmed: in.Confirm, Author: who.Name, Created: now,
		Revision: max(uint64(now.UnixNano()), curRev+1)}
	action := "assessment.draft"
	switch {
	case a.Ready:
		action = "assessment.ready"
	case a.Confirmed:
		action = "assessment.confirm"
	}
	entry := clickhouse.AuditEntry{Tenant: tenant, Actor: who.Name, Role: string(who.Role), Action: action,
		Subject: string(in.Subject), SubjectID: in.ID, Period: in.Period.String(),
		Before: toJSON(assessmentJSON(cur)), After: toJSON(assessmentJSON(&a)), Remote: remote}
	check := writeCheck{Kind: checkAssessment, Tenant: tenant, Subject: string(in.Subject), ID: in.ID, Period: in.Period.String(), Version: a.Revision}
	if err := s.audited(ctx, entry, check, func() error { return s.store.WriteAssessment(ctx, a) }); err != nil {
		return strategy.Assessment{}, err
	}
	return a, nil
}

// assessmentJSON is an assessment as the audit trail records it (nil for
// none).
func assessmentJSON(a *strategy.Assessment) any {
	if a == nil {
		return nil
	}
	return map[string]any{
		"level": a.Level, "forecast": a.Forecast, "proposed": a.Proposed, "comment": a.Comment,
		"ready": a.Ready, "confirmed": a.Confirmed, "author": a.Author,
		"revision": fmt.Sprint(a.Revision),
	}
}
