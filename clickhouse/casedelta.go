package clickhouse

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// The case pre-aggregates are signed counts (schema 0039–0042):
// case_month_counts holds, per tenant, Europe/Stockholm month received,
// case type and department, what digital_share and handling time's top
// case types need (cases, applications, digital applications);
// case_handling_counts holds, per month decided, case type, department
// and whole handling days, the histogram handling time's quantiles are
// read from exactly. A figure is the sum of its key's rows.
//
// A write of cases adds, in Go, −1 for the stored version of every case
// it replaces and +1 for the case as written, and inserts only the sum
// per key that is not zero: its cost is that of the batch, not of the
// touched months' history, and the same facts imported twice net to zero.
// The deltas are exact only if nothing else changes the tenant's cases or
// counts between the look-up of the stored versions and the insert: the
// store serialises writes of a tenant's cases in the process (caseLock),
// and one collector role writes (docs/deploy.md, docs/cluster.md).
//
// Faults: the months a write's deltas touch are marked in
// case_refresh_pending before the cases are written and cleared after the
// deltas are in. A month left marked (an error, a crash, an insert whose
// outcome is unknown) is repaired by the next write of the tenant's cases
// or the next recompute: its exact figures are computed from the cases
// table and the difference to the current sums is inserted
// (repairCaseMonths). RebuildCaseAggregates does that for every month.

// caseLocks holds a mutex per database and tenant (caseLock).
var caseLocks sync.Map

