package collectors

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the collector runs' Prometheus metrics, all labelled with
// the collector instance's name:
//
//   - malbild_collector_last_success_timestamp_seconds (gauge): end of the
//     last run whose rows reached ClickHouse or the spool.
//   - malbild_collector_duration_seconds (histogram): duration of every
//     run, retries included. A histogram rather than a last-run gauge, so
//     that slow runs between two scrapes are not lost and quantiles can be
//     taken over time.
//   - malbild_collector_rows_total (counter): rows handed to the sink,
//     spooled rows included.
//   - malbild_collector_errors_total (counter): failed attempts, so a run
//     that succeeded on its second attempt counts one error.
//
// and, without labels, malbild_collector_spool_batches (gauge): entries
// (batches and run records) waiting in the spool for ClickHouse.
type Metrics struct {
	lastSuccess *prometheus.GaugeVec
	duration    *prometheus.HistogramVec
	rows        *prometheus.CounterVec
	errors      *prometheus.CounterVec
	spooled     prometheus.Gauge
}

// DurationBuckets are the duration histogram's buckets, in seconds: from a
// quick HTTP probe to an hour-long backfill.
var DurationBuckets = []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}

// NewMetrics creates the metrics and registers them with reg (nil: not
// registered). Registering twice with the same registry is an error.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "malbild_collector_last_success_timestamp_seconds",
			Help: "Unix time at which the collector's last successful run ended.",
		}, []string{"collector"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "malbild_collector_duration_seconds",
			Help:    "Duration of collector runs, retries included.",
			Buckets: DurationBuckets,
		}, []string{"collector"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "malbild_collector_rows_total",
			Help: "Rows collected and handed to ClickHouse or the spool.",
		}, []string{"collector"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "malbild_collector_errors_total",
			Help: "Failed collector attempts.",
		}, []string{"collector"}),
		spooled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "malbild_collector_spool_batches",
			Help: "Spooled batches and run records waiting until ClickHouse answers again.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.lastSuccess, m.duration, m.rows, m.errors, m.spooled} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering collector metrics: %w", err)
		}
	}
	return m, nil
}

// init makes a collector's series exist (at zero) before its first run,
// so dashboards and alerts see it.
func (m *Metrics) init(collector string) {
	if m == nil {
		return
	}
	m.rows.WithLabelValues(collector)
	m.errors.WithLabelValues(collector)
}

// forget drops the series of a collector that is no longer configured.
func (m *Metrics) forget(collector string) {
	if m == nil {
		return
	}
	for _, v := range []interface{ DeleteLabelValues(...string) bool }{m.lastSuccess, m.duration, m.rows, m.errors} {
		v.DeleteLabelValues(collector)
	}
}

func (m *Metrics) addRows(collector string, n int) {
	if m != nil && n > 0 {
		m.rows.WithLabelValues(collector).Add(float64(n))
	}
}

func (m *Metrics) attemptFailed(collector string) {
	if m != nil {
		m.errors.WithLabelValues(collector).Inc()
	}
}

func (m *Metrics) runDone(collector string, d time.Duration, end time.Time, ok bool) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(collector).Observe(d.Seconds())
	if ok {
		m.lastSuccess.WithLabelValues(collector).Set(float64(end.UnixNano()) / 1e9)
	}
}

func (m *Metrics) setSpooled(n int) {
	if m != nil {
		m.spooled.Set(float64(n))
	}
}
