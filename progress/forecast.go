package progress

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/malbild/malbild/strategy"
)

// Forecast parameters.
const (
	// windowMonths is how many monthly points the trend is fitted to;
	// windowOther how many points of coarser series.
	windowMonths = 24
	windowOther  = 8
	// minPoints is the fewest points a trend is fitted to.
	minPoints = 3
	// seasonMin and seasonWindow: a monthly series needs at least seasonMin
	// points (every month of the year at least twice) for a seasonal
	// pattern, estimated from the last seasonWindow points.
	seasonMin    = 24
	seasonWindow = 36
	// seasonMaterial is the seasonal strength from which the pattern is
	// removed before fitting the trend.
	seasonMaterial = 0.5
	// slopeZ is the normal quantile for the slope interval (90 %).
	slopeZ = 1.645
	// bandQ is the lower residual quantile of the band (upper: 1 − bandQ).
	bandQ = 0.05
	// maxReachYears: a target further away than this at the current pace is
	// "not at the current pace".
	maxReachYears = 100
)

const secondsPerYear = 365.2425 * 24 * 3600

// Forecast is a robust trend of an indicator's values and what it says
// about the targets. See ForecastAt for the method.
type Forecast struct {
	Trend

	// Targets holds one entry per horizon target (per yearly target when
	// there are none), in date order; Final is the last of them.
	Targets []TargetForecast `json:"targets,omitempty"`
	Final   *TargetForecast  `json:"final,omitempty"`
	// ThreeYear and FiveYear are the horizon targets with Years 3 and 5;
	// when no horizon target has Years set, the first and second horizon
	// targets. Reaches3Year and Reaches5Year are their Reaches (false when
	// there is no such target).
	ThreeYear    *TargetForecast `json:"three_year,omitempty"`
	FiveYear     *TargetForecast `json:"five_year,omitempty"`
	Reaches3Year bool            `json:"reaches_3_year"`
	Reaches5Year bool            `json:"reaches_5_year"`
}

// Trend is a fitted trend line (see ForecastAt).
type Trend struct {
	// OK is false when no trend could be fitted; Reason says why.
	OK     bool          `json:"ok"`
	Reason strategy.Text `json:"reason,omitzero"`
	// Points is how many values the trend was fitted to, From and To the
	// dates of the first and last of them.
	Points int       `json:"points,omitempty"`
	From   time.Time `json:"from,omitzero"`
	To     time.Time `json:"to,omitzero"`
	// Level is the trend's value at To (without the seasonal pattern),
	// Slope its change per year; SlopeLow–SlopeHigh is a 90 % interval of
	// the slope.
	Level     float64 `json:"level"`
	Slope     float64 `json:"slope"`
	SlopeLow  float64 `json:"slope_low"`
	SlopeHigh float64 `json:"slope_high"`
	// ResidualLow (≤ 0) and ResidualHigh (≥ 0) are the 5th and 95th
	// percentiles of the values' distances from the trend.
	ResidualLow  float64 `json:"residual_low"`
	ResidualHigh float64 `json:"residual_high"`
	// Seasonal is set when a yearly pattern in monthly values was removed
	// before fitting; SeasonalFactors (January first) is that pattern and
	// SeasonalStrength (0–1) how much of the variation it explains.
	Seasonal         bool      `json:"seasonal"`
	SeasonalFactors  []float64 `json:"seasonal_factors,omitempty"`
	SeasonalStrength float64   `json:"seasonal_strength,omitempty"`
	// Outliers counts values more than three robust standard deviations
	// from the trend; the fit is not thrown by them.
	Outliers int `json:"outliers,omitempty"`
	// Clamp is set for percent units: projections stay within 0–100.
	Clamp bool `json:"clamp,omitempty"`
}

// TargetForecast is what the trend and the values say about one target.
type TargetForecast struct {
	Target strategy.Target `json:"target"`
	// Passed: the target's date is before the evaluation time.
	Passed bool `json:"passed"`
	// For a passed target: Actual is the value whose period contains the
	// target date, and MetAtDate whether it reached the target. Without
	// such a value the outcome is Estimated from the trend at the date, or
	// failing that from the last earlier value; nil when there is nothing.
	Actual    *Point `json:"actual,omitempty"`
	Estimated bool   `json:"estimated,omitempty"`
	MetAtDate *bool  `json:"met_at_date,omitempty"`
	// Projected is the trend's value at the target date with its band
	// Low–High (nil without a trend).
	Projected *float64 `json:"projected,omitempty"`
	Low       *float64 `json:"low,omitempty"`
	High      *float64 `json:"high,omitempty"`
	// Reaches: for a passed target, MetAtDate; for a future one, whether
	// the projected value at its date reaches it ("at the current pace").
	Reaches bool `json:"reaches"`
	// ReachDate is when the target is (or was) reached: for a passed target
	// the first value that reached it; otherwise when the trend reaches it
	// (To when the trend's level is already there). Nil means not at the
	// current pace (the trend moves away, is flat, or needs more than 100
	// years).
	ReachDate *time.Time `json:"reach_date,omitempty"`
}

