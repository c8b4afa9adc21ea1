package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/malbild/malbild/strategy"
)

// Reads for pages that show an indicator's values in pages of a bounded
// size (the follow-up's value list): a summary per period with the
// counts, one page of the latest values, and the observation log in
// pages. An indicator can hold a hundred thousand values (an upload by
// department and month); these never read them all into Go.

// MaxObservationPage bounds one page of ObservationPage and
// ObservationHistoryPage.
const MaxObservationPage = 1000

// PeriodSummary is what one period of an indicator holds: how many values
// (the total and the break-downs), the total's value and source, and when
// the latest of them was recorded.
type PeriodSummary struct {
	Period     strategy.Period
	Values     int // the total and the break-downs
	Breakdowns int
	// HasTotal says whether the period has a total value; Total and
	// TotalSource are then its latest version's value and source.
	HasTotal    bool
	Total       float64
	TotalSource string
	Recorded    time.Time
}

// observationWhere is the WHERE clause and its arguments for f (see
// Observations).
func observationWhere(f ObservationFilter) (string, []any) {
	var (
		where strings.Builder
		args  = []any{f.Tenant}
	)
	where.WriteString("tenant = ?")
	if len(f.Indicators) > 0 {
		where.WriteString(" AND indicator IN ?")
		args = append(args, inSet(f.Indicators))
	}
	if f.Kind != "" {
		where.WriteString(" AND period_kind = ?")
		args = append(args, string(f.Kind))
	}
	if !f.From.IsZero() {
		// period_start is midnight Stockholm time: it is at or after From
		// when its date is at or after From's date rounded up.
		where.WriteString(" AND period_start >= toDate(?)")
		args = append(args, dateArg(ceilDate(f.From)))
	}
	if !f.To.IsZero() {
		where.WriteString(" AND period_start < toDate(?)")
		args = append(args, dateArg(ceilDate(f.To)))
	}
	if !f.Dimensions {
		where.WriteString(" AND dim_kind = '' AND dim_value = ''")
	}
	return where.String(), args
}

// ObservationSummary returns, for each period f selects, how many latest
// values it holds and its total, newest period start first (at one start
// the shorter period first: month, quarter, tertial, year). Meant for one
// indicator: several are counted together.
func (s *Store) ObservationSummary(ctx context.Context, f ObservationFilter) ([]PeriodSummary, error) {
	where, args := observationWhere(f)
	// Counting distinct keys (uniqExact) and taking the total's latest
	// version with argMaxIf reads each row once without building a state
	// per key: ten times faster than grouping by key first at 100 000
	// values. max(recorded) over every version is the latest one's.
	q := `SELECT period_kind, period_start,
	uniqExact(indicator, dim_kind, dim_value),
	uniqExactIf(indicator, dim_kind, dim_value, dim_kind != '' OR dim_value != ''),
	max(dim_kind = '' AND dim_value = ''),
	argMaxIf(value, version, dim_kind = '' AND dim_value = ''),
	argMaxIf(source, version, dim_kind = '' AND dim_value = ''),
	max(recorded)
FROM observations
WHERE ` + where + `
GROUP BY period_kind, period_start
ORDER BY period_start DESC, period_kind`
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("summing up the observations of %s: %w", f.Tenant, err)
	}
	defer rows.Close()
	var out []PeriodSummary
	for rows.Next() {
		var (
			p           PeriodSummary
			kind        string
			start, rec  time.Time
			n, breaks   uint64
			totals      uint8
			total       float64
			totalSource string
		)
		if err := rows.Scan(&kind, &start, &n, &breaks, &totals, &total, &totalSource, &rec); err != nil {
			return nil, fmt.Errorf("summing up the observations of %s: %w", f.Tenant, err)
		}
		if p.Period, err = periodFromColumns(kind, start); err != nil {
			return nil, fmt.Errorf("summing up the observations of %s: %w", f.Tenant, err)
		}
		p.Values, p.Breakdowns, p.HasTotal = int(n), int(breaks), totals > 0
		if p.HasTotal {
			p.Total, p.TotalSource = total, totalSource
		}
		p.Recorded = timeFromColumn(rec)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("summing up the observations of %s: %w", f.Tenant, err)
	}
	return out, nil
}

// pageBounds clamps an offset and a limit (0 or more than
// MaxObservationPage: MaxObservationPage).
func pageBounds(offset, limit int) (int, int) {
	if limit <= 0 || limit > MaxObservationPage {
		limit = MaxObservationPage
	}
	return max(offset, 0), limit
}

// ObservationPage returns one page of the latest values f selects: after
// skipping offset, at most limit (see MaxObservationPage), in the order
// of ObservationSummary and, within a period, the total first, then by
// dimension.
func (s *Store) ObservationPage(ctx context.Context, f ObservationFilter, offset, limit int) ([]strategy.Observation, error) {
	where, args := observationWhere(f)
	offset, limit = pageBounds(offset, limit)
	// The page's keys first (grouping by key alone), then the latest
	// version of those keys only: about twice as fast as taking every
	// key's latest version and sorting those.
	args = append(append(append([]any{}, args...), args...), offset, limit)
	q := `SELECT indicator, period_kind, period_start, dim_kind, dim_value,
	argMax(value, version), argMax(source, version), max(version),
	argMax(author, version), argMax(comment, version), argMax(recorded, version)
FROM observations
WHERE ` + where + ` AND (indicator, period_kind, period_start, dim_kind, dim_value) IN (
	SELECT indicator, period_kind, period_start, dim_kind, dim_value
	FROM observations
	WHERE ` + where + `
	GROUP BY indicator, period_kind, period_start, dim_kind, dim_value
	ORDER BY period_start DESC, period_kind, indicator, dim_kind, dim_value
	LIMIT ?, ?
)
GROUP BY indicator, period_kind, period_start, dim_kind, dim_value
ORDER BY period_start DESC, period_kind, indicator, dim_kind, dim_value`
	out, err := s.scanObservations(ctx, f.Tenant, q, args)
	if err != nil {
		return nil, fmt.Errorf("reading a page of the observations of %s: %w", f.Tenant, err)
	}
	return out, nil
}

// ObservationHistoryCount is how many versions ObservationHistory would
// return.
func (s *Store) ObservationHistoryCount(ctx context.Context, tenant, indicator string) (int, error) {
	q := `SELECT uniqExact(period_kind, period_start, dim_kind, dim_value, version)
FROM observation_log
WHERE tenant = ? AND indicator = ?`
	var n uint64
	if err := s.conn.QueryRow(ctx, q, tenant, indicator).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting the history of %s for %s: %w", indicator, tenant, err)
	}
	return int(n), nil
}

// ObservationHistoryPage is one page of ObservationHistory: after
// skipping offset, at most limit versions (see MaxObservationPage).
func (s *Store) ObservationHistoryPage(ctx context.Context, tenant, indicator string, offset, limit int) ([]strategy.Observation, error) {
	offset, limit = pageBounds(offset, limit)
	q := `SELECT indicator, period_kind, period_start, dim_kind, dim_value,
	value, source, version, author, comment, recorded
FROM observation_log
WHERE tenant = ? AND indicator = ?
ORDER BY version DESC, period_start DESC, period_kind, dim_kind, dim_value
LIMIT 1 BY period_kind, period_start, dim_kind, dim_value, version
LIMIT ?, ?`
	out, err := s.scanObservations(ctx, tenant, q, []any{tenant, indicator, offset, limit})
	if err != nil {
		return nil, fmt.Errorf("reading a page of the history of %s for %s: %w", indicator, tenant, err)
	}
	return out, nil
}
