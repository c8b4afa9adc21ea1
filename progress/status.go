package progress

import (
	"fmt"
	"math"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/malbild/malbild/strategy"
)

// Status is how an indicator stands at a time. Its string value is also its
// Key, safe as a CSS class and stable in the API.
type Status string

const (
	// StatusMet: the latest value has reached the governing target — the
	// final (last) horizon target, or, for an indicator with only yearly
	// targets, the yearly target of the latest value's year (the first
	// yearly target dated on or after the value's date, else the last one).
	StatusMet Status = "met"
	// StatusOnTrack: the latest value is on or ahead of the target path.
	StatusOnTrack Status = "on-track"
	// StatusAtRisk: behind the target path by at most the tolerance.
	StatusAtRisk Status = "at-risk"
	// StatusOffTrack: behind the target path by more than the tolerance.
	StatusOffTrack Status = "off-track"
	// StatusNoData: no observation of the total yet.
	StatusNoData Status = "no-data"
	// StatusStale: the latest value's period ended longer ago than the
	// indicator's Freshness (a zero Freshness never goes stale).
	StatusStale Status = "stale"
	// StatusNoTarget: there are values but no target to judge them by.
	StatusNoTarget Status = "no-target"
)

// Statuses lists every status in display order, best first.
var Statuses = []Status{StatusMet, StatusOnTrack, StatusAtRisk, StatusOffTrack, StatusStale, StatusNoData, StatusNoTarget}

// Key is a CSS-class-safe identifier ("on-track").
func (s Status) Key() string { return string(s) }

// Symbol is a text symbol so status never depends on colour alone:
// ✓ met, ↗ on track, ! at risk, ✗ off track, – no data, ◷ stale,
// ○ no target.
func (s Status) Symbol() string {
	switch s {
	case StatusMet:
		return "✓"
	case StatusOnTrack:
		return "↗"
	case StatusAtRisk:
		return "!"
	case StatusOffTrack:
		return "✗"
	case StatusNoData:
		return "–"
	case StatusStale:
		return "◷"
	case StatusNoTarget:
		return "○"
	}
	return "?"
}

// Label is the status in words, Swedish ("sv") or English ("en").
func (s Status) Label(lang string) string {
	sv, en := "Okänd", "Unknown"
	switch s {
	case StatusMet:
		sv, en = "Uppfyllt", "Met"
	case StatusOnTrack:
		sv, en = "Enligt plan", "On track"
	case StatusAtRisk:
		sv, en = "Risk", "At risk"
	case StatusOffTrack:
		sv, en = "Efter plan", "Behind"
	case StatusNoData:
		sv, en = "Inga data", "No data"
	case StatusStale:
		sv, en = "Inaktuella data", "Stale data"
	case StatusNoTarget:
		sv, en = "Inget mål", "No target"
	}
	if lang == "en" {
		return en
	}
	return sv
}

// Judged reports whether s compares a value with a target (met, on track,
// at risk, off track).
func (s Status) Judged() bool {
	return s == StatusMet || s == StatusOnTrack || s == StatusAtRisk || s == StatusOffTrack
}

// Good reports whether s is met or on track.
func (s Status) Good() bool { return s == StatusMet || s == StatusOnTrack }

// StatusResult is an indicator's status with what it was based on.
type StatusResult struct {
	Status Status `json:"status"`
	// Underlying is the judgement the latest value gets regardless of its
	// age; it differs from Status only when Status is StatusStale.
	Underlying Status `json:"underlying"`
	Latest     *Point `json:"latest,omitempty"`
	// Expected is the target path's value at the latest value's date.
	Expected *float64 `json:"expected,omitempty"`
	// Ahead is how far the latest value is ahead of the path (negative:
	// behind), in the indicator's unit, with direction taken into account.
	Ahead *float64 `json:"ahead,omitempty"`
	// Target is the governing target the met test used.
	Target *strategy.Target `json:"target,omitempty"`
	Reason strategy.Text    `json:"reason"`
}

// sign is +1 when higher values are better, −1 when lower are.
func sign(ind *strategy.Indicator) float64 {
	if ind.Direction == strategy.Decrease {
		return -1
	}
	return 1
}

// ahead is how far v is ahead of e for ind's direction.
func ahead(ind *strategy.Indicator, v, e float64) float64 { return sign(ind) * (v - e) }

// reaches reports whether v has reached target t for ind's direction, with
// a relative slack of 1e-9 for rounding.
func reaches(ind *strategy.Indicator, v, t float64) bool {
	return ahead(ind, v, t) >= -1e-9*math.Max(1, math.Abs(t))
}

