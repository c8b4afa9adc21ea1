package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

// suiteStore opens a cluster-mode store on the cluster suite's database
// (see testDSN), emptied when the test ends.
func suiteStore(t *testing.T) *Store {
	t.Helper()
	clusterRun = true
	dsn := testDSN(t)
	clusterRun = false
	return openOn(t, dsn)
}

func openOn(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// shardTenants returns a kommunkod whose rows live on shard 1 and one on
// shard 2 of the test cluster (Distributed sends cityHash64(tenant) % 2 =
// 0 to the first shard).
func shardTenants(t *testing.T, c *chtest.TestCluster) (first, second string) {
	t.Helper()
	for _, k := range []string{"0180", "1280", "1480", "0380", "0581", "1880", "2480", "0114"} {
		switch strings.TrimSpace(c.Exec(t, 0, "SELECT cityHash64('"+k+"') % 2")) {
		case "0":
			if first == "" {
				first = k
			}
		case "1":
			if second == "" {
				second = k
			}
		}
	}
	if first == "" || second == "" {
		t.Fatal("no kommunkod for each shard among the candidates")
	}
	return first, second
}

// faultBatch is a collector-style batch: 25 000 cases (three blocks of one
// INSERT) and a day of probe results.
func faultBatch(tenant string) *facts.Batch {
	b := &facts.Batch{Tenant: tenant, Collector: "test", Source: "fault", Version: 7}
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 25_000 {
		b.Cases = append(b.Cases, facts.Case{ID: fmt.Sprintf("KS-%06d", i), Type: "Bygglov", Department: "Bygg",
			Channel: "e-tjänst", Digital: i%3 != 0, Application: true, Received: start.Add(time.Duration(i) * time.Minute)})
	}
	for i := range 288 {
		b.Probes = append(b.Probes, facts.ProbeResult{Service: "Mina sidor", URL: "https://minasidor.example",
			Time: start.Add(time.Duration(i) * 5 * time.Minute), OK: i%50 != 0, Status: 200, Duration: 120 * time.Millisecond})
	}
	return b
}

// killConn calls kill when the n-th INSERT into table the store sends is
// about to send its last block: its earlier blocks are written, the last
// one is in flight.
type killConn struct {
	driver.Conn
	table    string
	n, calls *atomic.Int64
	kill     func()
}

func (k killConn) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	b, err := k.Conn.PrepareBatch(ctx, query, opts...)
	if err == nil && strings.HasPrefix(query, "INSERT INTO "+k.table+" (") && k.calls.Add(1) == k.n.Load() {
		return killBatch{Batch: b, kill: k.kill}, nil
	}
	return b, err
}

type killBatch struct {
	driver.Batch
	kill func()
}

func (k killBatch) Send() error {
	k.kill()
	return k.Batch.Send()
}

// A replica killed (SIGKILL) during a collector's batch write: the write
// goes on to the shard's other replica, or fails as unavailable and the
// spool's replay of the same batch goes through; either way, once it has
// returned, every row is stored exactly once on both replicas of the
// tenant's shard, the killed one included after its restart.
func TestClusterReplicaKilledDuringBatchWrite(t *testing.T) {
	c := chtest.Cluster(t)
	_, second := shardTenants(t, c)
	for _, tc := range []struct {
		name   string
		victim int // server index
		tenant string
	}{
		// Shard 2's first replica, which the Distributed insert may pick.
		{"replica of the tenant's shard", 2, second},
		// The server the store is connected to: the INSERT in flight fails
		// with two of its three blocks written.
		{"the server the store writes through", 0, second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clusterRun = true
			dsn := testDSN(t) // migrated before the kill is armed
			clusterRun = false
			n, calls := &atomic.Int64{}, &atomic.Int64{}
			n.Store(1) // the cases: three blocks, two sent before the kill
			prev := wrapConn
			wrapConn = func(conn driver.Conn, db string) driver.Conn {
				return killConn{Conn: conn, table: "cases", n: n, calls: calls, kill: func() { c.Kill(tc.victim) }}
			}
			s := openOn(t, dsn)
			wrapConn = prev
			t.Cleanup(func() { c.RestartServer(t, tc.victim) })
			ctx := context.Background()
			b := faultBatch(tc.tenant)
			err := s.WriteBatch(ctx, b)
			if calls.Load() < 1 {
				t.Fatal("the batch made no INSERT of cases")
			}
			if err != nil {
				// A Distributed insert whose replica dies mid-block may also
				// end in "Attempt to read after eof" (code 32), which the
				// spool retries like any failed write: what counts is that
				// the replay stores every row exactly once.
				if !IsUnavailable(err) && !strings.Contains(err.Error(), "code: 32,") {
					t.Fatalf("write with a replica killed: %v; want it written, or an unavailability error the collector spools", err)
				}
				t.Logf("write failed as unavailable (%v); replaying it as the spool does", err)
			} else if tc.victim == 0 {
				t.Fatal("the write went through although the server it was sent to was killed in the middle")
			}
			if err != nil {
				if err := s.WriteBatch(ctx, faultBatch(tc.tenant)); err != nil {
					t.Fatalf("replaying the batch: %v", err)
				}
			}
			c.RestartServer(t, tc.victim)
			db := suiteName()
			// Every table the checks below read, the measure's included:
			// a read through the Distributed table may go to either
			// replica, the restarted one too.
			for i := range c.Servers {
				for _, tb := range []string{"cases_local", "probe_results_local", "probe_daily_local",
					"case_month_counts_local", "case_handling_counts_local", "case_refresh_pending_local"} {
					c.Exec(t, i, "SYSTEM SYNC REPLICA "+db+"."+tb)
				}
			}
			// Raw rows may hold a replayed block twice (a ReplacingMergeTree
			// keeps both until a merge, as on one server): count the rows
			// the store reads, FINAL, on each replica itself.
			raw := ""
			for i := range c.Servers {
				got := strings.TrimSpace(c.Exec(t, i, "SELECT count(), uniqExact(case_id), countIf(digital = 1) FROM "+db+".cases_local FINAL WHERE tenant = '"+tc.tenant+"'"))
				probes := strings.TrimSpace(c.Exec(t, i, "SELECT count() FROM "+db+".probe_results_local FINAL WHERE tenant = '"+tc.tenant+"'"))
				want, wantProbes := "25000\t25000\t16666", "288"
				if i < 2 { // shard 1 holds none of the tenant's rows
					want, wantProbes = "0\t0\t0", "0"
				}
				if got != want || probes != wantProbes {
					t.Errorf("server %d: cases (rows, distinct ids, digital) = %s, probe rows = %s; want %s and %s", i, got, probes, want, wantProbes)
				}
				// The two replicas of the shard hold the same parts' rows.
				if n := c.Exec(t, i, "SELECT count() FROM "+db+".cases_local WHERE tenant = '"+tc.tenant+"'"); i == 2 {
					raw = n
				} else if i == 3 && n != raw {
					t.Errorf("the replicas of shard 2 hold %s and %s raw case rows", strings.TrimSpace(raw), strings.TrimSpace(n))
				}
			}
			obs, err := s.ComputeMeasure(ctx, tc.tenant, MeasureRequest{Name: "availability_uptime", Kind: strategy.Month})
			if err != nil || len(obs) == 0 || obs[0].Value != 100*float64(288-6)/288 {
				t.Errorf("uptime after the fault = %v, %v; want %g", obs, err, 100*float64(288-6)/288)
			}
		})
	}
}

