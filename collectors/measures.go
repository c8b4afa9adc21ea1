package collectors

import (
	"context"
	"errors"
	"fmt"
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
	Observations int // observations written
}

// Recompute computes, for every indicator of s whose Source.Measure is
// set, its observations per period of each kind (RhythmKinds(s) when kinds
// is empty) and writes them with WriteObservations, as source
// "measure:<name>" and version = now, so dashboards read small
// precomputed rows, never raw facts. The tenant is s.Municipality.Code.
// An indicator that fails does not stop the others; the errors are
// returned together.
func Recompute(ctx context.Context, store MeasureStore, s *strategy.Strategy, kinds []strategy.PeriodKind) (RecomputeResult, error) {
	return recompute(ctx, store, s, kinds, nil, time.Now())
}

// recompute is Recompute limited to the measures reading the given raw
// facts (nil: all).
func recompute(ctx context.Context, store MeasureStore, s *strategy.Strategy, kinds []strategy.PeriodKind, factsKinds map[facts.Kind]bool, now time.Time) (RecomputeResult, error) {
	var res RecomputeResult
	if len(kinds) == 0 {
		kinds = RhythmKinds(s)
	}
	tenant := s.Municipality.Code
	version := uint64(now.UnixNano())
	var errs []error
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
				if factsKinds != nil && !factsKinds[m.Facts] {
					continue
				}
				var obs []strategy.Observation
				var err error
				for _, k := range kinds {
					var part []strategy.Observation
					part, err = store.ComputeMeasure(ctx, tenant, clickhouse.MeasureRequest{Name: name, Params: ind.Source.Params, Kind: k})
					if err != nil {
						break
					}
					obs = append(obs, part...)
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
				res.Indicators++
				res.Observations += len(obs)
			}
		}
	}
	return res, errors.Join(errs...)
}

// recomputeTenant recomputes the measures of tenant's strategy that read
// the given facts (nil: all), if the runner has a measure store and a
// strategy for the tenant.
func (r *Runner) recomputeTenant(ctx context.Context, tenant string, factsKinds map[facts.Kind]bool) error {
	s := r.tenants()[tenant]
	if r.cfg.Measures == nil || s == nil {
		return nil
	}
	start := r.cfg.Now()
	res, err := recompute(ctx, r.cfg.Measures, s, nil, factsKinds, start)
	attrs := []any{"tenant", tenant, "indicators", res.Indicators, "observations", res.Observations,
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
	pending map[facts.Kind]bool // facts kinds waiting; nil with all=true means all
	all     bool
}

func (rc *recomputer) request(ctx context.Context, tenant string, factsKinds map[facts.Kind]bool) {
	if rc.r.cfg.Measures == nil || rc.r.tenants()[tenant] == nil {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	st := rc.state[tenant]
	if st == nil {
		st = &recompState{pending: map[facts.Kind]bool{}}
		rc.state[tenant] = st
	}
	if factsKinds == nil {
		st.all = true
	}
	for f := range factsKinds {
		st.pending[f] = true
	}
	if st.running {
		return
	}
	st.running = true
	rc.wg.Go(func() {
		for {
			rc.mu.Lock()
			if !st.all && len(st.pending) == 0 {
				st.running = false
				rc.mu.Unlock()
				return
			}
			fs := st.pending
			if st.all {
				fs = nil
			}
			st.pending, st.all = map[facts.Kind]bool{}, false
			rc.mu.Unlock()
			// A recompute that started finishes even when serve stops.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
			rc.r.recomputeTenant(rctx, tenant, fs)
			cancel()
		}
	})
}

func (rc *recomputer) wait() { rc.wg.Wait() }
