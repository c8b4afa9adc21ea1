package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/collectors/swecsv"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/strictyaml"
	"github.com/malbild/malbild/strategy"
)

// Outcomes of a run, as recorded in collector_runs.
const (
	OutcomeOK      = clickhouse.OutcomeOK      // every batch reached ClickHouse
	OutcomeSpooled = clickhouse.OutcomeSpooled // the run succeeded, some batches wait in the spool
	OutcomeFailed  = clickhouse.OutcomeFailed  // the run failed after its retries
)

// RetryPolicy says how often and how patiently a failing run is retried:
// up to Attempts attempts, waiting Base·2^(n−1) capped at Max between
// them, each wait drawn uniformly from its upper half (jitter), so that
// collectors failing together do not retry together.
type RetryPolicy struct {
	Attempts int           // default 3
	Base     time.Duration // default 1s
	Max      time.Duration // default 30s
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 3
	}
	if p.Base <= 0 {
		p.Base = time.Second
	}
	if p.Max <= 0 {
		p.Max = 30 * time.Second
	}
	return p
}

// Delay is the wait after failed attempt n (1-based); u in [0,1) is the
// random draw.
func (p RetryPolicy) Delay(n int, u float64) time.Duration {
	p = p.withDefaults()
	d := float64(p.Base) * math.Pow(2, float64(n-1))
	if d > float64(p.Max) {
		d = float64(p.Max)
	}
	return time.Duration(d/2 + d/2*u)
}

// Permanent marks err as one that retrying cannot fix (bad input), so
// the runner does not retry it. Errors that carry a file:line position
// (strictyaml and swecsv errors) count as permanent without the mark.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Permanent() bool { return true }

// IsPermanent reports whether err should not be retried.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	if errors.As(err, &p) && p.Permanent() {
		return true
	}
	var (
		se  *strictyaml.Error
		ses strictyaml.Errors
		ce  *swecsv.Error
		ces *swecsv.Errors
	)
	return errors.As(err, &se) || errors.As(err, &ses) || errors.As(err, &ce) || errors.As(err, &ces)
}

// RunRecorder records finished runs (collector_runs). *StoreSink
// implements it, spooling the record while ClickHouse is down.
type RunRecorder interface {
	RecordRun(ctx context.Context, r clickhouse.Run) error
}

// Drainer is a sink with a spool to drain; *StoreSink implements it.
type Drainer interface {
	Drain(ctx context.Context) (DrainResult, error)
}

// deliverer is a sink that says whether a batch was spooled and, when
// it knows, which days its rows touched.
type deliverer interface {
	deliver(ctx context.Context, b *facts.Batch) (spooled bool, touched clickhouse.Touched, err error)
}

// RunnerConfig is what a Runner is built from. Only Instances and Sink
// are required.
type RunnerConfig struct {
	Instances []Instance
	// Sink receives every batch: a *StoreSink, or a *DryRun.
	Sink Sink
	// Runs records each run; nil records nothing (dry run).
	Runs RunRecorder
	// Strategies are the tenants' strategies, matched to instances by
	// Municipality.Code = Instance.Tenant. They give collectors the known
	// indicator ids and units, and say which measures to recompute.
	Strategies []*strategy.Strategy
	// Measures computes and stores built-in measures after runs that
	// wrote rows; nil computes nothing.
	Measures MeasureStore
	// Registerer gets the collector metrics (see Metrics); nil: none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Retry      RetryPolicy
	// Board, when set, follows the runs for a progress display.
	Board *Board
	// From and To are passed to every collector in RunOnce (backfill).
	From, To time.Time
	// Grace is how long a collector may take to return after its
	// context ended before the runner abandons it (default 5s).
	Grace time.Duration
	// DrainEvery is how often Serve retries the spool (default 1m).
	DrainEvery time.Duration
	// Recompute makes every recompute of measures cover the whole
	// history (collect --recompute), instead of only what new rows
	// touched.
	Recompute bool
	// MaxJitter caps the random delay added to each scheduled run
	// (default 30s; the delay is at most a tenth of the schedule).
	MaxJitter time.Duration

	// Build makes a collector from an instance (default New).
	Build func(Instance) (Collector, error)
	// Now, Sleep and Rand replace the clock, waiting and randomness in
	// tests. Sleep returns ctx.Err() if ctx ends first.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Rand  func() float64
}

