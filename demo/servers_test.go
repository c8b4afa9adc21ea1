package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/malbild/malbild/strategy"
)

func getJSON(t *testing.T, u string, out any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q", u, ct)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("%s: %v in %s", u, err, body)
	}
	return resp.StatusCode
}

type koladaPageJSON struct {
	Values []struct {
		KPI          string `json:"kpi"`
		Municipality string `json:"municipality"`
		Period       int    `json:"period"`
		IsDeleted    bool   `json:"is_deleted"`
		Values       []struct {
			Gender string   `json:"gender"`
			Count  int      `json:"count"`
			Status *string  `json:"status"`
			Value  *float64 `json:"value"`
		} `json:"values"`
	} `json:"values"`
	Count    int     `json:"count"`
	NextPage *string `json:"next_page"`
}

func TestKoladaServer(t *testing.T) {
	p := generate(t, stillRunning(loadStrategy(t, "varmdo")), Options{})
	k := p.Kolada
	if len(k.KPIs) != 1 || k.KPIs[0] != "U07431" || k.Indicator["U07431"] != "informationsindex-bygga-bo" {
		t.Fatalf("kolada plan %+v", k)
	}
	if got := strings.Join(k.Municipalities, ","); got != "0120,0138,0117,0187,0182" {
		t.Errorf("municipalities %s", got)
	}
	if !strings.HasPrefix(k.BaseURL, "http://127.0.0.1:") || !strings.HasSuffix(k.BaseURL, "/v3") {
		t.Errorf("base URL %s", k.BaseURL)
	}
	first := k.BaseURL + "/data/kpi/U07431/municipality/" + strings.Join(k.Municipalities, ",") + "/year/2014,2015,2016,2024"

	// Two pages, the second linked from the first by an absolute URL.
	var p1, p2 koladaPageJSON
	if code := getJSON(t, first, &p1); code != 200 {
		t.Fatalf("status %d", code)
	}
	if p1.NextPage == nil || !strings.HasPrefix(*p1.NextPage, "http://127.0.0.1:") {
		t.Fatalf("first page has no absolute next_page: %v", p1.NextPage)
	}
	getJSON(t, *p1.NextPage, &p2)
	if p2.NextPage != nil {
		t.Errorf("second page links to %s", *p2.NextPage)
	}
	if p1.Count != len(p1.Values) || p2.Count != len(p2.Values) || p1.Count+p2.Count != 20 {
		t.Errorf("pages hold %d and %d entries, want 20 (5 places × 4 years)", p1.Count, p2.Count)
	}
	nulls, own := 0, map[int]float64{}
	for _, e := range append(p1.Values, p2.Values...) {
		if e.KPI != "U07431" || e.IsDeleted {
			t.Errorf("entry %+v", e)
		}
		for _, v := range e.Values {
			if v.Status == nil || v.Count != 1 {
				t.Errorf("value without status or count: %+v", v)
			}
			if v.Value == nil {
				nulls++
				continue
			}
			if *v.Value < 0 || *v.Value > 100 {
				t.Errorf("%s %d %s: %v outside 0–100", e.Municipality, e.Period, v.Gender, *v.Value)
			}
			if e.Municipality == "0120" && v.Gender == "T" {
				own[e.Period] = *v.Value
			}
		}
	}
	if nulls == 0 {
		t.Error("no null values")
	}
	ip, _ := p.Indicator("informationsindex-bygga-bo")
	for _, y := range []int{2014, 2015, 2016, 2024} {
		want := ip.Expected(time.Date(y, 12, 31, 0, 0, 0, 0, strategy.Stockholm))
		if math.Abs(own[y]-want) > 3 {
			t.Errorf("own value %d = %v, the plan expects about %.1f", y, own[y], want)
		}
	}

	// The same on v2; per_page overrides the two-page split.
	var all koladaPageJSON
	v2 := strings.Replace(first, "/v3/", "/v2/", 1)
	getJSON(t, v2+"?per_page=100", &all)
	if all.Count != 20 || all.NextPage != nil {
		t.Errorf("per_page=100: %d entries, next %v", all.Count, all.NextPage)
	}

	// Without years: every year from the first to the last.
	getJSON(t, k.BaseURL+"/data/kpi/U07431/municipality/0120?per_page=5000", &all)
	if all.Count != k.LastYear-k.FirstYear+1 || k.LastYear != 2024 {
		t.Errorf("all years: %d entries for %d–%d", all.Count, k.FirstYear, k.LastYear)
	}

	// from_date: only recent changes, with a deletion.
	since := p.Now.AddDate(0, -1, 0).Format(time.DateOnly)
	getJSON(t, k.BaseURL+"/data/kpi/U07431/municipality/"+strings.Join(k.Municipalities, ",")+"?per_page=5000&from_date="+since, &all)
	deleted := 0
	for _, e := range all.Values {
		if e.IsDeleted {
			deleted++
		}
	}
	if deleted != 1 || all.Count < 2 || all.Count > 5 {
		t.Errorf("from_date %s: %d entries, %d deleted", since, all.Count, deleted)
	}

	// Unknown KPIs and places answer nothing; bad requests are errors.
	getJSON(t, k.BaseURL+"/data/kpi/N99999/municipality/0120/year/2020", &all)
	if all.Count != 0 || all.Values == nil {
		t.Errorf("unknown KPI: %+v", all)
	}
	var errBody map[string]string
	for u, want := range map[string]int{
		k.BaseURL + "/data/kpi/U07431/municipality/0120/year/20x0":   400,
		k.BaseURL + "/data/kpi/U07431":                               404,
		k.BaseURL + "/data/kpi/U07431/municipality/0120?page=0":      400,
		k.BaseURL + "/data/kpi/U07431/municipality/0120?from_date=x": 400,
	} {
		if code := getJSON(t, u, &errBody); code != want || errBody["error"] == "" {
			t.Errorf("%s: status %d %v, want %d with an error", u, code, errBody, want)
		}
	}
}

