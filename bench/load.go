package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/collectors"
	"github.com/malbild/malbild/demo"
	"github.com/malbild/malbild/examples"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/numfmt"
	"github.com/malbild/malbild/strategy"
)

// dataset is one database loaded with demo facts and their measures.
type dataset struct {
	label         string // "10 000 000 cases, 50 000 000 probe results"
	db            string
	cases, probes int
	observations  int // written by Recompute
	indicators    int // indicators Recompute wrote observations for
	dsn           string
	store         *clickhouse.Store
	recompute     time.Duration  // the full recompute after loading
	full          *timedMeasures // its time per measure; nil when reused
	// dropCaches empties ClickHouse's caches before a cold request (nil:
	// dropCaches on store, one server).
	dropCaches func(context.Context) error
	// services is the number of probed services and probeEnd where their
	// history ends (demo.ProbeOptions): zero lets the services grow with
	// probes and the history begin in 2010.
	services int
	probeEnd time.Time
}

// datasets are what the page, load and growth sections read: the full
// data set, and for growth one that is cfg.growth times smaller.
type datasets struct {
	strat    *strategy.Strategy
	large    *dataset
	small    *dataset // nil when growth is 1 or not wanted
	err      error    // why large (or the strategy) is missing
	smallErr error    // why small is missing
}

// loadBatch is how many facts go into one WriteBatch while bulk loading.
const loadBatch = 250_000

// prepare loads the data sets: the small one first (it is quick), then
// the large one. Each is bulk-loaded through store.WriteBatch from the
// demo iterators, then its measures are computed with
// collectors.Recompute, as the runner does after a collector run.
func (b *bench) prepare(ctx context.Context) *datasets {
	d := &datasets{}
	d.strat, d.err = loadStrategy(b.cfg.strategy)
	if d.err != nil {
		return d
	}
	// Both sets probe the same services, as many as the large set needs
	// to fit between 2010 and 2026, up to the same instant, so that the
	// large one has growth times the days of history, not more services,
	// and the same newest periods (issue 15's growth row).
	services, end := demo.ProbeServicesFor(b.cfg.probes), demo.ProbeEnd()
	if (b.cfg.wants("growth") || b.cfg.wants("measures")) && b.cfg.growth > 1 {
		small := &dataset{db: "bench_small", cases: max(1, b.cfg.cases/b.cfg.growth), probes: b.cfg.probes / b.cfg.growth, services: services, probeEnd: end}
		if err := b.loadDataset(ctx, d.strat, small); err != nil {
			d.smallErr = err
			b.log.Error("loading the small data set", "err", err)
		} else {
			d.small = small
		}
	}
	large := &dataset{db: "bench_large", cases: b.cfg.cases, probes: b.cfg.probes, services: services, probeEnd: end}
	if err := b.loadDataset(ctx, d.strat, large); err != nil {
		d.err = err
		b.log.Error("loading the data set", "err", err)
	} else {
		d.large = large
	}
	return d
}

func loadStrategy(name string) (*strategy.Strategy, error) {
	if _, err := os.Stat(name); err == nil {
		return strategy.Load(name)
	}
	data, file, err := examples.Strategy(name)
	if err != nil {
		return nil, fmt.Errorf("strategy %q: neither a file nor an example (%v)", name, examples.Strategies())
	}
	return strategy.ParseWith(file, data, strategy.Options{ReadFile: examples.ReadFile})
}

