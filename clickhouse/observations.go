package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/malbild/malbild/strategy"
)

var observationCols = []string{"tenant", "indicator", "period_kind", "period_start", "dim_kind",
	"dim_value", "value", "source", "author", "comment", "version", "recorded"}

// ObservationFilter selects observations.
type ObservationFilter struct {
	Tenant     string
	Indicators []string            // empty: all indicators
	Kind       strategy.PeriodKind // empty: all period kinds
	// From and To bound the periods' starts: From <= start < To. A zero
	// time leaves that side open.
	From, To time.Time
	// Dimensions includes the break-downs; false returns totals only.
	Dimensions bool
}

// checkObservation rejects observations that cannot be stored faithfully.
func checkObservation(o *strategy.Observation) error {
	switch {
	case o.Tenant == "":
		return errors.New("no tenant")
	case o.Indicator == "":
		return errors.New("no indicator")
	case !o.Period.Valid():
		return fmt.Errorf("indicator %s: invalid period %+v", o.Indicator, o.Period)
	case math.IsNaN(o.Value) || math.IsInf(o.Value, 0):
		return fmt.Errorf("indicator %s %s: value is not a number", o.Indicator, o.Period)
	}
	if err := checkDate("period start", o.Period.Start()); err != nil {
		return fmt.Errorf("indicator %s %s: %w", o.Indicator, o.Period, err)
	}
	if !o.Recorded.IsZero() {
		if err := checkDateTime("recorded", o.Recorded); err != nil {
			return fmt.Errorf("indicator %s %s: %w", o.Indicator, o.Period, err)
		}
	}
	return nil
}

// WriteObservations writes observations, each with its own tenant. A zero
// Version becomes the current time in nanoseconds, a zero Recorded the
// current time. For each key (tenant, indicator, period, dimension) reads
// return the highest version, so writing the same observations again
// never duplicates them. Observations with an Author (manual values and
// corrections) are also appended to the observation log, which keeps
// every version.
func (s *Store) WriteObservations(ctx context.Context, obs []strategy.Observation) error {
	if len(obs) == 0 {
		return nil
	}
	now := time.Now()
	version := uint64(now.UnixNano())
	norm := make([]strategy.Observation, len(obs))
	for i, o := range obs {
		if o.Version == 0 {
			o.Version = version
		}
		if o.Recorded.IsZero() {
			o.Recorded = now
		}
		if err := checkObservation(&o); err != nil {
			return fmt.Errorf("observation %d: %w", i+1, err)
		}
		norm[i] = o
	}
	return s.writeObservations(ctx, norm)
}

// writeObservations writes checked observations with versions and times
// filled in: the authored ones to the log first, so that a failure leaves
// nothing in observations that the log lacks, then all to observations.
func (s *Store) writeObservations(ctx context.Context, obs []strategy.Observation) error {
	var authored []strategy.Observation
	for _, o := range obs {
		if o.Author != "" {
			authored = append(authored, o)
		}
	}
	if err := s.insert(ctx, "observation_log", observationCols, len(authored), observationFill(authored)); err != nil {
		return fmt.Errorf("logging %d manual observations: %w", len(authored), err)
	}
	if err := s.insert(ctx, "observations", observationCols, len(obs), observationFill(obs)); err != nil {
		return fmt.Errorf("writing %d observations: %w", len(obs), err)
	}
	return nil
}

func observationFill(obs []strategy.Observation) func(w *blockWriter, lo, hi int) {
	type O = strategy.Observation
	return func(w *blockWriter, lo, hi int) {
		rows := obs[lo:hi]
		strCol(w, 0, rows, func(o *O) string { return o.Tenant })
		strCol(w, 1, rows, func(o *O) string { return o.Indicator })
		strCol(w, 2, rows, func(o *O) string { return string(o.Period.Kind) })
		dateCol(w, 3, rows, func(o *O) time.Time { return o.Period.Start() })
		strCol(w, 4, rows, func(o *O) string { return o.Dimension.Kind })
		strCol(w, 5, rows, func(o *O) string { return o.Dimension.Value })
		f64Col(w, 6, rows, func(o *O) float64 { return o.Value })
		strCol(w, 7, rows, func(o *O) string { return o.Source })
		strCol(w, 8, rows, func(o *O) string { return o.Author })
		strCol(w, 9, rows, func(o *O) string { return o.Comment })
		u64Col(w, 10, rows, func(o *O) uint64 { return o.Version })
		timeCol(w, 11, rows, func(o *O) time.Time { return o.Recorded })
	}
}

