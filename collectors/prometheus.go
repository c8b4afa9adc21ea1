package collectors

import (
	"cmp"
	"context"
	"crypto/x509"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

// prometheusSample is the commented sample configuration of the
// prometheus kind, the same file as examples/collectors/prometheus.yaml.
//
//go:embed samples/prometheus.yaml
var prometheusSample string

const (
	// promMaxPoints is how many samples per series one range query may ask
	// for; Prometheus refuses more than 11 000.
	promMaxPoints = 10000
	promLabelMax  = 200 // runes kept of a label value
)

func init() { Register("prometheus", newPrometheus) }

// prometheusOptions are the options of a prometheus instance.
type prometheusOptions struct {
	Address        string         `yaml:"address"`          // e.g. http://prometheus:9090
	BearerTokenEnv string         `yaml:"bearer_token_env"` // environment variable holding a bearer token
	CAFile         string         `yaml:"ca_file"`
	RequestTimeout durationOption `yaml:"request_timeout"` // per query, default 30s
	Lookback       durationOption `yaml:"lookback"`        // first run / no state, default 7d
	StateDir       string         `yaml:"state_dir"`       // where the last collected time is kept
	Queries        []promQuery    `yaml:"queries"`
}

// promQuery is one PromQL range query and what its samples become.
type promQuery struct {
	Name  string         `yaml:"name"`
	Query string         `yaml:"query"`
	Step  durationOption `yaml:"step"` // default 1m (probes), 1h (series)
	Into  string         `yaml:"into"` // probes or series

	// into: probes
	ServiceLabel  string `yaml:"service_label"`  // default "service"
	URLLabel      string `yaml:"url_label"`      // default "instance"
	DurationQuery string `yaml:"duration_query"` // e.g. probe_duration_seconds{job="eservices"}
	// Maintenance are planned maintenance windows, as http_probe's, written
	// with the probe results for the range collected.
	Maintenance []maintenanceOption `yaml:"maintenance"`
	maint       maintenanceSchedule

	// into: series
	Indicator      string   `yaml:"indicator"`
	Period         string   `yaml:"period"`    // month (default), quarter, tertial, year
	Aggregate      string   `yaml:"aggregate"` // mean (default) or last
	Scale          *float64 `yaml:"scale"`     // multiply values, e.g. 100 for 0–1 → percent
	DimensionLabel string   `yaml:"dimension_label"`
	DimensionKind  string   `yaml:"dimension_kind"` // default: the label name
}

type prometheusCollector struct {
	inst     Instance
	api      v1.API
	timeout  time.Duration
	lookback time.Duration
	state    string // state file, "" for none
	queries  []promQuery
	rt       *promTransport
	now      func() time.Time
}

// promState is what a prometheus instance keeps between runs: per query,
// the end of the last range collected in full.
type promState struct {
	Queries map[string]time.Time `json:"queries"`
}

var (
	queryNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	labelNamePattern = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	indicatorPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)
)

func newPrometheus(inst Instance) (Collector, error) {
	var opts prometheusOptions
	if err := DecodeOptions(inst, &opts); err != nil {
		return nil, err
	}
	root := inst.Options
	u, err := httpURL(opts.Address)
	if err != nil {
		return nil, OptionsError(inst, optionAt(root, "address"), "address: %v", err)
	}
	if opts.BearerTokenEnv != "" && !labelNamePattern.MatchString(opts.BearerTokenEnv) {
		return nil, OptionsError(inst, optionAt(root, "bearer_token_env"), "bearer_token_env must name an environment variable, not hold the token")
	}
	p := &prometheusCollector{
		inst:     inst,
		timeout:  opts.RequestTimeout.or(30 * time.Second),
		lookback: opts.Lookback.or(7 * 24 * time.Hour),
		state:    stateFile(ResolvePath(inst, cmp.Or(opts.StateDir, inst.StateDir)), "prometheus", inst.Name),
		now:      time.Now,
	}
	if p.timeout <= 0 {
		return nil, OptionsError(inst, optionAt(root, "request_timeout"), "request_timeout must be more than 0")
	}
	if p.lookback <= 0 {
		return nil, OptionsError(inst, optionAt(root, "lookback"), "lookback must be more than 0")
	}
	var roots *x509.CertPool
	if opts.CAFile != "" {
		if roots, err = loadCAFile(ResolvePath(inst, opts.CAFile)); err != nil {
			return nil, OptionsError(inst, optionAt(root, "ca_file"), "%v", err)
		}
	}
	p.rt = &promTransport{base: newTransport(roots), tokenEnv: opts.BearerTokenEnv, limit: maxResponseBytes}
	client, err := api.NewClient(api.Config{Address: u.String(), RoundTripper: p.rt})
	if err != nil {
		return nil, OptionsError(inst, optionAt(root, "address"), "address: %v", err)
	}
	p.api = v1.NewAPI(client)

	if len(opts.Queries) == 0 {
		return nil, OptionsError(inst, optionAt(root, "queries"), "no queries (set queries: [{name, query, into}])")
	}
	names := map[string]bool{}
	for i, q := range opts.Queries {
		at := func(key string) *yaml.Node { return optionAt(root, "queries", i, key) }
		if err := checkPromQuery(&q, names); err != nil {
			return nil, OptionsError(inst, at(err.key), "query %d: %s", i+1, err.msg)
		}
		if q.maint, err = parseMaintenance(inst, q.Maintenance, "queries", i, "maintenance"); err != nil {
			return nil, err
		}
		p.queries = append(p.queries, q)
	}
	return p, nil
}

