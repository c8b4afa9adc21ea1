package clickhouse

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// The case pre-aggregates: case_days says which cases have a version on
// a day; case_daily and case_handling_daily hold, per day, what
// digital_share and handling time read (see schema/0033–0038). The store
// writes case_days with the cases and refreshes the other two for the
// days a write touched, so the measures read a period's days, not its
// cases, and a refresh reads the touched days' cases, not the history.

// caseDay is one row of case_days.
type caseDay struct {
	day time.Time
	id  string
}

// writeCaseDays writes the received and decided days of b's cases to
// case_days.
func (s *Store) writeCaseDays(ctx context.Context, b *facts.Batch, version uint64) error {
	if len(b.Cases) == 0 {
		return nil
	}
	rows := make([]caseDay, 0, len(b.Cases)+len(b.Cases)/2)
	for i := range b.Cases {
		c := &b.Cases[i]
		rows = append(rows, caseDay{c.Received, c.ID})
		if !c.Decided.IsZero() && !sameDay(c.Decided, c.Received) {
			rows = append(rows, caseDay{c.Decided, c.ID})
		}
	}
	err := s.insert(ctx, "case_days", []string{"tenant", "day", "case_id", "version"}, len(rows), func(w *blockWriter, lo, hi int) {
		part := rows[lo:hi]
		n := len(part)
		constStrCol(w, 0, n, b.Tenant)
		dateCol(w, 1, part, func(r *caseDay) time.Time { return r.day })
		strCol(w, 2, part, func(r *caseDay) string { return r.id })
		constU64Col(w, 3, n, version)
	})
	if err != nil {
		return fmt.Errorf("writing the days of %d cases: %w", len(b.Cases), err)
	}
	return nil
}

// sameDay reports whether a and b fall on the same Stockholm day.
func sameDay(a, b time.Time) bool {
	return dateValue(a).Equal(dateValue(b))
}

// caseCandidates adds the latest version of each case with some version
// received or decided on one of days (case_days; days as dateArg), as
// the columns casesDedup gave.
func (q *measureQuery) caseCandidates(days []string) {
	q.add(`(SELECT case_id AS cid,
  argMax(case_type, version) AS ctype, argMax(department, version) AS dep,
  argMax(digital, version) AS dig, argMax(application, version) AS app,
  argMax(received, version) AS recv, argMax(ifNull(decided, toDateTime(0)), version) AS decd
 FROM cases WHERE tenant = ? AND case_id IN (SELECT case_id FROM case_days WHERE tenant = ? AND day IN (SELECT toDate(arrayJoin(?))))
 GROUP BY case_id)`, q.tenant, q.tenant, days)
}

// refreshSettings are measureSettings and room for a long list of days.
var refreshSettings = ch.Settings{
	"max_bytes_before_external_group_by": 1 << 30,
	"max_bytes_before_external_sort":     1 << 30,
	"max_query_size":                     16 << 20,
}

