package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

func floatPtr(v float64) *float64 { return &v }

// queryTSV runs query over HTTP (independent of the code under test) and
// returns its rows.
func queryTSV(t *testing.T, dsn, query string) string {
	t.Helper()
	return strings.TrimSpace(chtest.Query(t, dsn, query))
}

func TestWriteBatchRoundTrip(t *testing.T) {
	s, dsn := openTestStore(t)
	ctx := context.Background()
	// Times around midnight Stockholm time, in summer (UTC+2) and winter
	// (UTC+1), given in various locations.
	lateWinter := time.Date(2025, 1, 31, 23, 30, 0, 0, strategy.Stockholm) // 22:30 UTC
	earlySummer := time.Date(2025, 7, 1, 0, 30, 0, 0, strategy.Stockholm)  // 2025-06-30 22:30 UTC
	utcEvening := time.Date(2025, 3, 30, 23, 30, 0, 0, time.UTC)           // 2025-03-31 01:30 Stockholm (CEST)
	utcMidnight := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)             // 02:00 Stockholm, same date
	b := &facts.Batch{
		Tenant: "0120", Collector: "files", Source: "export.csv", Version: 7,
		Cases: []facts.Case{
			{ID: "KS 2025/1", Type: "bygglov", Department: "Bygg", Channel: "e-tjänst", Digital: true, Application: true,
				Received: lateWinter, Decided: earlySummer},
			{ID: "KS 2025/2", Type: "bygglov", Department: "Bygg", Channel: "post", Received: utcEvening},
		},
		EServices: []facts.EService{
			{Snapshot: lateWinter, ID: "e1", Name: "Bygglov", Category: "Bygga", Department: "Bygg", URL: "https://x.example/e1", Integrated: true, EID: true, Active: true},
			{Snapshot: earlySummer, ID: "e1", Name: "Bygglov", Active: false},
			{Snapshot: utcEvening, ID: "e2", Name: "Parkering"},
			{Snapshot: utcMidnight, ID: "e3", Name: "Skola", EID: true},
		},
		Responses: []facts.SurveyResponse{
			{Survey: "nkia", ID: "r1", System: "Lifecare", Group: "handläggare", Score: 4.5, ScaleMin: 1, ScaleMax: 5, Answered: earlySummer},
		},
		Probes: []facts.ProbeResult{
			{Service: "web", URL: "https://x.example/", Time: lateWinter, OK: true, Status: 200, Duration: 123456 * time.Microsecond},
			{Service: "web", URL: "https://x.example/", Time: earlySummer, Status: 503, Duration: 2 * time.Second, Error: "service unavailable"},
		},
		Maintenance: []facts.MaintenanceWindow{{Service: "web", Start: lateWinter, End: earlySummer, Note: "uppgradering"}},
		Benchmarks: []facts.BenchmarkValue{
			{Source: "kolada", KPI: "U00405", Municipality: "0120", Year: 2024, Gender: "T", Value: floatPtr(61.5), Status: ""},
			{Source: "kolada", KPI: "U00405", Municipality: "0121", Year: 2024, Gender: "T", Value: nil, Status: "Missing", Deleted: true},
		},
		Observations: []strategy.Observation{
			{Tenant: "someone-else", Indicator: "i1", Period: strategy.Period{Kind: strategy.Year, Year: 2025}, Value: 3},
			{Indicator: "i1", Period: strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 2}, Value: 4, Source: "own", Version: 99,
				Dimension: strategy.Dimension{Kind: "department", Value: "Bygg"}},
		},
	}
	if err := s.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	check := func(name, query, want string) {
		t.Helper()
		if got := queryTSV(t, dsn, query); got != want {
			t.Errorf("%s:\n got: %q\nwant: %q", name, got, want)
		}
	}
	unix := func(t time.Time) int64 { return t.Unix() }
	check("cases", `SELECT tenant, case_id, case_type, department, channel, digital, application,
		toUnixTimestamp(received), isNull(decided), ifNull(toUnixTimestamp(decided), 0), source, version FROM cases ORDER BY case_id`,
		fmt.Sprintf("0120\tKS 2025/1\tbygglov\tBygg\te-tjänst\t1\t1\t%d\t0\t%d\texport.csv\t7\n"+
			"0120\tKS 2025/2\tbygglov\tBygg\tpost\t0\t0\t%d\t1\t0\texport.csv\t7", unix(lateWinter), unix(earlySummer), unix(utcEvening)))
	check("e-services", `SELECT tenant, toString(snapshot), service_id, name, category, department, url, integrated, eid, active, source, version
		FROM eservice_snapshots ORDER BY snapshot, service_id`,
		"0120\t2025-01-31\te1\tBygglov\tBygga\tBygg\thttps://x.example/e1\t1\t1\t1\texport.csv\t7\n"+
			"0120\t2025-03-31\te2\tParkering\t\t\t\t0\t0\t0\texport.csv\t7\n"+
			"0120\t2025-05-01\te3\tSkola\t\t\t\t0\t1\t0\texport.csv\t7\n"+
			"0120\t2025-07-01\te1\tBygglov\t\t\t\t0\t0\t0\texport.csv\t7")
	check("survey", `SELECT tenant, survey, response_id, system, respondent_group, score, scale_min, scale_max, toString(answered), source, version FROM survey_responses`,
		"0120\tnkia\tr1\tLifecare\thandläggare\t4.5\t1\t5\t2025-07-01\texport.csv\t7")
	check("probes", `SELECT tenant, service, url, toUnixTimestamp(ts), ok, status, duration_ms, error, source, version FROM probe_results ORDER BY ts`,
		fmt.Sprintf("0120\tweb\thttps://x.example/\t%d\t1\t200\t123.456\t\texport.csv\t7\n"+
			"0120\tweb\thttps://x.example/\t%d\t0\t503\t2000\tservice unavailable\texport.csv\t7", unix(lateWinter), unix(earlySummer)))
	check("maintenance", `SELECT tenant, service, toUnixTimestamp(starts), toUnixTimestamp(ends), note, source, version FROM maintenance_windows`,
		fmt.Sprintf("0120\tweb\t%d\t%d\tuppgradering\texport.csv\t7", unix(lateWinter), unix(earlySummer)))
	check("benchmarks", `SELECT tenant, source, kpi, municipality, period, gender, isNull(value), ifNull(value, -1), status, deleted, version FROM benchmark_values ORDER BY municipality`,
		"0120\tkolada\tU00405\t0120\t2024\tT\t0\t61.5\t\t0\t7\n"+
			"0120\tkolada\tU00405\t0121\t2024\tT\t1\t-1\tMissing\t1\t7")
	check("observations", `SELECT tenant, indicator, period_kind, toString(period_start), dim_kind, dim_value, value, source, version FROM observations ORDER BY period_kind`,
		"0120\ti1\ttertial\t2025-05-01\tdepartment\tBygg\t4\town\t99\n"+
			"0120\ti1\tyear\t2025-01-01\t\t\t3\texport.csv\t7")
	check("probe_latest", `SELECT service, argMax(status, ts) FROM probe_latest GROUP BY service`, "web\t503")

	// The same batch again, with a higher version, replaces its rows.
	b.Version = 8
	if err := s.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	check("cases after re-import", `SELECT count(), max(version) FROM cases FINAL`, "2\t8")
}

