package collectors

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// MeasureStore computes built-in measures from raw facts and stores the
// results as observations. *clickhouse.Store implements it.
type MeasureStore interface {
	ComputeMeasure(ctx context.Context, tenant string, m clickhouse.MeasureRequest) ([]strategy.Observation, error)
	WriteObservations(ctx context.Context, obs []strategy.Observation) error
}

// caseAggregates is what a measure store that keeps pre-aggregates of
// the cases (clickhouse.Store) offers a recompute: refreshing the months
// a failed write left awaiting a refresh, and rebuilding them all.
type caseAggregates interface {
	RefreshPendingCases(ctx context.Context, tenant string) (*clickhouse.Days, error)
	RebuildCaseAggregates(ctx context.Context, tenant string) error
}

// RhythmKinds are the period kinds a strategy is followed up in: month,
// its rhythm's kind (quarter or tertial, default tertial) and year.
func RhythmKinds(s *strategy.Strategy) []strategy.PeriodKind {
	k := strategy.Tertial
	if s.Rhythm == strategy.RhythmQuarter {
		k = strategy.Quarter
	}
	return []strategy.PeriodKind{strategy.Month, k, strategy.Year}
}

// RecomputeResult says what Recompute wrote.
type RecomputeResult struct {
	Indicators   int // indicators with a measure that were computed
	Full         int // of those, computed over their whole history
	Observations int // observations written
}

// Recompute computes, for every indicator of s whose Source.Measure is
// set, its observations per period of each kind (RhythmKinds(s) when kinds
// is empty) over the whole history and writes them with
// WriteObservations, as source "measure:<name>" and version = now, so
// dashboards read small precomputed rows, never raw facts. The tenant is
// s.Municipality.Code. An indicator that fails does not stop the others;
// the errors are returned together.
func Recompute(ctx context.Context, store MeasureStore, s *strategy.Strategy, kinds []strategy.PeriodKind) (RecomputeResult, error) {
	return recompute(ctx, store, s, kinds, nil, time.Now())
}

// RecomputeTouched is Recompute limited to what touched (see
// clickhouse.Touched) can have changed: the measures reading the touched
// facts, in the periods of every kind containing a touched day (from the
// first touched day on for Onward measures). A measure with a
// WholeHistory parameter set (handling time's top) is limited so only
// while its scope (ScopeStore) stays the same, and computed in full when
// it changed or cannot be derived. An indicator whose parameters changed
// since its last full computation (see MeasureFingerprints) is computed
// in full, touched or not. A nil touched computes everything in full.
func RecomputeTouched(ctx context.Context, store MeasureStore, s *strategy.Strategy, kinds []strategy.PeriodKind, touched clickhouse.Touched) (RecomputeResult, error) {
	return recompute(ctx, store, s, kinds, touched, time.Now())
}

// FingerprintStore keeps, per indicator, the fingerprint of the
// parameters its observations were last fully computed with.
// *clickhouse.Store implements it; a MeasureStore without it is never
// asked, and only touched is recomputed.
type FingerprintStore interface {
	MeasureFingerprints(ctx context.Context, tenant string) (map[string]string, error)
	WriteMeasureFingerprints(ctx context.Context, tenant string, fps map[string]string, version uint64) error
}

// ScopeStore derives what every period of a measure depends on (see
// clickhouse.Store.MeasureScope). *clickhouse.Store implements it.
type ScopeStore interface {
	MeasureScope(ctx context.Context, tenant string, m clickhouse.MeasureRequest) (string, error)
}

// measureFingerprint identifies what an indicator's observations were
// computed from: the measure, its parameters and the period kinds.
func measureFingerprint(name string, params map[string]string, kinds []strategy.PeriodKind) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q\n", name)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		fmt.Fprintf(h, "%q=%q\n", k, params[k])
	}
	fmt.Fprintf(h, "%v\n", kinds)
	return hex.EncodeToString(h.Sum(nil))
}

