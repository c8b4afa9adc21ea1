package dashboards

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/malbild/malbild/examples"
	"github.com/malbild/malbild/internal/browsertest"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

// Weight of the pages (issue 13, item 8): the echarts bundle holds only
// what the charts use, and the public page of a demo-sized strategy stays
// under 1 500 elements.

// TestEChartsBundle checks that the embedded echarts is the tree-shaken
// bundle of dashboards/web/echarts-entry.js: line, bar and radar series
// drawn as SVG, and none of the chart types, components or renderers the
// pages never use (each marker below is in the full echarts.min.js).
func TestEChartsBundle(t *testing.T) {
	needECharts(t)
	raw, err := assetFS.ReadFile("assets/" + echartsAsset)
	if err != nil {
		t.Fatal(err)
	}
	js := string(raw)
	// V8 compiles the bundle's functions while it streams in, not on
	// first call in the task drawing the first chart.
	if !strings.HasPrefix(js, "//# allFunctionsCalledOnLoad\n") {
		t.Errorf("the echarts bundle does not start with V8's compile hint //# allFunctionsCalledOnLoad (run `make assets`): %.40q", js)
	}
	for _, want := range []string{`series.line`, `registerPainter("svg"`, `"legend.scroll"`} {
		if !strings.Contains(js, want) {
			t.Errorf("the echarts bundle lacks %q, which the charts need", want)
		}
	}
	for _, unused := range []string{`series.gauge`, `series.scatter`, `series.heatmap`, `registerPainter("canvas"`} {
		if strings.Contains(js, unused) {
			t.Errorf("the echarts bundle contains %q: it is not the tree-shaken build of dashboards/web/echarts-entry.js (run `make assets`)", unused)
		}
	}
	// The full echarts.min.js 6.1 is 1 121 883 bytes; the charts, the
	// components and the SVG renderer of the pages take about half.
	const limit = 600_000
	if len(raw) > limit {
		t.Errorf("the echarts bundle is %d bytes, want at most %d", len(raw), limit)
	}
}

// seedDemoSized writes ten and a half years of monthly values for every
// indicator of st, as the demo's collectors do for Värmdö: the largest
// tables and charts the public page gets from an example strategy.
func seedDemoSized(t testing.TB, e *env, st *strategy.Strategy) {
	t.Helper()
	rec := time.Date(2025, 6, 1, 8, 0, 0, 0, strategy.Stockholm)
	var obs []strategy.Observation
	for k, ind := range st.Indicators() {
		p := strategy.Period{Kind: strategy.Month, Year: 2014, N: 12}
		for i := 0; i < 126; i++ {
			v := 20 + float64((i*7+k*13)%60) + float64(i)/10
			obs = append(obs, strategy.Observation{Tenant: st.Municipality.Code, Indicator: ind.ID, Period: p, Value: v, Source: "test", Recorded: rec})
			p = p.Next()
		}
	}
	if err := e.store.WriteObservations(context.Background(), obs); err != nil {
		t.Fatal(err)
	}
}

// perTaskProbe wraps echarts.init (now, or when the bundle arrives) to
// count the charts made in one task: a counter that a microtask resets,
// and microtasks run when the task's code has returned. It also counts
// the charts whose options were set in the task that made them (charts.js
// makes a chart in one task and draws it in the next, so neither is a
// long task on a phone), and the Intl.NumberFormat objects built (none:
// the number format comes as data; building the first one is slow).
const perTaskProbe = `(() => {
  window.__inits = 0; window.__maxPerTask = 0; window.__drawnInInitTask = 0; window.__numberFormats = 0;
  let inTask = 0;
  const NF = Intl.NumberFormat;
  Intl.NumberFormat = function () { window.__numberFormats++; return new NF(...arguments); };
  const wrap = ec => {
    const init = ec.init;
    ec.init = function () {
      window.__inits++;
      inTask++;
      window.__maxPerTask = Math.max(window.__maxPerTask, inTask);
      if (inTask === 1) queueMicrotask(() => { inTask = 0; });
      const chart = init.apply(this, arguments);
      let sameTask = true;
      queueMicrotask(() => { sameTask = false; });
      const setOption = chart.setOption;
      chart.setOption = function () {
        if (sameTask) window.__drawnInInitTask++;
        return setOption.apply(this, arguments);
      };
      return chart;
    };
    return ec;
  };
  if (window.echarts) { wrap(window.echarts); return; }
  let ec;
  Object.defineProperty(window, "echarts", {configurable: true, get: () => ec, set: v => { ec = wrap(v); }});
})()`

// countElements is the number of elements of the loaded page.
const countElements = `document.querySelectorAll("*").length`