func tolerance(ind *strategy.Indicator) float64 {
	if !isFinite(ind.Tolerance) || ind.Tolerance < 0 {
		return 0
	}
	return ind.Tolerance
}

// upTo is p seen no later than at.
func (p *TargetPath) upTo(at time.Time) *TargetPath {
	if !p.known.IsZero() && !p.known.After(at) {
		return p
	}
	return p.AsOf(at)
}

// StatusAt is ind's status at time at, from the values of s known then
// (Series.KnownAt) against path (Path(ind)), seen as of at. The rules, in
// order:
//
//  1. no value → no data;
//  2. the latest value's period ended more than ind.Freshness before at →
//     stale (Underlying keeps the judgement of rules 3–5);
//  3. no target → no target;
//  4. the latest value reaches the governing target (see StatusMet) → met;
//  5. compared with the path at the value's date (before the path starts:
//     its start value): on or ahead → on track; behind by at most
//     ind.Tolerance → at risk; further behind → off track.
//
// "Reach", "ahead" and "behind" follow ind.Direction: for an indicator
// where lower is better, a value below the path is ahead.
//
// For the status at the end of a period p use
// StatusAt(ind, path, s.Through(p), p.End()).
func StatusAt(ind *strategy.Indicator, path *TargetPath, s Series, at time.Time) StatusResult {
	s = s.KnownAt(at)
	latest, ok := s.Latest()
	if !ok {
		return StatusResult{Status: StatusNoData, Underlying: StatusNoData,
			Reason: strategy.Text{SV: "Inga mätvärden ännu.", EN: "No values yet."}}
	}
	r := judge(ind, path.upTo(at), latest, at)
	if ind.Freshness > 0 && at.Sub(latest.finish()) > ind.Freshness {
		r.Status = StatusStale
		days := int(math.Round(ind.Freshness.Hours() / 24))
		r.Reason = strategy.Text{
			SV: fmt.Sprintf("Senaste värdet (%s) är äldre än %d dagar.", latest.Period.Label("sv"), days),
			EN: fmt.Sprintf("The latest value (%s) is older than %d days.", latest.Period.Label("en"), days),
		}
	}
	return r
}

// judge applies rules 3–5 of StatusAt to the latest point.
func judge(ind *strategy.Indicator, path *TargetPath, latest Point, at time.Time) StatusResult {
	r := StatusResult{Latest: &latest}
	v := latest.Value
	val := func(x float64, lang string) string { return FormatValue(x, ind.Unit, lang) }
	var gov strategy.Target
	var hasGov bool
	if path.hasHorizon() {
		gov, hasGov = path.Final(at)
	} else {
		gov, hasGov = path.nextYearly(latest.Date, at)
	}
	if !hasGov {
		r.Status = StatusNoTarget
		r.Reason = strategy.Text{
			SV: fmt.Sprintf("Inget mål satt; senaste värde %s.", val(v, "sv")),
			EN: fmt.Sprintf("No target set; latest value %s.", val(v, "en")),
		}
		r.Underlying = r.Status
		return r
	}
	r.Target = &gov
	e, ok := path.At(latest.Date)
	if !ok {
		if start, defined := path.Start(); defined {
			e, _ = path.At(start)
		} else {
			e = gov.Value
		}
	}
	a := ahead(ind, v, e)
	r.Expected, r.Ahead = &e, &a
	tol := tolerance(ind)
	switch {
	case reaches(ind, v, gov.Value):
		r.Status = StatusMet
		r.Reason = strategy.Text{
			SV: fmt.Sprintf("%s har nått målet %s (%s).", val(v, "sv"), val(gov.Value, "sv"), formatDate(gov.Date)),
			EN: fmt.Sprintf("%s has reached the target %s (%s).", val(v, "en"), val(gov.Value, "en"), formatDate(gov.Date)),
		}
	default:
		switch {
		case reaches(ind, v, e):
			r.Status = StatusOnTrack
		case a >= -tol-1e-9*math.Max(1, math.Abs(e)):
			r.Status = StatusAtRisk
		default:
			r.Status = StatusOffTrack
		}
		r.Reason = strategy.Text{
			SV: fmt.Sprintf("Utfall %s mot målbanan %s (tolerans %s): %s.", val(v, "sv"), val(e, "sv"), FormatNumber(tol, "sv"), lower(r.Status.Label("sv"))),
			EN: fmt.Sprintf("Outcome %s against the target path %s (tolerance %s): %s.", val(v, "en"), val(e, "en"), FormatNumber(tol, "en"), lower(r.Status.Label("en"))),
		}
	}
	r.Underlying = r.Status
	return r
}

// lower lower-cases the first letter of s.
func lower(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}
