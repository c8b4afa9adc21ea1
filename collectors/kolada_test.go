package collectors

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/strategy"
)

func TestKoladaSample(t *testing.T) {
	c := checkSample(t, "kolada", koladaSample)
	k := c.(*koladaCollector)
	if k.own != "0120" || len(k.places) != 4 || len(k.years) != 11 || k.indicator["N15428"] != "andel-e-tjanster" {
		t.Fatalf("sample: own %q places %v years %v indicator %v", k.own, k.places, k.years, k.indicator)
	}
}

// fakeKolada serves Kolada /data answers; route picks the testdata file
// (or writes the answer itself and returns "").
type fakeKolada struct {
	*httptest.Server
	mu   sync.Mutex
	urls []*url.URL
}

func newFakeKolada(t *testing.T, route func(w http.ResponseWriter, r *http.Request) string) *fakeKolada {
	t.Helper()
	f := &fakeKolada{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.urls = append(f.urls, r.URL)
		f.mu.Unlock()
		if r.UserAgent() != koladaUserAgent {
			t.Errorf("User-Agent %q", r.UserAgent())
		}
		name := route(w, r)
		if name == "" {
			return
		}
		b, err := os.ReadFile(filepath.Join("testdata", "kolada", name))
		if err != nil {
			t.Error(err)
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(strings.ReplaceAll(string(b), "{{BASE}}", f.URL+"/v3")))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeKolada) requests() []*url.URL {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*url.URL(nil), f.urls...)
}

// koladaRoute answers like Kolada for the two-page fixture and the
// from_date changes.
func koladaRoute(w http.ResponseWriter, r *http.Request) string {
	switch {
	case r.URL.Query().Get("from_date") != "":
		return "changes.json"
	case r.URL.Query().Get("page") == "2":
		return "page2.json"
	default:
		return "page1.json"
	}
}

const koladaConfig = `kpis: [N15428, N00945]
municipalities: ["0120", "0138"]
years: [2024, 2023]
indicator: {N15428: andel-digitala}
`

func newTestKolada(t *testing.T, base, stateDir, rest string) *koladaCollector {
	t.Helper()
	src := "name: kolada\nkind: kolada\nbase_url: " + base + "\nstate_dir: " + stateDir + "\n" + rest
	c, err := New(instanceFrom(t, filepath.Join(t.TempDir(), "malbild.yaml"), src))
	if err != nil {
		t.Fatal(err)
	}
	k := c.(*koladaCollector)
	k.now = func() time.Time { return time.Date(2025, 3, 5, 23, 30, 0, 0, time.UTC) } // 6 March in Stockholm
	return k
}

func benchKey(v facts.BenchmarkValue) string {
	val := "nil"
	if v.Value != nil {
		val = fmt.Sprint(*v.Value)
	}
	return fmt.Sprintf("%s %s %d %s %s deleted=%v %q", v.KPI, v.Municipality, v.Year, v.Gender, val, v.Deleted, v.Status)
}

