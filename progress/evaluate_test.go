package progress

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

// testStrategy is a small strategy with an indicator in every status.
func testStrategy() (*strategy.Strategy, map[string][]strategy.Observation) {
	base := d(2022, 12, 31)
	i1 := &strategy.Indicator{ID: "i1", Unit: strategy.UnitPercent, Direction: strategy.Increase, Tolerance: 5, Freshness: 120 * 24 * time.Hour,
		Baseline: &strategy.Baseline{Value: 40, Date: base},
		Targets:  []strategy.Target{horizon(d(2025, 12, 31), 70, 3), horizon(d(2027, 12, 31), 90, 5)}, GoalID: "g1"}
	i2 := &strategy.Indicator{ID: "i2", Unit: strategy.UnitDays, Direction: strategy.Decrease, Tolerance: 2, Weight: 3,
		Baseline: &strategy.Baseline{Value: 30, Date: base},
		Targets:  []strategy.Target{{Date: d(2025, 12, 31), Value: 21, Spec: "-30%", Kind: strategy.TargetHorizon, Years: 3}}, GoalID: "g1"}
	i3 := &strategy.Indicator{ID: "i3", Unit: strategy.UnitCount, Direction: strategy.Increase,
		Baseline: &strategy.Baseline{Value: 1, Date: base}, Targets: []strategy.Target{horizon(d(2025, 12, 31), 5, 3)}, GoalID: "g3"}
	i4 := &strategy.Indicator{ID: "i4", Unit: strategy.UnitPercent, Direction: strategy.Increase, Freshness: 30 * 24 * time.Hour,
		Baseline: &strategy.Baseline{Value: 10, Date: base}, Targets: []strategy.Target{horizon(d(2026, 12, 31), 50, 0)}, GoalID: "g3"}
	i5 := &strategy.Indicator{ID: "i5", Unit: strategy.UnitCount, Direction: strategy.Increase, GoalID: "g3"}
	i6 := &strategy.Indicator{ID: "i6", Unit: strategy.UnitCount, Direction: strategy.Increase,
		Baseline: &strategy.Baseline{Value: 1, Date: base}, Targets: []strategy.Target{horizon(d(2025, 12, 31), 5, 3)}, GoalID: "g5"}
	doneAt := d(2024, 11, 1)
	s := &strategy.Strategy{
		ID: "test", Rhythm: strategy.RhythmTertial, Start: d(2023, 1, 1),
		Areas: []*strategy.GoalArea{
			{ID: "a", Title: strategy.Text{SV: "E-tjänster"}, Goals: []*strategy.Goal{
				{ID: "g1", Kind: strategy.GoalMeasured, Indicators: []*strategy.Indicator{i1, i2}, AreaID: "a"},
				{ID: "g2", Kind: strategy.GoalMilestone, Milestone: &strategy.Milestone{Due: d(2024, 12, 31), Done: &doneAt}, AreaID: "a",
					History: []strategy.RecordedAssessment{{Period: year(2024), Level: strategy.LevelMet, Comment: "Klart"}}},
			}},
			{ID: "b", Title: strategy.Text{SV: "E-förvaltning"}, Goals: []*strategy.Goal{
				{ID: "g3", Kind: strategy.GoalMeasured, Indicators: []*strategy.Indicator{i3, i4, i5}, AreaID: "b"},
				{ID: "g4", Kind: strategy.GoalQualitative, AreaID: "b"},
				{ID: "g5", Kind: strategy.GoalMeasured, Indicators: []*strategy.Indicator{i6}, AreaID: "b",
					Dropped: &strategy.Decision{Date: d(2024, 6, 1), Note: "Ej prioriterat"}},
			}},
		},
	}
	p1 := Path(i1)
	var o1 []strategy.Observation
	for _, m := range months(month(2023, 1), 29) { // to May 2025, 1 ahead of the path
		v, _ := p1.At(LastDay(m))
		o1 = append(o1, strategy.Observation{Indicator: "i1", Period: m, Value: v + 1, Version: 1})
		// Department rows must not count.
		o1 = append(o1, strategy.Observation{Indicator: "i1", Period: m, Value: 0, Version: 1,
			Dimension: strategy.Dimension{Kind: "department", Value: "Socialförvaltningen"}})
	}
	// A correction of April 2025 with a higher version wins.
	v, _ := p1.At(LastDay(month(2025, 4)))
	o1 = append(o1, strategy.Observation{Indicator: "i1", Period: month(2025, 4), Value: v + 1.5, Version: 2})
	obs := map[string][]strategy.Observation{
		"i1": o1,
		"i2": obs(years(2023, 2024), 29, 28),
		"i4": obs(months(month(2024, 1), 6), 20, 20.5, 21, 21.5, 22, 22.5),
		"i5": obs(years(2024, 2024), 7),
		"i6": obs(years(2024, 2024), 9),
	}
	return s, obs
}

