package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

func TestPeriodStates(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	t1 := strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 1}
	y24 := strategy.Period{Kind: strategy.Year, Year: 2024}
	at := time.Date(2025, 5, 20, 8, 0, 0, 0, time.UTC)
	for _, p := range []PeriodState{
		{Tenant: "0120", Period: t1, Closed: true, Actor: "anna", At: at, Revision: 1},
		{Tenant: "0120", Period: t1, Closed: false, Actor: "anna", Reason: "Fel utfall", At: at.Add(time.Hour), Revision: 2},
		{Tenant: "0120", Period: t1, Closed: true, Actor: "bertil", At: at.Add(2 * time.Hour), Revision: 3},
		{Tenant: "0120", Period: y24, Closed: true, Actor: "anna", At: at, Revision: 4},
		{Tenant: "1481", Period: t1, Closed: false, Actor: "x", Reason: "y", At: at, Revision: 5},
	} {
		if err := s.WritePeriodState(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PeriodStates(ctx, "0120")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range got {
		keys = append(keys, fmt.Sprintf("%s closed=%v %s r%d %s", p.Period, p.Closed, p.Actor, p.Revision, p.At.Format(time.RFC3339)))
	}
	want := "2024 closed=true anna r4 2025-05-20T08:00:00Z\n2025-T1 closed=true bertil r3 2025-05-20T10:00:00Z"
	if k := strings.Join(keys, "\n"); k != want {
		t.Errorf("states:\n%s\nwant\n%s", k, want)
	}
	h, err := s.PeriodHistory(ctx, "0120", t1)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h[1].Closed || h[1].Reason != "Fel utfall" || h[0].Actor != "bertil" {
		t.Errorf("history = %+v", h)
	}
	if err := s.WritePeriodState(ctx, PeriodState{Tenant: "0120", Period: strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 4}}); err == nil {
		t.Error("an invalid period was written")
	}
	if err := s.WritePeriodState(ctx, PeriodState{Period: t1}); err == nil {
		t.Error("a period state without tenant was written")
	}
}
