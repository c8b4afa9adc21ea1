package main

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/malbild/malbild/config"
)

// startCollectMetrics serves the collector role's /metrics (the
// collectors' metrics, Go and process) on metrics.listen, answering only
// the addresses of metrics.allow when it is set, as serve does. It
// returns the registry for the runner and a stop function; without
// metrics.listen it serves nothing and returns a nil registry.
func startCollectMetrics(cfg *config.Config, log *slog.Logger) (prometheus.Registerer, func(), error) {
	if cfg.Metrics.Listen == "" {
		return nil, func() {}, nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(promcollectors.NewGoCollector(), promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}))
	allow := cfg.Metrics.AllowPrefixes()
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if !allowedPeer(r, allow) {
			http.Error(w, "403 forbidden: /metrics is not open to this address", http.StatusForbidden)
			return
		}
		metrics.ServeHTTP(w, r)
	})
	mux.Handle("/", http.NotFoundHandler())
	_, stop, err := startMetricsServer(cfg.Metrics.Listen, mux, log)
	if err != nil {
		return nil, nil, err
	}
	return reg, stop, nil
}

// allowedPeer reports whether r's TCP peer is in one of allow (everybody
// when allow is empty).
func allowedPeer(r *http.Request, allow []netip.Prefix) bool {
	if len(allow) == 0 {
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
	for _, p := range allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
