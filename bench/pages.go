package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/dashboards"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/numfmt"
	"github.com/malbild/malbild/strategy"
)

// The pages measured, in table order; indicatorPath is filled in with
// the indicator's id.
const (
	publicPath     = "/"
	leadershipPath = "/ledning"
	indicatorPath  = "/indikator/{id}"
)

var measuredPages = []string{publicPath, leadershipPath, indicatorPath}

// Rows of the page section.
type pageRows struct {
	cold, warm map[string]*row // by page
}

// coldTarget is the leadership page's budget for a cold request.
const coldTarget = 300 * time.Millisecond

func (b *bench) declarePages() pageRows {
	r := pageRows{cold: map[string]*row{}, warm: map[string]*row{}}
	data := numfmt.Group(int64(b.cfg.cases)) + " cases, " + numfmt.Group(int64(b.cfg.probes)) + " probe results"
	for _, p := range measuredPages {
		target := ""
		if p == leadershipPath {
			target = "≤ " + ms(coldTarget)
		}
		r.cold[p] = b.report.declare("pages", coldWhat(p, data, b.cfg.cold), target)
		r.warm[p] = b.report.declare("pages", fmt.Sprintf("GET %s warm (median of %d)", p, b.cfg.warm), "")
	}
	return r
}

func coldWhat(path, data string, n int) string {
	s := fmt.Sprintf("GET %s cold: first request to a fresh server (%s", path, data)
	if n > 1 {
		s += fmt.Sprintf("; median of %d", n)
	}
	return s + ")"
}

func (b *bench) declareGrowth() *row {
	large := numfmt.Group(int64(b.cfg.cases))
	small := numfmt.Group(int64(max(1, b.cfg.cases/b.cfg.growth)))
	return b.report.declare("growth", fmt.Sprintf("GET %s cold at %d× the data (%s cases) vs 1× (%s cases)", leadershipPath, b.cfg.growth, large, small),
		"≤ 2×")
}

// pageProbe is what timing one page found.
type pageProbe struct {
	path  string
	cold  time.Duration // median of the cold requests
	warm  time.Duration // median of the warm requests
	bytes int
	// calls are the store calls the cold request made; coldDirect and
	// warmDirect are how long running them directly took, with
	// ClickHouse's caches dropped and warm.
	calls              []storeCall
	coldDirect         time.Duration
	warmDirect         time.Duration
	warmCalls          int // store calls made by the warm requests
	coldRuns, warmRuns []time.Duration
	coldEach, warmEach []time.Duration // time per call of the last direct runs
}

// pages measures cold and warm latency of each page on the large data
// set, next to the page's own store calls run directly.
func (b *bench) pages(ctx context.Context, d *datasets) error {
	if d.large == nil {
		return fmt.Errorf("no data set: %w", d.err)
	}
	id, err := b.pickIndicator(d.strat)
	if err != nil {
		return err
	}
	b.waitMerges(ctx, d.large.store, 2*time.Minute)
	var errs []error
	for _, p := range measuredPages {
		path := p
		if p == indicatorPath {
			path = "/indikator/" + id
			b.pageRows.warm[p].what = fmt.Sprintf("GET %s warm (median of %d)", path, b.cfg.warm)
		}
		b.pageRows.cold[p].what = coldWhat(path, fmt.Sprintf("%s → %s observations", d.large.label, numfmt.Group(int64(d.large.observations))), b.cfg.cold)
		pp, err := b.probePage(ctx, d.strat, d.large, path, b.cfg.cold, b.cfg.warm)
		if err != nil {
			b.report.skip(b.pageRows.cold[p], oneLine(err.Error()))
			b.report.skip(b.pageRows.warm[p], oneLine(err.Error()))
			errs = append(errs, err)
			continue
		}
		b.log.Info("page timed", "path", path, "bytes", pp.bytes, "cold", pp.cold.String(), "cold_direct", pp.coldDirect.String(),
			"warm", pp.warm.String(), "warm_direct", pp.warmDirect.String(), "store_calls", len(pp.calls), "warm_store_calls", pp.warmCalls)
		coldVerdict := ""
		if p == leadershipPath {
			coldVerdict = verdict(pp.cold <= coldTarget)
		}
		b.report.fill(b.pageRows.cold[p], ms(pp.cold),
			fmt.Sprintf("its %d store calls run directly, ClickHouse caches dropped: %s", len(pp.calls), ms(pp.coldDirect)),
			times(ratio(pp.cold, pp.coldDirect)), coldVerdict)
		warmBase := fmt.Sprintf("the same %d store calls, ClickHouse warm: %s", len(pp.calls), ms(pp.warmDirect))
		if pp.warmCalls > 0 {
			warmBase += fmt.Sprintf(" (the warm requests made %d store calls)", pp.warmCalls)
		} else {
			warmBase += " (the warm requests made none)"
		}
		b.report.fill(b.pageRows.warm[p], ms(pp.warm), warmBase, times(ratio(pp.warm, pp.warmDirect)), "")
		if p == leadershipPath {
			b.report.addNote("Cold %s: %s (%d bytes); its store calls run directly, cold: %s; warm: %s.",
				path, durations(pp.coldRuns), pp.bytes, callTimes(pp.calls, pp.coldEach), callTimes(pp.calls, pp.warmEach))
		}
	}
	return errors.Join(errs...)
}

