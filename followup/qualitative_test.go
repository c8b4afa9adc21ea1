package followup

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// TestQualitativeStrategyPages: a strategy of 16 qualitative goals and no
// indicators gets honest pages: every goal on /uppfoljning and in the
// period report; /ledning opens on the latest period with confirmed
// assessments, counts goals, and never says that all follows plan while
// goals are unassessed; no empty maturity or operating-status section.
func TestQualitativeStrategyPages(t *testing.T) {
	b, err := os.ReadFile("testdata/qualitative.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := strategy.Parse("testdata/qualitative.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(st.Indicators()); n != 0 || len(st.Areas) != 4 {
		t.Fatalf("fixture: %d areas, %d indicators", len(st.Areas), n)
	}
	var goals []*strategy.Goal
	for _, a := range st.Areas {
		goals = append(goals, a.Goals...)
	}
	if len(goals) != 16 {
		t.Fatalf("fixture: %d goals", len(goals))
	}
	// Probe results that no indicator of the strategy reads.
	e := strategyEnv(t, st, func(s *clickhouse.Store) {
		at := consistencyNow.Add(-time.Hour)
		if err := s.WriteBatch(context.Background(), &facts.Batch{Tenant: st.Municipality.Code, Collector: "probes", Source: "test",
			Probes: []facts.ProbeResult{{Service: "E-tjänsteplattformen", URL: "http://127.0.0.1/", Time: at, OK: true, Status: 200, Duration: time.Second}}}); err != nil {
			t.Fatal(err)
		}
	})
	c := e.login("anna")
	get := func(path string) string {
		t.Helper()
		a := c.get(path)
		if a.code != 200 {
			t.Fatalf("%s: %d %s", path, a.code, a.body)
		}
		return a.body
	}
	for _, path := range []string{"/uppfoljning", "/uppfoljning/rapport/2026-T1", "/uppfoljning/rapport/2025"} {
		body := get(path)
		for _, g := range goals {
			mustContain(t, path, body, g.Title.SV)
		}
	}
	for _, path := range []string{"/", "/ledning"} {
		mustNotContain(t, path, get(path), "Digital mognad", "Driftinformation", "Indikatorer och prognos")
	}

	// Nothing confirmed: the latest closed period, every goal unassessed.
	led := get("/ledning")
	mustContain(t, "/ledning", led, "Läget vid T1 2026", "16 av 16 mål ej bedömda.", "Antal mål per målområde och bedömning")
	mustNotContain(t, "/ledning", led, "allt följer plan", "Antal indikatorer per målområde")
	checkGoalTotals(t, led, "0", "0", "0", "0", "16", "16")

	// Three goals confirmed for T2 2025: /ledning opens there.
	for _, id := range []string{"mal-1-1", "mal-2-3", "mal-4-4"} {
		if a := c.post("/uppfoljning/mal/"+id+"/2025-T2", formOf("met", "", "Genomfört enligt plan", "bekrafta", 0, false)); a.code != 303 {
			t.Fatalf("confirming %s: %d %s", id, a.code, a.body)
		}
	}
	led = get("/ledning")
	mustContain(t, "/ledning", led, "Läget vid T2 2025", "13 av 16 mål ej bedömda.")
	mustNotContain(t, "/ledning", led, "allt följer plan")
	checkGoalTotals(t, led, "3", "0", "0", "0", "13", "16")
	// The open period can still be picked, and is as unassessed as it is.
	mustContain(t, "/ledning?period=2026-T2", get("/ledning?period=2026-T2"), "Läget vid T2 2026", "16 av 16 mål ej bedömda.")
}

// checkGoalTotals checks the total row of the goals-per-area table on
// the one scale: met, on track, at risk (partly met), behind (not met),
// not assessed, total.
func checkGoalTotals(t *testing.T, body string, want ...string) {
	t.Helper()
	tab := regexp.MustCompile(`(?s)<caption>Antal mål per målområde och bedömning</caption>.*?</table>`).FindString(body)
	rows := regexp.MustCompile(`(?s)<tr><th scope="row">Totalt</th>(.*?)</tr>`).FindStringSubmatch(tab)
	if rows == nil {
		t.Fatalf("no total row in the goals table:\n%s", tab)
	}
	var got []string
	for _, m := range regexp.MustCompile(`<td class="num">([^<]*)</td>`).FindAllStringSubmatch(rows[1], -1) {
		got = append(got, m[1])
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("goals table totals %v, want %v", got, want)
	}
}
