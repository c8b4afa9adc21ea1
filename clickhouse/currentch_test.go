package clickhouse

// Proof that every statement the store sends works the same on a current
// ClickHouse release as on Debian's 18.16. TestStatementsOnCurrentClickHouse
// runs this package's other tests once more in a child process that records
// every statement its stores send (parameters bound as clickhouse-go binds
// them; batch inserts as INSERT … VALUES with the rows that were sent),
// then replays the log on a fresh 18.16 and on ClickHouse 26.7 (chDB) and
// compares each result.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	_ "unsafe" // go:linkname to clickhouse-go's parameter binding

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/malbild/malbild/internal/chdbtest"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/schema"
)

// chBind is clickhouse-go's client-side binding of ? placeholders, the
// one the native protocol uses, so that the log holds the exact text the
// server received.
//
//go:linkname chBind github.com/ClickHouse/clickhouse-go/v2.bind
func chBind(tz *time.Location, query string, args ...any) (string, error)

// recordEnv names the file the child process appends its statements to.
const recordEnv = "MALBILD_TEST_RECORD_STATEMENTS"

// notRecorded are the tests the recording child leaves out: this file's
// own, and those that stop or kill a server (they send nothing new and
// take half a minute).
// The cluster tests send the cluster form of the statements, which needs a
// cluster; the single-server statements they exercise are recorded by the
// tests they run (TestClusterStoreSuite runs the others again).
const notRecorded = `^(TestStatementsOnCurrentClickHouse|TestCurrentClickHouse.*|TestIsUnavailable.*|TestCluster.*)$`

// typesOnly are statements whose rows name the release; their column
// types are compared, not their rows.
var typesOnly = map[string]bool{"SELECT version()": true}

func init() {
	if path := os.Getenv(recordEnv); path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			panic(err)
		}
		rec := &recorder{w: f}
		wrapConn = func(c driver.Conn, db string) driver.Conn { return &recConn{Conn: c, rec: rec, db: db} }
	}
}

// recorder appends statements to the log as JSON lines.
type recorder struct {
	mu sync.Mutex
	w  *os.File
}

func (r *recorder) add(st chdbtest.Statement) {
	b, err := json.Marshal(st)
	if err != nil {
		panic(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.w.Write(append(b, '\n')); err != nil {
		panic(err)
	}
}

// recConn records every statement that succeeds.
type recConn struct {
	driver.Conn
	rec *recorder
	db  string
}

func (c *recConn) tz() *time.Location {
	if v, err := c.Conn.ServerVersion(); err == nil && v.Timezone != nil {
		return v.Timezone
	}
	return time.UTC
}

// record logs query with args bound. Settings a context carries (the
// measures' thresholds for spilling to disk) are left out: they do not
// change a result.
func (c *recConn) record(query string, sel bool, args []any) {
	sql, err := chBind(c.tz(), query, args...)
	if err != nil {
		panic(fmt.Sprintf("binding %q: %v", query, err))
	}
	c.rec.add(chdbtest.Statement{DB: c.db, SQL: sql, Select: sel})
}

func (c *recConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	rows, err := c.Conn.Query(ctx, query, args...)
	if err == nil {
		c.record(query, true, args)
	}
	return rows, err
}

func (c *recConn) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	row := c.Conn.QueryRow(ctx, query, args...)
	if row.Err() == nil {
		c.record(query, true, args)
	}
	return row
}

func (c *recConn) Select(ctx context.Context, dest any, query string, args ...any) error {
	err := c.Conn.Select(ctx, dest, query, args...)
	if err == nil {
		c.record(query, true, args)
	}
	return err
}

func (c *recConn) Exec(ctx context.Context, query string, args ...any) error {
	err := c.Conn.Exec(ctx, query, args...)
	if err == nil {
		c.record(query, false, args)
	}
	return err
}

func (c *recConn) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	b, err := c.Conn.PrepareBatch(ctx, query, opts...)
	if err != nil {
		return nil, err
	}
	return &recBatch{Batch: b, conn: c, query: query, cols: make([][]any, len(b.Columns()))}, nil
}

