package collectors

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

// fullBatch has every facts type, with values that are easy to lose: a
// zero and a nil *float64, the largest version, nanoseconds, non-ASCII
// text, quotes and newlines, negative and fractional numbers.
func fullBatch() *facts.Batch {
	zero, v := 0.0, -12.5
	ts := time.Date(2024, 3, 31, 1, 59, 59, 123456789, strategy.Stockholm)
	return &facts.Batch{
		Tenant: "0120", Collector: "alla", Source: "C:\\export\\ärenden \"mars\".csv", Version: math.MaxUint64,
		Cases: []facts.Case{
			{ID: "BN 2024/0153", Type: "Bygglov", Department: "Bygg- och miljöenheten", Channel: "E-tjänst", Digital: true,
				Application: true, Received: ts, Decided: ts.Add(37 * 24 * time.Hour)},
			{ID: "BN 2024/0154", Type: "Strandskydd", Channel: "Post", Received: ts.UTC()},
		},
		EServices: []facts.EService{{Snapshot: time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), ID: "17", Name: "Ansök om bygglov",
			Category: "Bygga, bo och miljö", Department: "Samhällsbyggnad", URL: "https://e.example/17?a=1&b=2",
			Integrated: true, EID: true, Active: true}},
		Responses: []facts.SurveyResponse{{Survey: "Systemenkät 2024", ID: "R-00017", System: "Procapita", Group: "Handläggare",
			Score: 3.75, ScaleMin: 1, ScaleMax: 5, Answered: time.Date(2024, 10, 2, 0, 0, 0, 0, strategy.Stockholm)}},
		Probes: []facts.ProbeResult{{Service: "Mina sidor", URL: "https://m.example", Time: ts, OK: false, Status: 503,
			Duration: 1234567 * time.Nanosecond, Error: "line one\nline two"}},
		Maintenance: []facts.MaintenanceWindow{{Service: "Mina sidor", Start: ts, End: ts.Add(2 * time.Hour), Note: "Uppgradering"}},
		Benchmarks: []facts.BenchmarkValue{
			{Source: "kolada", KPI: "N15428", Municipality: "0120", Year: 2024, Gender: "T", Value: &zero},
			{Source: "kolada", KPI: "N15428", Municipality: "0180", Year: 2024, Gender: "K", Value: nil, Status: "Missing", Deleted: true},
			{Source: "kolada", KPI: "U00405", Municipality: "G101", Year: 2023, Gender: "M", Value: &v},
		},
		Observations: []strategy.Observation{{Tenant: "0120", Indicator: "andel-digitala", Period: strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 2},
			Dimension: strategy.Dimension{Kind: "department", Value: "Socialförvaltningen"}, Value: math.Nextafter(0.3, 1), Source: "series:x.csv",
			Version: 1<<63 + 5, Author: "anna", Comment: "Källa: årsredovisning", Recorded: ts}},
	}
}

// sameBatch compares batches field by field; times are compared as
// instants (JSON keeps the offset, not the location's name).
func sameBatch(t *testing.T, got, want *facts.Batch) {
	t.Helper()
	norm := func(b *facts.Batch) *facts.Batch {
		c := *b
		c.Cases = append([]facts.Case(nil), b.Cases...)
		for i := range c.Cases {
			c.Cases[i].Received, c.Cases[i].Decided = c.Cases[i].Received.UTC(), c.Cases[i].Decided.UTC()
		}
		c.EServices = append([]facts.EService(nil), b.EServices...)
		for i := range c.EServices {
			c.EServices[i].Snapshot = c.EServices[i].Snapshot.UTC()
		}
		c.Responses = append([]facts.SurveyResponse(nil), b.Responses...)
		for i := range c.Responses {
			c.Responses[i].Answered = c.Responses[i].Answered.UTC()
		}
		c.Probes = append([]facts.ProbeResult(nil), b.Probes...)
		for i := range c.Probes {
			c.Probes[i].Time = c.Probes[i].Time.UTC()
		}
		c.Maintenance = append([]facts.MaintenanceWindow(nil), b.Maintenance...)
		for i := range c.Maintenance {
			c.Maintenance[i].Start, c.Maintenance[i].End = c.Maintenance[i].Start.UTC(), c.Maintenance[i].End.UTC()
		}
		c.Observations = append([]strategy.Observation(nil), b.Observations...)
		for i := range c.Observations {
			c.Observations[i].Recorded = c.Observations[i].Recorded.UTC()
		}
		return &c
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("batch changed in the spool:\n got %+v\nwant %+v", g, w)
	}
}

