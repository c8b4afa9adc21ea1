package progress

import (
	"fmt"
	"time"

	"github.com/malbild/malbild/strategy"
)

// Roll-up rules for goals (strategy.Strategy.RollUp).
const (
	// RuleStrict: all met → met; any not met → not met; otherwise partly.
	RuleStrict = "strict"
	// RuleMajority: more than half met → met; more than half not met → not
	// met; otherwise partly.
	RuleMajority = "majority"
)

// Proposal is the engine's proposed ILS assessment of an indicator or a
// milestone for a report period. A person confirms or changes it.
type Proposal struct {
	Period strategy.Period `json:"period"`
	Level  strategy.Level  `json:"level"`
	Reason strategy.Text   `json:"reason"`
	// Forecast is the full-year forecast at T1, T2 or Q1–Q3;
	// strategy.LevelNone for the full year and when no forecast can be made
	// (ForecastReason says why).
	Forecast       strategy.Level `json:"forecast,omitempty"`
	ForecastReason strategy.Text  `json:"forecast_reason,omitzero"`
	// Outcome is the value assessed: the latest value whose period ends no
	// later than the report period.
	Outcome *Point `json:"outcome,omitempty"`
	// Target is the value the outcome was compared with: the year's yearly
	// target in the version in force at the end of the period, or, without
	// one, the target path's value on the period's last day (FromPath).
	Target   *float64 `json:"target,omitempty"`
	FromPath bool     `json:"from_path,omitempty"`
	// Projected is the trend's value on 31 December, YearTarget what it was
	// compared with (yearly target, or the path's value on 31 December).
	Projected  *float64 `json:"projected,omitempty"`
	YearTarget *float64 `json:"year_target,omitempty"`
}

// compareLevel: reaches → met; behind by at most tol → partly; else not met.
func compareLevel(ind *strategy.Indicator, v, target, tol float64) strategy.Level {
	switch a := ahead(ind, v, target); {
	case reaches(ind, v, target):
		return strategy.LevelMet
	case a >= -tol-1e-9:
		return strategy.LevelPartly
	}
	return strategy.LevelNotMet
}

// yearTarget is the target the year's report compares with at date d.
func yearTarget(path *TargetPath, year int, d, at time.Time) (v float64, fromPath, ok bool) {
	if t, ok := path.YearlyTarget(year, at); ok {
		return t.Value, false, true
	}
	v, ok = path.At(d)
	return v, true, ok
}

// ProposeIndicator proposes ind's assessment for report period p
// (ReportPeriods), made at time at. Everything is judged as of the earlier
// of at and p's end (a zero at means p's end), so a proposal for the period
// in progress uses only what is known then and does not call a value stale
// ahead of time.
//
// The outcome is the latest value whose period ends no later than p
// (Series.Through); it is compared with the yearly target of p's year in
// the version in force then — or, without a yearly target, with the target
// path's value on p's last day — and ind.Tolerance:
//
//	reaches the target               → met
//	behind by at most the tolerance  → partly met
//	further behind                   → not met
//
// No target, no value, or a value older than ind.Freshness → not assessed;
// the outcome is still given when there is a value but no target.
//
// For T1, T2 and Q1–Q3 the trend of the same values (as in ForecastAt) is
// projected to 31 December and compared in the same way with the year's
// target (the yearly target, else the path on 31 December): that is the
// full-year forecast.
func ProposeIndicator(ind *strategy.Indicator, path *TargetPath, s Series, p strategy.Period, at time.Time) Proposal {
	var fi fitter
	return fi.proposeIndicator(ind, path, s, p, at)
}

// judgedAt is the time a proposal for p made at time at is judged at.
func judgedAt(p strategy.Period, at time.Time) time.Time {
	if end := p.End(); at.IsZero() || end.Before(at) {
		return end
	}
	return at
}

