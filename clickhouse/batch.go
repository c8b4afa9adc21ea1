package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// Column lists of the fact tables, in the order the writers append them.
var (
	casesCols = []string{"tenant", "case_id", "case_type", "department", "channel",
		"digital", "application", "received", "decided", "source", "version"}
	eservicesCols = []string{"tenant", "snapshot", "service_id", "name", "category",
		"department", "url", "integrated", "eid", "active", "source", "version"}
	responsesCols = []string{"tenant", "survey", "response_id", "system", "respondent_group",
		"score", "scale_min", "scale_max", "answered", "source", "version"}
	probesCols = []string{"tenant", "service", "url", "ts", "ok", "status",
		"duration_ms", "error", "source", "version"}
	maintenanceCols = []string{"tenant", "service", "starts", "ends", "note", "source", "version"}
	benchmarkCols   = []string{"tenant", "source", "kpi", "municipality", "period",
		"gender", "value", "status", "deleted", "version"}
)

// prepareOwnCases is the number of cases from which a write without a
// CasePrep makes one itself.
const prepareOwnCases = 1 << 14

// WriteBatch writes every non-empty part of b to its table, tagged with
// b's tenant, source and version (the current time in nanoseconds when
// b.Version is 0). The whole batch is checked first, so bad input writes
// nothing. Writing the same batch again replaces rather than duplicates
// its rows (the tables keep the highest version per key), so a batch that
// failed half-way can simply be written again.
//
// Probe results and maintenance windows also refresh probe_daily for the
// days they touch (see refreshProbeDaily); cases add their changes to
// case_month_counts and case_handling_counts (see casedelta.go). Of cases
// with the same ID in one batch, only the last is written.
func (s *Store) WriteBatch(ctx context.Context, b *facts.Batch) error {
	_, err := s.writeBatch(ctx, b, false)
	return err
}

