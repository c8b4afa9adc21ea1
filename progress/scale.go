package progress

import (
	"fmt"
	"time"

	"github.com/malbild/malbild/strategy"
)

// Scale is the one status scale goals and indicators are shown on, so a
// reader learns one legend: met, on track, at risk, behind, not assessed.
// An indicator's Status and a goal's assessment Level both map onto it
// (Status.Scale, LevelScale). Its string value is also its Key, safe as a
// CSS class and stable in the API.
type Scale string

const (
	// ScaleMet: an indicator has reached its governing target; a goal is
	// assessed as met.
	ScaleMet Scale = "met"
	// ScaleOnTrack: an indicator is on or ahead of its target path.
	ScaleOnTrack Scale = "on-track"
	// ScaleAtRisk: an indicator is behind its path by at most the
	// tolerance; a goal is assessed as partly met.
	ScaleAtRisk Scale = "at-risk"
	// ScaleBehind: an indicator is further behind; a goal is assessed as
	// not met.
	ScaleBehind Scale = "behind"
	// ScaleNotAssessed: no values, stale values or no target; a goal
	// without an assessment for the period.
	ScaleNotAssessed Scale = "not-assessed"
)

// Scales lists the scale in display order, best first.
var Scales = []Scale{ScaleMet, ScaleOnTrack, ScaleAtRisk, ScaleBehind, ScaleNotAssessed}

// Key is a CSS-class-safe identifier ("on-track").
func (s Scale) Key() string { return string(s) }

// Symbol is a text symbol so the scale never depends on colour alone.
func (s Scale) Symbol() string {
	switch s {
	case ScaleMet:
		return "✓"
	case ScaleOnTrack:
		return "↗"
	case ScaleAtRisk:
		return "!"
	case ScaleBehind:
		return "✗"
	}
	return "–"
}

// Label is the step in words, Swedish ("sv") or English ("en").
func (s Scale) Label(lang string) string {
	sv, en := "Ej bedömt", "Not assessed"
	switch s {
	case ScaleMet:
		sv, en = "Uppfyllt", "Met"
	case ScaleOnTrack:
		sv, en = "Enligt plan", "On track"
	case ScaleAtRisk:
		sv, en = "Risk", "At risk"
	case ScaleBehind:
		sv, en = "Efter plan", "Behind"
	}
	if lang == "en" {
		return en
	}
	return sv
}

// Explain says what the step means for goals and indicators: the text of
// the one legend.
func (s Scale) Explain(lang string) string {
	t := strategy.Text{SV: "Inga eller för gamla värden, inget mål att bedöma mot, eller ingen fastställd bedömning för perioden.",
		EN: "No or too old values, no target to judge against, or no confirmed assessment for the period."}
	switch s {
	case ScaleMet:
		t = strategy.Text{SV: "Indikatorn har nått målvärdet; målet är bedömt som uppfyllt.",
			EN: "The indicator has reached its target value; the goal is assessed as met."}
	case ScaleOnTrack:
		t = strategy.Text{SV: "Indikatorn ligger på eller före målbanan.",
			EN: "The indicator is on or ahead of its target path."}
	case ScaleAtRisk:
		t = strategy.Text{SV: "Indikatorn ligger efter målbanan men inom toleransen; målet är delvis uppfyllt.",
			EN: "The indicator is behind its target path but within the tolerance; the goal is partly met."}
	case ScaleBehind:
		t = strategy.Text{SV: "Indikatorn ligger längre efter målbanan än toleransen; målet är inte uppfyllt.",
			EN: "The indicator is further behind its target path than the tolerance; the goal is not met."}
	}
	return t.In(lang)
}

// Good reports whether s is met or on track.
func (s Scale) Good() bool { return s == ScaleMet || s == ScaleOnTrack }

// Deviation orders deviations, most serious first: 2 behind, 1 at risk,
// 0 no deviation.
func (s Scale) Deviation() int {
	switch s {
	case ScaleBehind:
		return 2
	case ScaleAtRisk:
		return 1
	}
	return 0
}

// Scale places an indicator status on the scale: no data, stale data and
// no target are not assessed.
func (s Status) Scale() Scale {
	switch s {
	case StatusMet:
		return ScaleMet
	case StatusOnTrack:
		return ScaleOnTrack
	case StatusAtRisk:
		return ScaleAtRisk
	case StatusOffTrack:
		return ScaleBehind
	}
	return ScaleNotAssessed
}

