package followup

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/malbild/malbild/internal/browsertest"
	"github.com/malbild/malbild/strategy"
)

// TestBrowserAccessibility runs axe-core over every page of the workflow,
// signed in as an admin, with data on them.
func TestBrowserAccessibility(t *testing.T) {
	e := newEnv(t)
	anna := e.login("anna")
	anna.post("/uppfoljning/mal/ansokningar/2025-T1", formOf("partly", "met", "Kommentar", "bekrafta", 0, true))
	anna.post("/uppfoljning/indikator/andel-digitala/varde", url.Values{"period": {"2025-05"}, "varde": {"61"}, "kommentar": {"k"}, "bas": {"0"}, "tillbaka": {"2025-T1"}})
	// Enough values by department for the value list to come in pages.
	var obs []strategy.Observation
	for d := range 120 {
		obs = append(obs, strategy.Observation{Tenant: tenant, Indicator: "andel-digitala", Period: strategy.Period{Kind: strategy.Month, Year: 2025, N: 4},
			Dimension: strategy.Dimension{Kind: "department", Value: "Förvaltning " + strconv.Itoa(d)}, Value: float64(d % 100), Source: SourceUpload, Author: "anna"})
	}
	if err := e.store.WriteObservations(context.Background(), obs); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.Start(t)
	base := e.srv.URL
	browsertest.Navigate(t, ctx, base+"/logga-in", chromedp.WaitVisible(chromedp.ID("namn")))
	browsertest.CheckAxe(t, ctx, "sign-in page")
	browsertest.Do(t, ctx, "signing in",
		chromedp.SendKeys(chromedp.ID("namn"), "anna"),
		chromedp.SendKeys(chromedp.ID("losenord"), testPassword),
		chromedp.Click(chromedp.CSS(`form.fu-login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.fu-bar`)),
	)
	for _, p := range []string{"/uppfoljning/rapport", "/uppfoljning/rapport/2025-T1", "/uppfoljning/mal/ansokningar/2025-T1",
		"/uppfoljning/indikator/andel-digitala/2025-T1?varde=2025-05", "/uppfoljning/rapport/2025-T1/utskrift",
		"/uppfoljning/uppladdning", "/uppfoljning/logg", "/uppfoljning/anvandare", "/uppfoljning/rapport/2025-T1?lang=en",
		"/uppfoljning/rapport/2025-T1/stang", "/uppfoljning/indikator/andel-digitala/2025-T1?sida=2"} {
		browsertest.Navigate(t, ctx, base+p, chromedp.WaitReady(chromedp.CSS("main")))
		browsertest.CheckAxe(t, ctx, p)
		browsertest.CheckPage(t, ctx, p)
	}
}

