package dashboards

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

// TestFollowupShowsBodiesAndActivities: /uppfoljning lists, under the ILS
// plan's shared goal, each responsible body's part per report period (its
// own assessment and comment, or that it has not reported), the goal's
// completion ("1 av 2 ansvariga har rapporterat", the follow-up's figure)
// and its activities as they stand per period, read from the follow-up's
// body reports and activity updates.
func TestFollowupShowsBodiesAndActivities(t *testing.T) {
	st, err := strategy.Load("../examples/strategies/ils-it-plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store := openStore(t, chtest.DSN(t))
	seed(t, store, st.Municipality.Code)
	ctx := context.Background()
	tenant := st.Municipality.Code
	t1 := strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 1}
	created := time.Date(2025, 5, 10, 9, 15, 0, 0, time.UTC)
	if err := store.WriteBodyReport(ctx, clickhouse.BodyReport{Tenant: tenant, Goal: "it-inloggning", Body: "utbildningsnamnden",
		Period: t1, Level: strategy.LevelMet, Comment: "Klart i skolan.", Author: "ulla", Created: created, Revision: 1}); err != nil {
		t.Fatal(err)
	}
	spent := 500.0
	if err := store.WriteActivityUpdate(ctx, clickhouse.ActivityUpdate{Tenant: tenant, Goal: "it-inloggning", Activity: "it-inloggning-migrering",
		Period: t1, Status: strategy.ActivityOngoing, Outcome: &spent, Comment: "Hälften flyttade.", Author: "sara", Created: created, Revision: 2}); err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, store, []*strategy.Strategy{st}, openInternal)
	code, _, body := e.get("/uppfoljning?year=2025")
	if code != http.StatusOK {
		t.Fatalf("/uppfoljning = %d\n%s", code, body)
	}
	body = regexp.MustCompile(` (role|data-label)="[^"]*"`).ReplaceAllString(body, "")
	body = regexp.MustCompile(`\s*\n\s*`).ReplaceAllString(body, "")
	mustContain(t, "/uppfoljning", body,
		"1 av 2 ansvariga har rapporterat",
		"Ansvarig: Utbildningsnämnden", "Uppfyllt</span><br>Klart i skolan.</td><td>Ej rapporterat</td>",
		"Ansvarig: Stockholm Vatten och Avfall AB", "Ej rapporterat",
		"Aktivitet: Flytta e-tjänsterna till den gemensamma inloggningstjänsten (Respektive förvaltning och bolag)",
		"Pågår · utfall 500 tkr · Hälften flyttade.",
		// the file's values before the first update
		"Aktivitet: Inventera e-tjänsternas inloggning", "Klar · utfall 280 tkr")
}