// queryOptionProblem is a problem with one key of an options item.
type queryOptionProblem struct{ key, msg string }

func queryProblem(key, format string, args ...any) *queryOptionProblem {
	return &queryOptionProblem{key, fmt.Sprintf(format, args...)}
}

// checkPromQuery validates q and fills its defaults.
func checkPromQuery(q *promQuery, names map[string]bool) *queryOptionProblem {
	switch {
	case !queryNamePattern.MatchString(q.Name):
		return queryProblem("name", "name %q: use letters, digits, '-', '_' and '.' (at most 64)", q.Name)
	case names[q.Name]:
		return queryProblem("name", "query %q is listed twice", q.Name)
	case strings.TrimSpace(q.Query) == "":
		return queryProblem("query", "query %q has no PromQL query", q.Name)
	}
	names[q.Name] = true
	if q.Step.Set && q.Step.D < time.Second {
		return queryProblem("step", "step must be at least 1s")
	}
	seriesOnly := q.Indicator != "" || q.Period != "" || q.Aggregate != "" || q.Scale != nil || q.DimensionLabel != "" || q.DimensionKind != ""
	probesOnly := q.ServiceLabel != "" || q.URLLabel != "" || q.DurationQuery != ""
	switch q.Into {
	case "probes":
		if seriesOnly {
			return queryProblem("into", "query %q: indicator, period, aggregate, scale and dimension_* are for into: series", q.Name)
		}
		if q.ServiceLabel == "" {
			q.ServiceLabel = "service"
		}
		if q.URLLabel == "" {
			q.URLLabel = "instance"
		}
		if !labelNamePattern.MatchString(q.ServiceLabel) {
			return queryProblem("service_label", "service_label %q is not a Prometheus label name", q.ServiceLabel)
		}
		if !labelNamePattern.MatchString(q.URLLabel) {
			return queryProblem("url_label", "url_label %q is not a Prometheus label name", q.URLLabel)
		}
		q.Step.D = q.Step.or(time.Minute)
	case "series":
		if probesOnly {
			return queryProblem("into", "query %q: service_label, url_label and duration_query are for into: probes", q.Name)
		}
		if len(q.Maintenance) > 0 {
			return queryProblem("maintenance", "query %q: maintenance windows are for into: probes", q.Name)
		}
		if !indicatorPattern.MatchString(q.Indicator) {
			return queryProblem("indicator", "query %q: into: series needs an indicator id", q.Name)
		}
		if q.Period == "" {
			q.Period = string(strategy.Month)
		}
		if !strategy.PeriodKind(q.Period).Valid() {
			return queryProblem("period", "period %q: want month, quarter, tertial or year", q.Period)
		}
		switch q.Aggregate {
		case "":
			q.Aggregate = "mean"
		case "mean", "last":
		default:
			return queryProblem("aggregate", "aggregate %q: want mean or last", q.Aggregate)
		}
		if q.Scale == nil {
			one := 1.0
			q.Scale = &one
		}
		if *q.Scale == 0 || math.IsNaN(*q.Scale) || math.IsInf(*q.Scale, 0) {
			return queryProblem("scale", "scale must be a non-zero number")
		}
		if q.DimensionLabel != "" && !labelNamePattern.MatchString(q.DimensionLabel) {
			return queryProblem("dimension_label", "dimension_label %q is not a Prometheus label name", q.DimensionLabel)
		}
		if q.DimensionKind != "" && q.DimensionLabel == "" {
			return queryProblem("dimension_kind", "dimension_kind needs dimension_label")
		}
		if q.DimensionKind == "" {
			q.DimensionKind = q.DimensionLabel
		}
		if hasControl(q.DimensionKind) || len(q.DimensionKind) > 64 {
			return queryProblem("dimension_kind", "dimension_kind must be plain text of at most 64 bytes")
		}
		q.Step.D = q.Step.or(time.Hour)
	default:
		return queryProblem("into", "query %q: into must be probes or series, not %q", q.Name, q.Into)
	}
	q.Step.Set = true
	return nil
}

