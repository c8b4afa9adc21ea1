package progress

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

func TestStatusAt(t *testing.T) {
	now := d(2026, 3, 1)
	// Baseline 50 on 2024-12-31, 3-year target 80 on 2027-12-31 (1095 days):
	// the path is 60 on 2025-12-31 and 70 on 2026-12-31.
	inc := func(tol float64) *strategy.Indicator {
		return indicator(strategy.Increase, d(2024, 12, 31), 50, tol, horizon(d(2027, 12, 31), 80, 3))
	}
	// Handling time in days, lower is better: 100 → 70 (−30 %), path 90 on 2025-12-31.
	dec := func(tol float64) *strategy.Indicator {
		i := indicator(strategy.Decrease, d(2024, 12, 31), 100, tol, horizon(d(2027, 12, 31), 70, 3))
		i.Unit = strategy.UnitDays
		return i
	}
	y2025 := []strategy.Period{year(2025)}
	for _, c := range []struct {
		name     string
		ind      *strategy.Indicator
		s        Series
		want     Status
		expected float64
	}{
		{"ahead of the path", inc(5), series(y2025, 62), StatusOnTrack, 60},
		{"on the path", inc(5), series(y2025, 60), StatusOnTrack, 60},
		{"behind within tolerance", inc(5), series(y2025, 57), StatusAtRisk, 60},
		{"behind by exactly the tolerance", inc(5), series(y2025, 55), StatusAtRisk, 60},
		{"behind beyond the tolerance", inc(5), series(y2025, 54.9), StatusOffTrack, 60},
		{"behind with zero tolerance", inc(0), series(y2025, 59.99), StatusOffTrack, 60},
		{"final target reached", inc(5), series(y2025, 80), StatusMet, 60},
		{"beyond the final target", inc(5), series(y2025, 85), StatusMet, 60},
		{"no data", inc(5), nil, StatusNoData, 0},
		{"only future data", inc(5), series([]strategy.Period{year(2027)}, 90), StatusNoData, 0},
		{"no target", indicator(strategy.Increase, d(2024, 12, 31), 50, 5), series(y2025, 62), StatusNoTarget, 0},
		{"decrease: below the path is ahead", dec(5), series(y2025, 88), StatusOnTrack, 90},
		{"decrease: above within tolerance", dec(5), series(y2025, 93), StatusAtRisk, 90},
		{"decrease: above beyond tolerance", dec(5), series(y2025, 96), StatusOffTrack, 90},
		{"decrease: target reached", dec(5), series(y2025, 70), StatusMet, 90},
		{"decrease: beyond the target", dec(5), series(y2025, 65), StatusMet, 90},
		// Negative values: −10 → 20 over three years, path 0 at 2025-12-31.
		{"negative: slightly behind", indicator(strategy.Increase, d(2024, 12, 31), -10, 5, horizon(d(2027, 12, 31), 20, 0)), series(y2025, -2), StatusAtRisk, 0},
		{"negative: far behind", indicator(strategy.Increase, d(2024, 12, 31), -10, 5, horizon(d(2027, 12, 31), 20, 0)), series(y2025, -6), StatusOffTrack, 0},
		// Baseline equal to the target: the path is flat.
		{"baseline = target, met", indicator(strategy.Increase, d(2024, 12, 31), 80, 5, horizon(d(2027, 12, 31), 80, 0)), series(y2025, 80), StatusMet, 80},
		{"baseline = target, below", indicator(strategy.Increase, d(2024, 12, 31), 80, 5, horizon(d(2027, 12, 31), 80, 0)), series(y2025, 79), StatusAtRisk, 80},
		// Target already met at the baseline (85 ≥ 80): any value ≥ 80 is met.
		{"met at baseline, still met", indicator(strategy.Increase, d(2024, 12, 31), 85, 5, horizon(d(2027, 12, 31), 80, 0)), series(y2025, 82), StatusMet, 85 - 5.0/3},
		{"met at baseline, now below", indicator(strategy.Increase, d(2024, 12, 31), 85, 5, horizon(d(2027, 12, 31), 80, 0)), series(y2025, 79), StatusAtRisk, 85 - 5.0/3},
		// All targets in the past: the path stays at the last one.
		{"all targets past, behind", indicator(strategy.Increase, d(2019, 12, 31), 50, 5, horizon(d(2020, 12, 31), 60, 0), horizon(d(2022, 12, 31), 70, 0)), series(y2025, 68), StatusAtRisk, 70},
		{"all targets past, met", indicator(strategy.Increase, d(2019, 12, 31), 50, 5, horizon(d(2020, 12, 31), 60, 0), horizon(d(2022, 12, 31), 70, 0)), series(y2025, 70), StatusMet, 70},
		// Only yearly targets: met means this year's target.
		{"yearly only: this year's target met", indicator(strategy.Increase, d(2024, 12, 31), 50, 5, yearly(2025, 60, time.Time{}), yearly(2026, 70, time.Time{})), series(y2025, 61), StatusMet, 60},
		{"yearly only: behind this year's", indicator(strategy.Increase, d(2024, 12, 31), 50, 5, yearly(2025, 60, time.Time{}), yearly(2026, 70, time.Time{})), series(y2025, 58), StatusAtRisk, 60},
		// Value before the path starts: judged against its start.
		{"before the baseline", indicator(strategy.Increase, d(2025, 12, 31), 50, 5, horizon(d(2027, 12, 31), 80, 0)), series([]strategy.Period{year(2024)}, 49), StatusAtRisk, 50},
		// Gaps: the latest value counts whatever came before.
		{"gaps", inc(5), series([]strategy.Period{month(2025, 1), month(2025, 2), month(2025, 8)}, 10, 10, 57.6), StatusOnTrack, 50 + 30*243.0/1095},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := StatusAt(c.ind, Path(c.ind), c.s, now)
			if r.Status != c.want || r.Underlying != c.want {
				t.Fatalf("status %s (underlying %s), want %s; reason %q", r.Status, r.Underlying, c.want, r.Reason.SV)
			}
			if r.Expected != nil && !near(*r.Expected, c.expected, 1e-9) {
				t.Errorf("expected %v, want %v", *r.Expected, c.expected)
			}
			if r.Reason.SV == "" || r.Reason.EN == "" {
				t.Error("no reason")
			}
		})
	}
}

