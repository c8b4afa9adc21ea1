package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// Measure is a built-in measure: a KPI computed in ClickHouse from one
// kind of raw facts. Everything about a measure is in its entry in
// Measures: adding a measure is adding an entry.
type Measure struct {
	// MeasureSpec is what strategy files and pages see: name, unit,
	// parameters and title. It is registered with package strategy.
	strategy.MeasureSpec
	// Facts is the kind of raw facts the measure reads; a collector run
	// that wrote rows of that kind recomputes it.
	Facts facts.Kind
	// Dimensions are the dimension kinds the measure is also broken down
	// by, besides the total.
	Dimensions []string
	// Onward marks a measure whose value in a period also depends on
	// facts of earlier periods: facts on a day can change it in every
	// later period, so an incremental recompute runs from that day on.
	Onward bool
	// WholeHistory are the parameters that, when set, make every period
	// depend on all of the tenant's facts (top: the most common case
	// types). What they derive is the measure's scope (MeasureScope): a
	// recompute may be limited to touched periods only while it stays the
	// same.
	WholeHistory []string
	// Doc defines the measure, for docs/strategy-format.md (generated from
	// it, see TestMeasureDocs).
	Doc string
	// compute builds and runs the measure's SQL.
	compute measureFunc
	// scope, when set, derives what every period depends on (see
	// MeasureScope).
	scope func(ctx context.Context, s *Store, q *measureQuery) (string, error)
}

// measureFunc computes one measure for one request.
type measureFunc func(ctx context.Context, s *Store, q *measureQuery) ([]strategy.Observation, error)

var (
	eserviceParams = []string{"category", "department"}
	eserviceDims   = []string{"category", "department"}
	caseParams     = []string{"case_types", "department"}
	caseDims       = []string{"case_type", "department"}
	surveyParams   = []string{"survey", "system", "group"}
	surveyDims     = []string{"system", "group"}
	probeParams    = []string{"service"}
	probeDims      = []string{"service"}
)

