package dashboards

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/malbild/malbild/strategy"
)

// optionsOf decodes a chart's options for the tests below.
func optionsOf(t *testing.T, c *chart) map[string]any {
	t.Helper()
	var o map[string]any
	if err := json.Unmarshal(c.Options, &o); err != nil {
		t.Fatalf("%s: %v", c.ID, err)
	}
	return o
}

// monthlySeries is ten years of monthly percent values just under 100 with
// a dip of 0.01 points, a target each December and a baseline.
func monthlySeries() progressSeries {
	var d progressSeries
	for i := range 120 {
		d.Periods = append(d.Periods, fmt.Sprintf("månad %d", i))
		v := 99.65
		if i == 60 {
			v = 99.64
		}
		d.Actual = append(d.Actual, some(v))
		d.TargetPath = append(d.TargetPath, some(99+float64(i)/120))
		var tg, bl point
		if i%12 == 11 {
			tg = some(99.5)
		}
		if i == 0 {
			bl = some(99.6)
		}
		d.Targets = append(d.Targets, tg)
		d.Baseline = append(d.Baseline, bl)
	}
	return d
}

func seriesNamed(o map[string]any, name string) map[string]any {
	for _, s := range o["series"].([]any) {
		if s := s.(map[string]any); s["name"] == name {
			return s
		}
	}
	return nil
}

// TestChartNumberFormat: a chart's numbers are written by charts.js from
// a format given as data (no function strings: the CSP forbids eval):
// Swedish decimal comma and " %" on Swedish pages, "." and "%" on English
// ones; the y axis is named with the unit.
func TestChartNumberFormat(t *testing.T) {
	for _, tc := range []struct {
		lang, point, group, suffix, unitName string
		unit                                 strategy.Unit
	}{
		{"sv", ",", "\u00a0", "\u00a0%", "%", strategy.UnitPercent},
		{"en", ".", ",", "%", "%", strategy.UnitPercent},
		{"sv", ",", "\u00a0", "\u00a0dagar", "dagar", strategy.UnitDays},
		{"en", ".", ",", "\u00a0days", "days", strategy.UnitDays},
		{"sv", ",", "\u00a0", "", "antal", strategy.UnitCount},
	} {
		c, err := progressChart("c", "large", "Diagram", monthlySeries(), tc.unit, tc.lang)
		if err != nil {
			t.Fatal(err)
		}
		js := string(c.Options)
		if strings.Contains(js, "{value}") || strings.Contains(js, funcMarker) {
			t.Errorf("%s %s: options hold a template or function formatter: %.200s", tc.lang, tc.unit, js)
		}
		o := optionsOf(t, c)
		f, _ := o[formatKey].(map[string]any)
		if f == nil || f["point"] != tc.point || f["group"] != tc.group || fmt.Sprint(f["suffix"]) != tc.suffix && !(tc.suffix == "" && f["suffix"] == nil) {
			t.Errorf("%s %s: format %v, want point %q group %q suffix %q", tc.lang, tc.unit, f, tc.point, tc.group, tc.suffix)
		}
		wantAxisSuffix := ""
		if tc.unit == strategy.UnitPercent {
			wantAxisSuffix = tc.suffix
		}
		if got, _ := f["axisSuffix"].(string); got != wantAxisSuffix {
			t.Errorf("%s %s: axis suffix %q, want %q", tc.lang, tc.unit, got, wantAxisSuffix)
		}
		if axes, _ := f["axes"].([]any); len(axes) != 1 || axes[0] != "yAxis" {
			t.Errorf("%s %s: formatted axes %v, want [yAxis]", tc.lang, tc.unit, f["axes"])
		}
		if y := axisOf(o, "yAxis"); y["name"] != tc.unitName {
			t.Errorf("%s %s: y axis name %v, want %q", tc.lang, tc.unit, y["name"], tc.unitName)
		}
	}
}

