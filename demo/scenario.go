package demo

import (
	"math"
	"slices"
	"time"

	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// Scenario is how an indicator develops relative to its target path.
type Scenario string

const (
	OnTrack   Scenario = "on_track"   // follows the target path, slightly ahead
	AtRisk    Scenario = "at_risk"    // behind the path, but within the tolerance
	OffTrack  Scenario = "off_track"  // stalls: far behind the path
	TargetMet Scenario = "target_met" // reaches the final target early and stays there
)

// NoTarget marks an indicator without targets: its values drift a little
// for the better and no status can be judged.
const NoTarget Scenario = "no_target"

// assignScenarios deals scenarios over the indicators of s in an order
// drawn from the seed and each indicator's id. "At risk" means behind the
// path by at most the tolerance, so it goes only to indicators that have
// one (half of them, at most a quarter of all); the others get on track,
// off track and target met in turn, so every strategy with three or more
// indicators with targets shows a mix.
func assignScenarios(s *strategy.Strategy, seed int64) map[string]Scenario {
	type item struct {
		ind *strategy.Indicator
		k   uint64
	}
	var items []item
	out := map[string]Scenario{}
	for _, ind := range indicators(s) {
		if len(ind.Targets) == 0 {
			out[ind.ID] = NoTarget
			continue
		}
		items = append(items, item{ind, key(seed, hashString(ind.ID))})
	}
	slices.SortFunc(items, func(a, b item) int {
		switch {
		case a.k < b.k:
			return -1
		case a.k > b.k:
			return 1
		}
		return 0
	})
	withTol := 0
	for _, it := range items {
		if it.ind.Tolerance > 0 {
			withTol++
		}
	}
	atRisk := min((withTol+1)/2, (len(items)+3)/4)
	cycle := []Scenario{OnTrack, OffTrack, TargetMet}
	next := int(key(seed, 0xc0ffee) % uint64(len(cycle)))
	for _, it := range items {
		if it.ind.Tolerance > 0 && atRisk > 0 {
			out[it.ind.ID] = AtRisk
			atRisk--
			continue
		}
		out[it.ind.ID] = cycle[next%len(cycle)]
		next++
	}
	return out
}

// indicators lists the strategy's indicators in document order.
func indicators(s *strategy.Strategy) []*strategy.Indicator {
	var out []*strategy.Indicator
	for _, a := range s.Areas {
		for _, g := range a.Goals {
			out = append(out, g.Indicators...)
		}
	}
	return out
}

// point is one corner of a target path: a time (Unix seconds) and a value.
type point struct {
	t float64
	v float64
}

// trajectory is an indicator's target path and the scenario's course
// along it.
type trajectory struct {
	scen   Scenario
	dir    float64 // +1 when higher is better, -1 when lower is better
	base   float64
	t0     float64 // baseline time
	firstT float64 // time of the first target after the baseline
	pts    []point // baseline, then targets by date
	tol    float64
	lo, hi float64
	span   float64 // |final target − baseline|
	// eng is the progress engine's target path, used wherever it is
	// defined so scenarios are judged against the same path.
	eng *progress.TargetPath
}

func unix(t time.Time) float64 { return float64(t.Unix()) }

const yearSeconds = 365.25 * 24 * 3600

// newTrajectory builds the path of ind from its baseline (or a default
// for its measure when it has none) through its targets; end is the end of
// the data.
func newTrajectory(ind *strategy.Indicator, scen Scenario, start, end time.Time) *trajectory {
	tr := &trajectory{scen: scen, dir: 1, tol: math.Abs(ind.Tolerance)}
	if ind.Direction == strategy.Decrease {
		tr.dir = -1
	}
	tr.lo, tr.hi = bounds(ind)
	t0 := start
	if ind.Baseline != nil {
		tr.base = ind.Baseline.Value
		if !ind.Baseline.Date.IsZero() {
			t0 = ind.Baseline.Date
		}
	} else {
		tr.base = defaultBaseline(ind)
	}
	tr.t0 = unix(t0)
	tr.pts = []point{{tr.t0, tr.base}}
	for _, tg := range effectiveTargets(ind.Targets) {
		if unix(tg.Date) > tr.t0 {
			tr.pts = append(tr.pts, point{unix(tg.Date), tg.Value})
		}
	}
	if len(tr.pts) == 1 {
		// No target: invent a modest improvement over the whole data (at
		// least three years), so the values move for the better and the
		// scenarios still differ.
		step := 0.2 * math.Abs(tr.base)
		if step == 0 {
			step = 10
		}
		until := math.Max(tr.t0+3*yearSeconds, unix(end))
		tr.pts = append(tr.pts, point{until, clamp(tr.base+tr.dir*step, tr.lo, tr.hi)})
	}
	if p := progress.Path(ind); p.Defined() {
		tr.eng = p
	}
	tr.firstT = tr.pts[1].t
	tr.span = math.Abs(tr.pts[len(tr.pts)-1].v - tr.base)
	if tr.span == 0 {
		tr.span = math.Max(0.05*math.Abs(tr.base), 1)
	}
	return tr
}

// effectiveTargets keeps, for each target date, the version decided last,
// and sorts them by date.
func effectiveTargets(ts []strategy.Target) []strategy.Target {
	var out []strategy.Target
	for _, t := range ts {
		i := slices.IndexFunc(out, func(o strategy.Target) bool { return o.Date.Equal(t.Date) })
		switch {
		case i < 0:
			out = append(out, t)
		case !t.Decided.Before(out[i].Decided):
			out[i] = t
		}
	}
	slices.SortStableFunc(out, func(a, b strategy.Target) int { return a.Date.Compare(b.Date) })
	return out
}

// path is the target path's value at time t (Unix seconds).
func (tr *trajectory) path(t float64) float64 {
	if tr.eng != nil {
		if v, ok := tr.eng.At(time.Unix(int64(t), 0)); ok {
			return v
		}
	}
	p := tr.pts
	if t <= p[0].t {
		return p[0].v
	}
	for i := 1; i < len(p); i++ {
		if t <= p[i].t {
			f := (t - p[i-1].t) / (p[i].t - p[i-1].t)
			return p[i-1].v + f*(p[i].v-p[i-1].v)
		}
	}
	return p[len(p)-1].v
}

// Target is the target path's value at t.
func (tr *trajectory) Target(t time.Time) float64 { return tr.path(unix(t)) }

// Value is the scenario's expected value at t, before noise.
func (tr *trajectory) Value(t time.Time) float64 { return tr.value(unix(t)) }

func (tr *trajectory) value(t float64) float64 {
	p := tr.path(t)
	ramp := clamp((t-tr.t0)/(tr.firstT-tr.t0), 0, 1)
	progress := math.Abs(p - tr.base)
	var v float64
	switch tr.scen {
	case OnTrack:
		v = p + tr.dir*0.08*tr.span*ramp
	case TargetMet:
		// The same path in 70 % of the time, then a little better than
		// the final target.
		v = tr.path(tr.t0+(t-tr.t0)/0.7) + tr.dir*0.06*tr.span*ramp
	case AtRisk:
		gap := 0.2 * progress
		if tr.tol > 0 {
			gap = 0.5 * tr.tol * ramp
		}
		v = p - tr.dir*gap
	case OffTrack:
		gap := 0.75 * progress
		if tr.tol > 0 {
			gap = math.Max(gap, 2*tr.tol*ramp)
		}
		v = p - tr.dir*gap
	default:
		v = p
	}
	return clamp(v, tr.lo, tr.hi)
}

// bounds are the values an indicator can physically take.
func bounds(ind *strategy.Indicator) (lo, hi float64) {
	switch {
	case ind.Unit == strategy.UnitPercent:
		return 0, 100
	case ind.Source.Measure == "satisfaction_mean":
		return 1, 5
	}
	return 0, math.Inf(1)
}

// measureBaselines are plausible starting values for indicators computed
// by a built-in measure that state no baseline.
var measureBaselines = map[string]float64{
	"digital_share":                  12,
	"handling_time_median":           40,
	"handling_time_p90":              110,
	"eservices_active":               20,
	"eservices_integrated_share":     25,
	"eservices_eid_share":            35,
	"eservices_added":                3,
	"eservices_retired":              1,
	"satisfaction_mean":              3.2,
	"satisfaction_top_share":         40,
	"satisfaction_systems_top_share": 35,
	"satisfaction_responses":         350,
	"availability_uptime":            99.0,
	"availability_maintenance_share": 0.8,
	"response_time_mean":             650,
	"response_time_p95":              1400,
}

// defaultBaseline invents a baseline for an indicator without one.
func defaultBaseline(ind *strategy.Indicator) float64 {
	if v, ok := measureBaselines[ind.Source.Measure]; ok {
		return v
	}
	if ts := effectiveTargets(ind.Targets); len(ts) > 0 {
		if ind.Direction == strategy.Decrease {
			return ts[0].Value * 1.6
		}
		return ts[0].Value * 0.5
	}
	switch ind.Unit {
	case strategy.UnitPercent:
		return 40
	case strategy.UnitIndex:
		return 50
	}
	return 10
}
