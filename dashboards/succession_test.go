package dashboards

import (
	"fmt"
	"testing"

	"github.com/malbild/malbild/strategy"
)

// TestContinueHistory: an indicator that continues the previous plan's
// (ids differ) shows the old values as the older part of its series; a
// value of its own for a period wins.
func TestContinueHistory(t *testing.T) {
	st := &strategy.Strategy{Areas: []*strategy.GoalArea{{ID: "a", Goals: []*strategy.Goal{{ID: "g",
		Indicators: []*strategy.Indicator{{ID: "andel-e-2018", Continues: "andel-e-2015"}}}}}}}
	year := func(y int) strategy.Period { return strategy.Period{Kind: strategy.Year, Year: y} }
	obs := map[string][]strategy.Observation{
		"andel-e-2018": {{Indicator: "andel-e-2018", Period: year(2017), Value: 41}, {Indicator: "andel-e-2018", Period: year(2018), Value: 45}},
		"andel-e-2015": {{Indicator: "andel-e-2015", Period: year(2015), Value: 30}, {Indicator: "andel-e-2015", Period: year(2016), Value: 35},
			{Indicator: "andel-e-2015", Period: year(2017), Value: 40}},
	}
	continueHistory(st, obs)
	var got string
	for _, o := range obs["andel-e-2018"] {
		got += fmt.Sprintf("%s %d=%g ", o.Indicator, o.Period.Year, o.Value)
	}
	want := "andel-e-2018 2015=30 andel-e-2018 2016=35 andel-e-2018 2017=41 andel-e-2018 2018=45 "
	if got != want {
		t.Errorf("series = %q\nwant     %q", got, want)
	}
	if len(obs["andel-e-2015"]) != 3 {
		t.Error("the old indicator's own series changed")
	}
}