// Measures is the registry of built-in measures, in documentation order.
var Measures = []Measure{
	{MeasureSpec: strategy.MeasureSpec{Name: "eservices_active", Unit: strategy.UnitCount, Params: eserviceParams,
		Title: strategy.Text{SV: "Antal aktiva e-tjänster", EN: "Active e-services"}},
		Facts: facts.KindEServices, Dimensions: eserviceDims,
		Doc:     "Active services in the last snapshot taken in the period.",
		compute: eservicesSnapshot("countIf(act = 1)", "")},
	{MeasureSpec: strategy.MeasureSpec{Name: "eservices_integrated_share", Unit: strategy.UnitPercent, Params: eserviceParams,
		Title: strategy.Text{SV: "Andel e-tjänster integrerade med verksamhetssystem", EN: "Share of e-services integrated with a back-office system"}},
		Facts: facts.KindEServices, Dimensions: eserviceDims,
		Doc:     "Percent of the active services in the period's last snapshot that are integrated with a back-office system.",
		compute: eservicesSnapshot("100 * countIf(act = 1 AND integ = 1) / countIf(act = 1)", "countIf(act = 1) > 0")},
	{MeasureSpec: strategy.MeasureSpec{Name: "eservices_eid_share", Unit: strategy.UnitPercent, Params: eserviceParams,
		Title: strategy.Text{SV: "Andel e-tjänster med e-legitimation", EN: "Share of e-services requiring e-ID"}},
		Facts: facts.KindEServices, Dimensions: eserviceDims,
		Doc:     "Percent of the active services in the period's last snapshot that require e-ID.",
		compute: eservicesSnapshot("100 * countIf(act = 1 AND e_id = 1) / countIf(act = 1)", "countIf(act = 1) > 0")},
	{MeasureSpec: strategy.MeasureSpec{Name: "eservices_added", Unit: strategy.UnitCount, Params: eserviceParams,
		Title: strategy.Text{SV: "Nya e-tjänster sedan förra ögonblicksbilden", EN: "E-services added since the previous snapshot"}},
		Facts: facts.KindEServices, Onward: true,
		Doc: "Services active in the period's last snapshot and not active (absent or retired) in the last snapshot taken " +
			"before the period began. With one snapshot per period that is \"since the previous snapshot\"; the first period " +
			"with a snapshot has no value.",
		compute: eservicesChanges("cur = 1 AND prv = 0")},
	{MeasureSpec: strategy.MeasureSpec{Name: "eservices_retired", Unit: strategy.UnitCount, Params: eserviceParams,
		Title: strategy.Text{SV: "Avvecklade e-tjänster sedan förra ögonblicksbilden", EN: "E-services retired since the previous snapshot"}},
		Facts: facts.KindEServices, Onward: true,
		Doc: "Services active in the last snapshot taken before the period began and not active (absent or retired) in the " +
			"period's last snapshot; the first period with a snapshot has no value.",
		compute: eservicesChanges("cur = 0 AND prv = 1")},
	{MeasureSpec: strategy.MeasureSpec{Name: "digital_share", Unit: strategy.UnitPercent, Params: caseParams,
		Title: strategy.Text{SV: "Andel ansökningar via e-tjänst", EN: "Share of applications made digitally"}},
		Facts: facts.KindCases, Dimensions: caseDims,
		Doc: "Percent of the applications received in the period that came in through a digital channel. `case_types` " +
			"(comma list) and `department` filter.",
		compute: single((*measureQuery).digitalShare)},
	{MeasureSpec: strategy.MeasureSpec{Name: "handling_time_median", Unit: strategy.UnitDays, Params: []string{"top", "case_types", "department"},
		Title: strategy.Text{SV: "Handläggningstid, median", EN: "Handling time, median"}},
		Facts: facts.KindCases, Dimensions: caseDims, WholeHistory: []string{"top"}, scope: topCaseTypes,
		Doc: "Calendar days from received to decided of the cases decided in the period, median (`quantileExact`: the " +
			"value at position ⌊q·n⌋ of the sorted days, so the median of an even count is the upper middle value). " +
			"`top=N` keeps the N most common case types of the tenant's cases; `case_types` and `department` filter.",
		compute: handlingTime("0.5")},
	{MeasureSpec: strategy.MeasureSpec{Name: "handling_time_p90", Unit: strategy.UnitDays, Params: []string{"top", "case_types", "department"},
		Title: strategy.Text{SV: "Handläggningstid, 90:e percentil", EN: "Handling time, 90th percentile"}},
		Facts: facts.KindCases, Dimensions: caseDims, WholeHistory: []string{"top"}, scope: topCaseTypes,
		Doc:     "As `handling_time_median`, the 90th percentile.",
		compute: handlingTime("0.9")},
	{MeasureSpec: strategy.MeasureSpec{Name: "satisfaction_mean", Unit: strategy.UnitIndex, Params: surveyParams,
		Title: strategy.Text{SV: "Nöjdhet med system, medelvärde", EN: "System satisfaction, mean"}},
		Facts: facts.KindSurvey, Dimensions: surveyDims,
		Doc:     "Mean score of the survey responses answered in the period.",
		compute: satisfaction("avg(sc)")},
	{MeasureSpec: strategy.MeasureSpec{Name: "satisfaction_top_share", Unit: strategy.UnitPercent, Params: []string{"survey", "system", "group", "min"},
		Title: strategy.Text{SV: "Andel svar 4–5", EN: "Share of answers 4–5"}},
		Facts: facts.KindSurvey, Dimensions: surveyDims,
		Doc:     "Percent of the responses answered in the period with a score of at least `min` (default 4).",
		compute: single((*measureQuery).satisfactionTopShare)},
	{MeasureSpec: strategy.MeasureSpec{Name: "satisfaction_systems_top_share", Unit: strategy.UnitPercent, Params: []string{"survey", "min"},
		Title: strategy.Text{SV: "Andel system med betyg 4–5", EN: "Share of systems rated 4–5"}},
		Facts:   facts.KindSurvey,
		Doc:     "Percent of the systems whose mean score in the period is at least `min` (default 4).",
		compute: single((*measureQuery).satisfactionSystems)},
	{MeasureSpec: strategy.MeasureSpec{Name: "satisfaction_responses", Unit: strategy.UnitCount, Params: surveyParams,
		Title: strategy.Text{SV: "Antal svar", EN: "Number of responses"}},
		Facts: facts.KindSurvey, Dimensions: surveyDims,
		Doc:     "Number of survey responses answered in the period.",
		compute: satisfaction("count()")},
	{MeasureSpec: strategy.MeasureSpec{Name: "availability_uptime", Unit: strategy.UnitPercent, Params: probeParams,
		Title: strategy.Text{SV: "Tillgänglighet", EN: "Availability"}},
		Facts: facts.KindProbes, Dimensions: probeDims,
		Doc:     "Percent of the probe results in the period that were ok, leaving out those inside a maintenance window of their service.",
		compute: availabilityDaily("100 * sum(okn) / sum(n - inm)", "sum(n - inm) > 0")},
	{MeasureSpec: strategy.MeasureSpec{Name: "availability_maintenance_share", Unit: strategy.UnitPercent, Params: probeParams,
		Title: strategy.Text{SV: "Andel tid i planerat underhåll", EN: "Share of time in planned maintenance"}},
		Facts: facts.KindProbes, Dimensions: probeDims,
		Doc:     "Percent of the probe results in the period that fall inside a maintenance window of their service.",
		compute: availabilityDaily("100 * sum(inm) / sum(n)", "sum(n) > 0")},
	{MeasureSpec: strategy.MeasureSpec{Name: "response_time_mean", Unit: strategy.UnitMillis, Params: probeParams,
		Title: strategy.Text{SV: "Svarstid, medel", EN: "Response time, mean"}},
		Facts: facts.KindProbes, Dimensions: probeDims,
		Doc:     "Mean response time in milliseconds of the probe results in the period outside maintenance.",
		compute: availabilityDaily("sum(dur_sum) / sum(n - inm)", "sum(n - inm) > 0")},
	{MeasureSpec: strategy.MeasureSpec{Name: "response_time_p95", Unit: strategy.UnitMillis, Params: probeParams,
		Title: strategy.Text{SV: "Svarstid, 95:e percentil", EN: "Response time, 95th percentile"}},
		Facts: facts.KindProbes, Dimensions: probeDims,
		Doc:     "95th percentile of the response time in milliseconds of the probe results in the period outside maintenance.",
		compute: availability("quantileExactIf(0.95)(dur, inm = 0)", "countIf(inm = 0) > 0")},
}