func TestKoladaFullThenIncremental(t *testing.T) {
	f := newFakeKolada(t, koladaRoute)
	dir := t.TempDir()
	k := newTestKolada(t, f.URL+"/v3/", dir, koladaConfig)

	var sink batchSink
	if err := k.Collect(context.Background(), Request{Tenant: "0120"}, &sink); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 pages", len(reqs))
	}
	if got := reqs[0].Path; got != "/v3/data/kpi/N15428,N00945/municipality/0120,0138/year/2023,2024" {
		t.Errorf("first request %s", got)
	}
	if reqs[0].Query().Has("from_date") {
		t.Error("first run sent from_date")
	}
	if len(sink.batches) != 1 {
		t.Fatalf("%d batches, want one per run", len(sink.batches))
	}
	b := sink.batches[0]
	want := []string{
		`N15428 0120 2023 T 76.4 deleted=false ""`,
		`N15428 0120 2023 K 80.1 deleted=false ""`,
		`N15428 0120 2023 M nil deleted=false ""`,
		`N15428 0138 2023 T nil deleted=false "Preliminär"`,
		`N00945 0120 2024 T 12.5 deleted=false ""`,
		`N15428 0120 2024 T 78 deleted=false ""`,
	}
	checkBenchmarks(t, b.Benchmarks, want)
	checkYearlyObs(t, b.Observations, map[int]float64{2023: 76.4, 2024: 78})

	var st koladaState
	if _, err := loadState(k.state, &st); err != nil || st.LastSync != "2025-03-06" {
		t.Fatalf("state %+v %v, want last sync 2025-03-06 (Stockholm date)", st, err)
	}

	// The next run asks only for changes since the last sync.
	sink = batchSink{}
	if err := k.Collect(context.Background(), Request{Tenant: "0120"}, &sink); err != nil {
		t.Fatal(err)
	}
	last := f.requests()[2]
	if got := last.Query().Get("from_date"); got != "2025-03-06" {
		t.Fatalf("from_date=%q", got)
	}
	checkBenchmarks(t, sink.batches[0].Benchmarks, []string{
		`N15428 0120 2024 T 79.2 deleted=false ""`,
		`N15428 0138 2023 T nil deleted=true ""`,
		`N15428 0138 2023 K nil deleted=true ""`,
		`N15428 0138 2023 M nil deleted=true ""`,
		`N00945 0120 2024 T nil deleted=true ""`,
	})
	checkYearlyObs(t, sink.batches[0].Observations, map[int]float64{2024: 79.2})

	// Other KPIs: the stored date no longer covers them, so a full sync.
	k2 := newTestKolada(t, f.URL+"/v3", dir, strings.Replace(koladaConfig, "N00945", "N00945, N00946", 1))
	if err := k2.Collect(context.Background(), Request{}, &batchSink{}); err != nil {
		t.Fatal(err)
	}
	if q := f.requests()[3].Query(); q.Has("from_date") {
		t.Fatal("changed options still sent from_date")
	}
}

func checkBenchmarks(t *testing.T, got []facts.BenchmarkValue, want []string) {
	t.Helper()
	if len(got) != len(want) {
		var s []string
		for _, v := range got {
			s = append(s, benchKey(v))
		}
		t.Fatalf("%d rows, want %d:\n%s", len(got), len(want), strings.Join(s, "\n"))
	}
	for i, v := range got {
		if k := benchKey(v); k != want[i] || v.Source != "kolada" {
			t.Errorf("row %d = %s (source %q), want %s", i, k, v.Source, want[i])
		}
	}
}

func checkYearlyObs(t *testing.T, obs []strategy.Observation, want map[int]float64) {
	t.Helper()
	if len(obs) != len(want) {
		t.Fatalf("observations %+v, want %v", obs, want)
	}
	for _, o := range obs {
		if o.Indicator != "andel-digitala" || o.Period.Kind != strategy.Year || !o.Dimension.IsTotal() || o.Tenant != "0120" || want[o.Period.Year] != o.Value {
			t.Errorf("observation %+v, want values %v", o, want)
		}
	}
}

func TestKoladaFailuresWriteNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		route func(w http.ResponseWriter, r *http.Request) string
		want  string
	}{
		{"server error", func(w http.ResponseWriter, r *http.Request) string {
			http.Error(w, "Internal Server Error", 500)
			return ""
		}, "HTTP 500: Internal Server Error"},
		{"malformed second page", func(w http.ResponseWriter, r *http.Request) string {
			if r.URL.Query().Get("page") == "2" {
				return "malformed.json"
			}
			return "page1.json"
		}, "malformed Kolada answer"},
		{"bad gender", func(w http.ResponseWriter, r *http.Request) string { return "bad_gender.json" }, `values[0].values[0]: gender "X"`},
		{"next page loops", func(w http.ResponseWriter, r *http.Request) string {
			fmt.Fprintf(w, `{"values":[],"next_page":%q}`, "http://"+r.Host+r.URL.String())
			return ""
		}, "points back to a page already read"},
		{"next page elsewhere", func(w http.ResponseWriter, r *http.Request) string {
			fmt.Fprint(w, `{"values":[],"next_page":"http://198.51.100.7/v3/data?page=2"}`)
			return ""
		}, "leaves 127.0.0.1"},
		{"not asked for", func(w http.ResponseWriter, r *http.Request) string {
			fmt.Fprint(w, `{"values":[{"kpi":"U00001","municipality":"0120","period":2024,"values":[{"gender":"T","value":1}]}]}`)
			return ""
		}, "KPI U00001, which was not asked for"},
		{"year not asked for", func(w http.ResponseWriter, r *http.Request) string {
			fmt.Fprint(w, `{"values":[{"kpi":"N15428","municipality":"0120","period":1999,"values":[{"gender":"T","value":1}]}]}`)
			return ""
		}, "year 1999, which was not asked for"},
		{"no values list", func(w http.ResponseWriter, r *http.Request) string {
			fmt.Fprint(w, `{"error":"Not found"}`)
			return ""
		}, `no "values" list`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeKolada(t, tc.route)
			k := newTestKolada(t, f.URL+"/v3", t.TempDir(), koladaConfig)
			var sink batchSink
			err := k.Collect(context.Background(), Request{}, &sink)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if len(sink.batches) != 0 {
				t.Fatal("a failed run wrote a batch")
			}
			if _, err := os.Stat(k.state); !os.IsNotExist(err) {
				t.Fatal("a failed run saved its sync date")
			}
		})
	}
}

func TestKoladaPageCap(t *testing.T) {
	f := newFakeKolada(t, koladaRoute)
	k := newTestKolada(t, f.URL+"/v3", t.TempDir(), koladaConfig+"max_pages: 1\n")
	err := k.Collect(context.Background(), Request{}, &batchSink{})
	if err == nil || !strings.Contains(err.Error(), "more than 1 pages") {
		t.Fatalf("error %v", err)
	}
}

func TestKoladaResponseCap(t *testing.T) {
	f := newFakeKolada(t, koladaRoute)
	k := newTestKolada(t, f.URL+"/v3", t.TempDir(), koladaConfig)
	k.maxBytes = 100
	if err := k.Collect(context.Background(), Request{}, &batchSink{}); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("error %v", err)
	}
}

// TestKoladaChunking checks that long lists are split into requests short
// enough for request-line limits, covering every KPI and place once.
func TestKoladaChunking(t *testing.T) {
	f := newFakeKolada(t, func(w http.ResponseWriter, r *http.Request) string {
		fmt.Fprint(w, `{"values":[],"count":0}`)
		return ""
	})
	var kpis, places []string
	for i := 1; i <= 120; i++ {
		kpis = append(kpis, fmt.Sprintf("N%05d", i))
	}
	for i := 1; i <= 290; i++ {
		places = append(places, fmt.Sprintf("%q", fmt.Sprintf("%04d", i)))
	}
	cfg := fmt.Sprintf("kpis: [%s]\nmunicipalities: [%s]\ngroups: [G124026]\nyears: 2000-2025\n", strings.Join(kpis, ","), strings.Join(places, ","))
	k := newTestKolada(t, f.URL+"/v3", t.TempDir(), cfg)
	if err := k.Collect(context.Background(), Request{}, &batchSink{}); err != nil {
		t.Fatal(err)
	}
	pairs := map[string]int{}
	reqs := f.requests()
	if len(reqs) < 4 {
		t.Fatalf("%d requests for 120 KPIs × 291 places", len(reqs))
	}
	for _, u := range reqs {
		full := f.URL + u.String()
		if len(full) > 2000 {
			t.Errorf("request of %d characters", len(full))
		}
		parts := strings.Split(u.Path, "/") // /v3/data/kpi/{kpis}/municipality/{places}/year/{years}
		if len(parts) != 9 {
			t.Fatalf("path %s", u.Path)
		}
		for _, kpi := range strings.Split(parts[4], ",") {
			for _, p := range strings.Split(parts[6], ",") {
				pairs[kpi+"/"+p]++
			}
		}
	}
	if len(pairs) != 120*291 {
		t.Fatalf("%d KPI × place pairs asked for, want %d", len(pairs), 120*291)
	}
	for p, n := range pairs {
		if n != 1 {
			t.Fatalf("%s asked for %d times", p, n)
		}
	}
}

