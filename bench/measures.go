package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/collectors"
	"github.com/malbild/malbild/demo"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/numfmt"
	"github.com/malbild/malbild/strategy"
)

// measureRows are the rows of the measures section: keeping the
// observations current after new facts (issue 15).
type measureRows struct {
	full, probes, cases, growth *row
}

// incrementalCases is the size of the monthly case export.
const incrementalCases = 100_000

// probeMinutes is how many minutes of probe results the probe row
// writes per data set, one after the other, each followed by its
// recompute; the median counts. One minute takes tens of milliseconds,
// so a single one measured mostly what else the machine did at that
// moment.
const probeMinutes = 9

// caseExports is how many monthly case exports the cases row writes per
// data set, alternating between the sets like the probe minutes; the
// median counts. Each goes into the same month after the data set's
// history and is removed again after its recompute (see dropExports), so
// that every export meets the history as loaded: the 1× set does not grow
// by the exports while the growth row compares it with the 10× set. With
// three, one slow export (the first of each set is) decided the median.
const caseExports = 9

// exportTables hold the case exports' rows, partitioned by year: their
// partition of the export year is dropped after each export.
var exportTables = []string{"cases", "case_month_counts", "case_handling_counts"}

func (b *bench) declareMeasures() measureRows {
	size := fmt.Sprintf("%s cases, %s probe results", numfmt.Group(int64(b.cfg.cases)), numfmt.Group(int64(b.cfg.probes)))
	return measureRows{
		full: b.report.declare("measures", "Full recompute of all measures ("+size+")", "≤ 30 s"),
		probes: b.report.declare("measures", "Incremental: one minute of new probe results for every service → availability current ("+size+")",
			"≤ 2 s"),
		cases: b.report.declare("measures", fmt.Sprintf("Incremental: a monthly export of %s cases → digital share and handling time current (%s)",
			numfmt.Group(incrementalCases), size), "≤ 5 s"),
		growth: b.report.declare("measures", fmt.Sprintf("Incremental times at %d× the history vs 1×", b.cfg.growth), "≤ 1.2×"),
	}
}

// incrementalTimes are one data set's incremental recomputes.
type incrementalTimes struct {
	probes, cases time.Duration
	// the writes (WriteBatchTouched) within them
	probesWrite, casesWrite time.Duration
	// full times of the same measures in the full recompute, the baseline
	probesFull, casesFull time.Duration
	// the services probed and the days of probe results before the minute
	services, days int
	// every probe minute's and case export's time, in order
	minutes, exports []time.Duration
}