// measureIndex finds an entry of Measures by name.
var measureIndex = map[string]int{}

func init() {
	for i, m := range Measures {
		if _, dup := measureIndex[m.Name]; dup {
			panic("clickhouse: measure " + m.Name + " defined twice")
		}
		measureIndex[m.Name] = i
		strategy.RegisterMeasure(m.MeasureSpec)
	}
}

// LookupMeasure returns the built-in measure called name.
func LookupMeasure(name string) (Measure, bool) {
	i, ok := measureIndex[name]
	if !ok {
		return Measure{}, false
	}
	return Measures[i], true
}

// MeasureRequest asks for one built-in measure (Measures) per period of
// one kind.
type MeasureRequest struct {
	Name   string
	Params map[string]string
	Kind   strategy.PeriodKind
	// From and To, when set, limit the result to the periods containing
	// From through the period containing To; whole periods always.
	From, To time.Time
	// Scope, when not empty, is what MeasureScope returned for the same
	// measure, parameters and data: the measure uses it instead of
	// deriving it again from the whole history.
	Scope string
}

// MeasureScope returns what every period of the measure depends on beyond
// the period's own facts, derived from all of the tenant's facts: for
// handling time with top=N, the N most common case types. It is "" for
// measures without such a dependency. While it stays the same, a
// recompute of some periods (From/To) with Scope set gives exactly what
// a full computation gives for them; when it changes, every period may.
func (s *Store) MeasureScope(ctx context.Context, tenant string, m MeasureRequest) (string, error) {
	ctx = tenantContext(ctx, tenant)
	def, ok := LookupMeasure(m.Name)
	if !ok {
		return "", fmt.Errorf("unknown measure %q", m.Name)
	}
	if def.scope == nil {
		return "", nil
	}
	return def.scope(ctx, s, &measureQuery{tenant: tenant, req: m, def: def})
}

// ComputeMeasure computes a built-in measure (its definition is its Doc
// in Measures) in ClickHouse from the tenant's raw facts, per period of
// m.Kind: the total (zero Dimension) and one value per value of each of
// the measure's Dimensions. Raw rows are deduplicated by their key,
// keeping the highest version (argMax), so re-imported and re-sent
// batches count once. Periods are Europe/Stockholm calendar periods.
// The observations carry Tenant, Period, Dimension and Value, ordered by
// period, then dimension.
func (s *Store) ComputeMeasure(ctx context.Context, tenant string, m MeasureRequest) ([]strategy.Observation, error) {
	ctx = tenantContext(ctx, tenant)
	def, ok := LookupMeasure(m.Name)
	if !ok {
		return nil, fmt.Errorf("unknown measure %q", m.Name)
	}
	if !m.Kind.Valid() {
		return nil, fmt.Errorf("measure %s: invalid period kind %q", m.Name, m.Kind)
	}
	for k := range m.Params {
		if !slices.Contains(def.Params, k) {
			return nil, fmt.Errorf("measure %s: unknown parameter %q (known: %s)", m.Name, k, strings.Join(def.Params, ", "))
		}
	}
	return def.compute(ctx, s, &measureQuery{tenant: tenant, req: m, def: def})
}

