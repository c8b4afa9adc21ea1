package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/collectors"
	"github.com/malbild/malbild/demo"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/numfmt"
)

const benchTenant = "0120"

// Rows of the ingest section.
type ingestRows struct{ e2e, store *row }

func (b *bench) declareIngest() ingestRows {
	n := numfmt.Group(int64(b.cfg.ingestRows))
	return ingestRows{
		e2e: b.report.declare("ingest", "cases_csv end to end (read, decode, parse, validate, insert) of a "+n+"-row Swedish CSV, through the collector runner",
			"≥ 80 % of store.WriteBatch"),
		store: b.report.declare("ingest", "store.WriteBatch of the same "+n+" cases (the collector's own write), vs a bare clickhouse-go PrepareBatch/Append/Send", ""),
	}
}

// ingest measures the cases_csv collector end to end against writing the
// same rows with store.WriteBatch, and WriteBatch against bare
// clickhouse-go. Every run writes into a fresh, empty database that is
// dropped afterwards.
func (b *bench) ingest(ctx context.Context) error {
	rows := b.ingestRows
	if b.ch == nil {
		return fmt.Errorf("no ClickHouse: %w", b.chErr)
	}
	n := b.cfg.ingestRows
	dir := filepath.Join(b.dir, "ingest")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	csvPath := filepath.Join(dir, "arenden.csv")
	start := time.Now()
	if err := writeCasesCSV(csvPath, n, b.cfg.seed); err != nil {
		return fmt.Errorf("generating the cases CSV: %w", err)
	}
	st, err := os.Stat(csvPath)
	if err != nil {
		return err
	}
	b.report.addSetup("Ingest: demo.GenerateCases wrote %s rows (%s, Windows-1252, ';') in %s.",
		numfmt.Group(int64(n)), mb(st.Size()), time.Since(start).Round(time.Millisecond))

	cases := slices.Collect(demo.Cases(n, b.cfg.seed))
	if len(cases) != n {
		return fmt.Errorf("demo.Cases yielded %d cases, want %d", len(cases), n)
	}
	// The three kinds of run take turns, so that the machine's other work
	// falls on all of them alike. The baselines write the same source as
	// the collector does (the CSV's path), so all three insert the same
	// bytes.
	var e2e, parse, store, bare []time.Duration
	for i := range b.cfg.reps {
		d, err := b.ingestParseOnly(ctx, csvPath, n)
		if err != nil {
			return fmt.Errorf("parse-only run %d: %w", i+1, err)
		}
		parse = append(parse, d)
		d, err = b.ingestEndToEnd(ctx, fmt.Sprintf("ingest_e2e_%d", i), csvPath, n)
		if err != nil {
			return fmt.Errorf("end-to-end run %d: %w", i+1, err)
		}
		b.log.Info("ingest end to end", "rows", n, "duration", d.Round(time.Millisecond).String(), "rows_per_s", int(float64(n)/d.Seconds()))
		e2e = append(e2e, d)
		d, err = b.ingestTimed(ctx, fmt.Sprintf("ingest_store_%d", i), n, func(s *clickhouse.Store) error {
			return s.WriteBatch(ctx, &facts.Batch{Tenant: benchTenant, Source: csvPath, Version: uint64(i + 1), Cases: cases})
		})
		if err != nil {
			return fmt.Errorf("store.WriteBatch run %d: %w", i+1, err)
		}
		b.log.Info("ingest store.WriteBatch", "rows", n, "duration", d.Round(time.Millisecond).String(), "rows_per_s", int(float64(n)/d.Seconds()))
		store = append(store, d)
		d, err = b.ingestTimed(ctx, fmt.Sprintf("ingest_bare_%d", i), n, func(s *clickhouse.Store) error {
			return bareInsertCases(ctx, s.Conn(), benchTenant, csvPath, uint64(i+1), cases)
		})
		if err != nil {
			return fmt.Errorf("bare insert run %d: %w", i+1, err)
		}
		b.log.Info("ingest bare clickhouse-go", "rows", n, "duration", d.Round(time.Millisecond).String(), "rows_per_s", int(float64(n)/d.Seconds()))
		bare = append(bare, d)
	}
	e2eRate := float64(n) / median(e2e).Seconds()
	storeRate := float64(n) / median(store).Seconds()
	bareRate := float64(n) / median(bare).Seconds()
	b.report.fill(rows.e2e, rate(e2eRate), "store.WriteBatch of the same rows: "+rate(storeRate), percent(e2eRate/storeRate), verdict(e2eRate >= 0.8*storeRate))
	b.report.fill(rows.store, rate(storeRate), "bare clickhouse-go: "+rate(bareRate), percent(storeRate/bareRate), "")
	b.report.addNote("Ingest: store.WriteBatch of cases also looks for stored versions of the cases and inserts the changes of "+
		"case_month_counts and case_handling_counts (issue 15), which the bare insert does not: end to end is %s of the bare clickhouse-go rate.",
		percent(e2eRate/bareRate))
	b.report.addNote("Ingest: all three runs write the source the collector writes, the CSV's path (%d bytes a row); cases_csv hands "+
		"its write a clickhouse.CasePrep (ids checked unique, days, the cases' own case deltas) made on both cores right after parsing; "+
		"store.WriteBatch of 16 384 cases or more without one makes it itself the same way.", len(csvPath))
	b.report.addNote("Ingest: of the end-to-end time (median %s), reading, decoding, parsing and validating alone — the same runner "+
		"and collector with a sink that only counts — took %s (median), i.e. %s.", median(e2e).Round(time.Millisecond),
		median(parse).Round(time.Millisecond), rate(float64(n)/median(parse).Seconds()))
	if b.cfg.reps > 1 {
		b.report.addNote("Ingest figures are medians of %d runs each; end to end: %s; parse only: %s; store.WriteBatch: %s; bare: %s.",
			b.cfg.reps, durations(e2e), durations(parse), durations(store), durations(bare))
	}
	return nil
}