func (fi *fitter) proposeIndicator(ind *strategy.Indicator, path *TargetPath, s Series, p strategy.Period, at time.Time) Proposal {
	at = judgedAt(p, at)
	path = path.upTo(at)
	s = s.Through(p).KnownAt(at)
	pr := Proposal{Period: p, Level: strategy.LevelNotAssessed}
	tol := tolerance(ind)
	val := func(x float64, lang string) string { return FormatValue(x, ind.Unit, lang) }
	target, fromPath, hasTarget := yearTarget(path, p.Year, LastDay(p), at)
	latest, hasValue := s.Latest()
	switch {
	case !hasTarget && hasValue:
		// Nothing to assess against, but the outcome is still the outcome.
		pr.Outcome = &latest
		pr.Reason = strategy.Text{
			SV: fmt.Sprintf("Utfall %s (%s), men inget mål att bedöma mot.", val(latest.Value, "sv"), latest.Period.Label("sv")),
			EN: fmt.Sprintf("Outcome %s (%s), but no target to assess against.", val(latest.Value, "en"), latest.Period.Label("en")),
		}
	case !hasTarget:
		pr.Reason = strategy.Text{SV: "Inget mål att bedöma mot.", EN: "No target to assess against."}
	case !hasValue:
		pr.Reason = strategy.Text{SV: "Inget utfall för perioden.", EN: "No outcome for the period."}
	case ind.Freshness > 0 && at.Sub(latest.finish()) > ind.Freshness:
		pr.Outcome = &latest
		pr.Reason = strategy.Text{
			SV: fmt.Sprintf("Senaste utfallet (%s) är för gammalt för att bedömas.", latest.Period.Label("sv")),
			EN: fmt.Sprintf("The latest outcome (%s) is too old to assess.", latest.Period.Label("en")),
		}
	default:
		pr.Outcome, pr.Target, pr.FromPath = &latest, &target, fromPath
		pr.Level = compareLevel(ind, latest.Value, target, tol)
		when := [2]string{}
		if !latest.finish().Equal(p.End()) {
			when = [2]string{" (" + latest.Period.Label("sv") + ")", " (" + latest.Period.Label("en") + ")"}
		}
		against := [2]string{"årsmål", "yearly target"}
		if fromPath {
			against = [2]string{"målbanan", "the target path"}
		}
		pr.Reason = strategy.Text{
			SV: fmt.Sprintf("Utfall %s%s mot %s %s (tolerans %s): %s.", val(latest.Value, "sv"), when[0], against[0], val(target, "sv"), FormatNumber(tol, "sv"), LevelLabel(pr.Level, "sv")),
			EN: fmt.Sprintf("Outcome %s%s against %s %s (tolerance %s): %s.", val(latest.Value, "en"), when[1], against[1], val(target, "en"), FormatNumber(tol, "en"), LevelLabel(pr.Level, "en")),
		}
	}
	if p.Kind == strategy.Year {
		return pr
	}
	yearEnd := strategy.Period{Kind: strategy.Year, Year: p.Year}
	yt, fromPath, ok := yearTarget(path, p.Year, LastDay(yearEnd), at)
	if !ok {
		pr.ForecastReason = strategy.Text{SV: "Inget mål för året att göra prognos mot.", EN: "No target for the year to forecast against."}
		return pr
	}
	var f Forecast
	fi.fitTrend(&f, s)
	f.Clamp = ind.Unit == strategy.UnitPercent
	v, _, _, ok := f.At(LastDay(yearEnd))
	if !ok {
		pr.ForecastReason = f.Reason
		return pr
	}
	pr.Projected, pr.YearTarget = &v, &yt
	pr.Forecast = compareLevel(ind, v, yt, tol)
	against := [2]string{"årsmål", "yearly target"}
	if fromPath {
		against = [2]string{"målbanan", "the target path"}
	}
	pr.ForecastReason = strategy.Text{
		SV: fmt.Sprintf("Helårsprognos %s mot %s %s (tolerans %s): %s.", val(v, "sv"), against[0], val(yt, "sv"), FormatNumber(tol, "sv"), LevelLabel(pr.Forecast, "sv")),
		EN: fmt.Sprintf("Full-year forecast %s against %s %s (tolerance %s): %s.", val(v, "en"), against[1], val(yt, "en"), FormatNumber(tol, "en"), LevelLabel(pr.Forecast, "en")),
	}
	return pr
}

