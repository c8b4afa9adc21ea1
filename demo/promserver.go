package demo

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A loopback server answering like Prometheus' HTTP API for the two
// blackbox-exporter metrics of the demo's e-services:
//
//	probe_success{job="eservices", instance="<url>", service="<name>"}
//	probe_duration_seconds{...}
//
// Values are computed per request from the probe model; nothing is
// stored. Only plain selectors are understood (a metric name and label
// matchers); anything else is answered with Prometheus' bad_data error.

// promMaxPoints is Prometheus' limit on points per series in one range query.
const promMaxPoints = 11000

type promSeries struct {
	labels map[string]string
	svc    int
	metric string
}

type promServer struct {
	pm     *probeModel
	series []promSeries
	now    func() time.Time
	// live keeps the history growing with the clock after the model's
	// end, like a Prometheus that goes on scraping.
	live bool
}

func newPromServer(pm *probeModel) *promServer {
	ps := &promServer{pm: pm, now: time.Now}
	for _, metric := range []string{"probe_success", "probe_duration_seconds"} {
		for i, s := range pm.services {
			ps.series = append(ps.series, promSeries{
				svc: i, metric: metric,
				labels: map[string]string{"__name__": metric, "job": "eservices", "instance": s.URL, "service": s.Name},
			})
		}
	}
	return ps
}

func (ps *promServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/query_range", ps.queryRange)
	mux.HandleFunc("/api/v1/query", ps.query)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Prometheus Server is Healthy.")
	})
	return mux
}

type promError struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
}

func promFail(w http.ResponseWriter, code int, typ, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(promError{Status: "error", ErrorType: typ, Error: fmt.Sprintf(format, args...)})
}

// params reads the form the way Prometheus does: URL query for GET, URL
// query and form body for POST.
func params(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		promFail(w, http.StatusMethodNotAllowed, "bad_data", "method %s not allowed", r.Method)
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		promFail(w, http.StatusBadRequest, "bad_data", "error parsing form values: %v", err)
		return false
	}
	return true
}

// parsePromTime reads a Unix timestamp (possibly fractional) or RFC 3339.
func parsePromTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

var promDurationRE = regexp.MustCompile(`^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$`)

// parsePromDuration reads seconds (possibly fractional) or a Prometheus
// duration such as 5m or 1h30m.
func parsePromDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f > 1e9 {
			return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	m := promDurationRE.FindStringSubmatch(s)
	if s == "" || m == nil {
		return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
	}
	units := []time.Duration{365 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second, time.Millisecond}
	var d time.Duration
	for i, u := range units {
		if m[i+1] != "" {
			n, err := strconv.ParseInt(m[i+1], 10, 64)
			if err != nil || n > 1e6 {
				return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
			}
			d += time.Duration(n) * u
		}
	}
	return d, nil
}