// recBatch keeps a copy of every value appended to a batch, and records
// the batch as one INSERT … VALUES when it was sent.
type recBatch struct {
	driver.Batch
	conn  *recConn
	query string
	rows  [][]any // appended row by row
	cols  [][]any // appended column by column
}

func (b *recBatch) Append(v ...any) error {
	err := b.Batch.Append(v...)
	if err == nil {
		row := make([]any, len(v))
		for i := range v {
			row[i] = deref(reflect.ValueOf(v[i]))
		}
		b.rows = append(b.rows, row)
	}
	return err
}

func (b *recBatch) Column(i int) driver.BatchColumn {
	return &recColumn{BatchColumn: b.Batch.Column(i), b: b, i: i}
}

func (b *recBatch) Send() error {
	err := b.Batch.Send()
	if err == nil {
		b.record()
	}
	return err
}

// record writes the batch's rows as literals, formatted by the column's
// type: Date and DateTime as text in the server's time zone (what the
// driver sends as numbers), so that every value is a plain literal.
func (b *recBatch) record() {
	n := len(b.rows)
	for _, c := range b.cols {
		if len(c) > 0 && len(b.rows) > 0 {
			panic(fmt.Sprintf("%s: rows appended both by row and by column", b.query))
		}
		n = max(n, len(c))
	}
	if n == 0 {
		return
	}
	tz := b.conn.tz()
	var types []string
	for _, c := range b.Batch.Columns() {
		types = append(types, string(c.Type()))
	}
	var sb strings.Builder
	sb.WriteString(b.query)
	sb.WriteString(" VALUES ")
	for r := range n {
		if r > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for c, typ := range types {
			if c > 0 {
				sb.WriteString(", ")
			}
			var v any
			if len(b.rows) > 0 {
				v = b.rows[r][c]
			} else {
				v = b.cols[c][r]
			}
			sb.WriteString(literal(tz, typ, v))
		}
		sb.WriteByte(')')
	}
	b.conn.rec.add(chdbtest.Statement{DB: b.conn.db, SQL: sb.String()})
}

type recColumn struct {
	driver.BatchColumn
	b *recBatch
	i int
}

func (c *recColumn) Append(v any) error {
	err := c.BatchColumn.Append(v)
	if err == nil {
		// The store reuses its column slices: copy the values now.
		s := reflect.ValueOf(v)
		for j := range s.Len() {
			c.b.cols[c.i] = append(c.b.cols[c.i], deref(s.Index(j)))
		}
	}
	return err
}

func (c *recColumn) AppendRow(v any) error {
	err := c.BatchColumn.AppendRow(v)
	if err == nil {
		c.b.cols[c.i] = append(c.b.cols[c.i], deref(reflect.ValueOf(v)))
	}
	return err
}

// deref copies v, following a pointer; nil for a nil pointer.
func deref(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	return v.Interface()
}