// caseLock locks the writes of tenant's cases and case figures in this
// process and returns the unlock.
func (s *Store) caseLock(tenant string) func() {
	m, _ := caseLocks.LoadOrStore(s.db+"\x00"+tenant, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// lastVersion is the last version uniqueVersion handed out.
var lastVersion atomic.Uint64

// uniqueVersion is the current time in nanoseconds, or one more than the
// last version it returned: the version column of a block of delta rows,
// so that no two blocks this process inserts are identical (a Replicated
// table in cluster mode drops an inserted block identical to an earlier
// one; a batch's own version need not be unique: a bulk load may give all
// its batches version 1).
func uniqueVersion() uint64 {
	for {
		last := lastVersion.Load()
		v := max(uint64(time.Now().UnixNano()), last+1)
		if lastVersion.CompareAndSwap(last, v) {
			return v
		}
	}
}

// caseState is what the case figures count of one case.
type caseState struct {
	typ, dep          string
	digital, app      bool
	received, decided time.Time // decided zero: not decided
}

func stateOf(c *facts.Case) caseState {
	return caseState{typ: c.Type, dep: c.Department, digital: c.Digital, app: c.Application, received: c.Received, decided: c.Decided}
}

// priorCase is the stored version of a case: its state and version.
type priorCase struct {
	caseState
	version uint64
}

// month is a calendar month as year·12 + month − 1.
type month int32

func monthOf(t time.Time) month {
	y, m, _ := t.In(strategy.Stockholm).Date()
	return month(y*12 + int(m) - 1)
}

func monthOfColumn(d time.Time) month {
	y, m, _ := d.Date()
	return month(y*12 + int(m) - 1)
}

// start is the month's first day, midnight Europe/Stockholm.
func (m month) start() time.Time {
	return time.Date(int(m)/12, time.Month(int(m)%12+1), 1, 0, 0, 0, 0, strategy.Stockholm)
}

// handlingDays is the number of Europe/Stockholm calendar days from
// received's day to decided's (negative if decided lies before).
func handlingDays(received, decided time.Time) int64 {
	return int64(dateValue(decided).Sub(dateValue(received)) / (24 * time.Hour))
}

type countKey struct {
	month    month
	typ, dep string
}

type countVal struct{ n, apps, digital int64 }

type handlingKey struct {
	month    month
	typ, dep string
	days     uint32
}

// caseFigures are signed contributions to the case pre-aggregates.
type caseFigures struct {
	counts   map[countKey]countVal
	handling map[handlingKey]int64
}

func newCaseFigures() *caseFigures {
	return &caseFigures{counts: map[countKey]countVal{}, handling: map[handlingKey]int64{}}
}

func (f *caseFigures) addCount(m month, typ, dep string, app, digital bool, w int64) {
	k := countKey{m, typ, dep}
	v := f.counts[k]
	v.n += w
	if app {
		v.apps += w
		if digital {
			v.digital += w
		}
	}
	f.counts[k] = v
}

func (f *caseFigures) addHandling(m month, typ, dep string, days int64, w int64) {
	if days < 0 {
		return // decided before received: not a handling time
	}
	f.handling[handlingKey{m, typ, dep, uint32(days)}] += w
}

// add adds w times what c counts.
func (f *caseFigures) add(c *caseState, w int64) {
	f.addCount(monthOf(c.received), c.typ, c.dep, c.app, c.digital, w)
	if !c.decided.IsZero() {
		f.addHandling(monthOf(c.decided), c.typ, c.dep, handlingDays(c.received, c.decided), w)
	}
}

// sub subtracts o from f.
func (f *caseFigures) sub(o *caseFigures) {
	for k, v := range o.counts {
		x := f.counts[k]
		f.counts[k] = countVal{x.n - v.n, x.apps - v.apps, x.digital - v.digital}
	}
	for k, v := range o.handling {
		f.handling[k] -= v
	}
}

// prune drops the keys whose contributions sum to zero, and, with keep,
// those of months keep does not hold.
func (f *caseFigures) prune(keep func(month) bool) {
	maps.DeleteFunc(f.counts, func(k countKey, v countVal) bool {
		return v == countVal{} || keep != nil && !keep(k.month)
	})
	maps.DeleteFunc(f.handling, func(k handlingKey, v int64) bool {
		return v == 0 || keep != nil && !keep(k.month)
	})
}

// months are the months f has a key in.
func (f *caseFigures) months() map[month]bool {
	out := map[month]bool{}
	for k := range f.counts {
		out[k.month] = true
	}
	for k := range f.handling {
		out[k.month] = true
	}
	return out
}

// caseDeltas are the changes a write of cases makes to the case figures:
// for every case, −1 for its stored version (prior) and +1 for the case
// as written, unless the stored version is newer (it stays, as in the
// cases table). cases hold one case per ID (dedupCases).
func caseDeltas(cases []facts.Case, version uint64, prior map[string]priorCase) *caseFigures {
	f := newCaseFigures()
	for i := range cases {
		c := &cases[i]
		if p, ok := prior[c.ID]; ok {
			if p.version > version {
				continue
			}
			f.add(&p.caseState, -1)
		}
		st := stateOf(c)
		f.add(&st, 1)
	}
	f.prune(nil)
	return f
}

// dedupCases returns cases with one case per ID: the last of those with
// the same ID, as the cases table keeps it (a ReplacingMergeTree keeps
// the last inserted of equal versions; argMax, which the look-ups and
// the raw measures read with, would pick any of them while the rows are
// unmerged). Without duplicates it returns cases itself.
func dedupCases(cases []facts.Case) []facts.Case {
	last := make(map[string]int, len(cases))
	for i := range cases {
		last[cases[i].ID] = i
	}
	if len(last) == len(cases) {
		return cases
	}
	out := make([]facts.Case, 0, len(last))
	for i := range cases {
		if last[cases[i].ID] == i {
			out = append(out, cases[i])
		}
	}
	return out
}

var (
	caseCountCols    = []string{"tenant", "month", "case_type", "department", "n", "apps", "apps_digital", "version"}
	caseHandlingCols = []string{"tenant", "month", "case_type", "department", "days", "n", "version"}
)

// writeCaseFigures inserts f's rows for tenant (one block per table,
// keys in order), with a version no other block of this process has.
func (s *Store) writeCaseFigures(ctx context.Context, tenant string, f *caseFigures) error {
	version := uniqueVersion()
	counts := slices.SortedFunc(maps.Keys(f.counts), func(a, b countKey) int {
		return cmp.Or(cmp.Compare(a.month, b.month), cmp.Compare(a.typ, b.typ), cmp.Compare(a.dep, b.dep))
	})
	err := s.insert(ctx, "case_month_counts", caseCountCols, len(counts), func(w *blockWriter, lo, hi int) {
		part := counts[lo:hi]
		constStrCol(w, 0, len(part), tenant)
		dateCol(w, 1, part, func(k *countKey) time.Time { return k.month.start() })
		strCol(w, 2, part, func(k *countKey) string { return k.typ })
		strCol(w, 3, part, func(k *countKey) string { return k.dep })
		i64Col(w, 4, part, func(k *countKey) int64 { return f.counts[*k].n })
		i64Col(w, 5, part, func(k *countKey) int64 { return f.counts[*k].apps })
		i64Col(w, 6, part, func(k *countKey) int64 { return f.counts[*k].digital })
		constU64Col(w, 7, len(part), version)
	})
	if err != nil {
		return fmt.Errorf("writing %d changes of the monthly case counts: %w", len(counts), err)
	}
	hs := slices.SortedFunc(maps.Keys(f.handling), func(a, b handlingKey) int {
		return cmp.Or(cmp.Compare(a.month, b.month), cmp.Compare(a.typ, b.typ), cmp.Compare(a.dep, b.dep), cmp.Compare(a.days, b.days))
	})
	err = s.insert(ctx, "case_handling_counts", caseHandlingCols, len(hs), func(w *blockWriter, lo, hi int) {
		part := hs[lo:hi]
		constStrCol(w, 0, len(part), tenant)
		dateCol(w, 1, part, func(k *handlingKey) time.Time { return k.month.start() })
		strCol(w, 2, part, func(k *handlingKey) string { return k.typ })
		strCol(w, 3, part, func(k *handlingKey) string { return k.dep })
		u32Col(w, 4, part, func(k *handlingKey) uint32 { return k.days })
		i64Col(w, 5, part, func(k *handlingKey) int64 { return f.handling[*k] })
		constU64Col(w, 6, len(part), version)
	})
	if err != nil {
		return fmt.Errorf("writing %d changes of the monthly handling times: %w", len(hs), err)
	}
	return nil
}

// repairSettings are measureSettings and room for a long list of months.
var repairSettings = ch.Settings{
	"max_bytes_before_external_group_by": 1 << 30,
	"max_bytes_before_external_sort":     1 << 30,
	"max_query_size":                     16 << 20,
}

// caseClassesSQL reads, from the latest version of each case (argMax by
// case ID: cases is partitioned by the year received, so FINAL would keep
// a case whose received year moved twice), the cases of tenant counted
// per received month, decided month (the zero date: not decided), type,
// department, application, digital and handling days. inner selects the
// rows whose case IDs are read (any version), outer the cases counted
// (their latest version: recv, decd).
func caseClassesSQL(inner, outer string) string {
	return `SELECT toStartOfMonth(toDate(recv, 'Europe/Stockholm')) AS rm,
  if(decd > toDateTime(0), toStartOfMonth(toDate(decd, 'Europe/Stockholm')), toDate('1970-01-01')) AS dm,
  ctype, dep, app, dig,
  if(decd > toDateTime(0), toInt64(toInt32(toDate(decd, 'Europe/Stockholm')) - toInt32(toDate(recv, 'Europe/Stockholm'))), toInt64(0)) AS hd,
  count() AS cn
 FROM (SELECT case_id, argMax(case_type, version) AS ctype, argMax(department, version) AS dep,
  argMax(digital, version) AS dig, argMax(application, version) AS app, argMax(received, version) AS recv,
  argMax(ifNull(decided, toDateTime(0)), version) AS decd
 FROM cases WHERE tenant = ? AND case_id IN (SELECT case_id FROM cases WHERE tenant = ? AND ` + inner + `) GROUP BY case_id)
 WHERE ` + outer + `
 GROUP BY rm, dm, ctype, dep, app, dig, hd`
}

// readCaseClasses runs a caseClassesSQL query and adds its cases to f:
// counts in the received months and handling times in the decided months
// keep holds (nil: all).
func (s *Store) readCaseClasses(ctx context.Context, f *caseFigures, keep func(month) bool, sql string, args ...any) error {
	rows, err := s.conn.Query(ch.Context(ctx, ch.WithSettings(repairSettings)), sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var rm, dm time.Time
		var typ, dep string
		var app, dig uint8
		var hd int64
		var n uint64
		if err := rows.Scan(&rm, &dm, &typ, &dep, &app, &dig, &hd, &n); err != nil {
			return err
		}
		if m := monthOfColumn(rm); keep == nil || keep(m) {
			f.addCount(m, typ, dep, app == 1, dig == 1, int64(n))
		}
		if dm.Year() > 1970 {
			if m := monthOfColumn(dm); keep == nil || keep(m) {
				f.addHandling(m, typ, dep, hd, int64(n))
			}
		}
	}
	return rows.Err()
}

// readCaseSums adds the current sums of tenant's case figures to f, in
// the months given (nil: all). Keys that sum to zero are left out: a
// merge may or may not have dropped their rows yet.
func (s *Store) readCaseSums(ctx context.Context, tenant string, f *caseFigures, months []month) error {
	where, args := "tenant = ?", []any{tenant}
	if months != nil {
		ds := make([]string, len(months))
		for i, m := range months {
			ds[i] = dateArg(m.start())
		}
		where += " AND month IN (SELECT toDate(arrayJoin(?)))"
		args = append(args, ds)
	}
	ctx = ch.Context(ctx, ch.WithSettings(repairSettings))
	rows, err := s.conn.Query(ctx, `SELECT month, case_type, department, sum(n), sum(apps), sum(apps_digital)
 FROM case_month_counts WHERE `+where+` GROUP BY month, case_type, department
 HAVING sum(n) != 0 OR sum(apps) != 0 OR sum(apps_digital) != 0`, args...)
	if err != nil {
		return fmt.Errorf("reading the monthly case counts: %w", err)
	}
	for rows.Next() {
		var m time.Time
		var k countKey
		var v countVal
		if err := rows.Scan(&m, &k.typ, &k.dep, &v.n, &v.apps, &v.digital); err != nil {
			rows.Close()
			return fmt.Errorf("reading the monthly case counts: %w", err)
		}
		k.month = monthOfColumn(m)
		x := f.counts[k]
		f.counts[k] = countVal{x.n + v.n, x.apps + v.apps, x.digital + v.digital}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the monthly case counts: %w", err)
	}
	rows, err = s.conn.Query(ctx, `SELECT month, case_type, department, days, sum(n)
 FROM case_handling_counts WHERE `+where+` GROUP BY month, case_type, department, days HAVING sum(n) != 0`, args...)
	if err != nil {
		return fmt.Errorf("reading the monthly handling times: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m time.Time
		var k handlingKey
		var n int64
		if err := rows.Scan(&m, &k.typ, &k.dep, &k.days, &n); err != nil {
			return fmt.Errorf("reading the monthly handling times: %w", err)
		}
		k.month = monthOfColumn(m)
		f.handling[k] += n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the monthly handling times: %w", err)
	}
	return nil
}

// repairCaseMonths makes tenant's case figures in the given months exact:
// it computes them from the cases table (counts of the cases whose latest
// version was received in one of the months, handling times of those
// decided in one) and inserts the difference to the current sums. The
// caller holds caseLock.
func (s *Store) repairCaseMonths(ctx context.Context, tenant string, months []month) error {
	if len(months) == 0 {
		return nil
	}
	slices.Sort(months)
	months = slices.Compact(months)
	set := map[month]bool{}
	ds := make([]string, len(months))
	for i, m := range months {
		set[m] = true
		ds[i] = dateArg(m.start())
	}
	keep := func(m month) bool { return set[m] }
	span := ds[0] + "–" + ds[len(ds)-1]
	// The look-up of the case IDs keeps to the months' span of received
	// (cases' partitions and key) and scans decided.
	lo, hi := months[0].start().Unix(), (months[len(months)-1] + 1).start().Unix()
	inner := `((received >= toDateTime(?) AND received < toDateTime(?) AND toStartOfMonth(toDate(received, 'Europe/Stockholm')) IN (SELECT toDate(arrayJoin(?))))
  OR (ifNull(decided, toDateTime(0)) >= toDateTime(?) AND ifNull(decided, toDateTime(0)) < toDateTime(?)
  AND toStartOfMonth(toDate(ifNull(decided, toDateTime(0)), 'Europe/Stockholm')) IN (SELECT toDate(arrayJoin(?)))))`
	outer := `(rm IN (SELECT toDate(arrayJoin(?))) OR dm IN (SELECT toDate(arrayJoin(?))))`
	exact := newCaseFigures()
	err := s.readCaseClasses(ctx, exact, keep, caseClassesSQL(inner, outer), tenant, tenant, lo, hi, ds, lo, hi, ds, ds, ds)
	if err != nil {
		return fmt.Errorf("computing the case figures of %d months in %s from the cases: %w", len(months), span, err)
	}
	cur := newCaseFigures()
	if err := s.readCaseSums(ctx, tenant, cur, months); err != nil {
		return fmt.Errorf("repairing the case figures of %d months in %s: %w", len(months), span, err)
	}
	exact.sub(cur)
	exact.prune(keep)
	if err := s.writeCaseFigures(ctx, tenant, exact); err != nil {
		return fmt.Errorf("repairing the case figures of %d months in %s: %w", len(months), span, err)
	}
	return nil
}

// caseMonthCounts adds case_month_counts' sums of the tenant (month,
// ctype, dep, cn, ca, cd), limited to the months of the From/To periods.
func (q *measureQuery) caseMonthCounts() {
	q.add(`(SELECT month, case_type AS ctype, department AS dep, sum(n) AS cn, sum(apps) AS ca, sum(apps_digital) AS cd
 FROM case_month_counts WHERE tenant = ?`, q.tenant)
	q.monthRange()
	q.add(" GROUP BY month, case_type, department)")
}

// caseHandlingCounts adds case_handling_counts' sums of the tenant
// (month, ctype, dep, days, cn), limited like caseMonthCounts.
func (q *measureQuery) caseHandlingCounts() {
	q.add(`(SELECT month, case_type AS ctype, department AS dep, days, sum(n) AS cn
 FROM case_handling_counts WHERE tenant = ?`, q.tenant)
	q.monthRange()
	q.add(" GROUP BY month, case_type, department, days)")
}

// monthRange limits a pre-aggregate's month column to the From/To
// periods (whole months: every period kind is made of months).
func (q *measureQuery) monthRange() {
	if !q.req.From.IsZero() {
		q.add(" AND month >= toDate(?)", dateArg(strategy.PeriodOf(q.req.Kind, q.req.From).Start()))
	}
	if !q.req.To.IsZero() {
		q.add(" AND month < toDate(?)", dateArg(strategy.PeriodOf(q.req.Kind, q.req.To).End()))
	}
}

// pendingCaseMonths returns tenant's months marked in
// case_refresh_pending whose repair is still owed, each with the version
// of its mark.
func (s *Store) pendingCaseMonths(ctx context.Context, tenant string) (map[month]uint64, error) {
	rows, err := s.conn.Query(ctx, `SELECT month, v FROM (SELECT month,
  argMax(pending, version) AS p, max(version) AS v FROM case_refresh_pending WHERE tenant = ? GROUP BY month) WHERE p = 1`, tenant)
	if err != nil {
		return nil, fmt.Errorf("reading the months whose case figures await a repair: %w", err)
	}
	defer rows.Close()
	out := map[month]uint64{}
	for rows.Next() {
		var m time.Time
		var v uint64
		if err := rows.Scan(&m, &v); err != nil {
			return nil, fmt.Errorf("reading the months whose case figures await a repair: %w", err)
		}
		out[monthOfColumn(m)] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the months whose case figures await a repair: %w", err)
	}
	return out, nil
}

// markCaseMonths writes tenant's months (month → version) to
// case_refresh_pending as pending or no longer pending.
func (s *Store) markCaseMonths(ctx context.Context, tenant string, months map[month]uint64, pending bool) error {
	if len(months) == 0 {
		return nil
	}
	ms := slices.Sorted(maps.Keys(months))
	err := s.insert(ctx, "case_refresh_pending", []string{"tenant", "month", "pending", "version"}, len(ms), func(w *blockWriter, lo, hi int) {
		part := ms[lo:hi]
		constStrCol(w, 0, len(part), tenant)
		dateCol(w, 1, part, func(m *month) time.Time { return m.start() })
		boolCol(w, 2, part, func(*month) bool { return pending })
		u64Col(w, 3, part, func(m *month) uint64 { return months[*m] })
	})
	if err != nil {
		what := "clearing"
		if pending {
			what = "marking"
		}
		return fmt.Errorf("%s %d months of case figures awaiting a repair: %w", what, len(ms), err)
	}
	return nil
}

// caseWrite is a write of cases in progress: the deltas, the months they
// touch (marked before the cases are written) and the months earlier
// writes left marked.
type caseWrite struct {
	tenant string
	deltas *caseFigures
	marks  map[month]uint64 // own months → version of their mark
	owed   map[month]uint64 // months marked before → version of their mark
}

// beginCaseWrite reads the months earlier writes of tenant's cases left
// to repair and marks months, which hold every month the deltas touch, as
// awaiting a repair, before the cases are written. The caller sets the
// deltas before finishCaseWrite.
func (s *Store) beginCaseWrite(ctx context.Context, tenant string, months map[month]bool) (*caseWrite, error) {
	owed, err := s.pendingCaseMonths(ctx, tenant)
	if err != nil {
		return nil, err
	}
	w := &caseWrite{tenant: tenant, marks: map[month]uint64{}, owed: owed}
	version := uniqueVersion()
	for m := range months {
		w.marks[m] = version
	}
	if err := s.markCaseMonths(ctx, tenant, w.marks, true); err != nil {
		return nil, err
	}
	return w, nil
}

// finishCaseWrite inserts the deltas, repairs the months earlier writes
// left marked, and clears the marks (with versions newer than theirs).
func (s *Store) finishCaseWrite(ctx context.Context, w *caseWrite) error {
	if err := s.writeCaseFigures(ctx, w.tenant, w.deltas); err != nil {
		return err
	}
	if err := s.repairCaseMonths(ctx, w.tenant, slices.Collect(maps.Keys(w.owed))); err != nil {
		return err
	}
	done := map[month]uint64{}
	for m, v := range w.marks {
		done[m] = v + 1
	}
	for m, v := range w.owed {
		done[m] = max(done[m], v+1)
	}
	return s.markCaseMonths(ctx, w.tenant, done, false)
}

// RefreshPendingCases repairs the case figures of tenant's months that a
// failed or interrupted write left marked, and returns those months
// (their first days), for the measures to recompute.
func (s *Store) RefreshPendingCases(ctx context.Context, tenant string) (*Days, error) {
	defer s.caseLock(tenant)()
	owed, err := s.pendingCaseMonths(ctx, tenant)
	if err != nil || len(owed) == 0 {
		return nil, err
	}
	if err := s.repairCaseMonths(ctx, tenant, slices.Collect(maps.Keys(owed))); err != nil {
		return nil, err
	}
	var days Days
	for m, v := range owed {
		owed[m] = v + 1
		days.Add(m.start())
	}
	if err := s.markCaseMonths(ctx, tenant, owed, false); err != nil {
		return nil, err
	}
	return &days, nil
}

// RebuildCaseAggregates makes every case figure of tenant exact: it
// computes them from the cases table, a received year at a time (bounded
// memory), inserts the difference to the current sums (months no case
// counts in any more go to zero), and then clears the months awaiting a
// repair.
func (s *Store) RebuildCaseAggregates(ctx context.Context, tenant string) error {
	defer s.caseLock(tenant)()
	owed, err := s.pendingCaseMonths(ctx, tenant)
	if err != nil {
		return err
	}
	var n uint64
	var first, last time.Time
	err = s.conn.QueryRow(ctx, `SELECT count(), min(received), max(received) FROM cases WHERE tenant = ?`, tenant).Scan(&n, &first, &last)
	if err != nil {
		return fmt.Errorf("reading the years of tenant %s's cases: %w", tenant, err)
	}
	exact := newCaseFigures()
	if n > 0 {
		y0, y1 := first.In(strategy.Stockholm).Year(), last.In(strategy.Stockholm).Year()
		for y := y0; y <= y1; y++ {
			lo := time.Date(y, 1, 1, 0, 0, 0, 0, strategy.Stockholm).Unix()
			hi := time.Date(y+1, 1, 1, 0, 0, 0, 0, strategy.Stockholm).Unix()
			sql := caseClassesSQL("received >= toDateTime(?) AND received < toDateTime(?)", "recv >= toDateTime(?) AND recv < toDateTime(?)")
			if err := s.readCaseClasses(ctx, exact, nil, sql, tenant, tenant, lo, hi, lo, hi); err != nil {
				return fmt.Errorf("rebuilding the case figures of tenant %s: the cases received in %d: %w", tenant, y, err)
			}
		}
	}
	cur := newCaseFigures()
	if err := s.readCaseSums(ctx, tenant, cur, nil); err != nil {
		return fmt.Errorf("rebuilding the case figures of tenant %s: %w", tenant, err)
	}
	exact.sub(cur)
	exact.prune(nil)
	if err := s.writeCaseFigures(ctx, tenant, exact); err != nil {
		return fmt.Errorf("rebuilding the case figures of tenant %s: %w", tenant, err)
	}
	for m, v := range owed {
		owed[m] = v + 1
	}
	return s.markCaseMonths(ctx, tenant, owed, false)
}