// TestAxisRange: percent axes stay within 0–100, a dip of 0.01 points is
// not a cliff, bars start at 0, and every value is inside the range.
func TestAxisRange(t *testing.T) {
	for _, tc := range []struct {
		name     string
		vals     []float64
		unit     strategy.Unit
		zero     bool
		lo, hi   float64 // the range must lie within [lo, hi]
		minSpan  float64
		wantZero bool
	}{
		{"dip near 100 %", []float64{99.65, 99.64, 99.65, 99}, strategy.UnitPercent, false, 80, 100, 9.9, false},
		{"at 100 %", []float64{99.9, 100, 100}, strategy.UnitPercent, false, 80, 100, 9.9, false},
		{"low percent", []float64{0.01, 0.02}, strategy.UnitPercent, false, 0, 1, 0, false},
		{"mid percent", []float64{40, 63, 75}, strategy.UnitPercent, false, 0, 100, 35, false},
		{"bars", []float64{59, 64, 71}, strategy.UnitPercent, true, 0, 100, 71, true},
		{"days", []float64{12.5, 12.6}, strategy.UnitDays, false, 0, 30, 1.2, false},
		{"millions", []float64{1_600_000, 1_600_500}, strategy.UnitCount, false, 1_000_000, 2_000_000, 150_000, false},
		{"all zero", []float64{0, 0}, strategy.UnitCount, false, 0, 5, 1, true},
		{"negative", []float64{-5, -4}, strategy.UnitCount, false, -10, 0, 0.5, false},
		{"above 100 %", []float64{90, 130}, strategy.UnitPercent, false, 0, 200, 40, false},
	} {
		r := axisRange(tc.vals, tc.unit, tc.zero, false)
		if !r.OK {
			t.Errorf("%s: no range", tc.name)
			continue
		}
		if r.Min < tc.lo || r.Max > tc.hi {
			t.Errorf("%s: range %v–%v, want within %v–%v", tc.name, r.Min, r.Max, tc.lo, tc.hi)
		}
		if r.Max-r.Min < tc.minSpan {
			t.Errorf("%s: range %v–%v spans less than %v", tc.name, r.Min, r.Max, tc.minSpan)
		}
		if tc.wantZero && r.Min != 0 {
			t.Errorf("%s: range %v–%v does not start at 0", tc.name, r.Min, r.Max)
		}
		for _, v := range tc.vals {
			if v < r.Min || v > r.Max {
				t.Errorf("%s: %v outside the range %v–%v", tc.name, v, r.Min, r.Max)
			}
		}
		if n := (r.Max - r.Min) / r.Interval; math.Abs(n-math.Round(n)) > 1e-6 || n < 2 || n > 12 {
			t.Errorf("%s: %v–%v in steps of %v is not a whole number of 2–12 ticks", tc.name, r.Min, r.Max, r.Interval)
		}
	}
	if r := axisRange(nil, strategy.UnitPercent, false, false); r.OK {
		t.Errorf("a range for no values: %+v", r)
	}
}

// TestProgressChartOptions: the chart of a monthly series near 100 %
// keeps its y axis within 0–100 and wide enough that a 0.01-point dip is
// no cliff, draws every target marker and the baseline (never thinned),
// keeps its first and last x labels inside the chart, and lists only the
// series it has in a legend that scrolls instead of covering the axis.
func TestProgressChartOptions(t *testing.T) {
	c, err := progressChart("c", "large", "Diagram", monthlySeries(), strategy.UnitPercent, "sv")
	if err != nil {
		t.Fatal(err)
	}
	o := optionsOf(t, c)
	y := axisOf(o, "yAxis")
	lo, _ := y["min"].(float64)
	hi, _ := y["max"].(float64)
	if y["min"] == nil || y["max"] == nil || hi > 100 || hi-lo < 9.9 || y["scale"] != nil {
		t.Errorf("y axis %v–%v (scale %v), want a fixed range within 0–100 at least 10 points wide", y["min"], y["max"], y["scale"])
	}
	for _, name := range []string{"Mål", "Utgångsvärde"} {
		s := seriesNamed(o, name)
		if s == nil || s["showAllSymbol"] != true {
			t.Errorf("series %s: %v, want showAllSymbol true", name, s)
		}
	}
	// "månad 100" is 9 characters: half of it, about 33 px, is left
	// free at the right, and the left keeps room with the y labels.
	g := axisOf(o, "grid")
	if l := axisOf(o, "xAxis")["axisLabel"].(map[string]any); l["hideOverlap"] != true || g["right"].(float64) < 32 || g["left"].(float64) < 16 {
		t.Errorf("x axis labels %v, grid %v: the first and last labels are not kept inside", l, g)
	}
	legend := o["legend"].(map[string]any)
	if legend["type"] != "scroll" {
		t.Errorf("legend %v, want a scrolling legend", legend)
	}
	data := fmt.Sprint(legend["data"])
	for _, absent := range []string{"Prognos", "Prognosintervall"} {
		if strings.Contains(data, absent) || seriesNamed(o, absent) != nil {
			t.Errorf("no forecast, but %q in the legend %s or the series", absent, data)
		}
	}
	// With a forecast, the band is in the legend, its helper edge is not,
	// and neither is in the tooltip (their stacked values are no values).
	d := monthlySeries()
	for i := range d.Periods {
		var f point
		if i >= 100 {
			f = some(99.7)
		}
		d.Forecast, d.BandLow, d.BandHigh = append(d.Forecast, f), append(d.BandLow, f), append(d.BandHigh, f)
	}
	c, err = progressChart("c", "large", "Diagram", d, strategy.UnitPercent, "sv")
	if err != nil {
		t.Fatal(err)
	}
	o = optionsOf(t, c)
	data = fmt.Sprint(o["legend"].(map[string]any)["data"])
	if !strings.Contains(data, "Prognos") || !strings.Contains(data, "Prognosintervall") || strings.Contains(data, "(min)") {
		t.Errorf("legend with a forecast: %s", data)
	}
	for _, name := range []string{"Prognosintervall", "Prognosintervall (min)"} {
		if s := seriesNamed(o, name); s == nil || fmt.Sprint(s["tooltip"]) != "map[show:false]" {
			t.Errorf("series %s: %v, want it out of the tooltip", name, s)
		}
	}
}