// LevelScale places an assessment level on the scale: met, partly met →
// at risk, not met → behind, none or not assessed → not assessed.
func LevelScale(l strategy.Level) Scale {
	switch l {
	case strategy.LevelMet:
		return ScaleMet
	case strategy.LevelPartly:
		return ScaleAtRisk
	case strategy.LevelNotMet:
		return ScaleBehind
	}
	return ScaleNotAssessed
}

// Change is how a subject's place on the scale moved from one period to
// the next.
type Change string

const (
	ChangeNone     Change = ""
	ChangeNew      Change = "new"      // a deviation now, none before
	ChangeImproved Change = "improved" // better than before
	ChangeWorse    Change = "worse"    // worse than before, and a deviation before too
)

// rank orders the judged steps; not assessed has none.
func (s Scale) rank() (int, bool) {
	switch s {
	case ScaleMet:
		return 3, true
	case ScaleOnTrack:
		return 2, true
	case ScaleAtRisk:
		return 1, true
	case ScaleBehind:
		return 0, true
	}
	return 0, false
}

// ChangeOf compares the current step with the previous period's: a
// deviation (at risk, behind) that was none before (good, or not
// assessed) is new; a lower judged step is worse; a higher one improved
// (met and on track count as one: moving between them is no change).
func ChangeOf(prev, cur Scale) Change {
	if cur.Deviation() > 0 && prev.Deviation() == 0 {
		return ChangeNew
	}
	p, okP := prev.rank()
	c, okC := cur.rank()
	if !okP || !okC || prev.Good() && cur.Good() {
		return ChangeNone
	}
	switch {
	case c < p:
		return ChangeWorse
	case c > p:
		return ChangeImproved
	}
	return ChangeNone
}

// Label is the change in words: "ny avvikelse", "förbättrad", "försämrad".
func (c Change) Label(lang string) string {
	var t strategy.Text
	switch c {
	case ChangeNew:
		t = strategy.Text{SV: "Ny avvikelse", EN: "New deviation"}
	case ChangeImproved:
		t = strategy.Text{SV: "Förbättrad", EN: "Improved"}
	case ChangeWorse:
		t = strategy.Text{SV: "Försämrad", EN: "Worse"}
	}
	return t.In(lang)
}

// Symbol is the change as a text symbol: ▲ improved, ▼ worse, ● new.
func (c Change) Symbol() string {
	switch c {
	case ChangeNew:
		return "●"
	case ChangeImproved:
		return "▲"
	case ChangeWorse:
		return "▼"
	}
	return ""
}

// Running reports whether period p has not ended at time now, and the
// last day it covers so far.
func Running(p strategy.Period, now time.Time) (bool, time.Time) {
	if !p.End().After(now) {
		return false, time.Time{}
	}
	return true, now
}

// RunningNote marks a value of a period still in progress at now:
// "pågående, t.o.m. 6 dec" / "in progress, through 6 Dec"; "" for a
// period that has ended.
func RunningNote(p strategy.Period, now time.Time, lang string) string {
	running, through := Running(p, now)
	if !running {
		return ""
	}
	d := through.In(strategy.Stockholm)
	if lang == "en" {
		return fmt.Sprintf("in progress, through %d %s", d.Day(), d.Format("Jan"))
	}
	return fmt.Sprintf("pågående, t.o.m. %d %s", d.Day(), monthsSV[d.Month()-1])
}

var monthsSV = [...]string{"jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"}

// Completion states of a subject's assessment for a period in the
// follow-up (AssessmentState).
const (
	StateMissing   = "missing"   // no assessment recorded
	StateDraft     = "draft"     // the latest revision is not confirmed (a ready flag without confirmation counts for nothing)
	StateConfirmed = "confirmed" // confirmed (published), not marked ready
	StateReady     = "ready"     // confirmed and marked ready (klarmarkerad)
)

// AssessmentState is where the latest revision of an assessment stands:
// the one rule the follow-up matrix, the period report, its CSV and print
// all use. Marking ready needs a confirmation (the follow-up's form
// refuses it otherwise), so an unconfirmed revision is a draft even when
// it carries the ready flag.
func AssessmentState(latest *strategy.Assessment) string {
	switch {
	case latest == nil:
		return StateMissing
	case !latest.Confirmed:
		return StateDraft
	case latest.Ready:
		return StateReady
	}
	return StateConfirmed
}
