package clickhouse

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/internal/chtest"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// open opens a store on a fresh database of the shared test server and
// applies the schema.
func openTestStore(t *testing.T) (*Store, string) {
	t.Helper()
	dsn := testDSN(t)
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, dsn
}

func TestOpenCreatesDatabase(t *testing.T) {
	dsn := chtest.DSN(t)
	ctx := context.Background()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if want := dsn[strings.LastIndexByte(dsn, '/')+1:]; s.Database() != want {
		t.Fatalf("Database() = %q, want %q", s.Database(), want)
	}
	if got := strings.TrimSpace(chtest.Query(t, dsn, "SELECT currentDatabase()")); got != s.Database() {
		t.Fatalf("database %q not created (currentDatabase = %q)", s.Database(), got)
	}
	var v string
	if err := s.Conn().QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		t.Fatal(err)
	}
	t.Logf("server version %s", v)
	// A second Open of the existing database works too, via tcp://.
	s2, err := Open(ctx, "tcp://"+strings.TrimPrefix(dsn, "clickhouse://"))
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	// A query with a context deadline makes clickhouse-go send the
	// max_execution_time setting, which the server must accept.
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var n uint64
	if err := s.Conn().QueryRow(dctx, "SELECT count() FROM (SELECT number FROM system.numbers LIMIT ?)", 5).Scan(&n); err != nil || n != 5 {
		t.Fatalf("count = %d, err = %v", n, err)
	}
}
