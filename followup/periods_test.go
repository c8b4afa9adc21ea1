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

// TestEndedStrategyPeriods: a 2015–2017 strategy followed up in 2026 lists
// its own report periods (not 2024–2026), the due report is its last full
// year, and nothing after its end counts as begun. Reports and the new
// rhythms shape the list too.
func TestEndedStrategyPeriods(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, strategy.Stockholm) }
	for _, c := range []struct {
		name string
		st   *strategy.Strategy
		now  time.Time
		want string
		due  string
	}{
		{"ended", &strategy.Strategy{Rhythm: strategy.RhythmTertial, Start: day(2015, 1, 1), End: day(2017, 12, 31)}, day(2026, 3, 1),
			"2017 2017-T2 2017-T1 2016 2016-T2 2016-T1 2015 2015-T2 2015-T1", "2017"},
		{"follow-up after the end", &strategy.Strategy{Rhythm: strategy.RhythmTertial, Start: day(2015, 1, 1), End: day(2017, 12, 31)}, day(2018, 2, 1),
			"2017 2017-T2 2017-T1 2016 2016-T2 2016-T1 2015 2015-T2 2015-T1", "2017"},
		{"starts mid-year", &strategy.Strategy{Rhythm: strategy.RhythmTertial, Start: day(2025, 6, 1)}, day(2025, 10, 1),
			"2025 2025-T2", "2025-T2"},
		{"reports T2 and the full year", &strategy.Strategy{Rhythm: strategy.RhythmTertial, Start: day(2024, 1, 1), Reports: []int{2, 0}}, day(2025, 10, 1),
			"2025 2025-T2 2024 2024-T2", "2025-T2"},
		{"half year", &strategy.Strategy{Rhythm: strategy.RhythmHalfYear, Start: day(2024, 1, 1)}, day(2025, 10, 1),
			"2025 2025-H1 2024 2024-H1", "2025-H1"},
		{"month", &strategy.Strategy{Rhythm: strategy.RhythmMonth, Start: day(2025, 1, 1), End: day(2025, 12, 31)}, day(2025, 4, 10),
			"2025-04 2025-03 2025-02 2025-01", "2025-03"},
	} {
		s := &Service{opts: Options{Now: func() time.Time { return c.now }}}
		var got []string
		for _, p := range s.reportPeriods(c.st) {
			got = append(got, p.String())
			if !s.begun(c.st, p) {
				t.Errorf("%s: %s listed but not begun", c.name, p)
			}
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%s: %s, want %s", c.name, g, c.want)
		}
		if due := s.duePeriod(c.st); due.String() != c.due {
			t.Errorf("%s: due %s, want %s", c.name, due, c.due)
		}
	}
	st := &strategy.Strategy{Rhythm: strategy.RhythmTertial, Start: day(2015, 1, 1), Reports: []int{2, 0}}
	s := &Service{opts: Options{Now: func() time.Time { return day(2026, 3, 1) }}}
	for _, bad := range []string{"2025-T1", "2024-T1", "2026-T2"} {
		if p, _ := strategy.ParsePeriod(bad); s.begun(st, p) {
			t.Errorf("reports T2 and year: %s counts as one of its report periods", bad)
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