// single is a measure computed by one query that build writes.
func single(build func(q *measureQuery) error) measureFunc {
	return func(ctx context.Context, s *Store, q *measureQuery) ([]strategy.Observation, error) {
		if err := build(q); err != nil {
			return nil, fmt.Errorf("measure %s: %w", q.req.Name, err)
		}
		return s.runMeasure(ctx, q)
	}
}

// measureQuery builds one measure's SQL. Values go into args in the order
// their ? placeholders appear; only fixed identifiers and expressions
// chosen from this file's constants are written into the SQL text.
type measureQuery struct {
	tenant string
	req    MeasureRequest
	def    Measure
	sql    strings.Builder
	args   []any
}

// add appends SQL text with its arguments.
func (q *measureQuery) add(sql string, args ...any) {
	if n := strings.Count(sql, "?"); n != len(args) {
		panic(fmt.Sprintf("measure SQL %q has %d placeholders and %d arguments", sql, n, len(args)))
	}
	q.sql.WriteString(sql)
	q.args = append(q.args, args...)
}

// periodExpr is the start of the period of kind k containing Date d.
func periodExpr(k strategy.PeriodKind, d string) string {
	switch k {
	case strategy.Month:
		return "toStartOfMonth(" + d + ")"
	case strategy.Quarter:
		return "toStartOfQuarter(" + d + ")"
	case strategy.Tertial:
		return "addMonths(toStartOfYear(" + d + "), intDiv(toMonth(" + d + ") - 1, 4) * 4)"
	default:
		return "toStartOfYear(" + d + ")"
	}
}

// stockholmDate is the Europe/Stockholm calendar date of DateTime t.
func stockholmDate(t string) string { return "toDate(" + t + ", 'Europe/Stockholm')" }

// periodRange adds the From/To limits on the period start expression ps.
func (q *measureQuery) periodRange(ps string) {
	if !q.req.From.IsZero() {
		q.add(" AND "+ps+" >= toDate(?)", dateArg(strategy.PeriodOf(q.req.Kind, q.req.From).Start()))
	}
	if !q.req.To.IsZero() {
		q.add(" AND "+ps+" <= toDate(?)", dateArg(strategy.PeriodOf(q.req.Kind, q.req.To).Start()))
	}
}

// dims returns the arrayJoin that turns each row into one row for the
// total and one per dimension of the measure. cols maps a dimension kind
// to its column.
func (q *measureQuery) dims(cols map[string]string) string {
	parts := []string{"tuple('', '')"}
	for _, d := range q.def.Dimensions {
		c, ok := cols[d]
		if !ok {
			panic(fmt.Sprintf("measure %s: no column for dimension %s", q.def.Name, d))
		}
		parts = append(parts, "tuple('"+d+"', "+c+")")
	}
	return "arrayJoin([" + strings.Join(parts, ", ") + "])"
}

// selectHead starts the outer SELECT: period start, dimension kind and
// value, and the measure's value expression.
func (q *measureQuery) selectHead(ps string, cols map[string]string, value string) {
	q.add("SELECT " + ps + " AS ps, tupleElement(" + q.dims(cols) + " AS dim, 1) AS dk, tupleElement(dim, 2) AS dv, toFloat64(" + value + ") AS v")
}

// groupTail ends the query: group per period and dimension, drop
// dimension rows without a value (an unmapped column), keep groups where
// having holds.
func (q *measureQuery) groupTail(having string) {
	q.add(" GROUP BY ps, dk, dv HAVING (dk = '' OR dv != '')")
	if having != "" {
		q.add(" AND " + having)
	}
	q.add(" ORDER BY ps, dk, dv")
}

// filter adds "AND col = ?" for a parameter that is set.
func (q *measureQuery) filter(param, col string) {
	if v := strings.TrimSpace(q.req.Params[param]); v != "" {
		q.add(" AND "+col+" = ?", v)
	}
}

// listFilter adds "AND has([...], col)" for a comma-list parameter.
func (q *measureQuery) listFilter(param, col string) {
	var vals []string
	for _, v := range strings.Split(q.req.Params[param], ",") {
		if v = strings.TrimSpace(v); v != "" {
			vals = append(vals, v)
		}
	}
	if len(vals) > 0 {
		q.add(" AND has(?, "+col+")", vals)
	}
}

// minScore reads the min parameter (default 4).
func (q *measureQuery) minScore() (float64, error) {
	s := strings.TrimSpace(q.req.Params["min"])
	if s == "" {
		return 4, nil
	}
	v, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("parameter min %q is not a number", s)
	}
	return v, nil
}

// Deduplicated raw rows: the latest version of each key. Cases and survey
// responses may move between partitions when a re-export corrects their
// date, so they are grouped by key (which FINAL, per partition, would not
// do); large groupings spill to disk rather than fail (measureSettings).

