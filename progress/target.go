package progress

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/malbild/malbild/strategy"
)

// ResolveTarget turns a target as written in a strategy file into an
// absolute value, given the indicator's baseline value:
//
//	"80", "1 600 000", "12,5"  absolute: the number itself (digit grouping
//	                           with spaces or _, a decimal comma and an
//	                           exponent such as 1e6 accepted)
//	"+30", "-5"                a change in the indicator's unit: baseline ± n
//	"-30%", "+10 %"            a change relative to the baseline, in percent:
//	                           baseline × (100 + p) / 100
//	"halve", "double"          baseline / 2, baseline × 2
//
// A leading sign always means a change; "−" (U+2212) counts as a minus. A
// percentage without a sign ("80%") is rejected as ambiguous: write "80" for
// the absolute value. Case and surrounding space are ignored for the words.
// The result is always finite.
func ResolveTarget(spec string, baseline float64) (float64, error) {
	if math.IsNaN(baseline) || math.IsInf(baseline, 0) {
		return 0, fmt.Errorf("target %q: baseline %v is not a finite number", spec, baseline)
	}
	t := strings.ReplaceAll(strings.TrimSpace(spec), "\u2212", "-")
	switch strings.ToLower(t) {
	case "":
		return 0, fmt.Errorf("empty target value")
	case "halve":
		return baseline / 2, nil
	case "double":
		return finite(spec, baseline*2)
	}
	if body, ok := strings.CutSuffix(t, "%"); ok {
		body = strings.TrimSpace(body)
		if body == "" || (body[0] != '+' && body[0] != '-') {
			return 0, fmt.Errorf("target %q: a percentage needs a sign (+%s%% or -%s%% relative to the baseline, %s for the absolute value)", spec, body, body, body)
		}
		p, err := parseNumber(body)
		if err != nil {
			return 0, fmt.Errorf("invalid target %q (want e.g. 80, -30%%, +30, halve or double)", spec)
		}
		return finite(spec, baseline*(100+p)/100)
	}
	n, err := parseNumber(t)
	if err != nil {
		return 0, fmt.Errorf("invalid target %q (want e.g. 80, -30%%, +30, halve or double)", spec)
	}
	if t[0] == '+' || t[0] == '-' {
		return finite(spec, baseline+n)
	}
	return n, nil
}

func finite(spec string, v float64) (float64, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("target %q: result is not a finite number", spec)
	}
	return v, nil
}

var numberRE = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)

// parseNumber reads a signed decimal number with optional digit grouping
// (space, no-break space, narrow no-break space, _), a decimal comma and an
// exponent.
func parseNumber(s string) (float64, error) {
	t := strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "_", "").Replace(s)
	if strings.Count(t, ",") == 1 && !strings.Contains(t, ".") {
		t = strings.Replace(t, ",", ".", 1)
	}
	if !numberRE.MatchString(t) {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	return v, nil
}

// Knot is a point the target path passes through: the baseline or a target
// (in the version in force).
type Knot struct {
	Date  time.Time `json:"date"`
	Value float64   `json:"value"`
	// Kind is "baseline", "horizon" or "yearly".
	Kind   string           `json:"kind"`
	Target *strategy.Target `json:"target,omitempty"` // nil for the baseline
}

// TargetPath is the expected value of an indicator over time: straight
// lines from the baseline through each dated target. Build it with Path.
//
// Rules:
//   - Lines are straight in calendar days (daylight saving time does not
//     bend them).
//   - Before the baseline date the path is undefined; without a (dated)
//     baseline it starts at the first target. After the last target it
//     stays at that target.
//   - Targets dated on or before the baseline date are not on the path
//     (they still count for YearlyTarget and Horizon).
//   - Targets on the same calendar day (Europe/Stockholm) are versions of
//     one target. When horizon and yearly targets share a day the path goes
//     through the horizon target; the yearly one still governs ILS
//     assessments.
//   - Version in force: the latest version with Decided on or before the
//     evaluation time — the AsOf time for At and Knots, the earlier of the
//     argument and AsOf for the methods taking a time. A zero Decided is in
//     force from the start; when no version is decided yet, the earliest
//     decided one is used. Without AsOf and with a zero time, the latest
//     version applies. The whole path is drawn with the versions in force
//     at the evaluation time, so the line on a chart and the status agree.
//
// A yearly target of 70 for 2025 raised to 75 on 15 June: evaluated on 10
// June (AsOf 10 June) the path for all of 2025 aims at 70; evaluated on
// 20 June it aims at 75; and a T1 proposal (evaluated at the end of April)
// always sees 70.
type TargetPath struct {
	unit  strategy.Unit
	base  *Knot // nil without a dated baseline
	all   []group
	path  []group // groups after the baseline date
	known time.Time
}

