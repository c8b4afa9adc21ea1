// Package collectors brings the data behind a strategy's indicators from
// a municipality's systems into ClickHouse. Each kind of collector
// registers a factory at init; instances are configured in malbild.yaml.
package collectors

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// Collector pulls one source and hands what it found to a Sink, one
// validated batch at a time (a batch is one file or one upstream answer).
type Collector interface {
	Collect(ctx context.Context, req Request, out Sink) error
}

// Sink receives validated batches. The runner's sink writes them to
// ClickHouse (spooling them to disk while ClickHouse is down); the dry-run
// sink prints them.
type Sink interface {
	Write(ctx context.Context, b *facts.Batch) error
}

// Request is one run of a collector.
type Request struct {
	Tenant string
	// From and To bound a backfill; both zero means the collector's normal
	// incremental run.
	From, To time.Time
	// Progress, when set, is told about files and rows as they are read.
	Progress Progress
	// Indicators, when not nil, is the set of indicator ids the strategy
	// knows; collectors that write observations (series_csv) reject ids
	// outside it.
	Indicators map[string]bool
	// Units gives the unit of the strategy's indicators where known, so
	// collectors can range-check values (a percent outside 0–100).
	Units map[string]strategy.Unit
}

// Progress receives progress reports from a running collector.
type Progress interface {
	File(name string)
	Rows(n int)
}

// Instance is one configured collector from malbild.yaml.
type Instance struct {
	Name     string
	Kind     string
	Tenant   string
	Schedule time.Duration
	Timeout  time.Duration
	// Options is the kind-specific part of the configuration, decoded by
	// the factory (strictly, with file:line errors).
	Options *yaml.Node
	// File is the config file the instance came from; relative paths in
	// Options are resolved against its directory.
	File string
	// StateDir is where the collector keeps state between runs (imported
	// files, last sync) unless its options name a state_dir.
	StateDir string
}

// Factory builds a collector from its configured instance, validating the
// options.
type Factory func(inst Instance) (Collector, error)

var (
	mu        sync.RWMutex
	factories = map[string]Factory{}
)

// Register makes a collector kind available. Registering a kind twice is a
// programming error and panics.
func Register(kind string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := factories[kind]; dup {
		panic(fmt.Sprintf("collectors: kind %q registered twice", kind))
	}
	factories[kind] = f
}

// New builds the collector of inst's kind.
func New(inst Instance) (Collector, error) {
	mu.RLock()
	f, ok := factories[inst.Kind]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown collector kind %q (known: %v)", inst.Kind, Kinds())
	}
	return f(inst)
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	mu.RLock()
	defer mu.RUnlock()
	ks := make([]string, 0, len(factories))
	for k := range factories {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