// TestBrowserFollowup signs in with the form, confirms a goal's
// assessment with a comment, closes the period and finds the comment on
// the public page — all through headless Chromium, without any script of
// the workflow's own.
func TestBrowserFollowup(t *testing.T) {
	e := newEnv(t)
	ctx := browsertest.Start(t)
	base := e.srv.URL
	const comment = "Webbläsaren bekräftar: stadigt framåt, Älgen."

	// An internal page sends us to sign in, and back afterwards.
	browsertest.Navigate(t, ctx, base+"/uppfoljning/rapport/2025-T1", chromedp.WaitVisible(chromedp.ID("namn")))
	if loc := browsertest.Run(t, ctx, "reading the location", chromedp.Location()); !strings.Contains(loc, "/logga-in?next=") {
		t.Fatalf("not sent to sign in: %s", loc)
	}
	browsertest.CheckPage(t, ctx, "sign-in page")
	browsertest.Do(t, ctx, "signing in",
		chromedp.SendKeys(chromedp.ID("namn"), "anna"),
		chromedp.SendKeys(chromedp.ID("losenord"), testPassword),
		chromedp.Click(chromedp.CSS(`form.fu-login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("klar")),
	)
	if loc := browsertest.Run(t, ctx, "reading the location", chromedp.Location()); loc != base+"/uppfoljning/rapport/2025-T1" {
		t.Fatalf("after sign-in at %s", loc)
	}
	browsertest.CheckPage(t, ctx, "work list")

	// Assess the goal: partly met, a forecast, the comment, ready; confirm.
	browsertest.Do(t, ctx, "opening the goal",
		chromedp.Click(chromedp.CSS(`#rad-ansokningar a`)),
		chromedp.WaitVisible(chromedp.ID("kommentar")),
		chromedp.Click(chromedp.ID("niva-partly")),
		chromedp.Click(chromedp.ID("prognos-met")),
		chromedp.SendKeys(chromedp.ID("kommentar"), comment),
		chromedp.Click(chromedp.ID("klar")),
	)
	browsertest.CheckPage(t, ctx, "goal form")
	browsertest.Do(t, ctx, "confirming",
		chromedp.Click(chromedp.CSS(`button[value=bekrafta]`)),
		chromedp.WaitVisible(chromedp.CSS(`.fu-flash`)),
	)
	as := e.assessments(true)
	if len(as) != 1 || as[0].SubjectID != "ansokningar" || as[0].Comment != comment || !as[0].Ready || as[0].Level != strategy.LevelPartly ||
		as[0].Forecast != strategy.LevelMet || as[0].Author != "anna" {
		t.Fatalf("stored = %+v", as)
	}

	// Close the period from the work list: four of five are not ready, so
	// a secondary button leads to a step that says what is missing.
	browsertest.Do(t, ctx, "asking to close the period",
		chromedp.Click(chromedp.CSS(`a.fu-button.secondary[href$="/stang"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/stang"] button`)),
	)
	if text := browsertest.Eval[string](t, ctx, `document.querySelector("main").innerText`); !strings.Contains(text, "4 av 5 mål och indikatorer är inte klarmarkerade") {
		t.Errorf("the confirmation step does not say what is missing:\n%s", text)
	}
	browsertest.CheckPage(t, ctx, "close confirmation")
	browsertest.Do(t, ctx, "closing the period",
		chromedp.Click(chromedp.CSS(`form[action$="/stang"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.fu-notice.closed`)),
	)
	states, err := e.store.PeriodStates(context.Background(), tenant)
	if err != nil || len(states) != 1 || !states[0].Closed || states[0].Actor != "anna" {
		t.Fatalf("period states = %+v (%v)", states, err)
	}
	browsertest.CheckPage(t, ctx, "closed work list")

	// The public page shows the confirmed comment at once: the write told
	// the dashboards (Site.Changed).
	browsertest.Navigate(t, ctx, base+"/", chromedp.WaitReady(chromedp.CSS("main")))
	if text := browsertest.Eval[string](t, ctx, `document.querySelector("main").innerText`); !strings.Contains(text, comment) {
		t.Fatal("the confirmed comment is not on the public page")
	}
	browsertest.CheckPage(t, ctx, "public page")

	// The period report prints on A4: a cover page, the summary, then one
	// goal area per page.
	browsertest.Navigate(t, ctx, base+"/uppfoljning/rapport/2025-T1/utskrift", chromedp.WaitVisible(chromedp.CSS(".fu-cover")))
	browsertest.CheckPage(t, ctx, "printable report")
	pdf := browsertest.Run(t, ctx, "printing the report", chromedp.Action[[]byte](func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		prefer := true
		res, err := cdp.Call(ctx, tg, cdppage.PrintToPDF, cdppage.PrintToPDFParams{PreferCSSPageSize: &prefer})
		if err != nil {
			return nil, err
		}
		return res.Data, nil
	}))
	pages := 0
	for _, m := range regexp.MustCompile(`/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b`).FindAllSubmatch(pdf, -1) {
		n, _ := strconv.Atoi(string(m[1]) + string(m[2]))
		pages = max(pages, n)
	}
	if pages != 4 {
		t.Errorf("the printed report has %d pages, want 4 (cover, summary, two goal areas)", pages)
	}
	if !regexp.MustCompile(`/MediaBox\s*\[\s*0\s+0\s+59[45](\.\d+)?\s+84[12](\.\d+)?\s*\]`).Match(pdf) {
		t.Error("the printed report is not A4")
	}

	// Signing out: the internal page asks for a sign-in again.
	browsertest.Do(t, ctx, "signing out",
		chromedp.Navigate(base+"/uppfoljning/rapport"),
		chromedp.Click(chromedp.CSS(`form.fu-logout button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form.fu-logout`)),
		chromedp.Navigate(base+"/uppfoljning/rapport"),
		chromedp.WaitVisible(chromedp.ID("namn")),
	)
	got := strings.Join(e.writes(), " ")
	if got != "assessment.ready period.close" {
		t.Errorf("audit = %s", got)
	}
}
