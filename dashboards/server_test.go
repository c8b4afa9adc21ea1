package dashboards

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

func testStrategy(t testing.TB) *strategy.Strategy {
	return parseTestStrategy(t, "0999", "Exempelstads kommun", "exempelstad")
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: missing %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("%s: must not contain %q", what, b)
		}
	}
}

// secrets are texts of internal goals, indicators and assessments, and
// of drafts: none may reach a public answer.
var secrets = []string{"Zebra", "Kanin", "systemnojdhet", "intern-kostnad", draftComment, "Bertil Berg", "Anna Andersson"}

const cspWant = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

func TestPublicPage(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)})
	code, h, body := e.get("/")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	mustContain(t, "public page", body,
		`<html lang="sv"`, `class="skip-link" href="#main"`, "<header", "<nav", `<main id="main"`, "<footer",
		"Exempelstads digitaliseringsstrategi 2023–2027", "Exempelstad ska vara enkel att ha att göra med",
		"Alla ansökningar ska gå att göra digitalt", "Andel ansökningar som görs digitalt",
		// the confirmed assessment of the page's period on the one scale
		// (partly met is "Risk"), with its comment
		"Bedömning T1 2025:", "!</span> Risk", publishedComment,
		// latest value, 3- and 5-year targets and progress
		"63 %", "Helår 2024", "Mål 3 år", "80 %", "Mål 5 år", "95 %", "av vägen från utgångsvärdet",
		// status never by colour alone
		"✗</span> Efter plan",
		// chart with a table alternative
		`data-chart="diagram-andel-digitala-data"`, `<script type="application/json" id="diagram-andel-digitala-data">`,
		// The table behind each chart is on the indicator page (issue 13: the public page's weight).
		`#utveckling">Visa som tabell<span class="visually-hidden">: Andel ansökningar som görs digitalt</span></a>`,
		"Källa: Kolada (U07431)", "senast uppdaterad 2025-05-20",
		"Driftinformation", "Bygglov", "✓</span> Fungerar", "Fungerar inte",
		"Digital mognad", "Så räknas mognadsindexet", "Index för digital mognad går från 0 till 100",
		"Ladda ner data", `href="/api/v1/observations.csv"`, `href="/api/v1/observations"`, `href="/api/v1/dcat"`,
		`href="/tillganglighet"`, `href="/?lang=en"`, "In English",
		"Klart 2024-10-01.",
	)
	mustNotContain(t, "public page", body, secrets...)
	mustNotContain(t, "public page", body, "Demodata", "Uppgifterna kan vara inaktuella", "⟦", `href="/ledning"`)

	// English, via a visible link and no cookie.
	code, _, body = e.get("/?lang=en")
	if code != http.StatusOK {
		t.Fatalf("GET /?lang=en = %d", code)
	}
	mustContain(t, "English page", body, `<html lang="en"`, "Skip to content", "Exempelstad digitalisation strategy 2023–2027",
		"All applications can be made online", "Assessment T1 2025:", "At risk", "Behind",
		`href="/" lang="sv" hreflang="sv">På svenska</a>`, "Service status", "Download the data", `href="/tillganglighet?lang=en"`)
	mustNotContain(t, "English page", body, secrets...)
	mustNotContain(t, "English page", body, "⟦")
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal)
	for _, p := range []string{"/", "/ledning", "/indikator/andel-digitala", "/uppfoljning", "/tillganglighet", "/api/v1/",
		"/api/v1/observations.csv", "/api/v1/dcat", "/metrics", "/-/healthy", "/-/ready", "/finns-inte", e.srv.assets.url("style.css")} {
		_, h, _ := e.get(p)
		if got := h.Get("Content-Security-Policy"); got != cspWant {
			t.Errorf("%s: Content-Security-Policy = %q", p, got)
		}
		if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q", p, got)
		}
		if got := h.Get("X-Frame-Options"); got != "" {
			t.Errorf("%s: X-Frame-Options = %q: frame-ancestors in the policy forbids framing", p, got)
		}
	}
	// The referrer policy is set by the pages themselves.
	for _, p := range []string{"/", "/ledning", "/indikator/andel-digitala", "/uppfoljning", "/tillganglighet", "/finns-inte"} {
		_, _, body := e.get(p)
		if !strings.Contains(body, `<meta name="referrer" content="same-origin">`) {
			t.Errorf("%s: no referrer policy in its head", p)
		}
	}
	// No inline scripts or styles: every <script> has a src or is JSON
	// data, and no element has a style attribute.
	for _, p := range []string{"/", "/ledning", "/indikator/andel-digitala", "/uppfoljning"} {
		_, _, body := e.get(p)
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
			if !strings.Contains(tag, `src="/assets/`) && !strings.Contains(tag, `type="application/json"`) {
				t.Errorf("%s: inline script %s", p, tag)
			}
		}
		if regexp.MustCompile(`\sstyle=`).MatchString(body) || strings.Contains(body, "<style") {
			t.Errorf("%s: inline style", p)
		}
	}
}

