// Package progress is Målbild's progress engine: from a strategy
// (package strategy) and its observations it works out where every
// indicator and goal stands, where it is heading and what the next ILS-style
// follow-up should say. It is pure computation — no I/O, no clock — and
// depends only on the standard library and package strategy. Dashboards,
// the follow-up workflow and the API all read its Report.
//
// # Entry point
//
// Evaluate(strategy, observations, assessments, now) returns a *Report with
// one IndicatorResult per indicator (status, progress, forecast and
// proposals), one GoalResult per goal (proposals rolled up from its
// indicators and milestone), roll-ups per goal area and for the whole
// strategy, and the digital maturity index. The pieces are also exported on
// their own (Path, SeriesOf, StatusAt, ProgressAt, ForecastAt,
// ProposeIndicator, ProposeMilestone, ProposeGoal, Summarize, MaturityAt).
//
// # Conventions
//
//   - Time is Europe/Stockholm (strategy.Stockholm). An observation for a
//     period describes the state on the period's last day (LastDay): a value
//     for 2025, for T3 2025 or for December 2025 meets a target dated
//     2025-12-31.
//   - Only the total dimension counts (strategy.Dimension.IsTotal); per
//     period the highest Version wins; an indicator mixing period kinds is
//     read in its most common kind (SeriesOf).
//   - "Known at t" means the observation's period had begun before t
//     (Series.KnownAt). A report for a period uses only values whose period
//     ends within it (Series.Through), so a yearly value is not used for T1.
//   - Direction: for an indicator where lower is better
//     (strategy.Decrease) every comparison is flipped — a value below the
//     path is ahead of it, a value at or below the target reaches it.
//   - Tolerance (strategy.Indicator.Tolerance, in the indicator's unit) is
//     how far behind a value may be and still count as "at risk" / "partly
//     met" rather than "off track" / "not met"; a negative or non-finite
//     tolerance counts as 0.
//   - User-facing text comes as strategy.Text (Swedish and English) or via a
//     lang argument ("sv" or "en"); numbers are formatted per language
//     (FormatValue).
//
// # Periods
//
// strategy.Period holds months, quarters, tertials (T1 Jan–Apr, T2 May–Aug,
// T3 Sep–Dec) and years. ILS-style follow-up reports on T1, T2 and the full
// year (tertial rhythm) or Q1–Q3 and the full year (quarter rhythm), each
// year to date: ReportPeriods, OpenReportPeriod (in progress),
// ClosedReportPeriod (latest ended), Prev/NextReportPeriod, and
// Periods/PeriodsBetween to walk the periods between two dates.
//
// # Target path
//
// Path(indicator) is the expected value over time: straight lines from the
// baseline through every dated target, flat after the last one, undefined
// before the baseline (without a baseline it starts at the first target).
// Targets on the same day are versions of one target; the version in force
// is the latest decided on or before the date looked at (TargetPath.AsOf
// caps what is known). ResolveTarget turns "-30%", "+30", "halve" and the
// like into values.
//
// # Status and progress
//
// StatusAt gives one of met, on track, at risk, off track, no data, stale
// and no target (see Status for the exact rules), each with a text symbol,
// a Swedish and English label and a CSS-safe key. ProgressAt gives the
// latest value, the change since the previous value and since the
// baseline, and the share of the way to each target covered (Covered).
//
// # Forecast
//
// ForecastAt fits a Theil–Sen trend to the last 24 monthly (or 8 other)
// values, removes a yearly pattern from monthly series when there is a
// material one, and projects the trend to each target date with a band; it
// says when each target is reached at the current pace, whether past
// targets were met at their date, and whether the 3- and 5-year targets
// will be reached.
//
// # Proposals and roll-ups
//
// ProposeIndicator compares a report period's outcome with the year's
// target (met, partly, not met, with a reason in Swedish and English) and
// at T1/T2 (Q1–Q3) adds a full-year forecast; ProposeMilestone judges
// milestones by their due date; ProposeGoal rolls both up with RuleStrict
// or RuleMajority. Summarize counts statuses, the share of indicators on
// track and the share of 3-year targets forecast to be reached.
//
// # Maturity index
//
// MaturityAt scores each maturity dimension (each goal area without a
// maturity model) 0–100 per year from its indicators' progress toward their
// long-term targets, optionally blended with a self-assessment survey;
// MaturityIndex.MethodText explains the method in plain words.
package progress
