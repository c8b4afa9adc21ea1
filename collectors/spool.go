package collectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/durable"
)

// Spool keeps batches (and run records) on disk while ClickHouse cannot
// be reached: one JSON file per entry, written atomically (temporary file,
// fsync, rename), named so that name order is write order. Nothing in the
// spool is lost by a crash: an entry either exists whole or not at all,
// and it is deleted only after ClickHouse accepted it. Re-sending an entry
// that was written just before a crash duplicates nothing, because every
// batch carries its Version and the tables keep the latest version per key.
type Spool struct {
	dir string
	now func() time.Time

	mu  sync.Mutex
	seq uint64
}

// spoolFormat is the version of the entry encoding. Every field of every
// type an entry holds has an explicit JSON name (facts, clickhouse.Run,
// strategy.Observation), so renaming a Go field changes nothing on disk;
// a change to what is written (a renamed or removed name, a changed
// meaning) needs a new format number, and this release must still read
// the old one. testdata/spool holds golden files of format 1.
const spoolFormat = 1

// errFutureFormat marks an entry written by a newer Målbild in a format
// this release does not know: it stays in the spool for that release.
var errFutureFormat = errors.New("format newer than this version of Målbild reads")

// spoolEntry is one spool file. JSON round-trips every facts type exactly
// (floats in their shortest exact form, uint64 versions as integers, a
// nil and a zero *float64 apart, times as RFC 3339 with nanoseconds);
// non-finite floats, which JSON cannot hold, are refused when spooling.
type spoolEntry struct {
	Format int             `json:"format"`
	Batch  *facts.Batch    `json:"batch,omitempty"`
	Run    *clickhouse.Run `json:"run,omitempty"`
}

// OpenSpool opens (creating it if needed) the spool directory dir and
// removes temporary files left by a crash mid-write.
func OpenSpool(dir string) (*Spool, error) {
	if dir == "" {
		return nil, errors.New("spool: no directory")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	tmps, err := filepath.Glob(filepath.Join(dir, ".tmp-*"))
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	for _, t := range tmps {
		if err := os.Remove(t); err != nil {
			return nil, fmt.Errorf("spool: removing unfinished %s: %w", t, err)
		}
	}
	return &Spool{dir: dir, now: time.Now}, nil
}

// Dir is the spool directory.
func (s *Spool) Dir() string { return s.dir }

// PutBatch stores b.
func (s *Spool) PutBatch(b *facts.Batch) error {
	if err := checkFinite(b); err != nil {
		return fmt.Errorf("spooling batch %s: %w", b.Source, err)
	}
	return s.put(spoolEntry{Format: spoolFormat, Batch: b}, "batch-"+b.Collector)
}

// PutRun stores a run record that could not be recorded in ClickHouse.
func (s *Spool) PutRun(r clickhouse.Run) error {
	return s.put(spoolEntry{Format: spoolFormat, Run: &r}, "run-"+r.Collector)
}

func (s *Spool) put(e spoolEntry, label string) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("spool: encoding entry: %w", err)
	}
	s.mu.Lock()
	s.seq++
	name := fmt.Sprintf("%020d-%06d-%s.json", s.now().UnixNano(), s.seq%1000000, spoolSafeName(label))
	s.mu.Unlock()
	if err := durable.WriteFile(s.dir, name, data); err != nil {
		return fmt.Errorf("spool: writing %s: %w", name, err)
	}
	return nil
}

// safeName keeps a label usable in a file name.
func spoolSafeName(s string) string {
	var sb strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
		if sb.Len() >= 60 {
			break
		}
	}
	return sb.String()
}

