package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Run outcomes.
const (
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"
	OutcomeSpooled = "spooled" // written to the disk spool while ClickHouse was down
)

// Run is one run of a collector. The collectors' spool writes it as JSON:
// its JSON names belong to the spool's format and never change (see
// package facts).
type Run struct {
	Tenant    string    `json:"Tenant"`
	Collector string    `json:"Collector"` // instance name from malbild.yaml
	Kind      string    `json:"Kind"`      // collector kind
	Started   time.Time `json:"Started"`
	Finished  time.Time `json:"Finished"`
	Rows      uint64    `json:"Rows"`
	Outcome   string    `json:"Outcome"` // OutcomeOK, OutcomeFailed or OutcomeSpooled
	Error     string    `json:"Error"`
}

// CollectorStatus sums up one collector's runs.
type CollectorStatus struct {
	Collector string
	Kind      string // of the last run
	// LastRun is the most recently started run, with its rows and outcome.
	LastRun Run
	// LastSuccess is when the last run with outcome ok finished; zero if
	// none has succeeded.
	LastSuccess time.Time
	// LastError is the error of the last run that reported one, and
	// LastErrorTime when that run finished; empty and zero if none has.
	LastError     string
	LastErrorTime time.Time
}

var runCols = []string{"tenant", "collector", "kind", "started", "finished", "rows", "outcome", "error"}

// RecordRun appends a collector run.
func (s *Store) RecordRun(ctx context.Context, r Run) error {
	switch {
	case r.Tenant == "":
		return errors.New("recording run: no tenant")
	case r.Collector == "":
		return errors.New("recording run: no collector")
	case r.Outcome != OutcomeOK && r.Outcome != OutcomeFailed && r.Outcome != OutcomeSpooled:
		return fmt.Errorf("recording run of %s: outcome %q is not ok, failed or spooled", r.Collector, r.Outcome)
	}
	if err := checkDateTime("start", r.Started); err != nil {
		return fmt.Errorf("recording run of %s: %w", r.Collector, err)
	}
	if !r.Finished.IsZero() {
		if err := checkDateTime("finish", r.Finished); err != nil {
			return fmt.Errorf("recording run of %s: %w", r.Collector, err)
		}
	}
	rows := []Run{r}
	err := s.insert(ctx, "collector_runs", runCols, 1, func(w *blockWriter, lo, hi int) {
		strCol(w, 0, rows, func(r *Run) string { return r.Tenant })
		strCol(w, 1, rows, func(r *Run) string { return r.Collector })
		strCol(w, 2, rows, func(r *Run) string { return r.Kind })
		timeCol(w, 3, rows, func(r *Run) time.Time { return r.Started })
		timeCol(w, 4, rows, func(r *Run) time.Time { return r.Finished })
		u64Col(w, 5, rows, func(r *Run) uint64 { return r.Rows })
		strCol(w, 6, rows, func(r *Run) string { return r.Outcome })
		strCol(w, 7, rows, func(r *Run) string { return r.Error })
	})
	if err != nil {
		return fmt.Errorf("recording run of %s: %w", r.Collector, err)
	}
	return nil
}

// CollectorStatus returns the status of each collector that has recorded
// a run for tenant, sorted by collector name.
func (s *Store) CollectorStatus(ctx context.Context, tenant string) ([]CollectorStatus, error) {
	ctx = tenantContext(ctx, tenant)
	// A run's time is when it finished, or when it started if it has not
	// recorded a finish.
	const q = `SELECT collector,
	argMax(kind, started), max(started), argMax(finished, started), argMax(rows, started),
	argMax(outcome, started), argMax(error, started),
	maxIf(greatest(started, finished), outcome = 'ok'),
	argMaxIf(error, started, error != ''), maxIf(greatest(started, finished), error != '')
FROM collector_runs
WHERE tenant = ?
GROUP BY collector
ORDER BY collector`
	rows, err := s.conn.Query(ctx, q, tenant)
	if err != nil {
		return nil, fmt.Errorf("reading collector runs of %s: %w", tenant, err)
	}
	defer rows.Close()
	var out []CollectorStatus
	for rows.Next() {
		var (
			c                                     CollectorStatus
			started, finished, success, errorTime time.Time
		)
		if err := rows.Scan(&c.Collector, &c.Kind, &started, &finished, &c.LastRun.Rows,
			&c.LastRun.Outcome, &c.LastRun.Error, &success, &c.LastError, &errorTime); err != nil {
			return nil, fmt.Errorf("reading collector runs of %s: %w", tenant, err)
		}
		c.LastRun.Tenant, c.LastRun.Collector, c.LastRun.Kind = tenant, c.Collector, c.Kind
		c.LastRun.Started, c.LastRun.Finished = timeFromColumn(started), timeFromColumn(finished)
		c.LastSuccess, c.LastErrorTime = timeFromColumn(success), timeFromColumn(errorTime)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading collector runs of %s: %w", tenant, err)
	}
	return out, nil
}
