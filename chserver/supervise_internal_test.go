package chserver

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeChild is a server process the test ends with die.
type fakeChild struct {
	pid      int
	done     chan struct{}
	err      error
	stopped  bool
	released bool
}

func newFakeChild(pid int) *fakeChild { return &fakeChild{pid: pid, done: make(chan struct{})} }

func (f *fakeChild) die(err error)         { f.err = err; close(f.done) }
func (f *fakeChild) Done() <-chan struct{} { return f.done }
func (f *fakeChild) Pid() int              { return f.pid }
func (f *fakeChild) exitErr() error        { return f.err }
func (f *fakeChild) tail() string          { return "last line of the fake log" }
func (f *fakeChild) Stop() error           { f.stopped = true; f.die(nil); return nil }
func (f *fakeChild) release()              { f.released = true }
func (f *fakeChild) options() Options {
	return Options{DataDir: "/fake", TCPPort: 9001, HTTPPort: 8124}
}

// lockedBuffer is a log sink the supervisor's goroutine may write to.
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

// harness drives a Supervisor over fake children: every start takes its
// result from starts, every Sleep reports its duration on sleeps and
// returns when the test sends on wake (or ctx ends), and the clock is
// moved by the test.
type harness struct {
	t      *testing.T
	starts chan func() (child, error)
	sleeps chan time.Duration
	wake   chan struct{}
	states chan State
	log    *lockedBuffer

	mu  sync.Mutex
	now time.Time
}

func newHarness(t *testing.T) *harness {
	return &harness{
		t: t, starts: make(chan func() (child, error), 100), sleeps: make(chan time.Duration),
		wake: make(chan struct{}), states: make(chan State, 1000), log: &lockedBuffer{},
		now: time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC),
	}
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

