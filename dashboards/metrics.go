package dashboards

import (
	"net"
	"net/http"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/malbild/malbild/progress"
)

var (
	indicatorValueDesc = prometheus.NewDesc("malbild_indicator_value",
		"Latest value of each indicator (total), in the indicator's unit.", []string{"tenant", "indicator"}, nil)
	indicatorStatusDesc = prometheus.NewDesc("malbild_indicator_status",
		"Status of each indicator: 1 for its current status, 0 for the others.", []string{"tenant", "indicator", "status"}, nil)
)

// indicatorCollector exports every indicator's latest value and status
// from the current snapshots. Internal indicators are exported only to
// requests that may see internal data.
type indicatorCollector struct {
	s        *Server
	r        *http.Request
	internal bool
}

func (c indicatorCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- indicatorValueDesc
	ch <- indicatorStatusDesc
}

func (c indicatorCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.s.strategies() {
		snap := c.s.data(c.r.Context(), st)
		rep := snap.eval.report(c.internal)
		tenant := st.Municipality.Code
		for _, ir := range rep.Indicators {
			if l := ir.Progress.Latest; l != nil {
				ch <- prometheus.MustNewConstMetric(indicatorValueDesc, prometheus.GaugeValue, l.Value, tenant, ir.ID)
			}
			for _, s := range progress.Statuses {
				v := 0.0
				if ir.Status.Status == s {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(indicatorStatusDesc, prometheus.GaugeValue, v, tenant, ir.ID, s.Key())
			}
		}
	}
}

// serveMetrics answers /metrics: what the Gatherer holds (HTTP metrics,
// collector metrics registered elsewhere) and the indicator gauges; 403
// to a client outside Options.MetricsAllow.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if !s.metricsAllowed(r) {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "403 forbidden: /metrics is not open to this address", http.StatusForbidden)
		return
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(indicatorCollector{s: s, r: r, internal: s.internal(r)})
	promhttp.HandlerFor(prometheus.Gatherers{s.gatherer, reg}, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// MetricsHandler serves /metrics alone (404 for every other path), for an
// address of its own; see Options.MetricsApart. It carries the same
// security headers and the same allow-list as Handler.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	s.handle(mux, "GET /metrics", "metrics", s.serveMetrics)
	mux.Handle("/", http.NotFoundHandler())
	return securityHeaders(mux)
}

// metricsAllowed reports whether r's client may read /metrics.
func (s *Server) metricsAllowed(r *http.Request) bool {
	if len(s.opts.MetricsAllow) == 0 {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.WithZone("").Unmap()
	for _, p := range s.opts.MetricsAllow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
