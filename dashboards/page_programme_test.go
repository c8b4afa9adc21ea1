package dashboards

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/malbild/malbild/strategy"
)

// hierarchyYAML is a committee plan with KF goals, a goal under two areas,
// a programme with yearly budgets and a text in the Markdown subset. At
// testNow (June 2025) the leadership period is T1 2025, where the file
// records assessments.
const hierarchyYAML = `municipality: {code: "0998", name: Planstads kommun}
id: plan
title: IT-plan
adopted: 2012-xx-xx
decided_by: kommunfullmäktige
owner: IT-chefen
start: 2023-01-01
end: 2024-12-31
upper_goals:
  - {id: kf-1, level: inriktningsmål, title: En hållbar kommun}
  - id: kf-1-1
    parent: kf-1
    title: Digitala tjänster för alla
    description: "Kommunen ska:\n- erbjuda **e-tjänster**\n- <script>alert(1)</script>"
areas:
  - id: service
    title: Service
    goals:
      - id: e-tjanster
        title: Fler e-tjänster
        kind: qualitative
        public: true
        description: "Vi ska **bli bättre**.\n\n- fler tjänster\n- enklare språk"
        contributes_to: [kf-1-1]
        history:
          - {period: 2024, level: met}
      - id: arkiv
        title: E-arkiv
        kind: qualitative
        contributes_to: [kf-1-1]
        history:
          - {period: 2024, level: not_met, comment: Upphandlingen överklagades.}
  - id: intern
    title: Intern effektivitet
    goals:
      - ref: arkiv
      - id: it-stod
        title: Bättre IT-stöd
        kind: qualitative
programmes:
  - id: digital-service
    title: Digital service
    description: Programmet för **e-tjänster**.
    owner: Digitaliseringschefen
    areas: [service]
    years:
      2023: {budget: 1000, outcome: 1200}
      2024: {budget: 1500}
    projects:
      - {id: plattform, title: E-tjänsteplattform, budget: 800, goals: [e-tjanster]}
      - {id: arkivprojekt, title: E-arkivprojektet, goals: [arkiv, e-tjanster]}
`

func hierarchyStrategy(t testing.TB) *strategy.Strategy {
	t.Helper()
	st, err := strategy.Parse("plan.yaml", []byte(hierarchyYAML))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestProgrammeAndUpperGoalPages(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{hierarchyStrategy(t)}, openInternal)

	code, _, body := e.get("/program/digital-service")
	if code != http.StatusOK {
		t.Fatalf("/program/digital-service = %d\n%s", code, body)
	}
	mustContain(t, "programme page", body,
		"<h1>Digital service</h1>", "Programmet för <strong>e-tjänster</strong>.",
		"Budgetram: okänt tkr", "Ansvarig: Digitaliseringschefen", "Målområden: Service",
		// budget against outcome per year: 2023 over budget (a deviation), 2024 outcome unknown
		"<tr class=\"deviation\"><th scope=\"row\">2023</th><td class=\"num\">1\u00a0000</td><td class=\"num\">1\u00a0200</td><td class=\"num\">&#43;200</td></tr>",
		"<th scope=\"row\">2024</th><td class=\"num\">1\u00a0500</td><td class=\"num\">okänt</td><td class=\"num\">–</td>",
		// the goals each project serves and how they stand
		"E-tjänsteplattform", "E-arkivprojektet", "E-arkiv; Fler e-tjänster",
		"Uppfyllt", "Ej uppfyllt", "Upphandlingen överklagades.", "E-tjänsteplattform, E-arkivprojektet",
		// lifecycle: partial adoption date, deciding body, period, owner, ended
		"Antagen 2012 av kommunfullmäktige.", "Gäller 2023-01-01 – 2024-12-31.", "Ansvarig: IT-chefen.",
		"Strategiperioden är slut (2024-12-31).",
		// nav
		`href="/program" aria-current="page">Program</a>`, `href="/kf-mal">KF-mål</a>`)
	if strings.Contains(body, "0001-01-01") {
		t.Error("an unknown date shows as year 1")
	}

	code, _, body = e.get("/program")
	if code != http.StatusOK {
		t.Fatalf("/program = %d", code)
	}
	mustContain(t, "programme list", body, "Program och portföljer", `<a href="/program/digital-service">Digital service</a>`)

	code, _, body = e.get("/kf-mal")
	if code != http.StatusOK {
		t.Fatalf("/kf-mal = %d", code)
	}
	// kf-1-1: two goals (arkiv once although it is under two areas), one
	// met, one not met; kf-1 gathers its mål's goals.
	// Text tables are stacked on phones (roles and data labels on the
	// cells); the figures are what this test reads.
	plain := regexp.MustCompile(` (role|data-label)="[^"]*"`)
	body = plain.ReplaceAllString(body, "")
	mustContain(t, "upper goal list", body, "Mål från kommunfullmäktige",
		`<a href="/kf-mal/kf-1-1">– Digitala tjänster för alla</a></th><td>Mål</td><td class="num">2</td><td class="num">1</td><td class="num">0</td><td class="num">1</td><td class="num">0</td>`,
		`<a href="/kf-mal/kf-1">En hållbar kommun</a></th><td>Inriktningsmål</td><td class="num">2</td>`)

	code, _, body = e.get("/kf-mal/kf-1-1")
	if code != http.StatusOK {
		t.Fatalf("/kf-mal/kf-1-1 = %d", code)
	}
	body = plain.ReplaceAllString(body, "")
	mustContain(t, "upper goal page", body, "<h1>Digitala tjänster för alla</h1>", "Del av inriktningsmålet En hållbar kommun.",
		"<li>erbjuda <strong>e-tjänster</strong></li>", "&lt;script&gt;alert(1)&lt;/script&gt;",
		"2 mål bidrar: 1 uppfyllda, 0 delvis uppfyllda, 1 ej uppfyllda, 0 ej bedömda.",
		"Fler e-tjänster", "E-arkiv</th><td>Service, Intern effektivitet</td>")
	mustNotContain(t, "upper goal page", body, "<script>alert")

	for _, p := range []string{"/program/nope", "/kf-mal/nope"} {
		if code, _, _ := e.get(p); code != http.StatusNotFound {
			t.Errorf("%s = %d, want 404", p, code)
		}
	}

	// The public goal's description is rendered as paragraphs and a list.
	_, _, body = e.get("/")
	mustContain(t, "public page", body, "<p>Vi ska <strong>bli bättre</strong>.</p><ul><li>fler tjänster</li><li>enklare språk</li></ul>")
}