// With a whole shard down, its municipalities' reads fail as unavailable
// (the dashboards then show the last good data with the stale-data
// notice) while the other shard's municipalities read exactly what they
// read before.
func TestClusterShardDown(t *testing.T) {
	c := chtest.Cluster(t)
	s := suiteStore(t)
	ctx := context.Background()
	up, down := shardTenants(t, c)
	for _, tenant := range []string{up, down} {
		if err := s.WriteBatch(ctx, faultBatch(tenant)); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteObservations(ctx, []strategy.Observation{{Tenant: tenant, Indicator: "i1",
			Period: strategy.PeriodOf(strategy.Year, time.Date(2025, 1, 1, 0, 0, 0, 0, strategy.Stockholm)), Value: 42, Version: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	type reads struct {
		version uint64
		uptime  []strategy.Observation
		status  []ServiceStatus
		obs     []strategy.Observation
	}
	read := func(tenant string) (r reads, err error) {
		if r.version, err = s.DataVersion(ctx, tenant); err != nil {
			return r, err
		}
		if r.uptime, err = s.ComputeMeasure(ctx, tenant, MeasureRequest{Name: "availability_uptime", Kind: strategy.Month}); err != nil {
			return r, err
		}
		if r.status, err = s.ServiceStatus(ctx, tenant); err != nil {
			return r, err
		}
		r.obs, err = s.Observations(ctx, ObservationFilter{Tenant: tenant})
		return r, err
	}
	before, err := read(up)
	if err != nil {
		t.Fatal(err)
	}
	if len(before.uptime) == 0 || len(before.status) != 1 || len(before.obs) != 1 {
		t.Fatalf("reads before the fault: %+v", before)
	}
	c.Kill(2)
	c.Kill(3)
	t.Cleanup(func() { c.RestartServer(t, 2); c.RestartServer(t, 3) })

	// A start of Målbild (which migrates) goes on: the schema is up to date,
	// so it sends no ON CLUSTER statement that would wait for the dead shard.
	m, err := Open(ctx, suiteDB)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.Migrate(ctx); err != nil || len(got) != 0 {
		t.Errorf("migrating an up-to-date cluster with a shard down: %v, %v", got, err)
	}
	m.Close()

	during, err := read(up)
	if err != nil {
		t.Fatalf("municipality %s on the live shard: %v", up, err)
	}
	if fmt.Sprint(during) != fmt.Sprint(before) {
		t.Errorf("municipality %s on the live shard reads\n%+v\nwith the other shard down, and\n%+v\nbefore", up, during, before)
	}
	if _, err := read(down); err == nil || !IsUnavailable(err) {
		t.Errorf("municipality %s on the dead shard: err = %v; want an unavailability error (stale-data notice)", down, err)
	}
	if _, err := s.DataVersion(ctx, down); !IsUnavailable(err) {
		t.Errorf("data version of %s on the dead shard: err = %v; want unavailable", down, err)
	}

	c.RestartServer(t, 2)
	if r, err := read(down); err != nil || len(r.obs) != 1 {
		t.Errorf("municipality %s once a replica of its shard is back: %+v, %v", down, r, err)
	}
}