func TestStatusReasons(t *testing.T) {
	ind := indicator(strategy.Increase, d(2024, 12, 31), 50, 5, horizon(d(2027, 12, 31), 80, 3))
	r := StatusAt(ind, Path(ind), series([]strategy.Period{year(2025)}, 57), d(2026, 3, 1))
	if want := "Utfall 57 % mot målbanan 60 % (tolerans 5): risk."; r.Reason.SV != want {
		t.Errorf("sv %q, want %q", r.Reason.SV, want)
	}
	if want := "Outcome 57% against the target path 60% (tolerance 5): at risk."; r.Reason.EN != want {
		t.Errorf("en %q, want %q", r.Reason.EN, want)
	}
	if r.Ahead == nil || *r.Ahead != -3 {
		t.Errorf("ahead %v", r.Ahead)
	}
	r = StatusAt(ind, Path(ind), series([]strategy.Period{year(2025)}, 81), d(2026, 3, 1))
	if want := "81 % har nått målet 80 % (2027-12-31)."; r.Reason.SV != want {
		t.Errorf("met sv %q", r.Reason.SV)
	}
}

func TestStatusStale(t *testing.T) {
	ind := indicator(strategy.Increase, d(2024, 12, 31), 50, 5, horizon(d(2027, 12, 31), 80, 3))
	ind.Freshness = 60 * 24 * time.Hour
	s := series([]strategy.Period{month(2025, 11), month(2025, 12)}, 40, 62)
	// December ended on 2026-01-01: fresh until 2026-03-02.
	if r := StatusAt(ind, Path(ind), s, d(2026, 3, 2)); r.Status != StatusOnTrack {
		t.Errorf("60 days after: %s", r.Status)
	}
	r := StatusAt(ind, Path(ind), s, d(2026, 3, 2).Add(time.Second))
	if r.Status != StatusStale || r.Underlying != StatusOnTrack {
		t.Errorf("stale: %s / %s", r.Status, r.Underlying)
	}
	if !strings.Contains(r.Reason.SV, "december 2025") || !strings.Contains(r.Reason.EN, "60 days") {
		t.Errorf("reason %+v", r.Reason)
	}
	// A zero Freshness never goes stale.
	ind.Freshness = 0
	if r := StatusAt(ind, Path(ind), s, d(2040, 1, 1)); r.Status == StatusStale {
		t.Error("stale without Freshness")
	}
}

