package clickhouse

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// Days is a set of Europe/Stockholm calendar days on which facts changed,
// or, with All, every day. The zero value is empty.
type Days struct {
	All  bool
	days map[time.Time]bool // midnight in strategy.Stockholm
}

// Add adds the Stockholm calendar day of t.
func (d *Days) Add(t time.Time) {
	if d.days == nil {
		d.days = map[time.Time]bool{}
	}
	y, m, day := t.In(strategy.Stockholm).Date()
	d.days[time.Date(y, m, day, 0, 0, 0, 0, strategy.Stockholm)] = true
}

// addRange adds every day from the day of a through the day of b.
func (d *Days) addRange(a, b time.Time) {
	if b.Before(a) {
		a, b = b, a
	}
	y, m, day := a.In(strategy.Stockholm).Date()
	for t := time.Date(y, m, day, 0, 0, 0, 0, strategy.Stockholm); !t.After(b); t = t.AddDate(0, 0, 1) {
		d.Add(t)
	}
}

// Merge adds the days of o.
func (d *Days) Merge(o *Days) {
	if o == nil {
		return
	}
	d.All = d.All || o.All
	for t := range o.days {
		if d.days == nil {
			d.days = map[time.Time]bool{}
		}
		d.days[t] = true
	}
}

// List returns the days in order (midnight, Europe/Stockholm).
func (d *Days) List() []time.Time {
	if d == nil {
		return nil
	}
	out := slices.Collect(maps.Keys(d.days))
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// Touched says, per kind of raw facts, on which days a write may have
// changed the measures reading them: the days of the written facts and,
// for facts that replaced earlier versions, the days of those versions (a
// re-imported case whose received date moved touches both days). A kind
// that is absent was not written.
type Touched map[facts.Kind]*Days

// Merge adds what o touched.
func (t Touched) Merge(o Touched) {
	for k, d := range o {
		if t[k] == nil {
			t[k] = &Days{}
		}
		t[k].Merge(d)
	}
}

// Clone returns a deep copy.
func (t Touched) Clone() Touched {
	if t == nil {
		return nil
	}
	c := Touched{}
	c.Merge(t)
	return c
}

func (t Touched) days(k facts.Kind) *Days {
	if t[k] == nil {
		t[k] = &Days{}
	}
	return t[k]
}

// BatchDays returns the days b's own facts fall on, per kind (without the
// days of earlier versions, which only the store knows: see
// WriteBatchTouched).
func BatchDays(b *facts.Batch) Touched {
	t := Touched{}
	for i := range b.Cases {
		c := &b.Cases[i]
		d := t.days(facts.KindCases)
		d.Add(c.Received)
		if !c.Decided.IsZero() {
			d.Add(c.Decided)
		}
	}
	for i := range b.EServices {
		t.days(facts.KindEServices).Add(dateFromColumn(dateValue(b.EServices[i].Snapshot)))
	}
	for i := range b.Responses {
		t.days(facts.KindSurvey).Add(dateFromColumn(dateValue(b.Responses[i].Answered)))
	}
	for i := range b.Probes {
		t.days(facts.KindProbes).Add(b.Probes[i].Time)
	}
	for i := range b.Maintenance {
		m := &b.Maintenance[i]
		t.days(facts.KindProbes).addRange(m.Start, m.End)
	}
	return t
}

// WriteBatchTouched is WriteBatch that also says which days the write
// touched (see Touched). Before writing, it reads the days of the stored
// versions the batch replaces: cases (received and decided), survey
// responses (answered) and maintenance windows (start through end) may
// move when re-imported; probe results and e-service snapshots cannot
// (their day is part of their key).
func (s *Store) WriteBatchTouched(ctx context.Context, b *facts.Batch) (Touched, error) {
	return s.writeBatch(ctx, b, true)
}

// priorKeys is how many keys one look-up of earlier versions sends.
const priorKeys = 20000

// priorSettings let a look-up carry priorKeys keys in its text.
var priorSettings = ch.Settings{"max_query_size": 16 << 20}

// priorDays adds the days of the stored versions of b's facts to t: of
// maintenance windows and cases always (probe_daily and the case figures
// need them), of survey responses with all. The cases' stored versions go
// to prior too, per case ID.
func (s *Store) priorDays(ctx context.Context, b *facts.Batch, t Touched, all bool, prior map[string]priorCase) error {
	if len(b.Cases) > 0 {
		ids := make([]string, len(b.Cases))
		for i := range b.Cases {
			ids[i] = b.Cases[i].ID
		}
		if err := s.priorCases(ctx, b.Tenant, ids, t.days(facts.KindCases), prior); err != nil {
			return fmt.Errorf("reading the stored versions of %d cases: %w", len(b.Cases), err)
		}
	}
	if all && len(b.Responses) > 0 {
		bySurvey := map[string][]string{}
		for i := range b.Responses {
			r := &b.Responses[i]
			bySurvey[r.Survey] = append(bySurvey[r.Survey], r.ID)
		}
		d := t.days(facts.KindSurvey)
		for _, sv := range slices.Sorted(maps.Keys(bySurvey)) {
			err := s.priorQuery(ctx, `SELECT DISTINCT a, a FROM (SELECT argMax(answered, version) AS a
 FROM survey_responses WHERE tenant = ? AND survey = ? AND response_id IN (SELECT arrayJoin(?)) GROUP BY response_id)`,
				[]any{b.Tenant, sv}, bySurvey[sv], func(days []time.Time) {
					for _, x := range days {
						d.Add(x)
					}
				})
			if err != nil {
				return fmt.Errorf("reading the stored versions of %d survey responses: %w", len(b.Responses), err)
			}
		}
	}
	if len(b.Maintenance) > 0 {
		d := t.days(facts.KindProbes)
		for i := range b.Maintenance {
			m := &b.Maintenance[i]
			rows, err := s.conn.Query(ctx, `SELECT argMax(ends, version) FROM maintenance_windows
 WHERE tenant = ? AND service = ? AND starts = toDateTime(?) GROUP BY service, starts`, b.Tenant, m.Service, m.Start.Unix())
			if err != nil {
				return fmt.Errorf("reading the stored version of maintenance window %d (%s): %w", i+1, m.Service, err)
			}
			for rows.Next() {
				var end time.Time
				if err := rows.Scan(&end); err != nil {
					rows.Close()
					return fmt.Errorf("reading the stored version of maintenance window %d (%s): %w", i+1, m.Service, err)
				}
				d.addRange(m.Start, end)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("reading the stored version of maintenance window %d (%s): %w", i+1, m.Service, err)
			}
		}
	}
	return nil
}

// priorCaseBytes bounds the text of the keys of one look-up of stored
// cases, so that its SQL stays under ClickHouse's default max_query_size
// (256 KiB) whatever the IDs' length.
const priorCaseBytes = 200 << 10

// priorCases reads the stored versions (argMax by version) of the cases
// ids, at most priorKeys and priorCaseBytes at a time, into prior, and
// their received and decided days into d.
func (s *Store) priorCases(ctx context.Context, tenant string, ids []string, d *Days, prior map[string]priorCase) error {
	// One look at the key range first: a first import of the cases (no
	// stored case between the smallest and the largest ID) needs no
	// look-up of the IDs, which costs more than writing them.
	if len(ids) == 0 {
		return nil
	}
	var stored uint8
	err := s.conn.QueryRow(ctx, `SELECT toUInt8(count() > 0) FROM cases WHERE tenant = ? AND case_id >= ? AND case_id <= ?`,
		tenant, slices.Min(ids), slices.Max(ids)).Scan(&stored)
	if err != nil {
		return err
	}
	if stored == 0 {
		return nil
	}
	for lo := 0; lo < len(ids); {
		hi, size := lo, 0
		for hi < len(ids) && hi-lo < priorKeys && (hi == lo || size+len(ids[hi])+4 <= priorCaseBytes) {
			size += len(ids[hi]) + 4
			hi++
		}
		chunk := ids[lo:hi]
		lo = hi
		rows, err := s.conn.Query(ch.Context(ctx, ch.WithSettings(priorSettings)), `SELECT case_id,
  argMax(case_type, version), argMax(department, version), argMax(digital, version), argMax(application, version),
  argMax(received, version), argMax(ifNull(decided, toDateTime(0)), version), max(version)
 FROM cases WHERE tenant = ? AND case_id IN (SELECT arrayJoin(?)) GROUP BY case_id`, tenant, chunk)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var p priorCase
			var dig, app uint8
			if err := rows.Scan(&id, &p.typ, &p.dep, &dig, &app, &p.received, &p.decided, &p.version); err != nil {
				rows.Close()
				return err
			}
			p.digital, p.app = dig == 1, app == 1
			p.received, p.decided = timeFromColumn(p.received), timeFromColumn(p.decided)
			d.Add(p.received)
			if !p.decided.IsZero() {
				d.Add(p.decided)
			}
			prior[id] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// priorQuery runs sql, whose last placeholder takes an array of keys,
// once per priorKeys keys with head as the arguments before it; each row
// is two Dates, given to each without the zero date (1970-01-01).
func (s *Store) priorQuery(ctx context.Context, sql string, head []any, keys []string, each func([]time.Time)) error {
	for lo := 0; lo < len(keys); lo += priorKeys {
		args := append(slices.Clone(head), keys[lo:min(lo+priorKeys, len(keys))])
		rows, err := s.conn.Query(ch.Context(ctx, ch.WithSettings(priorSettings)), sql, args...)
		if err != nil {
			return err
		}
		var days []time.Time
		for rows.Next() {
			var a, b time.Time
			if err := rows.Scan(&a, &b); err != nil {
				rows.Close()
				return err
			}
			for _, x := range []time.Time{a, b} {
				if x.Year() > 1970 {
					days = append(days, dateFromColumn(x))
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		each(days)
	}
	return nil
}

// MeasureFingerprints returns, per indicator of tenant, the fingerprint of
// the parameters its observations were last fully computed with.
func (s *Store) MeasureFingerprints(ctx context.Context, tenant string) (map[string]string, error) {
	ctx = tenantContext(ctx, tenant)
	rows, err := s.conn.Query(ctx, `SELECT indicator, argMax(fingerprint, version) FROM measure_fingerprints
 WHERE tenant = ? GROUP BY indicator`, tenant)
	if err != nil {
		return nil, fmt.Errorf("reading measure fingerprints: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var ind, fp string
		if err := rows.Scan(&ind, &fp); err != nil {
			return nil, fmt.Errorf("reading measure fingerprints: %w", err)
		}
		out[ind] = fp
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading measure fingerprints: %w", err)
	}
	return out, nil
}

// WriteMeasureFingerprints records the fingerprints (indicator →
// fingerprint) of tenant's indicators, replacing earlier ones.
func (s *Store) WriteMeasureFingerprints(ctx context.Context, tenant string, fps map[string]string, version uint64) error {
	if len(fps) == 0 {
		return nil
	}
	inds := slices.Sorted(maps.Keys(fps))
	err := s.insert(ctx, "measure_fingerprints", []string{"tenant", "indicator", "fingerprint", "version"}, len(inds), func(w *blockWriter, lo, hi int) {
		rows := inds[lo:hi]
		n := len(rows)
		constStrCol(w, 0, n, tenant)
		strCol(w, 1, rows, func(s *string) string { return *s })
		strCol(w, 2, rows, func(s *string) string { return fps[*s] })
		constU64Col(w, 3, n, version)
	})
	if err != nil {
		return fmt.Errorf("writing %d measure fingerprints: %w", len(fps), err)
	}
	return nil
}

// refreshProbeDaily recomputes probe_daily's rows for the services of b's
// probe results and maintenance windows (every service for a window of
// service "*") on the given days, from probe_results FINAL and the
// maintenance windows as the availability measures define them. Each run
// of consecutive days is one INSERT … SELECT reading only those days' raw
// rows; the new rows carry a newer version than any earlier refresh.
func (s *Store) refreshProbeDaily(ctx context.Context, b *facts.Batch, days *Days) error {
	var services []string
	seen := map[string]bool{}
	for _, svc := range probeServices(b) {
		if svc == "*" {
			services = nil
			break
		}
		if !seen[svc] {
			seen[svc] = true
			services = append(services, svc)
		}
	}
	list := days.List()
	version := uint64(time.Now().UnixNano())
	for lo := 0; lo < len(list); {
		hi := lo
		for hi+1 < len(list) && list[hi+1].Equal(list[hi].AddDate(0, 0, 1)) {
			hi++
		}
		first, last := list[lo], list[hi]
		q := &measureQuery{tenant: b.Tenant}
		q.add("INSERT INTO probe_daily (tenant, service, day, n, inm, okn, dur_sum, version)"+
			" SELECT ?, svc, toDate(t, 'Europe/Stockholm') AS d, count(), countIf(inm = 1), countIf(okv = 1 AND inm = 0), sumIf(dur, inm = 0), ?"+
			" FROM (SELECT svc, t, okv, dur, ", b.Tenant, version)
		from, to := first.Unix(), last.AddDate(0, 0, 1).Unix()
		q.add("((svc, intDiv(toUInt32(t), 60)) IN ("+maintenanceMinutesIn+") OR ('*', intDiv(toUInt32(t), 60)) IN ("+maintenanceMinutesIn+")) AS inm",
			b.Tenant, to, from, b.Tenant, to, from)
		q.add(" FROM (SELECT service AS svc, ts AS t, ok AS okv, duration_ms AS dur FROM probe_results FINAL WHERE tenant = ?"+
			" AND ts >= toDateTime(?) AND ts < toDateTime(?)", b.Tenant, from, to)
		if services != nil {
			q.add(" AND service IN (SELECT arrayJoin(?))", services)
		}
		q.add(")) WHERE d >= toDate(?) AND d <= toDate(?) GROUP BY svc, d", dateArg(first), dateArg(last))
		if err := s.conn.Exec(ch.Context(ctx, ch.WithSettings(measureSettings)), q.sql.String(), q.args...); err != nil {
			return fmt.Errorf("refreshing the daily probe figures of %s–%s: %w", dateArg(first), dateArg(last), err)
		}
		lo = hi + 1
	}
	return nil
}

// maintenanceMinutesIn is maintenanceMinutes for the windows that
// overlap [from, to) (Unix seconds, whole minutes; arguments tenant, to,
// from), so a refresh of some days expands only their windows' minutes,
// not those of every window the tenant ever had. A minute m of a window
// (start ≤ m·60, m < end/60) holds a probe at t in [from, to) only if
// start < to and end > from.
const maintenanceMinutesIn = `SELECT service, toUInt32(arrayJoin(arrayMap(x -> s + x, range(toUInt32(if(e > s, e - s, 0)))))) AS m
 FROM (SELECT service, intDiv(toUInt32(starts), 60) AS s, intDiv(toUInt32(argMax(ends, version)), 60) AS e
 FROM maintenance_windows WHERE tenant = ? AND starts < toDateTime(?) GROUP BY service, starts
 HAVING argMax(ends, version) > toDateTime(?))`

// probeServices are the services of b's probe results and maintenance
// windows.
func probeServices(b *facts.Batch) []string {
	var out []string
	for i := range b.Probes {
		out = append(out, b.Probes[i].Service)
	}
	for i := range b.Maintenance {
		out = append(out, b.Maintenance[i].Service)
	}
	return out
}