// writeBatch is WriteBatch. It returns the days the batch touched: with
// all, including the days of every stored version it replaces; else only
// those it needs itself (maintenance windows' and cases').
func (s *Store) writeBatch(ctx context.Context, b *facts.Batch, all bool) (Touched, error) {
	if err := checkBatch(b); err != nil {
		return nil, err
	}
	// A CasePrep of the cases (unique IDs) stands for their dedupCases,
	// their days and their part of caseDeltas.
	prep := casePrepFor(ctx, b.Cases)
	if prep == nil && len(b.Cases) >= prepareOwnCases {
		// Large writes prepare on every core themselves, so that every
		// writer (spool drains, the bench's baseline) gets what cases_csv
		// gets; duplicate IDs leave it to dedupCases.
		if p := PrepareCases(b.Cases); p.Unique() {
			prep = p
		}
	}
	if b.Version == 0 || len(b.Cases) > 0 {
		c := *b
		if c.Version == 0 {
			c.Version = uint64(time.Now().UnixNano())
		}
		if prep == nil {
			c.Cases = dedupCases(c.Cases)
		}
		b = &c
	}
	if len(b.Cases) > 0 {
		// The deltas hold only if no other write of the tenant's cases
		// comes between the look-up of the stored versions and the insert.
		defer s.caseLock(b.Tenant)()
	}
	var t Touched
	if prep != nil {
		rest := *b
		rest.Cases = nil
		t = BatchDays(&rest)
		t.days(facts.KindCases).Merge(&prep.days)
	} else {
		t = BatchDays(b)
	}
	prior := map[string]priorCase{}
	if err := s.priorDays(ctx, b, t, all, prior); err != nil {
		return nil, err
	}
	// The months the deltas touch are marked first: should the cases be
	// written and the deltas not (or not be known to be), the next write
	// of the tenant's cases (or a recompute) repairs those months from
	// the cases, though the stored versions no longer show the months
	// cases left.
	//
	// With a CasePrep, whose additions to the figures may still be
	// counted in the background, the months marked are those of every day
	// the cases and their stored versions fall on (a few more than the
	// deltas may touch), and the deltas are taken once the cases are in.
	var cw *caseWrite
	var deltas *caseFigures
	if len(b.Cases) > 0 {
		var err error
		var months map[month]bool
		if prep != nil {
			months = map[month]bool{}
			for d := range t[facts.KindCases].days {
				months[monthOf(d)] = true
			}
		} else {
			deltas = caseDeltas(b.Cases, b.Version, prior)
			months = deltas.months()
		}
		if cw, err = s.beginCaseWrite(ctx, b.Tenant, months); err != nil {
			return nil, err
		}
		// Months earlier writes left to repair are touched too.
		for m := range cw.owed {
			t[facts.KindCases].Add(m.start())
		}
	}
	if err := s.writeFacts(ctx, b); err != nil {
		return nil, err
	}
	if len(b.Probes) > 0 || len(b.Maintenance) > 0 {
		if err := s.refreshProbeDaily(ctx, b, t[facts.KindProbes]); err != nil {
			return nil, err
		}
	}
	if cw != nil {
		if deltas == nil {
			deltas = preparedDeltas(prep, b.Cases, b.Version, prior)
		}
		cw.deltas = deltas
		if err := s.finishCaseWrite(ctx, cw); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// writeFacts writes b's rows to their tables.
func (s *Store) writeFacts(ctx context.Context, b *facts.Batch) error {
	version := b.Version
	if version == 0 {
		version = uint64(time.Now().UnixNano())
	}
	if err := s.writeCases(ctx, b, version); err != nil {
		return fmt.Errorf("writing %d cases: %w", len(b.Cases), err)
	}
	if err := s.writeEServices(ctx, b, version); err != nil {
		return fmt.Errorf("writing %d e-service snapshot rows: %w", len(b.EServices), err)
	}
	if err := s.writeResponses(ctx, b, version); err != nil {
		return fmt.Errorf("writing %d survey responses: %w", len(b.Responses), err)
	}
	if err := s.writeProbes(ctx, b, version); err != nil {
		return fmt.Errorf("writing %d probe results: %w", len(b.Probes), err)
	}
	if err := s.writeMaintenance(ctx, b, version); err != nil {
		return fmt.Errorf("writing %d maintenance windows: %w", len(b.Maintenance), err)
	}
	if err := s.writeBenchmarks(ctx, b, version); err != nil {
		return fmt.Errorf("writing %d benchmark values: %w", len(b.Benchmarks), err)
	}
	if len(b.Observations) > 0 {
		obs := make([]strategy.Observation, len(b.Observations))
		now := time.Now()
		for i, o := range b.Observations {
			o.Tenant = b.Tenant
			if o.Source == "" {
				o.Source = b.Source
			}
			if o.Version == 0 {
				o.Version = version
			}
			if o.Recorded.IsZero() {
				o.Recorded = now
			}
			obs[i] = o
		}
		if err := s.writeObservations(ctx, obs); err != nil {
			return err
		}
	}
	return nil
}

// checkBatch rejects what the tables cannot hold faithfully.
func checkBatch(b *facts.Batch) error {
	if b.Tenant == "" {
		return errors.New("batch has no tenant")
	}
	for i := range b.Cases {
		c := &b.Cases[i]
		if err := checkDateTime("received", c.Received); err != nil {
			return fmt.Errorf("case %d (%s): %w", i+1, c.ID, err)
		}
		if !c.Decided.IsZero() {
			if err := checkDateTime("decided", c.Decided); err != nil {
				return fmt.Errorf("case %d (%s): %w", i+1, c.ID, err)
			}
		}
	}
	for i := range b.EServices {
		e := &b.EServices[i]
		if err := checkDate("snapshot", e.Snapshot); err != nil {
			return fmt.Errorf("e-service %d (%s): %w", i+1, e.ID, err)
		}
	}
	for i := range b.Responses {
		r := &b.Responses[i]
		if err := checkDate("answered", r.Answered); err != nil {
			return fmt.Errorf("survey response %d (%s): %w", i+1, r.ID, err)
		}
		if r.ScaleMin < 0 || r.ScaleMin > math.MaxUint8 || r.ScaleMax < 0 || r.ScaleMax > math.MaxUint8 {
			return fmt.Errorf("survey response %d (%s): scale %d–%d outside 0–255", i+1, r.ID, r.ScaleMin, r.ScaleMax)
		}
		if math.IsNaN(r.Score) || math.IsInf(r.Score, 0) {
			return fmt.Errorf("survey response %d (%s): score is not a number", i+1, r.ID)
		}
	}
	for i := range b.Probes {
		p := &b.Probes[i]
		if err := checkDateTime("time", p.Time); err != nil {
			return fmt.Errorf("probe result %d (%s): %w", i+1, p.Service, err)
		}
		if p.Status < 0 || p.Status > math.MaxUint16 {
			return fmt.Errorf("probe result %d (%s): status %d outside 0–65535", i+1, p.Service, p.Status)
		}
	}
	for i := range b.Maintenance {
		m := &b.Maintenance[i]
		if err := checkDateTime("start", m.Start); err != nil {
			return fmt.Errorf("maintenance window %d (%s): %w", i+1, m.Service, err)
		}
		if err := checkDateTime("end", m.End); err != nil {
			return fmt.Errorf("maintenance window %d (%s): %w", i+1, m.Service, err)
		}
	}
	for i := range b.Benchmarks {
		v := &b.Benchmarks[i]
		if v.Year < 0 || v.Year > math.MaxUint16 {
			return fmt.Errorf("benchmark value %d (%s): year %d out of range", i+1, v.KPI, v.Year)
		}
		if v.Value != nil && (math.IsNaN(*v.Value) || math.IsInf(*v.Value, 0)) {
			return fmt.Errorf("benchmark value %d (%s): value is not a number", i+1, v.KPI)
		}
	}
	for i := range b.Observations {
		o := b.Observations[i]
		o.Tenant = b.Tenant
		if err := checkObservation(&o); err != nil {
			return fmt.Errorf("observation %d: %w", i+1, err)
		}
	}
	return nil
}

func (s *Store) writeCases(ctx context.Context, b *facts.Batch, version uint64) error {
	return s.insert(ctx, "cases", casesCols, len(b.Cases), func(w *blockWriter, lo, hi int) {
		rows := b.Cases[lo:hi]
		n := len(rows)
		constStrCol(w, 0, n, b.Tenant)
		strCol(w, 1, rows, func(c *facts.Case) string { return c.ID })
		strCol(w, 2, rows, func(c *facts.Case) string { return c.Type })
		strCol(w, 3, rows, func(c *facts.Case) string { return c.Department })
		strCol(w, 4, rows, func(c *facts.Case) string { return c.Channel })
		boolCol(w, 5, rows, func(c *facts.Case) bool { return c.Digital })
		boolCol(w, 6, rows, func(c *facts.Case) bool { return c.Application })
		timeCol(w, 7, rows, func(c *facts.Case) time.Time { return c.Received })
		nullTimeCol(w, 8, rows, func(c *facts.Case) *time.Time { return &c.Decided })
		constStrCol(w, 9, n, b.Source)
		constU64Col(w, 10, n, version)
	})
}

func (s *Store) writeEServices(ctx context.Context, b *facts.Batch, version uint64) error {
	return s.insert(ctx, "eservice_snapshots", eservicesCols, len(b.EServices), func(w *blockWriter, lo, hi int) {
		rows := b.EServices[lo:hi]
		n := len(rows)
		constStrCol(w, 0, n, b.Tenant)
		dateCol(w, 1, rows, func(e *facts.EService) time.Time { return e.Snapshot })
		strCol(w, 2, rows, func(e *facts.EService) string { return e.ID })
		strCol(w, 3, rows, func(e *facts.EService) string { return e.Name })
		strCol(w, 4, rows, func(e *facts.EService) string { return e.Category })
		strCol(w, 5, rows, func(e *facts.EService) string { return e.Department })
		strCol(w, 6, rows, func(e *facts.EService) string { return e.URL })
		boolCol(w, 7, rows, func(e *facts.EService) bool { return e.Integrated })
		boolCol(w, 8, rows, func(e *facts.EService) bool { return e.EID })
		boolCol(w, 9, rows, func(e *facts.EService) bool { return e.Active })
		constStrCol(w, 10, n, b.Source)
		constU64Col(w, 11, n, version)
	})
}

func (s *Store) writeResponses(ctx context.Context, b *facts.Batch, version uint64) error {
	return s.insert(ctx, "survey_responses", responsesCols, len(b.Responses), func(w *blockWriter, lo, hi int) {
		rows := b.Responses[lo:hi]
		n := len(rows)
		constStrCol(w, 0, n, b.Tenant)
		strCol(w, 1, rows, func(r *facts.SurveyResponse) string { return r.Survey })
		strCol(w, 2, rows, func(r *facts.SurveyResponse) string { return r.ID })
		strCol(w, 3, rows, func(r *facts.SurveyResponse) string { return r.System })
		strCol(w, 4, rows, func(r *facts.SurveyResponse) string { return r.Group })
		f64Col(w, 5, rows, func(r *facts.SurveyResponse) float64 { return r.Score })
		u8Col(w, 6, rows, func(r *facts.SurveyResponse) uint8 { return uint8(r.ScaleMin) })
		u8Col(w, 7, rows, func(r *facts.SurveyResponse) uint8 { return uint8(r.ScaleMax) })
		dateCol(w, 8, rows, func(r *facts.SurveyResponse) time.Time { return r.Answered })
		constStrCol(w, 9, n, b.Source)
		constU64Col(w, 10, n, version)
	})
}

func (s *Store) writeProbes(ctx context.Context, b *facts.Batch, version uint64) error {
	return s.insert(ctx, "probe_results", probesCols, len(b.Probes), func(w *blockWriter, lo, hi int) {
		rows := b.Probes[lo:hi]
		n := len(rows)
		constStrCol(w, 0, n, b.Tenant)
		strCol(w, 1, rows, func(p *facts.ProbeResult) string { return p.Service })
		strCol(w, 2, rows, func(p *facts.ProbeResult) string { return p.URL })
		timeCol(w, 3, rows, func(p *facts.ProbeResult) time.Time { return p.Time })
		boolCol(w, 4, rows, func(p *facts.ProbeResult) bool { return p.OK })
		u16Col(w, 5, rows, func(p *facts.ProbeResult) uint16 { return uint16(p.Status) })
		f64Col(w, 6, rows, func(p *facts.ProbeResult) float64 { return float64(p.Duration) / float64(time.Millisecond) })
		strCol(w, 7, rows, func(p *facts.ProbeResult) string { return p.Error })
		constStrCol(w, 8, n, b.Source)
		constU64Col(w, 9, n, version)
	})
}

func (s *Store) writeMaintenance(ctx context.Context, b *facts.Batch, version uint64) error {
	return s.insert(ctx, "maintenance_windows", maintenanceCols, len(b.Maintenance), func(w *blockWriter, lo, hi int) {
		rows := b.Maintenance[lo:hi]
		n := len(rows)
		constStrCol(w, 0, n, b.Tenant)
		strCol(w, 1, rows, func(m *facts.MaintenanceWindow) string { return m.Service })
		timeCol(w, 2, rows, func(m *facts.MaintenanceWindow) time.Time { return m.Start })
		timeCol(w, 3, rows, func(m *facts.MaintenanceWindow) time.Time { return m.End })
		strCol(w, 4, rows, func(m *facts.MaintenanceWindow) string { return m.Note })
		constStrCol(w, 5, n, b.Source)
		constU64Col(w, 6, n, version)
	})
}

// writeBenchmarks writes the key figures. Their source column is the
// figure's own Source (e.g. "kolada"), part of the table's key.
func (s *Store) writeBenchmarks(ctx context.Context, b *facts.Batch, version uint64) error {
	return s.insert(ctx, "benchmark_values", benchmarkCols, len(b.Benchmarks), func(w *blockWriter, lo, hi int) {
		rows := b.Benchmarks[lo:hi]
		n := len(rows)
		constStrCol(w, 0, n, b.Tenant)
		strCol(w, 1, rows, func(v *facts.BenchmarkValue) string { return v.Source })
		strCol(w, 2, rows, func(v *facts.BenchmarkValue) string { return v.KPI })
		strCol(w, 3, rows, func(v *facts.BenchmarkValue) string { return v.Municipality })
		u16Col(w, 4, rows, func(v *facts.BenchmarkValue) uint16 { return uint16(v.Year) })
		strCol(w, 5, rows, func(v *facts.BenchmarkValue) string { return v.Gender })
		nullF64Col(w, 6, rows, func(v *facts.BenchmarkValue) *float64 { return v.Value })
		strCol(w, 7, rows, func(v *facts.BenchmarkValue) string { return v.Status })
		boolCol(w, 8, rows, func(v *facts.BenchmarkValue) bool { return v.Deleted })
		constU64Col(w, 9, n, version)
	})
}