// urlRE finds absolute and protocol-relative references.
var urlRE = regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.\-]+(:[0-9]+)?`)

// allowedData are URIs that name things in data (DCAT vocabularies, the
// licence, XML namespaces and licence comments in echarts) and are never
// fetched.
var allowedData = []string{
	"http://www.w3.org", "http://purl.org", "http://xmlns.com", "http://publications.europa.eu",
	"http://creativecommons.org", "http://www.iana.org", "http://www.apache.org", "https://github.com",
}

func TestNoForeignHosts(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal)
	own := e.http.URL
	paths := []string{"/", "/?lang=en", "/ledning", "/uppfoljning", "/tillganglighet", "/finns-inte",
		"/api/v1/", "/api/v1/strategy", "/api/v1/indicators", "/api/v1/observations", "/api/v1/observations.csv",
		"/api/v1/statuses", "/api/v1/forecasts", "/api/v1/dcat", "/api/v1/indicators/andel-digitala"}
	for _, ind := range e.strats[0].Indicators() {
		paths = append(paths, "/indikator/"+ind.ID)
	}
	for name := range e.srv.assets.byName {
		paths = append(paths, e.srv.assets.url(name))
	}
	for _, p := range paths {
		code, h, body := e.get(p)
		if code != http.StatusOK && p != "/finns-inte" {
			t.Errorf("%s = %d", p, code)
		}
		ct := h.Get("Content-Type")
		isJS := strings.HasPrefix(ct, "text/javascript")
		// JSON, scripts and SVG may name the identifiers above (an SVG's
		// xmlns is a name, never fetched).
		isData := strings.Contains(ct, "json") || isJS || strings.HasPrefix(ct, "image/svg+xml")
		for _, m := range urlRE.FindAllString(body, -1) {
			ref := strings.TrimRight(m, ".")
			switch {
			case strings.HasPrefix(ref, own):
			case isData && allowed(ref):
			case isJS && !strings.Contains(ref, "http"):
				// "//" inside scripts: comments and regular expressions
			default:
				t.Errorf("%s (%s) references another host: %q", p, ct, ref)
			}
		}
		if strings.HasPrefix(ct, "text/html") {
			for _, attr := range regexp.MustCompile(`(?:src|href|action)="([^"]*)"`).FindAllStringSubmatch(body, -1) {
				u := attr[1]
				if strings.HasPrefix(u, "//") || strings.Contains(u, "://") && !strings.HasPrefix(u, own) {
					t.Errorf("%s: link to another host: %q", p, u)
				}
			}
		}
	}
}

func allowed(ref string) bool {
	for _, a := range allowedData {
		if strings.HasPrefix(ref, a) {
			return true
		}
	}
	return false
}

func TestInternalSplit(t *testing.T) {
	st := testStrategy(t)
	store := openStore(t, chtest.DSN(t))
	seed(t, store, "0999")
	closed := startEnv(t, store, []*strategy.Strategy{st})
	authorizer := func(r *http.Request) (string, bool) {
		if r.Header.Get("X-Test-User") == "anna" {
			return "anna", true
		}
		return "", false
	}
	authed := startEnv(t, store, []*strategy.Strategy{st}, func(o *Options) { o.Authorizer = authorizer })

	for name, e := range map[string]*env{"closed by default": closed, "authorizer, not signed in": authed} {
		t.Run(name, func(t *testing.T) {
			// Internal indicators answer like unknown ones (anon_test.go).
			for _, p := range []string{"/ledning", "/uppfoljning"} {
				code, _, body := e.get(p)
				if code != http.StatusUnauthorized {
					t.Errorf("%s = %d, want 401", p, code)
				}
				mustContain(t, p, body, "Logga in för att se sidan")
				mustNotContain(t, p, body, "Zebra", "Kanin") // the address itself may echo the id
			}
			if code, _, _ := e.get("/indikator/finns-inte"); code != http.StatusNotFound {
				t.Errorf("unknown indicator = %d, want 404", code)
			}
			if code, _, _ := e.get("/api/v1/indicators/intern-kostnad"); code != http.StatusNotFound {
				t.Errorf("internal indicator in the API = %d, want 404", code)
			}
			for _, p := range []string{"/", "/indikator/andel-digitala", "/api/v1/strategy", "/api/v1/indicators", "/api/v1/observations",
				"/api/v1/observations.csv", "/api/v1/statuses", "/api/v1/forecasts", "/api/v1/dcat", "/metrics"} {
				code, _, body := e.get(p)
				if code != http.StatusOK {
					t.Errorf("%s = %d", p, code)
				}
				mustNotContain(t, p, body, secrets...)
				mustNotContain(t, p, body, secretComment)
			}
			_, _, body := e.get("/api/v1/indicators")
			var list struct {
				Indicators []struct{ ID string }
			}
			if err := json.Unmarshal([]byte(body), &list); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, i := range list.Indicators {
				ids = append(ids, i.ID)
			}
			if got := strings.Join(ids, ","); got != "andel-digitala,handlaggningstid,antal-e-tjanster,informationsindex" {
				t.Errorf("public indicators = %s", got)
			}
		})
	}

	t.Run("signed in", func(t *testing.T) {
		for _, p := range []string{"/ledning", "/uppfoljning", "/indikator/systemnojdhet", "/indikator/intern-kostnad"} {
			code, _, body := authed.get(p, "X-Test-User", "anna")
			if code != http.StatusOK {
				t.Errorf("%s = %d, want 200", p, code)
			}
			if p == "/indikator/intern-kostnad" {
				mustContain(t, p, body, secretIndicator, "Intern (visas bara för inloggade)")
			}
		}
		_, _, body := authed.get("/api/v1/indicators", "X-Test-User", "anna")
		mustContain(t, "signed-in API", body, `"intern-kostnad"`, `"systemnojdhet"`)
		_, _, body = authed.get("/api/v1/statuses", "X-Test-User", "anna")
		mustContain(t, "signed-in statuses", body, secretComment, draftComment)
		_, _, body = authed.get("/", "X-Test-User", "anna")
		mustNotContain(t, "public page, signed in", body, secrets...) // the public page stays public
		mustContain(t, "public page, signed in", body, `href="/ledning"`)
		_, _, body = authed.get("/metrics", "X-Test-User", "anna")
		mustContain(t, "signed-in metrics", body, `malbild_indicator_value{indicator="intern-kostnad",tenant="0999"} 455`)
	})
}