func (b *bench) measuresSection(ctx context.Context, d *datasets) error {
	if d.err != nil {
		return d.err
	}
	// The growth row compares equal new data on 1× and on growth times
	// the history: both sets probe the same services (prepare gives them
	// demo.ProbeServicesFor the large set) up to the same instant, the
	// large one over growth times the days, and the probe minute is for
	// every service.
	//
	// The large set is loaded last, just before this section: without a
	// wait its bulk load's merges ran during its incremental recomputes
	// (and not during the small set's), as in the pages and serve sections.
	b.waitMerges(ctx, d.large.store, 2*time.Minute)
	large, err := b.startIncremental(ctx, d.strat, d.large)
	if err != nil {
		return err
	}
	runs := []*incrementalRun{large}
	var small *incrementalRun
	if d.small != nil {
		if small, err = b.startIncremental(ctx, d.strat, d.small); err != nil {
			return err
		}
		runs = append(runs, small)
	}
	// The minutes alternate between the data sets, so that whatever else
	// the machine does meanwhile falls on both alike.
	for i := range probeMinutes {
		for _, r := range runs {
			if err := b.probeMinute(ctx, d.strat, r, i); err != nil {
				return err
			}
		}
	}
	if small != nil {
		b.waitMerges(ctx, d.small.store, 2*time.Minute)
	}
	for i := range caseExports {
		for _, r := range runs {
			if err := b.caseExport(ctx, d.strat, r, i); err != nil {
				return err
			}
		}
	}
	for _, r := range runs {
		b.finishIncremental(r)
	}
	b.report.fill(b.measureRows.full, ms(d.large.recompute), "118.6 s before incremental measures (bench/results.md at 10 M / 50 M)", "", verdict(d.large.recompute <= 30*time.Second))
	b.report.fill(b.measureRows.probes, ms(large.probes), "full availability recompute in this run: "+ms(large.probesFull),
		times(ratio(large.probes, large.probesFull)), verdict(large.probes <= 2*time.Second))
	b.report.fill(b.measureRows.cases, ms(large.cases), "full digital share + handling time recompute in this run: "+ms(large.casesFull),
		times(ratio(large.cases, large.casesFull)), verdict(large.cases <= 5*time.Second))
	if d.small == nil {
		b.report.skip(b.measureRows.growth, "no smaller data set (-growth 1, or it failed to load)")
		return nil
	}
	if small.services != large.services {
		// Not like for like: say so rather than compare.
		b.report.skip(b.measureRows.growth, fmt.Sprintf("the data sets probe %d and %d services", small.services, large.services))
		return nil
	}
	g := max(ratio(large.probes, small.probes), ratio(large.cases, small.cases))
	b.report.fill(b.measureRows.growth, fmt.Sprintf("probes %s, cases %s (%d services, %d days of probe results)", ms(large.probes), ms(large.cases), large.services, large.days),
		fmt.Sprintf("at 1× (%s; %d services, %d days): probes %s, cases %s", d.small.label, small.services, small.days, ms(small.probes), ms(small.cases)),
		times(g), verdict(g <= 1.2))
	return nil
}

// measureTime sums a timed recompute's times of the named measures.
func measureTime(t *timedMeasures, names ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var sum time.Duration
	for _, n := range names {
		sum += t.times[n]
	}
	return sum
}

var (
	probeMeasures = []string{"availability_uptime", "availability_maintenance_share", "response_time_mean", "response_time_p95"}
	caseMeasures  = []string{"digital_share", "handling_time_median", "handling_time_p90"}
)

// probedServices returns the services with probe results in s and the
// time of the latest result.
func probedServices(ctx context.Context, s *clickhouse.Store) (services []string, last time.Time, err error) {
	rows, err := s.Conn().Query(ctx, "SELECT service, max(ts) FROM probe_results GROUP BY service ORDER BY service")
	if err != nil {
		return nil, last, err
	}
	defer rows.Close()
	for rows.Next() {
		var svc string
		var t time.Time
		if err := rows.Scan(&svc, &t); err != nil {
			return nil, last, err
		}
		services = append(services, svc)
		if t.After(last) {
			last = t
		}
	}
	return services, last, rows.Err()
}

// incrementalRun is one data set's incremental recomputes under way:
// startIncremental, probeMinute probeMinutes times, caseExport
// caseExports times, finishIncremental. Together they write one minute of
// probe results for every service (probeMinutes times, at most five
// minutes after d's last results, so all on its last day) and then a
// month of new cases in a year after d's history (caseExports times, each
// removed again), each through WriteBatchTouched, and time
// collectors.RecomputeTouched after each, as the runner does after a
// collector run.
type incrementalRun struct {
	incrementalTimes
	d      *dataset
	names  []string       // the services
	last   time.Time      // of d's probe results
	timed  *timedMeasures // the probe minutes' recomputes
	writes []time.Duration

	exportMonth time.Time      // of the case exports
	caseTimed   *timedMeasures // the case exports' recomputes
	caseWrites  []time.Duration
}