func (q *measureQuery) eservicesDedup() {
	q.add(`(SELECT snapshot AS snap, service_id AS sid,
  argMax(category, version) AS cat, argMax(department, version) AS dep,
  argMax(integrated, version) AS integ, argMax(eid, version) AS e_id, argMax(active, version) AS act
 FROM eservice_snapshots WHERE tenant = ? GROUP BY snapshot, service_id)`, q.tenant)
}

var eserviceCols = map[string]string{"category": "cat", "department": "dep"}

// rawRange is the From/To limit as Unix seconds [from, to) of the raw
// facts' instants, padded by a day on each side (a filter on raw rows
// only narrows what the period filter then decides exactly); ok is false
// without a limit.
func (q *measureQuery) rawRange() (from, to int64, ok bool) {
	if q.req.From.IsZero() && q.req.To.IsZero() {
		return 0, 0, false
	}
	from, to = 0, math.MaxUint32
	if !q.req.From.IsZero() {
		from = max(0, strategy.PeriodOf(q.req.Kind, q.req.From).Start().AddDate(0, 0, -1).Unix())
	}
	if !q.req.To.IsZero() {
		to = min(math.MaxUint32, strategy.PeriodOf(q.req.Kind, q.req.To).End().AddDate(0, 0, 1).Unix())
	}
	return from, to, true
}

var caseCols = map[string]string{"case_type": "ctype", "department": "dep"}

func (q *measureQuery) surveyDedup() {
	q.add(`(SELECT survey AS sv, response_id AS rid,
  argMax(system, version) AS sys, argMax(respondent_group, version) AS grp,
  argMax(score, version) AS sc, argMax(answered, version) AS ans
 FROM survey_responses WHERE tenant = ? GROUP BY survey, response_id)`, q.tenant)
}

var surveyCols = map[string]string{"system": "sys", "group": "grp"}

// probesDedup reads probe results with FINAL: their sorting key (service,
// time) is the natural key and includes the partition's month, so merging
// parts as a stream is exact, and memory stays flat for tens of millions
// of rows where a GROUP BY would hold every key in a hash table.
func (q *measureQuery) probesDedup() {
	q.add(`(SELECT service AS svc, ts AS t, ok AS okv, duration_ms AS dur
 FROM probe_results FINAL WHERE tenant = ?`, q.tenant)
	if from, to, ok := q.rawRange(); ok {
		// The probe's key includes ts: its versions share the instant.
		q.add(" AND ts >= toDateTime(?) AND ts < toDateTime(?)", from, to)
	}
	q.add(")")
}

var probeCols = map[string]string{"service": "svc"}

// eservicesSnapshot: value (with having) over each period's last snapshot.
func eservicesSnapshot(value, having string) measureFunc {
	return single(func(q *measureQuery) error {
		ps := periodExpr(q.req.Kind, "snap")
		q.selectHead(ps, eserviceCols, value)
		q.add(" FROM ")
		q.eservicesDedup()
		q.add(" WHERE snap IN (SELECT max(snapshot) FROM eservice_snapshots WHERE tenant = ? GROUP BY "+periodExpr(q.req.Kind, "snapshot")+")", q.tenant)
		q.filter("category", "cat")
		q.filter("department", "dep")
		q.periodRange(ps)
		q.groupTail(having)
		return nil
	})
}

// digitalShare reads case_month_counts (see casedelta.go): the period's
// months, not its cases.
func (q *measureQuery) digitalShare() error {
	ps := periodExpr(q.req.Kind, "month")
	q.selectHead(ps, caseCols, "100 * sum(cd) / sum(ca)")
	q.add(" FROM ")
	q.caseMonthCounts()
	q.add(" WHERE ca > 0")
	q.listFilter("case_types", "ctype")
	q.filter("department", "dep")
	q.periodRange(ps)
	q.groupTail("")
	return nil
}

// handlingTime: the quantile level of the days from received to decided.
func handlingTime(level string) measureFunc {
	return single(func(q *measureQuery) error { return q.handlingTime(level) })
}

// top reads the top parameter (0: not set).
func (q *measureQuery) top() (int, error) {
	s := strings.TrimSpace(q.req.Params["top"])
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("parameter top %q is not a positive whole number", s)
	}
	return n, nil
}

// topCaseTypesSQL adds the query of the top most common case types of
// the tenant's cases (under the case_types and department filters), from
// case_month_counts' counts of all cases.
func (q *measureQuery) topCaseTypesSQL(top int) {
	q.add("SELECT ctype FROM (SELECT case_type AS ctype, department AS dep, sum(n) AS cn FROM case_month_counts WHERE tenant = ?"+
		" GROUP BY case_type, department) WHERE cn > 0", q.tenant)
	q.listFilter("case_types", "ctype")
	q.filter("department", "dep")
	q.add(" GROUP BY ctype ORDER BY sum(cn) DESC, ctype LIMIT ?", top)
}

