package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/malbild/malbild/strategy"
)

// Charts are built with go-echarts and leave the server as JSON options
// in a <script type="application/json"> element (html/template escapes
// it there); assets/charts.js hands them to echarts. No chart option is
// ever JavaScript: go-echarts turns strings containing its function
// marker into raw code when it renders pages itself, so every text that
// reaches a chart goes through chartText first.

// funcMarker is go-echarts' marker for raw JavaScript in option strings.
const funcMarker = "__f__"

// chartText neutralises untrusted text on its way into a chart: the
// go-echarts function marker is broken up with a zero-width space, so
// the text is shown as it was but can never become code.
func chartText(s string) string {
	for strings.Contains(s, funcMarker) {
		s = strings.ReplaceAll(s, funcMarker, "_\u200b_f__")
	}
	return s
}

func chartTexts(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = chartText(s)
	}
	return out
}

// Palette; every colour has at least 3:1 contrast against white.
const (
	colActual   = "#17365d"
	colTarget   = "#1b6e3a"
	colForecast = "#8a5a00"
	colBand     = "rgba(138,90,0,0.16)"
	colPeer     = "#6b7785"
	colGrid     = "#d8dee4"
)

var palette = []string{"#17365d", "#1b6e3a", "#8a5a00", "#a4262c", "#5b3f8c", "#0b6e75", "#6b7785"}

// chart is a chart ready for a template: the id of its container, the id
// of its options element, its options and a short description for
// screen readers (the data itself is in the table next to it).
type chart struct {
	ID      string
	DataID  string
	Options json.RawMessage
	Label   string
	Class   string
}

func newChart(id, class, label string, options map[string]any) (*chart, error) {
	return newChartPatched(id, class, label, options, nil)
}

// newChartPatched is newChart with a last change to the compacted
// options (plain JSON values: maps, slices, json.Number, strings), for
// the settings go-echarts has no field for.
func newChartPatched(id, class, label string, options map[string]any, patch func(o map[string]any)) (*chart, error) {
	o, err := compactMap(options)
	if err == nil {
		if patch != nil {
			patch(o)
		}
		if tt, ok := o["tooltip"].(map[string]any); ok {
			// Drawn by echarts in the chart's SVG, not as HTML with
			// inline styles (which the pages' CSP blocks), and kept
			// inside the chart.
			tt["renderMode"], tt["confine"] = "richText", true
		}
		var b []byte
		if b, err = json.Marshal(o); err == nil {
			return &chart{ID: id, DataID: id + "-data", Options: b, Label: label, Class: class}, nil
		}
	}
	return nil, fmt.Errorf("encoding chart %s: %w", id, err)
}

// echartsPalette is echarts' own default colour list, which go-echarts
// writes into every chart.
var echartsPalette = []any{"#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4", "#ea7ccc"}

// compactOptions encodes go-echarts options without what echarts does not
// need: a data item that is only {"value": v} becomes v, null settings,
// the per-series "animation": false (the chart's own covers them), the
// title and toolbox that are switched off (and not in the bundle), and
// echarts' default palette. A monthly chart's options shrink to about a
// third; what echarts draws is the same.
func compactOptions(options map[string]any) ([]byte, error) {
	o, err := compactMap(options)
	if err != nil {
		return nil, err
	}
	return json.Marshal(o)
}

func compactMap(options map[string]any) (map[string]any, error) {
	b, err := json.Marshal(options)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep the numbers exactly as written
	var o map[string]any
	if err := dec.Decode(&o); err != nil {
		return nil, err
	}
	for _, k := range []string{"title", "toolbox"} {
		if c, ok := o[k].(map[string]any); ok && len(c) == 1 && c["show"] == false {
			delete(o, k)
		}
	}
	if c, ok := o["color"].([]any); ok && slices.Equal(c, echartsPalette) {
		delete(o, "color")
	}
	if series, ok := o["series"].([]any); ok {
		for _, sr := range series {
			sr, ok := sr.(map[string]any)
			if !ok {
				continue
			}
			if o["animation"] == false && sr["animation"] == false {
				delete(sr, "animation")
			}
			data, _ := sr["data"].([]any)
			for i, d := range data {
				if m, ok := d.(map[string]any); ok && len(m) == 1 {
					if v, ok := m["value"]; ok {
						data[i] = v
					}
				}
			}
		}
	}
	dropNulls(o)
	return o, nil
}

