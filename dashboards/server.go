// Package dashboards is Målbild's web server: the public transparency
// page, the leadership view, indicator pages, the follow-up overview, the
// open-data API with its DCAT-AP-SE catalogue, and /metrics.
//
// Pages are rendered on the server with html/template from embedded
// templates; the only scripts are Målbild's own chart script and echarts,
// both served from embedded assets. Every chart has a data table, so the
// pages work without JavaScript. Data comes from precomputed observations
// in the store and is cached in memory until the store's data version
// changes; when the store is unreachable the last good data is served
// with a notice.
package dashboards

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/malbild/malbild/strategy"
)

// Contact is where the public reports accessibility problems and asks
// about the data.
type Contact struct {
	Name  string // e.g. "Kommunens kontaktcenter"
	Email string
	Phone string
	URL   string // a contact form
}

// Options configure a Server.
type Options struct {
	// Store is where observations, assessments and statuses are read.
	Store Store
	// Strategies returns the strategies in force; the set may change
	// between calls (hot reload). One strategy per municipality.
	Strategies func() []*strategy.Strategy
	Logger     *slog.Logger
	// Registerer receives the HTTP request metrics; Gatherer is what
	// /metrics serves (so collector metrics registered elsewhere show up).
	// Both default to a registry of the server's own.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Demo puts a "Demodata" banner on every page.
	Demo bool
	// Contact is named in the accessibility statement and the footer.
	Contact Contact
	// BaseURL is the public address of the server (https://mal.kommun.se),
	// used for absolute links in the DCAT catalogue. Empty: taken from
	// the request.
	BaseURL string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Authorizer tells whether a request may see internal goals,
	// indicators and pages. Nil: nobody may, unless OpenInternal is set.
	Authorizer func(r *http.Request) (user string, ok bool)
	// SignedIn names the user signed in on r ("" for nobody); with it set,
	// pages offer a sign-in link to those who are not.
	SignedIn func(r *http.Request) string
	// OpenInternal lets everybody see internal pages when no Authorizer is
	// set (a closed intranet installation, or the demo). The default is
	// closed: internal pages answer 401.
	OpenInternal bool
	// RefreshInterval is how often the store's data version is checked
	// (default 5s); QueryTimeout bounds each store call (default 10s).
	RefreshInterval time.Duration
	// Clock measures the refresh interval (default time.Now). Now is the
	// calendar the statuses are evaluated at; tests pin Now and step Clock.
	Clock        func() time.Time
	QueryTimeout time.Duration
	// Accessibility describes the accessibility status for the statement
	// page; the zero value is a sensible statement for Målbild itself.
	Accessibility Accessibility
	// MetricsApart takes /metrics off Handler, where it then answers 404
	// like any unknown path: serve MetricsHandler on an address of its own.
	MetricsApart bool
	// MetricsAllow, when not empty, answers /metrics only to clients whose
	// address is in one of these prefixes; others get 403. The address is
	// the TCP peer's, never a forwarded header: behind a reverse proxy it
	// is the proxy's, so use MetricsApart there.
	MetricsAllow []netip.Prefix
}

// Accessibility is what the accessibility statement says beyond the
// defaults.
type Accessibility struct {
	// Assessed is when the site was last assessed (default: the build's
	// own automatic checks, no date).
	Assessed time.Time
	// KnownIssues lists known shortcomings, one per entry, in Swedish.
	KnownIssues []string
}

// Server serves the dashboards.
type Server struct {
	opts     Options
	log      *slog.Logger
	assets   *assets
	pages    map[string]*template.Template
	handler  http.Handler
	inner    *http.ServeMux // tenant-scoped routes
	global   *http.ServeMux // routes above the tenants when there are several
	gatherer prometheus.Gatherer

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	mu      sync.Mutex
	tenants map[string]*tenantState // by kommunkod

	notReady atomic.Bool          // the last /-/ready found the store down
	site     atomic.Pointer[site] // set by ApplySite; nil: Options.BaseURL and Contact
}