func (b *bench) startIncremental(ctx context.Context, st *strategy.Strategy, d *dataset) (*incrementalRun, error) {
	r := &incrementalRun{d: d, timed: &timedMeasures{MeasureStore: d.store}, caseTimed: &timedMeasures{MeasureStore: d.store}}
	if d.full == nil {
		// Reused from an earlier run (-dir): time a full recompute now.
		d.full = &timedMeasures{MeasureStore: d.store}
		if _, err := collectors.Recompute(ctx, d.full, st, nil); err != nil {
			return nil, fmt.Errorf("the full recompute for the baseline: %w", err)
		}
	}
	r.probesFull, r.casesFull = measureTime(d.full, probeMeasures...), measureTime(d.full, caseMeasures...)
	var err error
	if r.names, r.last, err = probedServices(ctx, d.store); err != nil {
		return nil, err
	}
	first, _ := demo.ProbeSpan(demo.ProbeOptions{N: d.probes, Services: len(r.names), End: d.probeEnd})
	r.services, r.days = len(r.names), int(r.last.Sub(first).Hours()/24)+1
	return r, nil
}

// probeMinute writes r's minute i and recomputes what it touched.
func (b *bench) probeMinute(ctx context.Context, st *strategy.Strategy, r *incrementalRun, i int) error {
	minute := &facts.Batch{Tenant: st.Municipality.Code, Source: "bench-minute", Version: 2}
	at := r.last.Add(time.Duration(i+1) * 300 * time.Second / (probeMinutes + 1))
	for _, svc := range r.names {
		minute.Probes = append(minute.Probes, facts.ProbeResult{Service: svc, Time: at, OK: true, Status: 200, Duration: 120 * time.Millisecond})
	}
	write, total, err := writeRecompute(ctx, st, r.d.store, minute, r.timed, "a minute of probe results")
	if err != nil {
		return err
	}
	r.writes, r.minutes = append(r.writes, write), append(r.minutes, total)
	return nil
}

// writeRecompute writes batch with WriteBatchTouched and then recomputes
// through timed what it touched, as the runner does after a collector
// run; it returns the write's time and the time of both.
func writeRecompute(ctx context.Context, st *strategy.Strategy, s *clickhouse.Store, batch *facts.Batch, timed *timedMeasures, what string) (write, total time.Duration, err error) {
	start := time.Now()
	touched, err := s.WriteBatchTouched(ctx, batch)
	if err != nil {
		return 0, 0, fmt.Errorf("writing %s: %w", what, err)
	}
	write = time.Since(start)
	if _, err := collectors.RecomputeTouched(ctx, timed, st, nil, touched); err != nil {
		return 0, 0, fmt.Errorf("recomputing after %s: %w", what, err)
	}
	return write, time.Since(start), nil
}

// caseExport writes r's monthly case export i, in a month of a year after
// the cases of r's data set, recomputes what it touched, and removes it.
func (b *bench) caseExport(ctx context.Context, st *strategy.Strategy, r *incrementalRun, i int) error {
	s := r.d.store
	if r.exportMonth.IsZero() {
		var err error
		if r.exportMonth, err = exportMonth(ctx, s); err != nil {
			return err
		}
		// Exports an interrupted run left (-dir) go first.
		if err := dropExports(ctx, s, r.exportMonth); err != nil {
			return err
		}
	}
	month := r.exportMonth
	export := &facts.Batch{Tenant: st.Municipality.Code, Source: "bench-month", Version: 2}
	for c := range demo.Cases(incrementalCases, b.cfg.seed+1+int64(i)) {
		c.ID = fmt.Sprintf("bench-month-%d-%s", i, c.ID)
		off := time.Duration(len(export.Cases)%(28*24*60)) * time.Minute
		took := time.Duration(0)
		if !c.Decided.IsZero() {
			took = c.Decided.Sub(c.Received) % (60 * 24 * time.Hour)
			c.Decided = month.Add(off + took)
		}
		c.Received = month.Add(off)
		export.Cases = append(export.Cases, c)
	}
	write, total, err := writeRecompute(ctx, st, s, export, r.caseTimed, "a monthly case export")
	if err != nil {
		return err
	}
	r.caseWrites, r.exports = append(r.caseWrites, write), append(r.exports, total)
	return dropExports(ctx, s, month)
}