// dropNulls removes the null members of every object in v (a null in an
// array, such as a data list, stays).
func dropNulls(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if x == nil {
				delete(v, k)
				continue
			}
			dropNulls(x)
		}
	case []any:
		for _, x := range v {
			dropNulls(x)
		}
	}
}

// point is a value that may be missing.
type point struct {
	V  float64
	OK bool
}

func some(v float64) point { return point{V: v, OK: true} }

func (p point) data() any {
	if !p.OK || math.IsNaN(p.V) || math.IsInf(p.V, 0) {
		return "-"
	}
	return math.Round(p.V*100) / 100
}

func lineData(ps []point) []opts.LineData {
	out := make([]opts.LineData, len(ps))
	for i, p := range ps {
		out[i] = opts.LineData{Value: p.data()}
	}
	return out
}

// progressSeries is the data of an indicator chart, aligned on periods.
type progressSeries struct {
	Periods    []string // category labels
	Actual     []point
	TargetPath []point
	Targets    []point // target markers (set only where a target falls)
	Baseline   []point // the baseline marker
	Forecast   []point
	BandLow    []point // forecast band, lower edge
	BandHigh   []point // forecast band, upper edge
}

type chartNames struct {
	Actual, TargetPath, Targets, Baseline, Forecast, Band string
}

func namesFor(lang string) chartNames {
	return chartNames{
		Actual:     tr(lang, "chart_actual"),
		TargetPath: tr(lang, "chart_target_path"),
		Targets:    tr(lang, "chart_targets"),
		Baseline:   tr(lang, "chart_baseline"),
		Forecast:   tr(lang, "chart_forecast"),
		Band:       tr(lang, "chart_band"),
	}
}

func axisFormatter(u strategy.Unit) string {
	if u == strategy.UnitPercent {
		return "{value} %"
	}
	return ""
}

func baseOpts(lang string, showLegend bool) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithAnimation(false),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(showLegend), Bottom: "0"}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithToolboxOpts(opts.Toolbox{Show: opts.Bool(false)}),
		charts.WithTitleOpts(opts.Title{Show: opts.Bool(false)}),
	}
}

// Grid margins in pixels: room for the unit above the value axis and for
// the legend below; the axis labels are inside (ContainLabel).
func gridOpts(legend bool) opts.Grid {
	bottom := "8"
	if legend {
		bottom = "40"
	}
	return opts.Grid{Left: "8", Right: "16", Top: "34", Bottom: bottom, ContainLabel: opts.Bool(true)}
}

