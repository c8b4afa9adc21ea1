package chtest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/malbild/malbild/internal/chcluster"
)

// ClusterName is the name of the test cluster in the servers'
// remote_servers.
const ClusterName = "malbild_test"

// TestCluster is a ClickHouse cluster of two shards with two replicas
// each, on loopback, coordinated by one ZooKeeper (internal/chcluster).
// Its Servers are shard 1 replica 1, shard 1 replica 2, shard 2 replica
// 1, shard 2 replica 2.
type TestCluster struct {
	*chcluster.Cluster
}

var sharedCluster *TestCluster

// Cluster returns the package's shared test cluster, starting it at the
// first call; Main stops it. A test that kills a server restarts it with
// RestartServer before it ends, for the tests that follow.
func Cluster(t testing.TB) *TestCluster {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if sharedCluster != nil {
		return sharedCluster
	}
	// Tests share a database and empty it between them: a block a test
	// inserts must not be dropped as a repeat of an earlier test's.
	c, err := chcluster.Start(context.Background(), chcluster.Options{Name: ClusterName, NoBlockDeduplication: true})
	if err != nil {
		t.Fatalf("starting the test ClickHouse cluster: %v", err)
	}
	sharedCluster = &TestCluster{c}
	return sharedCluster
}

// ClusterDSN returns a DSN in cluster mode for a fresh database on the
// shared test cluster: it connects to shard 1 replica 1 and fails over to
// the other servers. The database is dropped on every server when the
// test ends.
func ClusterDSN(t testing.TB) string {
	t.Helper()
	c := Cluster(t)
	db := fmt.Sprintf("c%d_%d", os.Getpid(), seq.Add(1))
	t.Cleanup(func() { c.Exec(t, 0, "DROP DATABASE IF EXISTS "+db+" ON CLUSTER "+ClusterName) })
	return c.DSN(db)
}

// Exec runs query on server i over HTTP and returns its output.
func (c *TestCluster) Exec(t testing.TB, i int, query string) string {
	t.Helper()
	return Exec(t, c.Server(i), query)
}

// RestartServer starts server i again on its data and ports after Kill.
func (c *TestCluster) RestartServer(t testing.TB, i int) {
	t.Helper()
	if err := c.Restart(context.Background(), i); err != nil {
		t.Fatal(err)
	}
}
