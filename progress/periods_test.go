package progress

import (
	"reflect"
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

func TestPeriodLabels(t *testing.T) {
	for _, c := range []struct {
		p      strategy.Period
		sv, en string
	}{
		{tertial(2025, 2), "T2 2025", "T2 2025"},
		{strategy.Period{Kind: strategy.Quarter, Year: 2025, N: 3}, "Kv 3 2025", "Q3 2025"},
		{year(2025), "Helår 2025", "Full year 2025"},
		{month(2025, 3), "mars 2025", "March 2025"},
	} {
		if got := c.p.Label("sv"); got != c.sv {
			t.Errorf("%v.Label(sv) = %q, want %q", c.p, got, c.sv)
		}
		if got := c.p.Label("en"); got != c.en {
			t.Errorf("%v.Label(en) = %q, want %q", c.p, got, c.en)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	q3 := strategy.Period{Kind: strategy.Quarter, Year: 2025, N: 3}
	for in, want := range map[string]strategy.Period{
		"2025-T2": tertial(2025, 2), "2025-t2": tertial(2025, 2),
		"2025-Q3": q3, "2025-03": month(2025, 3), "2025": year(2025), " 2025 ": year(2025),
		"T2 2025": tertial(2025, 2), "Kv 3 2025": q3, "Q3 2025": q3,
		"Helår 2025": year(2025), "Full year 2025": year(2025),
	} {
		got, err := strategy.ParsePeriod(in)
		if err != nil || got != want {
			t.Errorf("ParsePeriod(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "T2", "2025-T4", "2025-T0", "2025-Q5", "2025-13", "2025-00", "25-03", "2025-3", "Kv 5 2025", "Helår", "mars 2025"} {
		if p, err := strategy.ParsePeriod(in); err == nil {
			t.Errorf("ParsePeriod(%q) = %v, want an error", in, p)
		}
	}
	// Every label of a report period parses back.
	for _, r := range []strategy.Rhythm{strategy.RhythmTertial, strategy.RhythmQuarter} {
		for _, p := range ReportPeriods(r, 2031) {
			for _, lang := range []string{"sv", "en"} {
				got, err := strategy.ParsePeriod(p.Label(lang))
				if err != nil || got != p {
					t.Errorf("ParsePeriod(%q) = %v, %v; want %v", p.Label(lang), got, err, p)
				}
			}
			if got, err := strategy.ParsePeriod(p.String()); err != nil || got != p {
				t.Errorf("ParsePeriod(%q) = %v, %v", p.String(), got, err)
			}
		}
	}
}

func TestReportPeriods(t *testing.T) {
	q := func(n int) strategy.Period { return strategy.Period{Kind: strategy.Quarter, Year: 2025, N: n} }
	if got, want := ReportPeriods(strategy.RhythmTertial, 2025), []strategy.Period{tertial(2025, 1), tertial(2025, 2), year(2025)}; !reflect.DeepEqual(got, want) {
		t.Errorf("tertial: %v, want %v", got, want)
	}
	if got, want := ReportPeriods("", 2025), ReportPeriods(strategy.RhythmTertial, 2025); !reflect.DeepEqual(got, want) {
		t.Errorf("unset rhythm: %v, want %v", got, want)
	}
	if got, want := ReportPeriods(strategy.RhythmQuarter, 2025), []strategy.Period{q(1), q(2), q(3), year(2025)}; !reflect.DeepEqual(got, want) {
		t.Errorf("quarter: %v, want %v", got, want)
	}
	var labels []string
	for _, p := range ReportPeriods(strategy.RhythmTertial, 2025) {
		labels = append(labels, p.Label("sv"))
	}
	if want := []string{"T1 2025", "T2 2025", "Helår 2025"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
	if IsReportPeriod(strategy.RhythmTertial, tertial(2025, 3)) || IsReportPeriod(strategy.RhythmTertial, q(1)) || !IsReportPeriod(strategy.RhythmQuarter, q(3)) || IsReportPeriod(strategy.RhythmQuarter, q(4)) {
		t.Error("IsReportPeriod wrong")
	}
}

func TestOpenAndClosedReportPeriod(t *testing.T) {
	q := func(y, n int) strategy.Period { return strategy.Period{Kind: strategy.Quarter, Year: y, N: n} }
	for _, c := range []struct {
		r            strategy.Rhythm
		at           time.Time
		open, closed strategy.Period
	}{
		{strategy.RhythmTertial, d(2025, 1, 15), tertial(2025, 1), year(2024)},
		{strategy.RhythmTertial, d(2025, 5, 1).Add(-time.Second), tertial(2025, 1), year(2024)},
		{strategy.RhythmTertial, d(2025, 5, 1), tertial(2025, 2), tertial(2025, 1)},
		// 22:30 UTC on 30 April is 00:30 on 1 May in Stockholm (CEST).
		{strategy.RhythmTertial, time.Date(2025, 4, 30, 22, 30, 0, 0, time.UTC), tertial(2025, 2), tertial(2025, 1)},
		{strategy.RhythmTertial, d(2025, 9, 1), year(2025), tertial(2025, 2)},
		{strategy.RhythmTertial, d(2025, 12, 31), year(2025), tertial(2025, 2)},
		{strategy.RhythmQuarter, d(2025, 2, 1), q(2025, 1), year(2024)},
		{strategy.RhythmQuarter, d(2025, 8, 1), q(2025, 3), q(2025, 2)},
		{strategy.RhythmQuarter, d(2025, 10, 1), year(2025), q(2025, 3)},
	} {
		if got := OpenReportPeriod(c.r, c.at); got != c.open {
			t.Errorf("OpenReportPeriod(%s, %v) = %v, want %v", c.r, c.at, got, c.open)
		}
		if got := ClosedReportPeriod(c.r, c.at); got != c.closed {
			t.Errorf("ClosedReportPeriod(%s, %v) = %v, want %v", c.r, c.at, got, c.closed)
		}
	}
}

func TestNextPrevReportPeriod(t *testing.T) {
	for _, r := range []strategy.Rhythm{strategy.RhythmTertial, strategy.RhythmQuarter} {
		want := append(ReportPeriods(r, 2025), ReportPeriods(r, 2026)...)
		p := want[0]
		for i := 1; i < len(want); i++ {
			n := NextReportPeriod(r, p)
			if n != want[i] {
				t.Fatalf("%s: Next(%v) = %v, want %v", r, p, n, want[i])
			}
			if back := PrevReportPeriod(r, n); back != p {
				t.Fatalf("%s: Prev(%v) = %v, want %v", r, n, back, p)
			}
			p = n
		}
	}
	// Periods that are not report periods map to the one they end in.
	if got := PrevReportPeriod(strategy.RhythmTertial, tertial(2025, 3)); got != tertial(2025, 2) {
		t.Errorf("Prev(T3) = %v", got)
	}
	if got := NextReportPeriod(strategy.RhythmTertial, month(2025, 6)); got != year(2025) {
		t.Errorf("Next(June) = %v", got)
	}
}

func TestPeriodsBetween(t *testing.T) {
	got := PeriodsBetween(strategy.Month, d(2024, 11, 20), d(2025, 2, 1))
	want := []strategy.Period{month(2024, 11), month(2024, 12), month(2025, 1), month(2025, 2)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("months: %v, want %v", got, want)
	}
	if got := PeriodsBetween(strategy.Tertial, d(2024, 12, 1), d(2025, 5, 1)); !reflect.DeepEqual(got, []strategy.Period{tertial(2024, 3), tertial(2025, 1), tertial(2025, 2)}) {
		t.Errorf("tertials: %v", got)
	}
	if got := PeriodsBetween(strategy.Year, d(2025, 6, 1), d(2025, 6, 1)); !reflect.DeepEqual(got, []strategy.Period{year(2025)}) {
		t.Errorf("one year: %v", got)
	}
	if got := PeriodsBetween(strategy.Month, d(2025, 2, 1), d(2025, 1, 1)); len(got) != 0 {
		t.Errorf("reversed: %v", got)
	}
	if got := PeriodsBetween("week", d(2025, 1, 1), d(2025, 2, 1)); len(got) != 0 {
		t.Errorf("bad kind: %v", got)
	}
	n := 0
	for range Periods(strategy.Month, d(2000, 1, 1), d(2100, 1, 1)) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("early break: %d", n)
	}
}

func TestLastDayAndYearToDate(t *testing.T) {
	if got := LastDay(tertial(2025, 2)); !got.Equal(d(2025, 8, 31)) {
		t.Errorf("LastDay(T2) = %v", got)
	}
	if got := LastDay(month(2024, 2)); !got.Equal(d(2024, 2, 29)) {
		t.Errorf("LastDay(Feb 2024) = %v", got)
	}
	from, to := YearToDate(tertial(2025, 2))
	if !from.Equal(d(2025, 1, 1)) || !to.Equal(d(2025, 9, 1)) {
		t.Errorf("YearToDate(T2) = %v–%v", from, to)
	}
}