func TestSpoolRoundTrip(t *testing.T) {
	sp, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	in := fullBatch()
	if err := sp.PutBatch(in); err != nil {
		t.Fatal(err)
	}
	names, err := sp.Pending()
	if err != nil || len(names) != 1 {
		t.Fatalf("pending %v %v", names, err)
	}
	e, err := sp.load(names[0])
	if err != nil {
		t.Fatal(err)
	}
	sameBatch(t, e.Batch, in)
	if e.Batch.Benchmarks[0].Value == nil || *e.Batch.Benchmarks[0].Value != 0 || e.Batch.Benchmarks[1].Value != nil {
		t.Fatal("a zero and a missing benchmark value must stay apart")
	}
	if e.Batch.Observations[0].Value != math.Nextafter(0.3, 1) || e.Batch.Version != math.MaxUint64 {
		t.Fatal("floats and versions must survive exactly")
	}
	// Non-finite values cannot be spooled (and no measure could use them).
	bad := fullBatch()
	bad.Observations[0].Value = math.NaN()
	if err := sp.PutBatch(bad); err == nil || !strings.Contains(err.Error(), "not a finite number") {
		t.Fatalf("NaN spooled: %v", err)
	}
}

func TestSpoolOrderAndLeftovers(t *testing.T) {
	dir := t.TempDir()
	// A crash mid-write leaves a temporary file; it is not an entry.
	if err := os.WriteFile(filepath.Join(dir, ".tmp-123"), []byte(`{"format":1,"batch":`), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-123")); !os.IsNotExist(err) {
		t.Fatal("leftover temporary file not removed")
	}
	clock := &fakeClock{t: time.Unix(1700000000, 0)}
	sp.now = clock.Now
	for i := range 12 {
		if err := sp.PutBatch(&facts.Batch{Tenant: "0120", Collector: "c/../x", Source: fmt.Sprint(i), Version: uint64(i + 1)}); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			clock.Add(time.Millisecond)
		}
	}
	names, _ := sp.Pending()
	for i, n := range names {
		e, err := sp.load(n)
		if err != nil {
			t.Fatal(err)
		}
		if e.Batch.Source != fmt.Sprint(i) {
			t.Fatalf("entry %d is batch %s: name order is not write order (%v)", i, e.Batch.Source, names)
		}
		if strings.Contains(n, "/") || strings.Contains(n, "..") {
			t.Fatalf("unsafe file name %q", n)
		}
	}
}

// fakeStore fails with unavailable errors while down.
type fakeStore struct {
	mu      sync.Mutex
	down    bool
	refuse  string // WriteBatch refuses batches with this source
	batches []*facts.Batch
	runs    []clickhouse.Run
}

var errDown = fmt.Errorf("dial tcp 127.0.0.1:9000: %w", syscall.ECONNREFUSED)

func (f *fakeStore) WriteBatch(_ context.Context, b *facts.Batch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	if b.Source == f.refuse {
		return errors.New("code: 27, message: cannot parse input")
	}
	f.batches = append(f.batches, b)
	return nil
}

func (f *fakeStore) RecordRun(_ context.Context, r clickhouse.Run) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	f.runs = append(f.runs, r)
	return nil
}

func (f *fakeStore) setDown(d bool) {
	f.mu.Lock()
	f.down = d
	f.mu.Unlock()
}