func TestKoladaBackfill(t *testing.T) {
	f := newFakeKolada(t, func(w http.ResponseWriter, r *http.Request) string {
		fmt.Fprint(w, `{"values":[{"kpi":"N15428","municipality":"0120","period":2021,"values":[{"gender":"T","status":"","value":55}]}]}`)
		return ""
	})
	dir := t.TempDir()
	k := newTestKolada(t, f.URL+"/v3", dir, "kpis: [N15428]\nmunicipalities: [\"0120\"]\nyears: 2015-2025\nindicator: {N15428: andel-digitala}\n")
	if err := saveState(k.state, koladaState{LastSync: "2025-01-01", Fingerprint: k.fingerprint}); err != nil {
		t.Fatal(err)
	}
	req := Request{From: time.Date(2020, 1, 1, 0, 0, 0, 0, strategy.Stockholm), To: time.Date(2022, 12, 31, 0, 0, 0, 0, strategy.Stockholm)}
	var sink batchSink
	if err := k.Collect(context.Background(), req, &sink); err != nil {
		t.Fatal(err)
	}
	u := f.requests()[0]
	if !strings.HasSuffix(u.Path, "/year/2020,2021,2022") || u.Query().Has("from_date") {
		t.Fatalf("backfill asked %s", u)
	}
	if obs := sink.batches[0].Observations; len(obs) != 1 || obs[0].Value != 55 || obs[0].Period.Year != 2021 {
		t.Fatalf("observations %+v", obs)
	}
	var st koladaState
	if _, err := loadState(k.state, &st); err != nil || st.LastSync != "2025-01-01" {
		t.Fatalf("a backfill moved the sync date: %+v %v", st, err)
	}
	req.From, req.To = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := k.Collect(context.Background(), req, &batchSink{}); err == nil || !strings.Contains(err.Error(), "none of the configured years") {
		t.Fatalf("error %v", err)
	}
}

func TestParseKoladaPageNextURL(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "kolada", "v2_next_url.json"))
	if err != nil {
		t.Fatal(err)
	}
	rows, next, err := parseKoladaPage(b)
	if err != nil {
		t.Fatal(err)
	}
	if next != "https://api.kolada.se/v2/data/kpi/N15428/municipality/0120?page=2&per_page=1" {
		t.Errorf("next %q", next)
	}
	if len(rows) != 1 || rows[0].Year != 2022 || rows[0].Value == nil || *rows[0].Value != 70 {
		t.Errorf("rows %+v", rows)
	}
}

