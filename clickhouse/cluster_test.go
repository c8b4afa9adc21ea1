package clickhouse

import (
	"context"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/schema"
)

// clusterDSNs are DSNs of one fresh cluster-mode database through server
// 0 and through server 3 (shard 2, replica 2).
func clusterDSNs(t *testing.T) (viaFirst, viaLast string, db string) {
	t.Helper()
	c := chtest.Cluster(t)
	viaFirst = chtest.ClusterDSN(t)
	u, err := url.Parse(viaFirst)
	if err != nil {
		t.Fatal(err)
	}
	db = strings.TrimPrefix(u.Path, "/")
	return viaFirst, c.Server(3).DSN(db) + "?cluster=" + chtest.ClusterName, db
}

func TestClusterMigrateTwiceConcurrently(t *testing.T) {
	ctx := context.Background()
	c := chtest.Cluster(t)
	a, b, db := clusterDSNs(t)
	files, _ := fs.Glob(schema.Files, "*.sql")
	// Two processes, on different servers, migrating at once: the lock
	// lets one apply everything; each migration is applied and recorded once.
	var (
		wg      sync.WaitGroup
		applied [2][]string
		errs    [2]error
	)
	for i, dsn := range []string{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			applied[i], errs[i] = s.Migrate(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migration %d: %v", i, err)
		}
	}
	t.Logf("applied through server 0: %d, through server 3: %d", len(applied[0]), len(applied[1]))
	if n := len(applied[0]) + len(applied[1]); n != len(files) {
		t.Fatalf("applied %d and %d migrations, want %d in all: %v / %v", len(applied[0]), len(applied[1]), len(files), applied[0], applied[1])
	}
	want := strconv.Itoa(len(files))
	wantTables := ""
	for i := range c.Servers {
		c.Exec(t, i, "SYSTEM SYNC REPLICA "+db+".schema_migrations")
		if got := strings.TrimSpace(c.Exec(t, i, "SELECT count(), uniqExact(version) FROM "+db+".schema_migrations")); got != want+"\t"+want {
			t.Errorf("server %d: schema_migrations holds count, distinct versions = %s, want %s each", i, got, want)
		}
		tables := c.Exec(t, i, "SELECT name, engine FROM system.tables WHERE database = '"+db+"' AND name NOT LIKE '.inner%' ORDER BY name")
		if i == 0 {
			wantTables = tables
		} else if tables != wantTables {
			t.Errorf("server %d has other tables than server 0:\n%s\nwant\n%s", i, tables, wantTables)
		}
	}
	for _, want := range []string{"observations\tDistributed", "observations_local\tReplicatedReplacingMergeTree", "observations_final\tDistributed",
		"observations_final_local\tView", "assessments_local\tReplicatedMergeTree", "probe_latest_local\tMaterializedView", "schema_migrations\tReplicatedMergeTree"} {
		if !strings.Contains(wantTables, want+"\n") {
			t.Errorf("no %q among the tables:\n%s", want, wantTables)
		}
	}
	if strings.Contains(wantTables, "assessments_final") {
		t.Errorf("a MergeTree table got a _final view:\n%s", wantTables)
	}
	if strings.Contains(wantTables, "schema_migrations_lock") {
		t.Errorf("the migration lock was not released:\n%s", wantTables)
	}

	// And again: nothing to apply, nothing recorded twice.
	for _, dsn := range []string{b, a} {
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Migrate(ctx)
		s.Close()
		if err != nil || len(got) != 0 {
			t.Fatalf("second run applied %v, %v", got, err)
		}
	}
	for i := range c.Servers {
		if got := strings.TrimSpace(c.Exec(t, i, "SELECT count() FROM "+db+".schema_migrations")); got != want {
			t.Errorf("server %d: after the second run schema_migrations has %s rows, want %s", i, got, want)
		}
	}
}

// clusterRun makes the package's store helpers (mStore, openTestStore)
// open cluster-mode stores: TestClusterStoreSuite runs the single-server
// tests with it, so the same assertions hold on both.
var clusterRun bool

