package clickhouse

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/schema"
	"github.com/malbild/malbild/strategy"
)

// The case measures as they were computed before the pre-aggregates:
// from the latest version of every raw case (argMax per case_id). They
// are the reference the pre-aggregates must equal exactly.

func (q *measureQuery) casesDedupRaw() {
	q.add(`(SELECT case_id AS cid,
  argMax(case_type, version) AS ctype, argMax(department, version) AS dep,
  argMax(digital, version) AS dig, argMax(application, version) AS app,
  argMax(received, version) AS recv, argMax(ifNull(decided, toDateTime(0)), version) AS decd
 FROM cases WHERE tenant = ? GROUP BY case_id)`, q.tenant)
}

func (q *measureQuery) digitalShareRaw() {
	ps := periodExpr(q.req.Kind, stockholmDate("recv"))
	q.selectHead(ps, caseCols, "100 * countIf(dig = 1) / count()")
	q.add(" FROM ")
	q.casesDedupRaw()
	q.add(" WHERE app = 1")
	q.listFilter("case_types", "ctype")
	q.filter("department", "dep")
	q.groupTail("")
}

func (q *measureQuery) handlingTimeRaw(level string, top int) {
	days := stockholmDate("decd") + " - " + stockholmDate("recv")
	ps := periodExpr(q.req.Kind, stockholmDate("decd"))
	q.selectHead(ps, caseCols, "quantileExact("+level+")("+days+")")
	q.add(" FROM ")
	q.casesDedupRaw()
	q.add(" WHERE decd > toDateTime(0) AND " + days + " >= 0")
	q.listFilter("case_types", "ctype")
	q.filter("department", "dep")
	if top > 0 {
		q.add(" AND ctype IN (SELECT ctype FROM ")
		q.casesDedupRaw()
		q.add(" WHERE 1")
		q.listFilter("case_types", "ctype")
		q.filter("department", "dep")
		q.add(" GROUP BY ctype ORDER BY count() DESC, ctype LIMIT ?)", top)
	}
	q.groupTail("")
}

// rawCaseMeasure computes a case measure from the raw cases.
func rawCaseMeasure(ctx context.Context, s *Store, tenant string, req MeasureRequest) ([]strategy.Observation, error) {
	def, ok := LookupMeasure(req.Name)
	if !ok {
		return nil, fmt.Errorf("unknown measure %q", req.Name)
	}
	q := &measureQuery{tenant: tenant, req: req, def: def}
	switch req.Name {
	case "digital_share":
		q.digitalShareRaw()
	case "handling_time_median", "handling_time_p90":
		top, err := q.top()
		if err != nil {
			return nil, err
		}
		q.handlingTimeRaw(map[string]string{"handling_time_median": "0.5", "handling_time_p90": "0.9"}[req.Name], top)
	default:
		return nil, fmt.Errorf("%s is not a case measure", req.Name)
	}
	return s.runMeasure(ctx, q)
}

// caseMeasureChecks are the case measures and parameters the tests
// compare.
var caseMeasureChecks = []struct {
	name   string
	params map[string]string
}{
	{"digital_share", nil},
	{"digital_share", map[string]string{"case_types": "A, C", "department": "Bygg"}},
	{"handling_time_median", nil},
	{"handling_time_p90", nil},
	{"handling_time_p90", map[string]string{"department": "Soc"}},
	{"handling_time_median", map[string]string{"top": "2"}},
	{"handling_time_p90", map[string]string{"top": "1", "case_types": "B,C"}},
}

// obsText is observations as comparable text, values exact.
func obsText(obs []strategy.Observation) string {
	var b strings.Builder
	for _, o := range obs {
		fmt.Fprintf(&b, "%s %s=%s %v\n", o.Period, o.Dimension.Kind, o.Dimension.Value, o.Value)
	}
	return b.String()
}

