package collectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/malbild/malbild/strategy"
)

func TestPrometheusSample(t *testing.T) {
	c := checkSample(t, "prometheus", prometheusSample)
	qs := c.(*prometheusCollector).queries
	if len(qs) != 3 {
		t.Fatalf("sample has %d queries, want 3", len(qs))
	}
	if m := qs[0].maint; len(m.once) != 1 || len(m.weekly) != 1 {
		t.Fatalf("sample: %d one-off and %d weekly windows", len(m.once), len(m.weekly))
	}
}

// promRequest is one query_range request the fake Prometheus saw.
type promRequest struct {
	query      string
	start, end time.Time
	step       time.Duration
	auth       string
}

// fakePrometheus answers /api/v1/query_range with answer(query).
type fakePrometheus struct {
	*httptest.Server
	mu   sync.Mutex
	seen []promRequest
}

func newFakePrometheus(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, pr promRequest)) *fakePrometheus {
	t.Helper()
	f := &fakePrometheus{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query_range" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		secs := func(k string) float64 {
			v, err := strconv.ParseFloat(r.Form.Get(k), 64)
			if err != nil {
				t.Errorf("parameter %s=%q: %v", k, r.Form.Get(k), err)
			}
			return v
		}
		pr := promRequest{
			query: r.Form.Get("query"),
			start: time.Unix(int64(secs("start")), 0).UTC(),
			end:   time.Unix(int64(secs("end")), 0).UTC(),
			step:  time.Duration(secs("step") * float64(time.Second)),
			auth:  r.Header.Get("Authorization"),
		}
		f.mu.Lock()
		f.seen = append(f.seen, pr)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		answer(w, r, pr)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakePrometheus) requests() []promRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]promRequest(nil), f.seen...)
}

func serveFile(t *testing.T, w http.ResponseWriter, status int, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "prometheus", name))
	if err != nil {
		t.Fatal(err)
	}
	w.WriteHeader(status)
	w.Write(b)
}

func newTestPrometheus(t *testing.T, addr, rest string) *prometheusCollector {
	t.Helper()
	c, err := New(instanceFrom(t, filepath.Join(t.TempDir(), "malbild.yaml"),
		"name: prom\nkind: prometheus\naddress: "+addr+"\n"+rest))
	if err != nil {
		t.Fatal(err)
	}
	return c.(*prometheusCollector)
}

var backfillNov2023 = Request{Tenant: "0120", From: time.Unix(1700000000, 0), To: time.Unix(1700000120, 0)}

func TestPrometheusProbes(t *testing.T) {
	t.Setenv("PROM_TOKEN", "s3cret")
	f := newFakePrometheus(t, func(w http.ResponseWriter, r *http.Request, pr promRequest) {
		switch pr.query {
		case `probe_success{job="eservices"}`:
			serveFile(t, w, 200, "probe_success.json")
		case `probe_duration_seconds{job="eservices"}`:
			serveFile(t, w, 200, "probe_duration.json")
		default:
			t.Errorf("unexpected query %q", pr.query)
		}
	})
	p := newTestPrometheus(t, f.URL, `bearer_token_env: PROM_TOKEN
queries:
  - name: up
    into: probes
    query: probe_success{job="eservices"}
    duration_query: probe_duration_seconds{job="eservices"}
`)
	var sink batchSink
	if err := p.Collect(context.Background(), backfillNov2023, &sink); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.requests() {
		if r.auth != "Bearer s3cret" {
			t.Errorf("Authorization %q", r.auth)
		}
		if r.step != time.Minute || !r.start.Equal(time.Unix(1699999980, 0)) || !r.end.Equal(time.Unix(1700000100, 0)) {
			t.Errorf("range %s–%s step %s, want aligned to the minute", r.start, r.end, r.step)
		}
	}
	b := sink.all()
	type row struct {
		service string
		ts      int64
		ok      bool
		d       time.Duration
	}
	want := []row{
		{"Mina sidor", 1700000000, true, 250 * time.Millisecond},
		{"Mina sidor", 1700000060, true, 500 * time.Millisecond},
		{"Mina sidor", 1700000120, false, 10004 * time.Millisecond},
		{"Bygglov", 1700000000, false, 1500 * time.Millisecond},
		{"Bygglov", 1700000120, true, 0}, // 0.5 counts as up; +Inf duration dropped
	}
	if len(b.Probes) != len(want) {
		t.Fatalf("%d probe results, want %d: %+v", len(b.Probes), len(want), b.Probes)
	}
	for i, w := range want {
		g := b.Probes[i]
		if g.Service != w.service || g.Time.Unix() != w.ts || g.OK != w.ok || g.Duration != w.d {
			t.Errorf("result %d = %s %d ok=%v %s, want %+v", i, g.Service, g.Time.Unix(), g.OK, g.Duration, w)
		}
	}
	if b.Probes[0].Error != "" || b.Probes[2].Error != "down according to Prometheus" {
		t.Errorf("error texts %q, %q", b.Probes[0].Error, b.Probes[2].Error)
	}
	if b.Probes[0].URL != "https://minasidor.example.se/" {
		t.Errorf("URL from the instance label: %q", b.Probes[0].URL)
	}
	if sink.batches[0].Source != "prometheus/up" || sink.batches[0].Tenant != "0120" {
		t.Errorf("batch source %q tenant %q", sink.batches[0].Source, sink.batches[0].Tenant)
	}
}