// ProposeMilestone proposes the assessment of a milestone for report period
// p, as known at the earlier of at and p's end (the zero at: p's end):
//
//	done on or before its due day        → met
//	done, but after its due day          → partly met ("done late")
//	not done and the due day has passed  → not met
//	not done, not yet due                → not assessed
//
// At T1, T2 and Q1–Q3 the forecast repeats a met or not met level (done
// stays done; a missed due day stays missed) and is otherwise none.
func ProposeMilestone(m *strategy.Milestone, p strategy.Period, at time.Time) Proposal {
	at = judgedAt(p, at)
	pr := Proposal{Period: p, Level: strategy.LevelNotAssessed}
	if m == nil || m.Due.IsZero() {
		pr.Reason = strategy.Text{SV: "Inget slutdatum.", EN: "No due date."}
		return pr
	}
	due := day(m.Due)
	dueEnd := due.AddDate(0, 0, 1)
	ds := formatDate(due)
	switch {
	case m.Done != nil && m.Done.Before(at):
		done := formatDate(*m.Done)
		if m.Done.Before(dueEnd) {
			pr.Level = strategy.LevelMet
			pr.Reason = strategy.Text{
				SV: fmt.Sprintf("Klart %s, senast %s: uppfyllt.", done, ds),
				EN: fmt.Sprintf("Done %s, due %s: met.", done, ds),
			}
		} else {
			pr.Level = strategy.LevelPartly
			pr.Reason = strategy.Text{
				SV: fmt.Sprintf("Klart %s, efter slutdatumet %s: delvis uppfyllt.", done, ds),
				EN: fmt.Sprintf("Done %s, after its due date %s: partly met.", done, ds),
			}
		}
	case !dueEnd.After(at):
		pr.Level = strategy.LevelNotMet
		pr.Reason = strategy.Text{
			SV: fmt.Sprintf("Inte klart, skulle vara klart senast %s: ej uppfyllt.", ds),
			EN: fmt.Sprintf("Not done, was due %s: not met.", ds),
		}
	default:
		pr.Reason = strategy.Text{
			SV: fmt.Sprintf("Inte klart ännu, ska vara klart senast %s.", ds),
			EN: fmt.Sprintf("Not done yet, due %s.", ds),
		}
	}
	if p.Kind != strategy.Year && (pr.Level == strategy.LevelMet || pr.Level == strategy.LevelNotMet) {
		pr.Forecast, pr.ForecastReason = pr.Level, pr.Reason
	}
	return pr
}

// RollUpLevels combines assessed levels with rule (RuleStrict, the default
// for "" and unknown rules, or RuleMajority). Not-assessed and empty levels
// are left out; with nothing left the result is not assessed.
func RollUpLevels(levels []strategy.Level, rule string) strategy.Level {
	met, partly, notMet := countLevels(levels)
	n := met + partly + notMet
	switch {
	case n == 0:
		return strategy.LevelNotAssessed
	case rule == RuleMajority:
		switch {
		case 2*met > n:
			return strategy.LevelMet
		case 2*notMet > n:
			return strategy.LevelNotMet
		}
		return strategy.LevelPartly
	case met == n:
		return strategy.LevelMet
	case notMet > 0:
		return strategy.LevelNotMet
	}
	return strategy.LevelPartly
}

func countLevels(levels []strategy.Level) (met, partly, notMet int) {
	for _, l := range levels {
		switch l {
		case strategy.LevelMet:
			met++
		case strategy.LevelPartly:
			partly++
		case strategy.LevelNotMet:
			notMet++
		}
	}
	return met, partly, notMet
}

