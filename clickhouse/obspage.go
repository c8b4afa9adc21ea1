package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

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
	ctx = tenantContext(ctx, f.Tenant)
	where, args := observationWhere(f)
	// One pass over the periods' rows: the keys are counted once
	// (uniqExact); of them, the totals are one key per indicator, so the
	// break-downs are the rest and need no count of their own. The
	// total's latest version comes from argMaxIf, which looks at the
	// total rows only. max(recorded) over every version is the latest
	// one's.
	q := `SELECT period_kind, period_start,
	uniqExact(indicator, dim_kind, dim_value),
	uniqExactIf(indicator, dim_kind = '' AND dim_value = ''),
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
			n, totals   uint64
			total       float64
			totalSource string
		)
		if err := rows.Scan(&kind, &start, &n, &totals, &total, &totalSource, &rec); err != nil {
			return nil, fmt.Errorf("summing up the observations of %s: %w", f.Tenant, err)
		}
		if p.Period, err = periodFromColumns(kind, start); err != nil {
			return nil, fmt.Errorf("summing up the observations of %s: %w", f.Tenant, err)
		}
		p.Values, p.Breakdowns, p.HasTotal = int(n), int(n-totals), totals > 0
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
// dimension. Meant for one period at a time (ObservationSummary says how
// many values each holds): it sorts the rows f selects.
func (s *Store) ObservationPage(ctx context.Context, f ObservationFilter, offset, limit int) ([]strategy.Observation, error) {
	ctx = tenantContext(ctx, f.Tenant)
	where, args := observationWhere(f)
	offset, limit = pageBounds(offset, limit)
	// One pass over the rows, each key's latest version first and LIMIT 1
	// BY the key: no GROUP BY of every key and no second read of the
	// page's keys. ClickHouse sorts only as far as the page's end.
	args = append(append([]any{}, args...), offset, limit)
	q := `SELECT indicator, period_kind, period_start, dim_kind, dim_value,
	value, source, version, author, comment, recorded
FROM observations
WHERE ` + where + `
ORDER BY period_start DESC, period_kind, indicator, dim_kind, dim_value, version DESC
LIMIT 1 BY indicator, period_kind, period_start, dim_kind, dim_value
LIMIT ?, ?`
	out, err := s.scanObservations(ctx, f.Tenant, q, args)
	if err != nil {
		return nil, fmt.Errorf("reading a page of the observations of %s: %w", f.Tenant, err)
	}
	return out, nil
}

// HistoryGroup is what one write logged for one period of an indicator:
// its versions of the period's values (one per dimension), all with one
// version number.
type HistoryGroup struct {
	Period   strategy.Period
	Version  uint64
	Versions int
}

// ObservationHistoryGroups returns the groups of one indicator's
// observation log in the order of ObservationHistory (version, newest
// first, then period start, newest first, then period kind). Their
// Versions add up to how many versions ObservationHistory would return.
func (s *Store) ObservationHistoryGroups(ctx context.Context, tenant, indicator string) ([]HistoryGroup, error) {
	ctx = tenantContext(ctx, tenant)
	// Grouping by write and period, the dimensions are the only columns
	// counted: a copy logged twice by a retried write counts once.
	q := `SELECT version, period_kind, period_start, uniqExact(dim_kind, dim_value)
FROM observation_log
WHERE tenant = ? AND indicator = ?
GROUP BY version, period_kind, period_start
ORDER BY version DESC, period_start DESC, period_kind`
	rows, err := s.conn.Query(ctx, q, tenant, indicator)
	if err != nil {
		return nil, fmt.Errorf("counting the history of %s for %s: %w", indicator, tenant, err)
	}
	defer rows.Close()
	var out []HistoryGroup
	for rows.Next() {
		var (
			g     HistoryGroup
			kind  string
			start time.Time
			n     uint64
		)
		if err := rows.Scan(&g.Version, &kind, &start, &n); err != nil {
			return nil, fmt.Errorf("counting the history of %s for %s: %w", indicator, tenant, err)
		}
		if g.Period, err = periodFromColumns(kind, start); err != nil {
			return nil, fmt.Errorf("counting the history of %s for %s: %w", indicator, tenant, err)
		}
		g.Versions = int(n)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting the history of %s for %s: %w", indicator, tenant, err)
	}
	return out, nil
}

// ObservationHistoryPage is one page of ObservationHistory: after
// skipping offset, at most limit versions (see MaxObservationPage).
// groups is ObservationHistoryGroups' answer: the page reads the log rows
// of the groups it covers only, not the whole log.
func (s *Store) ObservationHistoryPage(ctx context.Context, tenant, indicator string, groups []HistoryGroup, offset, limit int) ([]strategy.Observation, error) {
	ctx = tenantContext(ctx, tenant)
	offset, limit = pageBounds(offset, limit)
	// The groups the page covers: skip whole groups, then take groups
	// until the page is full; offset is then the page's start within the
	// first of them.
	var (
		set        []ch.GroupSet
		from, to   time.Time
		minV, maxV uint64
		need       = limit
	)
	for _, g := range groups {
		if need <= 0 {
			break
		}
		if len(set) == 0 && offset >= g.Versions {
			offset -= g.Versions
			continue
		}
		start := g.Period.Start()
		if len(set) == 0 {
			from, to, minV, maxV = start, start, g.Version, g.Version
			need -= g.Versions - offset
		} else {
			need -= g.Versions
		}
		set = append(set, ch.GroupSet{Value: []any{g.Version, string(g.Period.Kind), dateArg(start)}})
		if start.Before(from) {
			from = start
		}
		if start.After(to) {
			to = start
		}
		minV, maxV = min(minV, g.Version), max(maxV, g.Version)
	}
	if len(set) == 0 {
		return nil, nil
	}
	// The groups are consecutive in the log's order, so the page is their
	// rows after offset. The bounds on period_start and version let the
	// index skip the rest of the log before the set is tested.
	q := `SELECT indicator, period_kind, period_start, dim_kind, dim_value,
	value, source, version, author, comment, recorded
FROM observation_log
WHERE tenant = ? AND indicator = ? AND period_start >= toDate(?) AND period_start <= toDate(?)
	AND version >= ? AND version <= ? AND (version, period_kind, period_start) IN (?)
ORDER BY version DESC, period_start DESC, period_kind, dim_kind, dim_value
LIMIT 1 BY period_kind, period_start, dim_kind, dim_value, version
LIMIT ?, ?`
	args := []any{tenant, indicator, dateArg(from), dateArg(to), minV, maxV, set, offset, limit}
	out, err := s.scanObservations(ctx, tenant, q, args)
	if err != nil {
		return nil, fmt.Errorf("reading a page of the history of %s for %s: %w", indicator, tenant, err)
	}
	return out, nil
}
