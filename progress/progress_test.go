package progress

import (
	"testing"

	"github.com/malbild/malbild/strategy"
)

func TestCovered(t *testing.T) {
	inc := &strategy.Indicator{Direction: strategy.Increase}
	dec := &strategy.Indicator{Direction: strategy.Decrease}
	for _, c := range []struct {
		name                 string
		ind                  *strategy.Indicator
		start, target, value float64
		want                 float64
	}{
		{"half way", inc, 50, 80, 65, 50},
		{"at the start", inc, 50, 80, 50, 0},
		{"at the target", inc, 50, 80, 80, 100},
		{"moved away", inc, 50, 80, 45, -50.0 / 3},
		{"beyond", inc, 50, 80, 95, 150},
		{"decrease half way", dec, 100, 70, 85, 50},
		{"decrease moved away", dec, 100, 70, 106, -20},
		{"negative values", inc, -10, 20, 5, 50},
		{"start = target, met", inc, 80, 80, 81, 100},
		{"start = target, exactly", inc, 80, 80, 80, 100},
		{"start = target, not met", inc, 80, 80, 79, 0},
		{"start = target, decrease met", dec, 80, 80, 79, 100},
		{"start = target, decrease not met", dec, 80, 80, 81, 0},
	} {
		if got := Covered(c.ind, c.start, c.target, c.value); !near(got, c.want, 1e-12) {
			t.Errorf("%s: Covered = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestProgressAt(t *testing.T) {
	ind := indicator(strategy.Increase, d(2022, 12, 31), 40, 5,
		horizon(d(2025, 12, 31), 80, 3), horizon(d(2027, 12, 31), 100, 5))
	// A gap: nothing for 2024.
	s := series([]strategy.Period{year(2023), year(2025)}, 50, 70)
	pr := ProgressAt(ind, Path(ind), s, d(2026, 2, 1))
	if pr.Latest == nil || pr.Latest.Value != 70 || pr.Previous == nil || pr.Previous.Period != year(2023) {
		t.Fatalf("latest/previous %+v %+v", pr.Latest, pr.Previous)
	}
	for name, c := range map[string]struct{ got, want float64 }{
		"change":             {val(pr.Change), 20},
		"change pct":         {val(pr.ChangePct), 40},
		"since baseline":     {val(pr.SinceBaseline), 30},
		"since baseline pct": {val(pr.SinceBaselinePct), 75},
		"start":              {val(pr.Start), 40},
		"3-year covered":     {val(pr.Targets[0].Covered), 75},
		"5-year covered":     {val(pr.Targets[1].Covered), 50},
	} {
		if !near(c.got, c.want, 1e-12) {
			t.Errorf("%s = %v, want %v", name, c.got, c.want)
		}
	}
	if pr.StartFromData || pr.Targets[0].Met || pr.Targets[1].Met {
		t.Errorf("flags %+v", pr)
	}
	// Values not yet known at the time are left out.
	if pr := ProgressAt(ind, Path(ind), s, d(2025, 1, 1)); pr.Latest.Period != year(2023) || pr.Previous != nil || pr.Change != nil {
		t.Errorf("at 2025-01-01: %+v", pr)
	}
}

func TestProgressWithoutBaseline(t *testing.T) {
	ind := indicator(strategy.Decrease, d(0, 1, 1), 0, 0, horizon(d(2027, 12, 31), 10, 0))
	ind.Baseline = nil
	s := series(months(month(2025, 1), 3), 30, 20, 0)
	pr := ProgressAt(ind, Path(ind), s, d(2026, 1, 1))
	if !pr.StartFromData || val(pr.Start) != 30 || pr.SinceBaseline != nil {
		t.Fatalf("start %+v", pr)
	}
	if got := val(pr.Targets[0].Covered); got != 150 || !pr.Targets[0].Met {
		t.Errorf("covered %v met %v", got, pr.Targets[0].Met)
	}
	if val(pr.Change) != -20 || val(pr.ChangePct) != -100 {
		t.Errorf("change %v (%v %%)", val(pr.Change), val(pr.ChangePct))
	}
	// Relative change from zero is undefined.
	s = series(months(month(2025, 1), 2), 0, 5)
	if pr := ProgressAt(ind, Path(ind), s, d(2026, 1, 1)); pr.ChangePct != nil || val(pr.Change) != 5 {
		t.Errorf("from zero: %+v", pr)
	}
}

func TestProgressNoData(t *testing.T) {
	ind := indicator(strategy.Increase, d(2022, 12, 31), 40, 5, yearly(2025, 60, d(2024, 1, 1)))
	pr := ProgressAt(ind, Path(ind), nil, d(2026, 2, 1))
	if pr.Latest != nil || len(pr.Targets) != 1 || pr.Targets[0].Covered != nil || val(pr.Start) != 40 {
		t.Errorf("%+v", pr)
	}
}