// testDSN is the DSN the store helpers open: a fresh database on the
// shared single server, or in a cluster run the cluster's suite database,
// emptied when the test ends.
func testDSN(t *testing.T) string {
	t.Helper()
	if !clusterRun {
		return chtest.DSN(t)
	}
	c := chtest.Cluster(t)
	suiteOnce.Do(func() {
		suiteDB = c.DSN("suite_" + strconv.Itoa(os.Getpid()))
		s, err := Open(context.Background(), suiteDB)
		if err != nil {
			suiteErr = err
			return
		}
		defer s.Close()
		_, suiteErr = s.Migrate(context.Background())
	})
	if suiteErr != nil {
		t.Fatalf("migrating the cluster suite's database: %v", suiteErr)
	}
	t.Cleanup(func() { truncateCluster(t, c, suiteName()) })
	return suiteDB
}

var (
	suiteOnce sync.Once
	suiteDB   string
	suiteErr  error
)

func suiteName() string { return "suite_" + strconv.Itoa(os.Getpid()) }

// truncateCluster empties db's local tables on every shard (through the
// leader replica of each, which 18.16 requires; replication empties the
// other) for the next test.
func truncateCluster(t *testing.T, c *chtest.TestCluster, db string) {
	t.Helper()
	for i := range c.Servers {
		names := c.Exec(t, i, "SELECT table FROM system.replicas WHERE database = '"+db+"' AND is_leader AND table NOT IN ('schema_migrations', 'shard_slots_local')")
		for _, n := range strings.Fields(names) {
			c.Exec(t, i, "TRUNCATE TABLE "+db+".`"+n+"`")
		}
	}
	for i := range c.Servers {
		names := c.Exec(t, i, "SELECT name FROM system.tables WHERE database = '"+db+"' AND engine LIKE 'Replicated%'")
		for _, n := range strings.Fields(names) {
			c.Exec(t, i, "SYSTEM SYNC REPLICA "+db+".`"+n+"`")
		}
	}
}

// TestClusterStoreSuite runs the store's tests on the cluster: writes,
// reads and measures give what they give on a single server.
func TestClusterStoreSuite(t *testing.T) {
	clusterRun = true
	defer func() { clusterRun = false }()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"MeasureEServicesActive", TestMeasureEServicesActive},
		{"MeasureEServicesShares", TestMeasureEServicesShares},
		{"MeasureEServicesAddedRetired", TestMeasureEServicesAddedRetired},
		{"MeasureDigitalShare", TestMeasureDigitalShare},
		{"MeasureHandlingTime", TestMeasureHandlingTime},
		{"MeasureSatisfaction", TestMeasureSatisfaction},
		{"MeasureAvailability", TestMeasureAvailability},
		{"MeasureMaintenanceForEveryService", TestMeasureMaintenanceForEveryService},
		{"MeasureTenantsApart", TestMeasureTenantsApart},
		{"ServiceStatusLatestPerService", TestServiceStatusLatestPerService},
		{"ServiceStatusReimportedCheck", TestServiceStatusReimportedCheck},
		{"CollectorStatus", TestCollectorStatus},
		{"BenchmarksLatestNotDeleted", TestBenchmarksLatestNotDeleted},
		{"DataVersionChangesOnWrites", TestDataVersionChangesOnWrites},
		{"AssessmentsLatestAndConfirmed", TestAssessmentsLatestAndConfirmed},
		{"PeriodStates", TestPeriodStates},
		{"WriteBatchTouched", TestWriteBatchTouched},
		{"MeasureFingerprints", TestMeasureFingerprints},
		{"ProbeDailyEqualsRaw", TestProbeDailyEqualsRaw},
		{"CaseMonthlyReimports", TestCaseMonthlyReimports},
		{"CaseDeltasEqualRaw", TestCaseDeltasEqualRaw},
		{"CaseRefreshFailureIsMadeUp", TestCaseRefreshFailureIsMadeUp},
	} {
		t.Run(tc.name, tc.fn)
	}
}

