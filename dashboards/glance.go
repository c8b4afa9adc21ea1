package dashboards

import (
	"time"

	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// This file holds what `/` and `/ledning` show of the same thing, so it
// is said once: the one status scale (progress.Scale) and its legend, the
// one assessment period of a page, a goal's place on the scale for that
// period, and an indicator's headline value (issue 13, items 1–3).

// scaleStatus is the badge of a step of the one scale.
func scaleStatus(sc progress.Scale, lang string) *statusView {
	class := "none"
	switch sc {
	case progress.ScaleMet, progress.ScaleOnTrack:
		class = "good"
	case progress.ScaleAtRisk:
		class = "warn"
	case progress.ScaleBehind:
		class = "bad"
	}
	return &statusView{Key: sc.Key(), Symbol: sc.Symbol(), Label: sc.Label(lang), Class: class}
}

// legendItem is one line of the legend.
type legendItem struct {
	Status *statusView
	Text   string
}

// legend explains the one scale, for goals and indicators alike.
func legend(lang string) []legendItem {
	var out []legendItem
	for _, sc := range progress.Scales {
		out = append(out, legendItem{Status: scaleStatus(sc, lang), Text: sc.Explain(lang)})
	}
	return out
}

// assessmentPeriod is the one assessment period a page shows goals for:
// the latest report period before the open one with a confirmed
// assessment of a goal or indicator of rep (recorded in the strategy or in
// the follow-up); without any, the latest closed report period.
func assessmentPeriod(st *strategy.Strategy, rep *progress.Report, raw *rawData) strategy.Period {
	periods := reportPeriods(st, rep.Open, raw)
	for _, p := range periods {
		if p == rep.Open {
			continue
		}
		for _, gr := range rep.Goals {
			if rep.Confirmed(strategy.SubjectGoal, gr.ID, p) != nil {
				return p
			}
		}
		for _, ir := range rep.Indicators {
			if rep.Confirmed(strategy.SubjectIndicator, ir.ID, p) != nil {
				return p
			}
		}
	}
	if len(periods) > 1 {
		return periods[1]
	}
	return rep.Open
}

// goalState is a goal's place on the scale for a period, and whether it
// is a confirmed assessment (else the engine's proposal or forecast).
type goalState struct {
	Scale     progress.Scale
	Level     strategy.Level
	Confirmed bool
	Reason    string
	Assessed  *strategy.Assessment // the confirmed assessment, if any
}

// publicGoalState is a goal's state on the public page: its confirmed
// assessment for period, else not assessed.
func publicGoalState(rep *progress.Report, gr *progress.GoalResult, period strategy.Period) goalState {
	if c := rep.Confirmed(strategy.SubjectGoal, gr.ID, period); c != nil {
		return goalState{Scale: progress.LevelScale(c.Level), Level: c.Level, Confirmed: true, Reason: c.Comment, Assessed: c}
	}
	return goalState{Scale: progress.ScaleNotAssessed, Level: strategy.LevelNotAssessed}
}

// internalGoalState is a goal's state for staff: its confirmed assessment
// for period, else (for the period in progress) the forecast, else the
// engine's proposal.
func internalGoalState(rep *progress.Report, gr *progress.GoalResult, period strategy.Period, lang string) goalState {
	level, reason := goalLevel(rep, gr, period, lang)
	c := rep.Confirmed(strategy.SubjectGoal, gr.ID, period)
	return goalState{Scale: progress.LevelScale(level), Level: level, Confirmed: c != nil, Reason: reason, Assessed: c}
}

// headline is an indicator's headline value: its latest value, the
// period's name, and for a period still in progress a note saying so
// ("pågående, t.o.m. 6 dec"). Every page that shows an indicator's
// current value shows this one.
type headline struct {
	OK      bool
	Value   string
	Period  string
	Running string
}

func headlineOf(ir *progress.IndicatorResult, now time.Time, lang string) headline {
	l := ir.Status.Latest
	if l == nil {
		return headline{}
	}
	return headline{OK: true, Value: progress.FormatValue(l.Value, ir.Indicator.Unit, lang),
		Period: l.Period.Label(lang), Running: progress.RunningNote(l.Period, now, lang)}
}

// PeriodText is the period with its running note: "december 2026
// (pågående, t.o.m. 6 dec)".
func (h headline) PeriodText() string {
	if h.Running == "" {
		return h.Period
	}
	return h.Period + " (" + h.Running + ")"
}

// glanceView is the overall picture of the public page's first screen:
// per goal area how many goals stand where on the scale, for one named
// assessment period.
type glanceView struct {
	Period  string
	Summary string
	Scale   []*statusView
	Areas   []glanceRow
	Total   glanceRow
	Legend  []legendItem
}

type glanceRow struct {
	ID, Title string
	Counts    []glanceCount
	Total     int
}

type glanceCount struct {
	Status *statusView
	N      int
}

// countGoals tallies goal states by step, in progress.Scales order.
func countGoals(states []progress.Scale, lang string) []glanceCount {
	out := make([]glanceCount, len(progress.Scales))
	for i, sc := range progress.Scales {
		out[i].Status = scaleStatus(sc, lang)
	}
	for _, s := range states {
		for i, sc := range progress.Scales {
			if s == sc {
				out[i].N++
			}
		}
	}
	return out
}

// goodOf counts met and on track in counts.
func goodOf(counts []glanceCount) int {
	n := 0
	for i, sc := range progress.Scales {
		if sc.Good() {
			n += counts[i].N
		}
	}
	return n
}

// goalsSummary is "X av Y mål uppfyllda eller enligt plan".
func goalsSummary(good, total int, lang string) string {
	return trf(lang, "glance_summary", good, total)
}

// glanceOf builds the overall picture from the goals' states.
func glanceOf(rep *progress.Report, period strategy.Period, state func(*progress.GoalResult) goalState, lang string) *glanceView {
	v := &glanceView{Period: period.Label(lang), Legend: legend(lang)}
	for _, sc := range progress.Scales {
		v.Scale = append(v.Scale, scaleStatus(sc, lang))
	}
	var all []progress.Scale
	for _, ar := range rep.Areas {
		var states []progress.Scale
		for _, gr := range ar.Goals {
			if gr.Dropped {
				continue
			}
			states = append(states, state(gr).Scale)
		}
		all = append(all, states...)
		v.Areas = append(v.Areas, glanceRow{ID: ar.ID, Title: ar.Area.Title.In(lang), Counts: countGoals(states, lang), Total: len(states)})
	}
	v.Total = glanceRow{Title: tr(lang, "total"), Counts: countGoals(all, lang), Total: len(all)}
	v.Summary = goalsSummary(goodOf(v.Total.Counts), v.Total.Total, lang)
	return v
}

// maturityScope names the scope of a maturity index: the public page's
// counts only public indicators, staff pages all.
func maturityScope(internal bool, lang string) string {
	if internal {
		return tr(lang, "scope_all")
	}
	return tr(lang, "scope_public")
}

// glanceMessages is the interface text of the glance, the legend, the
// change markers and the filters, kept beside them and added to messages
// at start-up.
var glanceMessages = map[string][2]string{
	"glance_title":         {"Läget i korthet", "At a glance"},
	"glance_summary":       {"%d av %d mål uppfyllda eller enligt plan", "%d of %d goals met or on track"},
	"glance_period":        {"Bedömning för %s", "Assessment for %s"},
	"glance_caption":       {"Antal mål per målområde och status, %s", "Number of goals per goal area and status, %s"},
	"glance_more":          {"Mer på sidan", "More on this page"},
	"legend_title":         {"Så läser du statusen", "How to read the status"},
	"legend_intro":         {"Mål och indikatorer visas på samma skala.", "Goals and indicators are shown on the same scale."},
	"no_assessment_for":    {"Ingen fastställd bedömning för %s.", "No confirmed assessment for %s."},
	"scope_public":         {"offentliga indikatorer", "public indicators"},
	"scope_all":            {"alla indikatorer, även interna", "all indicators, internal ones too"},
	"maturity_scope":       {"Räknat på %s.", "Calculated from %s."},
	"forecast_passed_late": {"Målet nåddes efter måldatumet.", "The target was reached after its date."},
	"forecast_reached_now": {"Målet är redan nått.", "The target has already been reached."},
	"previous":             {"Föregående", "Previous"},
	"change":               {"Förändring", "Change"},
	"filter_all":           {"Alla", "All"},
	"filter_title":         {"Filtrera", "Filter"},
	"filter_none_owner":    {"Utan ansvarig", "No owner"},
	"summary_goals":        {"Mål", "Goals"},
	"summary_indicators":   {"Indikatorer", "Indicators"},
	"summary_changes":      {"Sedan %s: %s, %d försämrade, %d förbättrade.", "Since %s: %s, %d worse, %d improved."},
	"new_deviation_1":      {"1 ny avvikelse", "1 new deviation"},
	"new_deviations_n":     {"%d nya avvikelser", "%d new deviations"},
	"summary_caption":      {"Antal mål och indikatorer per status, %s", "Number of goals and indicators per status, %s"},
	"filtered":             {"Visar %d av %d rader.", "Showing %d of %d rows."},
	"proposal_mark":        {"förslag", "proposal"},
	"kind_goal":            {"Mål", "Goal"},
	"kind_indicator":       {"Indikator", "Indicator"},
	"why_show":             {"Motivering", "Reasoning"},
}

func init() {
	for k, v := range glanceMessages {
		if _, dup := messages[k]; dup {
			panic("dashboards: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