type promAnswer struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

func promPoint(t *testing.T, pt [2]any) (int64, float64) {
	t.Helper()
	ts, ok := pt[0].(float64)
	s, ok2 := pt[1].(string)
	if !ok || !ok2 {
		t.Fatalf("point %v: want [number, \"string\"]", pt)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return int64(ts), v
}

func TestPrometheusServer(t *testing.T) {
	p := generate(t, stillRunning(loadStrategy(t, "varmdo")), Options{})
	base := p.Prometheus.URL
	if len(p.Prometheus.Services) != 8 || p.Prometheus.Step != 5*time.Minute {
		t.Fatalf("prometheus plan %+v", p.Prometheus)
	}
	end := p.Now.Add(-24 * time.Hour).Truncate(time.Hour)
	start := end.Add(-6 * time.Hour)
	q := url.Values{
		"query": {`probe_success{job="eservices"}`},
		"start": {strconv.FormatInt(start.Unix(), 10)},
		"end":   {end.Format(time.RFC3339)},
		"step":  {"5m"},
	}

	// GET and POST answer alike; start, end and step are respected.
	var got, posted promAnswer
	getJSON(t, base+"/api/v1/query_range?"+q.Encode(), &got)
	resp, err := http.PostForm(base+"/api/v1/query_range", q)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&posted)
	resp.Body.Close()
	if got.Status != "success" || got.Data.ResultType != "matrix" || len(got.Data.Result) != 8 {
		t.Fatalf("query_range: %s %s, %d series", got.Status, got.Data.ResultType, len(got.Data.Result))
	}
	if fmt.Sprint(got.Data) != fmt.Sprint(posted.Data) {
		t.Error("POST answered differently from GET")
	}
	services := map[string]bool{}
	for _, s := range got.Data.Result {
		m := s.Metric
		if m["__name__"] != "probe_success" || m["job"] != "eservices" || !strings.HasPrefix(m["instance"], "https://") || m["service"] == "" {
			t.Errorf("labels %v", m)
		}
		services[m["service"]] = true
		if len(s.Values) != 73 {
			t.Fatalf("%s: %d points for 6 h at 5 m, want 73", m["service"], len(s.Values))
		}
		for i, pt := range s.Values {
			ts, v := promPoint(t, pt)
			if ts != start.Unix()+int64(i)*300 || (v != 0 && v != 1) {
				t.Fatalf("%s point %d: %d %v", m["service"], i, ts, v)
			}
		}
	}
	if len(services) != 8 {
		t.Errorf("%d services", len(services))
	}

	// A step off the 5-minute grid sees the latest check before each
	// instant: the same values as the grid.
	q.Set("step", "60")
	q.Set("query", `probe_duration_seconds{service="Bygglov"}`)
	var fine, coarse promAnswer
	getJSON(t, base+"/api/v1/query_range?"+q.Encode(), &fine)
	q.Set("step", "300")
	getJSON(t, base+"/api/v1/query_range?"+q.Encode(), &coarse)
	if len(fine.Data.Result) != 1 || len(coarse.Data.Result) != 1 || len(fine.Data.Result[0].Values) != 361 {
		t.Fatalf("duration series: %d / %d", len(fine.Data.Result), len(coarse.Data.Result))
	}
	for i, pt := range coarse.Data.Result[0].Values {
		_, v := promPoint(t, pt)
		for j := 0; j < 5 && i*5+j < 361; j++ {
			if _, w := promPoint(t, fine.Data.Result[0].Values[i*5+j]); w != v {
				t.Fatalf("instant %d+%dm: %v, the check before it said %v", i, j, w, v)
			}
		}
		if v <= 0 || v > probeTimeout {
			t.Fatalf("duration %v", v)
		}
	}

	// Over a year: outages and the weekly maintenance windows show as 0.
	down, maint, samples := 0, 0, 0
	svc := probeServices[2] // Bygglov
	for from := p.Prometheus.From; from.Before(p.Now); from = from.Add(10000 * 5 * time.Minute) {
		to := from.Add(9999 * 5 * time.Minute)
		var a promAnswer
		getJSON(t, base+"/api/v1/query_range?"+url.Values{
			"query": {`probe_success{service=~"Bygg.*",job!="other"}`},
			"start": {strconv.FormatInt(from.Unix(), 10)}, "end": {strconv.FormatInt(to.Unix(), 10)}, "step": {"300"},
		}.Encode(), &a)
		for _, pt := range a.Data.Result[0].Values {
			ts, v := promPoint(t, pt)
			samples++
			if v == 0 {
				down++
				lt := time.Unix(ts, 0).In(strategy.Stockholm)
				if int(lt.Weekday()) == svc.MaintDay && lt.Hour() == svc.MaintHour {
					maint++
				}
			}
		}
	}
	if samples < 365*288 {
		t.Errorf("%d samples in a year", samples)
	}
	ip, _ := p.Indicator("tillganglighet-e-tjanster")
	uptime := 100 * float64(samples-down) / float64(samples-maint)
	if want := ip.Expected(p.Now); math.Abs(uptime-want) > 0.3 || maint < 50*12 {
		t.Errorf("uptime outside maintenance %.2f %%, plan %.2f %%; %d samples in maintenance", uptime, want, maint)
	}

	// Instant query.
	var inst promAnswer
	getJSON(t, base+"/api/v1/query?query=probe_success&time="+strconv.FormatInt(end.Unix(), 10), &inst)
	if inst.Data.ResultType != "vector" || len(inst.Data.Result) != 8 {
		t.Errorf("instant query: %s with %d series", inst.Data.ResultType, len(inst.Data.Result))
	}
	if ts, _ := promPoint(t, inst.Data.Result[0].Value); ts != end.Unix() {
		t.Errorf("instant value at %d, want %d", ts, end.Unix())
	}

	// Prometheus' errors.
	for _, c := range []struct{ query, start, end, step, msg string }{
		{`probe_success`, "100", "50", "60", "end timestamp must not be before start time"},
		{`probe_success`, "0", "86400000", "60", "exceeded maximum resolution of 11,000 points"},
		{`probe_success`, "0", "600", "0", "zero or negative query resolution step"},
		{`probe_success`, "x", "600", "60", "cannot parse \"x\""},
		{`rate(probe_success[5m])`, "0", "600", "60", "plain selectors"},
		{`probe_success{job=}`, "0", "600", "60", "quoted string"},
	} {
		var e promAnswer
		code := getJSON(t, base+"/api/v1/query_range?"+url.Values{"query": {c.query}, "start": {c.start}, "end": {c.end}, "step": {c.step}}.Encode(), &e)
		if code != 400 || e.Status != "error" || e.ErrorType != "bad_data" || !strings.Contains(e.Error, c.msg) {
			t.Errorf("%+v: %d %s %q", c, code, e.ErrorType, e.Error)
		}
	}

	// Nothing before the history or after now.
	var empty promAnswer
	getJSON(t, base+"/api/v1/query_range?"+url.Values{"query": {"probe_success"},
		"start": {strconv.FormatInt(p.Prometheus.From.Add(-48*time.Hour).Unix(), 10)},
		"end":   {strconv.FormatInt(p.Prometheus.From.Add(-time.Hour).Unix(), 10)}, "step": {"300"}}.Encode(), &empty)
	if empty.Status != "success" || len(empty.Data.Result) != 0 {
		t.Errorf("before the history: %d series", len(empty.Data.Result))
	}
}