// progressChart is actual values against the target path, with target
// markers, baseline and (when given) the forecast and its band.
func progressChart(id, class, label string, d progressSeries, unit strategy.Unit, lang string) (*chart, error) {
	n := namesFor(lang)
	line := charts.NewLine()
	line.SetGlobalOptions(append(baseOpts(lang, true),
		charts.WithGridOpts(gridOpts(true)),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Color: "#3d4650"}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Scale: opts.Bool(true),
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Color: "#3d4650"},
			SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: colGrid}}}),
	)...)
	line.SetXAxis(chartTexts(d.Periods))
	bandMin, band := chartText(n.Band+" (min)"), chartText(n.Band)
	if hasAny(d.BandLow) && hasAny(d.BandHigh) {
		width := make([]point, len(d.BandLow))
		for i := range d.BandLow {
			if d.BandLow[i].OK && d.BandHigh[i].OK {
				width[i] = some(d.BandHigh[i].V - d.BandLow[i].V)
			}
		}
		line.AddSeries(bandMin, lineData(d.BandLow),
			charts.WithLineChartOpts(opts.LineChart{Stack: "band", ShowSymbol: opts.Bool(false)}),
			charts.WithLineStyleOpts(opts.LineStyle{Opacity: opts.Float(0)}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Color = colBand }))
		line.AddSeries(band, lineData(width),
			charts.WithLineChartOpts(opts.LineChart{Stack: "band", ShowSymbol: opts.Bool(false)}),
			charts.WithLineStyleOpts(opts.LineStyle{Opacity: opts.Float(0)}),
			charts.WithAreaStyleOpts(opts.AreaStyle{Color: colBand, Opacity: opts.Float(1)}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Color = colBand }))
	}
	if hasAny(d.TargetPath) {
		line.AddSeries(chartText(n.TargetPath), lineData(d.TargetPath),
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), ConnectNulls: opts.Bool(true)}),
			charts.WithLineStyleOpts(opts.LineStyle{Color: colTarget, Width: 2, Type: "dashed"}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Color = colTarget }))
	}
	if hasAny(d.Forecast) {
		line.AddSeries(chartText(n.Forecast), lineData(d.Forecast),
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), ConnectNulls: opts.Bool(true)}),
			charts.WithLineStyleOpts(opts.LineStyle{Color: colForecast, Width: 2, Type: "dotted"}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Color = colForecast }))
	}
	// A dense series (monthly values over years) is drawn as a line
	// alone: its points would be too close to tell apart, and echarts
	// only thins them. The value under the pointer still shows its
	// circle and the tooltip.
	dense := countOK(d.Actual) > denseSeries
	line.AddSeries(chartText(n.Actual), lineData(d.Actual),
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(!dense), Symbol: "circle", SymbolSize: 7, ConnectNulls: opts.Bool(true)}),
		charts.WithLineStyleOpts(opts.LineStyle{Color: colActual, Width: 3}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Color = colActual }))
	markers := map[string]bool{}
	if hasAny(d.Targets) {
		markers[chartText(n.Targets)] = true
		line.AddSeries(chartText(n.Targets), lineData(d.Targets),
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: "diamond", SymbolSize: 14}),
			charts.WithLineStyleOpts(opts.LineStyle{Width: 0, Opacity: opts.Float(0)}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Color = colTarget }))
	}
	if hasAny(d.Baseline) {
		markers[chartText(n.Baseline)] = true
		line.AddSeries(chartText(n.Baseline), lineData(d.Baseline),
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: "rect", SymbolSize: 10}),
			charts.WithLineStyleOpts(opts.LineStyle{Width: 0, Opacity: opts.Float(0)}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Color = colPeer }))
	}
	// The band's lower edge is a helper series: keep it out of the legend.
	var legend []string
	for _, sr := range line.MultiSeries {
		if sr.Name != bandMin {
			legend = append(legend, sr.Name)
		}
	}
	line.SetGlobalOptions(charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0", Data: legend}))
	line.Validate()
	r := axisRange(values(d.Actual, d.TargetPath, d.Targets, d.Baseline, d.Forecast, d.BandLow, d.BandHigh), unit, false, false)
	return newChartPatched(id, class, label, line.JSON(), func(o map[string]any) {
		o[formatKey] = numberFormat(unit, lang, "yAxis")
		valueAxis(o, "yAxis", r, unitName(unit, lang))
		categoryAxis(o, "xAxis")
		scrollLegend(o)
		series, _ := o["series"].([]any)
		for _, sr := range series {
			sr, _ := sr.(map[string]any)
			switch name, _ := sr["name"].(string); {
			case name == bandMin || name == band:
				// The band's edges are in the table; in the tooltip
				// its stacked helper values would read as values.
				sr["tooltip"] = map[string]any{"show": false}
			case markers[name]:
				// Target and baseline markers are few: never thinned
				// away on a crowded (monthly) axis.
				sr["showAllSymbol"] = true
			}
		}
	})
}

// denseSeries is the number of values above which a progress chart's
// actual values get no symbol per point (five years of months).
const denseSeries = 60

func hasAny(ps []point) bool {
	for _, p := range ps {
		if p.OK {
			return true
		}
	}
	return false
}