func TestEvaluate(t *testing.T) {
	s, obs := testStrategy()
	now := d(2025, 6, 10)
	confirmed := strategy.Assessment{Subject: strategy.SubjectIndicator, SubjectID: "i2", Period: tertial(2025, 1), Level: strategy.LevelPartly, Confirmed: true, Revision: 1}
	draft := strategy.Assessment{Subject: strategy.SubjectIndicator, SubjectID: "i2", Period: tertial(2025, 1), Level: strategy.LevelMet, Revision: 2}
	before, _ := json.Marshal(s)
	obsBefore, _ := json.Marshal(obs)
	r := Evaluate(s, obs, []strategy.Assessment{draft, confirmed}, now)
	if after, _ := json.Marshal(s); string(after) != string(before) {
		t.Error("Evaluate modified the strategy")
	}
	if after, _ := json.Marshal(obs); string(after) != string(obsBefore) {
		t.Error("Evaluate modified the observations")
	}
	if r.Open != tertial(2025, 2) || r.Closed != tertial(2025, 1) || r.Rule != RuleStrict {
		t.Fatalf("periods %v %v rule %s", r.Open, r.Closed, r.Rule)
	}
	want := map[string]Status{"i1": StatusOnTrack, "i2": StatusOffTrack, "i3": StatusNoData, "i4": StatusStale, "i5": StatusNoTarget, "i6": StatusMet}
	for id, st := range want {
		if got := r.Indicator(id).Status.Status; got != st {
			t.Errorf("%s: %s, want %s (%s)", id, got, st, r.Indicator(id).Status.Reason.EN)
		}
	}
	if len(r.Indicators) != 6 || r.Indicators[0].ID != "i1" || r.Indicator("nope") != nil {
		t.Errorf("indicators %d", len(r.Indicators))
	}
	i1 := r.Indicator("i1")
	if i1.Status.Latest.Period != month(2025, 5) || len(i1.Series) != 29 {
		t.Errorf("i1 latest %v, %d points", i1.Status.Latest.Period, len(i1.Series))
	}
	if p, _ := i1.Path.At(LastDay(month(2025, 4))); !near(i1.Series[27].Value, p+1.5, 1e-9) {
		t.Errorf("the correction did not win: %v", i1.Series[27].Value)
	}
	if !i1.Forecast.OK || !i1.Forecast.Reaches3Year || !i1.Forecast.Reaches5Year {
		t.Errorf("i1 forecast %+v", i1.Forecast)
	}
	if i1.Closed.Period != tertial(2025, 1) || i1.Closed.Level != strategy.LevelMet || i1.Closed.Forecast != strategy.LevelMet || !i1.Closed.FromPath {
		t.Errorf("i1 closed %+v", i1.Closed)
	}
	if i1.Open.Period != tertial(2025, 2) || i1.Open.Outcome.Period != month(2025, 5) {
		t.Errorf("i1 open %+v", i1.Open)
	}

	// Roll-ups leave the dropped goal g5 (and i6) out.
	o := r.Overall
	if o.Indicators != 5 || o.Judged != 2 || o.Good != 1 || val(o.GoodShare) != 50 || o.Goals != 4 {
		t.Errorf("overall %+v", o)
	}
	for st, n := range map[Status]int{StatusOnTrack: 1, StatusOffTrack: 1, StatusNoData: 1, StatusStale: 1, StatusNoTarget: 1, StatusMet: 0} {
		if o.Counts[st] != n {
			t.Errorf("overall %s: %d, want %d", st, o.Counts[st], n)
		}
	}
	// 3-year targets: i1 reaches 70 by 2025; i4 (first horizon target,
	// 50 in 2026) rises 6 a year from 22.5 in June 2024: ≈ 37.5; i2 has too
	// few values and i3 none, so they are not counted.
	if o.ThreeYear != 2 || o.ThreeYearReached != 1 || val(o.ThreeYearShare) != 50 {
		t.Errorf("three-year %d/%d %v", o.ThreeYearReached, o.ThreeYear, val(o.ThreeYearShare))
	}
	a := r.Area("a").Rollup
	if a.Indicators != 2 || a.Counts[StatusOnTrack] != 1 || a.Counts[StatusOffTrack] != 1 || a.GoalLevels[strategy.LevelPartly] != 1 || a.GoalLevels[strategy.LevelMet] != 1 {
		t.Errorf("area a %+v", a)
	}
	if b := r.Area("b").Rollup; b.Indicators != 3 || b.Goals != 2 || b.GoodShare != nil {
		t.Errorf("area b %+v", b)
	}

	// Goal g1 at T1: i1 met (proposal), i2 partly (confirmed revision 1,
	// not the unconfirmed revision 2): strict → partly.
	g1 := r.Goal("g1")
	if g1.Closed.Level != strategy.LevelPartly || len(g1.Closed.Items) != 2 || !g1.Closed.Items[1].Confirmed || g1.Closed.Items[1].Level != strategy.LevelPartly {
		t.Errorf("g1 closed %+v", g1.Closed)
	}
	if got := r.Assessment(strategy.SubjectIndicator, "i2", tertial(2025, 1)); got == nil || got.Revision != 2 {
		t.Errorf("latest assessment %+v", got)
	}
	if got := r.Confirmed(strategy.SubjectIndicator, "i2", tertial(2025, 1)); got == nil || got.Revision != 1 {
		t.Errorf("confirmed assessment %+v", got)
	}
	// History in the strategy file counts as a confirmed goal assessment.
	if got := r.Confirmed(strategy.SubjectGoal, "g2", year(2024)); got == nil || got.Level != strategy.LevelMet || got.Comment != "Klart" {
		t.Errorf("history %+v", got)
	}
	if g2 := r.Goal("g2"); g2.Closed.Level != strategy.LevelMet || g2.Closed.Items[0].Kind != "milestone" {
		t.Errorf("g2 %+v", g2.Closed)
	}
	if g3 := r.Goal("g3"); g3.Closed.Level != strategy.LevelNotAssessed || g3.Rollup.Counts[StatusStale] != 1 {
		t.Errorf("g3 %+v", g3.Closed)
	}
	if g4 := r.Goal("g4"); g4.Closed.Level != strategy.LevelNotAssessed {
		t.Errorf("g4 %+v", g4.Closed)
	}
	if g5 := r.Goal("g5"); !g5.Dropped || g5.Closed.Level != strategy.LevelNotAssessed || !r.Indicator("i6").Dropped {
		t.Errorf("g5 %+v", g5)
	}

	// Any period on request: the full year 2024 for g1.
	gp, ok := r.ProposeGoal("g1", year(2024))
	if !ok || gp.Period != year(2024) || len(gp.Items) != 2 {
		t.Errorf("ProposeGoal(2024) %+v", gp)
	}
	if pr, ok := r.ProposeIndicator("i2", year(2024)); !ok || pr.Outcome.Period != year(2024) || pr.Level != strategy.LevelNotMet {
		t.Errorf("ProposeIndicator(i2, 2024) %+v", pr)
	}
	if _, ok := r.ProposeIndicator("nope", year(2024)); ok {
		t.Error("unknown indicator")
	}

	// The report marshals to JSON.
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("json: %v", err)
	}
}

