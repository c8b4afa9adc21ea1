package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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