func TestWriteBatchVersionDefaultsToNow(t *testing.T) {
	s, dsn := openTestStore(t)
	before := uint64(time.Now().UnixNano())
	err := s.WriteBatch(context.Background(), &facts.Batch{Tenant: "0120", Source: "s",
		Cases: []facts.Case{{ID: "1", Received: time.Now()}}})
	if err != nil {
		t.Fatal(err)
	}
	var v uint64
	fmt.Sscan(queryTSV(t, dsn, "SELECT version FROM cases"), &v)
	if v < before || v > uint64(time.Now().UnixNano()) {
		t.Fatalf("version %d is not the time of writing (%d…)", v, before)
	}
}

// More rows than one block: the insert is sent in several blocks.
func TestWriteBatchSeveralBlocks(t *testing.T) {
	s, dsn := openTestStore(t)
	n := 2*blockRows + 1
	b := &facts.Batch{Tenant: "0120", Source: "big.csv", Version: 1, Cases: syntheticCases(n)}
	if err := s.WriteBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d\t%d\t%d", n, n, n-n/2) // even rows are undecided
	if got := queryTSV(t, dsn, "SELECT count(), uniqExact(case_id), countIf(isNull(decided)) FROM cases"); got != want {
		t.Fatalf("count, distinct ids, undecided = %s, want %s", got, want)
	}
}

func TestWriteBatchRejectsBadInputAndWritesNothing(t *testing.T) {
	s, dsn := openTestStore(t)
	ok := facts.Case{ID: "1", Received: time.Now()}
	for _, c := range []struct {
		name string
		b    facts.Batch
		want string
	}{
		{"no tenant", facts.Batch{Cases: []facts.Case{ok}}, "batch has no tenant"},
		{"no received", facts.Batch{Tenant: "0120", Cases: []facts.Case{ok, {ID: "2"}}}, "case 2 (2): received is missing"},
		{"before 1970", facts.Batch{Tenant: "0120", Cases: []facts.Case{ok},
			Probes: []facts.ProbeResult{{Service: "web", Time: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)}}}, "probe result 1 (web): time 1969-01-01T00:00:00Z is outside"},
		{"scale", facts.Batch{Tenant: "0120", Cases: []facts.Case{ok},
			Responses: []facts.SurveyResponse{{ID: "r", Answered: time.Now(), ScaleMax: 1000}}}, "survey response 1 (r): scale 0–1000"},
		{"bad period", facts.Batch{Tenant: "0120", Cases: []facts.Case{ok},
			Observations: []strategy.Observation{{Indicator: "i", Period: strategy.Period{Kind: "week", Year: 2025}}}}, "observation 1: indicator i: invalid period"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := s.WriteBatch(context.Background(), &c.b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if IsUnavailable(err) {
				t.Fatalf("bad input reported as unavailable: %v", err)
			}
		})
	}
	if got := queryTSV(t, dsn, "SELECT count() FROM cases"); got != "0" {
		t.Fatalf("bad batches wrote %s cases", got)
	}
}

func syntheticCases(n int) []facts.Case {
	cs := make([]facts.Case, n)
	start := time.Date(2024, 1, 1, 8, 0, 0, 0, strategy.Stockholm)
	types := []string{"bygglov", "försörjningsstöd", "parkeringstillstånd", "skolskjuts"}
	for i := range cs {
		cs[i] = facts.Case{
			ID: fmt.Sprintf("KS %d/%d", 2024+i%2, i), Type: types[i%len(types)], Department: "Förvaltning " + types[i%3],
			Channel: "e-tjänst", Digital: i%3 != 0, Application: i%5 != 0,
			Received: start.Add(time.Duration(i) * time.Minute),
		}
		if i%2 == 1 {
			cs[i].Decided = cs[i].Received.Add(time.Duration(i%40) * 24 * time.Hour)
		}
	}
	return cs
}

func BenchmarkWriteBatchCases(b *testing.B) {
	dsn := chtest.DSN(b)
	ctx := context.Background()
	s, err := Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	const n = 100_000
	batch := &facts.Batch{Tenant: "0120", Source: "bench.csv", Cases: syntheticCases(n)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch.Version = uint64(i + 1)
		if err := s.WriteBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