func (b *bench) loadDataset(ctx context.Context, st *strategy.Strategy, d *dataset) error {
	d.label = numfmt.Group(int64(d.cases)) + " cases, " + numfmt.Group(int64(d.probes)) + " probe results"
	s, err := b.store(ctx, d.db)
	if err != nil {
		return err
	}
	d.store, d.dsn = s, b.ch.DSN(d.db)
	tenant := st.Municipality.Code
	if b.cfg.dataDir != "" {
		if loadedBefore(ctx, s, d) {
			b.log.Info("reusing the data set loaded by an earlier run", "db", d.db, "observations", d.observations)
			b.report.addSetup("Data set %q (%s): reused from an earlier run in %s (%s observations of %d indicators); %s.",
				d.db, d.label, b.cfg.dataDir, numfmt.Group(int64(d.observations)), d.indicators, d.probeSpan(ctx))
			return nil
		}
		// Start over: a half-loaded data set would be counted twice.
		for _, t := range []string{"cases", "probe_results", "observations", "probe_daily", "case_month_counts", "case_handling_counts"} {
			if err := s.Exec(ctx, "TRUNCATE TABLE "+t); err != nil {
				return err
			}
		}
	}
	writeCases := func(ctx context.Context, rows []facts.Case) error {
		return s.WriteBatch(ctx, &facts.Batch{Tenant: tenant, Source: "bench-demo", Version: 1, Cases: rows})
	}
	writeProbes := func(ctx context.Context, rows []facts.ProbeResult) error {
		return s.WriteBatch(ctx, &facts.Batch{Tenant: tenant, Source: "bench-demo", Version: 1, Probes: rows})
	}
	start := time.Now()
	n, err := loadSeq(ctx, demo.Cases(d.cases, b.cfg.seed), loadBatch, writeCases)
	if err != nil {
		return fmt.Errorf("loading cases: %w", err)
	}
	casesTime := time.Since(start)
	start = time.Now()
	probes := demo.ProbeResultsWith(demo.ProbeOptions{N: d.probes, Seed: b.cfg.seed, Services: d.services, End: d.probeEnd})
	m, err := loadSeq(ctx, probes, loadBatch, writeProbes)
	if err != nil {
		return fmt.Errorf("loading probe results: %w", err)
	}
	probesTime := time.Since(start)
	if n != d.cases || m != d.probes {
		return fmt.Errorf("the demo generators yielded %d cases and %d probe results, want %d and %d", n, m, d.cases, d.probes)
	}
	b.log.Info("data set loaded", "db", d.db, "cases", n, "cases_time", casesTime.Round(time.Millisecond).String(),
		"probes", m, "probes_time", probesTime.Round(time.Millisecond).String())
	start = time.Now()
	timed := &timedMeasures{MeasureStore: s}
	res, err := collectors.Recompute(ctx, timed, st, nil)
	recompTime := time.Since(start)
	if err != nil {
		// Some measures failed; the pages show what the others wrote.
		b.log.Error("recomputing measures", "db", d.db, "err", err)
		b.report.addNote("collectors.Recompute on %q (%s) failed for %d indicators after %s, which therefore have no observations there: %s",
			d.db, d.label, strings.Count(err.Error(), "\n")+1, recompTime.Round(time.Millisecond), strings.Join(strings.Split(err.Error(), "\n"), "; "))
		if res.Indicators == 0 {
			return fmt.Errorf("recomputing measures: %w", err)
		}
	}
	d.observations, d.indicators = res.Observations, res.Indicators
	d.recompute, d.full = recompTime, timed
	b.log.Info("measures recomputed", "db", d.db, "indicators", res.Indicators, "observations", res.Observations,
		"duration", recompTime.Round(time.Millisecond).String(), "per_measure", timed.String())
	b.report.addSetup("Data set %q (%s): bulk-loaded from demo.Cases and demo.ProbeResultsWith through store.WriteBatch in batches of %s: "+
		"cases in %s (%s), probe results in %s (%s); collectors.Recompute wrote %s observations for %d indicators in %s (%s); %s.",
		d.db, d.label, numfmt.Group(loadBatch), casesTime.Round(time.Millisecond), rate(float64(n)/casesTime.Seconds()),
		probesTime.Round(time.Millisecond), rate(float64(m)/probesTime.Seconds()),
		numfmt.Group(int64(res.Observations)), res.Indicators, recompTime.Round(time.Millisecond), timed, d.probeSpan(ctx))
	return nil
}

const loadedBeforeQuery = `SELECT ifNull((SELECT count() FROM cases), 0), ifNull((SELECT count() FROM probe_results), 0),
	ifNull((SELECT count() FROM observations), 0), ifNull((SELECT uniqExact(indicator) FROM observations), 0)`

