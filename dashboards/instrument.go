package dashboards

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// instrumented counts and times the answers of one handler:
// malbild_http_requests_total{code,handler} and
// malbild_http_request_duration_seconds{handler}. It does what promhttp's
// InstrumentHandlerCounter and InstrumentHandlerDuration do together, with
// one wrapper per request and each series looked up once: a warm page is
// answered in microseconds, and the two wrappers' per-request label
// lookups and delegators were a measurable share of that.
type instrumented struct {
	h        http.HandlerFunc
	duration prometheus.Observer
	requests *prometheus.CounterVec // curried with the handler
	codes    [600 - 100]atomic.Pointer[prometheus.Counter]
}

func newInstrumented(h http.HandlerFunc, name string, requests *prometheus.CounterVec, duration *prometheus.HistogramVec) *instrumented {
	labels := prometheus.Labels{"handler": name}
	return &instrumented{h: h, duration: duration.With(labels), requests: requests.MustCurryWith(labels)}
}

func (in *instrumented) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := statusWriter{ResponseWriter: w}
	in.h(&sw, r)
	in.duration.Observe(time.Since(start).Seconds())
	in.counter(sw.code()).Inc()
}

// counter returns the series of code, made on first use (so /metrics
// lists only codes that were answered).
func (in *instrumented) counter(code int) prometheus.Counter {
	if code < 100 || code >= 600 {
		return in.requests.WithLabelValues(strconv.Itoa(code))
	}
	slot := &in.codes[code-100]
	if c := slot.Load(); c != nil {
		return *c
	}
	c := in.requests.WithLabelValues(strconv.Itoa(code))
	slot.Store(&c)
	return c
}

// statusWriter remembers the status code a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// code is the status sent: 200 when the handler wrote nothing, as
// net/http then answers.
func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
