package collectors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/collectors/swecsv"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// collectFunc is a Collector made of a function.
type collectFunc func(ctx context.Context, req Request, out Sink) error

func (f collectFunc) Collect(ctx context.Context, req Request, out Sink) error {
	return f(ctx, req, out)
}

// memSink keeps the batches written to it.
type memSink struct {
	mu      sync.Mutex
	batches []*facts.Batch
}

func (m *memSink) Write(_ context.Context, b *facts.Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches = append(m.batches, b)
	return nil
}

func (m *memSink) rows(collector string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, b := range m.batches {
		if b.Collector == collector {
			n += b.Rows()
		}
	}
	return n
}

// memRuns keeps the recorded runs.
type memRuns struct {
	mu   sync.Mutex
	runs []clickhouse.Run
}

func (m *memRuns) RecordRun(_ context.Context, r clickhouse.Run) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs = append(m.runs, r)
	return nil
}

func (m *memRuns) byCollector() map[string][]clickhouse.Run {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]clickhouse.Run{}
	for _, r := range m.runs {
		out[r.Collector] = append(out[r.Collector], r)
	}
	return out
}

// sleeps records the waits asked for and returns at once.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

// caseBatch is a batch of n cases with ids prefix-0, prefix-1, ….
func caseBatch(prefix string, n int) *facts.Batch {
	b := &facts.Batch{Source: prefix + ".csv"}
	for i := range n {
		b.Cases = append(b.Cases, facts.Case{ID: fmt.Sprintf("%s-%d", prefix, i), Type: "Bygglov", Department: "Bygg",
			Channel: "E-tjänst", Digital: true, Application: true, Received: time.Date(2024, 3, 5, 14, 2, 0, 0, strategy.Stockholm)})
	}
	return b
}

type testRunner struct {
	*Runner
	sink   *memSink
	runs   *memRuns
	reg    *prometheus.Registry
	sleeps *sleeps
}

