package clickhouse

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Cluster mode (DSN parameter cluster=NAME, config clickhouse.cluster).
//
// Every table of the single-server schema becomes three or five objects,
// all created ON CLUSTER:
//
//   - NAME_local: the table itself with a Replicated* engine, its parts
//     replicated between the replicas of a shard through ZooKeeper (or
//     ClickHouse Keeper) under /clickhouse/tables/{shard}/DB/NAME_local;
//   - NAME: Distributed(cluster, DB, NAME_local, cityHash64(tenant)), which
//     every statement of the store reads and writes, so one municipality's
//     rows live on one shard and a ReplacingMergeTree's versions of a key
//     meet in one table;
//   - for a table read with FINAL (the ReplacingMergeTree ones):
//     NAME_final_local, a view SELECT * FROM NAME_local FINAL on every
//     server, and NAME_final, Distributed over it. ClickHouse 18.16 cannot
//     always run SELECT … FINAL on a Distributed table ("Cannot find column
//     … in source stream"); a shard-local FINAL is exact because a key's
//     rows never span shards. The store's connection turns "NAME FINAL"
//     into "NAME_final" in every statement it sends, so reads written in
//     the single-server form work unchanged.
//
// The transformation is per statement (clusterForm), so a migration added
// later in the single-server style gets its cluster form without further
// work. Single-server mode sends exactly what it sent before.

// finalRE matches a table read with FINAL.
var finalRE = regexp.MustCompile(`\b([A-Za-z_][A-Za-z0-9_]*)\s+FINAL\b`)

// mutationRE matches a mutation: it has to run on the local tables.
var mutationRE = regexp.MustCompile(`(?is)^\s*ALTER\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+(DELETE|UPDATE)\b`)

// inSubqueryRE matches an IN over a subquery.
var inSubqueryRE = regexp.MustCompile(`(?i)\b(GLOBAL\s+)?(NOT\s+)?IN\s*\(\s*SELECT\b`)

// clusterSQL is query in its cluster form: FINAL reads go to the tables'
// _final Distributed views, mutations to the local tables ON CLUSTER, and
// an IN over a subquery becomes GLOBAL IN. A subquery over a Distributed
// table inside a query of one is refused otherwise ("Double-distributed
// IN/JOIN subqueries is denied"); GLOBAL runs it once, on the server the
// client reached, and sends its result to the shards, so it is exact
// whatever it reads. (The setting distributed_product_mode = 'global'
// would do the same, but clickhouse-go cannot send a string setting to
// 18.16, and a server profile is easy to get wrong.)
func clusterSQL(query, cluster, db string) string {
	if m := mutationRE.FindStringSubmatchIndex(query); m != nil {
		table := query[m[2]:m[3]]
		query = query[:m[2]] + db + "." + table + "_local ON CLUSTER " + cluster + query[m[3]:]
	}
	query = inSubqueryRE.ReplaceAllStringFunc(query, func(in string) string {
		if strings.HasPrefix(strings.ToUpper(in), "GLOBAL") {
			return in
		}
		return "GLOBAL " + in
	})
	return finalRE.ReplaceAllString(query, "${1}_final")
}

// clusterConn sends every statement in its cluster form.
//
// A read through a Distributed table asks every shard, so with a whole
// shard down it fails for every municipality. A read of one municipality
// (its tenant in the context: tenantContext) then asks whether the
// municipality's shard answers, and if it does, reads again through skip,
// a pool whose queries skip unavailable shards: the municipality's rows
// are all on its shard, so the result is exact. If its shard is down the
// read fails as it did (IsUnavailable: the dashboards show the last good
// data with the stale-data notice, the follow-up answers 503). Setting
// skip_unavailable_shards for every read would instead show a
// municipality on a down shard an empty dashboard, as if it had no data.
type clusterConn struct {
	driver.Conn
	skip        driver.Conn
	cluster, db string
	weight      uint64 // the cluster's total shard weight
}

func (c *clusterConn) sql(q string) string { return clusterSQL(q, c.cluster, c.db) }

