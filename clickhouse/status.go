package clickhouse

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"time"

	"github.com/malbild/malbild/facts"
)

// ServiceStatus is the latest availability check of one service.
type ServiceStatus struct {
	Service  string
	URL      string
	Time     time.Time // when it was checked
	OK       bool
	Status   int // HTTP status code; 0 if none was received
	Duration time.Duration
	Error    string
}

// ServiceStatus returns the latest probe result per service of tenant,
// sorted by service.
//
// It reads no FINAL: probe_latest (a ReplacingMergeTree(ts) fed by every
// insert) gives each service's latest check time with max(), exact before
// and after merges, and that check is then read from probe_results by its
// key — of a check imported again (same time), the later import, the
// higher version, as probe_results' own merges keep. FINAL over
// probe_latest cost 130–145 ms right after a bulk load of many small
// inserts (bench/results.md); this reads a few rows per service.
func (s *Store) ServiceStatus(ctx context.Context, tenant string) ([]ServiceStatus, error) {
	ctx = tenantContext(ctx, tenant)
	latest, err := s.latestChecks(ctx, tenant)
	if err != nil || len(latest) == 0 {
		return nil, err
	}
	var keys strings.Builder
	args := []any{tenant}
	for i, c := range latest {
		if i > 0 {
			keys.WriteString(" OR ")
		}
		keys.WriteString("(service = ? AND ts = toDateTime(?))")
		args = append(args, c.service, c.ts)
	}
	q := `SELECT service, argMax(url, version), ts, argMax(ok, version), argMax(status, version),
	argMax(duration_ms, version), argMax(error, version)
FROM probe_results
WHERE tenant = ? AND (` + keys.String() + `)
GROUP BY service, ts
ORDER BY service`
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading service status of %s: %w", tenant, err)
	}
	defer rows.Close()
	var out []ServiceStatus
	for rows.Next() {
		var (
			st     ServiceStatus
			ts     time.Time
			ok     uint8
			status uint16
			ms     float64
		)
		if err := rows.Scan(&st.Service, &st.URL, &ts, &ok, &status, &ms, &st.Error); err != nil {
			return nil, fmt.Errorf("reading service status of %s: %w", tenant, err)
		}
		st.Time = timeFromColumn(ts)
		st.OK = ok == 1
		st.Status = int(status)
		st.Duration = time.Duration(math.Round(ms * float64(time.Millisecond)))
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading service status of %s: %w", tenant, err)
	}
	return out, nil
}

type latestCheck struct {
	service string
	ts      uint32 // Unix seconds
}

// latestChecks returns the time of each service's latest check.
func (s *Store) latestChecks(ctx context.Context, tenant string) ([]latestCheck, error) {
	rows, err := s.conn.Query(ctx, `SELECT service, toUInt32(max(ts)) FROM probe_latest WHERE tenant = ? GROUP BY service`, tenant)
	if err != nil {
		return nil, fmt.Errorf("reading the latest checks of %s: %w", tenant, err)
	}
	defer rows.Close()
	var out []latestCheck
	for rows.Next() {
		var c latestCheck
		if err := rows.Scan(&c.service, &c.ts); err != nil {
			return nil, fmt.Errorf("reading the latest checks of %s: %w", tenant, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the latest checks of %s: %w", tenant, err)
	}
	return out, nil
}

// Benchmarks returns the latest version of each key figure of tenant
// (all KPIs if kpis is empty), leaving out deleted ones, sorted by KPI,
// municipality, year, gender and source.
func (s *Store) Benchmarks(ctx context.Context, tenant string, kpis []string) ([]facts.BenchmarkValue, error) {
	ctx = tenantContext(ctx, tenant)
	where, args := "tenant = ?", []any{tenant}
	if len(kpis) > 0 {
		where += " AND kpi IN ?"
		args = append(args, inSet(kpis))
	}
	// argMax skips NULL arguments, so a value that became NULL in a later
	// version would show its older number: take the value and whether it
	// is NULL as two non-nullable columns instead.
	q := `SELECT source, kpi, municipality, period, gender,
	argMax(isNull(value), version) AS missing, argMax(ifNull(value, 0), version),
	argMax(status, version), argMax(deleted, version) AS del
FROM benchmark_values
WHERE ` + where + `
GROUP BY source, kpi, municipality, period, gender
HAVING del = 0
ORDER BY kpi, municipality, period, gender, source`
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading benchmark values of %s: %w", tenant, err)
	}
	defer rows.Close()
	var out []facts.BenchmarkValue
	for rows.Next() {
		var (
			v            facts.BenchmarkValue
			year         uint16
			missing, del uint8
			value        float64
		)
		if err := rows.Scan(&v.Source, &v.KPI, &v.Municipality, &year, &v.Gender, &missing, &value, &v.Status, &del); err != nil {
			return nil, fmt.Errorf("reading benchmark values of %s: %w", tenant, err)
		}
		v.Year = int(year)
		if missing == 0 {
			v.Value = &value
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading benchmark values of %s: %w", tenant, err)
	}
	return out, nil
}

// DataVersion returns a number that changes whenever anything the pages
// of tenant show is written: observations, assessments, collector runs,
// the latest probe results and key figures (Kolada). It mixes the highest
// version (or time) and the row count of each table, so it also changes
// (harmlessly) when ClickHouse merges away replaced rows. Each scalar
// subquery is wrapped in ifNull: since ClickHouse 21.9 their type is
// Nullable, and an empty table would give NULL.
func (s *Store) DataVersion(ctx context.Context, tenant string) (uint64, error) {
	ctx = tenantContext(ctx, tenant)
	const q = `SELECT
	ifNull((SELECT max(version) FROM observations WHERE tenant = ?), 0),
	ifNull((SELECT count() FROM observations WHERE tenant = ?), 0),
	ifNull((SELECT max(revision) FROM assessments WHERE tenant = ?), 0),
	ifNull((SELECT count() FROM assessments WHERE tenant = ?), 0),
	ifNull((SELECT toUInt64(max(finished)) FROM collector_runs WHERE tenant = ?), 0),
	ifNull((SELECT count() FROM collector_runs WHERE tenant = ?), 0),
	ifNull((SELECT toUInt64(max(ts)) FROM probe_latest WHERE tenant = ?), 0),
	ifNull((SELECT count() FROM probe_latest WHERE tenant = ?), 0),
	ifNull((SELECT max(version) FROM benchmark_values WHERE tenant = ?), 0),
	ifNull((SELECT count() FROM benchmark_values WHERE tenant = ?), 0)`
	var parts [10]uint64
	dest := make([]any, len(parts))
	args := make([]any, len(parts))
	for i := range parts {
		dest[i], args[i] = &parts[i], tenant
	}
	if err := s.conn.QueryRow(ctx, q, args...).Scan(dest...); err != nil {
		return 0, fmt.Errorf("reading the data version of %s: %w", tenant, err)
	}
	h := fnv.New64a()
	var buf [8]byte
	for _, v := range parts {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	return h.Sum64(), nil
}
