package chserver_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/malbild/malbild/chserver"
	"github.com/malbild/malbild/clickhouse"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestStopAfterCrashSaysNotRunning: Stop of a server killed from outside
// does not claim to have stopped it.
func TestStopAfterCrashSaysNotRunning(t *testing.T) {
	var log syncBuffer
	s, err := chserver.Start(context.Background(), chserver.Options{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(s.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.Done()
	s.Stop()
	out := log.String()
	if strings.Contains(out, "managed ClickHouse stopped") || !strings.Contains(out, "managed ClickHouse was not running") ||
		!strings.Contains(out, "signal: killed") {
		t.Errorf("log after Stop of a killed server:\n%s", out)
	}
}

// TestSupervisedServerComesBackAfterKill: kill -9 of the child → the
// supervisor logs it, waits its backoff, starts it again on the same port
// with the same password (the DSN taken before answers), the data written
// before is there, the restart counter is 1. A second kill, then Stop
// during the backoff: Stop returns and logs no false "stopped".
func TestSupervisedServerComesBackAfterKill(t *testing.T) {
	ctx := context.Background()
	var log syncBuffer
	states := make(chan chserver.State, 100)
	sleeps := make(chan time.Duration)
	wake := make(chan struct{})
	v, err := chserver.Supervise(ctx, chserver.SuperviseOptions{
		Options: chserver.Options{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&log, nil))},
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
	defer v.Stop()
	waitPhase := func(p chserver.Phase) chserver.State {
		t.Helper()
		for {
			select {
			case s := <-states:
				if s.Phase == p {
					return s
				}
			case <-time.After(2 * time.Minute): // a bound on a failing test only
				t.Fatalf("no %s state within 2 minutes\n%s", p, log.String())
			}
		}
	}
	first := waitPhase(chserver.Running)
	dsn := v.DSN("default")
	// One store, one connection pool, across the restart.
	store, err := clickhouse.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Exec(ctx, "CREATE TABLE default.kept (x UInt8) ENGINE = TinyLog"); err != nil {
		t.Fatal(err)
	}
	b, err := store.Conn().PrepareBatch(ctx, "INSERT INTO default.kept (x)")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(uint8(7)); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}

	if err := syscall.Kill(first.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-sleeps:
		if d != time.Second {
			t.Errorf("first backoff %s, want 1s", d)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("no backoff after the kill\n%s", log.String())
	}
	down := v.State()
	if down.Phase != chserver.Down || down.Err == nil || !strings.Contains(down.Err.Error(), "killed") {
		t.Errorf("state after the kill %+v, want down with the kill as the reason", down)
	}
	if out := log.String(); !strings.Contains(out, "exited unexpectedly") || !strings.Contains(out, "signal: killed") {
		t.Errorf("the crash is not logged with its status:\n%s", out)
	}
	wake <- struct{}{}
	back := waitPhase(chserver.Running)
	if back.Restarts != 1 || back.Pid == first.Pid {
		t.Errorf("state after the restart %+v, want restart 1 with a new pid", back)
	}
	if v.DSN("default") != dsn {
		t.Error("the DSN changed across the restart")
	}
	// The pool reconnects: Ping may see a connection of the dead server
	// once; the deadline only bounds a failing test.
	deadline := time.Now().Add(time.Minute)
	for store.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the DSN taken before the kill does not answer after the restart: %v", store.Ping(ctx))
		}
		<-time.After(50 * time.Millisecond)
	}
	var x uint8
	if err := store.Conn().QueryRow(ctx, "SELECT x FROM default.kept").Scan(&x); err != nil || x != 7 {
		t.Errorf("after the restart: x = %d, %v; want 7", x, err)
	}

	// Killed again, then stopped while waiting to restart.
	if err := syscall.Kill(back.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sleeps:
	case <-time.After(2 * time.Minute):
		t.Fatalf("no backoff after the second kill\n%s", log.String())
	}
	v.Stop()
	if st := v.State(); st.Phase != chserver.Stopped || st.Restarts != 1 {
		t.Errorf("state after Stop %+v", st)
	}
	out := log.String()
	if strings.Contains(out, "managed ClickHouse stopped") || !strings.Contains(out, "managed ClickHouse was not running") {
		t.Errorf("Stop after a crash claims to have stopped the server:\n%s", out)
	}
}