// Runner runs configured collectors once (collect) or on their schedules
// (serve), isolating them from each other: each runs in its own goroutine
// under its own timeout, with retries, and a failing or hanging collector
// never stops or delays another.
type Runner struct {
	cfg     RunnerConfig
	log     *slog.Logger
	metrics *Metrics
	recomp  *recomputer

	// byTenant maps kommunkod to strategy; ApplyConfig swaps it.
	byTenant atomic.Pointer[map[string]*strategy.Strategy]

	applyMu sync.Mutex // serialises ApplyConfig
	mu      sync.Mutex
	units   []runUnit   // the collectors in force, in config order
	serving *serveState // the loops of Serve while it runs, else nil
}

type runUnit struct {
	inst Instance
	coll Collector
}

// Result is the summary of one collector run.
type Result struct {
	Collector string
	Kind      string
	Tenant    string
	Started   time.Time
	Finished  time.Time
	Duration  time.Duration
	Attempts  int
	// Rows, Files and Batches count the last attempt: rows handed to the
	// sink, files the collector reported, batches written or spooled.
	Rows     int
	Files    int
	Batches  int
	Spooled  int // batches of the last attempt that went to the spool
	Outcome  string
	Err      error
	wroteFor clickhouse.Touched // what the written rows touched, for recomputing
}

// Results are the runs of one RunOnce.
type Results []Result

// Err joins the errors of the failed runs, or is nil when none failed.
func (rs Results) Err() error {
	var errs []error
	for _, r := range rs {
		if r.Outcome == OutcomeFailed {
			errs = append(errs, fmt.Errorf("collector %s: %w", r.Collector, r.Err))
		}
	}
	return errors.Join(errs...)
}

// NewRunner builds every instance's collector and registers the metrics.
// All build problems are reported together.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if cfg.Sink == nil {
		return nil, errors.New("collectors: runner needs a sink")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Build == nil {
		cfg.Build = New
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 5 * time.Second
	}
	if cfg.DrainEvery <= 0 {
		cfg.DrainEvery = time.Minute
	}
	if cfg.MaxJitter <= 0 {
		cfg.MaxJitter = 30 * time.Second
	}
	cfg.Retry = cfg.Retry.withDefaults()
	if cfg.Board == nil {
		cfg.Board = NewBoard(cfg.Now)
	}
	r := &Runner{cfg: cfg, log: cfg.Logger}
	r.byTenant.Store(tenantsOf(cfg.Strategies))
	units, err := r.build(cfg.Instances, cfg.Strategies, nil)
	if err != nil {
		return nil, err
	}
	r.units = units
	m, err := NewMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	r.metrics = m
	if ss, ok := cfg.Sink.(*StoreSink); ok {
		ss.metrics = m
		ss.updateGauge()
	}
	for _, u := range r.units {
		m.init(u.inst.Name)
	}
	r.recomp = &recomputer{r: r, state: map[string]*recompState{}}
	return r, nil
}

// Names lists the configured collectors in config order.
func (r *Runner) Names() []string {
	units := r.current()
	out := make([]string, len(units))
	for i, u := range units {
		out[i] = u.inst.Name
	}
	return out
}

// Board is the progress board the runner reports to.
func (r *Runner) Board() *Board { return r.cfg.Board }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// selected returns the units named in only (all when only is empty).
func (r *Runner) selected(only []string) ([]runUnit, error) {
	units := r.current()
	if len(only) == 0 {
		return units, nil
	}
	want := map[string]bool{}
	for _, n := range only {
		want[n] = true
	}
	var out []runUnit
	for _, u := range units {
		if want[u.inst.Name] {
			out = append(out, u)
			delete(want, u.inst.Name)
		}
	}
	if len(want) > 0 {
		var unknown []string
		for n := range want {
			unknown = append(unknown, n)
		}
		slices.Sort(unknown)
		return nil, fmt.Errorf("unknown collector %s (configured: %s)", strings.Join(unknown, ", "), strings.Join(r.Names(), ", "))
	}
	return out, nil
}