// growthSection compares the cold leadership page on the large data set
// with the same on the small one.
func (b *bench) growthSection(ctx context.Context, d *datasets) error {
	switch {
	case b.cfg.growth == 1:
		return errors.New("-growth 1 compares a data set with itself")
	case d.small == nil && d.smallErr != nil:
		return fmt.Errorf("no small data set: %w", d.smallErr)
	case d.small == nil:
		return fmt.Errorf("no small data set: %w", d.err)
	case d.large == nil:
		return fmt.Errorf("no data set: %w", d.err)
	}
	small, err := b.probePage(ctx, d.strat, d.small, leadershipPath, b.cfg.cold, 1)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", leadershipPath, d.small.label, err)
	}
	large, err := b.probePage(ctx, d.strat, d.large, leadershipPath, b.cfg.cold, 1)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", leadershipPath, d.large.label, err)
	}
	b.log.Info("growth", "small", small.cold.String(), "large", large.cold.String())
	b.report.addNote("Growth: the cold %s's store calls run directly took at 1×: %s; at %d×: %s.", leadershipPath,
		callTimes(small.calls, small.coldEach), b.cfg.growth, callTimes(large.calls, large.coldEach))
	g := ratio(large.cold, small.cold)
	v := verdict(g <= 2)
	if d.small.indicators != d.large.indicators {
		// Recompute failed for some indicators of one data set: its pages
		// show less, and the comparison flatters the larger one.
		v = "not comparable"
		b.report.addNote("Growth is not comparable: collectors.Recompute wrote observations for %d indicators at 1× and %d at %d× (see the set-up).",
			d.small.indicators, d.large.indicators, b.cfg.growth)
	}
	b.report.fill(b.growthRow, ms(large.cold),
		fmt.Sprintf("1× (%s → %s observations): %s; at %d×: %s observations; the store calls run directly took %s at 1×, %s at %d×",
			d.small.label, numfmt.Group(int64(d.small.observations)), ms(small.cold), b.cfg.growth, numfmt.Group(int64(d.large.observations)),
			ms(small.coldDirect), ms(large.coldDirect), b.cfg.growth),
		times(g), v)
	return nil
}

// pickIndicator returns the indicator for /indikator/{id}: the one named
// by -indicator, or the first whose measure reads case records.
func (b *bench) pickIndicator(st *strategy.Strategy) (string, error) {
	if b.cfg.indicator != "" {
		if st.Indicator(b.cfg.indicator) == nil {
			return "", fmt.Errorf("strategy %s has no indicator %q", st.File, b.cfg.indicator)
		}
		return b.cfg.indicator, nil
	}
	for _, ind := range st.Indicators() {
		if m, ok := clickhouse.LookupMeasure(ind.Source.Measure); ok && m.Facts == facts.KindCases {
			return ind.ID, nil
		}
	}
	for _, ind := range st.Indicators() {
		return ind.ID, nil
	}
	return "", fmt.Errorf("strategy %s has no indicators", st.File)
}

