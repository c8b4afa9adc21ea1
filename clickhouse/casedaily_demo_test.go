package clickhouse_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/demo"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

// On the demo's cases, loaded in batches and partly imported again, the
// case measures read from the pre-aggregates equal those computed from
// the raw cases, exactly.
func TestCaseMonthlyEqualsRawOnDemoData(t *testing.T) {
	ctx := context.Background()
	s, err := clickhouse.Open(ctx, chtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var cases []facts.Case
	for c := range demo.Cases(20_000, 3) {
		cases = append(cases, c)
	}
	write := func(v uint64, cs []facts.Case) {
		if err := s.WriteBatch(ctx, &facts.Batch{Tenant: "0120", Source: fmt.Sprint("demo-", v), Version: v, Cases: cs}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < len(cases); i += 5000 {
		write(uint64(i/5000+1), cases[i:i+5000])
	}
	write(10, cases[2000:6000]) // a re-import across two batches
	for _, name := range []string{"digital_share", "handling_time_median", "handling_time_p90", "top"} {
		params := map[string]string(nil)
		if name == "top" {
			name, params = "handling_time_p90", map[string]string{"top": "3"}
		}
		for _, k := range []strategy.PeriodKind{strategy.Month, strategy.Quarter, strategy.Year} {
			req := clickhouse.MeasureRequest{Name: name, Kind: k, Params: params}
			got, err := s.ComputeMeasure(ctx, "0120", req)
			if err != nil {
				t.Fatal(err)
			}
			want, err := clickhouse.RawCaseMeasure(ctx, s, "0120", req)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) || len(want) < 10 {
				t.Fatalf("%s %v %s: %d observations from the pre-aggregates, %d from the raw cases", name, params, k, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s %v %s: pre-aggregates %+v, raw %+v", name, params, k, got[i], want[i])
				}
			}
		}
	}
}
