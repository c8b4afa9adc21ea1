package dashboards

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/malbild/malbild/examples"
	"github.com/malbild/malbild/internal/browsertest"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

// chartTexts lists the drawn charts' texts that stick out of their chart
// (a clipped label: "ecember 2009"), and all their texts. Texts under a
// clip path (the hidden pages of a scrolling legend) are left out.
const chartTextsJS = `(() => {
  const out = {clipped: [], texts: []};
  for (const el of document.querySelectorAll("[data-chart]")) {
    const box = el.getBoundingClientRect();
    for (const t of el.querySelectorAll("svg text")) {
      const s = t.textContent.trim();
      if (!s || t.closest("[clip-path]")) continue;
      const r = t.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      out.texts.push(s);
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) {
        out.clipped.push(el.id + ": " + JSON.stringify(s) + " at " + Math.round(r.left - box.left) + ".." + Math.round(r.right - box.left) + " of " + Math.round(box.width) + " px");
      }
    }
  }
  return out;
})()`

// hoverChart moves the mouse over the middle of chart id's plot and
// returns the texts echarts adds to the chart's SVG for the tooltip.
const hoverChartJS = `(async id => {
  const el = document.getElementById(id);
  el.scrollIntoView({block: "center"});
  const r = el.getBoundingClientRect();
  const texts = () => Array.from(el.querySelectorAll("svg text")).map(t => t.textContent);
  const before = new Set(texts());
  const target = el.querySelector("svg").parentNode;
  return await new Promise(resolve => {
    const done = () => {
      const added = texts().filter(s => !before.has(s));
      if (added.length > 0) { resolve(added.join(" ")); return true; }
      return false;
    };
    new MutationObserver((_, obs) => { if (done()) obs.disconnect(); }).observe(el, {childList: true, subtree: true, characterData: true});
    target.dispatchEvent(new MouseEvent("mousemove", {bubbles: true, clientX: r.left + r.width * 0.6, clientY: r.top + r.height * 0.45}));
  });
})`

// TestChartsInBrowser draws the charts of the Värmdö strategy with ten
// years of monthly values (the demo's size) at desktop and phone width:
// no chart text sticks out of its chart, Swedish pages write numbers
// with a decimal comma and " %" on their axes and in the tooltip, English
// pages with a point, and target markers are drawn on monthly charts.
func TestChartsInBrowser(t *testing.T) {
	needECharts(t)
	data, file, err := examples.Strategy("varmdo")
	if err != nil {
		t.Fatal(err)
	}
	st, err := strategy.Parse(file, data)
	if err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, openStore(t, chtest.DSN(t)), []*strategy.Strategy{st}, openInternal)
	seedDemoSized(t, e, st)
	ctx := browsertest.Start(t)
	const ind = "/indikator/andel-ansokningar-e-tjanst"
	decimalPoint := regexp.MustCompile(`\d\.\d`)
	decimalComma := regexp.MustCompile(`\d,\d`)
	for _, p := range []struct{ name, path, lang string }{
		{"indicator", ind, "sv"},
		{"indicator-en", ind + "?lang=en", "en"},
		{"public", "/", "sv"},
		{"leadership", "/ledning", "sv"},
	} {
		t.Run(p.name, func(t *testing.T) {
			for _, width := range []int64{1280, 390} {
				browsertest.Do(t, ctx, fmt.Sprintf("resizing to %d px", width), chromedp.EmulateViewport(width, 900))
				browsertest.Navigate(t, ctx, e.http.URL+p.path)
				if left := drawAllCharts(t, ctx); len(left) > 0 {
					t.Fatalf("charts not drawn: %v", left)
				}
				browsertest.Screenshot(t, ctx, fmt.Sprintf("charts-%s-%d", p.name, width))
				if dir := os.Getenv("MALBILD_SCREENSHOTS"); dir != "" {
					// The screen around the first chart, to look at.
					browsertest.Eval[bool](t, ctx, `(document.querySelector("[data-chart]").scrollIntoView({block: "center"}), new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true)))))`)
					png := browsertest.Run(t, ctx, "a screenshot of the first chart", chromedp.CaptureScreenshot())
					if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("chart-%s-%d.png", p.name, width)), png, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				type texts struct {
					Clipped []string `json:"clipped"`
					Texts   []string `json:"texts"`
				}
				got := browsertest.Eval[texts](t, ctx, chartTextsJS)
				for _, c := range got.Clipped {
					t.Errorf("%d px: chart text cut at the edge: %s", width, c)
				}
				all := strings.Join(got.Texts, " | ")
				if p.lang == "sv" && decimalPoint.MatchString(all) {
					t.Errorf("%d px: a decimal point on a Swedish page's charts: %.400s", width, all)
				}
				if p.lang == "en" && decimalComma.MatchString(all) {
					t.Errorf("%d px: a decimal comma on an English page's charts: %.400s", width, all)
				}
				if p.name == "indicator" && !strings.Contains(all, "0\u00a0%") {
					t.Errorf("%d px: the percent axis has no labels like \"90 %%\": %.400s", width, all)
				}
				if p.name == "indicator-en" && (!strings.Contains(all, "0%") || strings.Contains(all, "0\u00a0%")) {
					t.Errorf("%d px: the English percent axis has no labels like \"90%%\": %.400s", width, all)
				}
			}
			if !strings.HasPrefix(p.name, "indicator") {
				return
			}
			id := "diagram-andel-ansokningar-e-tjanst"
			tip := browsertest.Eval[string](t, ctx, `(`+hoverChartJS+`)("`+id+`")`)
			switch {
			case p.lang == "sv" && (!regexp.MustCompile(`\d,\d\d?\x{a0}%`).MatchString(tip) || decimalPoint.MatchString(tip)):
				t.Errorf("Swedish tooltip %q: want values like \"63,4 %%\"", tip)
			case p.lang == "en" && (!regexp.MustCompile(`\d\.\d\d?%`).MatchString(tip) || decimalComma.MatchString(tip)):
				t.Errorf("English tooltip %q: want values like \"63.4%%\"", tip)
			}
			browsertest.CheckPage(t, ctx, p.path)
		})
	}
}
