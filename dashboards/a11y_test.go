package dashboards

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/malbild/malbild/internal/browsertest"
	"github.com/malbild/malbild/strategy"
)

// focusContrastJS reports the focused element: the contrast of its text
// against its background and of its focus indicator (outline or ring,
// whichever stands out more) against what surrounds it. Backgrounds are
// the first opaque background colour up the tree (white at the top).
const focusContrastJS = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {key: ""};
  const rgb = s => { const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(s || ""); return m ? {r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4]} : null; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const bg = node => { for (let n = node; n && n.nodeType === 1; n = n.parentElement) { const c = rgb(getComputedStyle(n).backgroundColor); if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const cs = getComputedStyle(el);
  const own = bg(el), around = bg(el.parentElement);
  const text = el.textContent.trim() !== "" ? ratio(rgb(cs.color), own) : 99;
  let ring = 0;
  const outline = rgb(cs.outlineColor);
  if (cs.outlineStyle !== "none" && outline) ring = Math.max(ring, ratio(outline, around));
  const shadow = rgb(cs.boxShadow);
  if (cs.boxShadow !== "none" && shadow) ring = Math.max(ring, ratio(shadow, around));
  const key = el.tagName + " " + (el.getAttribute("href") || el.getAttribute("aria-label") || "") + " " + el.textContent.trim().slice(0, 30);
  return {key: key, text: text, ring: ring};
})()`

// TestFocusContrast tabs through the pages: every focused element's text
// has at least 4.5:1 contrast against its background (a focused link in
// the header had about 1.4:1: white on yellow), and its focus indicator
// at least 4.5:1 against its surroundings.
func TestFocusContrast(t *testing.T) {
	needECharts(t)
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal)
	ctx := browsertest.Start(t)
	type stop struct {
		Key  string  `json:"key"`
		Text float64 `json:"text"`
		Ring float64 `json:"ring"`
	}
	for _, p := range []string{"/", "/?lang=en", "/ledning", "/indikator/andel-digitala", "/uppfoljning", "/tillganglighet"} {
		browsertest.Navigate(t, ctx, e.http.URL+p)
		n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("a[href], button, summary, select, input, [tabindex]:not([tabindex='-1'])").length`)
		seen := map[string]bool{}
		for i := 0; i < n+2; i++ {
			browsertest.Do(t, ctx, "pressing Tab", chromedp.KeyEvent("\t"))
			s := browsertest.Eval[stop](t, ctx, focusContrastJS)
			if s.Key == "" || seen[s.Key] {
				continue
			}
			seen[s.Key] = true
			if s.Text < 4.5 {
				t.Errorf("%s: focused %q: text contrast %.2f:1, want at least 4.5:1", p, s.Key, s.Text)
			}
			if s.Ring < 4.5 {
				t.Errorf("%s: focused %q: focus indicator contrast %.2f:1, want at least 4.5:1", p, s.Key, s.Ring)
			}
		}
		if len(seen) == 0 {
			t.Errorf("%s: Tab reached nothing", p)
		}
		t.Logf("%s: %d focus stops checked", p, len(seen))
	}
}

// TestLangOfFallbackTexts: on the English indicator page, strategy texts
// without an English version are shown in Swedish and marked lang="sv".
func TestLangOfFallbackTexts(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)})
	st := testStrategy(t)
	ind := st.Indicator("andel-digitala")
	if ind.Method.EN != "" || ind.Method.SV == "" {
		t.Fatalf("the test strategy's method of andel-digitala should be Swedish only: %+v", ind.Method)
	}
	_, _, body := e.get("/indikator/andel-digitala?lang=en")
	mustContain(t, "English indicator page", body, fmt.Sprintf(`<dd lang="sv">%s</dd>`, ind.Method.SV))
	_, _, body = e.get("/indikator/andel-digitala")
	if strings.Count(body, ` lang="sv"`) != 1 { // <html lang="sv">
		t.Error(`the Swedish page marks Swedish text with lang="sv"`)
	}
}
