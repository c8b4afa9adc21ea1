package clickhouse

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

// TestObservationPages reads an indicator's values in pages: the summary
// per period counts the latest versions only (a re-import and a
// correction add none), the pages cover every value once, in the
// summary's order, and the history pages match ObservationHistory.
func TestObservationPages(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	rec := time.Date(2025, 5, 20, 8, 0, 0, 0, time.UTC)
	mar := strategy.Period{Kind: strategy.Month, Year: 2025, N: 3}
	apr := strategy.Period{Kind: strategy.Month, Year: 2025, N: 4}
	t1 := strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 1}
	y24 := strategy.Period{Kind: strategy.Year, Year: 2024}
	dep := func(v string) strategy.Dimension { return strategy.Dimension{Kind: "department", Value: v} }
	var in []strategy.Observation
	add := func(p strategy.Period, d strategy.Dimension, v float64, ver uint64, author string) {
		in = append(in, strategy.Observation{Tenant: "0120", Indicator: "andel", Period: p, Dimension: d, Value: v,
			Source: "upload", Version: ver, Author: author, Recorded: rec})
	}
	for i := range 5 {
		add(apr, dep(fmt.Sprintf("F%d", i)), float64(i), 1, "bo")
		add(mar, dep(fmt.Sprintf("F%d", i)), float64(10+i), 1, "bo")
	}
	add(apr, strategy.Dimension{}, 50, 1, "bo")
	add(t1, strategy.Dimension{}, 55, 1, "")
	add(t1, dep("F0"), 56, 1, "")
	add(y24, strategy.Dimension{}, 40, 1, "")
	add(mar, dep("F1"), 99, 2, "anna")          // a correction: one value, two versions
	add(apr, strategy.Dimension{}, 50, 1, "bo") // a retried write
	in = append(in, strategy.Observation{Tenant: "0121", Indicator: "andel", Period: apr, Value: 7, Source: "x", Version: 1, Recorded: rec})
	if err := s.WriteObservations(ctx, in); err != nil {
		t.Fatal(err)
	}
	f := ObservationFilter{Tenant: "0120", Indicators: []string{"andel"}, Dimensions: true}
	sum, err := s.ObservationSummary(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, p := range sum {
		lines = append(lines, fmt.Sprintf("%s n=%d dims=%d total=%v %g %s %s", p.Period, p.Values, p.Breakdowns, p.HasTotal, p.Total,
			p.TotalSource, p.Recorded.UTC().Format(time.RFC3339)))
	}
	want := "2025-04 n=6 dims=5 total=true 50 upload 2025-05-20T08:00:00Z\n" +
		"2025-03 n=5 dims=5 total=false 0  2025-05-20T08:00:00Z\n" +
		"2025-T1 n=2 dims=1 total=true 55 upload 2025-05-20T08:00:00Z\n" +
		"2024 n=1 dims=0 total=true 40 upload 2025-05-20T08:00:00Z"
	if got := strings.Join(lines, "\n"); got != want {
		t.Fatalf("summary:\n%s\nwant:\n%s", got, want)
	}

	all, err := s.Observations(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	var paged []strategy.Observation
	for off := 0; ; off += 4 {
		pg, err := s.ObservationPage(ctx, f, off, 4)
		if err != nil {
			t.Fatal(err)
		}
		if len(pg) > 4 {
			t.Fatalf("page at %d has %d values", off, len(pg))
		}
		paged = append(paged, pg...)
		if len(pg) < 4 {
			break
		}
	}
	if len(paged) != len(all) || len(paged) != 14 {
		t.Fatalf("pages hold %d values, Observations %d, want 14", len(paged), len(all))
	}
	if got := obsKey(paged[0]) + " | " + obsKey(paged[1]) + " | " + obsKey(paged[13]); got !=
		"andel 2025-04: 50 v1 | andel 2025-04 department=F0: 0 v1 | andel 2024: 40 v1" {
		t.Fatalf("page order: %s", got)
	}
	if v := paged[7]; v.Period != mar || v.Dimension != dep("F1") || v.Value != 99 || v.Author != "anna" {
		t.Fatalf("the corrected value reads %s (%s)", obsKey(v), v.Author)
	}
	// One period, as a summary row links to it.
	one, err := s.ObservationPage(ctx, ObservationFilter{Tenant: "0120", Indicators: []string{"andel"}, Kind: t1.Kind,
		From: t1.Start(), To: t1.End(), Dimensions: true}, 0, 0)
	if err != nil || obsKeys(one) != "andel 2025-T1: 55 v1\nandel 2025-T1 department=F0: 56 v1" {
		t.Fatalf("T1 page: %s (%v)", obsKeys(one), err)
	}

	hist, err := s.ObservationHistory(ctx, "0120", "andel")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := s.ObservationHistoryGroups(ctx, "0120", "andel")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range groups {
		n += g.Versions
	}
	if n != len(hist) || n != 12 {
		t.Fatalf("history groups hold %d versions, ObservationHistory %d, want 12", n, len(hist))
	}
	for _, size := range []int{1, 5, 7, 12, 0} {
		var hpaged []strategy.Observation
		for off := 0; off < n; off += max(size, 1) {
			pg, err := s.ObservationHistoryPage(ctx, "0120", "andel", groups, off, size)
			if err != nil {
				t.Fatal(err)
			}
			if size > 0 && len(pg) != min(size, n-off) {
				t.Fatalf("history page of %d at %d has %d versions", size, off, len(pg))
			}
			hpaged = append(hpaged, pg...)
			if size == 0 {
				break
			}
		}
		if obsKeys(hpaged) != obsKeys(hist) {
			t.Fatalf("history pages of %d:\n%s\nwant:\n%s", size, obsKeys(hpaged), obsKeys(hist))
		}
	}
	if pg, err := s.ObservationHistoryPage(ctx, "0120", "andel", groups, n, 5); err != nil || len(pg) != 0 {
		t.Fatalf("history page past the end: %s (%v)", obsKeys(pg), err)
	}
	if g, err := s.ObservationHistoryGroups(ctx, "0121", "andel"); err != nil || len(g) != 0 {
		t.Fatalf("other tenant's history: %+v %v", g, err)
	}
}

// TestObservationSummaryEqualsRaw: the summary per period and the
// history's groups equal a computation over the raw rows, whatever the
// rows' history: re-imports with higher versions in parts of their own, a
// retried write (identical rows twice, in the log too), a key written
// twice in one insert, one dimension value under two kinds, other
// indicators and tenants; before and after ClickHouse merges the parts.
func TestObservationSummaryEqualsRaw(t *testing.T) {
	s, dsn := openTestStore(t)
	ctx := context.Background()
	rec := time.Date(2025, 5, 20, 8, 0, 0, 0, time.UTC)
	periods := []strategy.Period{{Kind: strategy.Month, Year: 2025, N: 4}, {Kind: strategy.Month, Year: 2025, N: 3},
		{Kind: strategy.Tertial, Year: 2025, N: 1}, {Kind: strategy.Year, Year: 2024}}
	ob := func(ind string, p strategy.Period, kind, val string, v float64, ver uint64, src, author string, day int) strategy.Observation {
		return strategy.Observation{Tenant: "0120", Indicator: ind, Period: p, Dimension: strategy.Dimension{Kind: kind, Value: val},
			Value: v, Source: src, Version: ver, Author: author, Recorded: rec.AddDate(0, 0, day)}
	}
	write := func(obs ...strategy.Observation) {
		t.Helper()
		if err := s.WriteObservations(ctx, obs); err != nil {
			t.Fatal(err)
		}
	}
	// The first import: a total and 30 departments a period (the year
	// has no total, March no break-downs beyond the total).
	var first []strategy.Observation
	for i, p := range periods {
		if p.Kind != strategy.Year {
			first = append(first, ob("andel", p, "", "", float64(10+i), 1, "upload", "bo", 0))
		}
		for d := range 30 {
			if p.N == 3 && p.Kind == strategy.Month {
				break
			}
			first = append(first, ob("andel", p, "department", fmt.Sprintf("F%02d", d), float64(d), 1, "upload", "bo", 0))
		}
	}
	write(first...)
	// A re-import of April with new values and ten new departments.
	var again []strategy.Observation
	again = append(again, ob("andel", periods[0], "", "", 77, 2, "series_csv", "", 1))
	for d := range 40 {
		again = append(again, ob("andel", periods[0], "department", fmt.Sprintf("F%02d", d), float64(100+d), 2, "series_csv", "", 1))
	}
	write(again...)
	// A retried write: the same rows again, with an author, so the log
	// holds them twice.
	retry := []strategy.Observation{ob("andel", periods[2], "", "", 55, 3, "manual", "anna", 2),
		ob("andel", periods[2], "department", "F01", 56, 3, "manual", "anna", 2)}
	write(retry...)
	write(retry...)
	// One insert holding a key twice, and one value under two kinds.
	write(ob("andel", periods[1], "case_type", "F01", 1, 4, "upload", "bo", 3), ob("andel", periods[1], "case_type", "F01", 2, 5, "upload", "bo", 3),
		ob("andel", periods[1], "department", "F01", 3, 4, "upload", "bo", 3))
	// Others that must not count.
	write(ob("annan", periods[0], "", "", 1, 9, "x", "bo", 5), ob("annan", periods[0], "department", "F99", 1, 9, "x", "bo", 5))
	other := ob("andel", periods[0], "", "", 1, 9, "x", "bo", 5)
	other.Tenant = "0121"
	write(other)

	f := ObservationFilter{Tenant: "0120", Indicators: []string{"andel"}, Dimensions: true}
	check := func(when string) {
		t.Helper()
		sum, err := s.ObservationSummary(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := summaryLines(sum), rawSummary(t, dsn); got != want {
			t.Errorf("%s: summary:\n%s\nraw:\n%s", when, got, want)
		}
		groups, err := s.ObservationHistoryGroups(ctx, "0120", "andel")
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, g := range groups {
			lines = append(lines, fmt.Sprintf("v%d %s %d", g.Version, g.Period, g.Versions))
		}
		if got, want := strings.Join(lines, "\n"), rawHistoryGroups(t, dsn); got != want {
			t.Errorf("%s: history groups:\n%s\nraw:\n%s", when, got, want)
		}
	}
	check("unmerged")
	chtest.Query(t, dsn, "OPTIMIZE TABLE observations FINAL")
	chtest.Query(t, dsn, "OPTIMIZE TABLE observation_log FINAL")
	check("merged")
}

// summaryLines prints a summary as rawSummary does.
func summaryLines(sum []PeriodSummary) string {
	var lines []string
	for _, p := range sum {
		lines = append(lines, fmt.Sprintf("%s n=%d dims=%d total=%v %g %s %s", p.Period, p.Values, p.Breakdowns, p.HasTotal, p.Total,
			p.TotalSource, p.Recorded.UTC().Format(time.RFC3339)))
	}
	return strings.Join(lines, "\n")
}

// rawSummary computes the summary of tenant 0120's indicator andel in Go
// from every stored row of observations, as they are.
func rawSummary(t *testing.T, dsn string) string {
	t.Helper()
	type key struct{ kind, start, dk, dv string }
	type row struct {
		value   float64
		source  string
		version uint64
	}
	latest := map[key]row{}
	recorded := map[[2]string]string{}
	out := chtest.Query(t, dsn, `SELECT period_kind, period_start, dim_kind, dim_value, value, source, version,
	formatDateTime(recorded, '%Y-%m-%dT%H:%M:%SZ', 'UTC') FROM observations WHERE tenant = '0120' AND indicator = 'andel'`)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		c := strings.Split(line, "\t")
		k := key{c[0], c[1], c[2], c[3]}
		var r row
		fmt.Sscan(c[4], &r.value)
		fmt.Sscan(c[6], &r.version)
		r.source = c[5]
		if old, ok := latest[k]; !ok || r.version > old.version {
			latest[k] = r
		}
		if p := [2]string{c[0], c[1]}; c[7] > recorded[p] {
			recorded[p] = c[7]
		}
	}
	type per struct {
		n, dims int
		total   *row
	}
	byPeriod := map[[2]string]*per{}
	for k, r := range latest {
		p := byPeriod[[2]string{k.kind, k.start}]
		if p == nil {
			p = &per{}
			byPeriod[[2]string{k.kind, k.start}] = p
		}
		p.n++
		if k.dk == "" && k.dv == "" {
			p.total = &r
		} else {
			p.dims++
		}
	}
	var sum []PeriodSummary
	for k, p := range byPeriod {
		start, err := time.ParseInLocation(time.DateOnly, k[1], strategy.Stockholm)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := time.Parse(time.RFC3339, recorded[k])
		if err != nil {
			t.Fatal(err)
		}
		ps := PeriodSummary{Period: strategy.PeriodOf(strategy.PeriodKind(k[0]), start), Values: p.n, Breakdowns: p.dims, Recorded: rec}
		if p.total != nil {
			ps.HasTotal, ps.Total, ps.TotalSource = true, p.total.value, p.total.source
		}
		sum = append(sum, ps)
	}
	// Newest start first, the shorter period first at one start.
	rank := map[strategy.PeriodKind]int{strategy.Month: 0, strategy.Quarter: 1, strategy.Tertial: 2, strategy.Year: 3}
	slices.SortFunc(sum, func(a, b PeriodSummary) int {
		return cmp.Or(b.Period.Start().Compare(a.Period.Start()), rank[a.Period.Kind]-rank[b.Period.Kind])
	})
	return summaryLines(sum)
}

// rawHistoryGroups computes the history's groups of tenant 0120's
// indicator andel in Go from every row of the observation log.
func rawHistoryGroups(t *testing.T, dsn string) string {
	t.Helper()
	type group struct {
		version uint64
		p       strategy.Period
	}
	rows := map[group]map[string]bool{}
	out := chtest.Query(t, dsn, `SELECT version, period_kind, period_start, dim_kind, dim_value FROM observation_log
WHERE tenant = '0120' AND indicator = 'andel'`)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		c := strings.Split(line, "\t")
		var g group
		fmt.Sscan(c[0], &g.version)
		start, err := time.ParseInLocation(time.DateOnly, c[2], strategy.Stockholm)
		if err != nil {
			t.Fatal(err)
		}
		g.p = strategy.PeriodOf(strategy.PeriodKind(c[1]), start)
		if rows[g] == nil {
			rows[g] = map[string]bool{}
		}
		rows[g][c[3]+"\x00"+c[4]] = true
	}
	var gs []group
	for g := range rows {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(a, b group) int {
		return cmp.Or(cmp.Compare(b.version, a.version), b.p.Start().Compare(a.p.Start()), strings.Compare(string(a.p.Kind), string(b.p.Kind)))
	})
	var lines []string
	for _, g := range gs {
		lines = append(lines, fmt.Sprintf("v%d %s %d", g.version, g.p, len(rows[g])))
	}
	return strings.Join(lines, "\n")
}

