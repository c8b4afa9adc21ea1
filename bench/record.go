package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/dashboards"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// storeCall is one store call a page made, ready to be made again
// directly against ClickHouse.
type storeCall struct {
	name string
	run  func(ctx context.Context, s *clickhouse.Store) error
}

// recorder is the dashboards' store: it passes every call on and
// remembers the reads, so the bench can time the same queries without
// the dashboards around them. Methods of dashboards.Store it does not
// know are passed on unrecorded.
type recorder struct {
	dashboards.Store

	mu    sync.Mutex
	calls []storeCall
}

func (r *recorder) add(name string, run func(ctx context.Context, s *clickhouse.Store) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, storeCall{name: name, run: run})
}

// take returns the calls recorded so far and forgets them.
func (r *recorder) take() []storeCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func (r *recorder) DataVersion(ctx context.Context, tenant string) (uint64, error) {
	r.add("DataVersion", func(ctx context.Context, s *clickhouse.Store) error {
		_, err := s.DataVersion(ctx, tenant)
		return err
	})
	return r.Store.DataVersion(ctx, tenant)
}

func (r *recorder) Observations(ctx context.Context, f clickhouse.ObservationFilter) ([]strategy.Observation, error) {
	r.add("Observations", func(ctx context.Context, s *clickhouse.Store) error {
		_, err := s.Observations(ctx, f)
		return err
	})
	return r.Store.Observations(ctx, f)
}

func (r *recorder) Assessments(ctx context.Context, f clickhouse.AssessmentFilter) ([]strategy.Assessment, error) {
	r.add("Assessments", func(ctx context.Context, s *clickhouse.Store) error {
		_, err := s.Assessments(ctx, f)
		return err
	})
	return r.Store.Assessments(ctx, f)
}

func (r *recorder) AssessmentHistory(ctx context.Context, tenant string, subject strategy.SubjectKind, id string) ([]strategy.Assessment, error) {
	r.add("AssessmentHistory", func(ctx context.Context, s *clickhouse.Store) error {
		_, err := s.AssessmentHistory(ctx, tenant, subject, id)
		return err
	})
	return r.Store.AssessmentHistory(ctx, tenant, subject, id)
}

func (r *recorder) CollectorStatus(ctx context.Context, tenant string) ([]clickhouse.CollectorStatus, error) {
	r.add("CollectorStatus", func(ctx context.Context, s *clickhouse.Store) error {
		_, err := s.CollectorStatus(ctx, tenant)
		return err
	})
	return r.Store.CollectorStatus(ctx, tenant)
}

func (r *recorder) ServiceStatus(ctx context.Context, tenant string) ([]clickhouse.ServiceStatus, error) {
	r.add("ServiceStatus", func(ctx context.Context, s *clickhouse.Store) error {
		_, err := s.ServiceStatus(ctx, tenant)
		return err
	})
	return r.Store.ServiceStatus(ctx, tenant)
}

func (r *recorder) Benchmarks(ctx context.Context, tenant string, kpis []string) ([]facts.BenchmarkValue, error) {
	r.add("Benchmarks", func(ctx context.Context, s *clickhouse.Store) error {
		_, err := s.Benchmarks(ctx, tenant, kpis)
		return err
	})
	return r.Store.Benchmarks(ctx, tenant, kpis)
}

// replay makes the calls again, one after the other, and returns the
// total time and the time of each call.
func replay(ctx context.Context, s *clickhouse.Store, calls []storeCall) (time.Duration, []time.Duration, error) {
	each := make([]time.Duration, len(calls))
	start := time.Now()
	for i, c := range calls {
		t := time.Now()
		if err := c.run(ctx, s); err != nil {
			return 0, nil, fmt.Errorf("%s: %w", c.name, err)
		}
		each[i] = time.Since(t)
	}
	return time.Since(start), each, nil
}

// callTimes lists calls with their times: "DataVersion 2.10 ms, …".
func callTimes(calls []storeCall, times []time.Duration) string {
	parts := make([]string, len(calls))
	for i, c := range calls {
		parts[i] = c.name
		if i < len(times) {
			parts[i] += " " + ms(times[i])
		}
	}
	return strings.Join(parts, ", ")
}