func TestEvaluateMajorityAndNil(t *testing.T) {
	s, obs := testStrategy()
	s.RollUp = RuleMajority
	r := Evaluate(s, obs, nil, d(2025, 6, 10))
	// g1 at T1: i1 met, i2 not met (no confirmed assessment): majority → partly.
	if g1 := r.Goal("g1"); r.Rule != RuleMajority || g1.Closed.Level != strategy.LevelPartly || g1.Closed.Rule != RuleMajority {
		t.Errorf("majority %+v", g1.Closed)
	}
	if r := Evaluate(nil, nil, nil, d(2025, 1, 1)); len(r.Indicators) != 0 || r.Maturity == nil {
		t.Error("nil strategy")
	}
	if r := Evaluate(&strategy.Strategy{}, nil, nil, d(2025, 1, 1)); r.Overall.Indicators != 0 || r.Overall.GoodShare != nil {
		t.Errorf("empty strategy %+v", r.Overall)
	}
}

func TestEvaluateIsRepeatable(t *testing.T) {
	s, obs := testStrategy()
	a := Evaluate(s, obs, nil, d(2025, 6, 10))
	b := Evaluate(s, obs, nil, d(2025, 6, 10))
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !reflect.DeepEqual(ja, jb) {
		t.Error("two evaluations differ")
	}
}

