package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/malbild/malbild/strategy"
)

// The end-to-end test drives Debian's Chromium (headless) with chromedp
// against the real server over a throwaway ClickHouse: the charts must
// draw, axe-core must find no WCAG 2.1 A/AA violations, the public page
// must be walkable by keyboard, and the Content-Security-Policy must not
// be violated. Screenshots go to a temporary directory (kept when
// MALBILD_SCREENSHOTS names a directory).

const chromiumPath = "/usr/bin/chromium"

// webDir is dashboards/web, where `make assets` installs the npm packages.
func webDir(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "web")
}

// needAssets fails the test, with the fix, when the npm packages or the
// embedded echarts build are missing.
func needAssets(t testing.TB) string {
	t.Helper()
	axe, err := os.ReadFile(filepath.Join(webDir(t), "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run `make assets` first (it runs npm ci in dashboards/web and copies echarts into dashboards/assets/vendor)", err)
	}
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	if a.url(echartsAsset) == "" {
		t.Fatalf("dashboards/assets/vendor/echarts.min.js was not embedded: run `make assets` first, then run the tests again")
	}
	return string(axe)
}

// browser starts headless Chromium with a fresh profile.
func browser(t testing.TB) context.Context {
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
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	// Start the browser now, without a timeout (a timeout on the first
	// run would stop the whole browser), and record CSP violations and
	// script errors on every page.
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: `
window.__violations = [];
window.__errors = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
window.addEventListener("error", function (e) { window.__errors.push(String(e.message)); });
window.alert = function () { window.__alerted = true; };
`})
		return err
	}))
	if err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// screenshotDir is where screenshots go.
func screenshotDir(t testing.TB) string {
	if d := os.Getenv("MALBILD_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %.60q: %v", js, err)
	}
	return v
}

func navigate(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("loading %s: %v", url, err)
	}
}

type axeViolation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// runAxe runs axe-core on the loaded page for WCAG 2.1 A and AA.
func runAxe(t testing.TB, ctx context.Context, axe string) []axeViolation {
	t.Helper()
	eval[chromedp.Void](t, ctx, axe)
	raw := eval[[]byte](t, ctx, `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]}).then(r => r.violations)`)
	var vs []axeViolation
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatalf("reading axe results: %v", err)
	}
	return vs
}

