package followup

import (
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/strategy"
)

func TestReportPeriods(t *testing.T) {
	for _, c := range []struct {
		rhythm strategy.Rhythm
		now    time.Time
		want   string
	}{
		{strategy.RhythmTertial, time.Date(2025, 6, 16, 0, 0, 0, 0, strategy.Stockholm), "2025-T2 2025-T1 2024 2024-T2 2024-T1"},
		{strategy.RhythmTertial, time.Date(2025, 9, 1, 0, 0, 0, 0, strategy.Stockholm), "2025 2025-T2 2025-T1 2024 2024-T2 2024-T1"},
		{strategy.RhythmQuarter, time.Date(2025, 8, 1, 0, 0, 0, 0, strategy.Stockholm), "2025-Q3 2025-Q2 2025-Q1 2024 2024-Q3 2024-Q2 2024-Q1"},
		{strategy.RhythmQuarter, time.Date(2025, 10, 1, 0, 0, 0, 0, strategy.Stockholm), "2025 2025-Q3 2025-Q2 2025-Q1 2024 2024-Q3 2024-Q2 2024-Q1"},
	} {
		st := &strategy.Strategy{Rhythm: c.rhythm, Start: time.Date(2024, 1, 1, 0, 0, 0, 0, strategy.Stockholm)}
		s := &Service{opts: Options{Now: func() time.Time { return c.now }}}
		var got []string
		for _, p := range s.reportPeriods(st) {
			got = append(got, p.String())
			if !s.begun(st, p) {
				t.Errorf("%s listed but not begun", p)
			}
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%s at %s: %s, want %s", c.rhythm, c.now.Format("2006-01-02"), g, c.want)
		}
		for _, bad := range []string{"2025-T3", "2025-Q4", "2025-03", "2026", "2026-T1"} {
			if p, err := strategy.ParsePeriod(bad); err == nil && s.begun(st, p) {
				t.Errorf("%s at %s: %s counts as begun", c.rhythm, c.now.Format("2006-01-02"), bad)
			}
		}
	}
}

func TestClosedCovering(t *testing.T) {
	per := func(s string) strategy.Period {
		p, err := strategy.ParsePeriod(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	states := map[strategy.Period]clickhouse.PeriodState{
		per("2025-T1"): {Closed: true},
		per("2025-T2"): {Closed: false},
		per("2024"):    {Closed: true},
	}
	for obs, want := range map[string]string{
		"2025-03": "2025-T1", "2025-T1": "2025-T1", "2025-01": "2025-T1",
		"2025-05": "", "2025-T2": "", "2025": "", "2025-Q2": "",
		"2024-11": "2024", "2024": "2024", "2024-T1": "2024", "2023": "",
	} {
		p, ok := closedCovering(states, per(obs))
		got := ""
		if ok {
			got = p.String()
		}
		if got != want {
			t.Errorf("value for %s: closed report %q, want %q", obs, got, want)
		}
	}
}