func TestStoreSinkSpoolsAndDrains(t *testing.T) {
	if !clickhouse.IsUnavailable(errDown) {
		t.Fatal("test premise: connection refused is unavailability")
	}
	store := &fakeStore{down: true}
	sp, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sink := NewStoreSink(store, sp, nil)
	ctx := context.Background()
	for i := range 3 {
		spooled, err := sink.Deliver(ctx, &facts.Batch{Tenant: "0120", Collector: "c", Source: fmt.Sprint("b", i), Version: 1, Cases: caseBatch("x", 1).Cases})
		if err != nil || !spooled {
			t.Fatalf("batch %d: spooled=%v err=%v", i, spooled, err)
		}
	}
	if err := sink.RecordRun(ctx, clickhouse.Run{Tenant: "0120", Collector: "c", Outcome: OutcomeSpooled}); err != nil {
		t.Fatal(err)
	}
	if n := sink.Spooled(); n != 4 {
		t.Fatalf("spooled %d entries, want 4", n)
	}
	// Still down: nothing is lost, nothing is sent.
	res, err := sink.Drain(ctx)
	if err == nil || res.Sent != 0 || res.Left != 4 {
		t.Fatalf("drain while down: %+v %v", res, err)
	}
	store.setDown(false)
	store.refuse = "b1"
	res, err = sink.Drain(ctx)
	if res.Sent != 3 || res.Rejected != 1 || res.Left != 0 || err == nil || !strings.Contains(err.Error(), "cannot parse input") {
		t.Fatalf("drain: %+v %v", res, err)
	}
	if len(store.batches) != 2 || store.batches[0].Source != "b0" || store.batches[1].Source != "b2" || len(store.runs) != 1 {
		t.Fatalf("store got batches %d runs %d", len(store.batches), len(store.runs))
	}
	if n := sink.Spooled(); n != 0 {
		t.Fatalf("%d entries left", n)
	}
	rejected, _ := filepath.Glob(filepath.Join(sp.Dir(), "rejected", "*.json"))
	if len(rejected) != 1 {
		t.Fatalf("rejected/ holds %v", rejected)
	}
	// A write error that is not unavailability is returned, not spooled.
	store.refuse = "bad"
	if spooled, err := sink.Deliver(ctx, &facts.Batch{Tenant: "0120", Source: "bad"}); err == nil || spooled {
		t.Fatalf("refused batch: spooled=%v err=%v", spooled, err)
	}
	// A corrupt entry is set aside; the next ones still go.
	if err := os.WriteFile(filepath.Join(sp.Dir(), "00000000000000000001-000001-x.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := sp.PutBatch(&facts.Batch{Tenant: "0120", Source: "after"}); err != nil {
		t.Fatal(err)
	}
	res, err = sink.Drain(ctx)
	if res.Sent != 1 || res.Rejected != 1 || err == nil {
		t.Fatalf("drain with a corrupt entry: %+v %v", res, err)
	}
}

// The real thing: collect into a ClickHouse that is killed mid-run; the
// rest of the batches (and the run record) are spooled; after a restart
// Drain writes them, and every row is there exactly once, even a batch
// that reached ClickHouse and was sent again.
func TestSpoolKillAndRestart(t *testing.T) {
	ctx := context.Background()
	srv := chtest.Server(t)
	store, err := clickhouse.Open(ctx, srv.DSN("spooltest"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	sp, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sink := NewStoreSink(store, sp, nil)
	const batches, per = 10, 50
	written := make([]*facts.Batch, batches)
	coll := collectFunc(func(ctx context.Context, _ Request, out Sink) error {
		for i := range batches {
			if i == 4 {
				srv.Kill() // ClickHouse dies mid-run
				<-srv.Done()
			}
			b := caseBatch(fmt.Sprint("k", i), per)
			b.Version = uint64(i + 1)
			written[i] = b
			if err := out.Write(ctx, b); err != nil {
				return err
			}
		}
		return nil
	})
	r, err := NewRunner(RunnerConfig{
		Instances: []Instance{{Name: "arenden", Kind: "test", Tenant: "0120", Timeout: time.Minute}},
		Sink:      sink, Runs: sink,
		Build: func(Instance) (Collector, error) { return coll, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	results, err := r.RunOnce(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := results[0]
	if res.Outcome != OutcomeSpooled || res.Rows != batches*per || res.Spooled != batches-4 || res.Attempts != 1 {
		t.Fatalf("run: %+v", res)
	}
	// Six batches and the run record wait in the spool.
	if n := sink.Spooled(); n != batches-4+1 {
		t.Fatalf("spool holds %d entries, want %d", n, batches-4+1)
	}
	// A crash between writing batch 2 and deleting its spool file would
	// send it twice: simulate that.
	if err := sp.PutBatch(written[2]); err != nil {
		t.Fatal(err)
	}
	if dr, err := sink.Drain(ctx); err == nil || dr.Sent != 0 {
		t.Fatalf("drain while ClickHouse is down: %+v %v", dr, err)
	}

	srv = chtest.Restart(t, srv)
	dr, err := sink.Drain(ctx)
	if err != nil || dr.Sent != batches-4+2 || dr.Left != 0 || sink.Spooled() != 0 {
		t.Fatalf("drain after restart: %+v %v (left %d)", dr, err, sink.Spooled())
	}
	// Exactly once, read deduplicated (argMax by version, and FINAL).
	q := "SELECT count(), uniqExact(cid) FROM (SELECT case_id AS cid, argMax(case_type, version) FROM spooltest.cases WHERE tenant = '0120' GROUP BY case_id)"
	if got := strings.TrimSpace(chtest.Exec(t, srv, q)); got != fmt.Sprintf("%d\t%d", batches*per, batches*per) {
		t.Fatalf("argMax read: %s, want %d rows once each", got, batches*per)
	}
	if got := strings.TrimSpace(chtest.Exec(t, srv, "SELECT count() FROM spooltest.cases FINAL")); got != fmt.Sprint(batches*per) {
		t.Fatalf("FINAL read: %s rows, want %d", got, batches*per)
	}
	if got := strings.TrimSpace(chtest.Exec(t, srv, "SELECT collector, rows, outcome FROM spooltest.collector_runs")); got != fmt.Sprintf("arenden\t%d\tspooled", batches*per) {
		t.Fatalf("collector_runs: %q", got)
	}
}