// Pending lists the spooled entries' file names, oldest first.
func (s *Spool) Pending() ([]string, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var names []string
	for _, de := range des {
		n := de.Name()
		if de.Type().IsRegular() && strings.HasSuffix(n, ".json") && !strings.HasPrefix(n, ".") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// load reads one entry.
func (s *Spool) load(name string) (spoolEntry, error) {
	var e spoolEntry
	data, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		return e, fmt.Errorf("spool: %w", err)
	}
	// The format first, leniently: a newer format may have fields and
	// shapes this release does not know.
	var head struct {
		Format *int `json:"format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return e, fmt.Errorf("spool: %s: %w", name, err)
	}
	if head.Format == nil {
		return e, fmt.Errorf("spool: %s: not a spool entry (no format)", name)
	}
	if *head.Format > spoolFormat {
		return e, fmt.Errorf("spool: %s: entry of format %d, this version of Målbild reads format %d and older; kept in the spool for a newer version: %w",
			name, *head.Format, spoolFormat, errFutureFormat)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, fmt.Errorf("spool: %s: %w", name, err)
	}
	if e.Format != spoolFormat || (e.Batch == nil) == (e.Run == nil) {
		return e, fmt.Errorf("spool: %s: not a spool entry of format %d", name, spoolFormat)
	}
	return e, nil
}

func (s *Spool) remove(name string) error {
	if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// reject moves an entry ClickHouse refused (or that cannot be read) to
// the rejected/ subdirectory, so it no longer blocks the spool but stays
// for an operator to look at.
func (s *Spool) reject(name string) error {
	dir := filepath.Join(s.dir, "rejected")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := os.Rename(filepath.Join(s.dir, name), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// checkFinite refuses NaN and infinite values, which JSON cannot encode
// and which no measure can use.
func checkFinite(b *facts.Batch) error {
	bad := func(what string, i int, v float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s %d: value %v is not a finite number", what, i+1, v)
		}
		return nil
	}
	for i, r := range b.Responses {
		if err := bad("survey response", i, r.Score); err != nil {
			return err
		}
	}
	for i, v := range b.Benchmarks {
		if v.Value != nil {
			if err := bad("benchmark value", i, *v.Value); err != nil {
				return err
			}
		}
	}
	for i, o := range b.Observations {
		if err := bad("observation", i, o.Value); err != nil {
			return err
		}
	}
	return nil
}

// Store is what the runner needs from ClickHouse: write batches and
// record runs. *clickhouse.Store implements it.
type Store interface {
	WriteBatch(ctx context.Context, b *facts.Batch) error
	RecordRun(ctx context.Context, r clickhouse.Run) error
}

// StoreSink is the Sink that writes batches to ClickHouse. While
// ClickHouse is unavailable (clickhouse.IsUnavailable) it puts them in
// the spool instead, and Drain sends them when ClickHouse answers again.
type StoreSink struct {
	store       Store
	spool       *Spool // nil: no spooling, errors are returned
	log         *slog.Logger
	unavailable func(error) bool

	drainMu sync.Mutex
	metrics *Metrics
}

// NewStoreSink returns a sink writing to store, spooling to spool (which
// may be nil). log may be nil.
func NewStoreSink(store Store, spool *Spool, log *slog.Logger) *StoreSink {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &StoreSink{store: store, spool: spool, log: log, unavailable: clickhouse.IsUnavailable}
}

// Write writes b to ClickHouse, or to the spool while ClickHouse is
// unavailable.
func (s *StoreSink) Write(ctx context.Context, b *facts.Batch) error {
	_, err := s.Deliver(ctx, b)
	return err
}

// Deliver is Write that also says whether b went to the spool.
func (s *StoreSink) Deliver(ctx context.Context, b *facts.Batch) (spooled bool, err error) {
	spooled, _, err = s.deliver(ctx, b)
	return spooled, err
}

// touchedWriter is a Store that says which days a write touched.
// *clickhouse.Store implements it.
type touchedWriter interface {
	WriteBatchTouched(ctx context.Context, b *facts.Batch) (clickhouse.Touched, error)
}

// deliver is Deliver that also says which days the written rows touched,
// when the store tells (nil otherwise, and when spooled).
func (s *StoreSink) deliver(ctx context.Context, b *facts.Batch) (spooled bool, touched clickhouse.Touched, err error) {
	if tw, ok := s.store.(touchedWriter); ok {
		touched, err = tw.WriteBatchTouched(ctx, b)
	} else {
		err = s.store.WriteBatch(ctx, b)
	}
	if err == nil {
		return false, touched, nil
	}
	if s.spool == nil || !s.unavailable(err) || ctx.Err() != nil {
		return false, nil, err
	}
	if serr := s.spool.PutBatch(b); serr != nil {
		return false, nil, fmt.Errorf("%w; and spooling the batch failed: %v", err, serr)
	}
	s.log.Warn("ClickHouse unavailable, batch spooled", "collector", b.Collector, "source", b.Source, "rows", b.Rows(), "spool", s.spool.Dir(), "error", err)
	s.updateGauge()
	return true, nil, nil
}

// RecordRun records r in ClickHouse, or in the spool while ClickHouse is
// unavailable (Drain records it later).
func (s *StoreSink) RecordRun(ctx context.Context, r clickhouse.Run) error {
	err := s.store.RecordRun(ctx, r)
	if err == nil || s.spool == nil || !s.unavailable(err) {
		return err
	}
	if serr := s.spool.PutRun(r); serr != nil {
		return fmt.Errorf("%w; and spooling the run record failed: %v", err, serr)
	}
	s.log.Warn("ClickHouse unavailable, run record spooled", "collector", r.Collector, "outcome", r.Outcome)
	s.updateGauge()
	return nil
}

// DrainResult says what a Drain did.
type DrainResult struct {
	Sent     int // entries written to ClickHouse and removed from the spool
	Rejected int // entries ClickHouse refused, moved to rejected/
	Left     int // entries still waiting
	// Touched says, per tenant, what the sent batches touched; a tenant
	// whose Touched is nil got batches on unknown days (a store that
	// does not tell).
	Touched map[string]clickhouse.Touched
}

// addTouched records what a sent batch of tenant touched (nil: unknown).
func (r *DrainResult) addTouched(tenant string, t clickhouse.Touched) {
	if r.Touched == nil {
		r.Touched = map[string]clickhouse.Touched{}
	}
	cur, seen := r.Touched[tenant]
	switch {
	case t == nil:
		r.Touched[tenant] = nil
	case !seen:
		r.Touched[tenant] = t.Clone()
	case cur != nil:
		cur.Merge(t)
	}
}

// Drain sends the spooled entries to ClickHouse, oldest first, deleting
// each only after ClickHouse accepted it. It stops at the first entry for
// which ClickHouse is unavailable (the rest wait for the next Drain). An
// entry ClickHouse refuses for another reason, or that cannot be read, is
// moved to rejected/ and reported in the error; an entry of a newer
// format than this release reads stays where it is, counted in Left and
// reported in the error. Only one Drain runs at a
// time; a second, concurrent call returns at once.
func (s *StoreSink) Drain(ctx context.Context) (DrainResult, error) {
	var res DrainResult
	if s.spool == nil {
		return res, nil
	}
	if !s.drainMu.TryLock() {
		return res, nil
	}
	defer s.drainMu.Unlock()
	defer s.updateGauge()
	names, err := s.spool.Pending()
	if err != nil {
		return res, err
	}
	var errs []error
	for i, name := range names {
		if err := ctx.Err(); err != nil {
			res.Left += len(names) - i
			return res, errors.Join(append(errs, err)...)
		}
		e, err := s.spool.load(name)
		if errors.Is(err, errFutureFormat) {
			// Written by a newer release (before a downgrade): neither
			// sent nor set aside, it waits for that release.
			s.log.Error("spooled entry of a newer format left in the spool", "file", name, "error", err)
			errs = append(errs, err)
			res.Left++
			continue
		}
		if err == nil {
			if e.Batch != nil {
				var t clickhouse.Touched
				if tw, ok := s.store.(touchedWriter); ok {
					t, err = tw.WriteBatchTouched(ctx, e.Batch)
				} else {
					err = s.store.WriteBatch(ctx, e.Batch)
				}
				if err == nil {
					res.addTouched(e.Batch.Tenant, t)
				}
			} else {
				err = s.store.RecordRun(ctx, *e.Run)
			}
			if err != nil && s.unavailable(err) {
				res.Left += len(names) - i
				return res, errors.Join(append(errs, fmt.Errorf("draining spool: %w", err))...)
			}
		}
		if err != nil {
			s.log.Error("spooled entry refused, moved to rejected/", "file", name, "error", err)
			if rerr := s.spool.reject(name); rerr != nil {
				err = errors.Join(err, rerr)
			}
			errs = append(errs, fmt.Errorf("spool entry %s: %w", name, err))
			res.Rejected++
			continue
		}
		if err := s.spool.remove(name); err != nil {
			// Written but not removed: it will be sent again, which
			// duplicates nothing.
			errs = append(errs, err)
			res.Left += len(names) - i
			return res, errors.Join(errs...)
		}
		res.Sent++
	}
	if res.Sent > 0 {
		s.log.Info("spool drained", "sent", res.Sent, "rejected", res.Rejected)
	}
	return res, errors.Join(errs...)
}

// Spooled returns how many entries wait in the spool.
func (s *StoreSink) Spooled() int {
	if s.spool == nil {
		return 0
	}
	names, err := s.spool.Pending()
	if err != nil {
		return 0
	}
	return len(names)
}

func (s *StoreSink) updateGauge() {
	if s.metrics != nil {
		s.metrics.setSpooled(s.Spooled())
	}
}