func TestPrometheusSeries(t *testing.T) {
	f := newFakePrometheus(t, func(w http.ResponseWriter, r *http.Request, pr promRequest) {
		serveFile(t, w, 200, "series.json")
	})
	for _, tc := range []struct {
		aggregate string
		want      map[string]float64 // department period → value
	}{
		{"mean", map[string]float64{"Socialförvaltningen 2023-10": 95, "Socialförvaltningen 2023-11": 60, "Kommunstyrelsen 2023-10": 80}},
		{"last", map[string]float64{"Socialförvaltningen 2023-10": 100, "Socialförvaltningen 2023-11": 70, "Kommunstyrelsen 2023-10": 80}},
	} {
		p := newTestPrometheus(t, f.URL, fmt.Sprintf(`queries:
  - name: uptime
    into: series
    query: avg by (department) (up)
    indicator: it-drift
    aggregate: %s
    scale: 100
    dimension_label: department
    dimension_kind: förvaltning
`, tc.aggregate))
		var sink batchSink
		req := Request{Tenant: "0120", From: time.Date(2023, 10, 20, 0, 0, 0, 0, time.UTC), To: time.Date(2023, 11, 2, 0, 0, 0, 0, time.UTC)}
		if err := p.Collect(context.Background(), req, &sink); err != nil {
			t.Fatal(err)
		}
		reqs := f.requests()
		if first := reqs[len(reqs)-1].start; !first.Equal(time.Date(2023, 10, 1, 0, 0, 0, 0, strategy.Stockholm)) {
			t.Errorf("series range starts %s, want the start of October (whole periods)", first)
		}
		if len(sink.batches) != 1 {
			t.Fatalf("%d batches, want one per query", len(sink.batches))
		}
		got := map[string]float64{}
		for _, o := range sink.batches[0].Observations {
			if o.Indicator != "it-drift" || o.Dimension.Kind != "förvaltning" || o.Period.Kind != strategy.Month || o.Tenant != "0120" {
				t.Errorf("observation %+v", o)
			}
			got[o.Dimension.Value+" "+o.Period.String()] = o.Value
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%s: observations %v, want %v", tc.aggregate, got, tc.want)
		}
		for k, w := range tc.want {
			if math.Abs(got[k]-w) > 1e-9 {
				t.Errorf("%s: %s = %v, want %v", tc.aggregate, k, got[k], w)
			}
		}
	}
}

func TestPrometheusSeriesNeedsOneSeriesWithoutDimension(t *testing.T) {
	f := newFakePrometheus(t, func(w http.ResponseWriter, r *http.Request, pr promRequest) {
		serveFile(t, w, 200, "series.json")
	})
	p := newTestPrometheus(t, f.URL, "queries:\n  - {name: u, into: series, query: up, indicator: x}\n")
	var sink batchSink
	err := p.Collect(context.Background(), backfillNov2023, &sink)
	if err == nil || !strings.Contains(err.Error(), "returned 2 series") {
		t.Fatalf("error %v", err)
	}
	if len(sink.batches) != 0 {
		t.Fatal("wrote a batch")
	}
}

func TestPrometheusUpstreamErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		file   string
		want   string
	}{
		{"server error", 500, "", "server error: 500"},
		{"bad query", 400, "error_bad_data.json", "bad_data: invalid parameter"},
		{"execution error", 422, "error_execution.json", "too many samples"},
		{"status error with 200", 200, "error_execution.json", "too many samples"},
		{"malformed json", 200, "malformed.json", "bad_response"},
		{"vector, not matrix", 200, "vector.json", "want a matrix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakePrometheus(t, func(w http.ResponseWriter, r *http.Request, pr promRequest) {
				if tc.file == "" {
					http.Error(w, "upstream exploded", tc.status)
					return
				}
				serveFile(t, w, tc.status, tc.file)
			})
			dir := t.TempDir()
			p := newTestPrometheus(t, f.URL, "state_dir: "+dir+"\nqueries:\n  - {name: up, into: probes, query: probe_success}\n")
			var sink batchSink
			err := p.Collect(context.Background(), Request{}, &sink)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `query "up"`) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if len(sink.batches) != 0 {
				t.Fatal("wrote a batch")
			}
			if _, err := os.Stat(filepath.Join(dir, "prometheus-prom.json")); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("a failed run moved the incremental state")
			}
		})
	}
}

func TestPrometheusHangsPastTimeout(t *testing.T) {
	f := newFakePrometheus(t, func(w http.ResponseWriter, r *http.Request, pr promRequest) {
		<-r.Context().Done()
	})
	p := newTestPrometheus(t, f.URL, "request_timeout: 200ms\nqueries:\n  - {name: up, into: probes, query: probe_success}\n")
	start := time.Now()
	err := p.Collect(context.Background(), Request{}, &batchSink{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want a deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
}

func TestPrometheusResponseCap(t *testing.T) {
	f := newFakePrometheus(t, func(w http.ResponseWriter, r *http.Request, pr promRequest) {
		serveFile(t, w, 200, "probe_success.json")
	})
	p := newTestPrometheus(t, f.URL, "queries:\n  - {name: up, into: probes, query: probe_success}\n")
	p.rt.limit = 100
	err := p.Collect(context.Background(), backfillNov2023, &batchSink{})
	if !errors.Is(err, errResponseTooLarge) {
		t.Fatalf("error %v, want response too large", err)
	}
}

func TestPrometheusMissingToken(t *testing.T) {
	t.Setenv("PROM_TOKEN", "")
	f := newFakePrometheus(t, func(w http.ResponseWriter, r *http.Request, pr promRequest) {
		t.Error("request sent without a token")
	})
	p := newTestPrometheus(t, f.URL, "bearer_token_env: PROM_TOKEN\nqueries:\n  - {name: up, into: probes, query: probe_success}\n")
	err := p.Collect(context.Background(), backfillNov2023, &batchSink{})
	if err == nil || !strings.Contains(err.Error(), "PROM_TOKEN") {
		t.Fatalf("error %v", err)
	}
}

// TestPrometheusIncremental checks chunking (Prometheus takes at most
// 11 000 steps per query), the saved state and the next run's range.
func TestPrometheusIncremental(t *testing.T) {
	f := newFakePrometheus(t, func(w http.ResponseWriter, r *http.Request, pr promRequest) {
		var values [][2]any
		for ts := pr.start; !ts.After(pr.end); ts = ts.Add(pr.step) {
			values = append(values, [2]any{ts.Unix(), "1"})
		}
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{
			"resultType": "matrix",
			"result":     []any{map[string]any{"metric": map[string]string{"service": "A"}, "values": values}},
		}})
	})
	dir := t.TempDir()
	p := newTestPrometheus(t, f.URL, "state_dir: "+dir+"\nlookback: 7d\nqueries:\n  - {name: up, into: probes, query: probe_success}\n")
	now := time.Date(2025, 3, 5, 12, 0, 30, 0, time.UTC)
	p.now = func() time.Time { return now }
	var sink batchSink
	if err := p.Collect(context.Background(), Request{}, &sink); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 chunks for 10 081 steps", len(reqs))
	}
	for _, r := range reqs {
		if n := r.end.Sub(r.start)/r.step + 1; n > 11000 {
			t.Errorf("chunk of %d steps", n)
		}
	}
	seen := map[int64]bool{}
	for _, r := range sink.all().Probes {
		if seen[r.Time.Unix()] {
			t.Fatalf("sample %s twice", r.Time)
		}
		seen[r.Time.Unix()] = true
	}
	if len(seen) != 7*24*60+1 {
		t.Fatalf("%d samples, want %d", len(seen), 7*24*60+1)
	}
	// The next run starts where this one ended.
	now = now.Add(time.Hour)
	if err := p.Collect(context.Background(), Request{}, &batchSink{}); err != nil {
		t.Fatal(err)
	}
	reqs = f.requests()
	last := reqs[len(reqs)-1]
	if want := time.Date(2025, 3, 5, 12, 0, 0, 0, time.UTC); !last.start.Equal(want) || !last.end.Equal(want.Add(time.Hour)) {
		t.Fatalf("second run asked %s–%s, want %s–%s", last.start, last.end, want, want.Add(time.Hour))
	}
	// A backfill leaves the incremental state alone.
	if err := p.Collect(context.Background(), backfillNov2023, &batchSink{}); err != nil {
		t.Fatal(err)
	}
	var st promState
	if _, err := loadState(p.state, &st); err != nil || !st.Queries["up"].Equal(time.Date(2025, 3, 5, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("state %+v, %v", st, err)
	}
}