// RunOnce drains the spool, runs the collectors named in only (all when
// empty) concurrently, each bounded by its Timeout, and then recomputes
// the measures of the tenants that got new rows. It returns one Result per
// collector in config order; failed runs are in the results (see
// Results.Err), the error is for an unknown name or a failed recompute.
func (r *Runner) RunOnce(ctx context.Context, only []string) (Results, error) {
	units, err := r.selected(only)
	if err != nil {
		return nil, err
	}
	drained := r.drain(ctx)
	r.cfg.Board.Expect(len(units))
	results := make(Results, len(units))
	var wg sync.WaitGroup
	for i, u := range units {
		wg.Go(func() { results[i] = r.run(ctx, u, r.cfg.From, r.cfg.To) })
	}
	wg.Wait()
	// Per tenant, what the written and drained rows touched; nil means
	// everything (a drained batch on unknown days). Every tenant with a strategy
	// is looked at: an indicator whose parameters changed is recomputed
	// in full even when nothing was written.
	touched := map[string]clickhouse.Touched{}
	for tenant := range r.tenants() {
		touched[tenant] = clickhouse.Touched{}
		if t, ok := drained.Touched[tenant]; ok {
			touched[tenant] = t.Clone() // nil: everything
		}
	}
	for _, res := range results {
		if fs := touched[res.Tenant]; fs != nil {
			fs.Merge(res.wroteFor)
		}
	}
	var errs []error
	for tenant, fs := range touched {
		if err := r.recomputeTenant(ctx, tenant, fs); err != nil {
			errs = append(errs, err)
		}
	}
	return results, errors.Join(errs...)
}

// Serve runs every collector on its own schedule until ctx ends: the first
// run after a random delay (so collectors do not all start together),
// then every Schedule plus a small random jitter. It drains the spool at
// start and every DrainEvery, and recomputes a tenant's measures after a
// run that wrote rows. While it runs, ApplyConfig starts and stops the
// collectors that changed. It returns when ctx ends and every run and
// recompute in progress has returned.
func (r *Runner) Serve(ctx context.Context) error {
	st := &serveState{ctx: ctx, loops: map[string]*loopHandle{}}
	r.mu.Lock()
	if r.serving != nil {
		r.mu.Unlock()
		return errors.New("collectors: the runner is already serving")
	}
	r.serving = st
	units := r.units
	r.mu.Unlock()
	if len(units) == 0 {
		r.log.Warn("no collectors configured")
	}
	r.drainAndRecompute(ctx)
	// Indicators whose parameters changed are recomputed in full at once.
	for tenant := range r.tenants() {
		r.recomp.request(ctx, tenant, clickhouse.Touched{})
	}
	r.mu.Lock()
	for _, u := range r.units { // ApplyConfig may have run meanwhile
		if st.loops[u.inst.Name] == nil {
			r.startLoop(st, u, nil)
		}
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() {
		for r.cfg.Sleep(ctx, r.cfg.DrainEvery) == nil {
			r.drainAndRecompute(ctx)
		}
	})
	<-ctx.Done()
	r.mu.Lock()
	r.serving = nil
	r.mu.Unlock()
	st.wg.Wait()
	wg.Wait()
	r.recomp.wait()
	return nil
}

func (r *Runner) loop(ctx context.Context, u runUnit) {
	schedule := u.inst.Schedule
	if schedule <= 0 {
		schedule = time.Hour
	}
	if r.cfg.Sleep(ctx, r.jitter(schedule)) != nil {
		return
	}
	for {
		r.drainAndRecompute(ctx)
		res := r.run(ctx, u, time.Time{}, time.Time{})
		if len(res.wroteFor) > 0 {
			r.recomp.request(ctx, res.Tenant, res.wroteFor)
		}
		if r.cfg.Sleep(ctx, schedule+r.jitter(schedule)) != nil {
			return
		}
	}
}

// jitter is a random delay of at most a tenth of the schedule and at most
// MaxJitter.
func (r *Runner) jitter(schedule time.Duration) time.Duration {
	limit := min(schedule/10, r.cfg.MaxJitter)
	return time.Duration(float64(limit) * r.cfg.Rand())
}

// drainAndRecompute drains the spool and recomputes, in the background,
// what the batches it sent touched.
func (r *Runner) drainAndRecompute(ctx context.Context) {
	res := r.drain(ctx)
	for tenant, t := range res.Touched {
		r.recomp.request(ctx, tenant, t)
	}
}

// drain sends what waits in the sink's spool, if it has one.
func (r *Runner) drain(ctx context.Context) DrainResult {
	d, ok := r.cfg.Sink.(Drainer)
	if !ok {
		return DrainResult{}
	}
	res, err := d.Drain(ctx)
	if err != nil {
		r.log.Warn("spool not fully drained", "sent", res.Sent, "rejected", res.Rejected, "left", res.Left, "error", err)
	}
	return res
}

