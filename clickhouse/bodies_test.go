package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

func TestBodyReportsLatestAndHistory(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	t1 := strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 1}
	t2 := strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 2}
	created := time.Date(2025, 5, 10, 9, 15, 0, 0, time.UTC)
	for _, r := range []BodyReport{
		{Tenant: "0180", Goal: "g1", Body: "utbildning", Period: t1, Level: strategy.LevelPartly, Comment: "Påbörjat.", Author: "anna", Created: created, Revision: 1},
		{Tenant: "0180", Goal: "g1", Body: "utbildning", Period: t1, Level: strategy.LevelMet, Comment: "Klart.", Author: "anna", Created: created, Revision: 3},
		{Tenant: "0180", Goal: "g1", Body: "stadsbyggnad", Period: t1, Level: strategy.LevelNotMet, Author: "bo", Created: created, Revision: 2},
		{Tenant: "0180", Goal: "g1", Body: "stadsbyggnad", Period: t2, Level: strategy.LevelMet, Author: "bo", Created: created, Revision: 4},
		{Tenant: "0181", Goal: "g1", Body: "utbildning", Period: t1, Level: strategy.LevelMet, Created: created, Revision: 5},
	} {
		if err := s.WriteBodyReport(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	key := func(rs []BodyReport) string {
		var b []string
		for _, r := range rs {
			b = append(b, fmt.Sprintf("%s %s %s: %s r%d %q %s", r.Goal, r.Body, r.Period, r.Level, r.Revision, r.Comment, r.Created.Format(time.RFC3339)))
		}
		return strings.Join(b, "\n")
	}
	got, err := s.BodyReports(ctx, "0180")
	if err != nil {
		t.Fatal(err)
	}
	want := `g1 stadsbyggnad 2025-T1: not_met r2 "" 2025-05-10T09:15:00Z
g1 stadsbyggnad 2025-T2: met r4 "" 2025-05-10T09:15:00Z
g1 utbildning 2025-T1: met r3 "Klart." 2025-05-10T09:15:00Z`
	if key(got) != want {
		t.Errorf("latest:\n%s\nwant\n%s", key(got), want)
	}
	h, err := s.BodyReportHistory(ctx, "0180", "g1")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 4 || h[0].Revision != 4 || h[3].Revision != 1 {
		t.Errorf("history:\n%s", key(h))
	}
	// Bad input is refused before anything is written.
	for _, bad := range []BodyReport{
		{Tenant: "0180", Goal: "g1", Body: "", Period: t1, Level: strategy.LevelMet},
		{Tenant: "0180", Goal: "g1", Body: "x", Period: t1, Level: "great"},
	} {
		if err := s.WriteBodyReport(ctx, bad); err == nil {
			t.Errorf("%+v: written", bad)
		}
	}
	if h, _ := s.BodyReportHistory(ctx, "0180", "g1"); len(h) != 4 {
		t.Errorf("bad input wrote rows: %d", len(h))
	}
}

func TestActivityUpdatesLatestAndHistory(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	t1 := strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 1}
	created := time.Date(2025, 5, 10, 9, 15, 0, 0, time.UTC)
	spent := 120.5
	for _, u := range []ActivityUpdate{
		{Tenant: "0180", Goal: "g1", Activity: "a1", Period: t1, Status: strategy.ActivityOngoing, Outcome: &spent, Comment: "Upphandlat.", Author: "anna", Created: created, Revision: 1},
		{Tenant: "0180", Goal: "g1", Activity: "a1", Period: t1, Status: strategy.ActivityDelayed, Comment: "Leverantören sen.", Author: "bo", Created: created, Revision: 2},
		{Tenant: "0180", Goal: "g1", Activity: "a2", Period: t1, Status: strategy.ActivityDone, Outcome: new(float64), Created: created, Revision: 3},
	} {
		if err := s.WriteActivityUpdate(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	out := func(u ActivityUpdate) string {
		if u.Outcome == nil {
			return "okänt"
		}
		return fmt.Sprint(*u.Outcome)
	}
	got, err := s.ActivityUpdates(ctx, "0180")
	if err != nil {
		t.Fatal(err)
	}
	var b []string
	for _, u := range got {
		b = append(b, fmt.Sprintf("%s %s %s: %s %s %q r%d", u.Goal, u.Activity, u.Period, u.Status, out(u), u.Comment, u.Revision))
	}
	want := `g1 a1 2025-T1: delayed okänt "Leverantören sen." r2
g1 a2 2025-T1: done 0 "" r3`
	if s := strings.Join(b, "\n"); s != want {
		t.Errorf("latest:\n%s\nwant\n%s", s, want)
	}
	h, err := s.ActivityHistory(ctx, "0180", "a1")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].Revision != 2 || out(h[1]) != "120.5" || h[1].Author != "anna" {
		t.Errorf("history: %+v", h)
	}
	neg := -5.0
	for _, bad := range []ActivityUpdate{
		{Tenant: "0180", Goal: "g1", Activity: "a1", Period: t1, Status: "finished"},
		{Tenant: "0180", Goal: "g1", Activity: "a1", Period: t1, Status: strategy.ActivityDone, Outcome: &neg},
	} {
		if err := s.WriteActivityUpdate(ctx, bad); err == nil {
			t.Errorf("%+v: written", bad)
		}
	}
	if h, _ := s.ActivityHistory(ctx, "0180", "a1"); len(h) != 2 {
		t.Errorf("bad input wrote rows: %d", len(h))
	}
}
