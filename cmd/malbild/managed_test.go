package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/malbild/malbild/chserver"
	malcollectors "github.com/malbild/malbild/collectors"
	"github.com/malbild/malbild/config"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fetch returns the status and body of GET url.
func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric returns the value of the sample name on /metrics ("" if none).
func metric(t *testing.T, base, name string) string {
	t.Helper()
	_, body := fetch(t, base+"metrics")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestServeManagedClickHouseComesBack: serve over the managed local
// ClickHouse; kill -9 of the child → the crash is logged, /-/ready answers
// 503 and /metrics says down while the supervisor waits its backoff; then
// the server comes back by itself on the same DSN with the data written
// before, a write spooled while it was down is drained into it, /-/ready
// answers 200 again, the restart counter is 1 — without
// restarting Målbild. Shutdown after a second crash logs no false
// "stopped".
func TestServeManagedClickHouseComesBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.ClickHouse.DataDir = filepath.Join(dir, "clickhouse")
	cfg.SpoolDir = filepath.Join(dir, "spool")
	cfg.StateDir = filepath.Join(dir, "state")
	var logs lockedBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	st, err := strategy.Load("../../examples/strategies/varmdo.yaml")
	if err != nil {
		t.Fatal(err)
	}

	// The supervisor's backoff waits until the test says go, so the
	// down state can be looked at; its states come on a channel.
	states := make(chan chserver.State, 100)
	sleeps := make(chan time.Duration)
	wake := make(chan struct{})
	store, managed, closeStore, err := openSupervisedStore(ctx, cfg, log, chserver.SuperviseOptions{
		OnState: func(s chserver.State) { states <- s },
		Sleep: func(ctx context.Context, d time.Duration) error {
			select {
			case sleeps <- d:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case <-wake:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	storeClosed := false
	defer func() {
		if !storeClosed {
			closeStore()
		}
	}()
	bound := 2 * time.Minute // bounds a failing test only
	waitRunning := func() chserver.State {
		t.Helper()
		for {
			select {
			case s := <-states:
				if s.Phase == chserver.Running {
					return s
				}
			case <-time.After(bound):
				t.Fatalf("the managed ClickHouse is not running within %s\n%s", bound, logs.String())
			}
		}
	}
	first := waitRunning()

	// Data written before the crash.
	if err := store.Exec(ctx, "CREATE TABLE kept (x UInt8) ENGINE = TinyLog"); err != nil {
		t.Fatal(err)
	}
	b, err := store.Conn().PrepareBatch(ctx, "INSERT INTO kept (x)")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(uint8(7)); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	dsn := managed.DSN("malbild")
	spool, err := malcollectors.OpenSpool(filepath.Join(dir, "test-spool"))
	if err != nil {
		t.Fatal(err)
	}

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	addrc := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- serve(sctx, serveOptions{cfg: cfg, strategies: []*strategy.Strategy{st}, store: store, managed: managed, log: log,
			ready: func(addr string) { addrc <- addr }})
	}()
	var base string
	select {
	case addr := <-addrc:
		base = "http://" + addr + "/"
	case err := <-served:
		t.Fatalf("serve ended before listening: %v\n%s", err, logs.String())
	case <-time.After(bound):
		t.Fatal("serve does not listen")
	}
	if code, body := fetch(t, base+"-/ready"); code != http.StatusOK {
		t.Fatalf("/-/ready before the crash: %d %s", code, body)
	}
	if v := metric(t, base, "malbild_managed_clickhouse_up"); v != "1" {
		t.Errorf("malbild_managed_clickhouse_up = %q before the crash, want 1", v)
	}

	// kill -9 of the child, as an operator or the OOM killer would.
	if err := syscall.Kill(first.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sleeps:
	case <-time.After(bound):
		t.Fatalf("the supervisor does not notice the crash\n%s", logs.String())
	}
	if code, body := fetch(t, base+"-/ready"); code != http.StatusServiceUnavailable {
		t.Errorf("/-/ready while the managed ClickHouse is down: %d %s, want 503", code, body)
	}
	if v := metric(t, base, "malbild_managed_clickhouse_up"); v != "0" {
		t.Errorf("malbild_managed_clickhouse_up = %q while down, want 0", v)
	}
	// A collector's write while it is down goes to the spool.
	sink := malcollectors.NewStoreSink(store, spool, log)
	batch := &facts.Batch{Tenant: "0120", Collector: "arenden", Source: "arenden.csv", Version: 1,
		Cases: []facts.Case{{ID: "BN 2026/0001", Type: "Bygglov", Channel: "E-tjänst", Digital: true,
			Received: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)}}}
	if spooled, err := sink.Deliver(ctx, batch); err != nil || !spooled {
		t.Errorf("a write while the managed ClickHouse is down: spooled %v, %v; want spooled", spooled, err)
	}
	if out := logs.String(); !strings.Contains(out, "managed ClickHouse exited unexpectedly") || !strings.Contains(out, "signal: killed") {
		t.Errorf("the crash is not logged with its exit status:\n%s", out)
	}

	// Let it restart: it comes back by itself.
	wake <- struct{}{}
	back := waitRunning()
	if back.Restarts != 1 || back.Pid == first.Pid {
		t.Errorf("after the restart: %+v, want restart 1 and a new process", back)
	}
	if managed.DSN("malbild") != dsn {
		t.Error("the DSN changed across the restart")
	}
	deadline := time.Now().Add(bound)
	for {
		code, _ := fetch(t, base+"-/ready")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/-/ready still %d %s after the restart\n%s", code, bound, logs.String())
		}
		<-time.After(50 * time.Millisecond)
	}
	var x uint8
	if err := store.Conn().QueryRow(ctx, "SELECT x FROM kept").Scan(&x); err != nil || x != 7 {
		t.Errorf("data written before the crash: x = %d, %v; want 7", x, err)
	}
	// The spooled write reaches ClickHouse once it is back.
	if res, err := sink.Drain(ctx); err != nil || res.Sent != 1 || res.Left != 0 {
		t.Errorf("drain after the restart: %+v, %v; want 1 sent", res, err)
	}
	var cases uint64
	if err := store.Conn().QueryRow(ctx, "SELECT count() FROM cases WHERE tenant = ?", "0120").Scan(&cases); err != nil || cases != 1 {
		t.Errorf("cases after the drain: %d, %v; want 1", cases, err)
	}
	if code, body := fetch(t, base); code != http.StatusOK {
		t.Errorf("/ after the restart: %d %.300s", code, body)
	}
	if v := metric(t, base, "malbild_managed_clickhouse_restarts_total"); v != "1" {
		t.Errorf("malbild_managed_clickhouse_restarts_total = %q, want 1", v)
	}
	if v := metric(t, base, "malbild_managed_clickhouse_up"); v != "1" {
		t.Errorf("malbild_managed_clickhouse_up = %q after the restart, want 1", v)
	}

	// A second crash, then shutdown during the backoff: it ends, and the
	// log says the server was not running rather than "stopped".
	if err := syscall.Kill(back.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sleeps:
	case <-time.After(bound):
		t.Fatalf("the supervisor does not notice the second crash\n%s", logs.String())
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(bound):
		t.Fatal("serve does not end")
	}
	closeStore()
	storeClosed = true
	out := logs.String()
	if strings.Contains(out, "managed ClickHouse stopped") || !strings.Contains(out, "managed ClickHouse was not running") {
		t.Errorf("shutdown after a crash claims to have stopped the server:\n%s", out)
	}
}
