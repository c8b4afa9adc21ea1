package collectors

import (
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

func TestParseSeriesUpload(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, strategy.Stockholm)
	c := SeriesCheck{Known: map[string]bool{"andel": true}, Units: map[string]strategy.Unit{"andel": strategy.UnitPercent}, Now: now}
	obs, err := ParseSeries(strings.NewReader("indikator;period;värde;kommentar\nandel;2025-T1;72,5;Rättat\n"), "upp.csv", c)
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 1 || obs[0].Value != 72.5 || obs[0].Comment != "Rättat" || obs[0].Period.String() != "2025-T1" || !obs[0].Recorded.Equal(now) {
		t.Fatalf("obs = %+v", obs)
	}
	_, err = ParseSeries(strings.NewReader("indikator;period;värde\nandel;2025-T1;120\nokand;2025-T1;1\nandel;2026;1\n"), "upp.csv", c)
	for _, want := range []string{"upp.csv:2:", "outside 0–100", "upp.csv:3:", "unknown indicator", "upp.csv:4:", "in the future"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// TestParseSeriesUploadPersonal: personal numbers written with a space or
// an en dash are refused in every column, without repeating them.
func TestParseSeriesUploadPersonal(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, strategy.Stockholm)
	c := SeriesCheck{Known: map[string]bool{"andel": true}, Units: map[string]strategy.Unit{"andel": strategy.UnitPercent}, Now: now}
	for _, row := range []string{
		"andel;2025-T1;72,5;;Från 121212 1212",
		"andel;2025-T1;72,5;;Från 19121212–1212",
		"andel;2025-T1;72,5;person=121212 1212;Rättat",
		"andel;2025-T1;72,5;person=121272–1219;Rättat",
	} {
		obs, err := ParseSeries(strings.NewReader("indikator;period;värde;dimension;kommentar\n"+row+"\n"), "upp.csv", c)
		if obs != nil || err == nil || !strings.Contains(err.Error(), "upp.csv:2:") || !strings.Contains(err.Error(), "the value looks like a") {
			t.Errorf("%s: %v, %v", row, obs, err)
			continue
		}
		if strings.Contains(err.Error(), "1212") || strings.Contains(err.Error(), "1219") {
			t.Errorf("%s: the error repeats the number: %v", row, err)
		}
	}
}