// group is the versions of the targets on one day.
type group struct {
	date    time.Time
	horizon []strategy.Target // sorted by Decided
	yearly  []strategy.Target
}

// Path builds the target path of ind. It never returns nil; an indicator
// without targets has a path that is undefined everywhere.
func Path(ind *strategy.Indicator) *TargetPath {
	p := &TargetPath{}
	if ind == nil {
		return p
	}
	p.unit = ind.Unit
	if b := ind.Baseline; b != nil && !b.Date.IsZero() && isFinite(b.Value) {
		p.base = &Knot{Date: day(b.Date), Value: b.Value, Kind: "baseline"}
	}
	byDay := map[time.Time]int{}
	for _, t := range ind.Targets {
		if t.Date.IsZero() || !isFinite(t.Value) {
			continue
		}
		d := day(t.Date)
		i, ok := byDay[d]
		if !ok {
			i = len(p.all)
			byDay[d] = i
			p.all = append(p.all, group{date: d})
		}
		if t.Kind == strategy.TargetYearly {
			p.all[i].yearly = append(p.all[i].yearly, t)
		} else {
			p.all[i].horizon = append(p.all[i].horizon, t)
		}
	}
	byDecided := func(a, b strategy.Target) int { return a.Decided.Compare(b.Decided) }
	for i := range p.all {
		slices.SortStableFunc(p.all[i].horizon, byDecided)
		slices.SortStableFunc(p.all[i].yearly, byDecided)
	}
	slices.SortFunc(p.all, func(a, b group) int { return a.date.Compare(b.date) })
	p.path = p.all
	if p.base != nil {
		i := sort.Search(len(p.all), func(i int) bool { return p.all[i].date.After(p.base.Date) })
		p.path = p.all[i:]
	}
	return p
}

// AsOf returns the path as it was known at k: no target version decided
// after k is used. The zero k means no limit.
func (p *TargetPath) AsOf(k time.Time) *TargetPath {
	q := *p
	q.known = k
	return &q
}

// Defined reports whether the path has at least one target on it.
func (p *TargetPath) Defined() bool { return len(p.path) > 0 }

// Start is where the path begins: the baseline date, or the first target's
// date without a baseline. ok is false when the path is undefined.
func (p *TargetPath) Start() (t time.Time, ok bool) {
	switch {
	case !p.Defined():
		return time.Time{}, false
	case p.base != nil:
		return p.base.Date, true
	}
	return p.path[0].date, true
}

// cutoff is the time versions are taken at when looking at time at: the
// earlier of at and the AsOf limit; zero means no limit.
func (p *TargetPath) cutoff(at time.Time) time.Time {
	switch {
	case at.IsZero():
		return p.known
	case p.known.IsZero() || at.Before(p.known):
		return at
	}
	return p.known
}

// inForce picks the version in force at c (zero: no limit) from versions
// sorted by Decided; when none is decided by c, the earliest.
func inForce(vs []strategy.Target, c time.Time) strategy.Target {
	if c.IsZero() {
		return vs[len(vs)-1]
	}
	for i := len(vs) - 1; i >= 0; i-- {
		if !vs[i].Decided.After(c) {
			return vs[i]
		}
	}
	return vs[0]
}

// target is the target the path goes through at g, as seen at time at.
func (p *TargetPath) target(g *group, at time.Time) strategy.Target {
	c := p.cutoff(at)
	if len(g.horizon) > 0 {
		return inForce(g.horizon, c)
	}
	return inForce(g.yearly, c)
}

// At is the expected value at t; ok is false where the path is undefined
// (before its start, or with no targets).
func (p *TargetPath) At(t time.Time) (v float64, ok bool) {
	start, ok := p.Start()
	if !ok || t.Before(start) {
		return 0, false
	}
	g := p.path
	i := sort.Search(len(g), func(i int) bool { return !g[i].date.Before(t) })
	if i == len(g) {
		return p.target(&g[i-1], time.Time{}).Value, true
	}
	next := p.target(&g[i], time.Time{}).Value
	if g[i].date.Equal(t) {
		return next, true
	}
	var d0 time.Time
	var v0 float64
	if i == 0 {
		d0, v0 = p.base.Date, p.base.Value // t ≥ start, so a baseline exists
	} else {
		d0, v0 = g[i-1].date, p.target(&g[i-1], time.Time{}).Value
	}
	c0 := civil(d0)
	f := (civil(t) - c0) / (civil(g[i].date) - c0)
	return v0 + f*(next-v0), true
}