// countingSink counts rows and writes nothing.
type countingSink struct{ rows int }

func (c *countingSink) Write(_ context.Context, b *facts.Batch) error {
	c.rows += b.Rows()
	return nil
}

// ingestParseOnly runs the same collector through the runner into a sink
// that only counts: the read, decode, parse and validate part.
func (b *bench) ingestParseOnly(ctx context.Context, csvPath string, n int) (time.Duration, error) {
	sink := &countingSink{}
	start := time.Now()
	r, err := collectors.NewRunner(collectors.RunnerConfig{
		Instances: []collectors.Instance{casesInstance(csvPath)},
		Sink:      sink,
		Logger:    discard,
		Retry:     collectors.RetryPolicy{Attempts: 1},
	})
	if err != nil {
		return 0, err
	}
	res, err := r.RunOnce(ctx, nil)
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if err := res.Err(); err != nil {
		return 0, err
	}
	if sink.rows != n {
		return 0, fmt.Errorf("the collector produced %d rows, want %d", sink.rows, n)
	}
	return d, nil
}

// casesInstance is a cases_csv collector reading one file with the
// default options.
func casesInstance(csvPath string) collectors.Instance {
	return collectors.Instance{
		Name:    "bench-arenden",
		Kind:    "cases_csv",
		Tenant:  benchTenant,
		Timeout: 30 * time.Minute,
		Options: &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: "path"},
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: csvPath},
		}},
	}
}

// ingestEndToEnd runs a cases_csv collector over the file through the
// collector runner, as `malbild collect --once` does (store sink, run
// recorded), into a fresh database, and checks that every row arrived.
func (b *bench) ingestEndToEnd(ctx context.Context, db, csvPath string, n int) (time.Duration, error) {
	s, err := b.store(ctx, db)
	if err != nil {
		return 0, err
	}
	defer b.dropDatabase(ctx, s, db)
	inst := casesInstance(csvPath)
	sink := collectors.NewStoreSink(s, nil, discard)
	b.waitMerges(ctx, s, 30*time.Second)
	start := time.Now()
	r, err := collectors.NewRunner(collectors.RunnerConfig{
		Instances: []collectors.Instance{inst},
		Sink:      sink,
		Runs:      sink,
		Logger:    discard,
		Retry:     collectors.RetryPolicy{Attempts: 1},
	})
	if err != nil {
		return 0, err
	}
	res, err := r.RunOnce(ctx, nil)
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if err := res.Err(); err != nil {
		return 0, err
	}
	if len(res) != 1 || res[0].Rows != n {
		return 0, fmt.Errorf("the run reported %d rows, want %d", res[0].Rows, n)
	}
	if err := checkCount(ctx, s, "cases", n); err != nil {
		return 0, err
	}
	return d, nil
}