func TestPublicPageElements(t *testing.T) {
	needECharts(t)
	data, file, err := examples.Strategy("varmdo")
	if err != nil {
		t.Fatal(err)
	}
	st, err := strategy.Parse(file, data)
	if err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, openStore(t, chtest.DSN(t)), []*strategy.Strategy{st})
	seedDemoSized(t, e, st)
	ctx := browsertest.Start(t)
	browsertest.Navigate(t, ctx, e.http.URL+"/")
	// A chart's box has its height from the start, whatever class
	// charts.js gives the page: boxes that appeared only once the
	// deferred script ran moved the tables below them (a layout shift).
	// Without JavaScript a stylesheet in a <noscript> hides them.
	if h := browsertest.Eval[int](t, ctx, `(() => {
  const el = document.querySelector("[data-chart]");
  document.documentElement.className = "no-js";
  const h = el.getBoundingClientRect().height;
  document.documentElement.className = "js";
  return Math.round(h);
})()`); h < 100 {
		t.Errorf("a chart box is %d px high on a page marked no-js; want its height kept (hiding it until charts.js runs shifts the layout)", h)
	}
	if !browsertest.Eval[bool](t, ctx, `Array.from(document.head.querySelectorAll("noscript")).some(n => /noscript\.css/.test(n.textContent))`) {
		t.Error("the page's <head> has no <noscript> stylesheet hiding the charts without JavaScript")
	}
	const limit = 1500
	if n := browsertest.Eval[int](t, ctx, countElements); n >= limit {
		t.Errorf("/ has %d elements after loading, want fewer than %d", n, limit)
	}
	// Charts are drawn as they scroll into view: the last one is far
	// below the first screen, so it is not drawn before the reader gets
	// there.
	if drawn := browsertest.Eval[bool](t, ctx, `(() => { const all = document.querySelectorAll("[data-chart]"); return all.length > 0 && all[all.length-1].querySelector("svg, canvas") !== null; })()`); drawn {
		t.Error("the last chart of / was drawn before it came into view")
	}
	// One chart per task: count the charts echarts.init makes before the
	// task's microtasks run. A screen tall enough to show every chart at
	// once puts them all in the queue together.
	browsertest.Eval[chromedp.Void](t, ctx, perTaskProbe)
	browsertest.Do(t, ctx, "showing every chart at once", chromedp.EmulateViewport(1280, 40000))
	if left := drawAllCharts(t, ctx); len(left) > 0 {
		t.Fatalf("charts not drawn: %v", left)
	}
	type perTask struct {
		Inits         int `json:"inits"`
		Max           int `json:"max"`
		DrawnInInit   int `json:"drawnInInit"`
		NumberFormats int `json:"numberFormats"`
	}
	pt := browsertest.Eval[perTask](t, ctx, `({inits: window.__inits, max: window.__maxPerTask, drawnInInit: window.__drawnInInitTask, numberFormats: window.__numberFormats})`)
	charts := browsertest.Eval[int](t, ctx, `document.querySelectorAll("[data-chart]").length`)
	if pt.Inits != charts || pt.Max != 1 {
		t.Errorf("echarts.init ran %d times for %d charts, at most %d in one task; want each chart in a task of its own", pt.Inits, charts, pt.Max)
	}
	if pt.DrawnInInit != 0 {
		t.Errorf("%d of %d charts were drawn (setOption) in the task that made them (echarts.init); want making and drawing in tasks of their own", pt.DrawnInInit, charts)
	}
	if pt.NumberFormats != 0 {
		t.Errorf("drawing the charts built %d Intl.NumberFormat objects; want none (the format comes as data)", pt.NumberFormats)
	}
	browsertest.Do(t, ctx, "resizing to 1280 px", chromedp.EmulateViewport(1280, 900))
	n := browsertest.Eval[int](t, ctx, countElements)
	t.Logf("/ of the Värmdö strategy with demo-sized data: %d elements with every chart drawn", n)
	if n >= limit {
		t.Errorf("/ has %d elements with every chart drawn, want fewer than %d", n, limit)
	}
	browsertest.CheckPage(t, ctx, "/")
}

// TestChartOptionsCompact checks that chart data leaves the server
// without padding: plain values instead of {"value": v} items, no nulls,
// no switched-off components, no per-series animation flags, no default
// palette, and no indentation.
func TestChartOptionsCompact(t *testing.T) {
	n := 120
	d := progressSeries{}
	for i := range n {
		d.Periods = append(d.Periods, fmt.Sprint("P", i))
		d.Actual = append(d.Actual, some(float64(i)+0.5))
		d.TargetPath = append(d.TargetPath, some(float64(i)))
		var tp point
		if i == n-1 {
			tp = some(100)
		}
		d.Targets = append(d.Targets, tp)
		d.Baseline = append(d.Baseline, point{})
	}
	c, err := progressChart("c", "small", "Diagram", d, strategy.UnitPercent, "sv")
	if err != nil {
		t.Fatal(err)
	}
	js := string(c.Options)
	for _, pad := range []string{`{"value":`, `null`, `"title"`, `"toolbox"`, `"#5470c6"`, "\n", ": "} {
		if strings.Contains(js, pad) {
			t.Errorf("chart options contain %q: %.300s", pad, js)
		}
	}
	if got := strings.Count(js, `"animation":false`); got != 1 {
		t.Errorf("chart options say animation false %d times, want once (for the whole chart)", got)
	}
	// The values are all there, as plain numbers and "-" for gaps.
	for _, want := range []string{`[0.5,1.5,2.5,`, `"-","-"`, `,100]`} {
		if !strings.Contains(js, want) {
			t.Errorf("chart options lack %s: %.300s", want, js)
		}
	}
	// 120 periods of five series: about 6 kB; with padding it was 18 kB.
	if len(js) > 8000 {
		t.Errorf("chart options are %d bytes, want at most 8 000", len(js))
	}
}