func TestLiveServices(t *testing.T) {
	p := generate(t, stillRunning(loadStrategy(t, "varmdo")), Options{})
	healthy := 0
	for _, s := range p.Probes {
		resp, err := http.Get(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case s.Healthy && (resp.StatusCode != 200 || !strings.Contains(string(body), "Logga in")):
			t.Errorf("%s: %d %s", s.Name, resp.StatusCode, body)
		case !s.Healthy && resp.StatusCode != 503:
			t.Errorf("%s: %d, want 503", s.Name, resp.StatusCode)
		}
		if s.Healthy {
			healthy++
		}
	}
	if len(p.Probes) != 4 || healthy != 3 {
		t.Errorf("%d live services, %d healthy", len(p.Probes), healthy)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(p.Probes[0].URL); err == nil {
		t.Error("server still answers after Close")
	}
}

func TestPrometheusLiveHistory(t *testing.T) {
	end := time.Date(2026, 1, 15, 12, 0, 0, 0, strategy.Stockholm)
	pm := defaultProbeModel(1, demoServices("e-tjanster.test.example"))
	pm.start, pm.end = end.Add(-24*time.Hour).Unix(), end.Unix()
	ps := newPromServer(pm)
	ps.now = func() time.Time { return end.Add(time.Hour) }
	c := probeCursor{pm: pm, svc: 0}
	later := end.Add(30 * time.Minute)
	if _, ok := ps.value(&c, "probe_success", later); ok {
		t.Error("a fixed history answers after its end")
	}
	ps.live = true
	if _, ok := ps.value(&c, "probe_success", later); !ok {
		t.Error("a live history does not grow with the clock")
	}
	if _, ok := ps.value(&c, "probe_success", end.Add(2*time.Hour)); ok {
		t.Error("a live history answers for the future")
	}
}
