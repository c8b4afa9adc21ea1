package progress

import (
	"strings"
	"testing"

	"github.com/malbild/malbild/strategy"
)

func TestMaturityWithoutModel(t *testing.T) {
	s, obs := testStrategy()
	now := d(2025, 6, 10)
	m := Evaluate(s, obs, nil, now).Maturity
	if len(m.Years) != 3 || m.Years[0] != 2023 || len(m.Dimensions) != 2 || m.Dimensions[0].ID != "a" {
		t.Fatalf("years %v dims %d", m.Years, len(m.Dimensions))
	}
	a := m.Dimensions[0]
	if strings.Join(a.Indicators, ",") != "i1,i2" {
		t.Errorf("indicators %v", a.Indicators)
	}
	// 2024: i1 (weight 1) is 1 above its path on 2024-12-31, 40 → 90 long
	// term; i2 (weight 3) is 28 days, 30 → 21.
	p1, _ := Path(s.Areas[0].Goals[0].Indicators[0]).At(d(2024, 12, 31))
	c1 := (p1 + 1 - 40) / 50 * 100
	c2 := (28 - 30.0) / (21 - 30) * 100
	sc := a.Scores[1]
	if sc.Year != 2024 || sc.Indicators != 2 || sc.Partial {
		t.Errorf("2024 %+v", sc)
	}
	wantNear(t, "2024 score", val(sc.Score), (c1+3*c2)/4, 1e-9)
	// 2025 is partial; i2 has no 2025 value and carries 2024's forward.
	if sc := a.Scores[2]; !sc.Partial || sc.Indicators != 2 {
		t.Errorf("2025 %+v", sc)
	}
	// Dimension b: i3 no data, i4 stale by 2024's end (June value, 30 days),
	// i5 no target; the dropped goal's i6 is left out.
	b := m.Dimensions[1]
	if strings.Join(b.Indicators, ",") != "i3,i4,i5" {
		t.Errorf("b indicators %v", b.Indicators)
	}
	if b.Scores[1].Score != nil {
		t.Errorf("b 2024 %+v", b.Scores[1])
	}
	// Overall is the mean of the dimensions with a score.
	if o := m.Overall[1]; o.Dimensions != 1 || val(o.Score) != val(sc.Score) {
		t.Errorf("overall 2024 %+v", o)
	}
	if l := m.Latest(); l == nil || l.Year != 2025 || !l.Partial {
		t.Errorf("overall latest %+v", l)
	}
	if l := a.Latest(); l == nil || l.Year != 2025 {
		t.Errorf("latest %+v", l)
	}
}

