package dashboards

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/malbild/malbild/internal/browsertest"
	"github.com/malbild/malbild/strategy"
)

// The end-to-end test drives Debian's Chromium (headless) with chromedp
// against the real server over a throwaway ClickHouse: the charts must
// draw, axe-core must find no WCAG 2.1 A/AA violations, the public page
// must be walkable by keyboard, and the Content-Security-Policy must not
// be violated. Screenshots go to a temporary directory (kept when
// MALBILD_SCREENSHOTS names a directory).

// needECharts fails the test, with the fix, when the echarts build was
// not embedded.
func needECharts(t testing.TB) {
	t.Helper()
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	if a.url(echartsAsset) == "" {
		t.Fatalf("dashboards/assets/vendor/echarts.min.js was not embedded: run `make assets` first, then run the tests again")
	}
}

// drawChart scrolls chart container number %d into view and waits until
// its chart is drawn: charts.js marks the container data-drawn when the
// chart is complete (it is made in two tasks, so an svg alone may still
// be empty).
const drawChart = `(async () => {
  const el = document.querySelectorAll("[data-chart]")[%d];
  const drawn = () => el.getAttribute("data-drawn") === "true" && el.querySelector("svg, canvas") !== null;
  if (drawn()) return true;
  el.scrollIntoView({block: "center"});
  await new Promise(resolve => {
    if (drawn()) { resolve(); return; }
    new MutationObserver((_, obs) => { if (drawn()) { obs.disconnect(); resolve(); } })
      .observe(el, {childList: true, subtree: true, attributes: true, attributeFilter: ["data-drawn"]});
  });
  return true;
})()`

// drawAllCharts brings each chart container into view in turn and waits
// for its drawing — one browser step per chart, so the step's failure
// limit bounds one chart, not a page of them on a loaded machine — then
// scrolls back to the top and returns the ids of the containers without a
// chart (none when all went well).
func drawAllCharts(t *testing.T, ctx context.Context) []string {
	t.Helper()
	n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("[data-chart]").length`)
	for i := range n {
		browsertest.Eval[bool](t, ctx, fmt.Sprintf(drawChart, i))
	}
	return browsertest.Eval[[]string](t, ctx, `(() => {
  window.scrollTo(0, 0);
  return Array.from(document.querySelectorAll("[data-chart]")).filter(el => el.getAttribute("data-drawn") !== "true" || el.querySelector("svg, canvas") === null).map(el => el.id);
})()`)
}

func TestBrowser(t *testing.T) {
	needECharts(t)
	st := parseTestStrategy(t, "0999", "Exempelstads kommun", "exempelstad")
	e := newEnv(t, []*strategy.Strategy{st}, openInternal)
	ctx := browsertest.Start(t)

	// axe itself must find a planted violation, or a clean result means
	// nothing.
	browsertest.Navigate(t, ctx, e.http.URL+"/tillganglighet")
	browsertest.Eval[chromedp.Void](t, ctx, `document.querySelector("main").insertAdjacentHTML("beforeend", "<img src='data:,'>")`)
	if vs := browsertest.Axe(t, ctx); len(vs) == 0 || vs[0].ID != "image-alt" {
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
			browsertest.Navigate(t, ctx, e.http.URL+p.path)
			// Every chart container must hold a drawn chart. Charts are
			// drawn as they scroll into view: bring each into view and
			// wait for its drawing itself, not for a time. The test's
			// deadline bounds a chart that never comes.
			charts := drawAllCharts(t, ctx)
			if len(charts) > 0 {
				t.Errorf("%s: charts not drawn: %v", p.path, charts)
			}
			count := browsertest.Eval[int](t, ctx, `document.querySelectorAll("[data-chart] svg, [data-chart] canvas").length`)
			wantCharts := p.name != "followup" && p.name != "accessibility"
			if wantCharts && count == 0 {
				t.Errorf("%s: no charts on the page", p.path)
			}
			for _, width := range []int64{1280, 390} {
				browsertest.Do(t, ctx, fmt.Sprintf("resizing to %d px", width), chromedp.EmulateViewport(width, 900))
				// The charts redraw on the resize event: two animation
				// frames later the page has been laid out and painted.
				browsertest.Eval[bool](t, ctx, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`)
				browsertest.Screenshot(t, ctx, fmt.Sprintf("%s-%d", p.name, width))
			}
			// Page width must fit a phone without sideways scrolling.
			if over := browsertest.Eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth + 1`); over {
				t.Errorf("%s: the page is wider than a 390 px phone screen", p.path)
			}
			browsertest.Do(t, ctx, "resizing to 1280 px", chromedp.EmulateViewport(1280, 900))
			browsertest.CheckAxe(t, ctx, p.path)
			browsertest.CheckPage(t, ctx, p.path)
		})
	}

	t.Run("keyboard", func(t *testing.T) { keyboardWalk(t, ctx, e.http.URL+"/") })
}

// keyboardWalk tabs through the public page: every link, button and
// summary must be reached, each with a visible focus indicator, and the
// first stop must be the skip link, which moves focus to the main content.
func keyboardWalk(t *testing.T, ctx context.Context, url string) {
	browsertest.Navigate(t, ctx, url)
	total := browsertest.Eval[int](t, ctx, `Array.from(document.querySelectorAll("a[href], button, summary, select, input, [tabindex]:not([tabindex='-1'])"))
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
		browsertest.Do(t, ctx, "pressing Tab", chromedp.KeyEvent("\t"))
		s := browsertest.Eval[stop](t, ctx, `(() => {
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
	browsertest.Navigate(t, ctx, url)
	browsertest.Do(t, ctx, "following the skip link", chromedp.KeyEvent("\t"), chromedp.KeyEvent("\r"))
	if id := browsertest.Eval[string](t, ctx, `document.activeElement ? document.activeElement.id : ""`); id != "main" {
		t.Errorf("after the skip link, focus is on %q, want main", id)
	}
}