func TestAssessmentRevisions(t *testing.T) {
	s, obs := testStrategy()
	p := tertial(2025, 1)
	a := func(rev uint64, created time.Time, confirmed bool, l strategy.Level) strategy.Assessment {
		return strategy.Assessment{Subject: strategy.SubjectGoal, SubjectID: "g1", Period: p, Revision: rev, Created: created, Confirmed: confirmed, Level: l}
	}
	r := Evaluate(s, obs, []strategy.Assessment{
		a(3, d(2025, 5, 2), true, strategy.LevelMet),
		a(3, d(2025, 5, 3), true, strategy.LevelPartly), // same revision, created later: wins
		a(1, d(2025, 5, 9), false, strategy.LevelNotMet),
	}, d(2025, 6, 10))
	if got := r.Assessment(strategy.SubjectGoal, "g1", p); got.Level != strategy.LevelPartly {
		t.Errorf("latest %+v", got)
	}
	if got := r.Confirmed(strategy.SubjectGoal, "g1", p); got.Level != strategy.LevelPartly {
		t.Errorf("confirmed %+v", got)
	}
	if r.Assessment(strategy.SubjectGoal, "g1", tertial(2025, 2)) != nil || r.Confirmed(strategy.SubjectIndicator, "g1", p) != nil {
		t.Error("assessment for another period or subject")
	}
}

func TestToleranceOutOfRange(t *testing.T) {
	for _, tol := range []float64{-5, math.NaN(), math.Inf(1)} {
		ind := indicator(strategy.Increase, d(2024, 12, 31), 50, tol, horizon(d(2027, 12, 31), 80, 3))
		if r := StatusAt(ind, Path(ind), series([]strategy.Period{year(2025)}, 59), d(2026, 3, 1)); r.Status != StatusOffTrack {
			t.Errorf("tolerance %v: %s", tol, r.Status)
		}
	}
}

func TestReportConcurrentReaders(t *testing.T) {
	s, obs := testStrategy()
	r := Evaluate(s, obs, nil, d(2025, 6, 10))
	want, _ := r.ProposeGoal("g1", year(2024))
	done := make(chan strategy.Level)
	for range 4 {
		go func() {
			gp, _ := r.ProposeGoal("g1", year(2024))
			r.ProposeIndicator("i1", tertial(2024, 2))
			r.Indicator("i1").Path.At(d(2025, 1, 1))
			done <- gp.Level
		}()
	}
	for range 4 {
		if l := <-done; l != want.Level {
			t.Errorf("%s, want %s", l, want.Level)
		}
	}
}