func (ps *promServer) queryRange(w http.ResponseWriter, r *http.Request) {
	if !params(w, r) {
		return
	}
	start, err := parsePromTime(r.Form.Get("start"))
	if err != nil {
		promFail(w, http.StatusBadRequest, "bad_data", "invalid parameter \"start\": %v", err)
		return
	}
	end, err := parsePromTime(r.Form.Get("end"))
	if err != nil {
		promFail(w, http.StatusBadRequest, "bad_data", "invalid parameter \"end\": %v", err)
		return
	}
	if end.Before(start) {
		promFail(w, http.StatusBadRequest, "bad_data", "invalid parameter \"end\": end timestamp must not be before start time")
		return
	}
	step, err := parsePromDuration(r.Form.Get("step"))
	if err != nil {
		promFail(w, http.StatusBadRequest, "bad_data", "invalid parameter \"step\": %v", err)
		return
	}
	if step <= 0 {
		promFail(w, http.StatusBadRequest, "bad_data", "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer")
		return
	}
	if end.Sub(start)/step > promMaxPoints {
		promFail(w, http.StatusBadRequest, "bad_data", "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
		return
	}
	sel, err := parseSelector(r.Form.Get("query"))
	if err != nil {
		promFail(w, http.StatusBadRequest, "bad_data", "invalid parameter \"query\": %v", err)
		return
	}
	var b []byte
	b = append(b, `{"status":"success","data":{"resultType":"matrix","result":[`...)
	first := true
	for _, s := range ps.series {
		if !sel.matches(s.labels) {
			continue
		}
		var vals []byte
		c := probeCursor{pm: ps.pm, svc: s.svc}
		n := 0
		for t := start; !t.After(end); t = t.Add(step) {
			v, ok := ps.value(&c, s.metric, t)
			if !ok {
				continue
			}
			if n > 0 {
				vals = append(vals, ',')
			}
			vals = appendPoint(vals, t, v)
			n++
		}
		if n == 0 {
			continue // Prometheus leaves out series without points
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendMetric(b, s.labels)
		b = append(b, `,"values":[`...)
		b = append(b, vals...)
		b = append(b, "]}"...)
	}
	b = append(b, "]}}"...)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func (ps *promServer) query(w http.ResponseWriter, r *http.Request) {
	if !params(w, r) {
		return
	}
	at := ps.now()
	if s := r.Form.Get("time"); s != "" {
		t, err := parsePromTime(s)
		if err != nil {
			promFail(w, http.StatusBadRequest, "bad_data", "invalid parameter \"time\": %v", err)
			return
		}
		at = t
	}
	sel, err := parseSelector(r.Form.Get("query"))
	if err != nil {
		promFail(w, http.StatusBadRequest, "bad_data", "invalid parameter \"query\": %v", err)
		return
	}
	var b []byte
	b = append(b, `{"status":"success","data":{"resultType":"vector","result":[`...)
	first := true
	for _, s := range ps.series {
		if !sel.matches(s.labels) {
			continue
		}
		c := probeCursor{pm: ps.pm, svc: s.svc}
		v, ok := ps.value(&c, s.metric, at)
		if !ok {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendMetric(b, s.labels)
		b = append(b, `,"value":`...)
		b = appendPoint(b, at, v)
		b = append(b, '}')
	}
	b = append(b, "]}}"...)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// value is a series' value at t: the sample of the latest check at or
// before t (checks run every probeInterval), or nothing outside the
// history.
func (ps *promServer) value(c *probeCursor, metric string, t time.Time) (float64, bool) {
	ts := t.Unix()
	end := ps.pm.end
	if now := ps.now().Unix(); ps.live && now > end {
		end = now
	}
	if ts < ps.pm.start || ts > end {
		return 0, false
	}
	ts -= ((ts % probeInterval) + probeInterval) % probeInterval
	s := c.at(ts)
	if metric == "probe_duration_seconds" {
		return s.seconds, true
	}
	if s.ok {
		return 1, true
	}
	return 0, true
}

func appendPoint(b []byte, t time.Time, v float64) []byte {
	b = append(b, '[')
	b = strconv.AppendFloat(b, float64(t.UnixMilli())/1000, 'f', -1, 64)
	b = append(b, ",\""...)
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	return append(b, "\"]"...)
}

func appendMetric(b []byte, labels map[string]string) []byte {
	m, _ := json.Marshal(labels) // encoding/json sorts map keys
	b = append(b, `{"metric":`...)
	return append(b, m...)
}

// selector is a parsed instant-vector selector.
type selector struct {
	matchers []matcher
}

type matcher struct {
	name, op, value string
	re              *regexp.Regexp
}

func (s selector) matches(labels map[string]string) bool {
	for _, m := range s.matchers {
		v := labels[m.name]
		switch m.op {
		case "=":
			if v != m.value {
				return false
			}
		case "!=":
			if v == m.value {
				return false
			}
		case "=~":
			if !m.re.MatchString(v) {
				return false
			}
		case "!~":
			if m.re.MatchString(v) {
				return false
			}
		}
	}
	return true
}

var metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*`)
var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*`)

// parseSelector reads `name{label="v", other=~"re"}`, `name` or
// `{__name__="name", ...}`.
func parseSelector(q string) (selector, error) {
	var sel selector
	s := strings.TrimSpace(q)
	if s == "" {
		return sel, fmt.Errorf("1:1: parse error: no expression found in input")
	}
	if name := metricNameRE.FindString(s); name != "" {
		sel.matchers = append(sel.matchers, matcher{name: "__name__", op: "=", value: name})
		s = strings.TrimSpace(s[len(name):])
	}
	if s == "" {
		return sel, nil
	}
	if s[0] != '{' || s[len(s)-1] != '}' {
		return sel, fmt.Errorf("this demo Prometheus understands only plain selectors such as probe_success{job=\"eservices\"}, not %q", q)
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	for s != "" {
		name := labelNameRE.FindString(s)
		if name == "" {
			return sel, fmt.Errorf("parse error: expected label name in %q", q)
		}
		s = strings.TrimSpace(s[len(name):])
		var op string
		for _, o := range []string{"=~", "!~", "!=", "="} {
			if strings.HasPrefix(s, o) {
				op = o
				break
			}
		}
		if op == "" {
			return sel, fmt.Errorf("parse error: expected label matching operator after %s in %q", name, q)
		}
		s = strings.TrimSpace(s[len(op):])
		val, rest, err := quoted(s)
		if err != nil {
			return sel, fmt.Errorf("parse error: %v in %q", err, q)
		}
		m := matcher{name: name, op: op, value: val}
		if op == "=~" || op == "!~" {
			re, err := regexp.Compile("^(?:" + val + ")$")
			if err != nil {
				return sel, fmt.Errorf("parse error: invalid regular expression %q: %v", val, err)
			}
			m.re = re
		}
		sel.matchers = append(sel.matchers, m)
		s = strings.TrimSpace(rest)
		if strings.HasPrefix(s, ",") {
			s = strings.TrimSpace(s[1:])
		} else if s != "" {
			return sel, fmt.Errorf("parse error: unexpected %q in %q", s, q)
		}
	}
	if len(sel.matchers) == 0 {
		return sel, fmt.Errorf("parse error: vector selector must contain at least one non-empty matcher")
	}
	return sel, nil
}

// quoted reads a double- or single-quoted string at the start of s.
func quoted(s string) (string, string, error) {
	if s == "" || (s[0] != '"' && s[0] != '\'') {
		return "", "", fmt.Errorf("expected a quoted string")
	}
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			raw := s[:i+1]
			if q == '\'' {
				raw = `"` + strings.ReplaceAll(s[1:i], `"`, `\"`) + `"`
			}
			v, err := strconv.Unquote(raw)
			if err != nil {
				return "", "", fmt.Errorf("invalid string %s", s[:i+1])
			}
			return v, s[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("unterminated string")
}