// namedValues is one series of a bar, radar or trend chart. Mark, when
// set, highlights the bars with true (our own municipality among peers).
type namedValues struct {
	Name   string
	Values []point
	Mark   []bool
}

// barChart is horizontal bars: one category per label, one bar per series.
func barChart(id, class, label string, labels []string, series []namedValues, unit strategy.Unit, lang string) (*chart, error) {
	bar := charts.NewBar()
	legend := len(series) > 1
	bar.SetGlobalOptions(append(baseOpts(lang, legend),
		charts.WithGridOpts(gridOpts(legend)),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Color: "#3d4650"},
			SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: colGrid}}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true), Data: chartTexts(labels),
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Color: "#3d4650"}}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
	)...)
	var all []point
	for i, sr := range series {
		data := make([]opts.BarData, len(sr.Values))
		c := palette[i%len(palette)]
		for j, p := range sr.Values {
			data[j] = opts.BarData{Value: p.data()}
			if sr.Mark != nil {
				// Peers grey, ours in the chart's main colour.
				col := colPeer
				if j < len(sr.Mark) && sr.Mark[j] {
					col = colActual
				}
				data[j].ItemStyle = &opts.ItemStyle{Color: col}
			}
		}
		all = append(all, sr.Values...)
		bar.AddSeries(chartText(sr.Name), data, charts.WithItemStyleOpts(opts.ItemStyle{Color: c}))
	}
	bar.Validate()
	// A horizontal bar chart keeps its categories on the y axis; Validate
	// puts the (unused) x categories on the x axis only.
	r := axisRange(values(all), unit, true, false)
	return newChartPatched(id, class, label, bar.JSON(), func(o map[string]any) {
		o[formatKey] = numberFormat(unit, lang, "xAxis")
		valueAxis(o, "xAxis", r, unitName(unit, lang))
		if legend {
			scrollLegend(o)
			// Series apart by pattern as well as colour.
			srs, _ := o["series"].([]any)
			for i, sr := range srs {
				sr, _ := sr.(map[string]any)
				if i > 0 && sr != nil {
					is, _ := sr["itemStyle"].(map[string]any)
					if is == nil {
						is = map[string]any{}
						sr["itemStyle"] = is
					}
					is["decal"] = map[string]any{"symbol": "rect", "dashArrayX": []any{1, 0}, "dashArrayY": []any{2, 4}, "rotation": 0.785, "color": "rgba(255,255,255,0.55)"}
				}
			}
		}
	})
}

// radarChart shows scores 0–100 per dimension, one polygon per series.
func radarChart(id, class, label string, dims []string, series []namedValues, lang string) (*chart, error) {
	radar := charts.NewRadar()
	ind := make([]*opts.Indicator, len(dims))
	for i, d := range dims {
		ind[i] = &opts.Indicator{Name: chartText(d), Min: 0, Max: 100}
	}
	radar.SetGlobalOptions(append(baseOpts(lang, true),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithRadarComponentOpts(opts.RadarComponent{Indicator: ind, Shape: "polygon", SplitNumber: 5,
			Center:    []string{"50%", "47%"},
			AxisName:  &opts.AxisName{Show: opts.Bool(true), Color: "#1b1f24", FontSize: 13},
			SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: colGrid}},
			SplitArea: &opts.SplitArea{Show: opts.Bool(false)}}),
	)...)
	for i, sr := range series {
		vals := make([]any, len(sr.Values))
		for j, p := range sr.Values {
			vals[j] = p.data()
		}
		c := palette[i%len(palette)]
		radar.AddSeries(chartText(sr.Name), []opts.RadarData{{Name: chartText(sr.Name), Value: vals}},
			charts.WithLineStyleOpts(opts.LineStyle{Color: c, Width: 2, Type: seriesLineTypes[i%len(seriesLineTypes)]}),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: c}),
			charts.WithAreaStyleOpts(opts.AreaStyle{Color: c, Opacity: opts.Float(0.08)}))
	}
	radar.Validate()
	return newChartPatched(id, class, label, radar.JSON(), func(o map[string]any) {
		o[formatKey] = numberFormat(strategy.UnitIndex, lang)
		scrollLegend(o)
		// The dimension names break onto lines of their own and the
		// polygon leaves them room, so no name is cut at the edge.
		if rd := axisOf(o, "radar"); rd != nil {
			rd["radius"], rd["axisNameGap"] = "50%", 8
			if an, ok := rd["axisName"].(map[string]any); ok {
				an["width"], an["overflow"], an["lineHeight"], an["fontSize"] = 100, "break", 15, 12
			}
		}
		srs, _ := o["series"].([]any)
		for i, sr := range srs {
			if sr, ok := sr.(map[string]any); ok {
				sr["symbol"] = seriesSymbols[i%len(seriesSymbols)]
				sr["symbolSize"] = 8
			}
		}
	})
}

