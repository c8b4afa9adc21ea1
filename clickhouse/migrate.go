package clickhouse

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/malbild/malbild/schema"
)

// migration is one numbered schema file.
type migration struct {
	version uint32
	name    string // file name, e.g. 0001_observations.sql
	sql     string
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32,
    name    String,
    applied DateTime
) ENGINE = MergeTree
ORDER BY version`

// Migrate applies the schema files that have not been applied to this
// database yet, in name order, and returns their names. Each applied file
// is recorded in schema_migrations, so a second run applies nothing.
func (s *Store) Migrate(ctx context.Context) (applied []string, err error) {
	return s.migrate(ctx, schema.Files)
}

func (s *Store) migrate(ctx context.Context, files fs.FS) (applied []string, err error) {
	ms, err := migrations(files)
	if err != nil {
		return nil, err
	}
	if s.cluster != "" {
		return s.migrateCluster(ctx, ms)
	}
	if err := s.conn.Exec(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("creating schema_migrations: %w", err)
	}
	done, err := s.appliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		if err := s.conn.Exec(ctx, m.sql); err != nil {
			return applied, fmt.Errorf("applying migration %s: %w", m.name, err)
		}
		if err := s.recordMigration(ctx, m); err != nil {
			return applied, err
		}
		applied = append(applied, m.name)
	}
	return applied, nil
}

// appliedMigrations are the versions schema_migrations records.
func (s *Store) appliedMigrations(ctx context.Context) (map[uint32]bool, error) {
	done := map[uint32]bool{}
	rows, err := s.conn.Query(ctx, "SELECT DISTINCT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading schema_migrations: %w", err)
		}
		done[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	return done, nil
}

func (s *Store) recordMigration(ctx context.Context, m migration) error {
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, applied)")
	if err != nil {
		return fmt.Errorf("recording migration %s: %w", m.name, err)
	}
	defer b.Close()
	if err := b.Append(m.version, m.name, time.Now().UTC()); err != nil {
		return fmt.Errorf("recording migration %s: %w", m.name, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("recording migration %s: %w", m.name, err)
	}
	return nil
}

// migrations reads the *.sql files of fsys in name order. Each must be
// named NNNN_name.sql with a unique number and hold exactly one statement.
func migrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	seen := map[uint32]string{}
	var ms []migration
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseUint(num, 10, 32)
		if !ok || err != nil || v == 0 {
			return nil, fmt.Errorf("schema/%s: name must start with a migration number, e.g. 0012_name.sql", name)
		}
		if prev, dup := seen[uint32(v)]; dup {
			return nil, fmt.Errorf("schema/%s: migration number %d is also used by %s", name, v, prev)
		}
		seen[uint32(v)] = name
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("schema/%s: %w", name, err)
		}
		stmts := statements(string(b))
		switch {
		case len(stmts) == 0:
			return nil, fmt.Errorf("schema/%s: no SQL statement", name)
		case len(stmts) > 1:
			return nil, fmt.Errorf("schema/%s: %d statements; a migration holds exactly one", name, len(stmts))
		}
		ms = append(ms, migration{version: uint32(v), name: name, sql: stmts[0]})
	}
	return ms, nil
}

// statements splits sql at semicolons outside quotes and comments and
// returns the statements that hold more than comments and space.
func statements(sql string) []string {
	var out []string
	start, code := 0, false
	flush := func(end int) {
		if code {
			out = append(out, strings.TrimSpace(sql[start:end]))
		}
		start, code = end+1, false
	}
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; {
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				i = len(sql)
			} else {
				i += end + 3
			}
		case c == '\'' || c == '"' || c == '`':
			code = true
			for i++; i < len(sql) && sql[i] != c; i++ {
				if sql[i] == '\\' {
					i++
				}
			}
		case c == ';':
			flush(i)
		case c != ' ' && c != '\t' && c != '\n' && c != '\r':
			code = true
		}
	}
	flush(len(sql))
	return out
}