// newTestRunner builds a runner over the given collectors (instance name
// = kind = map key), each with tenant 0120 and the given timeout.
func newTestRunner(t *testing.T, colls map[string]Collector, timeout time.Duration, mod func(*RunnerConfig)) *testRunner {
	t.Helper()
	tr := &testRunner{sink: &memSink{}, runs: &memRuns{}, reg: prometheus.NewRegistry(), sleeps: &sleeps{}}
	var insts []Instance
	for name := range colls {
		insts = append(insts, Instance{Name: name, Kind: name, Tenant: "0120", Timeout: timeout, Schedule: time.Hour})
	}
	cfg := RunnerConfig{
		Instances:  insts,
		Sink:       tr.sink,
		Runs:       tr.runs,
		Registerer: tr.reg,
		Grace:      200 * time.Millisecond,
		Sleep:      tr.sleeps.Sleep,
		Rand:       func() float64 { return 0.5 },
		Build: func(inst Instance) (Collector, error) {
			c, ok := colls[inst.Kind]
			if !ok {
				return nil, fmt.Errorf("unknown collector kind %q", inst.Kind)
			}
			return c, nil
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	r, err := NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.Runner = r
	return tr
}

func resultsBy(rs Results) map[string]Result {
	m := map[string]Result{}
	for _, r := range rs {
		m[r.Collector] = r
	}
	return m
}

// A failing, a hanging and a stuck collector (one that ignores its
// context altogether) neither stop nor delay a good one. The runner's
// timers run on synctest's fake clock.
func TestRunnerIsolation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		lateWrite := make(chan error, 1)
		t.Cleanup(func() { close(release) })
		colls := map[string]Collector{
			"good": collectFunc(func(ctx context.Context, req Request, out Sink) error {
				for i, n := range []int{3, 2} {
					req.Progress.File(fmt.Sprintf("f%d.csv", i))
					req.Progress.Rows(n)
					if err := out.Write(ctx, caseBatch(fmt.Sprintf("good%d", i), n)); err != nil {
						return err
					}
				}
				return nil
			}),
			"failing": collectFunc(func(context.Context, Request, Sink) error { return errors.New("source down") }),
			"hanging": collectFunc(func(ctx context.Context, _ Request, _ Sink) error {
				<-ctx.Done()
				return ctx.Err()
			}),
			"stuck": collectFunc(func(ctx context.Context, _ Request, out Sink) error {
				<-release // ignores ctx
				lateWrite <- out.Write(context.Background(), caseBatch("late", 1))
				return nil
			}),
		}
		tr := newTestRunner(t, colls, 300*time.Millisecond, nil)
		start := time.Now()
		results, err := tr.RunOnce(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		// On synctest's clock: the timeout (300 ms) and the grace (200 ms)
		// are all the time it takes.
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("RunOnce took %s: a bad collector held it up", d)
		}
		got := resultsBy(results)
		if r := got["good"]; r.Outcome != OutcomeOK || r.Rows != 5 || r.Files != 2 || r.Batches != 2 || r.Attempts != 1 || r.Err != nil {
			t.Errorf("good: %+v", r)
		}
		if got["good"].Finished.After(got["hanging"].Finished) {
			t.Errorf("good finished after the hanging collector: it was delayed")
		}
		if r := got["failing"]; r.Outcome != OutcomeFailed || r.Attempts != 3 || !strings.Contains(fmt.Sprint(r.Err), "source down") {
			t.Errorf("failing: %+v", r)
		}
		if r := got["hanging"]; r.Outcome != OutcomeFailed || r.Attempts != 1 || !strings.Contains(fmt.Sprint(r.Err), "timed out after 300ms") {
			t.Errorf("hanging: %+v", r)
		}
		if r := got["stuck"]; r.Outcome != OutcomeFailed || !strings.Contains(fmt.Sprint(r.Err), "abandoned") {
			t.Errorf("stuck: %+v", r)
		}
		if err := results.Err(); err == nil || !strings.Contains(err.Error(), "collector failing: source down") {
			t.Errorf("Results.Err() = %v", err)
		}
		if n := tr.sink.rows("good"); n != 5 {
			t.Errorf("sink got %d rows from good, want 5", n)
		}
		// The abandoned collector cannot write any more.
		release <- struct{}{}
		if err := <-lateWrite; err == nil {
			t.Error("an abandoned collector could still write")
		}
		release = make(chan struct{}) // for Cleanup
		runs := tr.runs.byCollector()
		for name, want := range map[string]string{"good": "ok", "failing": "failed", "hanging": "failed", "stuck": "failed"} {
			if len(runs[name]) != 1 || runs[name][0].Outcome != want || runs[name][0].Tenant != "0120" || runs[name][0].Kind != name {
				t.Errorf("recorded runs of %s: %+v", name, runs[name])
			}
		}
		if runs["good"][0].Rows != 5 || runs["failing"][0].Error == "" || runs["good"][0].Finished.Before(runs["good"][0].Started) {
			t.Errorf("recorded runs: %+v", runs)
		}
	})
}