// degraded reports whether a read that failed with err should be run
// again skipping unavailable shards: it is one municipality's, failed for
// want of a server, and that municipality's shard answers.
func (c *clusterConn) degraded(ctx context.Context, err error) bool {
	tenant, ok := ctx.Value(tenantKey{}).(string)
	if !ok || !IsUnavailable(err) || ctx.Err() != nil {
		return false
	}
	// shard_slots holds the numbers 0 … weight-1, each on the shard the
	// Distributed tables send that value of cityHash64(tenant) % weight to.
	// The question goes through skip and so also asks the dead shard's
	// servers, which may fail it for want of a connection: ask again.
	var n uint64
	var qerr error
	for range 3 {
		qerr = c.skip.QueryRow(ctx, "SELECT count() FROM "+c.db+".shard_slots WHERE slot = cityHash64(?) % ?", tenant, c.weight).Scan(&n)
		if qerr == nil || !IsUnavailable(qerr) || ctx.Err() != nil {
			break
		}
	}
	return qerr == nil && n > 0
}

func (c *clusterConn) Select(ctx context.Context, dest any, query string, args ...any) error {
	err := c.Conn.Select(ctx, dest, c.sql(query), args...)
	if err != nil && c.degraded(ctx, err) {
		return c.skipRead(ctx, func() error { return c.skip.Select(ctx, dest, c.sql(query), args...) })
	}
	return err
}

// skipRead runs read, a read on the skip pool, again (up to three times)
// while it fails for want of a server and the tenant's shard still
// answers: the dead shard's servers are asked again in every read, and
// how a connection attempt to them fails is up to the network.
func (c *clusterConn) skipRead(ctx context.Context, read func() error) error {
	var err error
	for range 3 {
		if err = read(); err == nil || !c.degraded(ctx, err) {
			return err
		}
	}
	return err
}

func (c *clusterConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	rows, err := c.Conn.Query(ctx, c.sql(query), args...)
	if err != nil {
		if c.degraded(ctx, err) {
			err = c.skipRead(ctx, func() (err error) { rows, err = c.skip.Query(ctx, c.sql(query), args...); return err })
			return rows, err
		}
		return nil, err
	}
	return &failoverRows{Rows: rows, c: c, ctx: ctx, query: query, args: args}, nil
}

// failoverRows are the rows of a read whose failure for want of a shard
// may come with its first block, after Query returned: they switch to
// the read skipping unavailable shards if no row has been read yet.
type failoverRows struct {
	driver.Rows
	c        *clusterConn
	ctx      context.Context
	query    string
	args     []any
	seen     bool
	switched bool
	err      error
}

func (r *failoverRows) Next() bool {
	if r.Rows.Next() {
		r.seen = true
		return true
	}
	if err := r.Rows.Err(); err != nil && !r.seen && !r.switched && r.c.degraded(r.ctx, err) {
		r.switched = true
		var rows driver.Rows
		err := r.c.skipRead(r.ctx, func() (err error) { rows, err = r.c.skip.Query(r.ctx, r.c.sql(r.query), r.args...); return err })
		if err != nil {
			r.err = err
			return false
		}
		r.Rows.Close()
		r.Rows = rows
		return r.Next()
	}
	return false
}

func (r *failoverRows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.Rows.Err()
}

func (c *clusterConn) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	return &failoverRow{Row: c.Conn.QueryRow(ctx, c.sql(query), args...), c: c, ctx: ctx, query: query, args: args}
}

// failoverRow is failoverRows for QueryRow.
type failoverRow struct {
	driver.Row
	c     *clusterConn
	ctx   context.Context
	query string
	args  []any
}

func (r *failoverRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if err != nil && r.c.degraded(r.ctx, err) {
		return r.c.skipRead(r.ctx, func() error { return r.c.skip.QueryRow(r.ctx, r.c.sql(r.query), r.args...).Scan(dest...) })
	}
	return err
}

func (r *failoverRow) ScanStruct(dest any) error {
	err := r.Row.ScanStruct(dest)
	if err != nil && r.c.degraded(r.ctx, err) {
		return r.c.skipRead(r.ctx, func() error { return r.c.skip.QueryRow(r.ctx, r.c.sql(r.query), r.args...).ScanStruct(dest) })
	}
	return err
}

func (c *clusterConn) Close() error {
	c.skip.Close()
	return c.Conn.Close()
}

type tenantKey struct{}

// tenantContext marks ctx as a read of tenant's data only, for the
// cluster's failover when a shard is down (clusterConn).
func tenantContext(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenant)
}

func (c *clusterConn) Exec(ctx context.Context, query string, args ...any) error {
	return c.Conn.Exec(ctx, c.sql(query), args...)
}

func (c *clusterConn) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	return c.Conn.PrepareBatch(ctx, c.sql(query), opts...)
}

