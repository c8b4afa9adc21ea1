// The ECharts that Målbild's pages need, and nothing more: esbuild bundles
// this file (build-assets.js) from the npm package's tree-shakeable
// modules. The chart options come from dashboards/charts.go (go-echarts):
// line series (progress and trend charts; stacked lines for the forecast
// band), bar series (peer and dimension bars) and radar series (maturity),
// in a grid or a radar coordinate system, with a tooltip (rendered as
// rich text inside the SVG: the HTML tooltip's inline styles break the
// pages' CSP) and a legend (the scrolling kind, which LegendComponent
// includes), drawn as SVG (assets/charts.js asks for renderer "svg").
// Number formats are data in the options that assets/charts.js turns
// into formatters; no option is code. Title and
// toolbox are always switched off, so they are left out; an option for a
// component that is not registered is ignored.
//
// A new chart or component in charts.go must be added here, and to the
// list the test TestEChartsBundle checks.
import { init, use } from "echarts/core";
import { LineChart, BarChart, RadarChart } from "echarts/charts";
import { GridComponent, RadarComponent, TooltipComponent, LegendComponent } from "echarts/components";
import { SVGRenderer } from "echarts/renderers";

use([LineChart, BarChart, RadarChart, GridComponent, RadarComponent, TooltipComponent, LegendComponent, SVGRenderer]);

// assets/charts.js only calls echarts.init.
window.echarts = { init: init };