func TestXSSLabels(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal)
	for _, p := range []string{"/", "/indikator/andel-digitala", "/ledning"} {
		_, _, body := e.get(p)
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "</script><script>") {
			t.Errorf("%s: the label became markup", p)
		}
		// Every chart's options are valid JSON without the go-echarts
		// function marker.
		for _, m := range regexp.MustCompile(`(?s)<script type="application/json" id="([^"]+)">(.*?)</script>`).FindAllStringSubmatch(body, -1) {
			var v any
			if err := json.Unmarshal([]byte(m[2]), &v); err != nil {
				t.Errorf("%s: chart %s: options are not JSON: %v", p, m[1], err)
			}
			if strings.Contains(m[2], funcMarker) {
				t.Errorf("%s: chart %s contains %s", p, m[1], funcMarker)
			}
		}
	}
	_, _, body := e.get("/")
	mustContain(t, "services", body, "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;", "__f__function(){alert(2)}__f__")
	_, _, body = e.get("/indikator/andel-digitala")
	mustContain(t, "breakdown table", body, "<th scope=\"row\">&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</th>", "__f__function(){alert(2)}__f__</th>")
	// The breakdown chart shows both labels as text.
	m := regexp.MustCompile(`(?s)<script type="application/json" id="fordelning-andel-digitala-a-data">(.*?)</script>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no breakdown chart")
	}
	var opt struct {
		YAxis []struct{ Data []string } `json:"yAxis"`
	}
	if err := json.Unmarshal([]byte(m[1]), &opt); err != nil {
		t.Fatal(err)
	}
	labels := strings.Join(opt.YAxis[0].Data, "|")
	mustContain(t, "chart labels", labels, xssLabel, chartText(fnLabel))
	if strings.ReplaceAll(chartText(fnLabel), "\u200b", "") != fnLabel {
		t.Errorf("chartText changed the visible text: %q", chartText(fnLabel))
	}
}

func TestChartText(t *testing.T) {
	for in, want := range map[string]string{
		"Bygglov":         "Bygglov",
		"__f__":           "_\u200b_f__",
		"a__f__b__f__c":   "a_\u200b_f__b_\u200b_f__c",
		"___f___":         "__\u200b_f___",
		"__f____f__":      "_\u200b_f___\u200b_f__",
		`"__f__alert(1)"`: "\"_\u200b_f__alert(1)\"",
	} {
		got := chartText(in)
		if got != want {
			t.Errorf("chartText(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, funcMarker) {
			t.Errorf("chartText(%q) still holds the marker", in)
		}
	}
}

func TestAssets(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)})
	_, _, page := e.get("/")
	for _, name := range []string{"style.css", "charts.js"} {
		p := e.srv.assets.url(name)
		if !regexp.MustCompile(`^/assets/[0-9a-f]{12}/` + regexp.QuoteMeta(name) + `$`).MatchString(p) {
			t.Errorf("asset path %q", p)
		}
		if !strings.Contains(page, `"`+p+`"`) {
			t.Errorf("the page does not reference %s", p)
		}
		code, h, body := e.get(p)
		if code != http.StatusOK || body == "" {
			t.Errorf("%s = %d", p, code)
		}
		if got := h.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control = %q", p, got)
		}
		if code, _, _ := e.get(strings.Replace(p, "/assets/", "/assets/000000000000", 1)); code != http.StatusNotFound {
			t.Errorf("a wrong hash = %d, want 404", code)
		}
		code, _, _ = e.get(p, "If-None-Match", h.Get("ETag"))
		if code != http.StatusNotModified {
			t.Errorf("%s with its ETag = %d, want 304", p, code)
		}
	}
	if ec := e.srv.assets.url(echartsAsset); ec != "" {
		// charts.js fetches echarts when the first chart nears the screen.
		if !strings.Contains(page, `<script src="`+e.srv.assets.url("charts.js")+`" defer data-echarts="`+ec+`"></script>`) {
			t.Errorf("the page does not name echarts at %s for charts.js", ec)
		}
		if strings.Contains(page, `<script src="`+ec+`"`) {
			t.Errorf("the page loads echarts before any chart is near the screen")
		}
	}
	_, h, css := e.get(e.srv.assets.url("style.css"))
	if h.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("style.css Content-Type = %q", h.Get("Content-Type"))
	}
	mustContain(t, "style.css", css, "@media print", "@page { size: A4", ":focus-visible", "@media (max-width: 40rem)")
}

func TestMetricsEndpoint(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)})
	// A metric registered by somebody else (a collector) on the same registry.
	other := prometheus.NewCounter(prometheus.CounterOpts{Name: "malbild_collector_runs_total", Help: "test"})
	e.reg.MustRegister(other)
	other.Inc()
	_, first, _ := e.get("/")
	e.get("/")
	e.get("/finns-inte")
	if code, _, _ := e.get("/", "If-None-Match", first.Get("ETag")); code != http.StatusNotModified {
		t.Fatalf("GET / with its ETag = %d, want 304", code)
	}
	code, h, body := e.get("/metrics")
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics = %d %s", code, h.Get("Content-Type"))
	}
	mustContain(t, "/metrics", body,
		`malbild_http_requests_total{code="200",handler="public"} 2`,
		`malbild_http_requests_total{code="404",handler="not_found"} 1`,
		`malbild_http_requests_total{code="304",handler="public"} 1`,
		`malbild_http_request_duration_seconds_bucket{handler="public",le="0.5"}`,
		`malbild_http_request_duration_seconds_count{handler="public"} 3`,
		`malbild_collector_runs_total 1`,
		`malbild_indicator_value{indicator="andel-digitala",tenant="0999"} 63`,
		`malbild_indicator_value{indicator="handlaggningstid",tenant="0999"} 25`,
		`malbild_indicator_status{indicator="andel-digitala",status="off-track",tenant="0999"} 1`,
		`malbild_indicator_status{indicator="andel-digitala",status="met",tenant="0999"} 0`,
		`malbild_indicator_status{indicator="handlaggningstid",status="at-risk",tenant="0999"} 1`,
	)
	mustNotContain(t, "/metrics", body, "intern-kostnad", "systemnojdhet")
}

func TestHealthAndReady(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)})
	for _, p := range []string{"/-/healthy", "/-/ready"} {
		if code, _, _ := e.get(p); code != http.StatusOK {
			t.Errorf("%s = %d", p, code)
		}
	}
}

// TestStaleAndRecovery stops ClickHouse under a running server: the pages
// keep the last good data with a notice, /-/ready answers 503, and all
// recovers by itself when ClickHouse is back (at the next check after
// the refresh interval, stepped on the test's clock).
func TestStaleAndRecovery(t *testing.T) {
	ch := chtest.Server(t)
	store := openStore(t, ch.DSN("dashboards"))
	seed(t, store, "0999")
	e := startEnv(t, store, []*strategy.Strategy{testStrategy(t)}, openInternal, func(o *Options) {
		o.RefreshInterval = time.Minute
		o.QueryTimeout = 3 * time.Second
	})
	const notice = "Uppgifterna kan vara inaktuella"
	_, _, body := e.get("/")
	mustNotContain(t, "before", body, notice)
	mustContain(t, "before", body, "63 %", publishedComment)

	ch.Stop()
	_, _, body = e.get("/")
	mustNotContain(t, "within the refresh interval", body, notice)
	e.clock.Step(time.Minute)
	for _, p := range []string{"/", "/ledning", "/indikator/andel-digitala", "/uppfoljning"} {
		code, _, body := e.get(p)
		if code != http.StatusOK {
			t.Errorf("%s while ClickHouse is down = %d", p, code)
		}
		mustContain(t, p+" while ClickHouse is down", body, notice, "Senast hämtade: ")
	}
	_, _, body = e.get("/")
	mustContain(t, "while down", body, "63 %", publishedComment, "Andel ansökningar som görs digitalt")
	if code, _, _ := e.get("/-/ready"); code != http.StatusServiceUnavailable {
		t.Errorf("/-/ready while ClickHouse is down = %d, want 503", code)
	}
	if code, _, _ := e.get("/-/healthy"); code != http.StatusOK {
		t.Errorf("/-/healthy while ClickHouse is down = %d, want 200", code)
	}

	chtest.Restart(t, ch)
	_, _, body = e.get("/")
	mustContain(t, "back, within the refresh interval", body, notice)
	e.clock.Step(time.Minute)
	_, _, body = e.get("/")
	mustNotContain(t, "after recovery", body, notice)
	mustContain(t, "after recovery", body, "63 %", publishedComment)
	if code, _, _ := e.get("/-/ready"); code != http.StatusOK {
		t.Errorf("/-/ready after recovery = %d", code)
	}
}

// TestCacheFollowsDataVersion: a value written by another process shows
// after the refresh interval, not before; cached pages are reused in
// between. A write announced by this process (Changed) shows at once.
func TestCacheFollowsDataVersion(t *testing.T) {
	store := openStore(t, chtest.DSN(t))
	seed(t, store, "0999")
	e := startEnv(t, store, []*strategy.Strategy{testStrategy(t)}, func(o *Options) { o.RefreshInterval = time.Minute })
	_, _, before := e.get("/")
	mustContain(t, "before", before, "63 %")
	write := func(v float64) {
		t.Helper()
		err := store.WriteObservations(context.Background(), []strategy.Observation{{Tenant: "0999", Indicator: "andel-digitala",
			Period: strategy.Period{Kind: strategy.Year, Year: 2024}, Value: v, Source: "correction", Recorded: testNow}})
		if err != nil {
			t.Fatal(err)
		}
	}
	write(67)
	e.clock.Step(time.Minute - time.Nanosecond)
	if _, _, again := e.get("/"); again != before {
		t.Error("the page changed before the refresh interval passed")
	}
	e.clock.Step(time.Nanosecond)
	_, _, after := e.get("/")
	mustContain(t, "after", after, "67 %")

	write(71)
	e.srv.Changed("0999")
	_, _, body := e.get("/")
	mustContain(t, "after Changed", body, "71 %")
}

func TestMultipleMunicipalities(t *testing.T) {
	a := testStrategy(t)
	b := parseTestStrategy(t, "0998", "Annanstads kommun", "annanstad")
	e := newEnv(t, []*strategy.Strategy{a, b})
	code, _, body := e.get("/")
	if code != http.StatusOK {
		t.Fatalf("/ = %d", code)
	}
	mustContain(t, "list", body, `href="/exempelstad/"`, `href="/annanstad/"`, "Exempelstads kommun", "Annanstads kommun")
	for _, p := range []string{"/exempelstad/", "/0999/"} {
		code, _, body := e.get(p)
		if code != http.StatusOK {
			t.Fatalf("%s = %d", p, code)
		}
		mustContain(t, p, body, "Exempelstads kommun", `href="/exempelstad/indikator/andel-digitala"`,
			`href="/exempelstad/api/v1/observations.csv"`, `href="/exempelstad/tillganglighet"`, publishedComment)
	}
	_, _, body = e.get("/annanstad/indikator/andel-digitala")
	mustContain(t, "second municipality", body, "Annanstads kommun", "Andel ansökningar som görs digitalt")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(e.http.URL + "/exempelstad")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/exempelstad/" {
		t.Errorf("/exempelstad = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _, _ := e.get("/ingenstans/"); code != http.StatusNotFound {
		t.Errorf("unknown municipality = %d", code)
	}
	_, _, body = e.get("/api/v1/")
	mustContain(t, "API index", body, `"api": "/exempelstad/api/v1/"`, `"api": "/annanstad/api/v1/"`)
	_, _, body = e.get("/annanstad/api/v1/observations")
	mustContain(t, "tenant API", body, `"municipality": "0998"`)
	mustNotContain(t, "tenant API", body, `"municipality": "0999"`)
	_, _, body = e.get("/api/v1/dcat")
	mustContain(t, "catalogue", body, "/exempelstad/api/v1/observations.csv", "/annanstad/api/v1/observations.csv")
	if code, _, _ := e.get("/tillganglighet"); code != http.StatusOK {
		t.Errorf("/tillganglighet = %d", code)
	}
}

func TestLeadershipPage(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal)
	code, _, body := e.get("/ledning?period=2025-T2")
	if code != http.StatusOK {
		t.Fatalf("/ledning = %d", code)
	}
	mustContain(t, "leadership", body, "Ledningsöversikt", "Läget vid T2 2025",
		`<option value="2025-T2" selected>T2 2025</option>`, `<option value="2024">Helår 2024</option>`,
		"Avvikelser", "Målområden och status", "Indikatorer och prognos", "Mål 3 år", "Prognos 5 år",
		"I nuvarande takt nås målet först", "Jämförelse med andra kommuner", `<th scope="row">Värmdö</th>`, `<th scope="row">Mölndal</th>`, "Exempelstads kommun (vår kommun)",
		"Källa: Kolada", "Digital mognad", secretIndicator, `data-print hidden`)
	// Peers by name from the municipality register, not "Kommun 0120".
	mustNotContain(t, "peer names", body, "Kommun 0120", "Kommun 1481")
	// Exception first: deviations come before the overview, worst first.
	iDev, iOver := strings.Index(body, "Avvikelser"), strings.Index(body, "Målområden och status")
	if iDev < 0 || iOver < iDev {
		t.Error("deviations are not at the top")
	}
	// The current period's status is the third cell of a row (the
	// previous period's is the second).
	var cur []string
	for _, m := range regexp.MustCompile(`<tr class="compact[^"]*"[^>]*><th scope="row"[^>]*>.*?</th><td[^>]*>.*?</td><td[^>]*>(.*?)</td>`).FindAllStringSubmatch(body[iDev:iOver], -1) {
		cur = append(cur, m[1])
	}
	if a, b := slices.IndexFunc(cur, func(s string) bool { return strings.Contains(s, "Efter plan") }),
		slices.IndexFunc(cur, func(s string) bool { return strings.Contains(s, "Risk") }); a < 0 || b < 0 || b < a {
		t.Errorf("off-track indicators are not listed before those at risk: %q", cur)
	}
	code, _, body = e.get("/ledning?period=2024-T2")
	if code != http.StatusOK {
		t.Fatalf("?period=2024-T2 = %d", code)
	}
	mustContain(t, "2024-T2", body, "Läget vid T2 2024", `<option value="2024-T2" selected>`)
	mustNotContain(t, "period picker", body, `<option value="2025">`)
	for _, bad := range []string{"2025-Q1", "2025-T3", "2025", "2031", "nonsense", "2025-T9"} {
		if code, _, _ := e.get("/ledning?period=" + url.QueryEscape(bad)); code != http.StatusBadRequest {
			t.Errorf("?period=%s = %d, want 400", bad, code)
		}
	}
}

