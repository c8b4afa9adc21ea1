package dashboards

import (
	"context"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// Store is what the dashboards read; *clickhouse.Store satisfies it. The
// dashboards only read precomputed observations, never raw facts.
type Store interface {
	// Ping answers nil while the store can be reached (/-/ready).
	Ping(ctx context.Context) error
	// DataVersion changes whenever a tenant's observations or assessments
	// change; the caches are dropped when it does.
	DataVersion(ctx context.Context, tenant string) (uint64, error)
	Observations(ctx context.Context, f clickhouse.ObservationFilter) ([]strategy.Observation, error)
	Assessments(ctx context.Context, f clickhouse.AssessmentFilter) ([]strategy.Assessment, error)
	AssessmentHistory(ctx context.Context, tenant string, subject strategy.SubjectKind, id string) ([]strategy.Assessment, error)
	CollectorStatus(ctx context.Context, tenant string) ([]clickhouse.CollectorStatus, error)
	ServiceStatus(ctx context.Context, tenant string) ([]clickhouse.ServiceStatus, error)
	Benchmarks(ctx context.Context, tenant string, kpis []string) ([]facts.BenchmarkValue, error)
	// BodyReports and ActivityUpdates are the follow-up's body reports and
	// activity updates, the same reads its period report makes.
	BodyReports(ctx context.Context, tenant string) ([]clickhouse.BodyReport, error)
	ActivityUpdates(ctx context.Context, tenant string) ([]clickhouse.ActivityUpdate, error)
}

var _ Store = (*clickhouse.Store)(nil)