// topCaseTypes is handling time's scope: the top case types, as a JSON
// list in rank order; "" without top.
func topCaseTypes(ctx context.Context, s *Store, q *measureQuery) (string, error) {
	top, err := q.top()
	if err != nil || top == 0 {
		return "", err
	}
	q.topCaseTypesSQL(top)
	rows, err := s.conn.Query(ch.Context(ctx, ch.WithSettings(measureSettings)), q.sql.String(), q.args...)
	if err != nil {
		return "", fmt.Errorf("measure %s: the top case types: %w", q.req.Name, err)
	}
	defer rows.Close()
	types := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return "", fmt.Errorf("measure %s: the top case types: %w", q.req.Name, err)
		}
		types = append(types, t)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("measure %s: the top case types: %w", q.req.Name, err)
	}
	b, err := json.Marshal(types)
	return string(b), err
}

// handlingTime reads case_handling_counts (see casedelta.go): per
// period and dimension the histogram of whole handling days, from which
// the quantile is exact — quantileExact's value at position ⌊level·n⌋ of
// the sorted days is the first day count whose cumulative count exceeds
// ⌊level·n⌋.
func (q *measureQuery) handlingTime(level string) error {
	top, err := q.top()
	if err != nil {
		return err
	}
	var scoped []string
	if top > 0 && q.req.Scope != "" {
		if err := json.Unmarshal([]byte(q.req.Scope), &scoped); err != nil {
			return fmt.Errorf("scope %q is not a list of case types: %w", q.req.Scope, err)
		}
	}
	ps := periodExpr(q.req.Kind, "month")
	// The position is computed outside the lambda (18.16's lambdas see
	// outer columns only as bare names) and named outside it too, in the
	// ORDER BY (18.16 drops a subquery's column that only a lambda names).
	q.add("SELECT ps, dk, dv, toFloat64(arrayElement(hd, arrayFirstIndex(x -> x > pos, arrayCumSum(hc)))) AS v FROM (" +
		"SELECT ps, dk, dv, toUInt64(" + level + " * sum(c)) AS pos, arraySort(groupArray((days, c))) AS h," +
		" arrayMap(x -> tupleElement(x, 1), h) AS hd, arrayMap(x -> tupleElement(x, 2), h) AS hc FROM (")
	q.add("SELECT " + ps + " AS ps, tupleElement(" + q.dims(caseCols) + " AS dim, 1) AS dk, tupleElement(dim, 2) AS dv, days, sum(cn) AS c FROM ")
	q.caseHandlingCounts()
	q.add(" WHERE cn > 0")
	q.listFilter("case_types", "ctype")
	q.filter("department", "dep")
	switch {
	case top > 0 && scoped != nil && len(scoped) == 0:
		q.add(" AND 0")
	case top > 0 && scoped != nil:
		q.add(" AND has(?, ctype)", scoped)
	case top > 0:
		q.add(" AND ctype IN (")
		q.topCaseTypesSQL(top)
		q.add(")")
	}
	q.periodRange(ps)
	q.add(" GROUP BY ps, dk, dv, days HAVING (dk = '' OR dv != '')) GROUP BY ps, dk, dv) ORDER BY ps, dk, dv, pos")
	return nil
}

func (q *measureQuery) surveyFilters() {
	q.filter("survey", "sv")
	q.filter("system", "sys")
	q.filter("group", "grp")
}

// satisfaction: value over the survey responses of each period.
func satisfaction(value string) measureFunc {
	return single(func(q *measureQuery) error { return q.satisfaction(value) })
}

func (q *measureQuery) satisfactionTopShare() error {
	min, err := q.minScore()
	if err != nil {
		return err
	}
	return q.satisfaction("100 * countIf(sc >= ?) / count()", min)
}

// satisfaction adds the query; the value may hold placeholders for args.
func (q *measureQuery) satisfaction(value string, args ...any) error {
	ps := periodExpr(q.req.Kind, "ans")
	// The value may hold a placeholder, so add the head by hand.
	q.add("SELECT "+ps+" AS ps, tupleElement("+q.dims(surveyCols)+" AS dim, 1) AS dk, tupleElement(dim, 2) AS dv, toFloat64("+value+") AS v", args...)
	q.add(" FROM ")
	q.surveyDedup()
	q.add(" WHERE 1")
	q.surveyFilters()
	q.periodRange(ps)
	q.groupTail("")
	return nil
}

