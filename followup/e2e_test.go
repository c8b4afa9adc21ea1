package followup

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/malbild/malbild/strategy"
)

const chromiumPath = "/usr/bin/chromium"

// startBrowser starts Debian's headless Chromium with a fresh profile and
// records Content-Security-Policy violations and script errors on every
// page it loads.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium is not installed at %s (apt-get install chromium): %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	err := chromedp.Do(ctx, chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: `
window.__violations = [];
window.__errors = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
window.addEventListener("error", function (e) { window.__errors.push(String(e.message)); });
`})
		return chromedp.Void{}, err
	}))
	if err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// step runs browser actions with a timeout, failing the test with what
// was being done.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkPage fails on CSP violations and script errors on the loaded page.
func checkPage(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if v := run(t, ctx, chromedp.Evaluate[[]string](`window.__violations`)); len(v) > 0 {
		t.Errorf("%s: Content-Security-Policy violations: %v", name, v)
	}
	if v := run(t, ctx, chromedp.Evaluate[[]string](`window.__errors`)); len(v) > 0 {
		t.Errorf("%s: script errors: %v", name, v)
	}
}

// axeSource is axe-core, installed by `make assets` for the dashboards'
// accessibility tests.
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../dashboards/web/node_modules/axe-core/axe.min.js")
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run `make assets` first", err)
	}
	return string(b)
}

// checkAxe runs axe-core for WCAG 2.1 A and AA on the loaded page.
func checkAxe(t *testing.T, ctx context.Context, axe, name string) {
	t.Helper()
	run(t, ctx, chromedp.Evaluate[chromedp.Void](axe))
	raw := run(t, ctx, chromedp.Evaluate[[]byte](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]}).then(r => r.violations)`, chromedp.EvalAwaitPromise))
	var vs []struct {
		ID    string `json:"id"`
		Help  string `json:"help"`
		Nodes []struct {
			HTML string `json:"html"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatalf("reading axe results: %v", err)
	}
	for _, v := range vs {
		var nodes []string
		for _, n := range v.Nodes {
			nodes = append(nodes, n.HTML)
		}
		t.Errorf("%s: axe %s (%s): %v", name, v.ID, v.Help, nodes)
	}
}

// TestBrowserAccessibility runs axe-core over every page of the workflow,
// signed in as an admin, with data on them.
func TestBrowserAccessibility(t *testing.T) {
	e := newEnv(t)
	axe := axeSource(t)
	anna := e.login("anna")
	anna.post("/uppfoljning/mal/ansokningar/2025-T1", formOf("partly", "met", "Kommentar", "bekrafta", 0, true))
	anna.post("/uppfoljning/indikator/andel-digitala/varde", url.Values{"period": {"2025-05"}, "varde": {"61"}, "kommentar": {"k"}, "bas": {"0"}, "tillbaka": {"2025-T1"}})
	ctx := startBrowser(t)
	base := e.srv.URL
	step(t, ctx, "opening the sign-in page", chromedp.Navigate(base+"/logga-in"), chromedp.WaitVisible(chromedp.ID("namn")))
	checkAxe(t, ctx, axe, "sign-in page")
	step(t, ctx, "signing in",
		chromedp.SendKeys(chromedp.ID("namn"), "anna"),
		chromedp.SendKeys(chromedp.ID("losenord"), testPassword),
		chromedp.Click(chromedp.CSS(`form.fu-login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.fu-bar`)),
	)
	for _, p := range []string{"/uppfoljning/rapport", "/uppfoljning/rapport/2025-T1", "/uppfoljning/mal/ansokningar/2025-T1",
		"/uppfoljning/indikator/andel-digitala/2025-T1?varde=2025-05", "/uppfoljning/rapport/2025-T1/utskrift",
		"/uppfoljning/uppladdning", "/uppfoljning/logg", "/uppfoljning/anvandare", "/uppfoljning/rapport/2025-T1?lang=en"} {
		step(t, ctx, "opening "+p, chromedp.Navigate(base+p), chromedp.WaitReady(chromedp.CSS("main")))
		checkAxe(t, ctx, axe, p)
		checkPage(t, ctx, p)
	}
}

// TestBrowserFollowup signs in with the form, confirms a goal's
// assessment with a comment, closes the period and finds the comment on
// the public page — all through headless Chromium, without any script of
// the workflow's own.
func TestBrowserFollowup(t *testing.T) {
	e := newEnv(t)
	ctx := startBrowser(t)
	base := e.srv.URL
	const comment = "Webbläsaren bekräftar: stadigt framåt, Älgen."

	// An internal page sends us to sign in, and back afterwards.
	step(t, ctx, "opening the follow-up", chromedp.Navigate(base+"/uppfoljning/rapport/2025-T1"), chromedp.WaitVisible(chromedp.ID("namn")))
	if loc := run(t, ctx, chromedp.Location()); !strings.Contains(loc, "/logga-in?next=") {
		t.Fatalf("not sent to sign in: %s", loc)
	}
	checkPage(t, ctx, "sign-in page")
	step(t, ctx, "signing in",
		chromedp.SendKeys(chromedp.ID("namn"), "anna"),
		chromedp.SendKeys(chromedp.ID("losenord"), testPassword),
		chromedp.Click(chromedp.CSS(`form.fu-login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("klar")),
	)
	if loc := run(t, ctx, chromedp.Location()); loc != base+"/uppfoljning/rapport/2025-T1" {
		t.Fatalf("after sign-in at %s", loc)
	}
	checkPage(t, ctx, "work list")

	// Assess the goal: partly met, a forecast, the comment, ready; confirm.
	step(t, ctx, "opening the goal",
		chromedp.Click(chromedp.CSS(`#rad-ansokningar a`)),
		chromedp.WaitVisible(chromedp.ID("kommentar")),
		chromedp.Click(chromedp.ID("niva-partly")),
		chromedp.Click(chromedp.ID("prognos-met")),
		chromedp.SendKeys(chromedp.ID("kommentar"), comment),
		chromedp.Click(chromedp.ID("klar")),
	)
	checkPage(t, ctx, "goal form")
	step(t, ctx, "confirming",
		chromedp.Click(chromedp.CSS(`button[value=bekrafta]`)),
		chromedp.WaitVisible(chromedp.CSS(`.fu-flash`)),
	)
	as := e.assessments(true)
	if len(as) != 1 || as[0].SubjectID != "ansokningar" || as[0].Comment != comment || !as[0].Ready || as[0].Level != strategy.LevelPartly ||
		as[0].Forecast != strategy.LevelMet || as[0].Author != "anna" {
		t.Fatalf("stored = %+v", as)
	}

	// Close the period from the work list.
	step(t, ctx, "closing the period",
		chromedp.Click(chromedp.CSS(`form[action$="/stang"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.fu-notice.closed`)),
	)
	states, err := e.store.PeriodStates(context.Background(), tenant)
	if err != nil || len(states) != 1 || !states[0].Closed || states[0].Actor != "anna" {
		t.Fatalf("period states = %+v (%v)", states, err)
	}
	checkPage(t, ctx, "closed work list")

	// The public page shows the confirmed comment.
	found := false
	for i := 0; i < 100 && !found; i++ {
		step(t, ctx, "opening the public page", chromedp.Navigate(base+"/"), chromedp.WaitReady(chromedp.CSS("main")))
		text := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
		found = strings.Contains(text, comment)
		if !found {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !found {
		t.Fatal("the confirmed comment never reached the public page")
	}
	checkPage(t, ctx, "public page")

	// The period report prints on A4: a cover page, the summary, then one
	// goal area per page.
	step(t, ctx, "opening the printable report", chromedp.Navigate(base+"/uppfoljning/rapport/2025-T1/utskrift"), chromedp.WaitVisible(chromedp.CSS(".fu-cover")))
	checkPage(t, ctx, "printable report")
	pdf := run(t, ctx, chromedp.Action[[]byte](func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
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
	step(t, ctx, "signing out",
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