func TestIndicatorPage(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)})
	code, _, body := e.get("/indikator/andel-digitala")
	if code != http.StatusOK {
		t.Fatalf("= %d", code)
	}
	mustContain(t, "indicator", body, "<h1>Andel ansökningar som görs digitalt</h1>", "Utveckling", `class="chart large"`,
		"Utgångsvärde", "40 % (2022-12-31)", "Fördelning", "Per ärendetyp, Helår 2024", "Förskoleplats", "91 %",
		"Om indikatorn", "Metod", "Ansökningar via e-tjänst delat med alla ansökningar.", "Källa", "Högre är bättre",
		"Bedömningar", "Årsmålet för 2024 nåddes.", "Uppfyllt", "<caption>Andel ansökningar som görs digitalt: utfall och målbana</caption>",
		"<th scope=\"row\">Helår 2024</th><td class=\"num\">63 %</td>")
	mustNotContain(t, "public indicator page", body, "Anna Andersson", "Fastställd")
	_, _, body = e.get("/indikator/handlaggningstid")
	mustContain(t, "forecast", body, "Prognos", "Prognosintervall", "Lägre är bättre")
}

func TestFollowupPage(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal)
	code, _, body := e.get("/uppfoljning")
	if code != http.StatusOK {
		t.Fatalf("= %d", code)
	}
	mustContain(t, "follow-up", body, "Uppföljning", "År 2025", "T1 2025", "T2 2025", "utfall", "årsmål", "förslag",
		"Senaste värde", "inaktuellt", "Insamling", "arenden", "cases_csv", "kolada answered 502", "1200", secretIndicator)
	code, _, body = e.get("/uppfoljning?year=2024")
	if code != http.StatusOK {
		t.Fatalf("?year=2024 = %d", code)
	}
	// The seeded assessment of 2024 is confirmed and marked ready: the
	// period report's "Klarmarkerad" (progress.AssessmentState).
	mustContain(t, "2024", body, "Helår 2024", "T1 2024", "Klarmarkerad")
	if code, _, _ := e.get("/uppfoljning?year=1800"); code != http.StatusBadRequest {
		t.Errorf("?year=1800 = %d", code)
	}
}

