package progress

import (
	"iter"
	"slices"
	"time"

	"github.com/malbild/malbild/strategy"
)

// ReportKind is the period kind a follow-up rhythm reports in: tertials for
// strategy.RhythmTertial (and for an unset rhythm), quarters for
// strategy.RhythmQuarter, half years for strategy.RhythmHalfYear (delår
// and helår), months for strategy.RhythmMonth.
func ReportKind(r strategy.Rhythm) strategy.PeriodKind {
	switch r {
	case strategy.RhythmQuarter:
		return strategy.Quarter
	case strategy.RhythmHalfYear:
		return strategy.HalfYear
	case strategy.RhythmMonth:
		return strategy.Month
	}
	return strategy.Tertial
}

// perYear is how many periods of kind k make a year (0 for unknown kinds).
func perYear(k strategy.PeriodKind) int {
	switch k {
	case strategy.Month:
		return 12
	case strategy.Quarter:
		return 4
	case strategy.Tertial:
		return 3
	case strategy.HalfYear:
		return 2
	case strategy.Year:
		return 1
	}
	return 0
}

// ReportPeriods lists the ILS-style report periods of a year in order: T1,
// T2 and the full year for the tertial rhythm; Q1, Q2, Q3 and the full year
// for the quarter rhythm. The last tertial (T3) and quarter (Q4) are not
// reported on their own: the full-year report covers them.
//
// A report period is year to date: the T2 report is about January to
// August, and its outcome is the latest value up to the end of August
// (Period.End).
func ReportPeriods(r strategy.Rhythm, year int) []strategy.Period {
	k := ReportKind(r)
	n := perYear(k)
	out := make([]strategy.Period, 0, n)
	for i := 1; i < n; i++ {
		out = append(out, strategy.Period{Kind: k, Year: year, N: i})
	}
	return append(out, strategy.Period{Kind: strategy.Year, Year: year})
}

// IsReportPeriod reports whether p is one of ReportPeriods(r, p.Year).
func IsReportPeriod(r strategy.Rhythm, p strategy.Period) bool {
	if p.Kind == strategy.Year {
		return p.Valid()
	}
	return p.Kind == ReportKind(r) && p.Valid() && p.N < perYear(p.Kind)
}

// OpenReportPeriod is the report period in progress at t: the one whose
// last stretch contains t. With the tertial rhythm that is T1 from January
// to April, T2 from May to August and the full year from September to
// December. Its report can be written once it has ended; until then its
// proposals are provisional.
func OpenReportPeriod(r strategy.Rhythm, t time.Time) strategy.Period {
	k := ReportKind(r)
	p := strategy.PeriodOf(k, t)
	if p.N == perYear(k) {
		return strategy.Period{Kind: strategy.Year, Year: p.Year}
	}
	return p
}

// ClosedReportPeriod is the latest report period that has ended at t: the
// one whose report is due. In May 2025 (tertial rhythm) that is T1 2025; in
// February 2025 it is the full year 2024.
func ClosedReportPeriod(r strategy.Rhythm, t time.Time) strategy.Period {
	return PrevReportPeriod(r, OpenReportPeriod(r, t))
}

// PrevReportPeriod is the report period before p. A period that is not a
// report period of rhythm r is first mapped to the report period it ends in
// (T3 and Q4 to the full year, a month to the report period containing it).
func PrevReportPeriod(r strategy.Rhythm, p strategy.Period) strategy.Period {
	p = asReportPeriod(r, p)
	k := ReportKind(r)
	switch {
	case p.Kind == strategy.Year:
		return strategy.Period{Kind: k, Year: p.Year, N: perYear(k) - 1}
	case p.N == 1:
		return strategy.Period{Kind: strategy.Year, Year: p.Year - 1}
	}
	return strategy.Period{Kind: k, Year: p.Year, N: p.N - 1}
}

// NextReportPeriod is the report period after p (mapped as in
// PrevReportPeriod).
func NextReportPeriod(r strategy.Rhythm, p strategy.Period) strategy.Period {
	p = asReportPeriod(r, p)
	k := ReportKind(r)
	switch {
	case p.Kind == strategy.Year:
		return strategy.Period{Kind: k, Year: p.Year + 1, N: 1}
	case p.N+1 == perYear(k):
		return strategy.Period{Kind: strategy.Year, Year: p.Year}
	}
	return strategy.Period{Kind: k, Year: p.Year, N: p.N + 1}
}

// asReportPeriod maps any valid period to the report period whose last
// stretch contains the period's last day.
func asReportPeriod(r strategy.Rhythm, p strategy.Period) strategy.Period {
	if IsReportPeriod(r, p) || !p.Valid() {
		return p
	}
	return OpenReportPeriod(r, LastDay(p))
}

// YearToDate is the span a report period covers: from 1 January of its year
// to the end of the period (exclusive).
func YearToDate(p strategy.Period) (from, to time.Time) {
	return strategy.Period{Kind: strategy.Year, Year: p.Year}.Start(), p.End()
}

// LastDay is the last day of p at 00:00 Europe/Stockholm. The engine takes
// an observation for a period to describe the state on that day, so a value
// for 2025 (or for December 2025) meets a target dated 2025-12-31.
func LastDay(p strategy.Period) time.Time {
	return p.End().AddDate(0, 0, -1)
}

// Periods yields every period of kind k from the one containing from to the
// one containing to, in order. It yields nothing when to is before from or
// k is not a valid kind.
func Periods(k strategy.PeriodKind, from, to time.Time) iter.Seq[strategy.Period] {
	return func(yield func(strategy.Period) bool) {
		if !k.Valid() || to.Before(from) {
			return
		}
		last := strategy.PeriodOf(k, to)
		for p := strategy.PeriodOf(k, from); !last.Before(p); p = p.Next() {
			if !yield(p) {
				return
			}
		}
	}
}

// PeriodsBetween is Periods collected into a slice.
func PeriodsBetween(k strategy.PeriodKind, from, to time.Time) []strategy.Period {
	return slices.Collect(Periods(k, from, to))
}

// LastReportPeriod is the latest report period of st that has begun at
// now: the one in progress (OpenReportPeriod), or, once the strategy's
// period has ended, the full year of its last year (its follow-up after
// the end).
func LastReportPeriod(st *strategy.Strategy, now time.Time) strategy.Period {
	open := OpenReportPeriod(st.Rhythm, now)
	if y := st.LastYear(); y != 0 {
		if end := (strategy.Period{Kind: strategy.Year, Year: y}); end.End().Before(open.End()) {
			return end
		}
	}
	return open
}

// StrategyReportPeriods lists the report periods of st that have begun at
// now, newest first: from year first (never before the strategy's start
// year) to LastReportPeriod, so an ended strategy's list stops at its
// follow-up after the end. Report periods outside the strategy's own
// period (Strategy.InPeriod) or that it does not report
// (Strategy.Reports) are left out. It is the one list of report periods
// the follow-up's lists and the dashboards' period pickers offer.
func StrategyReportPeriods(st *strategy.Strategy, now time.Time, first int) []strategy.Period {
	last := LastReportPeriod(st, now)
	if !st.Start.IsZero() {
		first = max(first, st.Start.In(strategy.Stockholm).Year())
	}
	var out []strategy.Period
	for y := first; y <= last.Year; y++ {
		for _, p := range ReportPeriods(st.Rhythm, y) {
			if !p.End().After(last.End()) && st.InPeriod(p) && st.Reported(p) {
				out = append(out, p)
			}
		}
	}
	slices.Reverse(out)
	return out
}
