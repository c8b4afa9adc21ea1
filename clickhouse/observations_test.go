package clickhouse

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

func obsKey(o strategy.Observation) string {
	d := ""
	if !o.Dimension.IsTotal() {
		d = " " + o.Dimension.Kind + "=" + o.Dimension.Value
	}
	return fmt.Sprintf("%s %s%s: %g v%d", o.Indicator, o.Period, d, o.Value, o.Version)
}

func obsKeys(obs []strategy.Observation) string {
	keys := make([]string, len(obs))
	for i, o := range obs {
		keys[i] = obsKey(o)
	}
	return strings.Join(keys, "\n")
}

func TestObservationsRoundTrip(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	recorded := time.Date(2025, 9, 1, 12, 34, 56, 0, time.UTC)
	y := func(n int) strategy.Period { return strategy.Period{Kind: strategy.Year, Year: n} }
	t2 := strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 2}
	jan := strategy.Period{Kind: strategy.Month, Year: 2025, N: 1}
	dep := strategy.Dimension{Kind: "department", Value: "Bygg"}
	in := []strategy.Observation{
		{Tenant: "0120", Indicator: "digital_share", Period: t2, Value: 41.5, Source: "measure", Version: 1, Recorded: recorded},
		{Tenant: "0120", Indicator: "digital_share", Period: t2, Dimension: dep, Value: 60, Source: "measure", Version: 1, Recorded: recorded},
		{Tenant: "0120", Indicator: "digital_share", Period: y(2024), Value: 30, Source: "measure", Version: 1, Recorded: recorded},
		{Tenant: "0120", Indicator: "digital_share", Period: jan, Value: 35, Source: "measure", Version: 1, Recorded: recorded},
		{Tenant: "0120", Indicator: "uptime", Period: y(2025), Value: 99.9, Source: "probe", Version: 1, Recorded: recorded},
		{Tenant: "0121", Indicator: "uptime", Period: y(2025), Value: 12, Source: "probe", Version: 1, Recorded: recorded},
	}
	// Written twice: read once.
	for range 2 {
		if err := s.WriteObservations(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Observations(ctx, ObservationFilter{Tenant: "0120", Dimensions: true})
	if err != nil {
		t.Fatal(err)
	}
	want := "digital_share 2024: 30 v1\n" +
		"digital_share 2025-01: 35 v1\n" +
		"digital_share 2025-T2: 41.5 v1\n" +
		"digital_share 2025-T2 department=Bygg: 60 v1\n" +
		"uptime 2025: 99.9 v1"
	if obsKeys(got) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", obsKeys(got), want)
	}
	if !reflect.DeepEqual(got[2], in[0]) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got[2], in[0])
	}
	if got[2].Period.Start() != time.Date(2025, 5, 1, 0, 0, 0, 0, strategy.Stockholm) {
		t.Fatalf("T2 starts %v", got[2].Period.Start())
	}

	// Totals only, one indicator, one kind, a period range.
	for _, c := range []struct {
		f    ObservationFilter
		want string
	}{
		{ObservationFilter{Tenant: "0120"}, "digital_share 2024: 30 v1\ndigital_share 2025-01: 35 v1\ndigital_share 2025-T2: 41.5 v1\nuptime 2025: 99.9 v1"},
		{ObservationFilter{Tenant: "0120", Indicators: []string{"uptime"}}, "uptime 2025: 99.9 v1"},
		{ObservationFilter{Tenant: "0120", Indicators: []string{"uptime", "digital_share"}, Kind: strategy.Year}, "digital_share 2024: 30 v1\nuptime 2025: 99.9 v1"},
		{ObservationFilter{Tenant: "0120", Kind: strategy.Tertial, Dimensions: true}, "digital_share 2025-T2: 41.5 v1\ndigital_share 2025-T2 department=Bygg: 60 v1"},
		// From is inclusive and To exclusive, in Stockholm time.
		{ObservationFilter{Tenant: "0120", From: jan.Start(), To: t2.Start()}, "digital_share 2025-01: 35 v1\nuptime 2025: 99.9 v1"},
		{ObservationFilter{Tenant: "0120", From: jan.Start().Add(time.Second), To: t2.Start().Add(time.Second)}, "digital_share 2025-T2: 41.5 v1"},
		// Midnight 2025-01-01 Stockholm is 23:00 UTC the day before.
		{ObservationFilter{Tenant: "0120", To: time.Date(2024, 12, 31, 23, 0, 0, 0, time.UTC)}, "digital_share 2024: 30 v1"},
		{ObservationFilter{Tenant: "0121"}, "uptime 2025: 12 v1"},
		{ObservationFilter{Tenant: "nobody"}, ""},
	} {
		got, err := s.Observations(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		if obsKeys(got) != c.want {
			t.Errorf("%+v:\n got: %q\nwant: %q", c.f, obsKeys(got), c.want)
		}
	}

	// A higher version wins; a lower one written later does not.
	up := in[4]
	up.Value, up.Version = 98.5, 3
	down := in[4]
	down.Value, down.Version = 50, 2
	if err := s.WriteObservations(ctx, []strategy.Observation{up}); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteObservations(ctx, []strategy.Observation{down}); err != nil {
		t.Fatal(err)
	}
	got, err = s.Observations(ctx, ObservationFilter{Tenant: "0120", Indicators: []string{"uptime"}})
	if err != nil {
		t.Fatal(err)
	}
	if obsKeys(got) != "uptime 2025: 98.5 v3" {
		t.Fatalf("after correction: %s", obsKeys(got))
	}
}

