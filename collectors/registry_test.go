package collectors

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

type nopCollector struct{}

func (nopCollector) Collect(context.Context, Request, Sink) error { return nil }

// uniqueKind returns a kind name no other test registers, so the tests
// can run with -count > 1 against the global registry.
func uniqueKind(t *testing.T) string {
	return fmt.Sprintf("test_%s_%d", strings.ToLower(t.Name()), time.Now().UnixNano())
}

func TestRegisterAndNew(t *testing.T) {
	kind := uniqueKind(t)
	var got Instance
	Register(kind, func(inst Instance) (Collector, error) {
		got = inst
		return nopCollector{}, nil
	})
	if !slices.Contains(Kinds(), kind) {
		t.Fatalf("Kinds() = %v, missing %s", Kinds(), kind)
	}
	if !slices.IsSorted(Kinds()) {
		t.Fatalf("Kinds() not sorted: %v", Kinds())
	}
	c, err := New(Instance{Name: "x", Kind: kind, Tenant: "0120"})
	if err != nil || c == nil {
		t.Fatalf("New: %v", err)
	}
	if got.Name != "x" || got.Tenant != "0120" {
		t.Fatalf("factory got %+v", got)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	kind := uniqueKind(t)
	f := func(Instance) (Collector, error) { return nopCollector{}, nil }
	Register(kind, f)
	defer func() {
		p := recover()
		if p == nil {
			t.Fatal("registering a kind twice did not panic")
		}
		if msg := fmt.Sprint(p); !strings.Contains(msg, kind) || !strings.Contains(msg, "registered twice") {
			t.Fatalf("panic %q does not name the kind", msg)
		}
	}()
	Register(kind, f)
}

func TestNewUnknownKind(t *testing.T) {
	_, err := New(Instance{Name: "x", Kind: "no_such_kind"})
	if err == nil {
		t.Fatal("unknown kind accepted")
	}
	if !strings.Contains(err.Error(), `unknown collector kind "no_such_kind"`) || !strings.Contains(err.Error(), "known:") {
		t.Fatalf("error %q should name the kind and list the known kinds", err)
	}
}

func TestNewRunnerUnknownKind(t *testing.T) {
	_, err := NewRunner(RunnerConfig{
		Instances: []Instance{{Name: "a", Kind: "no_such_kind"}, {Name: "b", Kind: "also_missing"}},
		Sink:      NewDryRun(&strings.Builder{}, 1),
	})
	if err == nil || !strings.Contains(err.Error(), `"no_such_kind"`) || !strings.Contains(err.Error(), `"also_missing"`) {
		t.Fatalf("NewRunner should report every unknown kind, got %v", err)
	}
}
