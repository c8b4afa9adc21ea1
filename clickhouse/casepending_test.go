package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/malbild/malbild/facts"
)

// Faults between a write of cases and the insert of their deltas.
const (
	noFault = iota
	// failDeltas: the insert of the monthly case counts' deltas fails
	// before anything reaches the server.
	failDeltas
	// unknownDeltas: the deltas of both tables reach the server, but the
	// insert of the handling times' deltas reports an error (a connection
	// lost before the answer): the outcome is unknown to the writer.
	unknownDeltas
)

// faultConn injects the fault in fault into the inserts of deltas.
type faultConn struct {
	driver.Conn
	fault *atomic.Int32
}

func (f faultConn) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	switch {
	case f.fault.Load() == failDeltas && strings.HasPrefix(query, "INSERT INTO case_month_counts "):
		return nil, errors.New("injected fault: insert of the monthly case counts")
	case f.fault.Load() == unknownDeltas && strings.HasPrefix(query, "INSERT INTO case_handling_counts "):
		b, err := f.Conn.PrepareBatch(ctx, query, opts...)
		return unknownBatch{b}, err
	}
	return f.Conn.PrepareBatch(ctx, query, opts...)
}

// unknownBatch sends its rows and then reports an error.
type unknownBatch struct{ driver.Batch }

func (b unknownBatch) Send() error {
	if err := b.Batch.Send(); err != nil {
		return err
	}
	return errors.New("injected fault: connection lost after the insert of the handling times")
}

// faultStore is mStore whose inserts of deltas fail as the returned fault
// says.
func faultStore(t *testing.T) (*Store, *atomic.Int32) {
	t.Helper()
	fault := &atomic.Int32{}
	prev := wrapConn
	wrapConn = func(c driver.Conn, db string) driver.Conn { return faultConn{Conn: prev(c, db), fault: fault} }
	defer func() { wrapConn = prev }()
	return mStore(t), fault
}

// A write whose deltas fail, or whose deltas' outcome is unknown, after
// the cases are written (moved to other months) leaves the months marked:
// the next write of other cases, a repair of the pending months (as every
// recompute does) or a rebuild (malbild collect --recompute) make every
// case figure equal the one computed from the raw cases again.
func TestCaseRefreshFailureIsMadeUp(t *testing.T) {
	for _, fault := range []int32{failDeltas, unknownDeltas} {
		for _, then := range []string{"a later write", "the same batch again", "repair of the pending months", "rebuild"} {
			t.Run(fmt.Sprint(map[int32]string{failDeltas: "failed", unknownDeltas: "unknown"}[fault], "/", then), func(t *testing.T) {
				ctx := context.Background()
				s, inject := faultStore(t)
				r := rand.New(rand.NewPCG(7, 17))
				cases := randomCases(r, 0, 600)
				mWrite(t, s, 1, facts.Batch{Cases: cases})
				moved := slices.Clone(cases[:150])
				for i := range moved {
					moved[i].Received = moved[i].Received.AddDate(0, 3, 0)
					moved[i].Type = "E"
				}
				inject.Store(fault)
				b := facts.Batch{Tenant: measureTenant, Collector: "test", Source: "test-v2", Version: 2, Cases: moved}
				if err := s.WriteBatch(ctx, &b); err == nil || !strings.Contains(err.Error(), "injected fault") {
					t.Fatalf("write with the deltas failing: %v; want the injected fault", err)
				}
				inject.Store(noFault)
				// Writing again finds the new versions stored: its own
				// look-up no longer sees the months the cases left.
				switch then {
				case "a later write":
					mWrite(t, s, 3, facts.Batch{Cases: randomCases(r, 5000, 1)})
				case "the same batch again":
					mWrite(t, s, 2, facts.Batch{Cases: moved})
				case "repair of the pending months":
					days, err := s.RefreshPendingCases(ctx, measureTenant)
					if err != nil {
						t.Fatal(err)
					}
					if n := len(days.List()); n < 2 {
						t.Fatalf("repaired %d pending months; want the old and new months of the moved cases", n)
					}
				case "rebuild":
					// Also what a lost table of changes would need.
					if err := s.Exec(ctx, "TRUNCATE TABLE case_handling_counts"); err != nil {
						t.Fatal(err)
					}
					if err := s.RebuildCaseAggregates(ctx, measureTenant); err != nil {
						t.Fatal(err)
					}
				}
				checkCasesEqualRaw(t, s, "after the failed deltas and "+then)
				owed, err := s.pendingCaseMonths(ctx, measureTenant)
				if err != nil {
					t.Fatal(err)
				}
				if len(owed) > 0 {
					t.Fatalf("months still awaiting a repair: %v", fmt.Sprint(owed))
				}
			})
		}
	}
}
