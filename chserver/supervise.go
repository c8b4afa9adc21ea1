package chserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"sync"
	"time"
)

// Phase is where a supervised server is in its life.
type Phase int

const (
	// Starting: a server process is starting and does not answer yet.
	Starting Phase = iota
	// Running: the server answers.
	Running
	// Down: the server died or failed to start; the supervisor waits
	// State.Backoff before it starts it again.
	Down
	// Stopped: Stop was called; no process runs and none will.
	Stopped
)

func (p Phase) String() string {
	switch p {
	case Starting:
		return "starting"
	case Running:
		return "running"
	case Down:
		return "down"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// State is a supervised server's state, as OnState and State report it.
type State struct {
	Phase Phase
	// Pid is the process id of the server while Starting or Running.
	Pid int
	// Restarts counts the successful starts after the first one.
	Restarts int
	// Failures counts the starts after the first one that failed.
	Failures int
	// Backoff is, while Down, how long the supervisor waits before the
	// next start.
	Backoff time.Duration
	// Err is, while Down, why: the exit status or the start error.
	Err error
}

// SuperviseOptions configure a supervised server.
type SuperviseOptions struct {
	// Options are the server's; ports picked at the first start are kept
	// for the restarts, and so is the password (in DataDir), so a DSN
	// stays valid across restarts.
	Options
	// MinBackoff is the wait before the first restart after a crash
	// (default 1s); every failure in a row doubles it, up to MaxBackoff
	// (default 1 minute).
	MinBackoff, MaxBackoff time.Duration
	// Healthy is how long a server must have run for its death to start
	// the backoff at MinBackoff again (default 1 minute).
	Healthy time.Duration
	// Now and Sleep replace the clock and waiting in tests. Sleep returns
	// ctx.Err() if ctx ends first.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// OnState, when set, is called with every change of state, in order,
	// from the supervisor's goroutine (and from Supervise and Stop). It
	// must not call Stop.
	OnState func(State)

	// start starts a server process; tests replace it.
	start func(ctx context.Context, o Options) (child, error)
}

// child is a server process as the supervisor sees it; *Server is one.
type child interface {
	Done() <-chan struct{}
	Pid() int
	// exitErr is the error of the process's Wait, once Done is closed.
	exitErr() error
	tail() string
	// Stop stops a running process and logs what it did.
	Stop() error
	// release frees what a process that has exited still holds.
	release()
	options() Options
}

func (s *Server) exitErr() error   { return s.waitErr }
func (s *Server) options() Options { return s.opts }

// Supervisor runs a managed clickhouse-server and starts it again, with
// backoff, whenever it dies, until Stop.
type Supervisor struct {
	opts   SuperviseOptions
	log    *slog.Logger
	dsn    func(db string) string
	addr   string
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	state State
	cur   child

	stopOnce sync.Once
}

// Supervise starts the server as Start does (an error if that first start
// fails) and then watches it: when the process exits without Stop having
// been called, the supervisor logs its exit status and the tail of its
// log, and starts it again on the same ports with the same password after
// a backoff. ctx bounds the first start only; the supervisor runs until
// Stop.
func Supervise(ctx context.Context, o SuperviseOptions) (*Supervisor, error) {
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.Healthy <= 0 {
		o.Healthy = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.start == nil {
		o.start = func(ctx context.Context, o Options) (child, error) {
			s, err := Start(ctx, o)
			if err != nil {
				return nil, err
			}
			return s, nil
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	v := &Supervisor{opts: o, log: o.Logger, done: make(chan struct{})}
	v.setState(State{Phase: Starting})
	c, err := o.start(ctx, o.Options)
	if err != nil {
		return nil, err
	}
	// The restarts use the ports the first start picked.
	v.opts.Options = c.options()
	if s, ok := c.(*Server); ok {
		v.dsn, v.addr = s.DSN, s.Addr()
	}
	v.cur = c
	// A run's length counts from before its Running state is seen, so
	// that whoever sees it (and waits, or advances a test clock) cannot
	// come before its start.
	started := v.opts.Now()
	v.setState(State{Phase: Running, Pid: c.Pid()})
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	v.cancel = cancel
	go v.run(lctx, c, started)
	return v, nil
}

// DSN returns a DSN for database db on the server, valid across restarts.
// It is a secret: do not log it.
func (v *Supervisor) DSN(db string) string { return v.dsn(db) }

// Addr is the native-protocol address, host:port.
func (v *Supervisor) Addr() string { return v.addr }

// DataDir is where the server keeps its data.
func (v *Supervisor) DataDir() string { return v.opts.DataDir }

// State returns the current state.
func (v *Supervisor) State() State {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.state
}

// Done is closed when the supervisor has stopped watching: after Stop.
func (v *Supervisor) Done() <-chan struct{} { return v.done }

func (v *Supervisor) setState(st State) {
	v.mu.Lock()
	v.state = st
	v.mu.Unlock()
	if v.opts.OnState != nil {
		v.opts.OnState(st)
	}
}

// backoff is the wait before the start after n failures in a row (n ≥ 1).
func (v *Supervisor) backoff(n int) time.Duration {
	d := v.opts.MinBackoff
	for i := 1; i < n && d < v.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, v.opts.MaxBackoff)
}

// run supervises c, which has been running since started.
func (v *Supervisor) run(ctx context.Context, c child, started time.Time) {
	defer close(v.done)
	restarts, failures, inARow := 0, 0, 0
	for {
		select {
		case <-ctx.Done():
			return // Stop stops the process.
		case <-c.Done():
		}
		ran := v.opts.Now().Sub(started)
		exit := exitError(c.exitErr())
		c.release()
		v.log.Error("managed ClickHouse exited unexpectedly; it will be started again",
			"pid", c.Pid(), "status", exit.Error(), "ran", ran.Round(time.Millisecond),
			"data", v.opts.DataDir, "log_tail", c.tail())
		if ran >= v.opts.Healthy {
			inARow = 0
		}
		why := exit
		for {
			inARow++
			d := v.backoff(inARow)
			v.setState(State{Phase: Down, Restarts: restarts, Failures: failures, Backoff: d, Err: why})
			if err := v.opts.Sleep(ctx, d); err != nil {
				return
			}
			v.setState(State{Phase: Starting, Restarts: restarts, Failures: failures})
			n, err := v.opts.start(ctx, v.opts.Options)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				failures++
				why = err
				v.log.Error("managed ClickHouse did not start again", "err", err, "failures", failures)
				continue
			}
			restarts++
			v.mu.Lock()
			v.cur = n
			v.mu.Unlock()
			v.log.Info("managed ClickHouse started again", "pid", n.Pid(), "restarts", restarts, "addr", v.addr)
			started = v.opts.Now()
			v.setState(State{Phase: Running, Pid: n.Pid(), Restarts: restarts, Failures: failures})
			c = n
			break
		}
	}
}

// Stop ends the supervision — also during a backoff or a restart — and
// stops the server if it runs. It logs what is true: "stopped" for a
// process it stopped, "was not running" when there was none.
func (v *Supervisor) Stop() error {
	v.stopOnce.Do(func() {
		v.cancel()
		<-v.done
		v.mu.Lock()
		c, st := v.cur, v.state
		v.mu.Unlock()
		select {
		case <-c.Done():
			c.release()
			v.log.Info("managed ClickHouse was not running", "last_pid", c.Pid(), "status", exitError(c.exitErr()).Error())
		default:
			c.Stop()
		}
		v.setState(State{Phase: Stopped, Restarts: st.Restarts, Failures: st.Failures})
	})
	return nil
}

// exitError describes how a process ended; Wait's nil is a clean exit,
// which for a server that should run is still an unexpected one.
func exitError(err error) error {
	if err == nil {
		return errors.New("exit status 0")
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return errors.New(ee.ProcessState.String())
	}
	return err
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