// loadedBefore reports whether d's database already holds its facts and
// their observations, and how many observations.
func loadedBefore(ctx context.Context, s *clickhouse.Store, d *dataset) bool {
	var cases, probes, obs, inds uint64
	// Scalar subqueries are Nullable since ClickHouse 21.9: ifNull keeps
	// the UInt64 of 18.16.
	err := s.Conn().QueryRow(ctx, loadedBeforeQuery).Scan(&cases, &probes, &obs, &inds)
	if err != nil || cases != uint64(d.cases) || probes != uint64(d.probes) || obs == 0 {
		return false
	}
	// An earlier bench may have spread the probe results over other
	// services or days (the incremental section adds minutes after the
	// last results, less than five).
	services, last, err := probedServices(ctx, s)
	_, want := demo.ProbeSpan(demo.ProbeOptions{N: d.probes, Services: len(services), End: d.probeEnd})
	if err != nil || d.services > 0 && len(services) != d.services || last.Before(want) || !last.Before(want.Add(5*time.Minute)) {
		return false
	}
	d.observations, d.indicators = int(obs), int(inds)
	return true
}

// probeSpan says over how many services and days d's probe results
// run, for the set-up text.
func (d *dataset) probeSpan(ctx context.Context) string {
	services, _, err := probedServices(ctx, d.store)
	if err != nil {
		return "its probe results' services unknown: " + err.Error()
	}
	first, last := demo.ProbeSpan(demo.ProbeOptions{N: d.probes, Services: len(services), End: d.probeEnd})
	return fmt.Sprintf("probe results of %d services every five minutes, %s to %s (%d days)", len(services),
		first.In(strategy.Stockholm).Format("2006-01-02 15:04"), last.In(strategy.Stockholm).Format("2006-01-02 15:04"), int(last.Sub(first).Hours()/24)+1)
}

// loadSeq writes the values of seq in batches of size rows, generating
// the next batch while the previous one is written. write must not keep
// the slice it is given. It returns the number of values written.
func loadSeq[T any](ctx context.Context, seq iter.Seq[T], size int, write func(context.Context, []T) error) (int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	full := make(chan []T, 1)
	free := make(chan []T, 2)
	free <- make([]T, 0, size)
	free <- make([]T, 0, size)
	done := make(chan error, 1)
	go func() {
		var err error
		for buf := range full {
			if err == nil && ctx.Err() == nil {
				if err = write(ctx, buf); err != nil {
					cancel(err)
				}
			}
			free <- buf[:0]
		}
		done <- err
	}()
	n := 0
	buf := <-free
	for v := range seq {
		buf = append(buf, v)
		if len(buf) < size {
			continue
		}
		n += len(buf)
		full <- buf
		buf = <-free
		if ctx.Err() != nil {
			break
		}
	}
	if len(buf) > 0 && ctx.Err() == nil {
		n += len(buf)
		full <- buf
	}
	close(full)
	if err := <-done; err != nil {
		return n, err
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return n, err
	}
	return n, ctx.Err()
}

// timedMeasures is a collectors.MeasureStore that times each measure.
type timedMeasures struct {
	collectors.MeasureStore
	mu    sync.Mutex
	times map[string]time.Duration // by measure name
	order []string
}

func (t *timedMeasures) ComputeMeasure(ctx context.Context, tenant string, m clickhouse.MeasureRequest) ([]strategy.Observation, error) {
	start := time.Now()
	obs, err := t.MeasureStore.ComputeMeasure(ctx, tenant, m)
	d := time.Since(start)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.times == nil {
		t.times = map[string]time.Duration{}
	}
	if _, ok := t.times[m.Name]; !ok {
		t.order = append(t.order, m.Name)
	}
	t.times[m.Name] += d
	return obs, err
}

// String lists the time per measure, in the order they were computed.
func (t *timedMeasures) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var parts []string
	for _, name := range t.order {
		parts = append(parts, fmt.Sprintf("%s %s", name, t.times[name].Round(time.Millisecond)))
	}
	return strings.Join(parts, ", ")
}
