package collectors

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/malbild/malbild/strategy"
)

var (
	seriesKnown = map[string]bool{"digital-andel": true, "nojd-medborgare": true, "handlaggningstid": true}
	seriesUnits = map[string]strategy.Unit{"digital-andel": strategy.UnitPercent, "nojd-medborgare": strategy.UnitPercent, "handlaggningstid": strategy.UnitDays}
)

func seriesP(o *SeriesOptions) seriesParse {
	if o == nil {
		o = &SeriesOptions{}
	}
	return seriesParse{opts: o, known: seriesKnown, units: seriesUnits, now: fileTestNow}
}

func TestParseSeriesWindows1252(t *testing.T) {
	name := "testdata/series/serier-cp1252.csv"
	got, err := parseSeries(openFixture(t, name), name, seriesP(nil))
	if err != nil {
		t.Fatal(err)
	}
	ob := func(id string, per strategy.Period, dim strategy.Dimension, v float64, comment string) strategy.Observation {
		return strategy.Observation{Indicator: id, Period: per, Dimension: dim, Value: v, Source: "series_csv", Comment: comment, Recorded: fileTestNow}
	}
	want := []strategy.Observation{
		ob("digital-andel", strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 1}, strategy.Dimension{}, 62.5, "Ny e-tjänst för bygglov"),
		ob("digital-andel", strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 1}, strategy.Dimension{Kind: "department", Value: "Socialförvaltningen"}, 48, ""),
		ob("nojd-medborgare", strategy.Period{Kind: strategy.Year, Year: 2024}, strategy.Dimension{}, 71.25, "Medborgarundersökning, SCB"),
		ob("handlaggningstid", strategy.Period{Kind: strategy.Month, Year: 2025, N: 3}, strategy.Dimension{Kind: "case_type", Value: "Bygglov"}, 12, ""),
		ob("handlaggningstid", strategy.Period{Kind: strategy.Quarter, Year: 2025, N: 1}, strategy.Dimension{}, 1234.5, ""),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseSeriesEnglishBOM(t *testing.T) {
	name := "testdata/series/series-en-bom.csv"
	got, err := parseSeries(openFixture(t, name), name, seriesP(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Value != 63.1 || got[0].Period.String() != "2025-T2" || got[1].Value != 70.5 || !got[1].Dimension.IsTotal() {
		t.Fatalf("got %+v", got)
	}
}

func TestParseSeriesBadFile(t *testing.T) {
	name := "testdata/series/serier-bad.csv"
	p := seriesP(nil)
	p.known = map[string]bool{"digital-andel": true}
	got, err := parseSeries(openFixture(t, name), name, p)
	if got != nil {
		t.Fatal("a rejected file returned observations")
	}
	wantProblems(t, err,
		name+`:2:1: indikator: unknown indicator "okand-indikator": the strategy has no indicator with that id`,
		name+`:3:2: period: period 2025-T3 is in the future`,
		name+`:4:3: värde: 120 percent is outside 0–100`,
		name+`:5:2: period: invalid period "2025-T5" (want e.g. 2025, 2025-T2, 2025-Q3 or 2025-03)`,
		name+`:6:3: värde: invalid number "abc"`,
		name+`:7:4: dimension: dimension "avdelning": want kind=value, e.g. department=Socialförvaltningen`,
		name+`:8:5: kommentar: the value looks like a personnummer; files with personal data are rejected whole`,
		name+`:9:1: indikator: "Digital Andel" is not an indicator id (lower-case letters, digits, '_', '.' and '-')`,
		name+`:11:1: indikator: digital-andel 2024-T1 appears twice (first on line 10)`,
	)
}

func TestParseSeriesIndicatorChecks(t *testing.T) {
	data := "indicator,period,value\nany-id,2024,5\n"
	// Without the strategy's ids and without an allow-list any well-formed
	// id passes; units unknown means no range check.
	got, err := parseSeries(strings.NewReader("indicator,period,value\nany-id,2024,500\n"), "s.csv", seriesParse{opts: &SeriesOptions{}, now: fileTestNow})
	if err != nil || len(got) != 1 || got[0].Value != 500 {
		t.Fatalf("unchecked: %+v, %v", got, err)
	}
	// The instance's allow-list.
	_, err = parseSeries(strings.NewReader(data), "s.csv", seriesParse{opts: &SeriesOptions{}, allowed: map[string]bool{"x": true}, now: fileTestNow})
	wantProblems(t, err, `s.csv:2:1: indicator: indicator "any-id" is not among this collector's indicators`)
	// A percent value exactly on the bounds is fine; the current period too.
	_, err = parseSeries(strings.NewReader("indikator;period;värde\ndigital-andel;2025-T2;0\nnojd-medborgare;2025-06;100\n"), "s.csv", seriesP(nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = parseSeries(strings.NewReader("indikator;period;värde\ndigital-andel;2025-07;-0,5\n"), "s.csv", seriesP(nil))
	wantProblems(t, err, `s.csv:2:2: period: period 2025-07 is in the future`, `s.csv:2:3: värde: -0,5 percent is outside 0–100`)
	// Column overrides.
	o := &SeriesOptions{Columns: SeriesColumns{Indicator: "Nyckeltal", Period: "Tertial", Value: "Utfall", Comment: "Analys"}}
	got, err = parseSeries(strings.NewReader("Nyckeltal;Tertial;Utfall;Analys\nhandlaggningstid;2025-T1;12,5;Bättre än väntat\n"), "s.csv", seriesP(o))
	if err != nil || len(got) != 1 || got[0].Value != 12.5 || got[0].Comment != "Bättre än väntat" {
		t.Fatalf("overrides: %+v, %v", got, err)
	}
}

func TestSeriesCollect(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "inkorg")
	if err := os.Mkdir(in, 0o755); err != nil {
		t.Fatal(err)
	}
	good := copyFixture(t, "testdata/series/serier-cp1252.csv", in)
	bad := copyFixture(t, "testdata/series/serier-bad.csv", in)
	inst := instanceFrom(t, filepath.Join(dir, "malbild.yaml"), "name: serier\nkind: series_csv\ndir: inkorg\nwatch: true\nstate_dir: state\n")
	c, err := New(inst)
	if err != nil {
		t.Fatal(err)
	}
	c.(*seriesCollector).now = fixedNow
	sink := &batchSink{}
	err = c.Collect(context.Background(), Request{Tenant: "0120", Indicators: seriesKnown, Units: seriesUnits}, sink)
	if err == nil || !strings.HasPrefix(err.Error(), bad+`:2:1: indikator: unknown indicator "okand-indikator"`) {
		t.Fatalf("err = %v", err)
	}
	if len(sink.batches) != 1 {
		t.Fatalf("%d batches", len(sink.batches))
	}
	b := sink.batches[0]
	if b.Source != good || len(b.Observations) != 5 {
		t.Fatalf("batch %s with %d observations", b.Source, len(b.Observations))
	}
	for _, o := range b.Observations {
		if o.Tenant != "0120" || o.Version != b.Version || o.Source != "series_csv" || o.Author != "" || !o.Recorded.Equal(fileTestNow) {
			t.Fatalf("observation %+v (batch version %d)", o, b.Version)
		}
	}
}

func TestSeriesOptions(t *testing.T) {
	wantOptionsError(t, "name: a\nkind: series_csv\npath: a.csv\nindicators: [ok, Not OK]\n", "4", `indicators: "Not OK" is not an indicator id`)
	c, err := New(instanceFrom(t, "/etc/malbild/malbild.yaml", "name: a\nkind: series_csv\npath: a.csv\nindicators: [a, b]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.(*seriesCollector).allowed; !reflect.DeepEqual(got, map[string]bool{"a": true, "b": true}) {
		t.Fatalf("allowed %v", got)
	}
}

func TestSeriesSample(t *testing.T) {
	c := checkFileSample(t, "series_csv", seriesSample)
	if c.(*seriesCollector).allowed["digital-andel"] != true {
		t.Fatal("sample indicators not loaded")
	}
}

func FuzzParseSeries(f *testing.F) {
	for _, p := range []string{"testdata/series/serier-cp1252.csv", "testdata/series/series-en-bom.csv", "testdata/series/serier-bad.csv"} {
		f.Add(readFixture(f, p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		obs, err := parseSeries(strings.NewReader(string(data)), "f.csv", seriesP(nil))
		if err != nil && obs != nil {
			t.Fatal("observations returned with an error")
		}
		for _, o := range obs {
			if !seriesKnown[o.Indicator] || !o.Period.Valid() || o.Period.Start().After(fileTestNow) ||
				(seriesUnits[o.Indicator] == strategy.UnitPercent && (o.Value < 0 || o.Value > 100)) {
				t.Fatalf("invalid observation accepted: %+v", o)
			}
		}
	})
}