// waitMerges waits, at most limit, until ClickHouse merges no parts in
// the background, so that merges left over from loading do not slow down
// what is measured next.
func (b *bench) waitMerges(ctx context.Context, s *clickhouse.Store, limit time.Duration) {
	start := time.Now()
	for {
		var n uint64
		if err := s.Conn().QueryRow(ctx, "SELECT count() FROM system.merges").Scan(&n); err != nil {
			b.log.Warn("reading system.merges", "err", err)
			return
		}
		if n == 0 {
			if waited := time.Since(start); waited > time.Second {
				b.log.Info("waited for background merges to finish", "waited", waited.Round(time.Millisecond).String())
			}
			return
		}
		if time.Since(start) > limit {
			b.log.Warn("background merges still running; measuring anyway", "merges", n, "waited", limit.String())
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ingestTimed times write into a fresh database and checks the row count.
func (b *bench) ingestTimed(ctx context.Context, db string, n int, write func(*clickhouse.Store) error) (time.Duration, error) {
	s, err := b.store(ctx, db)
	if err != nil {
		return 0, err
	}
	defer b.dropDatabase(ctx, s, db)
	b.waitMerges(ctx, s, 30*time.Second)
	start := time.Now()
	if err := write(s); err != nil {
		return 0, err
	}
	d := time.Since(start)
	if err := checkCount(ctx, s, "cases", n); err != nil {
		return 0, err
	}
	return d, nil
}

func (b *bench) dropDatabase(ctx context.Context, s *clickhouse.Store, db string) {
	// The name is one of ours, made of letters, digits and underscores.
	if err := s.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
		b.log.Warn("dropping a benchmark database", "db", db, "err", err)
	}
	s.Close()
}

// checkCount checks that table holds n rows (after deduplication of
// re-sent rows, which a fresh table does not have).
func checkCount(ctx context.Context, s *clickhouse.Store, table string, n int) error {
	var got uint64
	if err := s.Conn().QueryRow(ctx, "SELECT count() FROM "+table).Scan(&got); err != nil {
		return fmt.Errorf("counting %s: %w", table, err)
	}
	if got != uint64(n) {
		return fmt.Errorf("%s holds %d rows, want %d", table, got, n)
	}
	return nil
}

func writeCasesCSV(path string, n int, seed int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := demo.GenerateCases(f, n, seed); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// bareBlock is the block size of the bare insert, as in the store.
const bareBlock = 10_000

// bareInsertCases writes cases with nothing but clickhouse-go: one
// INSERT, whole columns appended per block. It is the physical baseline
// for the store's WriteBatch: no checks, no batch type.
func bareInsertCases(ctx context.Context, conn driver.Conn, tenant, source string, version uint64, cases []facts.Case) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO cases (tenant, case_id, case_type, department, channel, digital, application, received, decided, source, version)")
	if err != nil {
		return err
	}
	defer b.Close()
	var (
		tenants, ids, types, depts, chans, sources []string
		digital, application                       []uint8
		received                                   []time.Time
		decided                                    []*time.Time
		versions                                   []uint64
	)
	for lo := 0; lo < len(cases); lo += bareBlock {
		block := cases[lo:min(lo+bareBlock, len(cases))]
		tenants, ids, types, depts, chans, sources = tenants[:0], ids[:0], types[:0], depts[:0], chans[:0], sources[:0]
		digital, application, received, decided, versions = digital[:0], application[:0], received[:0], decided[:0], versions[:0]
		for i := range block {
			c := &block[i]
			tenants = append(tenants, tenant)
			ids = append(ids, c.ID)
			types = append(types, c.Type)
			depts = append(depts, c.Department)
			chans = append(chans, c.Channel)
			digital = append(digital, b2u(c.Digital))
			application = append(application, b2u(c.Application))
			received = append(received, c.Received)
			if c.Decided.IsZero() {
				decided = append(decided, nil)
			} else {
				decided = append(decided, &c.Decided)
			}
			sources = append(sources, source)
			versions = append(versions, version)
		}
		for i, col := range []any{tenants, ids, types, depts, chans, digital, application, received, decided, sources, versions} {
			if err := b.Column(i).Append(col); err != nil {
				return fmt.Errorf("column %d: %w", i, err)
			}
		}
		if lo+bareBlock < len(cases) {
			if err := b.Flush(); err != nil {
				return err
			}
		}
	}
	return b.Send()
}

func b2u(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

// median returns the middle value (the upper middle of an even count).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// quantile returns the value at position ⌊q·n⌋ of the sorted values.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func durations(ds []time.Duration) string {
	out := ""
	for i, d := range ds {
		if i > 0 {
			out += ", "
		}
		out += d.Round(time.Millisecond).String()
	}
	return out
}