// trendChart is one line per series over the given periods; each series
// has its own marker and line type as well as its colour.
func trendChart(id, class, label string, periods []string, series []namedValues, unit strategy.Unit, lang string) (*chart, error) {
	line := charts.NewLine()
	line.SetGlobalOptions(append(baseOpts(lang, true),
		charts.WithGridOpts(gridOpts(true)),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Color: "#3d4650"}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Min: 0,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Color: "#3d4650"},
			SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: colGrid}}}),
	)...)
	line.SetXAxis(chartTexts(periods))
	var all []point
	for i, sr := range series {
		c := palette[i%len(palette)]
		width := float32(2)
		if i == 0 {
			width = 3
		}
		all = append(all, sr.Values...)
		line.AddSeries(chartText(sr.Name), lineData(sr.Values),
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: seriesSymbols[i%len(seriesSymbols)], SymbolSize: 8, ConnectNulls: opts.Bool(true)}),
			charts.WithLineStyleOpts(opts.LineStyle{Color: c, Width: width, Type: seriesLineTypes[i%len(seriesLineTypes)]}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Color = c }))
	}
	line.Validate()
	r := axisRange(values(all), unit, true, unit == strategy.UnitIndex)
	return newChartPatched(id, class, label, line.JSON(), func(o map[string]any) {
		o[formatKey] = numberFormat(unit, lang, "yAxis")
		valueAxis(o, "yAxis", r, unitName(unit, lang))
		categoryAxis(o, "xAxis")
		scrollLegend(o)
	})
}

// valueRange is a value axis' extent and tick interval.
type valueRange struct {
	Min, Max, Interval float64
	OK                 bool
}

// axisRange chooses a value axis' range for vals, instead of echarts'
// own: that zooms in on the data, so a dip of 0.01 points looks like a
// cliff, and rounds past 100 % ("100.002 %"). The range spans at least a
// tenth of the largest magnitude, stays within 0–100 when the values do
// and unit is percent (or limit100), stays at or above 0 when the values
// do, includes 0 when zero is set (bars), and ends on whole ticks.
func axisRange(vals []float64, unit strategy.Unit, zero, limit100 bool) valueRange {
	var lo, hi float64
	n := 0
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if n == 0 || v < lo {
			lo = v
		}
		if n == 0 || v > hi {
			hi = v
		}
		n++
	}
	if n == 0 {
		return valueRange{}
	}
	nonNeg := lo >= 0
	cap100 := (unit == strategy.UnitPercent || limit100) && hi <= 100
	if zero {
		lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	}
	minSpan := math.Max(math.Abs(lo), math.Abs(hi)) / 10
	if minSpan == 0 {
		minSpan = 1
	}
	if hi-lo < minSpan {
		mid := (lo + hi) / 2
		lo, hi = mid-minSpan/2, mid+minSpan/2
	}
	if nonNeg && lo < 0 {
		hi, lo = hi-lo, 0
	}
	if cap100 && hi > 100 {
		lo, hi = math.Max(0, lo-(hi-100)), 100
	}
	step := niceStep((hi - lo) / 5)
	lo = roundFloat(math.Floor(lo/step+1e-9) * step)
	hi = roundFloat(math.Ceil(hi/step-1e-9) * step)
	if cap100 && hi > 100 {
		hi = 100
	}
	if nonNeg && lo < 0 {
		lo = 0
	}
	return valueRange{Min: lo, Max: hi, Interval: roundFloat(step), OK: true}
}

