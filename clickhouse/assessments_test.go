package clickhouse

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

func assessmentKeys(as []strategy.Assessment) string {
	keys := make([]string, len(as))
	for i, a := range as {
		c := ""
		if a.Confirmed {
			c = " confirmed"
		}
		keys[i] = fmt.Sprintf("%s %s %s: %s r%d%s", a.Subject, a.SubjectID, a.Period, a.Level, a.Revision, c)
	}
	return strings.Join(keys, "\n")
}

func TestAssessmentsLatestAndConfirmed(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	t1 := strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 1}
	t2 := strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 2}
	created := time.Date(2025, 5, 10, 9, 15, 0, 0, time.UTC)
	first := strategy.Assessment{Tenant: "0120", Subject: strategy.SubjectGoal, SubjectID: "g1", Period: t1,
		Level: strategy.LevelPartly, Forecast: strategy.LevelMet, Proposed: strategy.LevelPartly, Comment: "På väg, men långsamt.",
		Ready: true, Confirmed: true, Author: "anna", Created: created, Revision: 1}
	for _, a := range []strategy.Assessment{
		first,
		// A later draft of the same goal and period, not confirmed.
		{Tenant: "0120", Subject: strategy.SubjectGoal, SubjectID: "g1", Period: t1, Level: strategy.LevelNotMet, Comment: "utkast", Author: "bo", Created: created, Revision: 2},
		{Tenant: "0120", Subject: strategy.SubjectGoal, SubjectID: "g1", Period: t2, Level: strategy.LevelMet, Confirmed: true, Created: created, Revision: 3},
		{Tenant: "0120", Subject: strategy.SubjectGoal, SubjectID: "g2", Period: t1, Level: strategy.LevelNotAssessed, Created: created, Revision: 4},
		{Tenant: "0120", Subject: strategy.SubjectIndicator, SubjectID: "g1", Period: t1, Level: strategy.LevelMet, Confirmed: true, Created: created, Revision: 5},
		{Tenant: "0121", Subject: strategy.SubjectGoal, SubjectID: "g1", Period: t1, Level: strategy.LevelMet, Confirmed: true, Created: created, Revision: 6},
	} {
		if err := s.WriteAssessment(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		f    AssessmentFilter
		want string
	}{
		{AssessmentFilter{Tenant: "0120"}, "goal g1 2025-T1: not_met r2\ngoal g1 2025-T2: met r3 confirmed\ngoal g2 2025-T1: not_assessed r4\nindicator g1 2025-T1: met r5 confirmed"},
		{AssessmentFilter{Tenant: "0120", ConfirmedOnly: true}, "goal g1 2025-T1: partly r1 confirmed\ngoal g1 2025-T2: met r3 confirmed\nindicator g1 2025-T1: met r5 confirmed"},
		{AssessmentFilter{Tenant: "0120", Subject: strategy.SubjectGoal, Period: &t1}, "goal g1 2025-T1: not_met r2\ngoal g2 2025-T1: not_assessed r4"},
		{AssessmentFilter{Tenant: "0120", Subject: strategy.SubjectGoal, SubjectIDs: []string{"g1"}, Period: &t1, ConfirmedOnly: true}, "goal g1 2025-T1: partly r1 confirmed"},
		{AssessmentFilter{Tenant: "0120", SubjectIDs: []string{"g2", "nope"}}, "goal g2 2025-T1: not_assessed r4"},
		{AssessmentFilter{Tenant: "0121"}, "goal g1 2025-T1: met r6 confirmed"},
	} {
		got, err := s.Assessments(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		if assessmentKeys(got) != c.want {
			t.Errorf("%+v:\n got: %q\nwant: %q", c.f, assessmentKeys(got), c.want)
		}
	}
	got, err := s.Assessments(ctx, AssessmentFilter{Tenant: "0120", SubjectIDs: []string{"g1"}, Period: &t1, ConfirmedOnly: true, Subject: strategy.SubjectGoal})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	if !reflect.DeepEqual(got[0], first) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got[0], first)
	}

	hist, err := s.AssessmentHistory(ctx, "0120", strategy.SubjectGoal, "g1")
	if err != nil {
		t.Fatal(err)
	}
	if want := "goal g1 2025-T2: met r3 confirmed\ngoal g1 2025-T1: not_met r2\ngoal g1 2025-T1: partly r1 confirmed"; assessmentKeys(hist) != want {
		t.Fatalf("history:\n%s\nwant:\n%s", assessmentKeys(hist), want)
	}
}

func TestWriteAssessmentDefaultsAndChecks(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	before := time.Now()
	p := strategy.Period{Kind: strategy.Year, Year: 2025}
	if err := s.WriteAssessment(ctx, strategy.Assessment{Tenant: "0120", Subject: strategy.SubjectIndicator, SubjectID: "i", Period: p, Level: strategy.LevelMet}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Assessments(ctx, AssessmentFilter{Tenant: "0120"})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	if got[0].Revision < uint64(before.UnixNano()) || got[0].Created.Before(before.Truncate(time.Second)) {
		t.Fatalf("revision %d, created %v: not the time of writing", got[0].Revision, got[0].Created)
	}
	for _, bad := range []strategy.Assessment{
		{Subject: strategy.SubjectGoal, SubjectID: "g", Period: p},
		{Tenant: "0120", Subject: "project", SubjectID: "g", Period: p},
		{Tenant: "0120", Subject: strategy.SubjectGoal, Period: p},
		{Tenant: "0120", Subject: strategy.SubjectGoal, SubjectID: "g"},
		{Tenant: "0120", Subject: strategy.SubjectGoal, SubjectID: "g", Period: p, Level: "great"},
	} {
		if err := s.WriteAssessment(ctx, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