// Observations returns the latest version of each observation f selects,
// sorted by indicator, period start, period kind and dimension (the total
// first).
func (s *Store) Observations(ctx context.Context, f ObservationFilter) ([]strategy.Observation, error) {
	ctx = tenantContext(ctx, f.Tenant)
	where, args := observationWhere(f)
	// GROUP BY with argMax rather than FINAL: rows of one key may sit in
	// parts not merged yet, and this works the same on 18.16 and today.
	q := `SELECT indicator, period_kind, period_start, dim_kind, dim_value,
	argMax(value, version), argMax(source, version), max(version),
	argMax(author, version), argMax(comment, version), argMax(recorded, version)
FROM observations
WHERE ` + where + `
GROUP BY indicator, period_kind, period_start, dim_kind, dim_value
ORDER BY indicator, period_start, period_kind, dim_kind, dim_value`
	out, err := s.scanObservations(ctx, f.Tenant, q, args)
	if err != nil {
		return nil, fmt.Errorf("reading observations of %s: %w", f.Tenant, err)
	}
	return out, nil
}

// ObservationHistory returns every logged version of the manual values
// and corrections of one indicator, newest first.
func (s *Store) ObservationHistory(ctx context.Context, tenant, indicator string) ([]strategy.Observation, error) {
	ctx = tenantContext(ctx, tenant)
	// LIMIT 1 BY drops the copies a retried write may have logged twice.
	q := `SELECT indicator, period_kind, period_start, dim_kind, dim_value,
	value, source, version, author, comment, recorded
FROM observation_log
WHERE tenant = ? AND indicator = ?
ORDER BY version DESC, period_start DESC, period_kind, dim_kind, dim_value
LIMIT 1 BY period_kind, period_start, dim_kind, dim_value, version`
	out, err := s.scanObservations(ctx, tenant, q, []any{tenant, indicator})
	if err != nil {
		return nil, fmt.Errorf("reading the history of %s for %s: %w", indicator, tenant, err)
	}
	return out, nil
}

// scanObservations runs q, whose columns are indicator, period_kind,
// period_start, dim_kind, dim_value, value, source, version, author,
// comment, recorded.
func (s *Store) scanObservations(ctx context.Context, tenant, q string, args []any) ([]strategy.Observation, error) {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []strategy.Observation
	for rows.Next() {
		var (
			o           strategy.Observation
			kind        string
			start, recd time.Time
		)
		if err := rows.Scan(&o.Indicator, &kind, &start, &o.Dimension.Kind, &o.Dimension.Value,
			&o.Value, &o.Source, &o.Version, &o.Author, &o.Comment, &recd); err != nil {
			return nil, err
		}
		o.Tenant = tenant
		if o.Period, err = periodFromColumns(kind, start); err != nil {
			return nil, fmt.Errorf("observation of %s: %w", o.Indicator, err)
		}
		o.Recorded = timeFromColumn(recd)
		out = append(out, o)
	}
	return out, rows.Err()
}

// inSet is a list of values for "x IN ?".
func inSet(vals []string) ch.GroupSet {
	set := ch.GroupSet{Value: make([]any, len(vals))}
	for i, v := range vals {
		set.Value[i] = v
	}
	return set
}