func TestAPI(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, func(o *Options) { o.BaseURL = "https://mal.exempelstad.se/" })
	_, h, body := e.get("/api/v1/")
	if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type = %q", h.Get("Content-Type"))
	}
	mustContain(t, "index", body, `"/api/v1/strategy"`, `"/api/v1/observations.csv"`, `"/api/v1/dcat"`, licenceCC0)

	var st strategy.Strategy
	_, _, body = e.get("/api/v1/strategy")
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Areas) != 2 || st.Municipality.Code != "0999" || st.Areas[1].Goals[0].ID != "oppna-data" || len(st.Areas[1].Goals[0].Indicators) != 1 {
		t.Errorf("public strategy tree = %+v", st.Areas)
	}

	var obs struct {
		Observations []apiObservation `json:"observations"`
	}
	_, _, body = e.get("/api/v1/observations?indicator=andel-digitala")
	if err := json.Unmarshal([]byte(body), &obs); err != nil {
		t.Fatal(err)
	}
	if len(obs.Observations) != 7 {
		t.Errorf("observations of andel-digitala = %d, want 7 (2 totals, 5 break-downs)", len(obs.Observations))
	}
	_, h, body = e.get("/api/v1/observations.csv")
	if h.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Errorf("CSV Content-Type = %q", h.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "municipality,indicator,indicator_title,period,dimension_kind,dimension_value,value,unit,source,recorded" {
		t.Errorf("CSV header = %v", rows[0])
	}
	found := false
	for _, r := range rows[1:] {
		if r[1] == "andel-digitala" && r[3] == "2024" && r[5] == "" {
			found = r[6] == "63" && r[7] == "percent"
		}
	}
	if !found {
		t.Error("CSV lacks andel-digitala 2024 = 63")
	}

	if code, _, _ := e.get("/api/v1/observations?indicator=finns-inte"); code != http.StatusNotFound {
		t.Errorf("observations of an unknown indicator = %d, want 404", code)
	}
	if _, _, body := e.get("/api/v1/observations.csv?indicator=intern-kostnad"); strings.Contains(body, "intern-kostnad") {
		t.Error("the CSV gives an internal indicator's values to the public")
	}
	_, _, body = e.get("/api/v1/statuses")
	mustContain(t, "statuses", body, publishedComment, `"level": "partly"`)
	mustNotContain(t, "statuses", body, secrets...)
	_, _, body = e.get("/api/v1/forecasts")
	mustContain(t, "forecasts", body, `"indicator": "handlaggningstid"`, `"three_year"`)
	_, _, body = e.get("/api/v1/indicators/handlaggningstid")
	mustContain(t, "indicator", body, `"target_path"`, `"forecast"`, `"status"`)

	// DCAT-AP-SE catalogue as JSON-LD.
	_, h, body = e.get("/api/v1/dcat")
	if h.Get("Content-Type") != "application/ld+json; charset=utf-8" {
		t.Errorf("DCAT Content-Type = %q", h.Get("Content-Type"))
	}
	var cat map[string]any
	if err := json.Unmarshal([]byte(body), &cat); err != nil {
		t.Fatal(err)
	}
	if cat["@type"] != "dcat:Catalog" {
		t.Errorf("@type = %v", cat["@type"])
	}
	mustContain(t, "DCAT", body, `"dcat:Dataset"`, `"dcat:Distribution"`, `"dcterms:license"`, licenceCC0,
		`"https://mal.exempelstad.se/api/v1/observations.csv"`, `"dcat:contactPoint"`, `"mailto:kontakt@exempelstad.se"`,
		`"dcterms:publisher"`, "Exempelstads kommun", themeGOVE)
}