// literal is v as a SQL literal for a column of type typ.
func literal(tz *time.Location, typ string, v any) string {
	if v == nil {
		return "NULL"
	}
	base := strings.TrimSuffix(strings.TrimPrefix(typ, "Nullable("), ")")
	switch x := v.(type) {
	case time.Time:
		if base == "Date" {
			// The driver stores the calendar date in the time's own location.
			return "'" + x.Format(time.DateOnly) + "'"
		}
		return "'" + x.In(tz).Format(time.DateTime) + "'"
	case string:
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(x) + "'"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	s, err := chBind(tz, "?", v)
	if err != nil {
		panic(fmt.Sprintf("formatting %T for %s: %v", v, typ, err))
	}
	return s
}

// recordStatements runs this package's tests in a child process that
// records what the stores send, and returns the log.
func recordStatements(t *testing.T) []chdbtest.Statement {
	t.Helper()
	path := filepath.Join(t.TempDir(), "statements.jsonl")
	cmd := exec.Command(os.Args[0], "-test.count=1", "-test.skip", notRecorded)
	cmd.Env = append(os.Environ(), recordEnv+"="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("recording the statements (this package's tests in a child process): %v\n%s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stmts []chdbtest.Statement
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 256<<20)
	for sc.Scan() {
		var st chdbtest.Statement
		if err := json.Unmarshal(sc.Bytes(), &st); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		st.TypesOnly = typesOnly[st.SQL]
		stmts = append(stmts, st)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return stmts
}

// TestStatementsOnCurrentClickHouse replays every statement this
// package's tests make the store send — every migration, insert and
// query — and the example Grafana dashboard's queries on ClickHouse 26.7 (chDB) and on a fresh 18.16, and fails for
// each one that fails, or returns other column types or rows, on the
// current release. Its subtest shows that the comparison catches a
// statement that only works as intended on 18.16.
func TestStatementsOnCurrentClickHouse(t *testing.T) {
	start := time.Now()
	recorded := recordStatements(t)
	recording := time.Since(start)
	distinct := map[string]bool{}
	selects := 0
	for _, st := range recorded {
		distinct[st.SQL] = true
		if st.Select {
			selects++
		}
	}
	if selects < 100 {
		t.Fatalf("only %d selects recorded: is the recorder wired into every store?", selects)
	}
	ms, err := migrations(schema.Files)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if !distinct[m.sql] {
			t.Errorf("migration %s was not recorded", m.name)
		}
	}

	grafana := grafanaStatements(t, recorded)
	canary := canaryStatements(t, ms)
	stmts := append(append(slices.Clip(recorded), grafana...), canary...)
	start = time.Now()
	srv := chtest.Server(t)
	wait := chdbtest.StartCurrent(t, chdbtest.TimeZone(t, srv), stmts)
	oldV, old := chdbtest.Old(t, srv, stmts)
	curV, cur := wait()
	t.Logf("%d statements (%d distinct, %d selects) and %d Grafana queries replayed on ClickHouse %s and %s (recording %v, both replays %v)",
		len(recorded), len(distinct), selects, len(grafana), oldV, curV, recording.Round(time.Second), time.Since(start).Round(time.Second))
	withRows := 0
	for _, r := range old[len(recorded) : len(recorded)+len(grafana)] {
		if strings.Count(r.Out, "\n") > 2 {
			withRows++
		}
	}
	t.Logf("%d of the %d Grafana queries returned rows on 18.16", withRows, len(grafana))
	if !strings.HasPrefix(curV, "26.") {
		t.Errorf("chDB runs ClickHouse %s, want 26.x", curV)
	}
	bad := 0
	for i, st := range stmts[:len(recorded)+len(grafana)] {
		d := chdbtest.Diff(st, old[i], cur[i])
		if old[i].Err != "" {
			d = "succeeded while recorded but fails when replayed on 18.16 (the log is not faithful): " + old[i].Err
		}
		if d == "" {
			continue
		}
		if bad++; bad <= 20 {
			t.Errorf("statement %d of %d, in %s:\n%s\n%s", i+1, len(recorded)+len(grafana), st.DB, abbreviateLong(st.SQL), d)
		}
	}
	if bad > 20 {
		t.Errorf("… and %d more statements differ", bad-20)
	}

	t.Run("CatchesUnwrappedScalarSubquery", func(t *testing.T) {
		old, cur := old[len(stmts)-len(canary):], cur[len(stmts)-len(canary):]
		n := len(canary)
		for i, st := range canary[:n-2] {
			if old[i].Err != "" || cur[i].Err != "" {
				t.Fatalf("%s: 18.16: %s; current: %s", abbreviateLong(st.SQL), old[i].Err, cur[i].Err)
			}
		}
		d := chdbtest.Diff(canary[n-2], old[n-2], cur[n-2])
		if !strings.Contains(d, "Nullable(UInt64)") {
			t.Errorf("DataVersion's statement without ifNull passes the gate (diff %q)", d)
		}
		if d := chdbtest.Diff(canary[n-1], old[n-1], cur[n-1]); d != "" {
			t.Errorf("DataVersion's statement with ifNull: %s", d)
		}
	})
}

// grafanaStatements are the queries of the example Grafana dashboard
// (examples/grafana), its variables and macros filled in as Grafana
// does, run in every database the recorded statements migrated, once all
// the recorded statements have filled it.
func grafanaStatements(t *testing.T, recorded []chdbtest.Statement) []chdbtest.Statement {
	raw, err := os.ReadFile(filepath.Join("..", "examples", "grafana", "dashboards", "malbild-overview.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Templating struct {
			List []struct {
				Query any `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Targets []struct {
				RawSQL string `json:"rawSql"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	var queries []string
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			if sql, ok := q["rawSql"].(string); ok {
				queries = append(queries, sql)
			}
		}
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			queries = append(queries, tg.RawSQL)
		}
	}
	if len(queries) < 10 {
		t.Fatalf("%d Grafana queries found", len(queries))
	}
	fill := strings.NewReplacer(
		"${tenant:sqlstring}", "'0120'",
		"${kind:sqlstring}", "'year'",
		"${indicator:sqlstring}", "'i'",
	)
	timeFilter := regexp.MustCompile(`\$__timeFilter\((\w+)\)`)
	var dbs []string
	seen := map[string]bool{}
	for _, st := range recorded {
		if strings.Contains(st.SQL, "CREATE TABLE IF NOT EXISTS observations") && !seen[st.DB] {
			seen[st.DB] = true
			dbs = append(dbs, st.DB)
		}
	}
	var out []chdbtest.Statement
	for _, q := range queries {
		q = fill.Replace(q)
		q = timeFilter.ReplaceAllString(q, "$1 >= toDateTime(1500000000) AND $1 <= toDateTime(2000000000)")
		if strings.Contains(q, "$") {
			t.Fatalf("unfilled Grafana variable or macro in %s", q)
		}
		for _, db := range dbs {
			out = append(out, chdbtest.Statement{DB: db, SQL: q, Select: true})
		}
	}
	return out
}

// unwrappedDataVersion is DataVersion's statement as it was before its
// scalar subqueries were wrapped in ifNull: UInt64 columns on 18.16,
// Nullable(UInt64) since 21.9.
const unwrappedDataVersion = `SELECT
	(SELECT max(version) FROM observations WHERE tenant = ?),
	(SELECT count() FROM observations WHERE tenant = ?),
	(SELECT max(revision) FROM assessments WHERE tenant = ?),
	(SELECT count() FROM assessments WHERE tenant = ?)`

// wrappedDataVersion is the same with each scalar subquery in ifNull.
const wrappedDataVersion = `SELECT
	ifNull((SELECT max(version) FROM observations WHERE tenant = ?), 0),
	ifNull((SELECT count() FROM observations WHERE tenant = ?), 0),
	ifNull((SELECT max(revision) FROM assessments WHERE tenant = ?), 0),
	ifNull((SELECT count() FROM assessments WHERE tenant = ?), 0)`

// canaryStatements apply the schema to a database of their own and end
// with unwrappedDataVersion and wrappedDataVersion.
func canaryStatements(t *testing.T, ms []migration) []chdbtest.Statement {
	const db = "current_clickhouse_canary"
	stmts := []chdbtest.Statement{{DB: "default", SQL: "CREATE DATABASE " + db}}
	for _, m := range ms {
		stmts = append(stmts, chdbtest.Statement{DB: db, SQL: m.sql})
	}
	stmts = append(stmts, chdbtest.Statement{DB: db, SQL: "INSERT INTO observations (tenant, indicator, period_kind, period_start, dim_kind, dim_value, value, source, version) VALUES ('0120', 'x', 'year', '2025-01-01', '', '', 1, 'test', 7)"})
	for _, q := range []string{unwrappedDataVersion, wrappedDataVersion} {
		sql, err := chBind(time.UTC, q, "0120", "0120", "0120", "0120")
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, chdbtest.Statement{DB: db, SQL: sql, Select: true})
	}
	return stmts
}

func abbreviateLong(q string) string {
	if len(q) > 2000 {
		return q[:1997] + "..."
	}
	return q
}