func TestPrometheusOptionErrors(t *testing.T) {
	head := "name: prom\nkind: prometheus\n"
	for _, tc := range []struct{ src, where, msg string }{
		{head + "address: prometheus:9090\nqueries: [{name: a, into: probes, query: up}]\n", "3", "must start with http"},
		{head + "address: http://p\n", "1", "no queries"},
		{head + "address: http://p\nqueries:\n  - {name: a, into: graphs, query: up}\n", "5", `into must be probes or series`},
		{head + "address: http://p\nqueries:\n  - {name: a, into: series, query: up}\n", "5", "needs an indicator"},
		{head + "address: http://p\nqueries:\n  - {name: a, into: series, query: up, indicator: x, period: week}\n", "5", `period "week"`},
		{head + "address: http://p\nqueries:\n  - {name: a, into: series, query: up, indicator: x, aggregate: max}\n", "5", `aggregate "max"`},
		{head + "address: http://p\nqueries:\n  - {name: a, into: series, query: up, indicator: x, scale: 0}\n", "5", "scale must be"},
		{head + "address: http://p\nqueries:\n  - {name: a, into: probes, query: up, indicator: x}\n", "5", "are for into: series"},
		{head + "address: http://p\nqueries:\n  - {name: a, into: series, query: up, indicator: x, service_label: s}\n", "5", "are for into: probes"},
		{head + "address: http://p\nqueries:\n  - {name: a, into: probes, query: up, service_label: \"bad-label\"}\n", "5", "not a Prometheus label name"},
		{head + "address: http://p\nqueries:\n  - {name: a, into: probes, query: up}\n  - {name: a, into: probes, query: up}\n", "6", "listed twice"},
		{head + "address: http://p\nqueries:\n  - {name: a, into: probes, query: \"\"}\n", "5", "no PromQL query"},
		{head + "address: http://p\nqueries:\n  - {name: a, into: probes, query: up, step: 10ms}\n", "5", "at least 1s"},
		{head + "address: http://p\nqueries:\n  - {name: a, into: probes, query: up, step: often}\n", "5", `invalid duration "often"`},
		{head + "address: http://p\nbearer_token_env: \"abc def\"\nqueries: [{name: a, into: probes, query: up}]\n", "4", "must name an environment variable"},
		{head + "address: http://p\nquery: []\n", "4", `unknown key "query"`},
	} {
		t.Run(tc.msg, func(t *testing.T) { wantOptionsError(t, tc.src, tc.where, tc.msg) })
	}
}

