package collectors

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

func TestProbeSample(t *testing.T) {
	c := checkSample(t, "http_probe", probeSample)
	p := c.(*probe)
	if len(p.services) != 3 || len(p.maint.once) != 1 || len(p.maint.weekly) != 1 {
		t.Fatalf("sample: %d services, %d one-off and %d weekly windows", len(p.services), len(p.maint.once), len(p.maint.weekly))
	}
}

// closedPort returns an address on 127.0.0.1 nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func probeConfig(services string) string {
	return "name: probe\nkind: http_probe\nrequest_timeout: 1s\nservices:\n" + services
}

func TestProbeServices(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var agents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.UserAgent())
		mu.Unlock()
		switch r.URL.Path {
		case "/up":
			fmt.Fprint(w, "<html><body>Logga in med BankID</body></html>")
		case "/broken":
			http.Error(w, "oops", http.StatusInternalServerError)
		case "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/maintenance-page":
			fmt.Fprint(w, "Tjänsten är tillfälligt stängd")
		case "/created":
			w.WriteHeader(http.StatusCreated)
		default:
			if n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/")); err == nil {
				if n == 0 {
					fmt.Fprint(w, "arrived")
					return
				}
				http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
				return
			}
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	defer close(release)
	dead := closedPort(t)
	cfg := probeConfig(fmt.Sprintf(`  - {name: Mina sidor, url: "%[1]s/up", body_contains: Logga in}
  - {name: Ekonomi, url: "%[1]s/broken"}
  - {name: Bygglov, url: "%[1]s/slow"}
  - {name: Skola, url: "%[1]s/maintenance-page", body_contains: Logga in}
  - {name: Parkering, url: "http://%[2]s/"}
  - {name: Fem hopp, url: "%[1]s/hop/5"}
  - {name: Sex hopp, url: "%[1]s/hop/6"}
  - {name: Skapad, url: "%[1]s/created", expected_status: [2xx]}
  - {name: Huvud, url: "%[1]s/up", method: head, expected_status: "200-204"}
`, srv.URL, dead))
	c, err := New(instanceFrom(t, "malbild.yaml", cfg))
	if err != nil {
		t.Fatal(err)
	}
	var sink batchSink
	if err := c.Collect(context.Background(), Request{Tenant: "0120"}, &sink); err != nil {
		t.Fatalf("a failed probe is data, not an error: %v", err)
	}
	if len(sink.batches) != 1 {
		t.Fatalf("%d batches, want 1", len(sink.batches))
	}
	b := sink.batches[0]
	if b.Tenant != "0120" || b.Collector != "probe" {
		t.Errorf("batch tenant %q collector %q", b.Tenant, b.Collector)
	}
	got := map[string]facts.ProbeResult{}
	for _, r := range b.Probes {
		got[r.Service] = r
	}
	if len(got) != 9 {
		t.Fatalf("%d results, want 9: %+v", len(got), b.Probes)
	}
	for _, tc := range []struct {
		service string
		ok      bool
		status  int
		errHas  string
	}{
		{"Mina sidor", true, 200, ""},
		{"Ekonomi", false, 500, "status 500, expected 200"},
		{"Bygglov", false, 0, "no answer within 1s"},
		{"Skola", false, 200, `does not contain "Logga in"`},
		{"Parkering", false, 0, "refused"},
		{"Fem hopp", true, 200, ""},
		{"Sex hopp", false, 0, "stopped after 5 redirects"},
		{"Skapad", true, 201, ""},
		{"Huvud", true, 200, ""},
	} {
		r := got[tc.service]
		if r.OK != tc.ok || r.Status != tc.status || !strings.Contains(r.Error, tc.errHas) || (tc.ok && r.Error != "") {
			t.Errorf("%s: ok=%v status=%d error=%q; want ok=%v status=%d error containing %q", tc.service, r.OK, r.Status, r.Error, tc.ok, tc.status, tc.errHas)
		}
		if r.Time.IsZero() || r.URL == "" {
			t.Errorf("%s: missing time or URL: %+v", tc.service, r)
		}
	}
	if d := got["Bygglov"].Duration; d < time.Second || d > 10*time.Second {
		t.Errorf("slow probe took %s, want about the 1s timeout", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(agents) < 9 {
		t.Fatalf("server saw %d requests, want at least 9", len(agents))
	}
	for _, a := range agents {
		if a != "Malbild-probe/1.0" {
			t.Fatalf("User-Agent %q", a)
		}
	}
}

func TestProbeCancelledRunWritesNothing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	c, err := New(instanceFrom(t, "malbild.yaml", probeConfig(fmt.Sprintf("  - {name: A, url: %q}\n", srv.URL))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var sink batchSink
	if err := c.Collect(ctx, Request{}, &sink); err == nil {
		t.Fatal("cancelled run: no error")
	}
	if len(sink.batches) != 0 {
		t.Fatal("a cancelled run wrote false outages")
	}
}

func TestProbeMaintenanceWindows(t *testing.T) {
	cfg := `name: probe
kind: http_probe
services: [{name: A, url: "http://127.0.0.1:1/"}]
maintenance:
  - {service: A, start: "2025-03-01 22:00", end: "2025-03-02T02:00:00+01:00", note: Uppgradering}
  - {service: "*", weekday: sunday, from: "02:00", to: "04:00", note: Vecka}
  - {service: A, weekday: lördag, from: "23:30", to: "01:00"}
  - {service: A, weekday: monday, from: "00:00", to: "24:00"}
`
	c, err := New(instanceFrom(t, "malbild.yaml", cfg))
	if err != nil {
		t.Fatal(err)
	}
	p := c.(*probe)
	at := func(s string) time.Time {
		ts, err := time.ParseInLocation("2006-01-02 15:04", s, strategy.Stockholm)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	for _, tc := range []struct {
		now  string
		want []facts.MaintenanceWindow
	}{
		{"2025-03-05 12:00", []facts.MaintenanceWindow{ // a Wednesday
			{Service: "A", Start: at("2025-03-01 22:00"), End: at("2025-03-02 02:00"), Note: "Uppgradering"},
			{Service: "*", Start: at("2025-03-09 02:00"), End: at("2025-03-09 04:00"), Note: "Vecka"},
			{Service: "A", Start: at("2025-03-08 23:30"), End: at("2025-03-09 01:00")},
			{Service: "A", Start: at("2025-03-03 00:00"), End: at("2025-03-04 00:00")},
		}},
		{"2025-03-09 23:59", []facts.MaintenanceWindow{ // Sunday: still the same week
			{Service: "A", Start: at("2025-03-01 22:00"), End: at("2025-03-02 02:00"), Note: "Uppgradering"},
			{Service: "*", Start: at("2025-03-09 02:00"), End: at("2025-03-09 04:00"), Note: "Vecka"},
			{Service: "A", Start: at("2025-03-08 23:30"), End: at("2025-03-09 01:00")},
			{Service: "A", Start: at("2025-03-03 00:00"), End: at("2025-03-04 00:00")},
		}},
		{"2025-10-21 08:00", []facts.MaintenanceWindow{ // week with the switch to winter time
			{Service: "A", Start: at("2025-03-01 22:00"), End: at("2025-03-02 02:00"), Note: "Uppgradering"},
			{Service: "*", Start: at("2025-10-26 02:00"), End: at("2025-10-26 04:00"), Note: "Vecka"},
			{Service: "A", Start: at("2025-10-25 23:30"), End: at("2025-10-26 01:00")},
			{Service: "A", Start: at("2025-10-20 00:00"), End: at("2025-10-21 00:00")},
		}},
	} {
		got := p.windows(at(tc.now))
		if len(got) != len(tc.want) {
			t.Fatalf("now %s: %d windows, want %d", tc.now, len(got), len(tc.want))
		}
		for i := range got {
			g, w := got[i], tc.want[i]
			if g.Service != w.Service || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Note != w.Note {
				t.Errorf("now %s: window %d = %s %s–%s %q, want %s %s–%s %q", tc.now, i,
					g.Service, g.Start, g.End, g.Note, w.Service, w.Start, w.End, w.Note)
			}
		}
	}
	// The one-off window given as local time is 21:00 UTC.
	if got := p.maint.once[0].Start.UTC(); !got.Equal(time.Date(2025, 3, 1, 21, 0, 0, 0, time.UTC)) {
		t.Errorf("local start = %s UTC", got)
	}
	// The windows go out with the probe results.
	var sink batchSink
	if err := c.Collect(context.Background(), Request{}, &sink); err != nil {
		t.Fatal(err)
	}
	if b := sink.all(); len(b.Maintenance) != 4 || len(b.Probes) != 1 || b.Probes[0].OK {
		t.Fatalf("batch: %d windows, probes %+v", len(b.Maintenance), b.Probes)
	}
}

func TestProbeOptionErrors(t *testing.T) {
	head := "name: probe\nkind: http_probe\n"
	for _, tc := range []struct{ src, where, msg string }{
		{head + "services:\n  - {name: A, url: \"http://x/\"}\nservicez: []\n", "5", `unknown key "servicez"`},
		{head + "services:\n  - name: A\n    url: ftp://x/\n", "5", "must start with http"},
		{head + "services:\n  - name: A\n    url: http://x/\n    expected_status: 6xx\n", "6", `invalid status "6xx"`},
		{head + "services:\n  - name: A\n    url: http://x/\n    method: HEAD\n    body_contains: hej\n", "7", "body_contains needs method GET"},
		{head + "services:\n  - name: A\n    url: http://x/\n    method: POST\n", "6", "method must be GET or HEAD"},
		{head + "services:\n  - {name: A, url: \"http://x/\"}\n  - {name: A, url: \"http://y/\"}\n", "5", `"A" is listed twice`},
		{head + "services:\n  - {url: \"http://x/\"}\n", "4", "needs a name"},
		{head + "request_timeout: 10m\nservices:\n  - {name: A, url: \"http://x/\"}\n", "3", "shorter than the instance timeout"},
		{head + "services: []\n", "3", "no services to probe"},
		{head + "services: [{name: A, url: \"http://x/\"}]\nmaintenance:\n  - service: A\n    start: 2025-03-02 02:00\n    end: 2025-03-01 22:00\n", "7", "ends"},
		{head + "services: [{name: A, url: \"http://x/\"}]\nmaintenance:\n  - service: A\n    start: 1 mars\n    end: 2025-03-01 22:00\n", "6", `invalid time "1 mars"`},
		{head + "services: [{name: A, url: \"http://x/\"}]\nmaintenance:\n  - {service: A, weekday: someday, from: \"02:00\", to: \"03:00\"}\n", "5", `invalid weekday "someday"`},
		{head + "services: [{name: A, url: \"http://x/\"}]\nmaintenance:\n  - {service: A, weekday: sunday, from: \"25:00\", to: \"03:00\"}\n", "5", `invalid time of day "25:00"`},
		{head + "services: [{name: A, url: \"http://x/\"}]\nmaintenance:\n  - {service: A, weekday: sunday, from: \"02:00\"}\n", "5", "needs weekday, from and to"},
		{head + "services: [{name: A, url: \"http://x/\"}]\nmaintenance:\n  - {service: A, start: \"2025-03-01 22:00\", end: \"2025-03-01 23:00\", weekday: sunday}\n", "5", "either start and end"},
		{head + "services: [{name: A, url: \"http://x/\"}]\nmaintenance:\n  - {start: \"2025-03-01 22:00\", end: \"2025-03-01 23:00\"}\n", "5", "needs a service"},
		{head + "services: [{name: A, url: \"http://x/\"}]\nca_file: missing.pem\n", "4", "reading CA file"},
	} {
		t.Run(tc.msg, func(t *testing.T) { wantOptionsError(t, tc.src, tc.where, tc.msg) })
	}
}

func TestStatusSet(t *testing.T) {
	s := statusSet{{200, 200}, {300, 399}, {418, 420}}
	for code, want := range map[int]bool{200: true, 201: false, 302: true, 399: true, 419: true, 500: false} {
		if s.has(code) != want {
			t.Errorf("has(%d) = %v", code, !want)
		}
	}
	if got := s.String(); got != "200, 3xx, 418-420" {
		t.Errorf("String() = %q", got)
	}
}