// Collect runs every query over its range: Request.From/To for a
// backfill, else from the end of the last successful run (or lookback
// ago) until now. A failed query does not stop the others; its range is
// asked again next time.
func (p *prometheusCollector) Collect(ctx context.Context, req Request, out Sink) error {
	now := p.now()
	st := promState{Queries: map[string]time.Time{}}
	if _, err := loadState(p.state, &st); err != nil {
		return fmt.Errorf("prometheus %s: %w", p.inst.Name, err)
	}
	if st.Queries == nil {
		st.Queries = map[string]time.Time{}
	}
	backfill := !req.From.IsZero() || !req.To.IsZero()
	var errs []error
	changed := false
	for _, q := range p.queries {
		from, to := p.rangeFor(q, req, st, now)
		if !to.After(from) {
			continue
		}
		if err := p.collectQuery(ctx, req, q, from, to, now, out); err != nil {
			errs = append(errs, fmt.Errorf("prometheus %s: query %q: %w", p.inst.Name, q.Name, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if !backfill {
			st.Queries[q.Name] = to
			changed = true
		}
	}
	if changed {
		if err := saveState(p.state, st); err != nil {
			errs = append(errs, fmt.Errorf("prometheus %s: %w", p.inst.Name, err))
		}
	}
	return errors.Join(errs...)
}

// rangeFor is the range a run asks q for, aligned to q's step (so samples
// fall on the same instants run after run) and, for series, widened to
// whole periods (so a period's value is always computed from all of it).
func (p *prometheusCollector) rangeFor(q promQuery, req Request, st promState, now time.Time) (time.Time, time.Time) {
	to := now
	var from time.Time
	switch {
	case !req.From.IsZero() || !req.To.IsZero():
		if !req.To.IsZero() && req.To.Before(now) {
			to = req.To
		}
		from = req.From
		if from.IsZero() {
			from = to.Add(-p.lookback)
		}
	default:
		from = now.Add(-p.lookback)
		if last, ok := st.Queries[q.Name]; ok && last.Before(now) {
			from = last
		}
	}
	step := q.Step.D
	if q.Into == "series" {
		// Start at the first step in the period, never before it: a sample
		// of the previous period would overwrite its value with a part.
		start := strategy.PeriodOf(strategy.PeriodKind(q.Period), from).Start()
		from = alignDown(start, step)
		if from.Before(start) {
			from = from.Add(step)
		}
		return from, alignDown(to, step)
	}
	return alignDown(from, step), alignDown(to, step)
}

// alignDown rounds t down to a multiple of step since the Unix epoch.
func alignDown(t time.Time, step time.Duration) time.Time {
	s := int64(step / time.Second)
	if s <= 0 {
		return t
	}
	u := t.Unix()
	u -= ((u % s) + s) % s
	return time.Unix(u, 0).UTC()
}

// collectQuery asks q for [from, to] in chunks Prometheus accepts. Probe
// results are written chunk by chunk, each with the maintenance windows
// that start in its part of the range (or, for the first, are open at its
// start); series samples are gathered over the whole range, then
// aggregated into periods and written as one batch.
func (p *prometheusCollector) collectQuery(ctx context.Context, req Request, q promQuery, from, to, now time.Time, out Sink) error {
	step := q.Step.D
	span := step * (promMaxPoints - 1)
	agg := newPeriodAggregator(q)
	windows := q.maint.over(from, to)
	for start := from; !start.After(to); start = start.Add(span + step) {
		end := start.Add(span)
		if end.After(to) {
			end = to
		}
		r := v1.Range{Start: start, End: end, Step: step}
		m, err := p.queryRange(ctx, q.Query, r)
		if err != nil {
			return err
		}
		if req.Progress != nil {
			req.Progress.File(fmt.Sprintf("%s %s…%s", q.Name, start.Format(time.RFC3339), end.Format(time.RFC3339)))
		}
		if q.Into == "series" {
			if err := agg.add(m); err != nil {
				return err
			}
			continue
		}
		var durations model.Matrix
		if q.DurationQuery != "" {
			if durations, err = p.queryRange(ctx, q.DurationQuery, r); err != nil {
				return fmt.Errorf("duration_query: %w", err)
			}
		}
		probes, err := matrixToProbes(q, m, durations)
		if err != nil {
			return err
		}
		b := &facts.Batch{
			Tenant: tenantOf(req, p.inst), Collector: p.inst.Name, Source: "prometheus/" + q.Name,
			Version: batchVersion(now), Probes: probes,
			Maintenance: windowsFrom(windows, from, start, start.Add(span+step)),
		}
		if b.Rows() == 0 {
			continue
		}
		if err := out.Write(ctx, b); err != nil {
			return fmt.Errorf("writing: %w", err)
		}
		if req.Progress != nil {
			req.Progress.Rows(b.Rows())
		}
	}
	if q.Into != "series" {
		return nil
	}
	obs := agg.observations(tenantOf(req, p.inst), "prometheus/"+q.Name, batchVersion(now), now)
	if len(obs) == 0 {
		return nil
	}
	hint := ""
	if *q.Scale == 1 {
		hint = " (values from 0 to 1 need scale: 100)"
	}
	if err := checkObservations(req, obs, hint); err != nil {
		return err
	}
	b := &facts.Batch{
		Tenant: tenantOf(req, p.inst), Collector: p.inst.Name, Source: "prometheus/" + q.Name,
		Version: batchVersion(now), Observations: obs,
	}
	if err := out.Write(ctx, b); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	if req.Progress != nil {
		req.Progress.Rows(len(obs))
	}
	return nil
}

// windowsFrom returns the windows of ws that belong to the chunk
// [start, next) of a range beginning at from: those starting in it, or,
// when they started before from, the first chunk's. Each window of a
// range so goes out with exactly one chunk.
func windowsFrom(ws []facts.MaintenanceWindow, from, start, next time.Time) []facts.MaintenanceWindow {
	var out []facts.MaintenanceWindow
	for _, w := range ws {
		at := w.Start
		if at.Before(from) {
			at = from
		}
		if !at.Before(start) && at.Before(next) {
			out = append(out, w)
		}
	}
	return out
}

// queryRange runs one range query with the per-request timeout and
// insists on a matrix answer.
func (p *prometheusCollector) queryRange(ctx context.Context, query string, r v1.Range) (model.Matrix, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	v, _, _, err := p.api.QueryRange(ctx, query, r)
	if err != nil {
		return nil, fmt.Errorf("range query %s…%s: %w", r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339), err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("range query answered a %s, want a matrix", v.Type())
	}
	return m, nil
}

// maxProbeSeconds bounds a response time from a durations query: longer
// than a day is no probe's answer but a wrong query or unit, and would
// overflow a time.Duration well before it means anything.
const maxProbeSeconds = 24 * 60 * 60

// matrixToProbes turns probe_success-like samples into probe results: one
// per sample, ok when the value is at least 0.5. Response times come from
// the durations matrix (seconds), matched by service and instant.
func matrixToProbes(q promQuery, m, durations model.Matrix) ([]facts.ProbeResult, error) {
	type key struct {
		service string
		t       model.Time
	}
	took := map[key]float64{}
	for _, s := range durations {
		svc := cleanText(string(s.Metric[model.LabelName(q.ServiceLabel)]), promLabelMax)
		for _, v := range s.Values {
			d := float64(v.Value)
			if math.IsNaN(d) || math.IsInf(d, 0) {
				continue // no measurement at this instant
			}
			if !(d >= 0 && d <= maxProbeSeconds) {
				return nil, fmt.Errorf("series %s has a response time of %g s at %s; a probe takes 0–%d s",
					cleanText(s.Metric.String(), promLabelMax), d, v.Timestamp.Time().UTC().Format(time.RFC3339), maxProbeSeconds)
			}
			took[key{svc, v.Timestamp}] = d
		}
	}
	var out []facts.ProbeResult
	for _, s := range m {
		svc := cleanText(string(s.Metric[model.LabelName(q.ServiceLabel)]), promLabelMax)
		if svc == "" {
			return nil, fmt.Errorf("series %s has no %q label naming the service", cleanText(s.Metric.String(), promLabelMax), q.ServiceLabel)
		}
		url := cleanText(string(s.Metric[model.LabelName(q.URLLabel)]), 2000)
		for _, v := range s.Values {
			val := float64(v.Value)
			if math.IsNaN(val) || math.IsInf(val, 0) {
				continue
			}
			r := facts.ProbeResult{Service: svc, URL: url, Time: v.Timestamp.Time().UTC(), OK: val >= 0.5}
			if !r.OK {
				r.Error = "down according to Prometheus"
			}
			if d, ok := took[key{svc, v.Timestamp}]; ok {
				r.Duration = time.Duration(d * float64(time.Second))
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// periodAggregator gathers samples of a series query per dimension and
// period.
type periodAggregator struct {
	q    promQuery
	cell map[aggKey]*aggCell
}

type aggKey struct {
	dim    string
	period strategy.Period
}

type aggCell struct {
	sum   float64
	n     int
	lastT model.Time
	last  float64
}

func newPeriodAggregator(q promQuery) *periodAggregator {
	return &periodAggregator{q: q, cell: map[aggKey]*aggCell{}}
}

// add takes one chunk's answer. Without dimension_label the query must
// return a single series (aggregate it in PromQL otherwise).
func (a *periodAggregator) add(m model.Matrix) error {
	if a.q.DimensionLabel == "" && len(m) > 1 {
		return fmt.Errorf("query returned %d series; aggregate them in PromQL (e.g. avg(...)) or set dimension_label", len(m))
	}
	kind := strategy.PeriodKind(a.q.Period)
	for _, s := range m {
		dim := ""
		if a.q.DimensionLabel != "" {
			dim = cleanText(string(s.Metric[model.LabelName(a.q.DimensionLabel)]), promLabelMax)
			if dim == "" {
				return fmt.Errorf("series %s has no %q label for the dimension", cleanText(s.Metric.String(), promLabelMax), a.q.DimensionLabel)
			}
		}
		for _, v := range s.Values {
			val := float64(v.Value)
			if math.IsNaN(val) || math.IsInf(val, 0) {
				continue
			}
			k := aggKey{dim, strategy.PeriodOf(kind, v.Timestamp.Time())}
			if !k.period.Valid() {
				return fmt.Errorf("series %s has a sample at %s, outside any period Målbild can store", cleanText(s.Metric.String(), promLabelMax), v.Timestamp)
			}
			c := a.cell[k]
			if c == nil {
				c = &aggCell{}
				a.cell[k] = c
			}
			c.sum += val
			c.n++
			if c.n == 1 || v.Timestamp >= c.lastT {
				c.lastT, c.last = v.Timestamp, val
			}
		}
	}
	return nil
}

// observations returns one observation per dimension and period, sorted.
func (a *periodAggregator) observations(tenant, source string, version uint64, now time.Time) []strategy.Observation {
	keys := make([]aggKey, 0, len(a.cell))
	for k := range a.cell {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].dim != keys[j].dim {
			return keys[i].dim < keys[j].dim
		}
		return keys[i].period.Before(keys[j].period)
	})
	var obs []strategy.Observation
	for _, k := range keys {
		c := a.cell[k]
		v := c.sum / float64(c.n)
		if a.q.Aggregate == "last" {
			v = c.last
		}
		v *= *a.q.Scale
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		o := strategy.Observation{
			Tenant: tenant, Indicator: a.q.Indicator, Period: k.period, Value: v,
			Source: source, Version: version, Recorded: now,
		}
		if k.dim != "" {
			o.Dimension = strategy.Dimension{Kind: a.q.DimensionKind, Value: k.dim}
		}
		obs = append(obs, o)
	}
	return obs
}

// promTransport adds the bearer token and caps the size of answers.
type promTransport struct {
	base     http.RoundTripper
	tokenEnv string
	limit    int64 // bytes per answer
}

func (t *promTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.tokenEnv != "" {
		tok := strings.TrimSpace(os.Getenv(t.tokenEnv))
		if tok == "" {
			if r.Body != nil {
				r.Body.Close()
			}
			return nil, fmt.Errorf("environment variable %s (bearer_token_env) is empty", t.tokenEnv)
		}
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{body: resp.Body, left: t.limit, limit: t.limit}
	return resp, nil
}