// niceStep is the smallest of 1, 2, 2.5 and 5 times a power of ten that is
// at least x.
func niceStep(x float64) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= x*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

func roundFloat(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func values(series ...[]point) []float64 {
	var out []float64
	for _, ps := range series {
		for _, p := range ps {
			if p.OK {
				out = append(out, p.V)
			}
		}
	}
	return out
}

// valueAxis sets a value axis (o[name], an object or a list of one) to the
// range r, names it with the unit and gives its labels the chart's
// number format.
func valueAxis(o map[string]any, name string, r valueRange, unitLabel string) {
	ax := axisOf(o, name)
	if ax == nil {
		return
	}
	if r.OK {
		ax["min"], ax["max"], ax["interval"] = r.Min, r.Max, r.Interval
		delete(ax, "scale")
	}
	if unitLabel != "" {
		ax["name"] = chartText(unitLabel)
		if name == "yAxis" {
			ax["nameLocation"] = "end"
			ax["nameTextStyle"] = map[string]any{"align": "left", "color": "#3d4650"}
		} else {
			ax["nameLocation"] = "middle"
			ax["nameGap"] = 26
			ax["nameTextStyle"] = map[string]any{"color": "#3d4650"}
		}
	}
}

// axisOf returns the first axis named name ("xAxis", "yAxis").
func axisOf(o map[string]any, name string) map[string]any {
	switch a := o[name].(type) {
	case map[string]any:
		return a
	case []any:
		if len(a) > 0 {
			m, _ := a[0].(map[string]any)
			return m
		}
	}
	return nil
}

// categoryAxis keeps a category axis' first and last labels inside the
// chart (centred under their ticks at the edge they were cut: "ecember
// 2009") and drops the labels that would overlap.
func categoryAxis(o map[string]any, name string) {
	ax := axisOf(o, name)
	if ax == nil {
		return
	}
	if name == "xAxis" {
		// The last label shown is not always the axis' last (labels
		// are thinned), so the grid leaves room for half the longest
		// one: about 3.6 px per character at echarts' 12 px.
		longest := 0
		cats, _ := ax["data"].([]any)
		for _, c := range cats {
			if s, ok := c.(string); ok {
				longest = max(longest, utf8.RuneCountInString(s))
			}
		}
		// On the left the y labels (at least about 16 px) take part
		// of it. Aligning the first and last labels to the edges
		// instead makes them overlap their neighbours, and the first
		// was then hidden.
		half := int(math.Ceil(float64(longest) * 3.6))
		g, _ := o["grid"].(map[string]any)
		if gs, ok := o["grid"].([]any); ok && len(gs) > 0 {
			g, _ = gs[0].(map[string]any)
		}
		if g != nil {
			g["left"], g["right"] = max(8, half-16), max(16, half)
		}
	}
	l, _ := ax["axisLabel"].(map[string]any)
	if l == nil {
		l = map[string]any{}
		ax["axisLabel"] = l
	}
	l["hideOverlap"] = true
}

// scrollLegend puts the legend below the chart on one line that scrolls
// when its entries do not fit, so a long legend never covers the axis.
func scrollLegend(o map[string]any) {
	l, _ := o["legend"].(map[string]any)
	if l == nil {
		return
	}
	l["type"] = "scroll"
	l["bottom"] = 0
	l["left"] = "center"
	l["pageIconColor"] = colActual
	l["pageTextStyle"] = map[string]any{"color": "#3d4650"}
}

// seriesLooks are the markers and line types that tell series apart
// without colour.
var (
	seriesSymbols   = []string{"circle", "rect", "triangle", "diamond", "emptyCircle", "roundRect", "emptyTriangle", "pin", "emptyDiamond", "arrow"}
	seriesLineTypes = []string{"solid", "dashed", "dotted"}
)
