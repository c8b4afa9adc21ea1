package progress

import (
	"math"
	"time"

	"github.com/malbild/malbild/strategy"
)

// Progress is how far an indicator has come.
type Progress struct {
	Latest   *Point `json:"latest,omitempty"`
	Previous *Point `json:"previous,omitempty"` // the point before Latest (there may be a gap)
	// Change is Latest − Previous, in the unit (percentage points for
	// percent); ChangePct the same relative to Previous, in percent (nil
	// when Previous is 0).
	Change    *float64 `json:"change,omitempty"`
	ChangePct *float64 `json:"change_pct,omitempty"`
	// SinceBaseline is Latest − baseline; SinceBaselinePct relative to it.
	SinceBaseline    *float64 `json:"since_baseline,omitempty"`
	SinceBaselinePct *float64 `json:"since_baseline_pct,omitempty"`
	// Start is the value shares are measured from: the baseline, or without
	// one the first value of the series (StartFromData).
	Start         *float64 `json:"start,omitempty"`
	StartFromData bool     `json:"start_from_data,omitempty"`
	// Targets is the progress toward each horizon target (toward each
	// yearly target when there are no horizon targets), in date order.
	Targets []TargetProgress `json:"targets,omitempty"`
}

// TargetProgress is the progress toward one target.
type TargetProgress struct {
	Target strategy.Target `json:"target"`
	// Covered is the share of the distance from Start to the target that the
	// latest value has covered, in percent (see Covered); nil without data.
	Covered *float64 `json:"covered,omitempty"`
	Met     bool     `json:"met"`
}

// Covered is the share, in percent, of the way from start to target that
// value has come: (value − start) / (target − start) × 100. It is negative
// when value has moved away from the target and above 100 when it has gone
// beyond it; the formula needs no direction since start and target set it.
// When target equals start the share is 100 if value reaches the target
// in the indicator's direction, else 0.
func Covered(ind *strategy.Indicator, start, target, value float64) float64 {
	if target == start {
		if reaches(ind, value, target) {
			return 100
		}
		return 0
	}
	return (value - start) / (target - start) * 100
}

// ProgressAt is ind's progress at time at from the values of s known then,
// with targets as seen at at.
func ProgressAt(ind *strategy.Indicator, path *TargetPath, s Series, at time.Time) Progress {
	s = s.KnownAt(at)
	path = path.upTo(at)
	var pr Progress
	targets := path.Horizon(at)
	if len(targets) == 0 {
		targets = path.Yearly(at)
	}
	if ind.Baseline != nil && isFinite(ind.Baseline.Value) {
		pr.Start = ptr(ind.Baseline.Value)
	} else if len(s) > 0 {
		pr.Start, pr.StartFromData = ptr(s[0].Value), true
	}
	latest, ok := s.Latest()
	for _, t := range targets {
		tp := TargetProgress{Target: t}
		if ok {
			tp.Met = reaches(ind, latest.Value, t.Value)
			if pr.Start != nil {
				tp.Covered = ptr(Covered(ind, *pr.Start, t.Value, latest.Value))
			}
		}
		pr.Targets = append(pr.Targets, tp)
	}
	if !ok {
		return pr
	}
	pr.Latest = &latest
	if len(s) > 1 {
		prev := s[len(s)-2]
		pr.Previous = &prev
		pr.Change = ptr(latest.Value - prev.Value)
		pr.ChangePct = relChange(latest.Value, prev.Value)
	}
	if ind.Baseline != nil && isFinite(ind.Baseline.Value) {
		pr.SinceBaseline = ptr(latest.Value - ind.Baseline.Value)
		pr.SinceBaselinePct = relChange(latest.Value, ind.Baseline.Value)
	}
	return pr
}

func relChange(v, from float64) *float64 {
	if from == 0 {
		return nil
	}
	return ptr((v - from) / math.Abs(from) * 100)
}

func ptr[T any](v T) *T { return &v }