func TestWriteObservationsDefaults(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	before := time.Now()
	err := s.WriteObservations(ctx, []strategy.Observation{{Tenant: "0120", Indicator: "i", Period: strategy.Period{Kind: strategy.Year, Year: 2025}, Value: 1}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Observations(ctx, ObservationFilter{Tenant: "0120"})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	if got[0].Version < uint64(before.UnixNano()) || got[0].Recorded.Before(before.Truncate(time.Second)) {
		t.Fatalf("version %d, recorded %v: not filled with the time of writing", got[0].Version, got[0].Recorded)
	}
	for _, bad := range []strategy.Observation{
		{Indicator: "i", Period: strategy.Period{Kind: strategy.Year, Year: 2025}},
		{Tenant: "0120", Period: strategy.Period{Kind: strategy.Year, Year: 2025}},
		{Tenant: "0120", Indicator: "i", Period: strategy.Period{Kind: strategy.Quarter, Year: 2025, N: 5}},
	} {
		if err := s.WriteObservations(ctx, []strategy.Observation{bad}); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestObservationHistory(t *testing.T) {
	s, dsn := openTestStore(t)
	ctx := context.Background()
	p := strategy.Period{Kind: strategy.Year, Year: 2025}
	p24 := strategy.Period{Kind: strategy.Year, Year: 2024}
	write := func(o strategy.Observation) {
		t.Helper()
		o.Tenant, o.Indicator = "0120", "budget"
		if err := s.WriteObservations(ctx, []strategy.Observation{o}); err != nil {
			t.Fatal(err)
		}
	}
	write(strategy.Observation{Period: p, Value: 10, Version: 1, Author: "anna", Comment: "första"})
	write(strategy.Observation{Period: p24, Value: 8, Version: 2, Author: "anna"})
	write(strategy.Observation{Period: p, Value: 12, Version: 3, Author: "bo", Comment: "rättat"})
	write(strategy.Observation{Period: p, Value: 13, Version: 4})                                  // collected, not manual
	write(strategy.Observation{Period: p, Value: 12, Version: 3, Author: "bo", Comment: "rättat"}) // retried

	hist, err := s.ObservationHistory(ctx, "0120", "budget")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, o := range hist {
		lines = append(lines, fmt.Sprintf("%s %s %g v%d %s %s", o.Indicator, o.Period, o.Value, o.Version, o.Author, o.Comment))
	}
	want := "budget 2025 12 v3 bo rättat\nbudget 2024 8 v2 anna \nbudget 2025 10 v1 anna första"
	if got := strings.Join(lines, "\n"); got != want {
		t.Fatalf("history:\n%s\nwant:\n%s", got, want)
	}
	if n := queryTSV(t, dsn, "SELECT count() FROM observation_log"); n != "4" {
		t.Fatalf("observation_log has %s rows, want 4 (append-only, retry included)", n)
	}
	// The current value is the collected one with the highest version.
	cur, err := s.Observations(ctx, ObservationFilter{Tenant: "0120", Kind: strategy.Year, From: p.Start()})
	if err != nil {
		t.Fatal(err)
	}
	if obsKeys(cur) != "budget 2025: 13 v4" || cur[0].Author != "" {
		t.Fatalf("current: %s (author %q)", obsKeys(cur), cur[0].Author)
	}
	if h, err := s.ObservationHistory(ctx, "0121", "budget"); err != nil || len(h) != 0 {
		t.Fatalf("other tenant's history: %v %v", h, err)
	}
}

func TestMoveSeriesValues(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	y := func(n int) strategy.Period { return strategy.Period{Kind: strategy.Year, Year: n} }
	write := func(o strategy.Observation) {
		t.Helper()
		o.Tenant = "0120"
		if err := s.WriteObservations(ctx, []strategy.Observation{o}); err != nil {
			t.Fatal(err)
		}
	}
	// Collected under the id; entered by hand under the series name, once
	// older (2024) and once newer (2025) than the collected value.
	write(strategy.Observation{Indicator: "samrad", Period: y(2024), Value: 70, Version: 5})
	write(strategy.Observation{Indicator: "samrad", Period: y(2025), Value: 78.1, Version: 5})
	write(strategy.Observation{Indicator: "samrad-serie", Period: y(2024), Value: 60, Version: 4, Author: "anna"})
	write(strategy.Observation{Indicator: "samrad-serie", Period: y(2025), Value: 41.5, Version: 6, Author: "anna", Comment: "rättat"})
	write(strategy.Observation{Indicator: "enkat", Period: y(2025), Value: 50, Version: 1})
	moves := []SeriesMove{{Series: "samrad-serie", Indicators: []string{"samrad", "samrad-kopia"}}, {Series: "enkat", Indicators: []string{"e"}, Keep: true},
		{Series: "tom", Indicators: []string{"x"}}}
	// Copied twice (Keep: no delete), then moved: copies of one version
	// are one value. (Rows are never read back under the series name after
	// the delete: on 18.16 a mutation finishes in the background.)
	keep := func(ms []SeriesMove) []SeriesMove {
		out := slices.Clone(ms)
		for i := range out {
			out[i].Keep = true
		}
		return out
	}
	for _, ms := range [][]SeriesMove{keep(moves), keep(moves), moves} {
		n, err := s.MoveSeriesValues(ctx, "0120", ms)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("%d series moved, want 2", n)
		}
		cur, err := s.Observations(ctx, ObservationFilter{Tenant: "0120", Indicators: []string{"samrad", "samrad-kopia", "enkat", "e", "x"}})
		if err != nil {
			t.Fatal(err)
		}
		want := "e 2025: 50 v1\nenkat 2025: 50 v1\nsamrad 2024: 70 v5\nsamrad 2025: 41.5 v6\nsamrad-kopia 2024: 60 v4\nsamrad-kopia 2025: 41.5 v6"
		if got := obsKeys(cur); got != want {
			t.Fatalf("after the move:\n%s\nwant:\n%s", got, want)
		}
		hist, err := s.ObservationHistory(ctx, "0120", "samrad")
		if err != nil {
			t.Fatal(err)
		}
		if got := obsKeys(hist); got != "samrad 2025: 41.5 v6\nsamrad 2024: 60 v4" {
			t.Fatalf("history under the id:\n%s", got)
		}
	}
}