// At is the trend's projection at t with its band. The projection is the
// deseasonalised trend level; for percent units all three stay in 0–100.
// ok is false when there is no trend.
func (f *Trend) At(t time.Time) (v, lo, hi float64, ok bool) {
	if !f.OK {
		return 0, 0, 0, false
	}
	x := (civil(t) - civil(f.To)) / secondsPerYear
	v = f.Level + f.Slope*x
	a, b := f.SlopeLow*x, f.SlopeHigh*x
	lo = f.Level + math.Min(a, b) + f.ResidualLow
	hi = f.Level + math.Max(a, b) + f.ResidualHigh
	lo, hi = math.Min(lo, v), math.Max(hi, v)
	if f.Clamp {
		v, lo, hi = clamp(v, 0, 100), clamp(lo, 0, 100), clamp(hi, 0, 100)
	}
	return v, lo, hi, true
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// fitter holds scratch space reused between fits, and the last fit: the
// forecast now and the open period's proposal usually fit the same values.
type fitter struct {
	buf, xs, ys, res []float64
	last             *Point
	lastN            int
	lastTrend        Trend
}

// ForecastAt fits a trend to the values of s known at time at and projects
// it to ind's targets (as seen at at).
//
// Method: a Theil–Sen line (the median of the slopes between all pairs of
// points; the intercept is the median of the points' offsets from that
// slope), which a few wild values cannot tip over. It is fitted to the last
// 24 values of a monthly series and the last 8 of coarser series. With at
// least 24 monthly values, each month of the year seen at least twice, a
// yearly pattern is estimated from the last 36: the median distance from a
// first trend line per month of the year, centred on zero. When that
// pattern explains at least half of the variation around the line
// (strength = 1 − var(remainder) / var(detrended), adjusted for the 11
// degrees of freedom the pattern takes so that noise and single wild values
// do not pass for a pattern), it is subtracted before the trend is fitted,
// and projections are of the deseasonalised level. The band combines a 90 % interval for the slope (from the ranks of the
// pairwise slopes) with the 5th–95th percentiles of the values' distances
// from the line. Fewer than 3 values give no trend.
func ForecastAt(ind *strategy.Indicator, path *TargetPath, s Series, at time.Time) Forecast {
	var f fitter
	return f.forecast(ind, path.upTo(at), s.KnownAt(at), at)
}

func (fi *fitter) forecast(ind *strategy.Indicator, path *TargetPath, s Series, at time.Time) Forecast {
	var f Forecast
	f.Clamp = ind.Unit == strategy.UnitPercent
	fi.fitTrend(&f, s)
	horizon := path.Horizon(at)
	targets := horizon
	if len(targets) == 0 {
		targets = path.Yearly(at)
	}
	if len(targets) > 0 {
		f.Targets = make([]TargetForecast, len(targets))
		for i, t := range targets {
			f.Targets[i] = f.target(ind, s, t, at)
		}
		f.Final = &f.Targets[len(f.Targets)-1]
	}
	if len(horizon) > 0 {
		three, five := -1, -1
		anyYears := false
		for i, t := range horizon {
			anyYears = anyYears || t.Years > 0
			if t.Years == 3 && three < 0 {
				three = i
			}
			if t.Years == 5 && five < 0 {
				five = i
			}
		}
		if !anyYears {
			three = 0
			if len(horizon) > 1 {
				five = 1
			}
		}
		if three >= 0 {
			f.ThreeYear = &f.Targets[three]
			f.Reaches3Year = f.ThreeYear.Reaches
		}
		if five >= 0 {
			f.FiveYear = &f.Targets[five]
			f.Reaches5Year = f.FiveYear.Reaches
		}
	}
	return f
}

// fitTrend fills the trend fields of f from s.
func (fi *fitter) fitTrend(f *Forecast, s Series) {
	clamp := f.Clamp
	if len(s) > 0 && fi.last == &s[0] && fi.lastN == len(s) {
		f.Trend = fi.lastTrend
	} else {
		f.Trend = Trend{}
		fi.fit(&f.Trend, s)
		if len(s) > 0 {
			fi.last, fi.lastN, fi.lastTrend = &s[0], len(s), f.Trend
		}
	}
	f.Clamp = clamp
}

// fit fills t from s.
func (fi *fitter) fit(f *Trend, s Series) {
	if len(s) < minPoints {
		f.Reason = strategy.Text{
			SV: fmt.Sprintf("Minst %d mätvärden behövs för en prognos (har %d).", minPoints, len(s)),
			EN: fmt.Sprintf("At least %d values are needed for a forecast (have %d).", minPoints, len(s)),
		}
		return
	}
	last := s[len(s)-1].Date
	c0 := civil(last)
	years := func(t time.Time) float64 { return (civil(t) - c0) / secondsPerYear }
	monthly := s[0].Period.Kind == strategy.Month
	var factors [12]float64
	if monthly {
		factors, f.SeasonalStrength, f.Seasonal = fi.season(s, years)
		if f.Seasonal {
			f.SeasonalFactors = factors[:]
		} else {
			f.SeasonalStrength = 0
		}
	}
	w := windowOther
	if monthly {
		w = windowMonths
	}
	win := s[max(0, len(s)-w):]
	fi.xs, fi.ys = fi.xs[:0], fi.ys[:0]
	for _, p := range win {
		y := p.Value
		if f.Seasonal {
			y -= factors[p.Period.N-1]
		}
		fi.xs = append(fi.xs, years(p.Date))
		fi.ys = append(fi.ys, y)
	}
	slope, lo, hi, icpt := fi.theilSen(fi.xs, fi.ys)
	f.OK, f.Points, f.From, f.To = true, len(win), win[0].Date, last
	f.Level, f.Slope, f.SlopeLow, f.SlopeHigh = icpt, slope, lo, hi
	fi.res = fi.res[:0]
	for i := range fi.xs {
		fi.res = append(fi.res, fi.ys[i]-(icpt+slope*fi.xs[i]))
	}
	slices.Sort(fi.res)
	f.ResidualLow = math.Min(0, quantile(fi.res, bandQ))
	f.ResidualHigh = math.Max(0, quantile(fi.res, 1-bandQ))
	med := quantile(fi.res, 0.5)
	// With most values exactly on the line (MAD 0) any value off it is an
	// outlier.
	limit := 3 * mad(append(fi.buf[:0], fi.res...))
	limit = math.Max(limit, 1e-9*math.Max(1, math.Abs(icpt)))
	for _, r := range fi.res {
		if math.Abs(r-med) > limit {
			f.Outliers++
		}
	}
}

// season estimates the yearly pattern of a monthly series.
func (fi *fitter) season(s Series, years func(time.Time) float64) (factors [12]float64, strength float64, material bool) {
	win := s[max(0, len(s)-seasonWindow):]
	if len(win) < seasonMin {
		return factors, 0, false
	}
	var n [12]int
	for _, p := range win {
		n[p.Period.N-1]++
	}
	for _, c := range n {
		if c < 2 {
			return factors, 0, false
		}
	}
	fi.xs, fi.ys = fi.xs[:0], fi.ys[:0]
	for _, p := range win {
		fi.xs = append(fi.xs, years(p.Date))
		fi.ys = append(fi.ys, p.Value)
	}
	slope, _, _, icpt := fi.theilSen(fi.xs, fi.ys)
	fi.res = fi.res[:0]
	for i := range fi.xs {
		fi.res = append(fi.res, fi.ys[i]-(icpt+slope*fi.xs[i]))
	}
	var mean float64
	for m := range 12 {
		fi.buf = fi.buf[:0]
		for i, p := range win {
			if p.Period.N-1 == m {
				fi.buf = append(fi.buf, fi.res[i])
			}
		}
		factors[m] = median(fi.buf)
		mean += factors[m] / 12
	}
	for m := range factors {
		factors[m] -= mean
	}
	// Strength: the share of the variation around the line the pattern
	// explains, adjusted (like an adjusted R²) for the 11 values it is free
	// to fit, so that noise or a single wild value does not pass for a
	// pattern.
	var vr, vd, mr, md float64
	for i, p := range win {
		md += fi.res[i]
		mr += fi.res[i] - factors[p.Period.N-1]
	}
	size := float64(len(win))
	md /= size
	mr /= size
	for i, p := range win {
		dd := fi.res[i] - md
		r := fi.res[i] - factors[p.Period.N-1] - mr
		vd += dd * dd
		vr += r * r
	}
	if vd == 0 {
		return factors, 0, false
	}
	strength = math.Max(0, 1-vr/vd*(size-1)/(size-12))
	return factors, strength, strength >= seasonMaterial
}

// mad is the median absolute deviation from the median of v, scaled to
// estimate a standard deviation (× 1.4826). It reorders v.
func mad(v []float64) float64 {
	slices.Sort(v)
	m := quantile(v, 0.5)
	for i := range v {
		v[i] = math.Abs(v[i] - m)
	}
	slices.Sort(v)
	return quantile(v, 0.5) * 1.4826
}

// theilSen fits y = icpt + slope·x and a 90 % interval lo–hi for the slope
// (Sen 1968; interval by the ranks of the pairwise slopes, Gilbert 1987).
func (fi *fitter) theilSen(xs, ys []float64) (slope, lo, hi, icpt float64) {
	n := len(xs)
	fi.buf = fi.buf[:0]
	for i := range n {
		for j := i + 1; j < n; j++ {
			if dx := xs[j] - xs[i]; dx != 0 {
				fi.buf = append(fi.buf, (ys[j]-ys[i])/dx)
			}
		}
	}
	if len(fi.buf) == 0 {
		fi.buf = append(fi.buf[:0], ys...)
		return 0, 0, 0, median(fi.buf)
	}
	N := len(fi.buf)
	c := slopeZ * math.Sqrt(float64(n*(n-1)*(2*n+5))/18)
	i1 := min(max(int(math.Floor((float64(N)-c)/2))-1, 0), N-1)
	i2 := min(max(int(math.Ceil((float64(N)+c)/2)), 0), N-1)
	slope = median(fi.buf)
	lo = nth(fi.buf, i1)
	hi = nth(fi.buf, i2)
	fi.buf = fi.buf[:0]
	for i := range n {
		fi.buf = append(fi.buf, ys[i]-slope*xs[i])
	}
	return slope, lo, hi, median(fi.buf)
}

// nth reorders v so that v[k] is its k-th smallest value (from 0), with
// no larger value before it and no smaller after, and returns it
// (Hoare's selection with a median-of-three pivot; O(len(v)) on average).
func nth(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for hi > lo {
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		p := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < p {
				i++
			}
			for v[j] > p {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}

// median of v (the mean of the two middle values for an even count); it
// reorders v. 0 for no values.
func median(v []float64) float64 {
	n := len(v)
	if n == 0 {
		return 0
	}
	m := nth(v, n/2)
	if n%2 == 1 {
		return m
	}
	below := v[0]
	for _, x := range v[1 : n/2] {
		below = math.Max(below, x)
	}
	return (below + m) / 2
}

// quantile is the q-quantile of sorted values, interpolating linearly
// between order statistics (R's type 7); 0 for no values.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	h := q * float64(len(sorted)-1)
	i := int(math.Floor(h))
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}

// target is the forecast for one target.
func (f *Forecast) target(ind *strategy.Indicator, s Series, t strategy.Target, at time.Time) TargetForecast {
	tf := TargetForecast{Target: t, Passed: t.Date.Before(at)}
	if v, lo, hi, ok := f.At(t.Date); ok {
		tf.Projected, tf.Low, tf.High = &v, &lo, &hi
	}
	if tf.Passed {
		if p, ok := s.On(t.Date); ok && p.finish().After(t.Date) {
			tf.Actual = &p
			tf.MetAtDate = ptr(reaches(ind, p.Value, t.Value))
		} else if tf.Projected != nil {
			tf.Estimated = true
			tf.MetAtDate = ptr(reaches(ind, *tf.Projected, t.Value))
		} else if ok {
			tf.Estimated = true
			tf.MetAtDate = ptr(reaches(ind, p.Value, t.Value))
		}
		tf.Reaches = tf.MetAtDate != nil && *tf.MetAtDate
		for _, p := range s {
			if reaches(ind, p.Value, t.Value) {
				tf.ReachDate = ptr(p.Date)
				break
			}
		}
		if tf.ReachDate == nil {
			tf.ReachDate = f.reachDate(ind, t.Value)
		}
		return tf
	}
	if tf.Projected != nil {
		tf.Reaches = reaches(ind, *tf.Projected, t.Value)
		tf.ReachDate = f.reachDate(ind, t.Value)
	}
	return tf
}

// reachDate is when the trend reaches v, nil when not at the current pace.
func (f *Forecast) reachDate(ind *strategy.Indicator, v float64) *time.Time {
	if !f.OK {
		return nil
	}
	if f.Clamp && (v > 100 || v < 0) {
		return nil
	}
	if reaches(ind, f.Level, v) {
		return ptr(f.To)
	}
	if f.Slope == 0 || sign(ind)*f.Slope < 0 {
		return nil
	}
	x := (v - f.Level) / f.Slope
	if x > maxReachYears {
		return nil
	}
	return ptr(fromCivil(civil(f.To) + x*secondsPerYear))
}
