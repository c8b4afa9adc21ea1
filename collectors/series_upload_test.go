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
