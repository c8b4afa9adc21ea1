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

// failRefreshConn fails every refresh of case_monthly while fail is set:
// the fault between a write of cases and the refresh of their months.
type failRefreshConn struct {
	driver.Conn
	fail *atomic.Bool
}

func (f failRefreshConn) Exec(ctx context.Context, query string, args ...any) error {
	if f.fail.Load() && strings.Contains(query, "INSERT INTO case_monthly") {
		return errors.New("injected fault: refresh of case_monthly")
	}
	return f.Conn.Exec(ctx, query, args...)
}

// faultStore is mStore whose refreshes of case_monthly fail while the
// returned flag is set.
func faultStore(t *testing.T) (*Store, *atomic.Bool) {
	t.Helper()
	fail := &atomic.Bool{}
	prev := wrapConn
	wrapConn = func(c driver.Conn, db string) driver.Conn { return failRefreshConn{Conn: prev(c, db), fail: fail} }
	defer func() { wrapConn = prev }()
	return mStore(t), fail
}

// A refresh that fails after the cases are written (moved to other
// months) leaves the months marked: the next write of other cases, a
// refresh of the pending months (as every recompute does) or a rebuild
// (malbild collect --recompute) make every case figure equal the one
// computed from the raw cases again.
func TestCaseRefreshFailureIsMadeUp(t *testing.T) {
	for _, then := range []string{"a later write", "refresh of the pending months", "rebuild"} {
		t.Run(then, func(t *testing.T) {
			ctx := context.Background()
			s, fail := faultStore(t)
			r := rand.New(rand.NewPCG(7, 17))
			cases := randomCases(r, 0, 600)
			mWrite(t, s, 1, facts.Batch{Cases: cases})
			moved := slices.Clone(cases[:150])
			for i := range moved {
				moved[i].Received = moved[i].Received.AddDate(0, 3, 0)
				moved[i].Type = "E"
			}
			fail.Store(true)
			b := facts.Batch{Tenant: measureTenant, Collector: "test", Source: "test-v2", Version: 2, Cases: moved}
			if err := s.WriteBatch(ctx, &b); err == nil || !strings.Contains(err.Error(), "injected fault") {
				t.Fatalf("write with the refresh failing: %v; want the injected fault", err)
			}
			fail.Store(false)
			// The write again finds the new versions stored: its own
			// look-up no longer sees the months the cases left.
			switch then {
			case "a later write":
				extra := randomCases(r, 5000, 1)
				mWrite(t, s, 3, facts.Batch{Cases: extra})
			case "refresh of the pending months":
				days, err := s.RefreshPendingCases(ctx, measureTenant)
				if err != nil {
					t.Fatal(err)
				}
				if n := len(days.List()); n < 2 {
					t.Fatalf("refreshed %d pending months; want the old and new months of the moved cases", n)
				}
			case "rebuild":
				if err := s.Exec(ctx, "TRUNCATE TABLE case_handling_monthly"); err != nil {
					t.Fatal(err)
				}
				if err := s.RebuildCaseAggregates(ctx, measureTenant); err != nil {
					t.Fatal(err)
				}
			}
			checkCasesEqualRaw(t, s, "after the failed refresh and "+then)
			owed, err := s.pendingCaseMonths(ctx, measureTenant)
			if err != nil {
				t.Fatal(err)
			}
			if len(owed) > 0 {
				t.Fatalf("months still awaiting a refresh: %v", fmt.Sprint(owed))
			}
		})
	}
}
