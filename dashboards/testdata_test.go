package dashboards

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/facts"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// Markers that must never appear on a public page or in a public answer.
const (
	secretGoal       = "Intern effektivitet Zebra"
	secretIndicator  = "Intern kostnad Kanin"
	secretComment    = "Intern kommentar Zebra"
	draftComment     = "UTKAST Giraff"
	publishedComment = "Bra fart men bygglovet släpar efter."
	xssLabel         = `</script><script>alert(1)</script>`
	fnLabel          = `__f__function(){alert(2)}__f__`
)

// testNow is the clock of the test server: in T2 2025.
var testNow = time.Date(2025, 6, 16, 10, 0, 0, 0, strategy.Stockholm)

// testStrategyYAML is a small strategy with public and internal goals and
// indicators, measured and milestone goals, a Kolada indicator, and
// untrusted-looking titles for escaping tests.
const testStrategyYAML = `
municipality:
  code: "0999"
  name: Exempelstads kommun
  slug: exempelstad
id: digital-2023
title:
  sv: Exempelstads digitaliseringsstrategi 2023–2027
  en: Exempelstad digitalisation strategy 2023–2027
vision:
  sv: Exempelstad ska vara enkel att ha att göra med, dygnet runt.
  en: Exempelstad is easy to deal with, around the clock.
description:
  sv: Strategin gäller alla förvaltningar och följs upp varje tertial.
adopted: 2022-11-20
start: 2023-01-01
end: 2027-12-31
rhythm: tertial
maturity:
  name:
    sv: Digital mognad i två dimensioner
  dimensions:
    - id: e-tjanster
      title:
        sv: E-tjänster
        en: E-services
    - id: intern
      title:
        sv: Intern digitalisering
        en: Internal digitalisation
areas:
  - id: e-tjanster
    title:
      sv: E-tjänster för invånare och företag
      en: E-services for residents and businesses
    dimension: e-tjanster
    goals:
      - id: ansokningar
        title:
          sv: Alla ansökningar ska gå att göra digitalt
          en: All applications can be made online
        public: true
        owner: Kommunstyrelsen
        indicators:
          - id: andel-digitala
            title:
              sv: Andel ansökningar som görs digitalt
              en: Share of applications made online
            method:
              sv: Ansökningar via e-tjänst delat med alla ansökningar.
            unit: percent
            direction: increase
            baseline: {value: 40, date: 2022-12-31}
            target_3y: 80
            target_5y: 95
            freshness: 13mo
            public: true
            source:
              measure: digital_share
          - id: handlaggningstid
            title:
              sv: Handläggningstid, median
              en: Handling time, median
            unit: days
            direction: decrease
            baseline: {value: 30, date: 2022-12-31}
            target_3y: -30%
            target_5y: -50%
            tolerance: 2
            public: true
            source:
              measure: handling_time_median
      - id: fler-e-tjanster
        title:
          sv: Fler e-tjänster
          en: More e-services
        public: true
        indicators:
          - id: antal-e-tjanster
            title:
              sv: Antal e-tjänster
              en: Number of e-services
            unit: count
            direction: increase
            baseline: {value: 20, date: 2022-12-31}
            target_3y: 60
            target_5y: 100
            public: true
            source:
              measure: eservices_active
      - id: behovsanalys
        title:
          sv: En process för behovsanalys av e-tjänster
        kind: milestone
        due: 2024-12-31
        done: 2024-10-01
        public: true
  - id: intern
    title:
      sv: Intern effektivitet
      en: Internal efficiency
    dimension: intern
    goals:
      - id: intern-effektivitet
        title:
          sv: ` + secretGoal + `
        public: false
        indicators:
          - id: systemnojdhet
            title:
              sv: Systemnöjdhet Zebra
            unit: index
            direction: increase
            baseline: {value: 3, date: 2022-12-31}
            target_3y: 4
            public: false
            source:
              series: systemnojdhet
          - id: tillganglighet
            title:
              sv: Tillgänglighet för e-tjänsterna
            unit: percent
            direction: increase
            baseline: {value: 99, date: 2022-12-31}
            target_3y: 99.5
            public: false
            source:
              measure: availability_uptime
      - id: oppna-data
        title:
          sv: Öppna data och jämförelser
        public: true
        indicators:
          - id: intern-kostnad
            title:
              sv: ` + secretIndicator + `
            unit: tkr
            direction: decrease
            baseline: {value: 500, date: 2022-12-31}
            target_3y: 400
            public: false
            source:
              series: intern-kostnad
          - id: informationsindex
            title:
              sv: Informationsindex på webbplatsen
              en: Website information index
            unit: percent
            direction: increase
            baseline: {value: 50, date: 2022-12-31}
            target_3y: 75
            target_5y: 90
            public: true
            source:
              kolada: U07431
`