// refreshCaseDaily recomputes case_daily's and case_handling_daily's rows
// of tenant on the given days from the latest versions of the cases on
// them: one INSERT … SELECT per table, reading only those days' cases
// (case_days). A key on those days that no case has any more is written
// with zero counts, and the new rows carry a newer version than any
// earlier refresh.
func (s *Store) refreshCaseDaily(ctx context.Context, tenant string, days *Days) error {
	list := days.List()
	if len(list) == 0 {
		return nil
	}
	ds := make([]string, len(list))
	for i, d := range list {
		ds[i] = dateArg(d)
	}
	version := uint64(time.Now().UnixNano())
	ctx = ch.Context(ctx, ch.WithSettings(refreshSettings))
	span := ds[0] + "–" + ds[len(ds)-1]

	q := &measureQuery{tenant: tenant}
	q.add("INSERT INTO case_daily (tenant, day, case_type, department, n, apps, apps_digital, version)"+
		" SELECT ?, d, ct, dp, sum(cn), sum(ca), sum(cd), ? FROM ("+
		"SELECT toDate(recv, 'Europe/Stockholm') AS d, ctype AS ct, dep AS dp, count() AS cn, countIf(app = 1) AS ca, countIf(app = 1 AND dig = 1) AS cd FROM ",
		tenant, version)
	q.caseCandidates(ds)
	q.add(" WHERE d IN (SELECT toDate(arrayJoin(?))) GROUP BY d, ct, dp", ds)
	q.add(" UNION ALL SELECT day AS d, case_type AS ct, department AS dp, toUInt64(0) AS cn, toUInt64(0) AS ca, toUInt64(0) AS cd"+
		" FROM case_daily WHERE tenant = ? AND day IN (SELECT toDate(arrayJoin(?)))", tenant, ds)
	q.add(") GROUP BY d, ct, dp")
	if err := s.conn.Exec(ctx, q.sql.String(), q.args...); err != nil {
		return fmt.Errorf("refreshing the daily case figures of %d days in %s: %w", len(ds), span, err)
	}

	q = &measureQuery{tenant: tenant}
	q.add("INSERT INTO case_handling_daily (tenant, day, case_type, department, days, n, version)"+
		" SELECT ?, d, ct, dp, hd, sum(cn), ? FROM ("+
		"SELECT toDate(decd, 'Europe/Stockholm') AS d, ctype AS ct, dep AS dp,"+
		" toUInt32(toDate(decd, 'Europe/Stockholm') - toDate(recv, 'Europe/Stockholm')) AS hd, count() AS cn FROM ",
		tenant, version)
	q.caseCandidates(ds)
	q.add(" WHERE decd > toDateTime(0) AND toDate(decd, 'Europe/Stockholm') - toDate(recv, 'Europe/Stockholm') >= 0"+
		" AND d IN (SELECT toDate(arrayJoin(?))) GROUP BY d, ct, dp, hd", ds)
	q.add(" UNION ALL SELECT day AS d, case_type AS ct, department AS dp, days AS hd, toUInt64(0) AS cn"+
		" FROM case_handling_daily WHERE tenant = ? AND day IN (SELECT toDate(arrayJoin(?)))", tenant, ds)
	q.add(") GROUP BY d, ct, dp, hd")
	if err := s.conn.Exec(ctx, q.sql.String(), q.args...); err != nil {
		return fmt.Errorf("refreshing the daily handling times of %d days in %s: %w", len(ds), span, err)
	}
	return nil
}

// caseDaily adds case_daily's latest rows of the tenant (day, ctype, dep,
// cn, ca, cd), limited to the days of the From/To periods.
func (q *measureQuery) caseDaily() {
	q.add(`(SELECT day, case_type AS ctype, department AS dep,
  argMax(n, version) AS cn, argMax(apps, version) AS ca, argMax(apps_digital, version) AS cd
 FROM case_daily WHERE tenant = ?`, q.tenant)
	q.dayRange()
	q.add(" GROUP BY day, case_type, department)")
}

// caseHandlingDaily adds case_handling_daily's latest rows of the tenant
// (day, ctype, dep, days, cn), limited like caseDaily.
func (q *measureQuery) caseHandlingDaily() {
	q.add(`(SELECT day, case_type AS ctype, department AS dep, days, argMax(n, version) AS cn
 FROM case_handling_daily WHERE tenant = ?`, q.tenant)
	q.dayRange()
	q.add(" GROUP BY day, case_type, department, days)")
}

// dayRange limits a pre-aggregate's day column to the From/To periods.
func (q *measureQuery) dayRange() {
	if !q.req.From.IsZero() {
		q.add(" AND day >= toDate(?)", dateArg(strategy.PeriodOf(q.req.Kind, q.req.From).Start()))
	}
	if !q.req.To.IsZero() {
		q.add(" AND day < toDate(?)", dateArg(strategy.PeriodOf(q.req.Kind, q.req.To).End()))
	}
}
