package dashboards

import (
	"strings"
	"time"

	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// Numbers and values are formatted by progress.FormatNumber and
// progress.FormatValue; dates are ISO dates, the Swedish norm.

// formatDate writes a date as 2025-03-31 in Europe/Stockholm.
func formatDate(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.In(strategy.Stockholm).Format("2006-01-02")
}

// formatDateTime writes a time as 2025-03-31 14:02 in Europe/Stockholm.
func formatDateTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.In(strategy.Stockholm).Format("2006-01-02 15:04")
}

// chartFormat tells assets/charts.js how to write a chart's numbers: as
// data, never as code (the pages' Content-Security-Policy allows no eval,
// and go-echarts' function strings are never used). charts.js takes it
// out of the options (key formatKey) and sets echarts formatters that
// write numbers like progress.FormatNumber: "99,65 %" on Swedish pages,
// "99.65%" on English ones. The decimal sign and digit grouping are given
// rather than a locale: charts.js then needs no Intl.NumberFormat, whose
// first use is slow on a phone.
type chartFormat struct {
	Point      string   `json:"point"`                // decimal sign: "," or "."
	Group      string   `json:"group"`                // digit grouping: no-break space or ","
	AxisSuffix string   `json:"axisSuffix,omitempty"` // after an axis label: " %" for percent, else the unit is the axis name
	Suffix     string   `json:"suffix,omitempty"`     // after a value in the tooltip: " %", " dagar"
	Axes       []string `json:"axes,omitempty"`       // the value axes to format: "xAxis", "yAxis"
}

// formatKey is the option charts.js reads the chartFormat from.
const formatKey = "malbildFormat"

func numberFormat(u strategy.Unit, lang string, axes ...string) chartFormat {
	f := chartFormat{Axes: axes}
	// The signs as FormatNumber writes them: "1 000" or "1,000", "1,5"
	// or "1.5".
	g, p := progress.FormatNumber(1000, lang), progress.FormatNumber(1.5, lang)
	f.Group, f.Point = g[1:len(g)-3], p[1:len(p)-1]
	// The unit as FormatValue writes it after a number (2: the plural).
	f.Suffix = strings.Replace(strings.TrimPrefix(progress.FormatValue(2, u, lang), "2"), " ", "\u00a0", 1)
	if u == strategy.UnitPercent {
		f.AxisSuffix = f.Suffix
	}
	return f
}

// unitName is the unit as the name of a value axis: "%", "dagar",
// "antal"; "" for an index (its axis needs no name).
func unitName(u strategy.Unit, lang string) string {
	switch u {
	case strategy.UnitIndex:
		return ""
	case strategy.UnitCount, "":
		return tr(lang, "unit_count")
	}
	return strings.TrimSpace(strings.TrimPrefix(progress.FormatValue(2, u, lang), "2"))
}
