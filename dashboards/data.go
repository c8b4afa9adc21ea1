package dashboards

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/progress"
	"github.com/malbild/malbild/strategy"
)

// tenantState holds the current snapshot of one municipality and guards
// its refresh.
type tenantState struct {
	refresh sync.Mutex // held while the store is asked

	mu      sync.Mutex
	snap    *snapshot
	checked time.Time // last time the data version was asked for
	changed bool      // written by this process since (Server.Changed)
}

// snapshot is everything the pages of one municipality show, read from
// the store at one data version and evaluated by the engine. It is never
// changed once built; the caches hang off it, so they go when it goes.
type snapshot struct {
	strat   *strategy.Strategy
	version uint64
	loaded  time.Time // when the data was read
	stale   bool      // the store did not answer the last time it was asked
	raw     *rawData
	eval    *evaluation

	mu    sync.Mutex
	pages map[pageKey]*cachedBody // rendered pages and API answers by key
	size  int                     // bytes in pages
}

// cached is one answer as a page builds it.
type cached struct {
	status int
	ctype  string
	body   []byte
}

// cachedBody is a cached answer with its compressed forms.
type cachedBody struct {
	headers answerHeaders
	*body
}

// reevaluateAfter is how long an evaluation is used while the data does
// not change.
const reevaluateAfter = 10 * time.Minute

// maxCached and maxCachedBytes bound the answers cached per snapshot
// (keys include query values, which come from outside).
const (
	maxCached      = 2000
	maxCachedBytes = 64 << 20
)

// pageKey names a cached answer: the request's tenant prefix, path and
// language, whether it may see internal data (the menu differs for staff),
// and what else the page depends on. A struct, so a warm request builds
// no string to look its answer up.
type pageKey struct {
	base, path, lang string
	internal         bool
	key              string
}

func (sn *snapshot) get(key pageKey) *cachedBody {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	return sn.pages[key]
}

// put caches c under key and returns the entry to answer from: the one
// already there when another request got first.
func (sn *snapshot) put(key pageKey, c cached) *cachedBody {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if e := sn.pages[key]; e != nil {
		return e
	}
	e := &cachedBody{headers: newAnswerHeaders(c.ctype, "no-cache"), body: newBody(c.body, pageQuality)}
	if sn.pages == nil {
		sn.pages = map[pageKey]*cachedBody{}
	}
	if len(sn.pages) >= maxCached || sn.size+len(c.body) > maxCachedBytes {
		return e
	}
	sn.pages[key] = e
	sn.size += len(c.body)
	return e
}

func (s *Server) tenantState(code string) *tenantState {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.tenants[code]
	if ts == nil {
		ts = &tenantState{}
		s.tenants[code] = ts
	}
	return ts
}

// data returns the snapshot for strategy st, refreshing it first when
// the refresh interval has passed and the store's data version (or the
// strategy) changed. While another request refreshes, the current
// snapshot is returned at once. When the store does not answer, the last
// good data is returned marked stale; the next check after the interval
// tries again.
func (s *Server) data(ctx context.Context, st *strategy.Strategy) *snapshot {
	ts := s.tenantState(st.Municipality.Code)
	ts.mu.Lock()
	cur, checked, changed := ts.snap, ts.checked, ts.changed
	ts.mu.Unlock()
	fresh := cur != nil && cur.strat == st && !changed && s.opts.Clock().Sub(checked) < s.opts.RefreshInterval
	if fresh {
		return cur
	}
	if cur != nil && cur.strat == st {
		if !ts.refresh.TryLock() {
			return cur // someone else is refreshing
		}
	} else {
		ts.refresh.Lock()
	}
	defer ts.refresh.Unlock()
	ts.mu.Lock()
	cur, checked, changed = ts.snap, ts.checked, ts.changed
	if cur != nil && cur.strat == st && !changed && s.opts.Clock().Sub(checked) < s.opts.RefreshInterval {
		ts.mu.Unlock()
		return cur // refreshed while we waited
	}
	// A write announced from here on is after what this refresh reads,
	// and asks for the next one.
	ts.changed = false
	ts.mu.Unlock()
	next := s.refresh(ctx, st, cur)
	ts.mu.Lock()
	ts.snap, ts.checked = next, s.opts.Clock()
	ts.mu.Unlock()
	return next
}