// run runs one collector with retries and records the run.
func (r *Runner) run(ctx context.Context, u runUnit, from, to time.Time) Result {
	inst := u.inst
	tracker := r.cfg.Board.Track(inst.Name)
	defer tracker.finish()
	res := Result{Collector: inst.Name, Kind: inst.Kind, Tenant: inst.Tenant, Started: r.cfg.Now()}
	log := r.log.With("collector", inst.Name, "kind", inst.Kind)
	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if inst.Timeout > 0 {
		runCtx, cancel = context.WithTimeout(ctx, inst.Timeout)
	}
	defer cancel()
	req := Request{Tenant: inst.Tenant, From: from, To: to}
	if s := r.tenants()[inst.Tenant]; s != nil {
		req.Indicators, req.Units = indicatorsOf(s)
	}
	var err error
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		as := &attemptSink{r: r, inst: inst, tracker: tracker, next: r.cfg.Sink, wrote: clickhouse.Touched{}}
		req.Progress = as
		err = r.attempt(runCtx, u.coll, req, as)
		as.close()
		res.Rows, res.Files, res.Batches, res.Spooled = int(as.rows.Load()), int(as.files.Load()), int(as.batches.Load()), int(as.spooled.Load())
		// Every attempt's writes count: a retry need not write them again.
		if t := as.touched(); t != nil {
			if res.wroteFor == nil {
				res.wroteFor = clickhouse.Touched{}
			}
			res.wroteFor.Merge(t)
		}
		if err == nil {
			break
		}
		r.metrics.attemptFailed(inst.Name)
		if runCtx.Err() != nil && ctx.Err() == nil && errors.Is(runCtx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s: %w", inst.Timeout, err)
		}
		if IsPermanent(err) || runCtx.Err() != nil || attempt >= r.cfg.Retry.Attempts {
			break
		}
		wait := r.cfg.Retry.Delay(attempt, r.cfg.Rand())
		log.Warn("collector attempt failed, retrying", "attempt", attempt, "retry_in", wait.String(), "error", err)
		if serr := r.cfg.Sleep(runCtx, wait); serr != nil {
			break
		}
	}
	res.Finished = r.cfg.Now()
	res.Duration = res.Finished.Sub(res.Started)
	switch {
	case err != nil:
		res.Outcome, res.Err = OutcomeFailed, err
	case res.Spooled > 0:
		res.Outcome = OutcomeSpooled
	default:
		res.Outcome = OutcomeOK
	}
	r.metrics.runDone(inst.Name, res.Duration, res.Finished, res.Outcome != OutcomeFailed)
	r.record(ctx, res)
	attrs := []any{"outcome", res.Outcome, "rows", res.Rows, "files", res.Files, "batches", res.Batches,
		"attempts", res.Attempts, "duration", res.Duration.Round(time.Millisecond).String()}
	switch res.Outcome {
	case OutcomeFailed:
		log.Error("collector run failed", append(attrs, "error", err)...)
	case OutcomeSpooled:
		log.Warn("collector run spooled (ClickHouse unavailable)", append(attrs, "spooled", res.Spooled)...)
	default:
		log.Info("collector run done", attrs...)
	}
	return res
}

// attempt runs Collect once. If the collector ignores the end of its
// context, it is abandoned after Grace: its sink refuses further writes
// and the attempt fails, so the runner (and every other collector) goes on.
func (r *Runner) attempt(ctx context.Context, c Collector, req Request, as *attemptSink) (err error) {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("collector panicked: %v", p)
			}
		}()
		done <- c.Collect(ctx, req, as)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	grace := time.NewTimer(r.cfg.Grace)
	defer grace.Stop()
	select {
	case err := <-done:
		if err == nil {
			// Returning nil after its context ended means it may have
			// stopped early: not a complete run.
			err = ctx.Err()
		}
		return err
	case <-grace.C:
		as.close()
		return fmt.Errorf("collector did not stop within %s after its context ended (abandoned): %w", r.cfg.Grace, ctx.Err())
	}
}