// New checks the options, parses the templates and builds the routes.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("dashboards: Options.Store is required")
	}
	if o.Strategies == nil {
		return nil, errors.New("dashboards: Options.Strategies is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = 5 * time.Second
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = 10 * time.Second
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.Registerer == nil {
		reg := prometheus.NewRegistry()
		o.Registerer = reg
		if o.Gatherer == nil {
			o.Gatherer = reg
		}
	}
	if o.Gatherer == nil {
		if g, ok := o.Registerer.(prometheus.Gatherer); ok {
			o.Gatherer = g
		} else {
			return nil, errors.New("dashboards: Options.Gatherer is required when Registerer is not a registry")
		}
	}
	s := &Server{opts: o, log: o.Logger, tenants: map[string]*tenantState{}, gatherer: o.Gatherer}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.assets.url(echartsAsset) == "" {
		s.log.Warn("dashboards: assets/vendor/echarts.min.js is not embedded; charts will not be drawn (run `make assets` before building)")
	}
	if s.pages, err = parseTemplates(s.templateFuncs()); err != nil {
		return nil, err
	}
	if err := s.registerMetrics(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// routes builds the three muxes: the outer one for assets and operations,
// the tenant-scoped one, and the global one for several municipalities.
func (s *Server) routes() {
	outer := http.NewServeMux()
	s.handle(outer, "GET /assets/", "assets", s.assets.serve)
	if !s.opts.MetricsApart {
		s.handle(outer, "GET /metrics", "metrics", s.serveMetrics)
	}
	s.handle(outer, "GET /favicon.ico", "favicon", s.serveFavicon)
	s.handle(outer, "GET /-/healthy", "healthy", s.serveHealthy)
	s.handle(outer, "GET /-/ready", "ready", s.serveReady)
	outer.HandleFunc("/", s.dispatch)

	in := http.NewServeMux()
	s.handle(in, "GET /{$}", "public", s.servePublic)
	s.handle(in, "GET /ledning", "leadership", s.serveLeadership)
	s.handle(in, "GET /indikator/{id}", "indicator", s.serveIndicator)
	s.handle(in, "GET /uppfoljning", "followup", s.serveFollowup)
	s.handle(in, "GET /program", "programmes", s.serveProgrammes)
	s.handle(in, "GET /program/{id}", "programme", s.serveProgramme)
	s.handle(in, "GET /kf-mal", "upper_goals", s.serveUpperGoals)
	s.handle(in, "GET /kf-mal/{id}", "upper_goal", s.serveUpperGoal)
	s.handle(in, "GET /tillganglighet", "accessibility", s.serveAccessibility)
	s.handle(in, "GET /api/v1/{$}", "api_index", s.serveAPIIndex)
	s.handle(in, "GET /api/v1/strategy", "api_strategy", s.serveAPIStrategy)
	s.handle(in, "GET /api/v1/indicators", "api_indicators", s.serveAPIIndicators)
	s.handle(in, "GET /api/v1/indicators/{id}", "api_indicator", s.serveAPIIndicator)
	s.handle(in, "GET /api/v1/observations", "api_observations", s.serveAPIObservations)
	s.handle(in, "GET /api/v1/observations.csv", "api_observations_csv", s.serveAPIObservationsCSV)
	s.handle(in, "GET /api/v1/statuses", "api_statuses", s.serveAPIStatuses)
	s.handle(in, "GET /api/v1/forecasts", "api_forecasts", s.serveAPIForecasts)
	s.handle(in, "GET /api/v1/dcat", "api_dcat", s.serveDCAT)
	s.handle(in, "/", "not_found", s.serveNotFound)
	s.inner = in

	gl := http.NewServeMux()
	s.handle(gl, "GET /{$}", "tenants", s.serveTenants)
	s.handle(gl, "GET /tillganglighet", "accessibility", s.serveAccessibility)
	s.handle(gl, "GET /api/v1/{$}", "api_index", s.serveAPIIndex)
	s.handle(gl, "GET /api/v1/dcat", "api_dcat", s.serveDCAT)
	s.global = gl

	s.handler = securityHeaders(outer)
}

// handle registers h under pattern, counted and timed as name.
func (s *Server) handle(mux *http.ServeMux, pattern, name string, h http.HandlerFunc) {
	mux.Handle(pattern, newInstrumented(h, name, s.requests, s.duration))
}

// registerMetrics creates the HTTP metrics on the Registerer, reusing
// them if a previous server registered them already.
func (s *Server) registerMetrics() error {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "malbild_http_requests_total",
		Help: "HTTP requests answered by the dashboards, by handler and status code.",
	}, []string{"code", "handler"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "malbild_http_request_duration_seconds",
		Help:    "Time taken to answer dashboard HTTP requests, by handler.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	}, []string{"handler"})
	var err error
	if s.requests, err = registerOrReuse(s.opts.Registerer, requests); err != nil {
		return err
	}
	if s.duration, err = registerOrReuse(s.opts.Registerer, duration); err != nil {
		return err
	}
	return nil
}

func registerOrReuse[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("dashboards: registering metrics: %w", err)
	}
	return c, nil
}

// securityHeaders sets the headers every answer carries: a strict
// Content-Security-Policy (no inline scripts, nothing from other hosts,
// no framing) and nosniff. The values are shared by all requests.
//
// Two headers other servers send are left out on purpose. Framing is
// forbidden by the policy's frame-ancestors, which browsers obey in
// place of X-Frame-Options (they ignore that header when frame-ancestors
// is present). The referrer policy is set where it applies, in each
// page's head (layout.html). A warm page answer so carries eight header
// fields, which net/http's header map holds without growing; with the
// two more a warm page lost 6–8 % of its rate under wrk (issue 13).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Security-Policy"] = cspValue
		h["X-Content-Type-Options"] = nosniffValue
		next.ServeHTTP(w, r)
	})
}