// refresh builds the next snapshot from cur (which may be nil).
func (s *Server) refresh(ctx context.Context, st *strategy.Strategy, cur *snapshot) *snapshot {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.QueryTimeout)
	defer cancel()
	tenant := st.Municipality.Code
	version, err := s.opts.Store.DataVersion(ctx, tenant)
	if err == nil && cur != nil && cur.strat == st && !cur.stale && cur.version == version {
		// Same data; statuses still age (staleness, the open period), so
		// evaluate again now and then.
		if s.opts.Now().Sub(cur.eval.evaluated) < reevaluateAfter {
			return cur
		}
		next := &snapshot{strat: st, version: cur.version, loaded: cur.loaded, raw: cur.raw}
		next.eval = s.evaluate(st, cur.raw)
		return next
	}
	var raw *rawData
	if err == nil {
		raw, err = s.load(ctx, st)
	}
	if err != nil {
		s.log.Warn("dashboards: reading from the store failed; serving the last good data", "tenant", tenant, "err", err)
		if cur != nil && cur.stale && cur.strat == st {
			return cur
		}
		next := &snapshot{strat: st, stale: true, raw: &rawData{}}
		if cur != nil {
			next.version, next.loaded, next.raw = cur.version, cur.loaded, cur.raw
		}
		next.eval = s.evaluate(st, next.raw)
		return next
	}
	if cur != nil && cur.stale {
		s.log.Info("dashboards: the store answers again", "tenant", tenant)
	}
	next := &snapshot{strat: st, version: version, loaded: time.Now(), raw: raw}
	next.eval = s.evaluate(st, raw)
	return next
}

// rawData is what was read from the store for one municipality.
type rawData struct {
	// obs holds every observation (totals and break-downs) by indicator
	// id, the one key every value of an indicator is stored under
	// (collected, entered or uploaded; see clickhouse.MoveSeriesValues),
	// and by series name for the surveys maturity dimensions name.
	obs map[string][]strategy.Observation
	// latest is the latest revision of every assessment, confirmed the
	// latest confirmed revision (a draft written after it does not hide it).
	latest, confirmed []strategy.Assessment
	collectors        []clickhouse.CollectorStatus
	services          []clickhouse.ServiceStatus
	benchmarks        []facts.BenchmarkValue
	// bodyReports are the responsible bodies' reports by goal, body and
	// period; activities the activity updates by activity id.
	bodyReports map[bodyKey]*clickhouse.BodyReport
	activities  map[string][]clickhouse.ActivityUpdate
	// updated is the latest Recorded time per indicator.
	updated map[string]time.Time
}

// bodyKey finds a responsible body's report of a goal for a period.
type bodyKey struct {
	goal, body string
	period     strategy.Period
}

// continueHistory makes the values of the previous plan's indicator that
// an indicator continues (Indicator.Continues) the older part of its
// series: each old value for a period and dimension the indicator has no
// value of itself joins it under the new id, in period order.
func continueHistory(st *strategy.Strategy, obs map[string][]strategy.Observation) {
	type key struct {
		p strategy.Period
		d strategy.Dimension
	}
	for _, ind := range st.Indicators() {
		if ind.Continues == "" || ind.Continues == ind.ID {
			continue
		}
		have := map[key]bool{}
		for _, o := range obs[ind.ID] {
			have[key{o.Period, o.Dimension}] = true
		}
		cur := obs[ind.ID]
		for _, o := range obs[ind.Continues] {
			if !have[key{o.Period, o.Dimension}] {
				o.Indicator = ind.ID
				cur = append(cur, o)
			}
		}
		slices.SortStableFunc(cur, func(a, b strategy.Observation) int { return a.Period.Start().Compare(b.Period.Start()) })
		obs[ind.ID] = cur
	}
}

