package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/malbild/malbild/chserver"
)

var (
	managedUpDesc = prometheus.NewDesc("malbild_managed_clickhouse_up",
		"1 while the managed local ClickHouse runs and answers, 0 while it is down or starting again.", nil, nil)
	managedRestartsDesc = prometheus.NewDesc("malbild_managed_clickhouse_restarts_total",
		"Times the managed local ClickHouse was started again after it died.", nil, nil)
	managedFailuresDesc = prometheus.NewDesc("malbild_managed_clickhouse_start_failures_total",
		"Starts of the managed local ClickHouse after it died that failed (each followed by a longer backoff).", nil, nil)
)

// managedCollector exports the supervisor's state on /metrics.
type managedCollector struct{ sup *chserver.Supervisor }

func (c managedCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- managedUpDesc
	ch <- managedRestartsDesc
	ch <- managedFailuresDesc
}

func (c managedCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.sup.State()
	up := 0.0
	if st.Phase == chserver.Running {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(managedUpDesc, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(managedRestartsDesc, prometheus.CounterValue, float64(st.Restarts))
	ch <- prometheus.MustNewConstMetric(managedFailuresDesc, prometheus.CounterValue, float64(st.Failures))
}
