package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/malbild/malbild/strategy"
)

var periodStateCols = []string{"tenant", "period_kind", "period_start", "closed", "actor", "reason", "at", "revision"}

// PeriodState is whether a report period is closed for writing, as
// decided last.
type PeriodState struct {
	Tenant string
	Period strategy.Period
	Closed bool
	Actor  string
	// Reason is required when a period is reopened.
	Reason   string
	At       time.Time
	Revision uint64
}

// WritePeriodState records that a period was closed or reopened. A zero
// At becomes the current time, a zero Revision the current time in
// nanoseconds. Earlier states are kept.
func (s *Store) WritePeriodState(ctx context.Context, p PeriodState) error {
	now := time.Now()
	if p.At.IsZero() {
		p.At = now
	}
	if p.Revision == 0 {
		p.Revision = uint64(now.UnixNano())
	}
	switch {
	case p.Tenant == "":
		return errors.New("writing period state: no tenant")
	case !p.Period.Valid():
		return fmt.Errorf("writing period state: invalid period %+v", p.Period)
	}
	if err := checkDate("period start", p.Period.Start()); err != nil {
		return fmt.Errorf("writing period state of %s: %w", p.Period, err)
	}
	if err := checkDateTime("time", p.At); err != nil {
		return fmt.Errorf("writing period state of %s: %w", p.Period, err)
	}
	rows := []PeriodState{p}
	type P = PeriodState
	err := s.insert(ctx, "period_closures", periodStateCols, 1, func(w *blockWriter, lo, hi int) {
		strCol(w, 0, rows, func(p *P) string { return p.Tenant })
		strCol(w, 1, rows, func(p *P) string { return string(p.Period.Kind) })
		dateCol(w, 2, rows, func(p *P) time.Time { return p.Period.Start() })
		boolCol(w, 3, rows, func(p *P) bool { return p.Closed })
		strCol(w, 4, rows, func(p *P) string { return p.Actor })
		strCol(w, 5, rows, func(p *P) string { return p.Reason })
		timeCol(w, 6, rows, func(p *P) time.Time { return p.At })
		u64Col(w, 7, rows, func(p *P) uint64 { return p.Revision })
	})
	if err != nil {
		return fmt.Errorf("writing period state of %s for %s: %w", p.Period, p.Tenant, err)
	}
	return nil
}

// PeriodStates returns the latest state of every period of tenant that
// was ever closed or reopened, sorted by period start and kind.
func (s *Store) PeriodStates(ctx context.Context, tenant string) ([]PeriodState, error) {
	ctx = tenantContext(ctx, tenant)
	q := `SELECT period_kind, period_start, argMax(closed, revision), argMax(actor, revision),
	argMax(reason, revision), argMax(at, revision), max(revision)
FROM period_closures
WHERE tenant = ?
GROUP BY period_kind, period_start
ORDER BY period_start, period_kind`
	out, err := s.scanPeriodStates(ctx, tenant, q, tenant)
	if err != nil {
		return nil, fmt.Errorf("reading period states of %s: %w", tenant, err)
	}
	return out, nil
}

// PeriodHistory returns every closing and reopening of one period,
// newest first.
func (s *Store) PeriodHistory(ctx context.Context, tenant string, p strategy.Period) ([]PeriodState, error) {
	ctx = tenantContext(ctx, tenant)
	q := `SELECT period_kind, period_start, closed, actor, reason, at, revision
FROM period_closures
WHERE tenant = ? AND period_kind = ? AND period_start = toDate(?)
ORDER BY revision DESC`
	out, err := s.scanPeriodStates(ctx, tenant, q, tenant, string(p.Kind), dateArg(p.Start()))
	if err != nil {
		return nil, fmt.Errorf("reading the history of period %s of %s: %w", p, tenant, err)
	}
	return out, nil
}

func (s *Store) scanPeriodStates(ctx context.Context, tenant, q string, args ...any) ([]PeriodState, error) {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PeriodState
	for rows.Next() {
		var (
			p      = PeriodState{Tenant: tenant}
			kind   string
			start  time.Time
			closed uint8
		)
		if err := rows.Scan(&kind, &start, &closed, &p.Actor, &p.Reason, &p.At, &p.Revision); err != nil {
			return nil, err
		}
		if p.Period, err = periodFromColumns(kind, start); err != nil {
			return nil, err
		}
		p.Closed = closed == 1
		p.At = timeFromColumn(p.At)
		out = append(out, p)
	}
	return out, rows.Err()
}