// periodRuns turns days into runs of consecutive periods of kind k,
// each as a request's From and To.
func periodRuns(k strategy.PeriodKind, days []time.Time) [][2]time.Time {
	var runs [][2]time.Time
	var last strategy.Period
	for _, d := range days {
		p := strategy.PeriodOf(k, d)
		switch {
		case len(runs) > 0 && p == last:
		case len(runs) > 0 && p == last.Next():
			runs[len(runs)-1][1] = p.Start()
		default:
			runs = append(runs, [2]time.Time{p.Start(), p.Start()})
		}
		last = p
	}
	return runs
}

// recompute computes the indicators' measures: everything in full when
// touched is nil, else as RecomputeTouched says.
func recompute(ctx context.Context, store MeasureStore, s *strategy.Strategy, kinds []strategy.PeriodKind, touched clickhouse.Touched, now time.Time) (RecomputeResult, error) {
	var res RecomputeResult
	if len(kinds) == 0 {
		kinds = RhythmKinds(s)
	}
	tenant := s.Municipality.Code
	version := uint64(now.UnixNano())
	var errs []error
	fpStore, _ := store.(FingerprintStore)
	var known map[string]string
	if fpStore != nil {
		var err error
		if known, err = fpStore.MeasureFingerprints(ctx, tenant); err != nil {
			return res, err
		}
	}
	done := map[string]string{} // indicator → fingerprint, computed in full
	for _, a := range s.Areas {
		for _, g := range a.Goals {
			for _, ind := range g.Indicators {
				name := ind.Source.Measure
				if name == "" {
					continue
				}
				m, ok := clickhouse.LookupMeasure(name)
				if !ok {
					errs = append(errs, fmt.Errorf("indicator %s: unknown measure %q", ind.ID, name))
					continue
				}
				// The fingerprint is that of the parameters, then, for a
				// measure whose periods all depend on the whole history
				// (top=N), that of this dependency, its scope: while the
				// scope stays the same, touched periods suffice.
				paramsFP := measureFingerprint(name, ind.Source.Params, kinds)
				knownParams, knownScope, _ := strings.Cut(known[ind.ID], ":")
				full := touched == nil || (fpStore != nil && knownParams != paramsFP)
				var days *clickhouse.Days
				if !full {
					if days = touched[m.Facts]; days == nil {
						continue
					}
					full = days.All
				}
				scoped := false
				for _, p := range m.WholeHistory {
					scoped = scoped || strings.TrimSpace(ind.Source.Params[p]) != ""
				}
				var scope, scopeFP string
				if scoped {
					ss, ok := store.(ScopeStore)
					if !ok || fpStore == nil {
						full = true // cannot tell whether the scope changed
					} else {
						var err error
						if scope, err = ss.MeasureScope(ctx, tenant, clickhouse.MeasureRequest{Name: name, Params: ind.Source.Params, Kind: kinds[0]}); err != nil {
							errs = append(errs, fmt.Errorf("indicator %s (measure %s): %w", ind.ID, name, err))
							continue
						}
						sum := sha256.Sum256([]byte(scope))
						scopeFP = hex.EncodeToString(sum[:])
						full = full || scopeFP != knownScope
					}
				}
				fp := paramsFP
				if scopeFP != "" {
					fp += ":" + scopeFP
				}
				var obs []strategy.Observation
				var err error
				for _, k := range kinds {
					reqs := []clickhouse.MeasureRequest{{Name: name, Params: ind.Source.Params, Kind: k}}
					if !full {
						reqs = reqs[:0]
						for _, r := range periodRuns(k, days.List()) {
							req := clickhouse.MeasureRequest{Name: name, Params: ind.Source.Params, Kind: k, From: r[0], To: r[1], Scope: scope}
							if m.Onward {
								req.To = time.Time{}
							}
							reqs = append(reqs, req)
							if m.Onward {
								break
							}
						}
					}
					for _, req := range reqs {
						var part []strategy.Observation
						if part, err = store.ComputeMeasure(ctx, tenant, req); err != nil {
							break
						}
						obs = append(obs, part...)
					}
					if err != nil {
						break
					}
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("indicator %s (measure %s): %w", ind.ID, name, err))
					continue
				}
				for i := range obs {
					o := &obs[i]
					o.Tenant, o.Indicator, o.Source, o.Version, o.Recorded = tenant, ind.ID, "measure:"+name, version, now
				}
				if err := store.WriteObservations(ctx, obs); err != nil {
					errs = append(errs, fmt.Errorf("indicator %s (measure %s): writing %d observations: %w", ind.ID, name, len(obs), err))
					continue
				}
				if full && known[ind.ID] != fp {
					done[ind.ID] = fp
				}
				res.Indicators++
				res.Observations += len(obs)
				if full {
					res.Full++
				}
			}
		}
	}
	if fpStore != nil && len(done) > 0 {
		if err := fpStore.WriteMeasureFingerprints(ctx, tenant, done, version); err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

// recomputeTenant recomputes what touched (nil: everything) can have
// changed in tenant's measures, and the indicators whose parameters
// changed, if the runner has a measure store and a strategy for the
// tenant.
func (r *Runner) recomputeTenant(ctx context.Context, tenant string, touched clickhouse.Touched) error {
	s := r.tenants()[tenant]
	if r.cfg.Measures == nil || s == nil {
		return nil
	}
	if r.cfg.Recompute {
		touched = nil
	}
	if ca, ok := r.cfg.Measures.(caseAggregates); ok {
		if r.cfg.Recompute {
			if err := ca.RebuildCaseAggregates(ctx, tenant); err != nil {
				return fmt.Errorf("recomputing measures of tenant %s: %w", tenant, err)
			}
		} else {
			days, err := ca.RefreshPendingCases(ctx, tenant)
			if err != nil {
				return fmt.Errorf("recomputing measures of tenant %s: %w", tenant, err)
			}
			if days != nil && touched != nil {
				touched = touched.Clone()
				touched.Merge(clickhouse.Touched{facts.KindCases: days})
			}
		}
	}
	start := r.cfg.Now()
	res, err := recompute(ctx, r.cfg.Measures, s, nil, touched, start)
	attrs := []any{"tenant", tenant, "indicators", res.Indicators, "in_full", res.Full, "observations", res.Observations,
		"duration", r.cfg.Now().Sub(start).Round(time.Millisecond).String()}
	if err != nil {
		r.log.Error("recomputing measures", append(attrs, "error", err)...)
		return fmt.Errorf("recomputing measures of tenant %s: %w", tenant, err)
	}
	if res.Indicators > 0 {
		r.log.Info("measures recomputed", attrs...)
	}
	return nil
}

// recomputer runs recomputations in the background for Serve, one at a
// time per tenant: a request while one runs is remembered and run once
// afterwards, so a burst of collector runs causes at most two.
type recomputer struct {
	r  *Runner
	wg sync.WaitGroup

	mu    sync.Mutex
	state map[string]*recompState
}

type recompState struct {
	running bool
	pending clickhouse.Touched // what waits; all=true means everything
	all     bool
	check   bool // a request waits (perhaps with nothing touched)
}

// request asks for a recompute of what touched changed (nil:
// everything; empty: only the indicators whose parameters changed).
func (rc *recomputer) request(ctx context.Context, tenant string, touched clickhouse.Touched) {
	if rc.r.cfg.Measures == nil || rc.r.tenants()[tenant] == nil {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	st := rc.state[tenant]
	if st == nil {
		st = &recompState{pending: clickhouse.Touched{}}
		rc.state[tenant] = st
	}
	if touched == nil {
		st.all = true
	}
	st.pending.Merge(touched)
	st.check = true
	if st.running {
		return
	}
	st.running = true
	rc.wg.Go(func() {
		for {
			rc.mu.Lock()
			if !st.all && !st.check {
				st.running = false
				rc.mu.Unlock()
				return
			}
			fs := st.pending
			if st.all {
				fs = nil
			}
			st.pending, st.all, st.check = clickhouse.Touched{}, false, false
			rc.mu.Unlock()
			// A recompute that started finishes even when serve stops.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
			rc.r.recomputeTenant(rctx, tenant, fs)
			cancel()
		}
	})
}

func (rc *recomputer) wait() { rc.wg.Wait() }
