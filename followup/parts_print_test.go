package followup

import (
	"context"
	"testing"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/strategy"
)

// TestPrintAndCSVListPartsAndActivities: the period report's print view
// and CSV export list the responsible bodies' parts (reported or not, with
// the completion) and the activities as they stand in the period.
func TestPrintAndCSVListPartsAndActivities(t *testing.T) {
	st := loadILS(t)
	e := strategyEnv(t, st, nil)
	ctx := context.Background()
	admin := &auth.Identity{Name: "anna", Role: auth.Admin}
	if _, err := e.svc.SaveBodyReport(ctx, st, admin, "", BodyReportInput{Goal: "it-inloggning", Body: "utbildningsnamnden",
		Period: ilsT1, Level: strategy.LevelMet, Comment: "Alla skolans e-tjänster klara."}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SaveActivity(ctx, st, admin, "", ActivityInput{Activity: "it-inloggning-migrering", Period: ilsT1,
		Status: "pågår", Outcome: "2 100", Comment: "Tre av fem flyttade."}); err != nil {
		t.Fatal(err)
	}
	anna := e.login("anna")
	pr := anna.get("/uppfoljning/rapport/2026-T1/utskrift")
	mustContain(t, "print", pr.body, "Ansvariga: 1 av 2 ansvariga har rapporterat",
		"<strong>Utbildningsnämnden</strong> (nämnd):", "Alla skolans e-tjänster klara.",
		"<strong>Stockholm Vatten och Avfall AB</strong> (bolag): har inte rapporterat",
		"<strong>Flytta e-tjänsterna till den gemensamma inloggningstjänsten</strong> (Respektive förvaltning och bolag): pågår; budget 4\u00a0000 tkr, utfall 2\u00a0100 tkr; klar senast 2026 – Tre av fem flyttade.",
		"Tre av fem flyttade.", "<strong>Inventera e-tjänsternas inloggning</strong>")
	mustNotContain(t, "print", pr.body, `name="niva"`, `name="utfall"`)
	c := anna.get("/uppfoljning/rapport/2026-T1/rapport.csv")
	mustContain(t, "CSV", c.body,
		"fokus-service;it-inloggning;body;utbildningsnamnden;Utbildningsnämnden;;;;;;;uppfyllt;;Alla skolans e-tjänster klara.;Rapporterat;anna;",
		"fokus-service;it-inloggning;body;stockholm-vatten;Stockholm Vatten och Avfall AB;;;;;;;;;;Ej rapporterat;;\r\n",
		"fokus-service;it-inloggning;activity;it-inloggning-migrering;Flytta e-tjänsterna till den gemensamma inloggningstjänsten;Respektive förvaltning och bolag;tkr;2100;2026-T1;;;;;Tre av fem flyttade.;pågår;anna;",
		"fokus-service;it-inloggning;activity;it-inloggning-inventering;Inventera e-tjänsternas inloggning;Stadsledningskontorets IT-avdelning;tkr;280;;;;;;;klar;;\r\n")
}