// load reads everything the pages of st show.
func (s *Server) load(ctx context.Context, st *strategy.Strategy) (*rawData, error) {
	tenant := st.Municipality.Code
	raw := &rawData{obs: map[string][]strategy.Observation{}, updated: map[string]time.Time{}}
	obs, err := s.opts.Store.Observations(ctx, clickhouse.ObservationFilter{Tenant: tenant, Dimensions: true})
	if err != nil {
		return nil, err
	}
	for _, o := range obs {
		raw.obs[o.Indicator] = append(raw.obs[o.Indicator], o)
	}
	continueHistory(st, raw.obs)
	for _, ind := range st.Indicators() {
		for _, o := range raw.obs[ind.ID] {
			if o.Recorded.After(raw.updated[ind.ID]) {
				raw.updated[ind.ID] = o.Recorded
			}
		}
	}
	if raw.latest, err = s.opts.Store.Assessments(ctx, clickhouse.AssessmentFilter{Tenant: tenant}); err != nil {
		return nil, err
	}
	if raw.confirmed, err = s.opts.Store.Assessments(ctx, clickhouse.AssessmentFilter{Tenant: tenant, ConfirmedOnly: true}); err != nil {
		return nil, err
	}
	if raw.collectors, err = s.opts.Store.CollectorStatus(ctx, tenant); err != nil {
		return nil, err
	}
	if raw.services, err = s.opts.Store.ServiceStatus(ctx, tenant); err != nil {
		return nil, err
	}
	rs, err := s.opts.Store.BodyReports(ctx, tenant)
	if err != nil {
		return nil, err
	}
	raw.bodyReports = make(map[bodyKey]*clickhouse.BodyReport, len(rs))
	for i := range rs {
		raw.bodyReports[bodyKey{rs[i].Goal, rs[i].Body, rs[i].Period}] = &rs[i]
	}
	us, err := s.opts.Store.ActivityUpdates(ctx, tenant)
	if err != nil {
		return nil, err
	}
	raw.activities = map[string][]clickhouse.ActivityUpdate{}
	for _, u := range us {
		raw.activities[u.Activity] = append(raw.activities[u.Activity], u)
	}
	var kpis []string
	for _, ind := range st.Indicators() {
		if ind.Source.Kolada != "" {
			kpis = append(kpis, ind.Source.Kolada)
		}
	}
	if len(kpis) > 0 {
		if raw.benchmarks, err = s.opts.Store.Benchmarks(ctx, tenant, kpis); err != nil {
			return nil, err
		}
	}
	return raw, nil
}

// evaluation is the engine's view of one snapshot: the whole strategy for
// signed-in staff, and the public part alone for everybody else. The
// public report sees only public goals and indicators and only confirmed
// assessments, so nothing internal can reach a public page through it.
type evaluation struct {
	full      *progress.Report
	public    *progress.Report
	pubStrat  *strategy.Strategy
	evaluated time.Time
}

func (s *Server) evaluate(st *strategy.Strategy, raw *rawData) *evaluation {
	now := s.opts.Now()
	pub := publicStrategy(st)
	all := append(append([]strategy.Assessment(nil), raw.latest...), raw.confirmed...)
	return &evaluation{
		full:      progress.Evaluate(st, raw.obs, all, now),
		public:    progress.Evaluate(pub, raw.obs, raw.confirmed, now),
		pubStrat:  pub,
		evaluated: now,
	}
}

// report is the report a request may see.
func (e *evaluation) report(internal bool) *progress.Report {
	if internal {
		return e.full
	}
	return e.public
}

// publicStrategy is a copy of st with only the public goals, and of those
// only the public indicators; goal areas without public goals are left
// out. Programmes (budgets) are internal.
func publicStrategy(st *strategy.Strategy) *strategy.Strategy {
	c := *st
	c.Areas = nil
	c.Programmes = nil
	for _, a := range st.Areas {
		ac := *a
		ac.Goals = nil
		for _, g := range a.Goals {
			if !g.Public {
				continue
			}
			gc := *g
			gc.Indicators = nil
			for _, ind := range g.Indicators {
				if ind.Public {
					gc.Indicators = append(gc.Indicators, ind)
				}
			}
			ac.Goals = append(ac.Goals, &gc)
		}
		if len(ac.Goals) > 0 {
			c.Areas = append(c.Areas, &ac)
		}
	}
	return &c
}

// isPublic reports whether indicator id of st may be shown to everybody:
// it and its goal are public.
func isPublic(st *strategy.Strategy, ind *strategy.Indicator) bool {
	if ind == nil || !ind.Public {
		return false
	}
	g := st.GoalOf(ind)
	return g != nil && g.Public
}
