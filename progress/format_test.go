package progress

import (
	"math"
	"testing"

	"github.com/malbild/malbild/strategy"
)

func TestFormatNumber(t *testing.T) {
	for _, c := range []struct {
		v      float64
		sv, en string
	}{
		{72, "72", "72"},
		{72.5, "72,5", "72.5"},
		{72.04, "72", "72"},
		{0.05, "0,05", "0.05"},
		{1600000, "1\u00a0600\u00a0000", "1,600,000"},
		{1234.6, "1\u00a0235", "1,235"},
		{999.96, "1\u00a0000", "1,000"},
		{-2.5, "\u22122,5", "\u22122.5"},
		{-0.001, "0", "0"},
		{math.NaN(), "–", "–"},
		{math.Inf(1), "–", "–"},
	} {
		if got := FormatNumber(c.v, "sv"); got != c.sv {
			t.Errorf("FormatNumber(%v, sv) = %q, want %q", c.v, got, c.sv)
		}
		if got := FormatNumber(c.v, "en"); got != c.en {
			t.Errorf("FormatNumber(%v, en) = %q, want %q", c.v, got, c.en)
		}
	}
}

func TestFormatValueAndChange(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{FormatValue(72, strategy.UnitPercent, "sv"), "72 %"},
		{FormatValue(72, strategy.UnitPercent, "en"), "72%"},
		{FormatValue(12.5, strategy.UnitDays, "sv"), "12,5 dagar"},
		{FormatValue(1, strategy.UnitDays, "sv"), "1 dag"},
		{FormatValue(1, strategy.UnitDays, "en"), "1 day"},
		{FormatValue(3, strategy.UnitHours, "en"), "3 hours"},
		{FormatValue(800000, strategy.UnitCount, "en"), "800,000"},
		{FormatValue(57, strategy.UnitMSEK, "sv"), "57 mnkr"},
		{FormatValue(120, strategy.UnitMillis, "sv"), "120 ms"},
		{FormatValue(10, strategy.UnitMbits, "en"), "10 Mbit/s"},
		{FormatChange(3, strategy.UnitPercent, "sv"), "+3 procentenheter"},
		{FormatChange(-1, strategy.UnitPercent, "en"), "\u22121 percentage point"},
		{FormatChange(-2.5, strategy.UnitDays, "en"), "\u22122.5 days"},
		{FormatChange(0, strategy.UnitCount, "sv"), "+0"},
		{LevelLabel(strategy.LevelPartly, "sv"), "delvis uppfyllt"},
		{LevelLabel(strategy.LevelNotMet, "en"), "not met"},
		{LevelLabel(strategy.LevelNone, "en"), ""},
		{LevelSymbol(strategy.LevelMet) + LevelSymbol(strategy.LevelPartly) + LevelSymbol(strategy.LevelNotMet) + LevelSymbol(strategy.LevelNotAssessed), "✓◐✗–"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
