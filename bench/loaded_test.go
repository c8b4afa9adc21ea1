package main

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/malbild/malbild/internal/chdbtest"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/schema"
)

// TestLoadedBeforeOnCurrentClickHouse replays the schema and loadedBefore's
// statement (which the bench sends itself, past the store) on ClickHouse
// 26.7 (chDB) and 18.16: its scalar subqueries must keep 18.16's UInt64.
func TestLoadedBeforeOnCurrentClickHouse(t *testing.T) {
	const db = "bench_loaded_before"
	stmts := []chdbtest.Statement{{DB: "default", SQL: "CREATE DATABASE " + db}}
	names, err := fs.Glob(schema.Files, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("schema files: %v %v", names, err)
	}
	for _, name := range names {
		b, err := fs.ReadFile(schema.Files, name)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") {
				lines = append(lines, l)
			}
		}
		stmts = append(stmts, chdbtest.Statement{DB: db, SQL: strings.TrimSuffix(strings.TrimSpace(strings.Join(lines, "\n")), ";")})
	}
	stmts = append(stmts,
		chdbtest.Statement{DB: db, SQL: loadedBeforeQuery, Select: true},
		chdbtest.Statement{DB: db, SQL: "INSERT INTO observations (tenant, indicator, period_kind, period_start, value, version) VALUES ('0120', 'i', 'year', '2025-01-01', 1, 1)"},
		chdbtest.Statement{DB: db, SQL: loadedBeforeQuery, Select: true},
	)
	srv := chtest.Server(t)
	wait := chdbtest.StartCurrent(t, chdbtest.TimeZone(t, srv), stmts)
	_, old := chdbtest.Old(t, srv, stmts)
	_, cur := wait()
	for i, st := range stmts {
		if old[i].Err != "" {
			t.Fatalf("%s: fails on 18.16: %s", st.SQL, old[i].Err)
		}
		if d := chdbtest.Diff(st, old[i], cur[i]); d != "" {
			t.Errorf("%s:\n%s", st.SQL, d)
		}
	}
	if !strings.HasSuffix(old[len(old)-1].Out, "0\t0\t1\t1\n") {
		t.Errorf("loadedBefore on 18.16 after one observation: %q", old[len(old)-1].Out)
	}
}