// exportMonth is the month the case exports go into: February of the year
// after the last day any case of s was received or decided on. That year
// holds no case of the history, so its partitions can be dropped after
// each export; February keeps the exports' times inside the year in any
// time zone the server stores them in.
func exportMonth(ctx context.Context, s *clickhouse.Store) (time.Time, error) {
	var received, decided uint16
	err := s.Conn().QueryRow(ctx, `SELECT toYear(max(received)), toYear(max(ifNull(decided, received))) FROM cases
 WHERE case_id NOT LIKE 'bench-month-%'`).Scan(&received, &decided)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the last year of the cases: %w", err)
	}
	return time.Date(int(max(received, decided))+1, time.February, 1, 0, 0, 0, 0, strategy.Stockholm), nil
}

// dropExports removes the case exports of month's year from s: the cases
// and the case figures they added.
func dropExports(ctx context.Context, s *clickhouse.Store, month time.Time) error {
	for _, t := range exportTables {
		if err := s.Conn().Exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP PARTITION %d", t, month.Year())); err != nil {
			return fmt.Errorf("removing the case exports of %d from %s: %w", month.Year(), t, err)
		}
	}
	return nil
}

// finishIncremental takes the medians of r's probe minutes and case
// exports and notes what was done.
func (b *bench) finishIncremental(r *incrementalRun) {
	res := &r.incrementalTimes
	res.probes, res.probesWrite = median(r.minutes), median(r.writes)
	res.cases, res.casesWrite = median(r.exports), median(r.caseWrites)
	b.log.Info("incremental recomputes", "db", r.d.db, "probes", res.probes.String(), "probes_write", res.probesWrite.String(),
		"cases", res.cases.String(), "cases_write", res.casesWrite.String())
	b.report.addNote("Incremental on %q (%s; %d services, %d days of probe results up to %s): %d minutes of probe results for the %d services "+
		"(the median counts; each took %s), then %d monthly exports of %s cases for %s, each removed after its recompute (the median counts; each took %s); each written "+
		"with WriteBatchTouched and followed by collectors.RecomputeTouched (write plus recompute timed; the writes took %s and %s (medians); "+
		"the recomputes' measures: %s (all minutes); and %s (all exports)).",
		r.d.db, r.d.label, res.services, res.days, r.last.In(strategy.Stockholm).Format("2006-01-02 15:04"), probeMinutes, len(r.names),
		durations(res.minutes), caseExports, numfmt.Group(incrementalCases), r.exportMonth.Format("2006-01"), durations(res.exports),
		ms(res.probesWrite), ms(res.casesWrite), r.timed, r.caseTimed)
}

// MeasureFingerprints and WriteMeasureFingerprints pass through, so that
// the recompute keeps the fingerprints it would keep in the runner.
func (t *timedMeasures) MeasureFingerprints(ctx context.Context, tenant string) (map[string]string, error) {
	if fs, ok := t.MeasureStore.(collectors.FingerprintStore); ok {
		return fs.MeasureFingerprints(ctx, tenant)
	}
	return nil, errors.New("the measure store keeps no fingerprints")
}

func (t *timedMeasures) WriteMeasureFingerprints(ctx context.Context, tenant string, fps map[string]string, version uint64) error {
	if fs, ok := t.MeasureStore.(collectors.FingerprintStore); ok {
		return fs.WriteMeasureFingerprints(ctx, tenant, fps, version)
	}
	return errors.New("the measure store keeps no fingerprints")
}

// MeasureScope passes through as well.
func (t *timedMeasures) MeasureScope(ctx context.Context, tenant string, m clickhouse.MeasureRequest) (string, error) {
	if ss, ok := t.MeasureStore.(collectors.ScopeStore); ok {
		return ss.MeasureScope(ctx, tenant, m)
	}
	return "", errors.New("the measure store derives no scopes")
}

var (
	_ collectors.FingerprintStore = (*timedMeasures)(nil)
	_ collectors.ScopeStore       = (*timedMeasures)(nil)
)
