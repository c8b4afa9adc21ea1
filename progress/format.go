package progress

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/malbild/malbild/strategy"
)

// FormatNumber writes v for people: Swedish with a decimal comma and a
// no-break space between thousands ("1 600 000", "72,5"), English with a
// decimal point and commas ("1,600,000", "72.5"). It keeps two decimals
// below 1, one below 1000 and none above, dropping trailing zeros. Negative
// numbers get a real minus sign (U+2212).
func FormatNumber(v float64, lang string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	a := math.Abs(v)
	dec := 0
	switch {
	case a < 1:
		dec = 2
	case a < 1000:
		dec = 1
	}
	s := strconv.FormatFloat(a, 'f', dec, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	point, group := ",", "\u00a0"
	if lang == "en" {
		point, group = ".", ","
	}
	var b strings.Builder
	if v < 0 && (intPart != "0" || frac != "") {
		b.WriteString("\u2212")
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString(point)
		b.WriteString(frac)
	}
	return b.String()
}

// unitSuffix is what follows a number of unit u in lang; singular for
// exactly 1 where the language has one.
func unitSuffix(u strategy.Unit, v float64, lang string) string {
	en := lang == "en"
	one := math.Abs(v) == 1
	pick := func(sv, svOne, enMany, enOne string) string {
		switch {
		case en && one:
			return enOne
		case en:
			return enMany
		case one:
			return svOne
		}
		return sv
	}
	switch u {
	case strategy.UnitPercent:
		if en {
			return "%"
		}
		return " %"
	case strategy.UnitCount, strategy.UnitIndex, "":
		return ""
	case strategy.UnitDays:
		return pick(" dagar", " dag", " days", " day")
	case strategy.UnitHours:
		return pick(" timmar", " timme", " hours", " hour")
	case strategy.UnitMinutes:
		return pick(" minuter", " minut", " minutes", " minute")
	case strategy.UnitSEK:
		return pick(" kr", " kr", " SEK", " SEK")
	case strategy.UnitTkr:
		return pick(" tkr", " tkr", " kSEK", " kSEK")
	case strategy.UnitMSEK:
		return pick(" mnkr", " mnkr", " MSEK", " MSEK")
	}
	return " " + string(u)
}

// FormatValue writes a value with its unit: "72 %" / "72%", "12,5 dagar" /
// "12.5 days", "1 600 000".
func FormatValue(v float64, u strategy.Unit, lang string) string {
	return FormatNumber(v, lang) + unitSuffix(u, v, lang)
}

// FormatChange writes a difference with an explicit sign; for percent units
// in percentage points: "+3 procentenheter" / "+3 percentage points",
// "−2,5 dagar".
func FormatChange(d float64, u strategy.Unit, lang string) string {
	s := FormatNumber(d, lang)
	if !strings.HasPrefix(s, "\u2212") && s != "–" {
		s = "+" + s
	}
	if u == strategy.UnitPercent {
		if lang == "en" {
			if math.Abs(d) == 1 {
				return s + " percentage point"
			}
			return s + " percentage points"
		}
		if math.Abs(d) == 1 {
			return s + " procentenhet"
		}
		return s + " procentenheter"
	}
	return s + unitSuffix(u, d, lang)
}

// LevelLabel is the human label of an assessment level: "uppfyllt",
// "delvis uppfyllt", "ej uppfyllt", "ej bedömt" / "met", "partly met",
// "not met", "not assessed"; "" for strategy.LevelNone.
func LevelLabel(l strategy.Level, lang string) string {
	en := lang == "en"
	switch l {
	case strategy.LevelMet:
		if en {
			return "met"
		}
		return "uppfyllt"
	case strategy.LevelPartly:
		if en {
			return "partly met"
		}
		return "delvis uppfyllt"
	case strategy.LevelNotMet:
		if en {
			return "not met"
		}
		return "ej uppfyllt"
	case strategy.LevelNotAssessed:
		if en {
			return "not assessed"
		}
		return "ej bedömt"
	}
	return ""
}

// LevelSymbol is a text symbol for a level, so it never relies on colour
// alone: ✓ met, ◐ partly, ✗ not met, – not assessed, "" none.
func LevelSymbol(l strategy.Level) string {
	switch l {
	case strategy.LevelMet:
		return "✓"
	case strategy.LevelPartly:
		return "◐"
	case strategy.LevelNotMet:
		return "✗"
	case strategy.LevelNotAssessed:
		return "–"
	}
	return ""
}

// formatDate writes a date as YYYY-MM-DD in Europe/Stockholm.
func formatDate(t time.Time) string { return t.In(strategy.Stockholm).Format("2006-01-02") }
