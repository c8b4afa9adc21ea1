// Package chtest gives tests a real, throwaway ClickHouse: clickhouse-server
// from PATH on a free loopback port with its data in a temporary directory.
// Tests never skip for want of a server: a missing clickhouse-server fails.
//
// A package that uses it starts with
//
//	func TestMain(m *testing.M) { chtest.Main(m) }
package chtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/malbild/malbild/chserver"
)

var (
	mu     sync.Mutex
	shared *chserver.Server
	tmp    string
	seq    atomic.Int64
)

// Main runs the package's tests and then stops the shared server.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	if shared != nil {
		shared.Stop()
		os.RemoveAll(tmp)
	}
	if sharedCluster != nil {
		sharedCluster.Stop()
	}
	mu.Unlock()
	os.Exit(code)
}

func sharedServer(t testing.TB) *chserver.Server {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		return shared
	}
	dir, err := os.MkdirTemp("", "malbild-chtest-")
	if err != nil {
		t.Fatal(err)
	}
	s, err := chserver.Start(context.Background(), chserver.Options{DataDir: dir})
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("starting throwaway ClickHouse: %v", err)
	}
	shared, tmp = s, dir
	return s
}

// DSN returns a clickhouse-go DSN for a fresh, empty database name on the
// package's shared throwaway server. The database does not exist yet
// (clickhouse.Open creates it); it is dropped when the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	s := sharedServer(t)
	db := fmt.Sprintf("t%d_%d", os.Getpid(), seq.Add(1))
	t.Cleanup(func() { Exec(t, s, "DROP DATABASE IF EXISTS "+db) })
	return s.DSN(db)
}

// Server starts a throwaway server of the test's own, for tests that stop,
// kill or restart it. It is stopped when the test ends.
func Server(t testing.TB) *chserver.Server {
	t.Helper()
	s, err := chserver.Start(context.Background(), chserver.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("starting throwaway ClickHouse: %v", err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// Restart starts s again on the same data and ports after it was stopped
// or killed, and stops the new process when the test ends.
func Restart(t testing.TB, s *chserver.Server) *chserver.Server {
	t.Helper()
	s.Stop()
	n, err := s.Restart(context.Background())
	if err != nil {
		t.Fatalf("restarting throwaway ClickHouse: %v", err)
	}
	t.Cleanup(func() { n.Stop() })
	return n
}

// Exec runs one statement over the server's HTTP interface and returns
// its output (TabSeparated). Handy for assertions independent of the code
// under test.
func Exec(t testing.TB, s *chserver.Server, query string) string {
	t.Helper()
	return post(t, s, url.Values{"query": {query}})
}

// Query runs query against the database of dsn on the shared server.
func Query(t testing.TB, dsn, query string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return post(t, sharedServer(t), url.Values{"query": {query}, "database": {strings.TrimPrefix(u.Path, "/")}})
}

func post(t testing.TB, s *chserver.Server, params url.Values) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+s.HTTPAddr()+"/?"+params.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(chserver.User, s.Password())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", params.Get("query"), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", params.Get("query"), err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", params.Get("query"), b)
	}
	return string(b)
}