// record writes the run to collector_runs.
func (r *Runner) record(ctx context.Context, res Result) {
	if r.cfg.Runs == nil {
		return
	}
	run := clickhouse.Run{
		Tenant:    res.Tenant,
		Collector: res.Collector,
		Kind:      res.Kind,
		Started:   res.Started,
		Finished:  res.Finished,
		Rows:      uint64(res.Rows),
		Outcome:   res.Outcome,
	}
	if res.Err != nil {
		run.Error = res.Err.Error()
	}
	// Record even when ctx ended (serve shutting down), briefly.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.cfg.Runs.RecordRun(rctx, run); err != nil {
		r.log.Error("recording collector run", "collector", res.Collector, "error", err)
	}
}

// indicatorsOf returns the series a collector may write for the strategy,
// with their units: its indicators, and the self-assessment series of its
// maturity dimensions (scores 0–100).
func indicatorsOf(s *strategy.Strategy) (map[string]bool, map[string]strategy.Unit) {
	ids, units := map[string]bool{}, map[string]strategy.Unit{}
	if s.Maturity != nil {
		for _, d := range s.Maturity.Dimensions {
			if d.Survey != "" {
				ids[d.Survey], units[d.Survey] = true, strategy.UnitPercent
			}
		}
	}
	for _, a := range s.Areas {
		for _, g := range a.Goals {
			for _, ind := range g.Indicators {
				ids[ind.ID] = true
				if ind.Unit != "" {
					units[ind.ID] = ind.Unit
				}
			}
		}
	}
	return ids, units
}

// attemptSink sits between a collector and the runner's sink for one
// attempt: it fills in the batch's tenant, collector and version when the
// collector left them empty, refuses batches for another tenant, counts
// rows, files and batches, and reports them to the progress board.
type attemptSink struct {
	r       *Runner
	inst    Instance
	tracker *Tracker
	next    Sink

	closed                        atomic.Bool
	rows, files, batches, spooled atomic.Int64
	mu                            sync.Mutex
	wrote                         clickhouse.Touched
}

func (a *attemptSink) close() { a.closed.Store(true) }

func (a *attemptSink) File(name string) {
	a.files.Add(1)
	a.tracker.File(name)
}

func (a *attemptSink) Rows(n int) { a.tracker.Rows(n) }

func (a *attemptSink) Write(ctx context.Context, b *facts.Batch) error {
	if a.closed.Load() {
		return errors.New("run is over: batch refused")
	}
	if b == nil {
		return errors.New("nil batch")
	}
	if b.Tenant == "" {
		b.Tenant = a.inst.Tenant
	}
	if a.inst.Tenant != "" && b.Tenant != a.inst.Tenant {
		return Permanent(fmt.Errorf("batch %s is for tenant %q, collector %s is configured for %q", b.Source, b.Tenant, a.inst.Name, a.inst.Tenant))
	}
	if b.Collector == "" {
		b.Collector = a.inst.Name
	}
	if b.Version == 0 {
		b.Version = uint64(a.r.cfg.Now().UnixNano())
	}
	for i := range b.Observations {
		o := &b.Observations[i]
		if o.Tenant == "" {
			o.Tenant = b.Tenant
		}
		if o.Version == 0 {
			o.Version = b.Version
		}
	}
	n := b.Rows()
	if n == 0 {
		return nil
	}
	var spooled bool
	var touched clickhouse.Touched
	var err error
	if d, ok := a.next.(deliverer); ok {
		spooled, touched, err = d.deliver(ctx, b)
		if err != nil && ctx.Err() == nil && !clickhouse.IsUnavailable(err) {
			// ClickHouse refused the batch itself: sending it again
			// cannot help.
			err = Permanent(err)
		}
	} else {
		err = a.next.Write(ctx, b)
	}
	if err != nil {
		return err
	}
	a.rows.Add(int64(n))
	a.batches.Add(1)
	if spooled {
		a.spooled.Add(1)
	}
	a.tracker.wrote(n)
	a.r.metrics.addRows(a.inst.Name, n)
	if !spooled {
		a.mu.Lock()
		if touched == nil {
			// Days unknown: the measures reading these facts are
			// recomputed in full.
			touched = clickhouse.Touched{}
			for _, f := range b.Kinds() {
				touched[f] = &clickhouse.Days{All: true}
			}
		}
		a.wrote.Merge(touched)
		a.mu.Unlock()
	}
	return nil
}

func (a *attemptSink) touched() clickhouse.Touched {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.wrote) == 0 {
		return nil
	}
	return a.wrote.Clone()
}