func TestStatusRunningMonthIsKnown(t *testing.T) {
	ind := indicator(strategy.Increase, d(2024, 12, 31), 50, 5, horizon(d(2027, 12, 31), 80, 3))
	s := series([]strategy.Period{month(2025, 5), month(2025, 6)}, 40, 90)
	if r := StatusAt(ind, Path(ind), s, d(2025, 6, 10)); r.Latest.Period != month(2025, 6) || r.Status != StatusMet {
		t.Errorf("running month: %v %s", r.Latest.Period, r.Status)
	}
	if r := StatusAt(ind, Path(ind), s, d(2025, 6, 1)); r.Latest.Period != month(2025, 5) {
		t.Errorf("month not begun counted: %v", r.Latest.Period)
	}
}

func TestStatusPresentation(t *testing.T) {
	key := regexp.MustCompile(`^[a-z][a-z-]*$`)
	symbols := map[string]bool{}
	for _, s := range Statuses {
		if !key.MatchString(s.Key()) {
			t.Errorf("key %q not CSS-safe", s.Key())
		}
		if s.Symbol() == "" || s.Symbol() == "?" || symbols[s.Symbol()] {
			t.Errorf("symbol of %s: %q", s, s.Symbol())
		}
		symbols[s.Symbol()] = true
		if s.Label("sv") == s.Label("en") || s.Label("sv") == "Okänd" || s.Label("en") == "Unknown" {
			t.Errorf("labels of %s: %q / %q", s, s.Label("sv"), s.Label("en"))
		}
	}
	if len(Statuses) != 7 {
		t.Errorf("%d statuses", len(Statuses))
	}
	for s, want := range map[Status]string{StatusMet: "✓", StatusOnTrack: "↗", StatusAtRisk: "!", StatusOffTrack: "✗", StatusNoData: "–", StatusStale: "◷"} {
		if s.Symbol() != want {
			t.Errorf("%s.Symbol() = %q, want %q", s, s.Symbol(), want)
		}
	}
	if StatusOnTrack.Label("sv") != "Enligt plan" || StatusOnTrack.Label("en") != "On track" {
		t.Error("on-track labels")
	}
}

// randomIndicator is an indicator with a baseline and 1–3 horizon targets
// in a random direction, with values at the scale of the seed's choice.
func randomIndicator(rng *rand.Rand) *strategy.Indicator {
	dir := strategy.Increase
	if rng.Intn(2) == 0 {
		dir = strategy.Decrease
	}
	base := d(2018+rng.Intn(4), time.Month(1+rng.Intn(12)), 1+rng.Intn(28))
	scale := []float64{1, 100, 1e6}[rng.Intn(3)]
	var targets []strategy.Target
	at := base
	for range 1 + rng.Intn(3) {
		at = at.AddDate(0, 1+rng.Intn(30), rng.Intn(28))
		targets = append(targets, horizon(at, rng.NormFloat64()*scale, 0))
	}
	ind := indicator(dir, base, rng.NormFloat64()*scale, rng.Float64()*scale/10, targets...)
	ind.Unit = strategy.UnitCount
	return ind
}