func (q *measureQuery) satisfactionSystems() error {
	min, err := q.minScore()
	if err != nil {
		return err
	}
	q.add("SELECT ps, '' AS dk, '' AS dv, toFloat64(100 * countIf(m >= ?) / count()) AS v FROM (", min)
	ps := periodExpr(q.req.Kind, "ans")
	q.add("SELECT " + ps + " AS ps, sys, avg(sc) AS m FROM ")
	q.surveyDedup()
	q.add(" WHERE sys != ''")
	q.surveyFilters()
	q.periodRange(ps)
	q.add(" GROUP BY ps, sys) GROUP BY ps ORDER BY ps")
	return nil
}

// window is a maintenance window, in Unix seconds.
// maintenanceMinutes is a subquery of (service, minute) pairs inside the
// tenant's maintenance windows (latest version of each), with minutes
// counted since the epoch. The set is built once in ClickHouse, so a
// probe row's test costs a hash lookup however many windows there are;
// windows are honoured to the minute. Service "*" stands for every service.
const maintenanceMinutes = `SELECT service, toUInt32(arrayJoin(arrayMap(x -> s + x, range(toUInt32(if(e > s, e - s, 0)))))) AS m
 FROM (SELECT service, intDiv(toUInt32(starts), 60) AS s, intDiv(toUInt32(argMax(ends, version)), 60) AS e
 FROM maintenance_windows WHERE tenant = ? GROUP BY service, starts)`

// availability: value (with having) over the probe results of each
// period, each marked inm = 1 when inside a maintenance window.
func availability(value, having string) measureFunc {
	return single(func(q *measureQuery) error {
		ps := periodExpr(q.req.Kind, stockholmDate("t"))
		q.selectHead(ps, probeCols, value)
		q.add(" FROM (SELECT svc, t, okv, dur, ")
		q.add("((svc, intDiv(toUInt32(t), 60)) IN ("+maintenanceMinutes+") OR ('*', intDiv(toUInt32(t), 60)) IN ("+maintenanceMinutes+")) AS inm FROM ", q.tenant, q.tenant)
		q.probesDedup()
		q.add(") WHERE 1")
		q.filter("service", "svc")
		q.periodRange(ps)
		q.groupTail(having)
		return nil
	})
}

// availabilityDaily: value (with having) over the probe_daily rows of
// each period (counts per service and day, kept by the store; see
// refreshProbeDaily), so a period costs its days, not its raw results.
// The latest version of each (service, day) is taken with argMax over the
// days read rather than with FINAL: on 18.16, FINAL merges every part of
// the range in one stream and cost about six times as much for a year of
// 48 services (about 18 000 rows, 30 parts: 130 ms against 22 ms), so the
// incremental recompute of a year grew with the parts, not with its rows.
func availabilityDaily(value, having string) measureFunc {
	return single(func(q *measureQuery) error {
		ps := periodExpr(q.req.Kind, "day")
		q.selectHead(ps, probeCols, value)
		q.add(" FROM (SELECT svc, day, vn AS n, vinm AS inm, vokn AS okn, vdur AS dur_sum FROM (SELECT service AS svc, day,"+
			" argMax(n, version) AS vn, argMax(inm, version) AS vinm, argMax(okn, version) AS vokn, argMax(dur_sum, version) AS vdur"+
			" FROM probe_daily WHERE tenant = ?", q.tenant)
		if !q.req.From.IsZero() {
			q.add(" AND day >= toDate(?)", dateArg(strategy.PeriodOf(q.req.Kind, q.req.From).Start()))
		}
		if !q.req.To.IsZero() {
			q.add(" AND day < toDate(?)", dateArg(strategy.PeriodOf(q.req.Kind, q.req.To).End()))
		}
		q.add(" GROUP BY service, day)) WHERE 1")
		q.filter("service", "svc")
		q.periodRange(ps)
		q.groupTail(having)
		return nil
	})
}

// measureSettings let a measure's GROUP BY over millions of raw keys
// spill to disk instead of failing at the server's memory limit.
var measureSettings = ch.Settings{
	"max_bytes_before_external_group_by": 1 << 30,
	"max_bytes_before_external_sort":     1 << 30,
}