// ceilDate is midnight Stockholm time of t's date, or of the next day if t
// is later than midnight.
func ceilDate(t time.Time) time.Time {
	t = t.In(strategy.Stockholm)
	d := dateFromColumn(t)
	if d.Before(t) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// periodFromColumns turns period_kind and period_start back into a Period.
func periodFromColumns(kind string, start time.Time) (strategy.Period, error) {
	k := strategy.PeriodKind(kind)
	if !k.Valid() {
		return strategy.Period{}, fmt.Errorf("unknown period kind %q", kind)
	}
	return strategy.PeriodOf(k, dateFromColumn(start)), nil
}

// SeriesMove moves the values stored under a series name to the
// indicators that series feeds.
type SeriesMove struct {
	Series     string
	Indicators []string // ids, each gets a copy of every row
	// Keep leaves the rows under the series name in place, for a series
	// that is also read by that name (a maturity dimension's survey).
	Keep bool
}

// SeriesMoves are the moves st needs: every indicator fed by a series
// whose name is not its id. Values of an indicator are stored under its
// id, whatever feeds them (collector, form or upload); earlier versions
// stored manual values and uploads under the series name.
func SeriesMoves(st *strategy.Strategy) []SeriesMove {
	survey := map[string]bool{}
	if st.Maturity != nil {
		for _, d := range st.Maturity.Dimensions {
			if d.Survey != "" {
				survey[d.Survey] = true
			}
		}
	}
	ids := map[string]bool{}
	for _, ind := range st.Indicators() {
		ids[ind.ID] = true
	}
	index := map[string]int{}
	var out []SeriesMove
	for _, ind := range st.Indicators() {
		name := ind.Series()
		if name == "" || name == ind.ID {
			continue
		}
		i, ok := index[name]
		if !ok {
			// A series named like another indicator is that indicator's
			// values too: copy, never delete.
			out = append(out, SeriesMove{Series: name, Keep: survey[name] || ids[name]})
			i = len(out) - 1
			index[name] = i
		}
		out[i].Indicators = append(out[i].Indicators, ind.ID)
	}
	return out
}

// MoveSeriesValues copies the values and the logged history stored under
// each move's series name to its indicators' ids, keeping their versions
// (so the latest version still wins against what collectors wrote under
// the id), then deletes the rows under the series name unless Keep. It is
// idempotent: a copy written twice has the same key and version, and a
// series without rows is skipped. It returns how many series had rows.
func (s *Store) MoveSeriesValues(ctx context.Context, tenant string, moves []SeriesMove) (int, error) {
	moved := 0
	for _, m := range moves {
		var n uint64
		for _, table := range []string{"observations", "observation_log"} {
			var c uint64
			if err := s.conn.QueryRow(ctx, `SELECT count() FROM `+table+` WHERE tenant = ? AND indicator = ?`,
				tenant, m.Series).Scan(&c); err != nil {
				return moved, fmt.Errorf("counting %s of series %s of %s: %w", table, m.Series, tenant, err)
			}
			n += c
		}
		if n == 0 {
			continue
		}
		moved++
		cols := strings.Join(observationCols, ", ")
		for _, id := range m.Indicators {
			for _, table := range []string{"observation_log", "observations"} {
				q := `INSERT INTO ` + table + ` (` + cols + `)
SELECT tenant, ?, period_kind, period_start, dim_kind, dim_value, value, source, author, comment, version, recorded
FROM ` + table + `
WHERE tenant = ? AND indicator = ?`
				if err := s.conn.Exec(ctx, q, id, tenant, m.Series); err != nil {
					return moved, fmt.Errorf("copying %s of series %s to indicator %s of %s: %w", table, m.Series, id, tenant, err)
				}
			}
		}
		if m.Keep {
			continue
		}
		for _, table := range []string{"observations", "observation_log"} {
			q := `ALTER TABLE ` + table + ` DELETE WHERE tenant = ? AND indicator = ?`
			if err := s.conn.Exec(ctx, q, tenant, m.Series); err != nil {
				return moved, fmt.Errorf("deleting %s of series %s of %s after copying: %w", table, m.Series, tenant, err)
			}
		}
	}
	return moved, nil
}