// Property: a value lying on the target path is on track (or met, where the
// path is at or beyond the final target); a value beyond the final target
// is met.
func TestStatusProperties(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for iter := range 2000 {
		ind := randomIndicator(rng)
		p := Path(ind)
		start, _ := p.Start()
		m := strategy.PeriodOf(strategy.Month, start.AddDate(0, rng.Intn(120), 0))
		on, _ := p.At(LastDay(m))
		now := m.End().AddDate(0, 0, 1)
		r := StatusAt(ind, p, series([]strategy.Period{m}, on), now)
		if r.Status != StatusOnTrack && r.Status != StatusMet {
			t.Fatalf("iteration %d: value on the path (%v at %v) is %s: %s", iter, on, m, r.Status, r.Reason.EN)
		}
		final, _ := p.Final(now)
		beyond := final.Value + sign(ind)*rng.Float64()*100
		if r := StatusAt(ind, p, series([]strategy.Period{m}, beyond), now); r.Status != StatusMet {
			t.Fatalf("iteration %d: value beyond the final target (%v vs %v) is %s", iter, beyond, final.Value, r.Status)
		}
	}
}

func TestStatusRelativeTarget(t *testing.T) {
	// Norrtälje: halve incoming calls, 1 600 000 a year → 800 000 by 2017.
	v, err := ResolveTarget("halve", 1600000)
	if err != nil {
		t.Fatal(err)
	}
	ind := &strategy.Indicator{ID: "calls", Unit: strategy.UnitCount, Direction: strategy.Decrease, Tolerance: 50000,
		Baseline: &strategy.Baseline{Value: 1600000, Date: d(2014, 12, 31)},
		Targets:  []strategy.Target{{Date: d(2017, 12, 31), Value: v, Spec: "halve", Kind: strategy.TargetHorizon, Years: 3}}}
	// The path: 1 600 000 − 800 000 · 365/1096 on 2015-12-31 ≈ 1 333 577.
	want := 1600000 - 800000*365.0/1096
	for _, c := range []struct {
		v    float64
		want Status
	}{{1300000, StatusOnTrack}, {want + 50000, StatusAtRisk}, {want + 50001, StatusOffTrack}, {800000, StatusMet}} {
		r := StatusAt(ind, Path(ind), series([]strategy.Period{year(2015)}, c.v), d(2016, 2, 1))
		if r.Status != c.want || !near(*r.Expected, want, 1e-6) {
			t.Errorf("%v calls: %s (expected %v), want %s", c.v, r.Status, *r.Expected, c.want)
		}
	}
	if !ind.Targets[0].Relative() {
		t.Error("halve is relative")
	}
}

func TestStatusYearlyTargetChangedMidYear(t *testing.T) {
	// Only yearly targets: 70 for 2025, raised to 75 on 15 June. May's value
	// is on the old path (60 → 70) but behind the new one (60 → 75).
	ind := indicator(strategy.Increase, d(2024, 12, 31), 60, 1,
		yearly(2025, 70, d(2024, 12, 1)), yearly(2025, 75, d(2025, 6, 15)))
	s := series([]strategy.Period{month(2025, 5)}, 64.2)
	r := StatusAt(ind, Path(ind), s, d(2025, 6, 10))
	if r.Status != StatusOnTrack || !near(*r.Expected, 60+10*151.0/365, 1e-9) || r.Target.Value != 70 {
		t.Errorf("10 June: %s against %v (target %v)", r.Status, *r.Expected, r.Target.Value)
	}
	r = StatusAt(ind, Path(ind), s, d(2025, 6, 20))
	if r.Status != StatusOffTrack || !near(*r.Expected, 60+15*151.0/365, 1e-9) || r.Target.Value != 75 {
		t.Errorf("20 June: %s against %v (target %v)", r.Status, *r.Expected, r.Target.Value)
	}
}