// rollUpReason explains a roll-up.
func rollUpReason(levels []strategy.Level, rule string, result strategy.Level) strategy.Text {
	met, partly, notMet := countLevels(levels)
	n := met + partly + notMet
	if n == 0 {
		return strategy.Text{SV: "Inget underlag är bedömt.", EN: "Nothing to go on has been assessed."}
	}
	ruleSV, ruleEN := "strikt", "strict"
	if rule == RuleMajority {
		ruleSV, ruleEN = "majoritet", "majority"
	}
	return strategy.Text{
		SV: fmt.Sprintf("Uppfyllt %d, delvis %d, ej uppfyllt %d av %d bedömda (regel: %s): %s.", met, partly, notMet, n, ruleSV, LevelLabel(result, "sv")),
		EN: fmt.Sprintf("Met %d, partly %d, not met %d of %d assessed (rule: %s): %s.", met, partly, notMet, n, ruleEN, LevelLabel(result, "en")),
	}
}

// GoalItem is one thing a goal's proposal rolls up: an indicator or the
// goal's milestone, with the level used — a confirmed assessment for the
// period when there is one (Confirmed), else the engine's proposal.
type GoalItem struct {
	Kind      string         `json:"kind"` // "indicator", "milestone", "subgoal" or "criterion"
	ID        string         `json:"id,omitempty"`
	Level     strategy.Level `json:"level"`
	Forecast  strategy.Level `json:"forecast,omitempty"`
	Confirmed bool           `json:"confirmed,omitempty"`
	Reason    strategy.Text  `json:"reason,omitzero"`
}

// GoalProposal is the proposed assessment of a goal for a report period.
type GoalProposal struct {
	Period         strategy.Period `json:"period"`
	Level          strategy.Level  `json:"level"`
	Reason         strategy.Text   `json:"reason"`
	Forecast       strategy.Level  `json:"forecast,omitempty"`
	ForecastReason strategy.Text   `json:"forecast_reason,omitzero"`
	Rule           string          `json:"rule"`
	Items          []GoalItem      `json:"items,omitempty"`
}

// ProposeGoal rolls items up into goal g's proposal for p with rule. A goal
// dropped by a decision before the earlier of at and p's end, and a qualitative goal (whatever
// its items), are not assessed. The forecast (T1, T2, Q1–Q3 only) rolls up the items'
// forecasts the same way and is none when no item has one.
func ProposeGoal(g *strategy.Goal, items []GoalItem, rule string, p strategy.Period, at time.Time) GoalProposal {
	if rule != RuleMajority {
		rule = RuleStrict
	}
	gp := GoalProposal{Period: p, Rule: rule, Items: items, Level: strategy.LevelNotAssessed}
	switch {
	case g.Dropped != nil && g.Dropped.Date.Before(judgedAt(p, at)):
		gp.Reason = strategy.Text{
			SV: fmt.Sprintf("Utgått genom beslut %s.", formatDate(g.Dropped.Date)),
			EN: fmt.Sprintf("Dropped by a decision on %s.", formatDate(g.Dropped.Date)),
		}
		gp.Items = nil
		return gp
	case g.Kind == strategy.GoalQualitative:
		// A qualitative goal is assessed by its owner; its sub-goals and
		// criteria, when it has any, give the proposal.
		var parts []GoalItem
		for _, it := range items {
			if it.Kind == "subgoal" || it.Kind == "criterion" {
				parts = append(parts, it)
			}
		}
		if len(parts) == 0 {
			gp.Reason = strategy.Text{SV: "Kvalitativt mål: bedöms av ansvarig.", EN: "Qualitative goal: assessed by its owner."}
			return gp
		}
		items, gp.Items = parts, parts
	}
	levels := make([]strategy.Level, 0, 2*len(items))
	for _, it := range items {
		levels = append(levels, it.Level)
	}
	gp.Level = RollUpLevels(levels, rule)
	gp.Reason = rollUpReason(levels, rule, gp.Level)
	if p.Kind == strategy.Year {
		return gp
	}
	levels = levels[:0]
	for _, it := range items {
		levels = append(levels, it.Forecast)
	}
	if f := RollUpLevels(levels, rule); f != strategy.LevelNotAssessed {
		gp.Forecast = f
		gp.ForecastReason = rollUpReason(levels, rule, f)
	}
	return gp
}