// checkCasesEqualRaw compares every case measure of caseMeasureChecks,
// per period kind, computed from the pre-aggregates with the same measure
// computed from the raw cases; exactly.
func checkCasesEqualRaw(t *testing.T, s *Store, step string) {
	t.Helper()
	ctx := context.Background()
	for _, c := range caseMeasureChecks {
		for _, k := range []strategy.PeriodKind{strategy.Month, strategy.Tertial, strategy.Year} {
			req := MeasureRequest{Name: c.name, Kind: k, Params: c.params}
			got, err := s.ComputeMeasure(ctx, measureTenant, req)
			if err != nil {
				t.Fatalf("%s: %s: %v", step, c.name, err)
			}
			want, err := rawCaseMeasure(ctx, s, measureTenant, req)
			if err != nil {
				t.Fatalf("%s: %s raw: %v", step, c.name, err)
			}
			if g, w := obsText(got), obsText(want); g != w || w == "" {
				t.Fatalf("%s: %s %v %s: from the pre-aggregates\n%s\nfrom the raw cases\n%s", step, c.name, c.params, k, g, w)
			}
		}
	}
}

// randomCases are n cases with IDs from lo, received in 2023–2024.
func randomCases(r *rand.Rand, lo, n int) []facts.Case {
	var out []facts.Case
	for i := range n {
		c := facts.Case{ID: fmt.Sprintf("C%05d", lo+i), Type: []string{"A", "B", "C", "A", "D"}[r.IntN(5)],
			Department: []string{"Bygg", "Soc", ""}[r.IntN(3)], Digital: r.IntN(2) == 0, Application: r.IntN(5) > 0,
			Received: time.Date(2023, 1, 1, 0, 0, 0, 0, strategy.Stockholm).Add(time.Duration(r.IntN(2*365*24*60)) * time.Minute)}
		if r.IntN(4) > 0 {
			// Mostly short, sometimes on the received day, a few before it.
			c.Decided = c.Received.Add(time.Duration(r.IntN(40*24*60)-2*60) * time.Minute)
		}
		out = append(out, c)
	}
	return out
}

// Property: the case measures read from case_month_counts and
// case_handling_counts equal those computed from the raw cases, exactly,
// however the cases arrive: the same batch again, re-imports that move
// cases to other days and decide them, single cases, new cases.
func TestCaseMonthlyEqualsRaw(t *testing.T) {
	s := mStore(t)
	r := rand.New(rand.NewPCG(21, 15))
	first := randomCases(r, 0, 3000)
	mWrite(t, s, 1, facts.Batch{Cases: first})
	checkCasesEqualRaw(t, s, "first batch")
	mWrite(t, s, 1, facts.Batch{Cases: first})
	mWrite(t, s, 2, facts.Batch{Cases: first})
	checkCasesEqualRaw(t, s, "the same batch twice more")
	moved := slices.Clone(first[:400])
	for i := range moved {
		c := &moved[i]
		c.Received = c.Received.AddDate(0, 0, r.IntN(200)-100)
		c.Type = []string{"A", "B", "C", "D"}[r.IntN(4)]
		c.Digital = !c.Digital
		c.Decided = time.Time{}
		if r.IntN(3) > 0 {
			c.Decided = c.Received.Add(time.Duration(r.IntN(90*24)) * time.Hour)
		}
	}
	mWrite(t, s, 3, facts.Batch{Cases: moved})
	checkCasesEqualRaw(t, s, "400 cases moved, retyped, decided or undecided")
	for i := range 20 {
		one := moved[i]
		one.Received = one.Received.AddDate(1, 0, 0)
		mWrite(t, s, uint64(4+i), facts.Batch{Cases: []facts.Case{one}})
	}
	checkCasesEqualRaw(t, s, "single cases moved a year")
	mWrite(t, s, 30, facts.Batch{Cases: randomCases(r, 3000, 1000)})
	checkCasesEqualRaw(t, s, "more cases")
}