func TestKoladaOptionErrors(t *testing.T) {
	head := "name: kolada\nkind: kolada\n"
	for _, tc := range []struct{ src, where, msg string }{
		{head + "kpis: [N15428]\nmunicipalities: [\"120\"]\n", "4", `municipality "120": want a four-digit code`},
		{head + "kpis: [n15428]\nmunicipalities: [\"0120\"]\n", "3", `KPI id "n15428"`},
		{head + "kpis: []\nmunicipalities: [\"0120\"]\n", "3", "no kpis"},
		{head + "kpis: [N1]\n", "1", "no municipalities or groups"},
		{head + "kpis: [N1]\ngroups: [X12]\n", "4", `group "X12"`},
		{head + "kpis: [N1]\nmunicipalities: [\"0120\"]\nyears: 2025-2015\n", "5", "ends before it starts"},
		{head + "kpis: [N1]\nmunicipalities: [\"0120\"]\nyears: [2024, soon]\n", "5", `invalid year "soon"`},
		{head + "kpis: [N1]\nmunicipalities: [\"0120\"]\nindicator:\n  N2: x\n", "6", `KPI "N2" is not among kpis`},
		{head + "kpis: [N1]\nmunicipalities: [\"0120\"]\nown_municipality: \"0138\"\n", "5", "not among municipalities"},
		{head + "kpis: [N1]\ngroups: [G1]\nindicator: {N1: x}\n", "5", "needs the tenant's own municipality"},
		{head + "kpis: [N1]\nmunicipalities: [\"0120\"]\nbase_url: api.kolada.se\n", "5", "must start with http"},
		{head + "kpis: [N1]\nmunicipalities: [\"0120\"]\nyear: 2024\n", "5", `unknown key "year"`},
		{head + "kpis: [N1]\nmunicipalities: [\"0120\"]\nmax_pages: 0\n", "5", "max_pages must be at least 1"},
	} {
		t.Run(tc.msg, func(t *testing.T) { wantOptionsError(t, tc.src, tc.where, tc.msg) })
	}
	// An unquoted 0120 is read as the text YAML wrote, not as a number.
	if _, err := New(instanceFrom(t, "malbild.yaml", head+"kpis: [N1]\nmunicipalities: [0120]\n")); err != nil {
		t.Fatalf("unquoted code: %v", err)
	}
}

// FuzzParseKoladaPage: no panics, and whatever parses holds only valid
// ids, genders, years and clean status texts.
func FuzzParseKoladaPage(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "kolada", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatal("no seeds", err)
	}
	for _, name := range files {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"values":[{"kpi":"N1","municipality":"G1","period":2024,"is_deleted":true}],"next_page":"\u0000"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, _, err := parseKoladaPage(data)
		if err != nil {
			return
		}
		for _, r := range rows {
			if !kpiPattern.MatchString(r.KPI) || (!municipalityPattern.MatchString(r.Municipality) && !groupPattern.MatchString(r.Municipality)) ||
				!strings.Contains("TKM", r.Gender) || len(r.Gender) != 1 || r.Year < 1900 || r.Year > 2200 ||
				hasControl(r.Status) || (r.Deleted && r.Value != nil) || r.Source != "kolada" {
				t.Fatalf("bad row %+v", r)
			}
		}
	})
}

// TestKoladaErrorThenSuccess: a failed run leaves no state behind, so the
// retry (by the runner) is again a full sync and gets everything.
func TestKoladaErrorThenSuccess(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	f := newFakeKolada(t, func(w http.ResponseWriter, r *http.Request) string {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			http.Error(w, "Service Unavailable", http.StatusInternalServerError)
			return ""
		}
		return koladaRoute(w, r)
	})
	k := newTestKolada(t, f.URL+"/v3", t.TempDir(), koladaConfig)
	if err := k.Collect(context.Background(), Request{}, &batchSink{}); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("first run: %v", err)
	}
	var sink batchSink
	if err := k.Collect(context.Background(), Request{}, &sink); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if q := f.requests()[1].Query(); q.Has("from_date") {
		t.Fatal("retry after a failure sent from_date")
	}
	if n := len(sink.all().Benchmarks); n != 6 {
		t.Fatalf("retry wrote %d rows, want 6", n)
	}
}

func TestKoladaUnknownIndicator(t *testing.T) {
	f := newFakeKolada(t, koladaRoute)
	k := newTestKolada(t, f.URL+"/v3", t.TempDir(), koladaConfig)
	var sink batchSink
	err := k.Collect(context.Background(), Request{Indicators: map[string]bool{"x": true}}, &sink)
	if err == nil || !strings.Contains(err.Error(), `unknown indicator "andel-digitala"`) || len(sink.batches) != 0 {
		t.Fatalf("error %v, %d batches", err, len(sink.batches))
	}
}