func TestDemoBanner(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal, func(o *Options) { o.Demo = true })
	for _, p := range []string{"/", "/ledning", "/indikator/andel-digitala", "/uppfoljning", "/tillganglighet", "/finns-inte"} {
		_, _, body := e.get(p)
		mustContain(t, p, body, `<div class="banner demo" role="note">`, "Demodata")
	}
}

func TestAccessibilityStatement(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, func(o *Options) {
		o.Accessibility = Accessibility{KnownIssues: []string{"Diagrammen saknar mönster för utskrift i svartvitt."}}
	})
	code, _, body := e.get("/tillganglighet")
	if code != http.StatusOK {
		t.Fatalf("= %d", code)
	}
	mustContain(t, "statement", body, "Tillgänglighetsredogörelse", "Exempelstads kommun står bakom", "DOS-lagen", "WCAG 2.1",
		"Rapportera problem", `href="mailto:kontakt@exempelstad.se"`, `href="tel:0812345600"`, "Digg",
		"Diagrammen saknar mönster för utskrift i svartvitt.",
		"delvis förenlig", "Diagrammen går inte att utforska med tangentbord eller skärmläsare", "Prognosintervallet",
		"har inte granskats manuellt")
	// The statement lists the known gaps honestly: never "no known problems".
	mustNotContain(t, "statement", body, "Vi känner inte till några brister")
	_, _, body = e.get("/tillganglighet?lang=en")
	mustContain(t, "English statement", body, "partially compliant", "The charts cannot be explored",
		`<li lang="sv">Diagrammen saknar mönster för utskrift i svartvitt.</li>`)
	mustNotContain(t, "English statement", body, "We know of no shortcomings")
}

