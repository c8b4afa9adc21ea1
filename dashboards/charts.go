package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/types"

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
	b, err := compactOptions(options)
	if err != nil {
		return nil, fmt.Errorf("encoding chart %s: %w", id, err)
	}
	return &chart{ID: id, DataID: id + "-data", Options: b, Label: label, Class: class}, nil
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
	return json.Marshal(o)
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

// progressChart is actual values against the target path, with target
// markers, baseline and (when given) the forecast and its band.
func progressChart(id, class, label string, d progressSeries, unit strategy.Unit, lang string) (*chart, error) {
	n := namesFor(lang)
	line := charts.NewLine()
	bottom := "14%"
	if class == "small" {
		bottom = "26%"
	}
	line.SetGlobalOptions(append(baseOpts(lang, true),
		charts.WithGridOpts(opts.Grid{Left: "3%", Right: "4%", Top: "8%", Bottom: bottom, ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Color: "#3d4650"}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Scale: opts.Bool(true),
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Formatter: axisFormatterFunc(unit), Color: "#3d4650"},
			SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: colGrid}}}),
	)...)
	line.SetXAxis(chartTexts(d.Periods))
	if hasAny(d.BandLow) && hasAny(d.BandHigh) {
		width := make([]point, len(d.BandLow))
		for i := range d.BandLow {
			if d.BandLow[i].OK && d.BandHigh[i].OK {
				width[i] = some(d.BandHigh[i].V - d.BandLow[i].V)
			}
		}
		line.AddSeries(chartText(n.Band+" (min)"), lineData(d.BandLow),
			charts.WithLineChartOpts(opts.LineChart{Stack: "band", ShowSymbol: opts.Bool(false)}),
			charts.WithLineStyleOpts(opts.LineStyle{Opacity: opts.Float(0)}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Color = colBand }))
		line.AddSeries(chartText(n.Band), lineData(width),
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
	line.AddSeries(chartText(n.Actual), lineData(d.Actual),
		charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: "circle", SymbolSize: 7, ConnectNulls: opts.Bool(true)}),
		charts.WithLineStyleOpts(opts.LineStyle{Color: colActual, Width: 3}),
		charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Color = colActual }))
	if hasAny(d.Targets) {
		line.AddSeries(chartText(n.Targets), lineData(d.Targets),
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: "diamond", SymbolSize: 14}),
			charts.WithLineStyleOpts(opts.LineStyle{Width: 0, Opacity: opts.Float(0)}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Color = colTarget }))
	}
	if hasAny(d.Baseline) {
		line.AddSeries(chartText(n.Baseline), lineData(d.Baseline),
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: "rect", SymbolSize: 10}),
			charts.WithLineStyleOpts(opts.LineStyle{Width: 0, Opacity: opts.Float(0)}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Color = colPeer }))
	}
	// The band's lower edge is a helper series: keep it out of the legend.
	var legend []string
	for _, sr := range line.MultiSeries {
		if sr.Name != chartText(n.Band+" (min)") {
			legend = append(legend, sr.Name)
		}
	}
	line.SetGlobalOptions(charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0", Data: legend}))
	line.Validate()
	return newChart(id, class, label, line.JSON())
}

func axisFormatterFunc(u strategy.Unit) types.FuncStr { return types.FuncStr(axisFormatter(u)) }

func hasAny(ps []point) bool {
	for _, p := range ps {
		if p.OK {
			return true
		}
	}
	return false
}

// namedValues is one series of a bar, radar or trend chart.
type namedValues struct {
	Name   string
	Values []point
}

// barChart is horizontal bars: one category per label, one bar per series.
func barChart(id, class, label string, labels []string, series []namedValues, unit strategy.Unit, lang string) (*chart, error) {
	bar := charts.NewBar()
	bar.SetGlobalOptions(append(baseOpts(lang, len(series) > 1),
		charts.WithGridOpts(opts.Grid{Left: "3%", Right: "6%", Top: "4%", Bottom: "12%", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Formatter: axisFormatterFunc(unit), Color: "#3d4650"},
			SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: colGrid}}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true), Data: chartTexts(labels),
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Color: "#3d4650"}}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
	)...)
	for i, sr := range series {
		data := make([]opts.BarData, len(sr.Values))
		for j, p := range sr.Values {
			data[j] = opts.BarData{Value: p.data()}
		}
		c := palette[i%len(palette)]
		bar.AddSeries(chartText(sr.Name), data, charts.WithItemStyleOpts(opts.ItemStyle{Color: c}))
	}
	bar.Validate()
	// A horizontal bar chart keeps its categories on the y axis; Validate
	// puts the (unused) x categories on the x axis only.
	o := bar.JSON()
	return newChart(id, class, label, o)
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
			Center:    []string{"50%", "48%"},
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
			charts.WithLineStyleOpts(opts.LineStyle{Color: c, Width: 2}),
			charts.WithItemStyleOpts(opts.ItemStyle{Color: c}),
			charts.WithAreaStyleOpts(opts.AreaStyle{Color: c, Opacity: opts.Float(0.08)}))
	}
	radar.Validate()
	return newChart(id, class, label, radar.JSON())
}

// trendChart is one line per series over the given periods.
func trendChart(id, class, label string, periods []string, series []namedValues, unit strategy.Unit, lang string) (*chart, error) {
	line := charts.NewLine()
	line.SetGlobalOptions(append(baseOpts(lang, true),
		charts.WithGridOpts(opts.Grid{Left: "3%", Right: "4%", Top: "8%", Bottom: "16%", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Color: "#3d4650"}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Min: 0,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), Formatter: axisFormatterFunc(unit), Color: "#3d4650"},
			SplitLine: &opts.SplitLine{Show: opts.Bool(true), LineStyle: &opts.LineStyle{Color: colGrid}}}),
	)...)
	line.SetXAxis(chartTexts(periods))
	for i, sr := range series {
		c := palette[i%len(palette)]
		width := float32(2)
		if i == 0 {
			width = 3
		}
		line.AddSeries(chartText(sr.Name), lineData(sr.Values),
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), SymbolSize: 6, ConnectNulls: opts.Bool(true)}),
			charts.WithLineStyleOpts(opts.LineStyle{Color: c, Width: width}),
			charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.Color = c }))
	}
	line.Validate()
	return newChart(id, class, label, line.JSON())
}
