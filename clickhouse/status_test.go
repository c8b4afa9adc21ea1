package clickhouse

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

func TestCollectorStatus(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	at := func(h int) time.Time { return time.Date(2025, 6, 1, h, 0, 0, 0, time.UTC) }
	for _, r := range []Run{
		{Tenant: "0120", Collector: "ärenden", Kind: "cases_csv", Started: at(1), Finished: at(1).Add(time.Minute), Rows: 100, Outcome: OutcomeOK},
		{Tenant: "0120", Collector: "ärenden", Kind: "cases_csv", Started: at(2), Finished: at(2).Add(time.Minute), Outcome: OutcomeFailed, Error: "line 3: bad date"},
		{Tenant: "0120", Collector: "ärenden", Kind: "cases_csv", Started: at(3), Finished: at(3).Add(2 * time.Minute), Rows: 120, Outcome: OutcomeOK},
		{Tenant: "0120", Collector: "kolada", Kind: "kolada", Started: at(4), Rows: 5, Outcome: OutcomeSpooled, Error: "ClickHouse down"},
		{Tenant: "0121", Collector: "kolada", Kind: "kolada", Started: at(5), Outcome: OutcomeOK},
	} {
		if err := s.RecordRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.CollectorStatus(ctx, "0120")
	if err != nil {
		t.Fatal(err)
	}
	want := []CollectorStatus{
		{Collector: "kolada", Kind: "kolada",
			LastRun:   Run{Tenant: "0120", Collector: "kolada", Kind: "kolada", Started: at(4), Rows: 5, Outcome: OutcomeSpooled, Error: "ClickHouse down"},
			LastError: "ClickHouse down", LastErrorTime: at(4)},
		{Collector: "ärenden", Kind: "cases_csv",
			LastRun:     Run{Tenant: "0120", Collector: "ärenden", Kind: "cases_csv", Started: at(3), Finished: at(3).Add(2 * time.Minute), Rows: 120, Outcome: OutcomeOK},
			LastSuccess: at(3).Add(2 * time.Minute), LastError: "line 3: bad date", LastErrorTime: at(2).Add(time.Minute)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got:\n%+v\nwant:\n%+v", got, want)
	}
	for _, bad := range []Run{
		{Collector: "x", Started: at(1), Outcome: OutcomeOK},
		{Tenant: "0120", Started: at(1), Outcome: OutcomeOK},
		{Tenant: "0120", Collector: "x", Started: at(1), Outcome: "maybe"},
		{Tenant: "0120", Collector: "x", Outcome: OutcomeOK},
	} {
		if err := s.RecordRun(ctx, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestServiceStatusLatestPerService(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	at := func(m int) time.Time { return time.Date(2025, 6, 1, 12, m, 0, 0, time.UTC) }
	// Separate batches leave separate, unmerged parts in probe_latest.
	for i, p := range []facts.ProbeResult{
		{Service: "web", URL: "https://a.example/", Time: at(1), OK: true, Status: 200, Duration: 120 * time.Millisecond},
		{Service: "web", URL: "https://a.example/", Time: at(3), Status: 502, Duration: 1500 * time.Millisecond, Error: "bad gateway"},
		{Service: "web", URL: "https://a.example/", Time: at(2), OK: true, Status: 200, Duration: 90 * time.Millisecond}, // late arrival
		{Service: "e-tjänster", URL: "https://e.example/", Time: at(2), OK: true, Status: 204, Duration: 1234567 * time.Nanosecond},
	} {
		if err := s.WriteBatch(ctx, &facts.Batch{Tenant: "0120", Source: "probe", Version: uint64(i + 1), Probes: []facts.ProbeResult{p}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WriteBatch(ctx, &facts.Batch{Tenant: "0121", Source: "probe", Probes: []facts.ProbeResult{{Service: "web", Time: at(9), OK: true}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ServiceStatus(ctx, "0120")
	if err != nil {
		t.Fatal(err)
	}
	want := []ServiceStatus{
		{Service: "e-tjänster", URL: "https://e.example/", Time: at(2), OK: true, Status: 204, Duration: 1234567 * time.Nanosecond},
		{Service: "web", URL: "https://a.example/", Time: at(3), Status: 502, Duration: 1500 * time.Millisecond, Error: "bad gateway"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got:\n%+v\nwant:\n%+v", got, want)
	}
}

// A check imported again with another outcome (a corrected export) is
// the service's status: the later import wins, never either at random.
func TestServiceStatusReimportedCheck(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	at := time.Date(2025, 6, 1, 12, 5, 0, 0, time.UTC)
	for i, p := range []facts.ProbeResult{
		{Service: "web", URL: "https://a.example/", Time: at, OK: true, Status: 200},
		{Service: "web", URL: "https://a.example/", Time: at, Status: 503, Error: "unavailable"},
	} {
		if err := s.WriteBatch(ctx, &facts.Batch{Tenant: "0120", Source: "probe", Version: uint64(i + 1), Probes: []facts.ProbeResult{p}}); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		got, err := s.ServiceStatus(ctx, "0120")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].OK || got[0].Status != 503 {
			t.Fatalf("after a re-import: %+v, want the later import (503)", got)
		}
	}
}

func TestBenchmarksLatestNotDeleted(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	v := func(kpi, muni string, year int, value *float64, deleted bool) facts.BenchmarkValue {
		return facts.BenchmarkValue{Source: "kolada", KPI: kpi, Municipality: muni, Year: year, Gender: "T", Value: value, Deleted: deleted}
	}
	write := func(version uint64, vs ...facts.BenchmarkValue) {
		t.Helper()
		if err := s.WriteBatch(ctx, &facts.Batch{Tenant: "0120", Source: "https://api.kolada.se/v2", Version: version, Benchmarks: vs}); err != nil {
			t.Fatal(err)
		}
	}
	write(1, v("U1", "0120", 2023, floatPtr(10), false), v("U1", "0120", 2024, floatPtr(11), false),
		v("U1", "0121", 2024, floatPtr(12), false), v("U2", "0120", 2024, floatPtr(5), false))
	// Version 2: 2023 became NULL upstream, 0121 was deleted, 2024 revised.
	write(2, v("U1", "0120", 2023, nil, false), v("U1", "0120", 2024, floatPtr(11.5), false), v("U1", "0121", 2024, floatPtr(12), true))
	show := func(bs []facts.BenchmarkValue) string {
		var lines []string
		for _, b := range bs {
			val := "NULL"
			if b.Value != nil {
				val = fmt.Sprint(*b.Value)
			}
			lines = append(lines, fmt.Sprintf("%s %s %s %d %s %s", b.Source, b.KPI, b.Municipality, b.Year, b.Gender, val))
		}
		return strings.Join(lines, "\n")
	}
	got, err := s.Benchmarks(ctx, "0120", []string{"U1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "kolada U1 0120 2023 T NULL\nkolada U1 0120 2024 T 11.5"; show(got) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", show(got), want)
	}
	got, err = s.Benchmarks(ctx, "0120", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].KPI != "U2" {
		t.Fatalf("all KPIs: %s", show(got))
	}
}

func TestDataVersionChangesOnWrites(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	version := func() uint64 {
		t.Helper()
		v, err := s.DataVersion(ctx, "0120")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	seen := map[uint64]string{}
	step := func(name string) {
		t.Helper()
		v := version()
		if prev, dup := seen[v]; dup {
			t.Fatalf("data version %d after %s is the same as after %s", v, name, prev)
		}
		if again := version(); again != v {
			t.Fatalf("data version not stable: %d then %d", v, again)
		}
		seen[v] = name
	}
	step("nothing")
	p := strategy.Period{Kind: strategy.Year, Year: 2025}
	if err := s.WriteObservations(ctx, []strategy.Observation{{Tenant: "0120", Indicator: "i", Period: p, Value: 1, Version: 10}}); err != nil {
		t.Fatal(err)
	}
	step("an observation")
	// A new key with a lower version changes it too.
	if err := s.WriteObservations(ctx, []strategy.Observation{{Tenant: "0120", Indicator: "j", Period: p, Value: 1, Version: 5}}); err != nil {
		t.Fatal(err)
	}
	step("an observation with a lower version")
	if err := s.WriteAssessment(ctx, strategy.Assessment{Tenant: "0120", Subject: strategy.SubjectGoal, SubjectID: "g", Period: p, Level: strategy.LevelMet}); err != nil {
		t.Fatal(err)
	}
	step("an assessment")
	// Everything else a page shows changes it too: a failed collector
	// run, a probe result and a key figure.
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	if err := s.RecordRun(ctx, Run{Tenant: "0120", Collector: "ärenden", Kind: "cases_csv", Started: at, Finished: at, Outcome: OutcomeFailed, Error: "rad 3"}); err != nil {
		t.Fatal(err)
	}
	step("a failed collector run")
	probe := facts.ProbeResult{Service: "Bygglov", URL: "https://a.example/", Time: at, OK: true, Status: 200}
	if err := s.WriteBatch(ctx, &facts.Batch{Tenant: "0120", Collector: "p", Probes: []facts.ProbeResult{probe}}); err != nil {
		t.Fatal(err)
	}
	step("a probe result")
	probe.Time, probe.OK, probe.Status = at.Add(time.Minute), false, 503
	if err := s.WriteBatch(ctx, &facts.Batch{Tenant: "0120", Collector: "p", Probes: []facts.ProbeResult{probe}}); err != nil {
		t.Fatal(err)
	}
	step("a later probe result")
	value := 42.0
	if err := s.WriteBatch(ctx, &facts.Batch{Tenant: "0120", Collector: "k", Benchmarks: []facts.BenchmarkValue{
		{Source: "kolada", KPI: "U1", Municipality: "0120", Year: 2024, Gender: "T", Value: &value}}}); err != nil {
		t.Fatal(err)
	}
	step("a key figure")
	// Another tenant's data does not change it.
	before := version()
	if err := s.WriteObservations(ctx, []strategy.Observation{{Tenant: "0121", Indicator: "i", Period: p, Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if version() != before {
		t.Fatal("another tenant's observation changed the data version")
	}
}