func (h *harness) options() SuperviseOptions {
	return SuperviseOptions{
		Options:    Options{Logger: slog.New(slog.NewTextHandler(h.log, nil))},
		MinBackoff: time.Second, MaxBackoff: 30 * time.Second, Healthy: time.Minute,
		Now: func() time.Time { h.mu.Lock(); defer h.mu.Unlock(); return h.now },
		Sleep: func(ctx context.Context, d time.Duration) error {
			select {
			case h.sleeps <- d:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case <-h.wake:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		OnState: func(s State) { h.states <- s },
		start: func(ctx context.Context, o Options) (child, error) {
			if o.TCPPort != 0 && o.TCPPort != 9001 {
				h.t.Errorf("restart on TCP port %d, want the first start's 9001", o.TCPPort)
			}
			select {
			case f := <-h.starts:
				return f()
			default:
				h.t.Error("a start the test did not expect")
				return nil, errors.New("unexpected start")
			}
		},
	}
}

// nextSleep waits for the supervisor's next backoff; the deadline is
// only a bound on a failing test.
func (h *harness) nextSleep() time.Duration {
	h.t.Helper()
	select {
	case d := <-h.sleeps:
		return d
	case <-time.After(time.Minute):
		h.t.Fatal("no backoff sleep within a minute")
		return 0
	}
}

// waitPhase waits for the state phase p.
func (h *harness) waitPhase(p Phase) State {
	h.t.Helper()
	for {
		select {
		case s := <-h.states:
			if s.Phase == p {
				return s
			}
		case <-time.After(time.Minute):
			h.t.Fatalf("no %s state within a minute", p)
		}
	}
}

func TestBackoffGrowsAndIsCappedWhenStartsFail(t *testing.T) {
	h := newHarness(t)
	first := newFakeChild(100)
	h.starts <- func() (child, error) { return first, nil }
	for range 8 {
		h.starts <- func() (child, error) { return nil, errors.New("clickhouse-server exited during start-up") }
	}
	v, err := Supervise(context.Background(), h.options())
	if err != nil {
		t.Fatal(err)
	}
	h.waitPhase(Running)
	first.die(errors.New("signal: killed"))
	var got []time.Duration
	for i := range 8 {
		got = append(got, h.nextSleep())
		if i < 7 {
			h.wake <- struct{}{}
		}
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for i := range want {
		want[i] *= time.Second
	}
	if !slices.Equal(got, want) {
		t.Errorf("backoff sequence %v, want %v", got, want)
	}
	// Stop during the backoff ends cleanly, and says the server was not
	// running rather than "stopped".
	v.Stop()
	st := v.State()
	if st.Phase != Stopped || st.Failures != 7 || st.Restarts != 0 {
		t.Errorf("state after Stop = %+v, want stopped with 7 failures, no restart", st)
	}
	log := h.log.String()
	if strings.Contains(log, "managed ClickHouse stopped") || !strings.Contains(log, "managed ClickHouse was not running") {
		t.Errorf("log after stopping a dead server:\n%s", log)
	}
	if !strings.Contains(log, "exited unexpectedly") || !strings.Contains(log, "last line of the fake log") || !strings.Contains(log, "signal: killed") {
		t.Errorf("the crash is not logged with its status and log tail:\n%s", log)
	}
	if strings.Count(log, "did not start again") != 7 {
		t.Errorf("want 7 failed starts logged:\n%s", log)
	}
}

func TestBackoffResetsAfterAHealthyRun(t *testing.T) {
	h := newHarness(t)
	children := []*fakeChild{newFakeChild(1), newFakeChild(2), newFakeChild(3), newFakeChild(4), newFakeChild(5)}
	for _, c := range children {
		h.starts <- func() (child, error) { return c, nil }
	}
	v, err := Supervise(context.Background(), h.options())
	if err != nil {
		t.Fatal(err)
	}
	defer v.Stop()
	var got []time.Duration
	// Three quick deaths (1s, 2s, 4s), then one after a healthy run
	// (back to 1s).
	for i, ran := range []time.Duration{time.Second, time.Second, time.Second, 2 * time.Minute} {
		st := h.waitPhase(Running)
		if st.Pid != children[i].pid || st.Restarts != i {
			t.Fatalf("running state %+v, want pid %d after %d restarts", st, children[i].pid, i)
		}
		h.advance(ran)
		children[i].die(errors.New("signal: killed"))
		got = append(got, h.nextSleep())
		h.wake <- struct{}{}
	}
	st := h.waitPhase(Running)
	if st.Restarts != 4 || st.Pid != 5 {
		t.Errorf("state %+v, want 4 restarts, pid 5", st)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("backoff sequence %v, want %v", got, want)
	}
	for _, c := range children[:4] {
		if !c.released || c.stopped {
			t.Errorf("dead child %d: released %v, stopped %v; want released, not stopped", c.pid, c.released, c.stopped)
		}
	}
	v.Stop()
	if !children[4].stopped {
		t.Error("Stop did not stop the running child")
	}
	if st := v.State(); st.Phase != Stopped || st.Restarts != 4 {
		t.Errorf("state after Stop %+v", st)
	}
}

func TestFirstStartFailureIsReturned(t *testing.T) {
	h := newHarness(t)
	h.starts <- func() (child, error) { return nil, ErrNotInstalled }
	if _, err := Supervise(context.Background(), h.options()); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("err = %v, want ErrNotInstalled", err)
	}
}

// TestStopDuringRestartEndsCleanly: Stop while a start after a crash is
// still waiting for the server to answer cancels that start and returns.
func TestStopDuringRestartEndsCleanly(t *testing.T) {
	h := newHarness(t)
	first := newFakeChild(1)
	o := h.options()
	starting := make(chan struct{})
	calls := 0
	o.start = func(ctx context.Context, _ Options) (child, error) {
		calls++
		if calls == 1 {
			return first, nil
		}
		close(starting)
		<-ctx.Done() // a server that does not answer yet
		return nil, ctx.Err()
	}
	v, err := Supervise(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	first.die(errors.New("signal: killed"))
	h.nextSleep()
	h.wake <- struct{}{}
	select {
	case <-starting:
	case <-time.After(time.Minute):
		t.Fatal("no restart within a minute")
	}
	v.Stop()
	st := v.State()
	if st.Phase != Stopped || st.Restarts != 0 || st.Failures != 0 {
		t.Errorf("state after Stop %+v, want stopped, no restart and no failure counted", st)
	}
	if log := h.log.String(); strings.Contains(log, "managed ClickHouse stopped") || strings.Contains(log, "did not start again") {
		t.Errorf("log:\n%s", log)
	}
}