func TestProgrammePagesAreInternal(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{hierarchyStrategy(t)})
	for _, p := range []string{"/program", "/program/digital-service", "/kf-mal", "/kf-mal/kf-1"} {
		if code, _, _ := e.get(p); code != http.StatusUnauthorized {
			t.Errorf("%s without signing in = %d, want 401", p, code)
		}
	}
	_, _, body := e.get("/")
	mustNotContain(t, "public nav", body, `href="/program"`, `href="/kf-mal"`)
}

// TestAPIStrategyUnknownIsNull: in /api/v1/strategy an unknown adoption
// day, budget or outcome is null (or the year alone), never 0 or year 1.
func TestAPIStrategyUnknownIsNull(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{hierarchyStrategy(t)}, openInternal)
	code, _, body := e.get("/api/v1/strategy")
	if code != http.StatusOK {
		t.Fatalf("/api/v1/strategy = %d", code)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(body)); err != nil {
		t.Fatal(err)
	}
	body = buf.String()
	mustContain(t, "strategy API", body, `"adopted":"2012"`, `"decided_by":"kommunfullmäktige"`, `"budget":null`, `"outcome":null`,
		`"upper_goals":[`, `"refs":["arkiv"]`, `{"year":2023,"budget":1000,"outcome":1200}`)
	mustNotContain(t, "strategy API", body, "0001-01-01")
}

// TestPublicTextsRich: the strategy's and its areas' descriptions on / are
// the Markdown subset rendered (paragraphs, lists, bold), not raw "**" and
// "- " as a new user of the ILS example saw them.
func TestPublicTextsRich(t *testing.T) {
	st := testStrategy(t)
	st.Description = strategy.Text{SV: "Planen gäller för **alla nämnder och bolag**:\n\n- nämnderna bedömer\n- kontoret fastställer"}
	st.Areas[0].Description = strategy.Text{SV: "Första stycket.\n\nAndra <b>stycket</b>."}
	e := newEnv(t, []*strategy.Strategy{st})
	_, _, body := e.get("/")
	mustContain(t, "/", body, "<strong>alla nämnder och bolag</strong>", "<li>nämnderna bedömer</li>", "<p>Första stycket.</p>", "&lt;b&gt;stycket&lt;/b&gt;")
	mustNotContain(t, "/", body, "**alla", "<b>stycket")
}
