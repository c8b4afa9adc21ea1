package dashboards

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// glanceEnv is the test server over the seeded data plus extra
// observations and assessments.
func glanceEnv(t *testing.T, obs []strategy.Observation, as []strategy.Assessment, opts ...envOption) *env {
	t.Helper()
	st := testStrategy(t)
	store := openStore(t, chtest.DSN(t))
	seed(t, store, st.Municipality.Code)
	ctx := context.Background()
	for i := range obs {
		obs[i].Tenant, obs[i].Source, obs[i].Recorded = st.Municipality.Code, "test", testNow.Add(-time.Hour)
	}
	if len(obs) > 0 {
		if err := store.WriteObservations(ctx, obs); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range as {
		a.Tenant = st.Municipality.Code
		if err := store.WriteAssessment(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	return startEnv(t, store, []*strategy.Strategy{st}, opts...)
}

func mustGet(t *testing.T, e *env, path string) string {
	t.Helper()
	code, _, body := e.get(path)
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d", path, code)
	}
	return body
}

// TestGlance: the first thing on / is the overall picture: per goal area
// how many goals stand where on the one scale, "X av Y mål uppfyllda
// eller enligt plan", the assessment period named, and links down to the
// areas, before the vision, the description and any goal.
func TestGlance(t *testing.T) {
	e := glanceEnv(t, nil, nil)
	body := mustGet(t, e, "/")
	iGlance, iVision, iArea := strings.Index(body, `<section class="glance"`), strings.Index(body, `class="vision"`), strings.Index(body, `<section class="area"`)
	if iGlance < 0 || iGlance > iVision || iGlance > iArea {
		t.Fatalf("the glance is not the first thing on the page (glance %d, vision %d, first area %d)", iGlance, iVision, iArea)
	}
	g := body[iGlance : strings.Index(body[iGlance:], "</section>")+iGlance]
	// Public goals: ansokningar confirmed partly met for T1 2025 (at risk);
	// fler-e-tjanster, behovsanalys and oppna-data have no confirmed
	// assessment.
	mustContain(t, "glance", g, "Läget i korthet", "Bedömning för T1 2025", "0 av 4 mål uppfyllda eller enligt plan",
		`<a href="#omrade-e-tjanster">E-tjänster för invånare och företag</a>`,
		"✓</span> Uppfyllt", "↗</span> Enligt plan", "!</span> Risk", "✗</span> Efter plan", "–</span> Ej bedömt",
		"Så läser du statusen")
	row := regexp.MustCompile(`<tr><th scope="row"><a href="#omrade-e-tjanster">[^<]*</a></th>(.*?)</tr>`).FindStringSubmatch(g)
	if row == nil {
		t.Fatal("no glance row for the area e-tjanster")
	}
	var counts []string
	for _, m := range regexp.MustCompile(`<td class="num[^"]*">(\d+)</td>`).FindAllStringSubmatch(row[1], -1) {
		counts = append(counts, m[1])
	}
	if got := strings.Join(counts, " "); got != "0 0 1 0 2" {
		t.Errorf("e-tjanster: goals per step %q, want met 0, on track 0, at risk 1, behind 0, not assessed 2", got)
	}
	mustNotContain(t, "glance", g, secretGoal)

	en := mustGet(t, e, "/?lang=en")
	mustContain(t, "English glance", en, "At a glance", "Assessment for T1 2025", "0 of 4 goals met or on track", "How to read the status")
}

// TestOneAssessmentPeriod: the issue saw goals assessed for T1 2026 next
// to others for T2 2026 on one page. A goal whose latest confirmed
// assessment is of an earlier period says it has none for the page's
// period instead.
func TestOneAssessmentPeriod(t *testing.T) {
	older := strategy.Assessment{Subject: strategy.SubjectGoal, SubjectID: "fler-e-tjanster", Period: tertial(2024, 3), Level: strategy.LevelMet,
		Comment: "Äldre bedömning.", Ready: true, Confirmed: true, Author: "Anna Andersson", Created: testNow.AddDate(0, -3, 0), Revision: 1}
	e := glanceEnv(t, nil, []strategy.Assessment{older})
	body := mustGet(t, e, "/")
	periods := map[string]bool{}
	for _, m := range regexp.MustCompile(`Bedömning (T\d \d{4}|Helår \d{4}):`).FindAllStringSubmatch(body, -1) {
		periods[m[1]] = true
	}
	if len(periods) != 1 || !periods["T1 2025"] {
		t.Errorf("goals are assessed for %v on one page, want T1 2025 only", periods)
	}
	mustContain(t, "public page", body, "Ingen fastställd bedömning för T1 2025.")
	mustNotContain(t, "public page", body, "Äldre bedömning.")
}

// TestRunningPeriodMarked: the issue saw "98 % december 2026" after six
// days of the month. A value of a period still in progress is marked as
// such, the same on /, /ledning and the indicator page.
func TestRunningPeriodMarked(t *testing.T) {
	// testNow is 16 June 2025, in T2 2025.
	e := glanceEnv(t, []strategy.Observation{{Indicator: "handlaggningstid", Period: tertial(2025, 2), Value: 24.5}}, nil, openInternal)
	want := "T2 2025 (pågående, t.o.m. 16 jun)"
	mustContain(t, "/", mustGet(t, e, "/"), "24,5 dagar <small>"+want+"</small>")
	mustContain(t, "/indikator/handlaggningstid", mustGet(t, e, "/indikator/handlaggningstid"), "24,5 dagar <small>"+want+"</small>")
	mustContain(t, "/ledning", mustGet(t, e, "/ledning?period=2025-T2"), "24,5 dagar (pågående, t.o.m. 16 jun)")
	// A period that has ended is not marked.
	mustNotContain(t, "/", mustGet(t, e, "/"), "Helår 2024 (pågående")
	if got := progress.RunningNote(tertial(2025, 1), testNow, "sv"); got != "" {
		t.Errorf("T1 2025 in June: %q, want no note", got)
	}
	if got := progress.RunningNote(tertial(2025, 2), testNow, "en"); got != "in progress, through 16 Jun" {
		t.Errorf("English note %q", got)
	}
}

// TestMaturityScopeNamed: the issue saw the maturity index 81,4 on
// /ledning and 79,4 on /, both "2026 preliminärt". They are two scopes
// (public indicators, all indicators); each page names its scope, and
// the API gives the same figure for the same scope.
func TestMaturityScopeNamed(t *testing.T) {
	e := glanceEnv(t, nil, nil, openInternal)
	pub, lead := mustGet(t, e, "/"), mustGet(t, e, "/ledning")
	mustContain(t, "/", pub, "Räknat på offentliga indikatorer.")
	mustContain(t, "/ledning", lead, "Räknat på alla indikatorer, även interna.")
	figure := func(body string) string {
		m := regexp.MustCompile(`(?s)<h2 id="mognad">.*?<p class="figure">([^<]*) <small>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no maturity index on the page")
		}
		return m[1]
	}
	var api struct {
		Maturity struct {
			Scope string   `json:"scope"`
			Index *float64 `json:"index"`
		} `json:"maturity"`
	}
	if err := json.Unmarshal([]byte(mustGet(t, e, "/api/v1/statuses")), &api); err != nil {
		t.Fatal(err)
	}
	// openInternal: the API answers staff, so its scope is all.
	if api.Maturity.Scope != "all" || api.Maturity.Index == nil || progress.FormatNumber(*api.Maturity.Index, "sv") != figure(lead) {
		t.Errorf("API maturity %+v, /ledning shows %s", api.Maturity, figure(lead))
	}
	pe := glanceEnv(t, nil, nil)
	if err := json.Unmarshal([]byte(mustGet(t, pe, "/api/v1/statuses")), &api); err != nil {
		t.Fatal(err)
	}
	if api.Maturity.Scope != "public" || api.Maturity.Index == nil || progress.FormatNumber(*api.Maturity.Index, "sv") != figure(mustGet(t, pe, "/")) {
		t.Errorf("public API maturity %+v, / shows %s", api.Maturity, figure(mustGet(t, pe, "/")))
	}
}

// TestLeadershipChangesAndFilters: /ledning shows summary counts, every
// goal and indicator with the previous period's status beside the current
// one, and narrows to an area, an owner or a status with a plain GET
// form; unknown filter values are refused.
func TestLeadershipChangesAndFilters(t *testing.T) {
	e := glanceEnv(t, nil, nil, openInternal)
	body := mustGet(t, e, "/ledning?period=2025-T2")
	mustContain(t, "/ledning", body, `<section class="glance"`, "Bedömning för T2 2025", "Sedan T1 2025:",
		`<th scope="col" role="columnheader">T1 2025</th><th scope="col" role="columnheader">T2 2025</th><th scope="col" role="columnheader">Förändring</th>`,
		`<select id="omrade" name="omrade">`, `<option value="intern">Intern effektivitet</option>`,
		`<select id="ansvarig" name="ansvarig">`, `<option value="Kommunstyrelsen">Kommunstyrelsen</option>`,
		`<select id="status" name="status">`, `<option value="behind">✗ Efter plan</option>`)
	rowRe := regexp.MustCompile(`<tr class="compact[^"]*"[^>]*><th scope="row"[^>]*><span class="meta">([^:]*):</span> (?:<a[^>]*>)?([^<]*)(?:</a>)?</th><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td><td[^>]*class="num">[^<]*</td><td[^>]*>([^<]*)</td>`)
	type r struct{ kind, title, prev, cur, change, owner string }
	rows := func(body string) []r {
		var out []r
		for _, m := range rowRe.FindAllStringSubmatch(body, -1) {
			out = append(out, r{m[1], m[2], m[3], m[4], m[5], m[6]})
		}
		return out
	}
	all := rows(body)
	// 4 goals (not dropped) and 6 indicators of the test strategy.
	if len(all) < 8 {
		t.Fatalf("/ledning lists %d goals and indicators: %v", len(all), all)
	}
	for _, x := range all {
		if !strings.Contains(x.prev, `class="status`) || !strings.Contains(x.cur, `class="status`) {
			t.Errorf("%s: no previous or current status: %+v", x.title, x)
		}
	}
	// The summary counts add up to the rows.
	sum := 0
	for _, m := range regexp.MustCompile(`<td class="num(?: zero)?">(\d+)</td>`).FindAllStringSubmatch(body[strings.Index(body, `<section class="glance"`):strings.Index(body, "</section>")], -1) {
		n := 0
		for _, c := range m[1] {
			n = n*10 + int(c-'0')
		}
		sum += n
	}
	if sum != len(all) {
		t.Errorf("the summary counts %d goals and indicators, the tables %d", sum, len(all))
	}
	behind := rows(mustGet(t, e, "/ledning?period=2025-T2&status=behind"))
	for _, x := range behind {
		if !strings.Contains(x.cur, "Efter plan") {
			t.Errorf("?status=behind lists %s, which is %s", x.title, x.cur)
		}
	}
	owned := rows(mustGet(t, e, "/ledning?period=2025-T2&ansvarig=Kommunstyrelsen"))
	if len(owned) == 0 {
		t.Error("?ansvarig=Kommunstyrelsen lists nothing")
	}
	for _, x := range owned {
		if x.owner != "Kommunstyrelsen" {
			t.Errorf("?ansvarig=Kommunstyrelsen lists %s of %q", x.title, x.owner)
		}
	}
	intern := rows(mustGet(t, e, "/ledning?period=2025-T2&omrade=intern"))
	if len(intern) == 0 || len(intern) >= len(all) {
		t.Errorf("?omrade=intern lists %d of %d rows", len(intern), len(all))
	}
	for _, x := range intern {
		if strings.Contains(x.title, "ansökningar") {
			t.Errorf("?omrade=intern lists %s", x.title)
		}
	}
	for _, bad := range []string{"omrade=finns-inte", "ansvarig=Ingen", "status=gul"} {
		if code, _, _ := e.get("/ledning?" + bad); code != http.StatusBadRequest {
			t.Errorf("?%s = %d, want 400", bad, code)
		}
	}
	// The filters carry over to the other language.
	mustContain(t, "filtered", mustGet(t, e, "/ledning?omrade=intern"), `omrade=intern`, "Visar ")
}

// TestForecastAgreesWithStatus: the issue saw "Målet nått" next to
// "Målet nåddes inte i tid". An indicator that missed its 3-year target
// at its date but has since reached it, and its final target, says the
// target was reached after its date.
func TestForecastAgreesWithStatus(t *testing.T) {
	const y = `
municipality: {code: "0998", name: Provkommun, slug: prov}
id: prov
title: {sv: Provstrategi}
start: 2020-01-01
end: 2024-12-31
rhythm: tertial
areas:
  - id: a
    title: {sv: Område}
    goals:
      - id: g
        title: {sv: Mål}
        public: true
        indicators:
          - id: andel
            title: {sv: Andel}
            unit: percent
            direction: increase
            baseline: {value: 40, date: 2019-12-31}
            target_3y: 80
            target_5y: 95
            public: true
            source: {series: andel}
`
	st, err := strategy.Parse("prov.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, strategy.Stockholm)
	rec := now.AddDate(0, -1, 0)
	var obs []strategy.Observation
	for i, v := range []float64{50, 60, 85, 96} { // 2021–2024: the 3-year target missed at its date, then met
		obs = append(obs, strategy.Observation{Tenant: "0998", Indicator: "andel", Period: yearly(2021 + i), Value: v, Recorded: rec})
	}
	rep := progress.Evaluate(st, map[string][]strategy.Observation{"andel": obs}, nil, now)
	ir := rep.Indicator("andel")
	if ir.Status.Status != progress.StatusMet {
		t.Fatalf("status %s, want met: %s", ir.Status.Status, ir.Status.Reason.SV)
	}
	if tf := ir.Forecast.ThreeYear; tf == nil || !tf.Passed || tf.MetAtDate == nil || *tf.MetAtDate {
		t.Fatalf("the 3-year target should have passed unmet at its date: %+v", tf)
	}
	ft := forecastTable("", rep, "sv")
	var line []string
	for _, c := range ft.Rows[0].Cells {
		line = append(line, c.Text)
		if c.Status != nil {
			line = append(line, c.Status.Label)
		}
	}
	got := strings.Join(line, " | ")
	if !strings.Contains(got, "Uppfyllt") || strings.Contains(got, "nåddes inte i tid") || !strings.Contains(got, "Målet nåddes efter måldatumet.") {
		t.Errorf("forecast row contradicts the status: %s", got)
	}
	for _, lang := range []string{"sv", "en"} {
		if f := indicatorForecast(ir, lang); f != tr(lang, "forecast_met") {
			t.Errorf("%s: forecast beside a met indicator: %q", lang, f)
		}
	}
}

// TestFollowupStateAgreesWithReport: the issue saw /uppfoljning say
// "Klarmarkerad" for an indicator the period report called "Utkast". The
// matrix names an assessment's state by the follow-up's rule
// (progress.AssessmentState): a ready flag without confirmation is a
// draft, and confirmed and ready is "Klarmarkerad".
func TestFollowupStateAgreesWithReport(t *testing.T) {
	at := testNow.AddDate(0, 0, -10)
	e := glanceEnv(t, nil, []strategy.Assessment{
		{Subject: strategy.SubjectIndicator, SubjectID: "antal-e-tjanster", Period: tertial(2025, 1), Level: strategy.LevelMet,
			Ready: true, Author: "Bertil Berg", Created: at, Revision: 1},
		{Subject: strategy.SubjectIndicator, SubjectID: "handlaggningstid", Period: tertial(2025, 1), Level: strategy.LevelMet,
			Ready: true, Confirmed: true, Author: "Bertil Berg", Created: at, Revision: 1},
		{Subject: strategy.SubjectIndicator, SubjectID: "informationsindex", Period: tertial(2025, 1), Level: strategy.LevelMet,
			Confirmed: true, Author: "Bertil Berg", Created: at, Revision: 1},
	}, openInternal)
	body := mustGet(t, e, "/uppfoljning")
	cell := func(id string) string {
		// The matrix's columns are T1, T2 (and the year); T1 2025 is the
		// first status cell of the row.
		row := regexp.MustCompile(`<tr[^>]*><th scope="row"[^>]*><a href="/indikator/` + id + `">.*?</tr>`).FindString(body)
		c := regexp.MustCompile(`<td[^>]*><span class="status[^"]*"><span class="sym" aria-hidden="true">[^<]*</span> [^<]*</span><br>([^·]*) ·`).FindStringSubmatch(row)
		if c == nil {
			t.Fatalf("no T1 2025 cell for %s in %s", id, row)
		}
		return strings.TrimSpace(c[1])
	}
	for id, want := range map[string]string{"antal-e-tjanster": "Utkast", "handlaggningstid": "Klarmarkerad", "informationsindex": "Fastställd"} {
		if got := cell(id); !strings.HasPrefix(got, want) {
			t.Errorf("%s: /uppfoljning says %q for T1 2025, the report's rule %q", id, got, want)
		}
	}
}
