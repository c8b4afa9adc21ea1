package progress

import (
	"testing"

	"github.com/malbild/malbild/strategy"
)

// hierarchy is a committee plan linked to two KF goals, with a goal under
// two areas, a goal with sub-goals and criteria.
const hierarchy = `municipality: {code: "0180", name: Stockholms stad}
id: plan
title: Nämndplan
start: 2025-01-01
end: 2026-12-31
upper_goals:
  - {id: kf-1, level: inriktningsmål, title: En stad som är hållbar}
  - {id: kf-1-1, level: mål, parent: kf-1, title: Digitala tjänster}
  - {id: kf-2, level: inriktningsmål, title: En effektiv stad}
areas:
  - id: a
    title: A
    contributes_to: [kf-1-1]
    goals:
      - id: shared
        title: Delat mål
        kind: qualitative
        contributes_to: [kf-1-1, kf-2]
      - id: parent
        title: Mål med delmål
        kind: qualitative
        subgoals:
          - {id: sub-1, title: Delmål 1}
          - {id: sub-2, title: Delmål 2}
        criteria:
          - {id: crit-1, title: Kriterium 1}
  - id: b
    title: B
    goals:
      - ref: shared
      - id: own
        title: Eget mål
        kind: qualitative
`

func confirmed(id string, p strategy.Period, l strategy.Level) strategy.Assessment {
	return strategy.Assessment{Subject: strategy.SubjectGoal, SubjectID: id, Period: p, Level: l, Confirmed: true, Revision: 1}
}

func TestGoalHierarchy(t *testing.T) {
	st, err := strategy.Parse("plan.yaml", []byte(hierarchy))
	if err != nil {
		t.Fatal(err)
	}
	now := d(2025, 6, 15) // closed report period: T1 2025
	p := tertial(2025, 1)
	as := []strategy.Assessment{
		confirmed("shared", p, strategy.LevelMet),
		confirmed("own", p, strategy.LevelNotMet),
		confirmed("sub-1", p, strategy.LevelMet),
		confirmed("sub-2", p, strategy.LevelMet),
		confirmed("crit-1", p, strategy.LevelNotMet),
	}
	r := Evaluate(st, nil, as, now)
	if r.Closed != p {
		t.Fatalf("closed period %v", r.Closed)
	}

	// The shared goal counts in both areas and once overall.
	if got := r.Overall.Goals; got != 3 {
		t.Errorf("strategy counts %d goals, want 3 (shared once, sub-goals not on their own)", got)
	}
	if a, b := r.Area("a").Rollup.Goals, r.Area("b").Rollup.Goals; a != 2 || b != 2 {
		t.Errorf("area roll-ups count %d and %d goals, want 2 and 2", a, b)
	}
	if n := len(r.Area("b").Referenced); n != 1 || r.Area("b").Referenced[0].ID != "shared" {
		t.Errorf("area b references %d goals", n)
	}

	// Sub-goals and criteria roll up with the strict rule: met, met, not met → not met.
	gp := r.Goal("parent").Closed
	if gp.Level != strategy.LevelNotMet || len(gp.Items) != 3 {
		t.Errorf("parent proposal = %s with %d items, want not_met from 3 items", gp.Level, len(gp.Items))
	}
	if r.Goal("sub-1") == nil {
		t.Errorf("no result for the sub-goal")
	}

	// KF goals: kf-1-1 has the shared goal (by itself and through area a)
	// and the parent goal (through area a), each once; kf-1 includes its mål.
	u := r.Upper("kf-1-1")
	if u == nil || len(u.Goals) != 2 || u.Rollup.Goals != 2 || u.Rollup.GoalLevels[strategy.LevelNotMet] != 1 {
		t.Fatalf("kf-1-1 = %+v", u)
	}
	if u := r.Upper("kf-1"); u == nil || len(u.Goals) != 2 {
		t.Errorf("kf-1 (inriktningsmål) does not gather its mål's goals: %+v", u)
	}
	if u := r.Upper("kf-2"); u == nil || len(u.Goals) != 1 || u.Goals[0].ID != "shared" {
		t.Errorf("kf-2 = %+v", u)
	}
	if r.Upper("nope") != nil {
		t.Errorf("unknown upper goal gives a result")
	}
}

func TestHalfYearAndMonthRhythms(t *testing.T) {
	h := ReportPeriods(strategy.RhythmHalfYear, 2025)
	if len(h) != 2 || h[0].String() != "2025-H1" || h[1].String() != "2025" {
		t.Errorf("half-year report periods %v", h)
	}
	if got := OpenReportPeriod(strategy.RhythmHalfYear, d(2025, 9, 1)); got.String() != "2025" {
		t.Errorf("open in September = %v, want the full year", got)
	}
	if got := ClosedReportPeriod(strategy.RhythmHalfYear, d(2025, 9, 1)); got.String() != "2025-H1" {
		t.Errorf("closed in September = %v, want H1", got)
	}
	m := ReportPeriods(strategy.RhythmMonth, 2025)
	if len(m) != 12 || m[0].String() != "2025-01" || m[10].String() != "2025-11" || m[11].String() != "2025" {
		t.Errorf("monthly report periods %v", m)
	}
	if got := ClosedReportPeriod(strategy.RhythmMonth, d(2025, 4, 10)); got.String() != "2025-03" {
		t.Errorf("closed in April = %v", got)
	}
}