// TestDenseProgressChart: a long monthly series is drawn as a line with
// no symbol per point (fewer SVG nodes, less work on a phone), while the
// target and baseline markers keep theirs, never thinned; a short series
// keeps its points.
func TestDenseProgressChart(t *testing.T) {
	c, err := progressChart("c", "large", "Diagram", monthlySeries(), strategy.UnitPercent, "sv")
	if err != nil {
		t.Fatal(err)
	}
	o := optionsOf(t, c)
	for _, sr := range o["series"].([]any) {
		sr := sr.(map[string]any)
		marker := sr["name"] == "Mål" || sr["name"] == "Utgångsvärde"
		if shown := sr["showSymbol"] == true; shown != marker {
			t.Errorf("120 months, series %v: showSymbol %v, want symbols on the markers only", sr["name"], sr["showSymbol"])
		}
		if marker && sr["showAllSymbol"] != true {
			t.Errorf("series %v: showAllSymbol %v, want markers never thinned", sr["name"], sr["showAllSymbol"])
		}
	}
	d := monthlySeries()
	d.Periods, d.Actual, d.TargetPath, d.Targets, d.Baseline = d.Periods[:12], d.Actual[:12], d.TargetPath[:12], d.Targets[:12], d.Baseline[:12]
	if c, err = progressChart("c", "large", "Diagram", d, strategy.UnitPercent, "sv"); err != nil {
		t.Fatal(err)
	}
	if s := seriesNamed(optionsOf(t, c), "Utfall"); s == nil || s["showSymbol"] != true {
		t.Errorf("12 months: actual values %v, want a symbol per point", s)
	}
}

// TestPeerBars: our own bar has the main colour, the peers grey, and the
// peers are named from the municipality register.
func TestPeerBars(t *testing.T) {
	st := &strategy.Strategy{Municipality: strategy.Municipality{Code: "0999", Name: "Exempelstads kommun"}}
	labels := []string{municipalityName(st, "0120", "sv"), municipalityName(st, "0999", "sv"), municipalityName(st, "1481", "en"), municipalityName(st, "G123", "sv")}
	if want := []string{"Värmdö", "Exempelstads kommun (vår kommun)", "Mölndal", "Kommun G123"}; fmt.Sprint(labels) != fmt.Sprint(want) {
		t.Errorf("peer names %q, want %q", labels, want)
	}
	c, err := barChart("b", "small", "Diagram", labels, []namedValues{{Name: "2024", Values: []point{some(71), some(64), some(59), some(50)}, Mark: []bool{false, true, false, false}}}, strategy.UnitPercent, "sv")
	if err != nil {
		t.Fatal(err)
	}
	o := optionsOf(t, c)
	data := o["series"].([]any)[0].(map[string]any)["data"].([]any)
	for i, want := range []string{colPeer, colActual, colPeer, colPeer} {
		d, _ := data[i].(map[string]any)
		if d == nil || d["itemStyle"].(map[string]any)["color"] != want {
			t.Errorf("bar %d: %v, want colour %s", i, data[i], want)
		}
	}
	x := axisOf(o, "xAxis")
	if x["min"] != 0.0 || x["max"] != 80.0 {
		t.Errorf("bar axis %v–%v, want 0–80", x["min"], x["max"])
	}
}

// TestSeriesApartWithoutColour: every series of the maturity trend and
// radar has its own marker or line type, not only its own colour.
func TestSeriesApartWithoutColour(t *testing.T) {
	var series []namedValues
	for i := range 11 {
		series = append(series, namedValues{Name: fmt.Sprint("Dimension ", i), Values: []point{some(40), some(50 + float64(i))}})
	}
	c, err := trendChart("t", "", "Diagram", []string{"2024", "2025"}, series, strategy.UnitIndex, "sv")
	if err != nil {
		t.Fatal(err)
	}
	o := optionsOf(t, c)
	seen := map[string]string{}
	for _, s := range o["series"].([]any) {
		s := s.(map[string]any)
		look := fmt.Sprint(s["symbol"], " ", s["lineStyle"].(map[string]any)["type"])
		if other, ok := seen[look]; ok {
			t.Errorf("%s and %s look alike but for colour (%s)", other, s["name"], look)
		}
		seen[look] = s["name"].(string)
	}
	if y := axisOf(o, "yAxis"); y["max"].(float64) > 100 || y["min"] != 0.0 {
		t.Errorf("maturity axis %v–%v, want within 0–100 from 0", y["min"], y["max"])
	}
	r, err := radarChart("r", "radar", "Diagram", []string{"Ett mycket långt namn på en dimension", "B", "C"}, series[:2], "sv")
	if err != nil {
		t.Fatal(err)
	}
	o = optionsOf(t, r)
	rs := o["series"].([]any)
	if rs[0].(map[string]any)["symbol"] == rs[1].(map[string]any)["symbol"] {
		t.Error("radar series share a marker")
	}
	an := axisOf(o, "radar")["axisName"].(map[string]any)
	if an["overflow"] != "break" || an["width"] == nil {
		t.Errorf("radar names %v: long names are not broken onto lines", an)
	}
}