// caseMonthlyTotals are case_month_counts' sums of cases per month and
// case_handling_counts' per decided month, zero months left out.
func caseMonthlyTotals(t *testing.T, s *Store) (daily, handling map[string]int64) {
	t.Helper()
	ctx := context.Background()
	read := func(sql string) map[string]int64 {
		rows, err := s.conn.Query(ctx, sql, measureTenant)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int64{}
		for rows.Next() {
			var d time.Time
			var n int64
			if err := rows.Scan(&d, &n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				out[d.Format(time.DateOnly)] = n
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	daily = read(`SELECT month, sum(n) FROM case_month_counts WHERE tenant = ? GROUP BY month HAVING sum(n) != 0`)
	handling = read(`SELECT month, sum(n) FROM case_handling_counts WHERE tenant = ? GROUP BY month HAVING sum(n) != 0`)
	return daily, handling
}

// The same cases imported twice count once; a re-imported case whose
// received (and decided) day moved leaves its old days and months.
func TestCaseMonthlyReimports(t *testing.T) {
	s := mStore(t)
	c1 := facts.Case{ID: "1", Type: "A", Application: true, Digital: true,
		Received: mLocal(t, "2024-03-10 09:00"), Decided: mLocal(t, "2024-03-12 10:00")}
	c2 := facts.Case{ID: "2", Type: "A", Application: true, Received: mLocal(t, "2024-03-10 23:30")}
	mWrite(t, s, 1, facts.Batch{Cases: []facts.Case{c1, c2}})
	mWrite(t, s, 1, facts.Batch{Cases: []facts.Case{c1, c2}})
	mWrite(t, s, 2, facts.Batch{Cases: []facts.Case{c1, c2}})
	daily, handling := caseMonthlyTotals(t, s)
	if fmt.Sprint(daily) != "map[2024-03-01:2]" || fmt.Sprint(handling) != "map[2024-03-01:1]" {
		t.Fatalf("after three imports of the same two cases: daily %v, handling %v", daily, handling)
	}
	if got := obsText(mCompute(t, s, "digital_share", strategy.Month, nil)); got != "2024-03 = 50\n2024-03 case_type=A 50\n" {
		t.Fatalf("digital share after three imports:\n%s", got)
	}
	c1.Received, c1.Decided = mLocal(t, "2024-04-02 09:00"), mLocal(t, "2024-04-05 09:00")
	mWrite(t, s, 3, facts.Batch{Cases: []facts.Case{c1}})
	daily, handling = caseMonthlyTotals(t, s)
	if fmt.Sprint(daily) != "map[2024-03-01:1 2024-04-01:1]" || fmt.Sprint(handling) != "map[2024-04-01:1]" {
		t.Fatalf("after case 1 moved to April: daily %v, handling %v", daily, handling)
	}
	if got := obsText(mCompute(t, s, "handling_time_median", strategy.Month, nil)); got != "2024-04 = 3\n2024-04 case_type=A 3\n" {
		t.Fatalf("handling time after case 1 moved:\n%s", got)
	}
	// Case 2 retyped: its key (type A) on its day goes to zero.
	c2.Type = "B"
	mWrite(t, s, 4, facts.Batch{Cases: []facts.Case{c2}})
	if got := obsText(mCompute(t, s, "digital_share", strategy.Month, nil)); got != "2024-03 = 0\n2024-03 case_type=B 0\n2024-04 = 100\n2024-04 case_type=A 100\n" {
		t.Fatalf("digital share after case 2 was retyped:\n%s", got)
	}
}

// The backfill migrations fill the pre-aggregates from cases stored
// before they existed, giving the same figures as the store's deltas.
func TestCaseMonthlyBackfill(t *testing.T) {
	ctx := context.Background()
	s := mStore(t)
	r := rand.New(rand.NewPCG(5, 15))
	cases := randomCases(r, 0, 1500)
	mWrite(t, s, 1, facts.Batch{Cases: cases})
	moved := slices.Clone(cases[:200])
	for i := range moved {
		moved[i].Received = moved[i].Received.AddDate(0, 2, 0)
	}
	mWrite(t, s, 2, facts.Batch{Cases: moved})
	figures := func() string {
		var out []string
		for _, c := range caseMeasureChecks {
			out = append(out, c.name+"\n"+obsText(mCompute(t, s, c.name, strategy.Month, c.params)))
		}
		return strings.Join(out, "\n")
	}
	want := figures()
	for _, table := range []string{"case_month_counts", "case_handling_counts"} {
		if err := s.Exec(ctx, "TRUNCATE TABLE "+table); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"0040_case_month_counts_backfill.sql", "0042_case_handling_counts_backfill.sql"} {
		sql, err := fs.ReadFile(schema.Files, f)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Exec(ctx, string(sql)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if got := figures(); got != want || !strings.Contains(want, "2024-") {
		t.Fatalf("after the backfill:\n%s\nwant\n%s", got, want)
	}
	// Deltas after the backfill take the moved cases out of their months.
	again := slices.Clone(moved[:50])
	for i := range again {
		again[i].Received = again[i].Received.AddDate(0, 1, 0)
	}
	mWrite(t, s, 3, facts.Batch{Cases: again})
	checkCasesEqualRaw(t, s, "after the backfill, cases moved again")
}