// runMeasure runs a built query; every row is (period start, dimension
// kind, dimension value, value).
func (s *Store) runMeasure(ctx context.Context, q *measureQuery) ([]strategy.Observation, error) {
	rows, err := s.conn.Query(ch.Context(ctx, ch.WithSettings(measureSettings)), q.sql.String(), q.args...)
	if err != nil {
		return nil, fmt.Errorf("computing measure %s: %w", q.req.Name, err)
	}
	defer rows.Close()
	var out []strategy.Observation
	for rows.Next() {
		var (
			start  time.Time
			dk, dv string
			v      float64
		)
		if err := rows.Scan(&start, &dk, &dv, &v); err != nil {
			return nil, fmt.Errorf("computing measure %s: %w", q.req.Name, err)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		out = append(out, strategy.Observation{
			Tenant:    q.tenant,
			Period:    strategy.PeriodOf(q.req.Kind, dateFromColumn(start)),
			Dimension: strategy.Dimension{Kind: dk, Value: dv},
			Value:     v,
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("computing measure %s: %w", q.req.Name, err)
	}
	return out, nil
}

// eservicesChanges computes eservices_added / eservices_retired: it reads
// the snapshot dates, pairs each period's last snapshot with the last one
// before the period, and counts in ClickHouse the services for which cond
// holds between the two (cur and prv: active in the period's and in the
// earlier snapshot).
func eservicesChanges(cond string) measureFunc {
	return func(ctx context.Context, s *Store, q *measureQuery) ([]strategy.Observation, error) {
		return s.eservicesChanges(ctx, q, cond)
	}
}

func (s *Store) eservicesChanges(ctx context.Context, mq *measureQuery, cond string) ([]strategy.Observation, error) {
	name, kind := mq.req.Name, mq.req.Kind
	rows, err := s.conn.Query(ctx, "SELECT DISTINCT snapshot FROM eservice_snapshots WHERE tenant = ? ORDER BY snapshot", mq.tenant)
	if err != nil {
		return nil, fmt.Errorf("measure %s: reading snapshot dates: %w", name, err)
	}
	var snaps []time.Time
	for rows.Next() {
		var d time.Time
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return nil, fmt.Errorf("measure %s: reading snapshot dates: %w", name, err)
		}
		snaps = append(snaps, dateFromColumn(d))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("measure %s: reading snapshot dates: %w", name, err)
	}
	type pair struct {
		period     strategy.Period
		last, prev time.Time
	}
	var pairs []pair
	for i, d := range snaps {
		p := strategy.PeriodOf(kind, d)
		if i+1 < len(snaps) && p.Contains(snaps[i+1]) {
			continue // not the period's last snapshot
		}
		var prev time.Time
		for j := i; j >= 0; j-- {
			if snaps[j].Before(p.Start()) {
				prev = snaps[j]
				break
			}
		}
		if prev.IsZero() {
			continue // nothing to compare with
		}
		if !mq.req.From.IsZero() && p.Before(strategy.PeriodOf(kind, mq.req.From)) {
			continue
		}
		if !mq.req.To.IsZero() && strategy.PeriodOf(kind, mq.req.To).Before(p) {
			continue
		}
		pairs = append(pairs, pair{p, d, prev})
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	lasts, prevs := make([]string, len(pairs)), make([]string, len(pairs))
	for i, p := range pairs {
		lasts[i], prevs[i] = dateArg(p.last), dateArg(p.prev)
	}
	mq.add("SELECT idx, toFloat64(countIf(" + cond + ")) FROM (")
	mq.add("SELECT arrayMap(x -> toDate(x), ?) AS lasts, arrayMap(x -> toDate(x), ?) AS prevs,", lasts, prevs)
	mq.add(" arrayJoin(arrayFilter(i -> lasts[i] = snap OR prevs[i] = snap, arrayEnumerate(lasts))) AS idx, sid,")
	mq.add(" maxIf(act, snap = lasts[idx]) AS cur, maxIf(act, snap = prevs[idx]) AS prv FROM ")
	mq.eservicesDedup()
	mq.add(" WHERE (has(lasts, snap) OR has(prevs, snap))")
	mq.filter("category", "cat")
	mq.filter("department", "dep")
	mq.add(" GROUP BY idx, sid) GROUP BY idx")
	counts := make([]float64, len(pairs))
	rows, err = s.conn.Query(ctx, mq.sql.String(), mq.args...)
	if err != nil {
		return nil, fmt.Errorf("computing measure %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var idx uint32
		var n float64
		if err := rows.Scan(&idx, &n); err != nil {
			return nil, fmt.Errorf("computing measure %s: %w", name, err)
		}
		if idx >= 1 && int(idx) <= len(counts) {
			counts[idx-1] = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("computing measure %s: %w", name, err)
	}
	out := make([]strategy.Observation, len(pairs))
	for i, p := range pairs {
		out[i] = strategy.Observation{Tenant: mq.tenant, Period: p.period, Value: counts[i]}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Period.Before(out[j].Period) })
	return out, nil
}
