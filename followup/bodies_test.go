package followup

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/strategy"
)

func loadILS(t *testing.T) *strategy.Strategy {
	t.Helper()
	st, err := strategy.Load("../examples/strategies/ils-it-plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var ilsT1 = strategy.Period{Kind: strategy.Tertial, Year: 2026, N: 1}

// findGoal returns the report's part for goal id.
func findGoal(t *testing.T, r *Report, id string) GoalReport {
	t.Helper()
	for _, a := range r.Areas {
		for _, g := range a.Goals {
			if g.Goal.ID == id {
				return g
			}
		}
	}
	t.Fatalf("goal %s not in the report", id)
	return GoalReport{}
}

// TestTwoBodiesReportOnOneGoal: the two responsible bodies of the ILS
// plan's shared goal each report; the report shows each body's part and
// "1 av 2" then "2 av 2"; the goal's proposal is their levels rolled up
// with the strict rule, and the goal owner's confirmed assessment records
// it.
func TestTwoBodiesReportOnOneGoal(t *testing.T) {
	st := loadILS(t)
	e := strategyEnv(t, st, nil)
	ctx := context.Background()
	// An editor owning only the committee reports for it, not for the company.
	un := &auth.Identity{Name: "ulla", Role: auth.Editor, Owners: []string{"Utbildningsnämnden"}}
	sv := &auth.Identity{Name: "sven", Role: auth.Editor, Owners: []string{"stockholm-vatten"}}
	owner := &auth.Identity{Name: "sara", Role: auth.Editor, Owners: []string{"Stadsledningskontoret"}}

	if _, err := e.svc.SaveBodyReport(ctx, st, un, "", BodyReportInput{Goal: "it-inloggning", Body: "stockholm-vatten",
		Period: ilsT1, Level: strategy.LevelMet, Comment: "Klart."}); !isStatus(err, 403) {
		t.Fatalf("committee editor reporting for the company: %v", err)
	}
	if _, err := e.svc.SaveBodyReport(ctx, st, un, "", BodyReportInput{Goal: "it-inloggning", Body: "utbildningsnamnden",
		Period: ilsT1, Level: strategy.LevelMet, Comment: "Alla skolans e-tjänster använder e-legitimation."}); err != nil {
		t.Fatal(err)
	}
	rep, err := e.svc.BuildReport(ctx, st, owner, ilsT1)
	if err != nil {
		t.Fatal(err)
	}
	g := findGoal(t, rep, "it-inloggning")
	if got := g.BodyCount.Text("sv"); got != "1 av 2 ansvariga har rapporterat" {
		t.Errorf("after one report: %q", got)
	}
	if g.Row.Proposed != strategy.LevelMet {
		t.Errorf("proposal from one met body: %s", g.Row.Proposed)
	}
	if _, err := e.svc.SaveBodyReport(ctx, st, sv, "", BodyReportInput{Goal: "it-inloggning", Body: "stockholm-vatten",
		Period: ilsT1, Level: strategy.LevelPartly, Comment: "Två av fem e-tjänster flyttade."}); err != nil {
		t.Fatal(err)
	}
	if rep, err = e.svc.BuildReport(ctx, st, owner, ilsT1); err != nil {
		t.Fatal(err)
	}
	g = findGoal(t, rep, "it-inloggning")
	if got := g.BodyCount.Text("sv"); got != "2 av 2 ansvariga har rapporterat" {
		t.Errorf("after two reports: %q", got)
	}
	if len(g.Bodies) != 2 || g.Bodies[0].Report == nil || g.Bodies[0].Report.Level != strategy.LevelMet ||
		g.Bodies[1].Report == nil || g.Bodies[1].Report.Comment != "Två av fem e-tjänster flyttade." {
		t.Errorf("body parts: %+v", g.Bodies)
	}
	if !g.Bodies[0].MayEdit || !g.Bodies[1].MayEdit {
		t.Error("the goal owner may report for every body")
	}
	// Strict roll-up: met and partly → partly.
	if g.Row.Proposed != strategy.LevelPartly || !strings.Contains(g.Row.Reason.SV, "2 av 2") {
		t.Errorf("proposal %s (%s), want partly from the bodies", g.Row.Proposed, g.Row.Reason.SV)
	}
	// The report counts bodies over every goal: the e-archive's body has not reported.
	if got := rep.BodyTotal.Text("sv"); got != "2 av 3 ansvariga har rapporterat" {
		t.Errorf("report total: %q", got)
	}
	// The owner confirms the goal; the assessment records the bodies' proposal.
	a, err := e.svc.SaveAssessment(ctx, st, owner, "", AssessmentInput{Subject: strategy.SubjectGoal, ID: "it-inloggning",
		Period: ilsT1, Level: strategy.LevelPartly, Forecast: strategy.LevelMet, Comment: "Enligt nämndens och bolagets rapporter.", Confirm: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.Proposed != strategy.LevelPartly {
		t.Errorf("confirmed assessment's proposal %s, want partly", a.Proposed)
	}
	// Both reports are in the audit trail.
	log, err := e.store.AuditLog(ctx, clickhouse.AuditFilter{Tenant: st.Municipality.Code, Action: "body.report"})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 {
		t.Errorf("%d body.report entries, want 2", len(log))
	}
}

// TestActivityEditAudited: an activity's status, outcome and comment are
// updated for a period; the report shows the update, later periods carry
// it, the audit trail has the file's values before and the update after,
// and every revision is kept.
func TestActivityEditAudited(t *testing.T) {
	st := loadILS(t)
	e := strategyEnv(t, st, nil)
	ctx := context.Background()
	arkiv := &auth.Identity{Name: "arne", Role: auth.Editor, Owners: []string{"Stadsarkivet"}}
	rep, err := e.svc.BuildReport(ctx, st, arkiv, ilsT1)
	if err != nil {
		t.Fatal(err)
	}
	g := findGoal(t, rep, "it-e-arkiv")
	if len(g.Activities) != 1 || g.Activities[0].Status != strategy.ActivityOngoing || g.Activities[0].Update != nil || !g.Activities[0].MayEdit {
		t.Fatalf("before: %+v", g.Activities)
	}
	for i, out := range []string{"1 250,5", "2 000"} {
		if _, err := e.svc.SaveActivity(ctx, st, arkiv, "127.0.0.1", ActivityInput{Activity: "it-e-arkiv-leveranser", Period: ilsT1,
			Status: "försenad", Outcome: out, Comment: "Två system levererar sent.", Base: baseOf(t, e, "it-e-arkiv-leveranser", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err = e.svc.BuildReport(ctx, st, arkiv, strategy.Period{Kind: strategy.Tertial, Year: 2026, N: 2}); err != nil {
		t.Fatal(err)
	}
	g = findGoal(t, rep, "it-e-arkiv")
	if a := g.Activities[0]; a.Status != strategy.ActivityDelayed || a.Outcome == nil || *a.Outcome != 2000 || a.Comment != "Två system levererar sent." {
		t.Errorf("carried to T2: %+v", a)
	}
	log, err := e.store.AuditLog(ctx, clickhouse.AuditFilter{Tenant: st.Municipality.Code, Action: "activity.update"})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 {
		t.Fatalf("%d activity.update entries, want 2", len(log))
	}
	var first clickhouse.AuditEntry
	for _, l := range log {
		if strings.Contains(l.Before, `"source":"strategy"`) {
			first = l
		}
	}
	if first.SubjectID != "it-e-arkiv-leveranser" || first.Actor != "arne" || first.Period != "2026-T1" ||
		!strings.Contains(first.Before, `"status":"ongoing"`) || !strings.Contains(first.After, `"status":"delayed"`) ||
		!strings.Contains(first.After, `"outcome":1250.5`) {
		t.Errorf("first entry: %+v", first)
	}
	h, err := e.store.ActivityHistory(ctx, st.Municipality.Code, "it-e-arkiv-leveranser")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 {
		t.Errorf("%d revisions kept, want 2", len(h))
	}
	// The goal has no indicators: its proposal comes from its activity (delayed → not met).
	if g.Row.Proposed != strategy.LevelNotMet {
		t.Errorf("proposal from a delayed activity: %s (%s)", g.Row.Proposed, g.Row.Reason.SV)
	}
}

func baseOf(t *testing.T, e *env, activity string, i int) uint64 {
	if i == 0 {
		return 0
	}
	h, err := e.store.ActivityHistory(context.Background(), e.st.Municipality.Code, activity)
	if err != nil || len(h) == 0 {
		t.Fatalf("history: %v", err)
	}
	return h[0].Revision
}

func isStatus(err error, status int) bool {
	var fe *Error
	return errors.As(err, &fe) && fe.Status == status
}

// TestBodiesBadInput: an unknown body, a status not in the list and a
// negative or non-numeric outcome are refused with a clear message, and
// nothing is written.
func TestBodiesBadInput(t *testing.T) {
	st := loadILS(t)
	e := strategyEnv(t, st, nil)
	ctx := context.Background()
	admin := &auth.Identity{Name: "anna", Role: auth.Admin}
	for _, c := range []struct {
		in   BodyReportInput
		want string
	}{
		{BodyReportInput{Goal: "it-inloggning", Body: "kulturnamnden", Period: ilsT1, Level: strategy.LevelMet, Comment: "x"},
			"Målet har inget ansvarigt organ med id ”kulturnamnden”."},
		{BodyReportInput{Goal: "it-inloggning", Body: "utbildningsnamnden", Period: ilsT1, Level: "great", Comment: "x"},
			"Välj en bedömning."},
		{BodyReportInput{Goal: "it-inloggning", Body: "utbildningsnamnden", Period: ilsT1, Level: strategy.LevelMet},
			"Skriv en kommentar."},
	} {
		_, err := e.svc.SaveBodyReport(ctx, st, admin, "", c.in)
		if !isStatus(err, 400) || !strings.Contains(problemText(err), c.want) {
			t.Errorf("%+v: %v, want 400 %q", c.in, err, c.want)
		}
	}
	for _, c := range []struct {
		in   ActivityInput
		want string
	}{
		{ActivityInput{Activity: "it-e-arkiv-leveranser", Period: ilsT1, Status: "nästan klar"},
			"Välj en status: ej påbörjad, pågår, klar, försenad, avbruten."},
		{ActivityInput{Activity: "it-e-arkiv-leveranser", Period: ilsT1, Status: "klar", Outcome: "-200"},
			"Utfallet kan inte vara negativt."},
		{ActivityInput{Activity: "it-e-arkiv-leveranser", Period: ilsT1, Status: "klar", Outcome: "200 kr"},
			"Utfallet är inte ett belopp i tkr"},
	} {
		_, err := e.svc.SaveActivity(ctx, st, admin, "", c.in)
		if !isStatus(err, 400) || !strings.Contains(problemText(err), c.want) {
			t.Errorf("%+v: %v, want 400 %q", c.in, err, c.want)
		}
	}
	if _, err := e.svc.SaveActivity(ctx, st, admin, "", ActivityInput{Activity: "ingen-sadan", Period: ilsT1, Status: "klar"}); !isStatus(err, 404) {
		t.Errorf("unknown activity: %v", err)
	}
	rs, err := e.store.BodyReports(ctx, st.Municipality.Code)
	if err != nil {
		t.Fatal(err)
	}
	us, err := e.store.ActivityUpdates(ctx, st.Municipality.Code)
	if err != nil {
		t.Fatal(err)
	}
	log, err := e.store.AuditLog(ctx, clickhouse.AuditFilter{Tenant: st.Municipality.Code})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs)+len(us)+len(log) != 0 {
		t.Errorf("bad input wrote %d reports, %d updates, %d audit entries", len(rs), len(us), len(log))
	}
}

func problemText(err error) string {
	var fe *Error
	if !errors.As(err, &fe) {
		return ""
	}
	var s []string
	for _, p := range fe.Problems {
		s = append(s, p.SV)
	}
	return strings.Join(s, " ")
}

// TestBodiesThroughTheForms: bodies report and an activity is updated
// through the period report's forms; the report lists each body's part
// and the activities, and the period list says how many bodies have
// reported.
func TestBodiesThroughTheForms(t *testing.T) {
	st := loadILS(t)
	e := strategyEnv(t, st, nil)
	c := e.login("anna")
	for _, b := range []string{"utbildningsnamnden", "stockholm-vatten"} {
		a := c.post("/uppfoljning/mal/it-inloggning/2026-T1/organ/"+b, url.Values{"niva": {"met"}, "kommentar": {"Rapport från " + b}, "bas": {"0"}})
		if a.code != 303 {
			t.Fatalf("%s: %d %s", b, a.code, a.body)
		}
	}
	if a := c.post("/uppfoljning/mal/it-inloggning/2026-T1/organ/kulturnamnden", url.Values{"niva": {"met"}, "kommentar": {"x"}}); a.code != 400 ||
		!strings.Contains(a.body, "Målet har inget ansvarigt organ") {
		t.Errorf("unknown body: %d %s", a.code, a.body)
	}
	if a := c.post("/uppfoljning/aktivitet/it-inloggning-migrering/2026-T1", url.Values{"status": {"pågår"}, "utfall": {"2 400"}, "kommentar": {"Hälften flyttade."}}); a.code != 303 {
		t.Fatalf("activity: %d %s", a.code, a.body)
	}
	rep := c.get("/uppfoljning/rapport/2026-T1")
	if rep.code != 200 {
		t.Fatalf("report: %d", rep.code)
	}
	mustContain(t, "report", rep.body, "Ansvariga: 2 av 2 ansvariga har rapporterat", "Utbildningsnämnden", "Rapport från stockholm-vatten",
		"Stadsarkivet</strong> (förvaltning): har inte rapporterat", "Flytta e-tjänsterna till den gemensamma inloggningstjänsten",
		"pågår; budget 4\u00a0000 tkr, utfall 2\u00a0400 tkr", "Hälften flyttade.")
	mustContain(t, "periods", c.get("/uppfoljning/rapport").body, "2 av 3 ansvariga har rapporterat")
}