func TestNewNeedsStoreAndStrategies(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without a store succeeded")
	}
	if _, err := New(Options{Store: (*clickhouse.Store)(nil)}); err == nil {
		t.Error("New without strategies succeeded")
	}
}

func TestNoStrategy(t *testing.T) {
	store := openStore(t, chtest.DSN(t))
	e := startEnv(t, store, nil)
	if code, _, body := e.get("/"); code != http.StatusServiceUnavailable || !strings.Contains(body, "Ingen strategi är inläst") {
		t.Errorf("/ without strategies = %d", code)
	}
	if code, _, _ := e.get("/-/healthy"); code != http.StatusOK {
		t.Errorf("/-/healthy = %d", code)
	}
}

func TestMessages(t *testing.T) {
	for key, m := range messages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("message %q lacks Swedish or English text", key)
		}
		if strings.Count(m[0], "%") != strings.Count(m[1], "%") {
			t.Errorf("message %q: the languages take different arguments", key)
		}
	}
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal)
	for _, p := range []string{"/", "/ledning", "/ledning?period=2024", "/indikator/andel-digitala", "/indikator/handlaggningstid",
		"/indikator/systemnojdhet", "/uppfoljning", "/tillganglighet", "/finns-inte"} {
		for _, lang := range []string{"sv", "en"} {
			u := p
			if lang == "en" {
				if strings.Contains(u, "?") {
					u += "&lang=en"
				} else {
					u += "?lang=en"
				}
			}
			_, _, body := e.get(u)
			if i := strings.Index(body, "⟦"); i >= 0 {
				t.Errorf("%s: untranslated message %s", u, body[i:min(len(body), i+40)])
			}
			if strings.Contains(body, "%!") {
				t.Errorf("%s: a message got the wrong arguments", u)
			}
			mustContain(t, u, body, `<html lang="`+lang+`"`)
		}
	}
}