// The cluster form of each kind of single-server statement.
func TestClusterForm(t *testing.T) {
	got, err := clusterForm(`-- A comment with FINAL in it.
CREATE TABLE IF NOT EXISTS things (
    tenant  String,
    id      String,
    seen    Nullable(DateTime),
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(seen)
ORDER BY (tenant, id)`, "c", "db")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CREATE TABLE IF NOT EXISTS db.things_local ON CLUSTER c (\n    tenant  String,\n    id      String,\n    seen    Nullable(DateTime),\n    version UInt64\n) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/things_local', '{replica}', version)\nPARTITION BY toYear(seen)\nORDER BY (tenant, id)",
		"CREATE TABLE IF NOT EXISTS db.things ON CLUSTER c AS db.things_local ENGINE = Distributed(c, db, things_local, cityHash64(tenant))",
		"CREATE VIEW IF NOT EXISTS db.things_final_local ON CLUSTER c AS SELECT * FROM db.things_local FINAL",
		"CREATE TABLE IF NOT EXISTS db.things_final ON CLUSTER c AS db.things_local ENGINE = Distributed(c, db, things_final_local)",
	}
	if strings.Join(got, "\n;\n") != strings.Join(want, "\n;\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n;\n"), strings.Join(want, "\n;\n"))
	}

	// No tenant: sharded by the first ORDER BY column; MergeTree: no _final.
	got, err = clusterForm("CREATE TABLE IF NOT EXISTS sessions (id String, user String) ENGINE = MergeTree ORDER BY id", "c", "db")
	if err != nil || len(got) != 2 || !strings.Contains(got[0], "ReplicatedMergeTree('/clickhouse/tables/{shard}/db/sessions_local', '{replica}')") ||
		!strings.HasSuffix(got[1], "cityHash64(id))") {
		t.Errorf("MergeTree without tenant: %q, %v", got, err)
	}

	got, err = clusterForm("ALTER TABLE cases ADD COLUMN x UInt8", "c", "db")
	if err != nil || len(got) != 3 || got[0] != "ALTER TABLE db.cases_local ON CLUSTER c ADD COLUMN x UInt8" || got[1] != "ALTER TABLE db.cases ON CLUSTER c ADD COLUMN x UInt8" {
		t.Errorf("ALTER: %q, %v", got, err)
	}

	// Engine arguments in parentheses of their own (a SummingMergeTree's
	// columns).
	got, err = clusterForm("CREATE TABLE IF NOT EXISTS sums (tenant String, k String, n Int64, m Int64) ENGINE = SummingMergeTree((n, m)) ORDER BY (tenant, k)", "c", "db")
	if err != nil || len(got) != 4 || got[0] != "CREATE TABLE IF NOT EXISTS db.sums_local ON CLUSTER c (tenant String, k String, n Int64, m Int64) ENGINE = "+
		"ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/db/sums_local', '{replica}', (n, m)) ORDER BY (tenant, k)" {
		t.Errorf("SummingMergeTree((n, m)): %q, %v", got, err)
	}

	// DROP TABLE drops every object CREATE TABLE made, Distributed first.
	got, err = clusterForm("-- Not needed any more.\nDROP TABLE IF EXISTS case_days", "c", "db")
	if want := []string{"DROP TABLE IF EXISTS db.case_days_final ON CLUSTER c", "DROP TABLE IF EXISTS db.case_days_final_local ON CLUSTER c",
		"DROP TABLE IF EXISTS db.case_days ON CLUSTER c", "DROP TABLE IF EXISTS db.case_days_local ON CLUSTER c"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("DROP TABLE: %q, %v; want %q", got, err, want)
	}

	if _, err := clusterForm("CREATE TABLE IF NOT EXISTS t (tenant String) ENGINE = ReplicatedMergeTree('/p', 'r') ORDER BY tenant", "c", "db"); err == nil ||
		!strings.Contains(err.Error(), "write the single-server engine") {
		t.Errorf("a Replicated engine in a migration: %v", err)
	}
	if _, err := clusterForm("CREATE DICTIONARY d (k UInt64) PRIMARY KEY k", "c", "db"); err == nil || !strings.Contains(err.Error(), `no cluster form for a statement starting "CREATE DICTIONARY d"`) {
		t.Errorf("an unknown statement: %v", err)
	}

	for in, want := range map[string]string{
		"SELECT a FROM probe_results FINAL WHERE tenant = ?":                           "SELECT a FROM probe_results_final WHERE tenant = ?",
		"SELECT 1 WHERE (a, b) IN (SELECT x, y FROM t) AND c NOT IN (SELECT z FROM u)": "SELECT 1 WHERE (a, b) GLOBAL IN (SELECT x, y FROM t) AND c GLOBAL NOT IN (SELECT z FROM u)",
		"SELECT 1 WHERE a GLOBAL IN (SELECT x FROM t)":                                 "SELECT 1 WHERE a GLOBAL IN (SELECT x FROM t)",
		"ALTER TABLE observations DELETE WHERE tenant = ?":                             "ALTER TABLE db.observations_local ON CLUSTER c DELETE WHERE tenant = ?",
		"SELECT a FROM t WHERE a IN ?":                                                 "SELECT a FROM t WHERE a IN ?",
	} {
		if got := clusterSQL(in, "c", "db"); got != want {
			t.Errorf("clusterSQL(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}
