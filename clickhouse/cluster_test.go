package clickhouse

import (
	"context"
	"io/fs"
	"net/url"
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