func TestBrowser(t *testing.T) {
	axe := needAssets(t)
	st := parseTestStrategy(t, "0999", "Exempelstads kommun", "exempelstad")
	e := newEnv(t, []*strategy.Strategy{st}, openInternal)
	ctx := browser(t)
	shots := screenshotDir(t)

	// axe itself must find a planted violation, or a clean result means
	// nothing.
	navigate(t, ctx, e.http.URL+"/tillganglighet")
	eval[chromedp.Void](t, ctx, `document.querySelector("main").insertAdjacentHTML("beforeend", "<img src='data:,'>")`)
	if vs := runAxe(t, ctx, axe); len(vs) == 0 || vs[0].ID != "image-alt" {
		t.Fatalf("axe did not report an image without alt text: %+v", vs)
	}

	pages := []struct{ name, path string }{
		{"public", "/"},
		{"public-en", "/?lang=en"},
		{"leadership", "/ledning"},
		{"indicator", "/indikator/andel-digitala"},
		{"followup", "/uppfoljning"},
		{"accessibility", "/tillganglighet"},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			navigate(t, ctx, e.http.URL+p.path)
			// Every chart container must hold a drawn chart.
			charts := eval[[]string](t, ctx, `new Promise(resolve => {
  const check = () => Array.from(document.querySelectorAll("[data-chart]"))
    .filter(el => !el.querySelector("svg, canvas")).map(el => el.id);
  let n = 0;
  const tick = () => { const left = check(); if (left.length === 0 || ++n > 50) resolve(left); else setTimeout(tick, 100); };
  tick();
})`)
			if len(charts) > 0 {
				t.Errorf("%s: charts not drawn: %v", p.path, charts)
			}
			count := eval[int](t, ctx, `document.querySelectorAll("[data-chart] svg, [data-chart] canvas").length`)
			wantCharts := p.name != "followup" && p.name != "accessibility"
			if wantCharts && count == 0 {
				t.Errorf("%s: no charts on the page", p.path)
			}
			for _, width := range []int64{1280, 390} {
				shot := func() []byte {
					cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					defer cancel()
					if err := chromedp.Do(cctx, chromedp.EmulateViewport(width, 900)); err != nil {
						t.Fatal(err)
					}
					time.Sleep(300 * time.Millisecond) // let the charts resize
					b, err := chromedp.Run(cctx, chromedp.FullScreenshot(100))
					if err != nil {
						t.Fatal(err)
					}
					return b
				}()
				file := filepath.Join(shots, fmt.Sprintf("%s-%d.png", p.name, width))
				if err := os.WriteFile(file, shot, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("screenshot: %s", file)
			}
			// Page width must fit a phone without sideways scrolling.
			if over := eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth + 1`); over {
				t.Errorf("%s: the page is wider than a 390 px phone screen", p.path)
			}
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
				t.Fatal(err)
			}
			for _, v := range runAxe(t, ctx, axe) {
				var where []string
				for _, n := range v.Nodes {
					where = append(where, fmt.Sprint(n.Target)+" "+n.HTML)
				}
				t.Errorf("%s: axe %s: %s\n  %s", p.path, v.ID, v.Help, strings.Join(where, "\n  "))
			}
			if vs := eval[[]string](t, ctx, `window.__violations`); len(vs) > 0 {
				t.Errorf("%s: Content-Security-Policy violations: %v", p.path, vs)
			}
			if es := eval[[]string](t, ctx, `window.__errors`); len(es) > 0 {
				t.Errorf("%s: script errors: %v", p.path, es)
			}
			if alerted := eval[bool](t, ctx, `typeof window.__alerted !== "undefined"`); alerted {
				t.Errorf("%s: injected script ran", p.path)
			}
		})
	}

	t.Run("keyboard", func(t *testing.T) { keyboardWalk(t, ctx, e.http.URL+"/") })
}

// keyboardWalk tabs through the public page: every link, button and
// summary must be reached, each with a visible focus indicator, and the
// first stop must be the skip link, which moves focus to the main content.
func keyboardWalk(t *testing.T, ctx context.Context, url string) {
	navigate(t, ctx, url)
	total := eval[int](t, ctx, `Array.from(document.querySelectorAll("a[href], button, summary, select, input, [tabindex]:not([tabindex='-1'])"))
  .filter(el => !el.hidden && el.getClientRects().length > 0 && !el.closest("details:not([open]) > :not(summary)")).length`)
	if total == 0 {
		t.Fatal("no interactive elements on the public page")
	}
	type stop struct {
		Key     string `json:"key"`
		Visible bool   `json:"visible"`
	}
	seen := map[string]bool{}
	var first string
	for i := 0; i < total+5; i++ {
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		s := eval[stop](t, ctx, `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {key: "", visible: false};
  const cs = getComputedStyle(el);
  const visible = (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2) || cs.boxShadow !== "none";
  const key = Array.from(document.querySelectorAll("*")).indexOf(el) + " " + el.tagName + " " + (el.getAttribute("href") || "") + " " + el.textContent.trim().slice(0, 40);
  return {key: key, visible: visible};
})()`)
		if s.Key == "" {
			continue
		}
		if first == "" {
			first = s.Key
		}
		if !s.Visible {
			t.Errorf("focus is not visible on %q", s.Key)
		}
		seen[s.Key] = true
	}
	if !strings.Contains(first, "#main") {
		t.Errorf("the first Tab stop is %q, want the skip link to #main", first)
	}
	if len(seen) < total {
		t.Errorf("Tab reached %d distinct elements, the page has %d interactive ones", len(seen), total)
	}
	// The skip link moves focus to the main content.
	navigate(t, ctx, url)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t"), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	if id := eval[string](t, ctx, `document.activeElement ? document.activeElement.id : ""`); id != "main" {
		t.Errorf("after the skip link, focus is on %q, want main", id)
	}
}