func TestRunnerRetries(t *testing.T) {
	var calls atomic.Int32
	colls := map[string]Collector{
		"flaky": collectFunc(func(ctx context.Context, _ Request, out Sink) error {
			if calls.Add(1) < 3 {
				return errors.New("upstream 503")
			}
			return out.Write(ctx, caseBatch("flaky", 4))
		}),
	}
	tr := newTestRunner(t, colls, time.Minute, nil)
	results, err := tr.RunOnce(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := results[0]
	if r.Outcome != OutcomeOK || r.Attempts != 3 || r.Rows != 4 {
		t.Fatalf("flaky: %+v", r)
	}
	// Waits Base·2^(n−1) drawn from the upper half: u = 0.5 → 0.75 s, 1.5 s.
	if fmt.Sprint(tr.sleeps.d) != "[750ms 1.5s]" {
		t.Fatalf("backoff waits %v, want [750ms 1.5s]", tr.sleeps.d)
	}
	if v := testutil.ToFloat64(tr.metrics.errors.WithLabelValues("flaky")); v != 2 {
		t.Fatalf("errors_total = %g, want 2 failed attempts", v)
	}
}

func TestRetryPolicyDelay(t *testing.T) {
	p := RetryPolicy{Attempts: 5, Base: time.Second, Max: 30 * time.Second}
	for _, c := range []struct {
		n    int
		u    float64
		want time.Duration
	}{
		{1, 0, 500 * time.Millisecond},
		{1, 0.5, 750 * time.Millisecond},
		{3, 0, 2 * time.Second},
		{5, 1, 16 * time.Second},
		{6, 1, 30 * time.Second}, // 32 s capped
		{20, 0, 15 * time.Second},
	} {
		if got := p.Delay(c.n, c.u).Round(time.Microsecond); got != c.want {
			t.Errorf("Delay(%d, %g) = %s, want %s", c.n, c.u, got, c.want)
		}
	}
	if d := (RetryPolicy{}).Delay(1, 1); d != time.Second {
		t.Errorf("default policy: Delay(1, 1) = %s, want 1s", d)
	}
}

func TestRunnerPermanentErrorsNotRetried(t *testing.T) {
	colls := map[string]Collector{
		"badfile": collectFunc(func(context.Context, Request, Sink) error {
			return fmt.Errorf("reading: %w", &swecsv.Error{File: "a.csv", Line: 3, Column: 2, Msg: "looks like a personnummer"})
		}),
		"marked": collectFunc(func(context.Context, Request, Sink) error {
			return Permanent(errors.New("no such indicator"))
		}),
	}
	tr := newTestRunner(t, colls, time.Minute, nil)
	results, _ := tr.RunOnce(context.Background(), nil)
	for _, r := range results {
		if r.Outcome != OutcomeFailed || r.Attempts != 1 {
			t.Errorf("%s: %+v, want one failed attempt", r.Collector, r)
		}
	}
	if !strings.Contains(resultsBy(results)["badfile"].Err.Error(), "a.csv:3:2: looks like a personnummer") {
		t.Errorf("badfile error %v", resultsBy(results)["badfile"].Err)
	}
	if len(tr.sleeps.d) != 0 {
		t.Errorf("waited %v before retrying a permanent error", tr.sleeps.d)
	}
}

func TestRunnerRequest(t *testing.T) {
	var got Request
	colls := map[string]Collector{
		"series": collectFunc(func(_ context.Context, req Request, _ Sink) error {
			got = req
			return nil
		}),
	}
	s := &strategy.Strategy{Municipality: strategy.Municipality{Code: "0120"}, Areas: []*strategy.GoalArea{{ID: "a",
		Goals: []*strategy.Goal{{ID: "g", Indicators: []*strategy.Indicator{{ID: "andel-digitala", Unit: strategy.UnitPercent}}}}}}}
	from, to := time.Date(2023, 1, 1, 0, 0, 0, 0, strategy.Stockholm), time.Date(2024, 1, 1, 0, 0, 0, 0, strategy.Stockholm)
	tr := newTestRunner(t, colls, time.Minute, func(c *RunnerConfig) {
		c.Instances[0].Tenant = "" // taken from the only strategy
		c.Strategies = []*strategy.Strategy{s}
		c.From, c.To = from, to
	})
	if _, err := tr.RunOnce(context.Background(), []string{"series"}); err != nil {
		t.Fatal(err)
	}
	if got.Tenant != "0120" || !got.From.Equal(from) || !got.To.Equal(to) || got.Progress == nil {
		t.Fatalf("request %+v", got)
	}
	if !got.Indicators["andel-digitala"] || got.Units["andel-digitala"] != strategy.UnitPercent || len(got.Indicators) != 1 {
		t.Fatalf("indicators %v units %v", got.Indicators, got.Units)
	}
	if _, err := tr.RunOnce(context.Background(), []string{"series", "nope"}); err == nil || !strings.Contains(err.Error(), "unknown collector nope (configured: series)") {
		t.Fatalf("unknown name: %v", err)
	}
}

func TestRunnerFillsAndGuardsBatches(t *testing.T) {
	colls := map[string]Collector{
		"fills": collectFunc(func(ctx context.Context, _ Request, out Sink) error {
			b := caseBatch("x", 1)
			b.Observations = []strategy.Observation{{Indicator: "i", Period: strategy.Period{Kind: strategy.Year, Year: 2024}, Value: 1}}
			return out.Write(ctx, b)
		}),
		"other": collectFunc(func(ctx context.Context, _ Request, out Sink) error {
			b := caseBatch("y", 1)
			b.Tenant = "0180"
			return out.Write(ctx, b)
		}),
	}
	tr := newTestRunner(t, colls, time.Minute, func(c *RunnerConfig) {
		c.Now = func() time.Time { return time.Unix(1700000000, 42) }
	})
	results, _ := tr.RunOnce(context.Background(), nil)
	got := resultsBy(results)
	if len(tr.sink.batches) != 1 {
		t.Fatalf("sink has %d batches, want only the fills one", len(tr.sink.batches))
	}
	b := tr.sink.batches[0]
	if b.Tenant != "0120" || b.Collector != "fills" || b.Version != 1700000000000000042 ||
		b.Observations[0].Tenant != "0120" || b.Observations[0].Version != b.Version {
		t.Fatalf("batch not filled in: %+v", b)
	}
	if r := got["other"]; r.Outcome != OutcomeFailed || r.Attempts != 1 || !strings.Contains(r.Err.Error(), `for tenant "0180"`) {
		t.Fatalf("other tenant's batch: %+v", r)
	}
}

func TestRunnerMetrics(t *testing.T) {
	colls := map[string]Collector{
		"good": collectFunc(func(ctx context.Context, _ Request, out Sink) error { return out.Write(ctx, caseBatch("g", 3)) }),
		"bad":  collectFunc(func(context.Context, Request, Sink) error { return errors.New("nope") }),
	}
	now := time.Unix(1700000000, 0)
	tr := newTestRunner(t, colls, time.Minute, func(c *RunnerConfig) { c.Now = func() time.Time { return now } })
	if _, err := tr.RunOnce(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP malbild_collector_errors_total Failed collector attempts.
# TYPE malbild_collector_errors_total counter
malbild_collector_errors_total{collector="bad"} 3
malbild_collector_errors_total{collector="good"} 0
# HELP malbild_collector_last_success_timestamp_seconds Unix time at which the collector's last successful run ended.
# TYPE malbild_collector_last_success_timestamp_seconds gauge
malbild_collector_last_success_timestamp_seconds{collector="good"} 1.7e+09
# HELP malbild_collector_rows_total Rows collected and handed to ClickHouse or the spool.
# TYPE malbild_collector_rows_total counter
malbild_collector_rows_total{collector="bad"} 0
malbild_collector_rows_total{collector="good"} 3
`
	if err := testutil.GatherAndCompare(tr.reg, strings.NewReader(want),
		"malbild_collector_errors_total", "malbild_collector_last_success_timestamp_seconds", "malbild_collector_rows_total"); err != nil {
		t.Fatal(err)
	}
	// One duration observation per run and collector.
	if n := testutil.CollectAndCount(tr.metrics.duration, "malbild_collector_duration_seconds"); n != 2 {
		t.Fatalf("duration series: %d, want 2", n)
	}
	mfs, err := tr.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "malbild_collector_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetHistogram().GetSampleCount() != 1 || m.GetLabel()[0].GetName() != "collector" {
				t.Fatalf("duration histogram %v", m)
			}
		}
	}
	// A second runner on the same registry is refused, not silently merged.
	if _, err := NewRunner(RunnerConfig{Sink: tr.sink, Registerer: tr.reg}); err == nil {
		t.Fatal("registering the metrics twice succeeded")
	}
}

// Serve runs each collector on its own schedule: a collector that fails
// or hangs does not hold up the others, and Serve returns soon after its
// context ends.
func TestRunnerServe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var good, bad, slow atomic.Int32
		colls := map[string]Collector{
			"good": collectFunc(func(ctx context.Context, _ Request, out Sink) error {
				good.Add(1)
				return out.Write(ctx, caseBatch(fmt.Sprint("g", good.Load()), 1))
			}),
			"bad": collectFunc(func(context.Context, Request, Sink) error {
				bad.Add(1)
				return errors.New("always")
			}),
			"slow": collectFunc(func(ctx context.Context, _ Request, _ Sink) error {
				slow.Add(1)
				<-ctx.Done()
				return ctx.Err()
			}),
		}
		tr := newTestRunner(t, colls, 0, func(c *RunnerConfig) {
			for i := range c.Instances {
				c.Instances[i].Schedule = 20 * time.Millisecond
			}
			c.Sleep = sleepCtx // waits on the bubble's clock
			c.Retry = RetryPolicy{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}
			c.MaxJitter = 5 * time.Millisecond
		})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- tr.Serve(ctx) }()
		// 200 ms on synctest's clock: ten 20 ms schedules (the jitter is fixed).
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		if good.Load() < 5 || bad.Load() < 4 {
			t.Fatalf("after 200 ms: good ran %d times, bad %d", good.Load(), bad.Load())
		}
		if slow.Load() != 1 {
			t.Fatalf("slow (no timeout, never returns) started %d times, want 1", slow.Load())
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		runs := tr.runs.byCollector()
		if len(runs["good"]) < 5 || len(runs["bad"]) < 2 || runs["bad"][0].Outcome != OutcomeFailed || runs["good"][0].Outcome != OutcomeOK {
			t.Fatalf("recorded runs: good %d, bad %d", len(runs["good"]), len(runs["bad"]))
		}
		// The slow one's run ended when Serve stopped, and was recorded.
		if len(runs["slow"]) != 1 || runs["slow"][0].Outcome != OutcomeFailed {
			t.Fatalf("slow runs %+v", runs["slow"])
		}
	})
}

func TestRunnerJitter(t *testing.T) {
	tr := newTestRunner(t, map[string]Collector{}, 0, func(c *RunnerConfig) { c.Rand = func() float64 { return 0.99 } })
	if j := tr.jitter(time.Hour); j != time.Duration(0.99*float64(30*time.Second)) {
		t.Errorf("jitter(1h) = %s, want just under the 30s cap", j)
	}
	if j := tr.jitter(time.Minute); j != time.Duration(0.99*float64(6*time.Second)) {
		t.Errorf("jitter(1m) = %s, want just under a tenth", j)
	}
}

// A batch ClickHouse refuses (not unavailability) fails the run at once.
func TestRunnerRefusedBatchNotRetried(t *testing.T) {
	store := &fakeStore{refuse: "bad.csv"}
	var calls atomic.Int32
	colls := map[string]Collector{
		"c": collectFunc(func(ctx context.Context, _ Request, out Sink) error {
			calls.Add(1)
			return out.Write(ctx, caseBatch("bad", 1))
		}),
	}
	tr := newTestRunner(t, colls, time.Minute, func(c *RunnerConfig) { c.Sink = NewStoreSink(store, nil, nil) })
	results, _ := tr.RunOnce(context.Background(), nil)
	if r := results[0]; r.Outcome != OutcomeFailed || r.Attempts != 1 || calls.Load() != 1 || !strings.Contains(r.Err.Error(), "cannot parse input") {
		t.Fatalf("refused batch: %+v", r)
	}
	// Unavailability without a spool is retried.
	store.refuse, store.down = "", true
	results, _ = tr.RunOnce(context.Background(), nil)
	if r := results[0]; r.Outcome != OutcomeFailed || r.Attempts != 3 {
		t.Fatalf("ClickHouse down, no spool: %+v", r)
	}
}
