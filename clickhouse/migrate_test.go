package clickhouse

import (
	"context"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/schema"
)

func TestMigrateFreshThenNothing(t *testing.T) {
	dsn := chtest.DSN(t)
	ctx := context.Background()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	files, _ := fs.Glob(schema.Files, "*.sql")
	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(files) || len(files) < 11 {
		t.Fatalf("applied %d of %d files: %v", len(applied), len(files), applied)
	}
	for i := range files {
		if applied[i] != files[i] {
			t.Fatalf("applied[%d] = %s, want %s (name order)", i, applied[i], files[i])
		}
	}
	count := func() string {
		return strings.TrimSpace(chtest.Query(t, dsn, "SELECT count() FROM schema_migrations"))
	}
	tables := func() string {
		return strings.TrimSpace(chtest.Query(t, dsn, "SELECT name FROM system.tables WHERE database = currentDatabase() AND name NOT LIKE '.inner%' ORDER BY name"))
	}
	if got := count(); got != strconv.Itoa(len(files)) {
		t.Fatalf("schema_migrations has %s rows, want %d", got, len(files))
	}
	want := "activity_updates\nassessments\naudit_log\nauth_keys\nauth_login_failures\nauth_sessions\nbenchmark_values\nbody_reports\ncase_handling_counts\ncase_month_counts\ncase_refresh_pending\ncases\ncollector_runs\neservice_snapshots\nmaintenance_windows\nmeasure_fingerprints\nobservation_log\nobservations\nperiod_closures\nprobe_daily\nprobe_latest\nprobe_results\nschema_migrations\nsurvey_responses"
	if got := tables(); got != want {
		t.Fatalf("tables:\n%s\nwant:\n%s", got, want)
	}
	if got := strings.TrimSpace(chtest.Query(t, dsn, "SELECT name FROM schema_migrations WHERE version = 1")); got != "0001_observations.sql" {
		t.Fatalf("version 1 recorded as %q", got)
	}

	applied, err = s.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Fatalf("second run applied %v", applied)
	}
	if got := count(); got != strconv.Itoa(len(files)) {
		t.Fatalf("after second run schema_migrations has %s rows, want %d", got, len(files))
	}
	if got := tables(); got != want {
		t.Fatalf("second run changed tables:\n%s", got)
	}
}

// Every embedded migration is one statement, so that Migrate can apply it
// with one Exec and record it.
func TestEmbeddedMigrationsHoldOneStatement(t *testing.T) {
	files, err := fs.Glob(schema.Files, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		b, _ := fs.ReadFile(schema.Files, name)
		if n := len(statements(string(b))); n != 1 {
			t.Errorf("schema/%s: %d statements, want 1", name, n)
		}
	}
	ms, err := migrations(schema.Files)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != len(files) {
		t.Fatalf("migrations() read %d of %d files", len(ms), len(files))
	}
}

func TestMigrationsRejectsBadFiles(t *testing.T) {
	for _, c := range []struct {
		name, file, sql, want string
	}{
		{"two statements", "0001_a.sql", "CREATE TABLE a (x UInt8) ENGINE = Memory;\nCREATE TABLE b (x UInt8) ENGINE = Memory;", "0001_a.sql: 2 statements"},
		{"empty", "0001_a.sql", "-- nothing here\n", "0001_a.sql: no SQL statement"},
		{"no number", "a.sql", "SELECT 1", "a.sql: name must start with a migration number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := migrations(fstest.MapFS{c.file: {Data: []byte(c.sql)}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
	_, err := migrations(fstest.MapFS{"0001_a.sql": {Data: []byte("SELECT 1")}, "0001_b.sql": {Data: []byte("SELECT 2")}})
	if err == nil || !strings.Contains(err.Error(), "0001_b.sql: migration number 1 is also used by 0001_a.sql") {
		t.Fatalf("duplicate number: err = %v", err)
	}
}

func TestStatements(t *testing.T) {
	for sql, want := range map[string]int{
		"SELECT 1":                               1,
		"SELECT 1;":                              1,
		"SELECT 1; -- done\n":                    1,
		"SELECT ';' -- ;\n":                      1,
		"/* a; b */ SELECT 1":                    1,
		"SELECT 1; SELECT 2":                     2,
		"SELECT 'it\\'s; fine'; SELECT `a;b`":    2,
		"-- only a comment; really\n/* and ; */": 0,
	} {
		if got := len(statements(sql)); got != want {
			t.Errorf("statements(%q) = %d, want %d", sql, got, want)
		}
	}
}

// A migration the server rejects stops the run with an error naming the
// file; the ones before it stay applied and recorded.
func TestMigrateErrorNamesFile(t *testing.T) {
	dsn := chtest.DSN(t)
	ctx := context.Background()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	files := fstest.MapFS{
		"0001_a.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS a (x UInt8) ENGINE = MergeTree ORDER BY x")},
		"0002_b.sql": {Data: []byte("CREATE TABLE b (x Nonsense) ENGINE = MergeTree ORDER BY x")},
	}
	applied, err := s.migrate(ctx, files)
	if err == nil || !strings.Contains(err.Error(), "applying migration 0002_b.sql") {
		t.Fatalf("err = %v, want it to name 0002_b.sql", err)
	}
	if IsUnavailable(err) {
		t.Fatalf("a bad migration reported as unavailable: %v", err)
	}
	if len(applied) != 1 || applied[0] != "0001_a.sql" {
		t.Fatalf("applied = %v", applied)
	}
	if got := strings.TrimSpace(chtest.Query(t, dsn, "SELECT version, name FROM schema_migrations")); got != "1\t0001_a.sql" {
		t.Fatalf("schema_migrations: %q", got)
	}
}