var (
	createTableRE = regexp.MustCompile(`(?is)^CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*ENGINE\s*=\s*([A-Za-z]*MergeTree)\s*(?:\(((?:[^()]|\([^()]*\))*)\))?(.*)$`)
	dropTableRE   = regexp.MustCompile(`(?is)^DROP\s+TABLE\s+IF\s+EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)$`)
	createMVRE    = regexp.MustCompile(`(?is)^CREATE\s+MATERIALIZED\s+VIEW\s+IF\s+NOT\s+EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)\s+ENGINE\s*=\s*([A-Za-z]*MergeTree)\s*(?:\(([^)]*)\))?(.*?)\s+AS\s+(SELECT\b.*)$`)
	insertRE      = regexp.MustCompile(`(?is)^INSERT\s+INTO\s+[A-Za-z_][A-Za-z0-9_]*\s*\([^)]*\)\s*SELECT\b`)
	alterRE       = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+((?:ADD|DROP|MODIFY)\s+COLUMN\b.*)$`)
	orderByRE     = regexp.MustCompile(`(?is)\bORDER\s+BY\s+\(?\s*([A-Za-z_][A-Za-z0-9_]*)`)
	tenantColRE   = regexp.MustCompile(`(?m)^\s*tenant\s+String\b`)
	fromTableRE   = regexp.MustCompile(`(?i)\b(FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)\b`)
	commentLineRE = regexp.MustCompile(`(?m)^\s*--.*$`)
)

// clusterForm is the cluster form of one single-server migration
// statement, as the statements to run in order. Each is idempotent (IF NOT
// EXISTS) or, for INSERT … SELECT, runs once under the migration lock.
func clusterForm(stmt, cluster, db string) ([]string, error) {
	stmt = strings.TrimSpace(commentLineRE.ReplaceAllString(stmt, ""))
	on := " ON CLUSTER " + cluster
	replicated := func(name, engine, args string) string {
		e := "Replicated" + engine + "('/clickhouse/tables/{shard}/" + db + "/" + name + "_local', '{replica}'"
		if a := strings.TrimSpace(args); a != "" {
			e += ", " + a
		}
		return e + ")"
	}
	distributed := func(name, key string) []string {
		return []string{"CREATE TABLE IF NOT EXISTS " + db + "." + name + on + " AS " + db + "." + name + "_local" +
			" ENGINE = Distributed(" + cluster + ", " + db + ", " + name + "_local, cityHash64(" + key + "))"}
	}
	final := func(name, engine string) []string {
		if !strings.Contains(engine, "Replacing") && !strings.Contains(engine, "Collapsing") && !strings.Contains(engine, "Summing") && !strings.Contains(engine, "Aggregating") {
			return nil
		}
		return []string{
			"CREATE VIEW IF NOT EXISTS " + db + "." + name + "_final_local" + on + " AS SELECT * FROM " + db + "." + name + "_local FINAL",
			"CREATE TABLE IF NOT EXISTS " + db + "." + name + "_final" + on + " AS " + db + "." + name + "_local" +
				" ENGINE = Distributed(" + cluster + ", " + db + ", " + name + "_final_local)",
		}
	}
	shardKey := func(cols, rest string) (string, error) {
		if tenantColRE.MatchString(cols) {
			return "tenant", nil
		}
		if m := orderByRE.FindStringSubmatch(rest); m != nil {
			return m[1], nil
		}
		return "", fmt.Errorf("a table for cluster mode needs a tenant column or an ORDER BY to shard by")
	}
	switch {
	case createTableRE.MatchString(stmt):
		m := createTableRE.FindStringSubmatch(stmt)
		name, cols, engine, args, rest := m[1], m[2], m[3], m[4], m[5]
		if strings.HasPrefix(engine, "Replicated") {
			return nil, fmt.Errorf("table %s: write the single-server engine (%s without Replicated); cluster mode replicates it", name, engine)
		}
		key, err := shardKey(cols, rest)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", name, err)
		}
		out := []string{"CREATE TABLE IF NOT EXISTS " + db + "." + name + "_local" + on + " (" + cols + ") ENGINE = " +
			replicated(name, engine, args) + rest}
		out = append(out, distributed(name, key)...)
		return append(out, final(name, engine)...), nil
	case createMVRE.MatchString(stmt):
		m := createMVRE.FindStringSubmatch(stmt)
		name, engine, args, rest, sel := m[1], m[2], m[3], m[4], m[5]
		key, err := shardKey(sel, rest)
		if err != nil {
			return nil, fmt.Errorf("materialized view %s: %w", name, err)
		}
		if strings.Contains(sel, "tenant") {
			key = "tenant"
		}
		// The view fills its local table from the local source table on
		// each server: an insert reaches one replica of the shard, the
		// view's own replicated table carries the result to the others.
		sel = fromTableRE.ReplaceAllString(sel, "$1 "+db+".${2}_local")
		out := []string{"CREATE MATERIALIZED VIEW IF NOT EXISTS " + db + "." + name + "_local" + on + " ENGINE = " +
			replicated(name, engine, args) + rest + " AS " + sel}
		out = append(out, distributed(name, key)...)
		return append(out, final(name, engine)...), nil
	case insertRE.MatchString(stmt):
		// Through the Distributed tables: each row lands on its tenant's shard.
		return []string{clusterSQL(stmt, cluster, db)}, nil
	case alterRE.MatchString(stmt):
		m := alterRE.FindStringSubmatch(stmt)
		name, change := m[1], m[2]
		return []string{
			"ALTER TABLE " + db + "." + name + "_local" + on + " " + change,
			"ALTER TABLE " + db + "." + name + on + " " + change,
			// A _final table keeps the columns it was made with: make it
			// again (it holds no data), if the table has one.
			"DROP TABLE IF EXISTS " + db + "." + name + "_final" + on,
		}, nil
	case mutationRE.MatchString(stmt):
		return []string{clusterSQL(stmt, cluster, db)}, nil
	case dropTableRE.MatchString(stmt):
		// Every object CREATE TABLE made of it, the Distributed ones first.
		name := dropTableRE.FindStringSubmatch(stmt)[1]
		var out []string
		for _, t := range []string{name + "_final", name + "_final_local", name, name + "_local"} {
			out = append(out, "DROP TABLE IF EXISTS "+db+"."+t+on)
		}
		return out, nil
	}
	first := strings.Fields(stmt)
	if len(first) > 3 {
		first = first[:3]
	}
	return nil, fmt.Errorf("no cluster form for a statement starting %q: cluster mode knows CREATE TABLE IF NOT EXISTS … ENGINE = *MergeTree, "+
		"CREATE MATERIALIZED VIEW IF NOT EXISTS, INSERT … SELECT, ALTER TABLE … ADD/DROP/MODIFY COLUMN, ALTER TABLE … DELETE/UPDATE and DROP TABLE IF EXISTS", strings.Join(first, " "))
}

// lockRetry is how often Migrate tries again to take the migration lock
// another process holds; lockWait is how long it tries.
var (
	lockRetry = 200 * time.Millisecond
	lockWait  = 10 * time.Minute
)

// migrateCluster is Migrate in cluster mode. The migrations table is one
// ReplicatedMergeTree with a replica on every server of the cluster, so a
// migration is recorded once and every server sees it. Concurrent
// migrations (two processes starting at once, on the same server or on
// different ones) are serialised by a lock in ZooKeeper: a replicated
// table with a fixed replica name, which only one CREATE can register.
// The holder syncs the migrations table from the other replicas before
// reading it, so it never applies what another process just applied.
func (s *Store) migrateCluster(ctx context.Context, ms []migration) (applied []string, err error) {
	// Up to date already (every start after the first): touch nothing, so
	// that a start with a server down does not wait for ON CLUSTER.
	if s.clusterUpToDate(ctx, ms) {
		return nil, nil
	}
	on := " ON CLUSTER " + s.cluster
	if err := s.conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+s.db+on); err != nil {
		return nil, fmt.Errorf("creating database %s on cluster %s: %w", s.db, s.cluster, err)
	}
	createTable := "CREATE TABLE IF NOT EXISTS " + s.db + ".schema_migrations" + on + ` (
    version UInt32,
    name    String,
    applied DateTime
) ENGINE = ReplicatedMergeTree('/clickhouse/malbild/` + s.db + `/schema_migrations', '{shard}-{replica}')
ORDER BY version`
	if err := s.conn.Exec(ctx, createTable); err != nil {
		return nil, fmt.Errorf("creating schema_migrations on cluster %s: %w", s.cluster, err)
	}
	// shard_slots: which shard a municipality's rows are on (clusterConn).
	for _, st := range []string{
		"CREATE TABLE IF NOT EXISTS " + s.db + ".shard_slots_local" + on + " (slot UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/" +
			s.db + "/shard_slots_local', '{replica}') ORDER BY slot",
		"CREATE TABLE IF NOT EXISTS " + s.db + ".shard_slots" + on + " AS " + s.db + ".shard_slots_local ENGINE = Distributed(" +
			s.cluster + ", " + s.db + ", shard_slots_local, slot)",
	} {
		if err := s.raw.Exec(ctx, st); err != nil {
			return nil, fmt.Errorf("creating shard_slots on cluster %s: %w", s.cluster, err)
		}
	}
	if err := s.raw.Exec(ctx, "INSERT INTO "+s.db+".shard_slots (slot) SELECT number FROM system.numbers LIMIT "+strconv.FormatUint(s.weight, 10)); err != nil {
		return nil, fmt.Errorf("filling shard_slots: %w", err)
	}
	release, err := s.migrationLock(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if rerr := release(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if err := s.conn.Exec(ctx, "SYSTEM SYNC REPLICA "+s.db+".schema_migrations"); err != nil {
		return nil, fmt.Errorf("syncing schema_migrations from the other replicas: %w", err)
	}
	done, err := s.appliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		stmts, err := clusterForm(m.sql, s.cluster, s.db)
		if err != nil {
			return applied, fmt.Errorf("schema/%s: %w", m.name, err)
		}
		for _, st := range stmts {
			// The raw connection: the statements are in cluster form already.
			if err := s.raw.Exec(ctx, st); err != nil {
				return applied, fmt.Errorf("applying migration %s on cluster %s: %w", m.name, s.cluster, err)
			}
		}
		if a := alterRE.FindStringSubmatch(strings.TrimSpace(commentLineRE.ReplaceAllString(m.sql, ""))); a != nil {
			if err := s.remakeFinal(ctx, a[1]); err != nil {
				return applied, fmt.Errorf("applying migration %s on cluster %s: %w", m.name, s.cluster, err)
			}
		}
		if err := s.recordMigration(ctx, m); err != nil {
			return applied, err
		}
		applied = append(applied, m.name)
	}
	return applied, nil
}

// clusterUpToDate reports whether the server s is connected to records
// every migration of ms and has the cluster's own tables.
func (s *Store) clusterUpToDate(ctx context.Context, ms []migration) bool {
	var n uint64
	if err := s.raw.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name IN ('schema_migrations', 'shard_slots', 'shard_slots_local')", s.db).Scan(&n); err != nil || n != 3 {
		return false
	}
	var slots uint64
	if err := s.raw.QueryRow(ctx, "SELECT count() FROM "+s.db+".shard_slots_local").Scan(&slots); err != nil || slots == 0 {
		return false
	}
	done, err := s.appliedMigrations(ctx)
	if err != nil {
		return false
	}
	for _, m := range ms {
		if !done[m.version] {
			return false
		}
	}
	return true
}

// remakeFinal creates table's _final Distributed table again after an
// ALTER changed its columns, if the table has a _final view.
func (s *Store) remakeFinal(ctx context.Context, table string) error {
	var n uint64
	if err := s.raw.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = ?", s.db, table+"_final_local").Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	return s.raw.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+s.db+"."+table+"_final ON CLUSTER "+s.cluster+" AS "+s.db+"."+table+"_local"+
		" ENGINE = Distributed("+s.cluster+", "+s.db+", "+table+"_final_local)")
}

// ClickHouse error codes of a lock another process holds.
const (
	codeTableAlreadyExists   = 57
	codeReplicaAlreadyExists = 253
)

// migrationLock takes the cluster-wide migration lock, waiting while
// another process holds it, and returns its release.
func (s *Store) migrationLock(ctx context.Context) (release func() error, err error) {
	create := "CREATE TABLE " + s.db + ".schema_migrations_lock (held DateTime) ENGINE = ReplicatedMergeTree('/clickhouse/malbild/" +
		s.db + "/schema_migrations_lock', 'holder') ORDER BY held"
	deadline := time.Now().Add(lockWait)
	for {
		err := s.raw.Exec(ctx, create)
		if err == nil {
			break
		}
		if !isException(err, codeTableAlreadyExists) && !isException(err, codeReplicaAlreadyExists) {
			return nil, fmt.Errorf("taking the migration lock: %w", err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the migration lock (ZooKeeper path /clickhouse/malbild/%s/schema_migrations_lock) has been held for over %s: "+
				"if no other Målbild is migrating, a migration died holding it; run DROP TABLE %s.schema_migrations_lock on the server that has it", s.db, lockWait, s.db)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the migration lock: %w", ctx.Err())
		case <-time.After(lockRetry):
		}
	}
	return func() error {
		// Not the caller's context: a cancelled migration still lets go.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.raw.Exec(ctx, "DROP TABLE IF EXISTS "+s.db+".schema_migrations_lock"); err != nil {
			return fmt.Errorf("releasing the migration lock: %w", err)
		}
		return nil
	}, nil
}