var (
	cspValue = []string{"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"frame-ancestors 'none'; base-uri 'self'; form-action 'self'"}
	nosniffValue = []string{"nosniff"}
)

// request is what a handler knows about the request beyond http.Request.
type request struct {
	strat *strategy.Strategy // nil on global pages
	base  string             // URL prefix of the tenant: "" or "/0120"
	multi bool               // several municipalities are served
	lang  string             // "sv" or "en"
}

type requestKey struct{}

func reqInfo(r *http.Request) *request {
	if q, ok := r.Context().Value(requestKey{}).(*request); ok {
		return q
	}
	return &request{lang: langOf(r)}
}

// langOf reads the language from ?lang=; Swedish unless it says en.
func langOf(r *http.Request) string {
	if r.URL.RawQuery != "" && r.URL.Query().Get("lang") == "en" {
		return "en"
	}
	return "sv"
}

// strategies returns the current strategies, without nils (read only:
// it may be the slice Options.Strategies returned).
func (s *Server) strategies() []*strategy.Strategy {
	all := s.opts.Strategies()
	if !slices.Contains(all, nil) {
		return all
	}
	var out []*strategy.Strategy
	for _, st := range all {
		if st != nil {
			out = append(out, st)
		}
	}
	return out
}

// slug is the first path segment of a municipality's pages.
func slug(st *strategy.Strategy) string {
	if st.Municipality.Slug != "" {
		return st.Municipality.Slug
	}
	return st.Municipality.Code
}

// dispatch sends a request to the pages of its municipality: with one
// municipality the site is its pages; with several each lives under
// /{slug-or-kommunkod}/ and the top level lists them.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	strats := s.strategies()
	q := &request{lang: langOf(r), multi: len(strats) > 1}
	switch len(strats) {
	case 0:
		r = r.WithContext(context.WithValue(r.Context(), requestKey{}, q))
		if h, pat := s.global.Handler(r); pat != "" && r.URL.Path != "/" {
			h.ServeHTTP(w, r)
			return
		}
		s.serveError(w, r, http.StatusServiceUnavailable, "err_no_strategy")
		return
	case 1:
		q.strat = strats[0]
		s.inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestKey{}, q)))
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), requestKey{}, q))
	if h, pat := s.global.Handler(r); pat != "" {
		h.ServeHTTP(w, r)
		return
	}
	seg, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	for _, st := range strats {
		if seg != slug(st) && seg != st.Municipality.Code {
			continue
		}
		if rest == "" && !strings.HasSuffix(r.URL.Path, "/") {
			u := *r.URL
			u.Path += "/"
			http.Redirect(w, r, u.RequestURI(), http.StatusMovedPermanently)
			return
		}
		q.strat, q.base = st, "/"+slug(st)
		r2 := r.Clone(context.WithValue(r.Context(), requestKey{}, q))
		r2.URL.Path = "/" + rest
		r2.URL.RawPath = ""
		s.inner.ServeHTTP(w, r2)
		return
	}
	s.serveNotFound(w, r)
}

// internal reports whether the request may see internal goals,
// indicators and pages.
func (s *Server) internal(r *http.Request) bool {
	if s.opts.Authorizer != nil {
		_, ok := s.opts.Authorizer(r)
		return ok
	}
	return s.opts.OpenInternal
}

// serveFavicon answers the browsers that ask for /favicon.ico whatever
// the page links to, with the site's icon (an SVG, which they take).
func (s *Server) serveFavicon(w http.ResponseWriter, r *http.Request) {
	x := s.assets.byName["favicon.svg"]
	x.body.write(w, r, http.StatusOK, newAnswerHeaders(x.ctype, "public, max-age=86400"))
}

func (s *Server) serveHealthy(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "Målbild is healthy.\n")
}

// serveReady answers 200 when the store answers, 503 while it does not.
// The answer is public, so it says no more than that: why the database
// does not answer (its address, the driver's error) goes to the log, once
// when readiness is lost and again when it is back.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	err := s.opts.Store.Ping(ctx)
	if wasDown := s.notReady.Swap(err != nil); err != nil && !wasDown {
		s.log.Warn("not ready: the database does not answer", "err", err)
	} else if err == nil && wasDown {
		s.log.Info("ready again: the database answers")
	}
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "Målbild is not ready: the database does not answer.\n")
		return
	}
	io.WriteString(w, "Målbild is ready.\n")
}

func (s *Server) serveNotFound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.serveError(w, r, http.StatusNotFound, "err_not_found")
}