func TestMaturityModelAndSurvey(t *testing.T) {
	mk := func(id string, base, target float64, w float64) *strategy.Indicator {
		return &strategy.Indicator{ID: id, Unit: strategy.UnitPercent, Direction: strategy.Increase, Weight: w,
			Baseline: &strategy.Baseline{Value: base, Date: d(2022, 12, 31)},
			Targets:  []strategy.Target{horizon(d(2024, 12, 31), (base+target)/2, 0), horizon(d(2027, 12, 31), target, 0)}}
	}
	x1, x2, x3 := mk("x1", 0, 100, 0), mk("x2", 50, 100, 1), mk("x3", 10, 20, 2)
	s := &strategy.Strategy{Start: d(2023, 3, 1),
		Maturity: &strategy.MaturityModel{Name: strategy.Text{SV: "Mognad", EN: "Maturity"}, Dimensions: []*strategy.MaturityDimension{
			{ID: "tj", Title: strategy.Text{SV: "E-tjänster", EN: "E-services"}, Survey: "dimios-tj", SurveyShare: 0.25},
			{ID: "fv", Title: strategy.Text{SV: "E-förvaltning", EN: "E-administration"}},
			{ID: "empty", Title: strategy.Text{SV: "Tom"}, Survey: "dimios-empty"},
		}},
		Areas: []*strategy.GoalArea{
			{ID: "a1", Dimension: "tj", Goals: []*strategy.Goal{{ID: "g1", Indicators: []*strategy.Indicator{x1, x2}}}},
			{ID: "a2", Dimension: "fv", Goals: []*strategy.Goal{{ID: "g2", Indicators: []*strategy.Indicator{x3}}}},
			{ID: "a3", Dimension: "unknown", Goals: []*strategy.Goal{{ID: "g3"}}},
		},
	}
	obs := map[string][]strategy.Observation{
		"x1":           obs(years(2023, 2024), 30, 60),  // 30 %, 60 % of the way
		"x2":           obs(years(2023, 2024), 40, 100), // moved away → 0; at target → 100
		"x3":           obs(years(2023, 2024), 25, 15),  // beyond → 100; half way → 50
		"dimios-tj":    obs(years(2024, 2024), 40),
		"dimios-empty": obs(years(2024, 2024), 90),
	}
	m := MaturityAt(s, obs, d(2025, 2, 1))
	if m.Name.SV != "Mognad" || len(m.Dimensions) != 3 || len(m.Years) != 3 {
		t.Fatalf("%+v", m)
	}
	tj, fv, empty := m.Dimensions[0], m.Dimensions[1], m.Dimensions[2]
	// 2023: x1 30, x2 0 (weight 0 counts as 1) → 15; no survey in 2023.
	wantNear(t, "tj 2023", val(tj.Scores[0].Score), 15, 1e-9)
	if tj.Scores[0].Survey != nil {
		t.Error("survey carried back")
	}
	// 2024: (60 + 100) / 2 = 80 from indicators, survey 40 at 25 %: 70.
	wantNear(t, "tj 2024 indicators", val(tj.Scores[1].FromIndicators), 80, 1e-9)
	wantNear(t, "tj 2024", val(tj.Scores[1].Score), 70, 1e-9)
	wantNear(t, "fv 2023", val(fv.Scores[0].Score), 100, 1e-9)
	wantNear(t, "fv 2024", val(fv.Scores[1].Score), 50, 1e-9)
	// A survey with no share is shown but not scored.
	if empty.Scores[1].Score != nil || val(empty.Scores[1].Survey) != 90 {
		t.Errorf("empty %+v", empty.Scores[1])
	}
	wantNear(t, "overall 2024", val(m.Overall[1].Score), 60, 1e-9)
	// 2025 (partial): values carried forward, no survey.
	if sc := tj.Scores[2]; !sc.Partial || val(sc.Score) != 80 {
		t.Errorf("2025 %+v", sc)
	}
	for _, lang := range []string{"sv", "en"} {
		txt := m.MethodText(lang)
		if !strings.Contains(txt, "25 %") || !strings.Contains(txt, tj.Title.In(lang)) || strings.Contains(txt, "Tom") {
			t.Errorf("%s method text: %s", lang, txt)
		}
	}
	if !strings.Contains(m.MethodText("sv"), "medelvärdet") || !strings.Contains(m.MethodText("en"), "mean of the dimensions") {
		t.Error("method text lacks the overall rule")
	}
}

func TestMaturityEmpty(t *testing.T) {
	m := MaturityAt(&strategy.Strategy{}, nil, d(2025, 1, 1))
	if len(m.Years) != 0 || len(m.Dimensions) != 0 || m.MethodText("sv") == "" || m.Latest() != nil {
		t.Errorf("%+v", m)
	}
	// A strategy starting after now has no history yet.
	m = MaturityAt(&strategy.Strategy{Start: d(2030, 1, 1), Areas: []*strategy.GoalArea{{ID: "a"}}}, nil, d(2025, 1, 1))
	if len(m.Years) != 0 || len(m.Dimensions[0].Scores) != 0 || m.Dimensions[0].Latest() != nil {
		t.Errorf("future start %+v", m)
	}
	// A very old start date is capped.
	m = MaturityAt(&strategy.Strategy{Start: d(1900, 1, 1)}, nil, d(2025, 1, 1))
	if len(m.Years) != maxMaturityYears {
		t.Errorf("%d years", len(m.Years))
	}
}