// TestObservationHistoryPageReadsItsGroups: a page of an indicator's
// history reads the log rows of the groups it shows, not the whole log
// (rows read as ClickHouse reports them to the client).
func TestObservationHistoryPageReadsItsGroups(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	rec := time.Date(2025, 5, 20, 8, 0, 0, 0, time.UTC)
	// Four years of months with 500 departments each, one upload a year:
	// 24 000 versions, 6 000 in each year's partition of the log.
	for y := 2022; y <= 2025; y++ {
		var obs []strategy.Observation
		for m := 1; m <= 12; m++ {
			for d := range 500 {
				obs = append(obs, strategy.Observation{Tenant: "0120", Indicator: "andel", Period: strategy.Period{Kind: strategy.Month, Year: y, N: m},
					Dimension: strategy.Dimension{Kind: "department", Value: fmt.Sprintf("F%03d", d)}, Value: float64(d), Source: "upload",
					Version: uint64(y), Author: "bo", Recorded: rec})
			}
		}
		if err := s.WriteObservations(ctx, obs); err != nil {
			t.Fatal(err)
		}
	}
	groups, err := s.ObservationHistoryGroups(ctx, "0120", "andel")
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 48 || groups[0].Period.String() != "2025-12" || groups[0].Versions != 500 {
		t.Fatalf("%d groups, the first %+v", len(groups), groups[0])
	}
	var read atomic.Uint64
	pctx := ch.Context(ctx, ch.WithProgress(func(p *ch.Progress) { read.Add(p.Rows) }))
	for _, off := range []int{0, 480, 12_000, 23_950} {
		read.Store(0)
		page, err := s.ObservationHistoryPage(pctx, "0120", "andel", groups, off, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 50 {
			t.Fatalf("page at %d: %d versions", off, len(page))
		}
		n := read.Load()
		t.Logf("the page at %d read %d rows", off, n)
		if n == 0 || n > 6000 {
			t.Errorf("the page at %d read %d rows of the log's 24 000, want at most one year's 6 000", off, n)
		}
	}
}