// Knots lists the points the path passes through, with the versions in
// force at the earlier of at and AsOf (zero: no limit): the baseline, then
// one target per day.
func (p *TargetPath) Knots(at time.Time) []Knot {
	out := make([]Knot, 0, len(p.path)+1)
	if p.base != nil && p.Defined() {
		out = append(out, *p.base)
	}
	for i := range p.path {
		t := p.target(&p.path[i], at)
		out = append(out, Knot{Date: p.path[i].date, Value: t.Value, Kind: kindName(t.Kind), Target: &t})
	}
	return out
}

func kindName(k strategy.TargetKind) string {
	if k == strategy.TargetYearly {
		return string(strategy.TargetYearly)
	}
	return string(strategy.TargetHorizon)
}

// Horizon lists the horizon targets (all, also those before the baseline)
// in date order, each in the version in force as seen at time at.
func (p *TargetPath) Horizon(at time.Time) []strategy.Target {
	var out []strategy.Target
	for i := range p.all {
		if g := &p.all[i]; len(g.horizon) > 0 {
			out = append(out, inForce(g.horizon, p.cutoff(at)))
		}
	}
	return out
}

// Yearly lists the yearly targets in date order, each in the version in
// force as seen at time at.
func (p *TargetPath) Yearly(at time.Time) []strategy.Target {
	var out []strategy.Target
	for i := range p.all {
		if g := &p.all[i]; len(g.yearly) > 0 {
			out = append(out, inForce(g.yearly, p.cutoff(at)))
		}
	}
	return out
}

// YearlyTarget is the yearly target (årsmål) dated in the given year
// (Europe/Stockholm; the last one if there are several) in the version in
// force at time at.
func (p *TargetPath) YearlyTarget(year int, at time.Time) (strategy.Target, bool) {
	for i := len(p.all) - 1; i >= 0; i-- {
		g := &p.all[i]
		if len(g.yearly) > 0 && g.date.Year() == year {
			return inForce(g.yearly, p.cutoff(at)), true
		}
	}
	return strategy.Target{}, false
}

// Final is the last horizon target, or the last yearly target when there
// are no horizon targets, as seen at time at.
func (p *TargetPath) Final(at time.Time) (strategy.Target, bool) {
	var yearly *group
	for i := len(p.all) - 1; i >= 0; i-- {
		g := &p.all[i]
		if len(g.horizon) > 0 {
			return inForce(g.horizon, p.cutoff(at)), true
		}
		if yearly == nil && len(g.yearly) > 0 {
			yearly = g
		}
	}
	if yearly != nil {
		return inForce(yearly.yearly, p.cutoff(at)), true
	}
	return strategy.Target{}, false
}

// hasHorizon reports whether any horizon target exists.
func (p *TargetPath) hasHorizon() bool {
	for i := range p.all {
		if len(p.all[i].horizon) > 0 {
			return true
		}
	}
	return false
}

// nextYearly is the first yearly target dated on or after d, else the last
// yearly target, as seen at time at.
func (p *TargetPath) nextYearly(d, at time.Time) (strategy.Target, bool) {
	var last *group
	for i := range p.all {
		g := &p.all[i]
		if len(g.yearly) == 0 {
			continue
		}
		if !g.date.Before(d) {
			return inForce(g.yearly, p.cutoff(at)), true
		}
		last = g
	}
	if last != nil {
		return inForce(last.yearly, p.cutoff(at)), true
	}
	return strategy.Target{}, false
}

// civil is t's wall-clock time in Europe/Stockholm in seconds, as if there
// were no daylight saving time: every day is 86 400 s long, so lines drawn
// between midnights are straight in calendar days.
func civil(t time.Time) float64 {
	y, m, d := t.In(strategy.Stockholm).Date()
	h, mi, s := t.In(strategy.Stockholm).Clock()
	days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	return float64(days*86400+int64(h*3600+mi*60+s)) + float64(t.Nanosecond())/1e9
}

// fromCivil is the midnight (Europe/Stockholm) of the day civil second s
// falls on.
func fromCivil(s float64) time.Time {
	u := time.Unix(int64(math.Floor(s/86400))*86400, 0).UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, strategy.Stockholm)
}

// day is midnight (Europe/Stockholm) of t's calendar day there.
func day(t time.Time) time.Time {
	y, m, d := t.In(strategy.Stockholm).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, strategy.Stockholm)
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
