package progress

import (
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

// TestScale: indicator statuses and goal levels land on the one scale.
func TestScale(t *testing.T) {
	for st, want := range map[Status]Scale{
		StatusMet: ScaleMet, StatusOnTrack: ScaleOnTrack, StatusAtRisk: ScaleAtRisk, StatusOffTrack: ScaleBehind,
		StatusNoData: ScaleNotAssessed, StatusStale: ScaleNotAssessed, StatusNoTarget: ScaleNotAssessed,
	} {
		if got := st.Scale(); got != want {
			t.Errorf("%s.Scale() = %s, want %s", st, got, want)
		}
	}
	for l, want := range map[strategy.Level]Scale{
		strategy.LevelMet: ScaleMet, strategy.LevelPartly: ScaleAtRisk, strategy.LevelNotMet: ScaleBehind,
		strategy.LevelNotAssessed: ScaleNotAssessed, strategy.LevelNone: ScaleNotAssessed,
	} {
		if got := LevelScale(l); got != want {
			t.Errorf("LevelScale(%q) = %s, want %s", l, got, want)
		}
	}
	// The words of a status are the scale's (one vocabulary).
	for _, st := range []Status{StatusMet, StatusOnTrack, StatusAtRisk, StatusOffTrack} {
		for _, lang := range []string{"sv", "en"} {
			if st.Label(lang) != st.Scale().Label(lang) || st.Symbol() != st.Scale().Symbol() {
				t.Errorf("%s in %s: %q %s, the scale says %q %s", st, lang, st.Label(lang), st.Symbol(), st.Scale().Label(lang), st.Scale().Symbol())
			}
		}
	}
}

// TestAssessmentState: the one rule for an assessment's state.
func TestAssessmentState(t *testing.T) {
	for _, c := range []struct {
		a    *strategy.Assessment
		want string
	}{
		{nil, StateMissing},
		{&strategy.Assessment{}, StateDraft},
		{&strategy.Assessment{Ready: true}, StateDraft}, // ready needs a confirmation
		{&strategy.Assessment{Confirmed: true}, StateConfirmed},
		{&strategy.Assessment{Confirmed: true, Ready: true}, StateReady},
	} {
		if got := AssessmentState(c.a); got != c.want {
			t.Errorf("AssessmentState(%+v) = %s, want %s", c.a, got, c.want)
		}
	}
}

// TestRunningNote: a period still in progress is marked, one that has
// ended is not.
func TestRunningNote(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, strategy.Stockholm)
	dec := strategy.Period{Kind: strategy.Month, Year: 2026, N: 12}
	nov := strategy.Period{Kind: strategy.Month, Year: 2026, N: 11}
	if got := RunningNote(dec, now, "sv"); got != "pågående, t.o.m. 6 dec" {
		t.Errorf("December 2026 on 6 December: %q", got)
	}
	if got := RunningNote(dec, now, "en"); got != "in progress, through 6 Dec" {
		t.Errorf("English: %q", got)
	}
	if got := RunningNote(nov, now, "sv"); got != "" {
		t.Errorf("November 2026 on 6 December: %q, want none", got)
	}
}

// TestChangeOf: the change markers of /ledning.
func TestChangeOf(t *testing.T) {
	for _, c := range []struct {
		prev, cur Scale
		want      Change
	}{
		{ScaleOnTrack, ScaleBehind, ChangeNew},
		{ScaleNotAssessed, ScaleAtRisk, ChangeNew},
		{ScaleAtRisk, ScaleBehind, ChangeWorse},
		{ScaleBehind, ScaleAtRisk, ChangeImproved},
		{ScaleBehind, ScaleMet, ChangeImproved},
		{ScaleMet, ScaleOnTrack, ChangeNone},
		{ScaleBehind, ScaleBehind, ChangeNone},
		{ScaleBehind, ScaleNotAssessed, ChangeNone},
	} {
		if got := ChangeOf(c.prev, c.cur); got != c.want {
			t.Errorf("ChangeOf(%s, %s) = %q, want %q", c.prev, c.cur, got, c.want)
		}
	}
}