// parseTestStrategy parses testStrategyYAML, or a variant with code,
// name and slug replaced.
func parseTestStrategy(t testing.TB, code, name, slug string) *strategy.Strategy {
	t.Helper()
	y := strings.NewReplacer(`"0999"`, `"`+code+`"`, "Exempelstads kommun", name, "slug: exempelstad", "slug: "+slug).Replace(testStrategyYAML)
	st, err := strategy.Parse("test-strategy.yaml", []byte(y))
	if err != nil {
		t.Fatalf("parsing the test strategy: %v", err)
	}
	return st
}

func yearly(y int) strategy.Period { return strategy.Period{Kind: strategy.Year, Year: y} }
func tertial(y, n int) strategy.Period {
	return strategy.Period{Kind: strategy.Tertial, Year: y, N: n}
}

// seed writes the test data of tenant through the real store.
func seed(t testing.TB, store *clickhouse.Store, tenant string) {
	t.Helper()
	ctx := context.Background()
	rec := time.Date(2025, 5, 20, 8, 0, 0, 0, strategy.Stockholm)
	ob := func(ind string, p strategy.Period, v float64, dim ...string) strategy.Observation {
		o := strategy.Observation{Tenant: tenant, Indicator: ind, Period: p, Value: v, Source: "test", Recorded: rec}
		if len(dim) == 2 {
			o.Dimension = strategy.Dimension{Kind: dim[0], Value: dim[1]}
		}
		return o
	}
	obs := []strategy.Observation{
		ob("andel-digitala", yearly(2023), 52), ob("andel-digitala", yearly(2024), 63),
		ob("andel-digitala", yearly(2024), 78, "case_type", "Bygglov"),
		ob("andel-digitala", yearly(2024), 91, "case_type", "Förskoleplats"),
		ob("andel-digitala", yearly(2024), 40, "case_type", xssLabel),
		ob("andel-digitala", yearly(2024), 21, "case_type", fnLabel),
		ob("andel-digitala", yearly(2023), 70, "case_type", "Bygglov"),
		ob("antal-e-tjanster", yearly(2023), 31), ob("antal-e-tjanster", yearly(2024), 44),
		ob("systemnojdhet", yearly(2023), 3.2), ob("systemnojdhet", yearly(2024), 3.5),
		ob("intern-kostnad", yearly(2023), 480), ob("intern-kostnad", yearly(2024), 455),
		ob("informationsindex", yearly(2023), 58), ob("informationsindex", yearly(2024), 64),
	}
	for i, v := range []float64{29, 28, 27.5, 27, 26, 25.5, 25} {
		p := tertial(2023, 1)
		for range i {
			p = p.Next()
		}
		obs = append(obs, ob("handlaggningstid", p, v))
	}
	if err := store.WriteObservations(ctx, obs); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2025, 5, 12, 9, 0, 0, 0, strategy.Stockholm)
	for _, a := range []strategy.Assessment{
		{Subject: strategy.SubjectGoal, SubjectID: "ansokningar", Period: tertial(2025, 1), Level: strategy.LevelPartly,
			Comment: publishedComment, Ready: true, Confirmed: true, Author: "Anna Andersson", Created: created, Revision: 1},
		{Subject: strategy.SubjectGoal, SubjectID: "ansokningar", Period: tertial(2025, 1), Level: strategy.LevelNotMet,
			Comment: draftComment, Author: "Bertil Berg", Created: created.Add(time.Hour), Revision: 2},
		{Subject: strategy.SubjectGoal, SubjectID: "intern-effektivitet", Period: tertial(2025, 1), Level: strategy.LevelMet,
			Comment: secretComment, Ready: true, Confirmed: true, Author: "Anna Andersson", Created: created, Revision: 1},
		{Subject: strategy.SubjectIndicator, SubjectID: "andel-digitala", Period: yearly(2024), Level: strategy.LevelMet,
			Comment: "Årsmålet för 2024 nåddes.", Ready: true, Confirmed: true, Author: "Anna Andersson", Created: created, Revision: 1},
	} {
		a.Tenant = tenant
		if err := store.WriteAssessment(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	checked := time.Date(2025, 6, 16, 9, 55, 0, 0, strategy.Stockholm)
	one := 76.0
	vals := map[string]float64{tenant: 64, "0120": 71, "1481": 59, "0188": 66}
	var bench []facts.BenchmarkValue
	for code, v := range vals {
		v := v
		bench = append(bench, facts.BenchmarkValue{Source: "kolada", KPI: "U07431", Municipality: code, Year: 2024, Gender: "T", Value: &v})
	}
	bench = append(bench, facts.BenchmarkValue{Source: "kolada", KPI: "U07431", Municipality: tenant, Year: 2023, Gender: "T", Value: &one})
	err := store.WriteBatch(ctx, &facts.Batch{Tenant: tenant, Collector: "test", Source: "test",
		Probes: []facts.ProbeResult{
			{Service: "Bygglov", URL: "http://127.0.0.1:1/bygglov", Time: checked, OK: true, Status: 200, Duration: 120 * time.Millisecond},
			{Service: xssLabel, URL: "http://127.0.0.1:1/x", Time: checked, OK: false, Status: 503, Error: "503 Service Unavailable"},
			{Service: fnLabel, URL: "http://127.0.0.1:1/f", Time: checked, OK: true, Status: 200},
		},
		Benchmarks: bench,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []clickhouse.Run{
		{Tenant: tenant, Collector: "arenden", Kind: "cases_csv", Started: checked.Add(-time.Hour), Finished: checked.Add(-59 * time.Minute), Rows: 1200, Outcome: clickhouse.OutcomeOK},
		{Tenant: tenant, Collector: "kolada", Kind: "kolada", Started: checked.Add(-2 * time.Hour), Finished: checked.Add(-2 * time.Hour), Outcome: clickhouse.OutcomeFailed, Error: "kolada answered 502"},
	} {
		if err := store.RecordRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
}

// env is a test server over a real store with seeded data.
type env struct {
	t      testing.TB
	store  *clickhouse.Store
	srv    *Server
	http   *httptest.Server
	strats []*strategy.Strategy
	reg    *prometheus.Registry
	clock  *stepClock
}

type envOption func(*Options)

// stepClock is the refresh clock of a test server: it stands still until
// the test steps it, so what a request sees never depends on how fast
// the machine is.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Step moves the clock on by d.
func (c *stepClock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newEnv opens a fresh database on the shared throwaway ClickHouse, seeds
// it for every strategy, and starts the dashboards on it.
func newEnv(t testing.TB, strats []*strategy.Strategy, opts ...envOption) *env {
	t.Helper()
	store := openStore(t, chtest.DSN(t))
	for _, st := range strats {
		seed(t, store, st.Municipality.Code)
	}
	return startEnv(t, store, strats, opts...)
}

func openStore(t testing.TB, dsn string) *clickhouse.Store {
	t.Helper()
	ctx := context.Background()
	store, err := clickhouse.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return store
}

func startEnv(t testing.TB, store *clickhouse.Store, strats []*strategy.Strategy, opts ...envOption) *env {
	t.Helper()
	reg := prometheus.NewRegistry()
	o := Options{
		Store:      store,
		Strategies: func() []*strategy.Strategy { return strats },
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registerer: reg,
		Gatherer:   reg,
		Contact:    Contact{Name: "Kontaktcenter", Email: "kontakt@exempelstad.se", Phone: "08-123 456 00"},
		Now:        func() time.Time { return testNow },
	}
	clock := &stepClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	o.Clock = clock.Now
	for _, f := range opts {
		f(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &env{t: t, store: store, srv: srv, http: hs, strats: strats, reg: reg, clock: clock}
}

func openInternal(o *Options) { o.OpenInternal = true }

// get fetches path and returns the status, headers and body.
func (e *env) get(path string, header ...string) (int, http.Header, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.http.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}