// FuzzParsePrometheusMatrix feeds arbitrary query_range results through
// client_golang's decoding and our conversion: no panics, no non-finite
// values, no control characters in labels.
func FuzzParsePrometheusMatrix(f *testing.F) {
	for _, name := range []string{"probe_success.json", "probe_duration.json", "series.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "prometheus", name))
		if err != nil {
			f.Fatal(err)
		}
		var env struct {
			Data struct {
				Result json.RawMessage `json:"result"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &env); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(env.Data.Result))
	}
	f.Add([]byte(`[{"metric":{"service":"\u0000"},"values":[[1,"NaN"],[2,"-Inf"],[3,"1e308"]]}]`))
	probes := promQuery{Name: "p", Into: "probes", ServiceLabel: "service", URLLabel: "instance"}
	scale := 100.0
	series := promQuery{Name: "s", Into: "series", Indicator: "x", Period: "month", Aggregate: "mean", Scale: &scale, DimensionLabel: "department", DimensionKind: "department"}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m model.Matrix
		if err := json.Unmarshal(data, &m); err != nil {
			return
		}
		rs, err := matrixToProbes(probes, m, m)
		if err == nil {
			for _, r := range rs {
				if r.Service == "" || hasControl(r.Service) || hasControl(r.URL) || r.Duration < 0 || r.Duration > maxProbeSeconds*time.Second {
					t.Fatalf("bad probe result %+v", r)
				}
			}
		}
		agg := newPeriodAggregator(series)
		if agg.add(m) != nil {
			return
		}
		for _, o := range agg.observations("0120", "s", 1, time.Unix(0, 0)) {
			if math.IsNaN(o.Value) || math.IsInf(o.Value, 0) || hasControl(o.Dimension.Value) || !o.Period.Valid() {
				t.Fatalf("bad observation %+v", o)
			}
		}
	})
}

func TestPrometheusSeriesStrategyChecks(t *testing.T) {
	f := newFakePrometheus(t, func(w http.ResponseWriter, r *http.Request, pr promRequest) {
		serveFile(t, w, 200, "series.json")
	})
	cfg := "queries:\n  - {name: u, into: series, query: up, indicator: it-drift, dimension_label: department, scale: %s}\n"
	req := Request{Tenant: "0120", From: time.Date(2023, 10, 20, 0, 0, 0, 0, time.UTC), To: time.Date(2023, 11, 2, 0, 0, 0, 0, time.UTC),
		Indicators: map[string]bool{"it-drift": true}, Units: map[string]strategy.Unit{"it-drift": strategy.UnitPercent}}
	for _, tc := range []struct{ scale, want string }{
		{"1000", "2023-10: 800 percent is outside 0–100"},
		{"100", ""},
	} {
		var sink batchSink
		err := newTestPrometheus(t, f.URL, fmt.Sprintf(cfg, tc.scale)).Collect(context.Background(), req, &sink)
		if tc.want == "" {
			if err != nil || len(sink.batches) != 1 {
				t.Fatalf("scale %s: %v, %d batches", tc.scale, err, len(sink.batches))
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || len(sink.batches) != 0 {
			t.Fatalf("scale %s: error %v, %d batches; want %q", tc.scale, err, len(sink.batches), tc.want)
		}
	}
	req.Indicators = map[string]bool{"other": true}
	err := newTestPrometheus(t, f.URL, fmt.Sprintf(cfg, "100")).Collect(context.Background(), req, &batchSink{})
	if err == nil || !strings.Contains(err.Error(), `unknown indicator "it-drift"`) {
		t.Fatalf("error %v", err)
	}
}

// TestPrometheusMaintenance checks the maintenance option of a probes
// query: weekly windows expanded over a backfill of several weeks (and
// chunks) across a switch of summer time, service "*", one-off windows
// kept only when they overlap the range, and every window written once,
// with the probe results of its part of the range.
func TestPrometheusMaintenance(t *testing.T) {
	f := newFakePrometheus(t, func(w http.ResponseWriter, r *http.Request, pr promRequest) {
		var values [][2]any
		for ts := pr.start; !ts.After(pr.end); ts = ts.Add(pr.step) {
			values = append(values, [2]any{ts.Unix(), "1"})
		}
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{
			"resultType": "matrix",
			"result":     []any{map[string]any{"metric": map[string]string{"service": "A"}, "values": values}},
		}})
	})
	p := newTestPrometheus(t, f.URL, `queries:
  - name: up
    into: probes
    query: probe_success
    maintenance:
      - {service: "*", weekday: söndag, from: "02:00", to: "04:00", note: Vecka}
      - {service: A, weekday: saturday, from: "23:30", to: "01:00"}
      - {service: A, start: "2025-03-19 22:00", end: "2025-03-20 02:00", note: Före och in i}
      - {service: A, start: "2025-01-10 22:00", end: "2025-01-10 23:00", note: Långt före}
      - {service: B, start: "2025-10-28 10:00", end: "2025-10-28 11:00", note: Uppgradering}
`)
	utc := func(s string) time.Time {
		ts, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	local := func(s string) time.Time {
		ts, err := time.ParseInLocation("2006-01-02 15:04", s, strategy.Stockholm)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	type win struct {
		service     string
		start, end  time.Time
		note        string
		beforeRange bool
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []win
	}{
		{"spring", local("2025-03-20 00:00"), local("2025-04-10 00:00"), []win{
			{service: "A", start: utc("2025-03-19 21:00"), end: utc("2025-03-20 01:00"), note: "Före och in i", beforeRange: true},
			{service: "A", start: utc("2025-03-22 22:30"), end: utc("2025-03-23 00:00")},
			{service: "*", start: utc("2025-03-23 01:00"), end: utc("2025-03-23 03:00"), note: "Vecka"},
			{service: "A", start: utc("2025-03-29 22:30"), end: utc("2025-03-30 00:00")},
			// 02:00 does not exist that night: the window runs 03:00–04:00 CEST.
			{service: "*", start: utc("2025-03-30 01:00"), end: utc("2025-03-30 02:00"), note: "Vecka"},
			{service: "A", start: utc("2025-04-05 21:30"), end: utc("2025-04-05 23:00")},
			{service: "*", start: utc("2025-04-06 00:00"), end: utc("2025-04-06 02:00"), note: "Vecka"},
		}},
		{"autumn", local("2025-10-26 00:30"), local("2025-11-03 00:00"), []win{
			// Open when the range starts, though it started the day before.
			{service: "A", start: utc("2025-10-25 21:30"), end: utc("2025-10-25 23:00"), beforeRange: true},
			// 02:00 happens twice that night; Go takes the second (CET).
			{service: "*", start: utc("2025-10-26 01:00"), end: utc("2025-10-26 03:00"), note: "Vecka"},
			{service: "B", start: utc("2025-10-28 09:00"), end: utc("2025-10-28 10:00"), note: "Uppgradering"},
			{service: "A", start: utc("2025-11-01 22:30"), end: utc("2025-11-02 00:00")},
			{service: "*", start: utc("2025-11-02 01:00"), end: utc("2025-11-02 03:00"), note: "Vecka"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sink batchSink
			if err := p.Collect(context.Background(), Request{Tenant: "0120", From: tc.from, To: tc.to}, &sink); err != nil {
				t.Fatal(err)
			}
			if len(sink.batches) < 2 {
				t.Fatalf("%d batches, want one per chunk of the range", len(sink.batches))
			}
			var got []win
			for _, b := range sink.batches {
				first, last := b.Probes[0].Time, b.Probes[len(b.Probes)-1].Time
				for _, w := range b.Maintenance {
					// Each window goes out with the chunk it starts in (or
					// the first, when it started before the range).
					before := w.Start.Before(tc.from)
					if before && b != sink.batches[0] || !before && (w.Start.Before(first) || w.Start.After(last.Add(time.Minute))) {
						t.Errorf("window %s %s in the batch of %s–%s", w.Service, w.Start, first, last)
					}
					got = append(got, win{w.Service, w.Start.UTC(), w.End.UTC(), w.Note, before})
				}
			}
			sort.Slice(got, func(i, j int) bool { return got[i].start.Before(got[j].start) })
			if len(got) != len(tc.want) {
				t.Fatalf("%d windows, want %d:\n%v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				if g := got[i]; g.service != w.service || !g.start.Equal(w.start) || !g.end.Equal(w.end) || g.note != w.note || g.beforeRange != w.beforeRange {
					t.Errorf("window %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// TestPrometheusMaintenanceWithoutSamples writes the windows of a range
// even when Prometheus has no samples for it.
func TestPrometheusMaintenanceWithoutSamples(t *testing.T) {
	f := newFakePrometheus(t, func(w http.ResponseWriter, r *http.Request, pr promRequest) {
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
	})
	p := newTestPrometheus(t, f.URL, "queries:\n  - name: up\n    into: probes\n    query: probe_success\n"+
		"    maintenance: [{service: \"*\", weekday: monday, from: \"22:00\", to: \"23:00\"}]\n")
	var sink batchSink
	req := Request{Tenant: "0120", From: time.Date(2025, 5, 1, 0, 0, 0, 0, strategy.Stockholm), To: time.Date(2025, 5, 31, 0, 0, 0, 0, strategy.Stockholm)}
	if err := p.Collect(context.Background(), req, &sink); err != nil {
		t.Fatal(err)
	}
	b := sink.all()
	if len(b.Probes) != 0 || len(b.Maintenance) != 4 { // Mondays 5, 12, 19 and 26 May
		t.Fatalf("%d probes, %d windows: %+v", len(b.Probes), len(b.Maintenance), b.Maintenance)
	}
	for _, w := range b.Maintenance {
		if l := w.Start.In(strategy.Stockholm); l.Weekday() != time.Monday || l.Hour() != 22 || w.End.Sub(w.Start) != time.Hour {
			t.Errorf("window %s–%s", w.Start, w.End)
		}
	}
}

func TestPrometheusMaintenanceOptionErrors(t *testing.T) {
	head := "name: prom\nkind: prometheus\naddress: http://p\nqueries:\n  - name: a\n    query: up\n"
	probes := head + "    into: probes\n    maintenance:\n"
	for _, tc := range []struct{ src, where, msg string }{
		{head + "    into: series\n    indicator: x\n    maintenance:\n      - {service: A, weekday: sunday, from: \"02:00\", to: \"03:00\"}\n", "10", "maintenance windows are for into: probes"},
		{probes + "      - service: A\n        start: 2025-03-02 02:00\n        end: 2025-03-01 22:00\n", "11", "ends (2025-03-01T22:00:00+01:00) before it starts"},
		{probes + "      - {service: A, weekday: sunday, from: \"02:00\"}\n", "9", "needs weekday, from and to"},
		{probes + "      - {service: A, weekday: sunday, from: \"02:00\", to: \"02:00\"}\n", "9", "from and to are the same time"},
		{probes + "      - {service: A, weekday: someday, from: \"02:00\", to: \"03:00\"}\n", "9", `invalid weekday "someday"`},
		{probes + "      - {service: A, weekday: sunday, from: \"02:60\", to: \"03:00\"}\n", "9", `invalid time of day "02:60"`},
		{probes + "      - {weekday: sunday, from: \"02:00\", to: \"03:00\"}\n", "9", "needs a service"},
		{probes + "      - {service: A}\n      - {service: A, start: \"2025-03-01 22:00\", end: \"2025-03-01 23:00\", from: \"02:00\"}\n", "9", "needs start and end, or weekday"},
		{probes + "      - {service: A, start: \"2025-03-01 22:00\", end: \"2025-03-01 23:00\", from: \"02:00\"}\n", "9", "either start and end"},
		{probes + "      - {service: A, start: \"2025-03-01 22:00\"}\n", "9", "needs both start and end"},
		{probes + "      - {service: A, weekday: sunday, from: \"02:00\", to: \"03:00\", every: week}\n", "9", `unknown key "every"`},
	} {
		t.Run(tc.msg, func(t *testing.T) { wantOptionsError(t, tc.src, tc.where, tc.msg) })
	}
}

// A response time no probe can have (here 1e10 s, which overflows a
// time.Duration) fails the query with a message naming the series, the
// instant and the value; nothing is converted.
func TestPrometheusProbeDurationOutOfRange(t *testing.T) {
	q := promQuery{Name: "p", Into: "probes", ServiceLabel: "service"}
	for _, v := range []string{"1e10", "-0.5", "86401"} {
		var m model.Matrix
		src := `[{"metric":{"service":"Bygglov"},"values":[[1700000000,"` + v + `"]]}]`
		if err := json.Unmarshal([]byte(src), &m); err != nil {
			t.Fatal(err)
		}
		rs, err := matrixToProbes(q, m, m)
		if err == nil || !strings.Contains(err.Error(), "response time of") || !strings.Contains(err.Error(), "2023-11-14T22:13:20Z") {
			t.Errorf("%s: got %v, %v; want an out-of-range error", v, rs, err)
		}
	}
	var m model.Matrix
	if err := json.Unmarshal([]byte(`[{"metric":{"service":"Bygglov"},"values":[[1700000000,"86400"]]}]`), &m); err != nil {
		t.Fatal(err)
	}
	if rs, err := matrixToProbes(q, m, m); err != nil || len(rs) != 1 || rs[0].Duration != 24*time.Hour {
		t.Errorf("a day: got %v, %v", rs, err)
	}
}