// TestReevaluatesAsTimePasses: with unchanged data the statuses still
// follow the calendar (the open report period moves on).
func TestReevaluatesAsTimePasses(t *testing.T) {
	var mu sync.Mutex
	now := testNow
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal, func(o *Options) {
		o.RefreshInterval = time.Minute
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	// The period picker starts at the open report period.
	_, _, body := e.get("/ledning")
	mustContain(t, "June", body, `<select id="period" name="period">
<option value="2025-T2"`)
	mu.Lock()
	now = time.Date(2025, 9, 20, 12, 0, 0, 0, strategy.Stockholm)
	mu.Unlock()
	e.clock.Step(time.Minute)
	_, _, body = e.get("/ledning")
	mustContain(t, "September", body, `<select id="period" name="period">
<option value="2025"`)
}

// TestCacheCoversCollectorRuns: a failed collector run written after a
// page was cached shows on /uppfoljning at the next check (the data
// version covers collector runs, not only observations and assessments).
func TestCacheCoversCollectorRuns(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal, func(o *Options) { o.RefreshInterval = time.Minute })
	const failure = "rad 17: datumet 2025-13-01 finns inte"
	_, _, body := e.get("/uppfoljning")
	mustNotContain(t, "before", body, failure)
	at := testNow.Add(time.Hour)
	if err := e.store.RecordRun(context.Background(), clickhouse.Run{Tenant: "0999", Collector: "bygglov-export", Kind: "cases_csv",
		Started: at, Finished: at, Outcome: clickhouse.OutcomeFailed, Error: failure}); err != nil {
		t.Fatal(err)
	}
	e.clock.Step(time.Minute)
	_, _, body = e.get("/uppfoljning")
	mustContain(t, "after a failed run", body, failure)
}

// TestCachedPageIgnoresQuery: a request's query string never shapes a
// cached page that others get (here the link to the other language).
func TestCachedPageIgnoresQuery(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal)
	_, _, poisoned := e.get("/?x=POISONED%22%3E&next=//evil.example&pad=" + strings.Repeat("A", 50_000))
	_, _, plain := e.get("/")
	for name, body := range map[string]string{"the poisoning request": poisoned, "the next visitor": plain} {
		mustNotContain(t, name, body, "POISONED", "evil.example", "AAAAAAAAAA")
	}
	if len(plain) != len(poisoned) {
		t.Errorf("/ is %d bytes after a long query, %d for the visitor after", len(poisoned), len(plain))
	}
	mustContain(t, "link to English", plain, `href="/?lang=en"`)
	// A page's own parameters are kept, in canonical form.
	_, _, body := e.get("/ledning?period=2025-T1&x=1")
	mustContain(t, "leadership in another period", body, `href="/ledning?lang=en&amp;period=2025-T1"`)
	mustNotContain(t, "leadership in another period", body, "x=1")
}

// TestFaviconAndDescription: browsers find the site's icon at
// /favicon.ico and through the page's link (no 404 in the console), and
// every page has a meta description naming the municipality.
func TestFaviconAndDescription(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, openInternal)
	code, hdr, body := e.get("/favicon.ico")
	if code != http.StatusOK || hdr.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(body, "<svg") {
		t.Fatalf("/favicon.ico: %d %q %.40q", code, hdr.Get("Content-Type"), body)
	}
	for _, p := range []string{"/", "/ledning", "/indikator/andel-digitala", "/uppfoljning", "/tillganglighet", "/?lang=en"} {
		_, _, body := e.get(p)
		mustContain(t, p, body, `<meta name="description" content="`, `<link rel="icon" href="/assets/`)
		if !strings.Contains(body, `digitaliseringsstrategi: mål`) && !strings.Contains(body, `digitalisation strategy: goals`) {
			t.Errorf("%s: no description text", p)
		}
	}
}
