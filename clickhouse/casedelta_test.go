package clickhouse

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// figuresText is the case figures' non-zero keys as sorted text.
func figuresText(f *caseFigures) string {
	f.prune(nil)
	var lines []string
	for k, v := range f.counts {
		lines = append(lines, fmt.Sprintf("count %s %q %q n=%d apps=%d digital=%d", dateArg(k.month.start()), k.typ, k.dep, v.n, v.apps, v.digital))
	}
	for k, v := range f.handling {
		lines = append(lines, fmt.Sprintf("handling %s %q %q days=%d n=%d", dateArg(k.month.start()), k.typ, k.dep, k.days, v))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// rawFigures are the case figures as a GROUP BY over the latest version
// of every case (argMax by case ID: a case whose received year moved has
// a row in two partitions, which FINAL would both keep).
func rawFigures(t *testing.T, s *Store) *caseFigures {
	t.Helper()
	ctx := context.Background()
	f := newCaseFigures()
	dedup := `(SELECT case_id, argMax(case_type, version) AS ctype, argMax(department, version) AS dep,
  argMax(digital, version) AS dig, argMax(application, version) AS app, argMax(received, version) AS recv,
  argMax(ifNull(decided, toDateTime(0)), version) AS decd FROM cases WHERE tenant = ? GROUP BY case_id)`
	rows, err := s.conn.Query(ctx, `SELECT toStartOfMonth(toDate(recv, 'Europe/Stockholm')) AS m, ctype, dep,
  toInt64(count()), toInt64(countIf(app = 1)), toInt64(countIf(app = 1 AND dig = 1)) FROM `+dedup+` GROUP BY m, ctype, dep`, measureTenant)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m time.Time
		var k countKey
		var v countVal
		if err := rows.Scan(&m, &k.typ, &k.dep, &v.n, &v.apps, &v.digital); err != nil {
			t.Fatal(err)
		}
		k.month = monthOfColumn(m)
		f.counts[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows, err = s.conn.Query(ctx, `SELECT toStartOfMonth(toDate(decd, 'Europe/Stockholm')) AS m, ctype, dep,
  toUInt32(toDate(decd, 'Europe/Stockholm') - toDate(recv, 'Europe/Stockholm')) AS hd, toInt64(count()) FROM `+dedup+`
 WHERE decd > toDateTime(0) AND toDate(decd, 'Europe/Stockholm') >= toDate(recv, 'Europe/Stockholm') GROUP BY m, ctype, dep, hd`, measureTenant)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var m time.Time
		var k handlingKey
		var n int64
		if err := rows.Scan(&m, &k.typ, &k.dep, &k.days, &n); err != nil {
			t.Fatal(err)
		}
		k.month = monthOfColumn(m)
		f.handling[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return f
}

// storedFigures are the sums of case_month_counts and case_handling_counts.
func storedFigures(t *testing.T, s *Store) *caseFigures {
	t.Helper()
	f := newCaseFigures()
	if err := s.readCaseSums(context.Background(), measureTenant, f, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

// Property: whatever batches of cases arrive — new cases, re-imports that
// move received and decided across months and years, retype them, decide
// them or take their decision back, the same batch again, an older
// version of stored cases, several cases with one ID in a batch (the last
// counts) — the sums of the deltas equal a GROUP BY over the latest
// version of every stored case, and both equal a model of the cases kept
// in Go.
func TestCaseDeltasEqualRaw(t *testing.T) {
	s := mStore(t)
	r := rand.New(rand.NewPCG(15, 39))
	type stored struct {
		c       facts.Case
		version uint64
	}
	model := map[string]stored{}
	base := time.Date(2022, 11, 1, 0, 0, 0, 0, strategy.Stockholm)
	randomCase := func(id string) facts.Case {
		c := facts.Case{ID: id, Type: []string{"A", "B", "C"}[r.IntN(3)], Department: []string{"Bygg", "Soc", ""}[r.IntN(3)],
			Digital: r.IntN(2) == 0, Application: r.IntN(4) > 0,
			// Around two year ends, to the minute (midnights and month ends included).
			Received: base.Add(time.Duration(r.IntN(26*30*24*60)) * time.Minute)}
		if r.IntN(3) > 0 {
			c.Decided = c.Received.Add(time.Duration(r.IntN(70*24*60)-24*60) * time.Minute)
		}
		return c
	}
	change := func(c facts.Case) facts.Case {
		switch r.IntN(6) {
		case 0: // moved across months, perhaps years
			d := time.Duration(r.IntN(400)-200) * 24 * time.Hour
			c.Received = c.Received.Add(d)
			if !c.Decided.IsZero() {
				c.Decided = c.Decided.Add(d)
			}
		case 1: // the decision taken back
			c.Decided = time.Time{}
		case 2: // decided, or decided on another day
			c.Decided = c.Received.Add(time.Duration(r.IntN(400*24)) * time.Hour)
		case 3:
			c.Type, c.Department = []string{"A", "B", "C", "D"}[r.IntN(4)], []string{"Bygg", "Soc", "", "IT"}[r.IntN(4)]
		case 4:
			c.Digital, c.Application = !c.Digital, r.IntN(2) == 0
		case 5: // a year later
			c.Received = c.Received.AddDate(1, 0, 0)
		}
		return c
	}
	var batches [][]facts.Case
	prepared := 0
	write := func(step string, version uint64, cases []facts.Case) {
		t.Helper()
		b := facts.Batch{Tenant: measureTenant, Collector: "test", Source: "test", Version: version, Cases: slices.Clone(cases)}
		ctx := context.Background()
		// A batch of unique IDs comes prepared, as cases_csv sends its
		// files; one with an ID twice cannot be.
		if p := PrepareCases(b.Cases); p.Unique() {
			ctx = WithCasePrep(ctx, p)
			prepared++
		}
		if err := s.WriteBatch(ctx, &b); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		batches = append(batches, cases)
		for _, c := range cases { // the last of an ID counts; an older version does not replace
			if m, ok := model[c.ID]; !ok || m.version <= version {
				model[c.ID] = stored{c, version}
			}
		}
		want := newCaseFigures()
		for _, m := range model {
			st := stateOf(&m.c)
			want.add(&st, 1)
		}
		got, raw := figuresText(storedFigures(t, s)), figuresText(rawFigures(t, s))
		if w := figuresText(want); got != w || raw != w {
			t.Fatalf("%s: the deltas' sums\n%s\n\nthe raw cases\n%s\n\nthe model\n%s", step, got, raw, w)
		}
	}
	ids := func(lo, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("K%04d", lo+i)
		}
		return out
	}
	var first []facts.Case
	for _, id := range ids(0, 300) {
		first = append(first, randomCase(id))
	}
	write("new cases", 10, first)
	write("the same batch again", 10, first)
	version := uint64(10)
	for round := range 12 {
		version++
		keys := slices.Sorted(maps.Keys(model))
		var b []facts.Case
		for _, id := range keys {
			if r.IntN(4) == 0 {
				b = append(b, change(model[id].c))
			}
		}
		for _, id := range ids(1000+100*round, r.IntN(40)) {
			b = append(b, randomCase(id))
		}
		// Some IDs twice or three times, in other states.
		for range r.IntN(20) {
			c := b[r.IntN(len(b))]
			b = append(b, change(c))
			if r.IntN(3) == 0 {
				b = append(b, change(change(c)))
			}
		}
		r.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
		write(fmt.Sprintf("round %d", round), version, b)
		switch round % 4 {
		case 1: // an earlier batch again, as it was: older versions stay
			write(fmt.Sprintf("round %d, an older batch again", round), version-1, batches[len(batches)-2])
		case 2: // the same batch again, same version
			write(fmt.Sprintf("round %d, the same batch again", round), version, b)
		}
	}
	if n := len(model); n < 500 {
		t.Fatalf("only %d cases in the model", n)
	}
	if prepared < 2 || len(batches)-prepared < 2 {
		t.Fatalf("%d of %d batches came prepared", prepared, len(batches))
	}
}
