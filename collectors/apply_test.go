package collectors

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// started is a collector run that began: which collector, built from
// which options, and its context.
type started struct {
	name, opts string
	ctx        context.Context
}

// blockingRunner is a runner whose collectors announce each run on
// starts and then block until their context ends. Sleeps for jitter (0)
// return at once; every other sleep waits for its context, so each
// collector runs once per loop.
func blockingRunner(t *testing.T, insts []Instance) (*Runner, chan started, *int) {
	t.Helper()
	starts := make(chan started, 16)
	builds := new(int)
	r, err := NewRunner(RunnerConfig{
		Instances: insts,
		Sink:      &memSink{},
		Rand:      func() float64 { return 0 },
		Sleep: func(ctx context.Context, d time.Duration) error {
			if d > 0 {
				<-ctx.Done()
			}
			return ctx.Err()
		},
		Build: func(inst Instance) (Collector, error) {
			*builds++
			if inst.Kind != "block" {
				return nil, fmt.Errorf("collector %s: unknown kind %q", inst.Name, inst.Kind)
			}
			opts := string(nodeText(inst.Options))
			return collectFunc(func(ctx context.Context, _ Request, _ Sink) error {
				starts <- started{name: inst.Name, opts: opts, ctx: ctx}
				<-ctx.Done()
				return ctx.Err()
			}), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, starts, builds
}

func blockInst(t *testing.T, name, opts string, line int) Instance {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(opts), &doc); err != nil {
		t.Fatal(err)
	}
	n := doc.Content[0]
	n.Line = line // where it stands in the file does not matter
	return Instance{Name: name, Kind: "block", Tenant: "0120", Schedule: time.Hour, Options: n}
}

// next waits for the next run to start.
func next(t *testing.T, starts chan started) started {
	t.Helper()
	select {
	case s := <-starts:
		return s
	case <-time.After(30 * time.Second):
		t.Fatal("no collector run started")
		return started{}
	}
}

// TestApplyConfigRestartsOnlyChanged: a reload that changes one
// collector's options restarts that one; the run in progress of an
// unchanged one goes on, even when the config moved it.
func TestApplyConfigRestartsOnlyChanged(t *testing.T) {
	a1, b1 := blockInst(t, "a", "path: a.csv\n", 10), blockInst(t, "b", "path: b.csv\n", 20)
	r, starts, builds := blockingRunner(t, []Instance{a1, b1})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- r.Serve(ctx) }()
	runs := map[string]started{}
	for range 2 {
		s := next(t, starts)
		runs[s.name] = s
	}
	a2, b2 := blockInst(t, "a", "path: a.csv\n", 30), blockInst(t, "b", "path: b2.csv\n", 40)
	c3 := blockInst(t, "c", "path: c.csv\n", 50)
	ch, err := r.ApplyConfig([]Instance{b2, a2, c3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ch.Restarted, []string{"b"}) || !slices.Equal(ch.Added, []string{"c"}) || len(ch.Removed) != 0 {
		t.Errorf("changes = %+v", ch)
	}
	got := map[string]started{}
	for range 2 {
		s := next(t, starts)
		got[s.name] = s
	}
	if s, ok := got["b"]; !ok || s.opts != "path: b2.csv\n" {
		t.Errorf("b was not restarted with its new options: %+v", got)
	}
	if _, ok := got["c"]; !ok {
		t.Errorf("c was not started: %+v", got)
	}
	if err := runs["b"].ctx.Err(); err == nil {
		t.Error("the old b still runs")
	}
	if err := runs["a"].ctx.Err(); err != nil {
		t.Errorf("the unchanged a was stopped: %v", err)
	}
	if *builds != 4 {
		t.Errorf("%d collectors built, want 4 (a, b, then b and c)", *builds)
	}
	if !slices.Equal(r.Names(), []string{"b", "a", "c"}) {
		t.Errorf("names = %v", r.Names())
	}
	// Removing a stops it; a bad config changes nothing.
	if _, err := r.ApplyConfig([]Instance{b2, {Name: "x", Kind: "nope"}}, nil); err == nil {
		t.Fatal("a config with a bad collector was applied")
	}
	if err := runs["a"].ctx.Err(); err != nil {
		t.Errorf("a refused config stopped a: %v", err)
	}
	ch, err = r.ApplyConfig([]Instance{b2, c3}, nil)
	if err != nil || !slices.Equal(ch.Removed, []string{"a"}) {
		t.Fatalf("removing a: %+v, %v", ch, err)
	}
	<-runs["a"].ctx.Done()
	if err := got["b"].ctx.Err(); err != nil {
		t.Errorf("removing a stopped b: %v", err)
	}
	cancel()
	select {
	case <-served:
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	for _, s := range got {
		if s.ctx.Err() == nil {
			t.Errorf("%s still runs after Serve returned", s.name)
		}
	}
}