// probePage times path: cold requests, each on a fresh dashboards server
// after dropping ClickHouse's caches, then warm requests on the last
// server; and the store calls of the cold request run directly, cold and
// warm.
func (b *bench) probePage(ctx context.Context, st *strategy.Strategy, d *dataset, path string, coldN, warmN int) (*pageProbe, error) {
	pp := &pageProbe{path: path}
	var srv *pageServer
	defer func() {
		if srv != nil {
			srv.Close()
		}
	}()
	for i := range coldN {
		if srv != nil {
			srv.Close()
		}
		if err := d.drop(ctx); err != nil {
			return nil, err
		}
		var err error
		if srv, err = newPageServer(st, d.store); err != nil {
			return nil, err
		}
		dur, n, err := srv.get(ctx, path)
		if err != nil {
			return nil, err
		}
		pp.coldRuns = append(pp.coldRuns, dur)
		pp.bytes = n
		if i == 0 {
			pp.calls = srv.rec.take()
		}
	}
	srv.rec.take()
	for range warmN {
		dur, _, err := srv.get(ctx, path)
		if err != nil {
			return nil, err
		}
		pp.warmRuns = append(pp.warmRuns, dur)
	}
	pp.warmCalls = len(srv.rec.take())
	pp.cold, pp.warm = median(pp.coldRuns), median(pp.warmRuns)

	// The same calls, directly: once after dropping the caches, then warm.
	var coldDirect, warmDirect []time.Duration
	for range coldN {
		if err := d.drop(ctx); err != nil {
			return nil, err
		}
		dur, each, err := replay(ctx, d.store, pp.calls)
		if err != nil {
			return nil, err
		}
		coldDirect, pp.coldEach = append(coldDirect, dur), each
	}
	for range warmN {
		dur, each, err := replay(ctx, d.store, pp.calls)
		if err != nil {
			return nil, err
		}
		warmDirect, pp.warmEach = append(warmDirect, dur), each
	}
	pp.coldDirect, pp.warmDirect = median(coldDirect), median(warmDirect)
	return pp, nil
}

// drop empties the caches d reads through.
func (d *dataset) drop(ctx context.Context) error {
	if d.dropCaches != nil {
		return d.dropCaches(ctx)
	}
	return dropCaches(ctx, d.store)
}

// dropCaches empties ClickHouse's mark and uncompressed-block caches, so
// that the next query reads its data again. (The operating system's page
// cache is shared with the rest of the machine and left alone.)
func dropCaches(ctx context.Context, s *clickhouse.Store) error {
	for _, q := range []string{"SYSTEM DROP MARK CACHE", "SYSTEM DROP UNCOMPRESSED CACHE"} {
		if err := s.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// pageServer is an in-process dashboards server on a loopback port,
// reading through a recording store.
type pageServer struct {
	rec    *recorder
	http   *httptest.Server
	client *http.Client
}

func newPageServer(st *strategy.Strategy, store *clickhouse.Store) (*pageServer, error) {
	rec := &recorder{Store: store}
	h, err := newDashboards(st, rec)
	if err != nil {
		return nil, err
	}
	ts := httptest.NewServer(h)
	return &pageServer{rec: rec, http: ts, client: ts.Client()}, nil
}

// newDashboards builds the dashboards handler for one strategy, with
// internal pages open (the leadership page is internal).
func newDashboards(st *strategy.Strategy, store dashboards.Store) (http.Handler, error) {
	return newDashboardsOf([]*strategy.Strategy{st}, store)
}

// newDashboardsOf is newDashboards for several municipalities' strategies.
func newDashboardsOf(sts []*strategy.Strategy, store dashboards.Store) (http.Handler, error) {
	srv, err := dashboards.New(dashboards.Options{
		Store:        store,
		Strategies:   func() []*strategy.Strategy { return sts },
		Logger:       discard,
		Registerer:   prometheus.NewRegistry(),
		OpenInternal: true,
	})
	if err != nil {
		return nil, err
	}
	return srv.Handler(), nil
}

func (p *pageServer) Close() { p.http.Close() }

// get fetches path and returns how long it took to read the whole answer.
func (p *pageServer) get(ctx context.Context, path string) (time.Duration, int, error) {
	return timedGet(ctx, p.client, p.http.URL+path)
}

// timedGet fetches url and times it to the last byte; anything but 200
// is an error.
func timedGet(ctx context.Context, c *http.Client, url string) (time.Duration, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET %s: %s: %s", url, resp.Status, oneLine(string(body[:min(len(body), 200)])))
	}
	return d, len(body), nil
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
