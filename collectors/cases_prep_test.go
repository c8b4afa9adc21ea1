package collectors

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/chtest"
)

// prepStore is a real store that says which writes came prepared and can
// fail the next writes as an unavailable ClickHouse does.
type prepStore struct {
	*clickhouse.Store
	mu       sync.Mutex
	down     int // the next writes that fail
	prepared []bool
}

func (p *prepStore) WriteBatchTouched(ctx context.Context, b *facts.Batch) (clickhouse.Touched, error) {
	p.mu.Lock()
	p.prepared = append(p.prepared, clickhouse.HasCasePrep(ctx, b.Cases))
	down := p.down > 0
	if down {
		p.down--
	}
	p.mu.Unlock()
	if down {
		return nil, errDown
	}
	return p.Store.WriteBatchTouched(ctx, b)
}

// caseTables are the case rows and the case figures of tenant as text
// (sums per key that are not zero), and the months left to repair.
func caseTables(t *testing.T, s *clickhouse.Store, tenant string) (cases, figures string, pending uint64) {
	t.Helper()
	ctx := context.Background()
	text := func(sql string) string {
		rows, err := s.Conn().Query(ctx, sql, tenant)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var sb strings.Builder
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			sb.WriteString(line + "\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return sb.String()
	}
	cases = text(`SELECT concat(case_id, '|', case_type, '|', department, '|', channel, '|', toString(digital), toString(application), '|',
  toString(received), '|', toString(ifNull(decided, toDateTime(0)))) AS l FROM cases WHERE tenant = ? ORDER BY l`)
	figures = text(`SELECT concat(toString(month), '|', case_type, '|', department, '|', toString(sum(n)), '|', toString(sum(apps)), '|', toString(sum(apps_digital))) AS l
 FROM case_month_counts WHERE tenant = ? GROUP BY month, case_type, department HAVING sum(n) != 0 OR sum(apps) != 0 OR sum(apps_digital) != 0 ORDER BY l`) +
		text(`SELECT concat(toString(month), '|', case_type, '|', department, '|', toString(days), '|', toString(sum(n))) AS l
 FROM case_handling_counts WHERE tenant = ? GROUP BY month, case_type, department, days HAVING sum(n) != 0 ORDER BY l`)
	if err := s.Conn().QueryRow(ctx, `SELECT count() FROM case_refresh_pending FINAL WHERE tenant = ? AND pending = 1`, tenant).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	return cases, figures, pending
}

// A large file (two parts in the quick pass and in PrepareCases) comes to
// the store prepared and gives the rows and figures its cases give
// written unprepared; a file whose last line is bad writes nothing; a
// prepared batch that meets an unavailable ClickHouse is spooled and
// drained (unprepared) to the same rows and figures.
func TestCasesPreparedWrite(t *testing.T) {
	ctx := context.Background()
	s, err := clickhouse.Open(ctx, chtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const n = 1<<16 + 100
	data := casesCSV(n)
	path := filepath.Join(dir, "arenden.csv")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(tenant string, st *prepStore, sp *Spool) (Results, *StoreSink) {
		t.Helper()
		inst := instanceFrom(t, filepath.Join(dir, "malbild.yaml"), "name: arenden\nkind: cases_csv\npath: arenden.csv\n")
		inst.Tenant = tenant
		sink := NewStoreSink(st, sp, nil)
		r, err := NewRunner(RunnerConfig{Instances: []Instance{inst}, Sink: sink, Runs: sink, Retry: RetryPolicy{Attempts: 1},
			Build: func(inst Instance) (Collector, error) {
				c, err := New(inst)
				if err == nil {
					c.(*casesCollector).now = fixedNow
				}
				return c, err
			}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.RunOnce(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res, sink
	}

	// The same cases, unprepared, for tenant 0001.
	plain, err := parseCases(strings.NewReader(string(data)), path, caseParse{opts: defaultCaseOpts(), now: fileTestNow})
	if err != nil || len(plain) != n {
		t.Fatalf("%d cases, %v", len(plain), err)
	}
	if err := s.WriteBatch(ctx, &facts.Batch{Tenant: "0001", Source: path, Version: 1, Cases: plain}); err != nil {
		t.Fatal(err)
	}
	wantCases, wantFigures, _ := caseTables(t, s, "0001")
	if strings.Count(wantCases, "\n") != n || wantFigures == "" {
		t.Fatalf("the unprepared write: %d cases, figures %q", strings.Count(wantCases, "\n"), wantFigures[:min(len(wantFigures), 100)])
	}
	same := func(step, tenant string) {
		t.Helper()
		c, f, pending := caseTables(t, s, tenant)
		if c != wantCases || f != wantFigures || pending != 0 {
			t.Fatalf("%s: cases equal %v, figures equal %v, %d months pending", step, c == wantCases, f == wantFigures, pending)
		}
	}

	st := &prepStore{Store: s}
	if res, _ := run("0002", st, nil); res.Err() != nil || res[0].Rows != n {
		t.Fatalf("run: %v, %d rows", res.Err(), res[0].Rows)
	}
	if len(st.prepared) != 1 || !st.prepared[0] {
		t.Fatalf("writes prepared: %v", st.prepared)
	}
	same("prepared", "0002")

	// A bad last line: the file's problem, and nothing written.
	bad := append(append([]byte(nil), data...), "BN 2024/999999;Bygglov;Ansökan;Miljöenheten;Webb;2024-02-30;\r\n"...)
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	st = &prepStore{Store: s}
	res, _ := run("0003", st, nil)
	if err := res.Err(); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%s:%d:6: Inkom: invalid date", path, n+2)) {
		t.Fatalf("err = %v", err)
	}
	if c, f, pending := caseTables(t, s, "0003"); c != "" || f != "" || pending != 0 || len(st.prepared) != 0 {
		t.Fatalf("a bad file wrote %d cases, figures %q, %d pending months, %d writes", strings.Count(c, "\n"), f, pending, len(st.prepared))
	}

	// ClickHouse unavailable at the write: the batch is spooled, and
	// drained unprepared to the same rows and figures.
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st = &prepStore{Store: s, down: 1}
	res, sink := run("0004", st, sp)
	if res.Err() != nil || res[0].Outcome != OutcomeSpooled {
		t.Fatalf("run while down: %v, %s", res.Err(), res[0].Outcome)
	}
	if c, _, _ := caseTables(t, s, "0004"); c != "" {
		t.Fatal("a spooled batch was written")
	}
	if dr, err := sink.Drain(ctx); err != nil || dr.Sent != 1 {
		t.Fatalf("drain: %+v %v", dr, err)
	}
	if len(st.prepared) != 2 || !st.prepared[0] || st.prepared[1] {
		t.Fatalf("writes prepared: %v", st.prepared)
	}
	same("spooled and drained", "0004")
}
