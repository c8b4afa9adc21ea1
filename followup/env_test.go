package followup

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/malbild/malbild/auth"
	"github.com/malbild/malbild/clickhouse"
	"github.com/malbild/malbild/dashboards"
	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// testNow is the test clock: in T2 2025, so T1 2025 is the report due.
var testNow = time.Date(2025, 6, 16, 10, 0, 0, 0, strategy.Stockholm)

var (
	t1 = strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 1}
	t2 = strategy.Period{Kind: strategy.Tertial, Year: 2025, N: 2}
)

const (
	tenant       = "0999"
	secretGoal   = "Intern effektivitet Zebra"
	secretInd    = "Intern kostnad Kanin"
	testPassword = "ett-långt-lösenord"
)

const testStrategyYAML = `
municipality:
  code: "0999"
  name: Exempelstads kommun
id: digital-2024
title:
  sv: Exempelstads digitaliseringsstrategi
  en: Exempelstad digitalisation strategy
vision:
  sv: Enkel att ha att göra med, dygnet runt.
adopted: 2023-11-20
start: 2024-01-01
rhythm: tertial
areas:
  - id: e-tjanster
    title:
      sv: E-tjänster för invånare
    goals:
      - id: ansokningar
        title:
          sv: Alla ansökningar ska gå att göra digitalt
        public: true
        owner: Kommunstyrelsen
        indicators:
          - id: andel-digitala
            title:
              sv: Andel ansökningar som görs digitalt
            unit: percent
            direction: increase
            baseline: {value: 40, date: 2023-12-31}
            yearly: {"2025": 70}
            target_3y: 90
            public: true
            owner: IT-avdelningen
            source:
              series: andel-digitala
          - id: antal-e-tjanster
            title:
              sv: Antal e-tjänster
            unit: count
            direction: increase
            baseline: {value: 20, date: 2023-12-31}
            target_3y: 60
            public: true
            owner: Kultur
            source:
              series: antal-e-tjanster
  - id: intern
    title:
      sv: Intern effektivitet
    goals:
      - id: intern-effektivitet
        title:
          sv: ` + secretGoal + `
        public: false
        owner: IT-avdelningen
        indicators:
          - id: intern-kostnad
            title:
              sv: ` + secretInd + `
            unit: tkr
            direction: decrease
            baseline: {value: 500, date: 2023-12-31}
            target_3y: 400
            public: false
            source:
              series: intern-kostnad
`

type env struct {
	t     testing.TB
	store *clickhouse.Store
	dsn   string
	auth  *auth.Authenticator
	dash  *dashboards.Server
	svc   *Service
	srv   *httptest.Server
	st    *strategy.Strategy
	users string
	// journal is the workflow's audit journal directory.
	journal string
	mu      sync.Mutex
	logged  []string
}

func parseStrategy(t testing.TB) *strategy.Strategy {
	t.Helper()
	st, err := strategy.Parse("test-strategy.yaml", []byte(testStrategyYAML))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newEnv(t *testing.T) *env { return newEnvWith(t, nil) }

// newEnvWith is newEnv with the workflow's store wrapped by wrap (the
// dashboards keep the real one).
func newEnvWith(t *testing.T, wrap func(Store) Store) *env {
	return newEnvCfg(t, envCfg{wrap: wrap})
}

// newEnvAuth is newEnvWith with the auth options changed by mod, which
// also gets the server's URL (e.g. for an OpenID Connect redirect URL).
func newEnvAuth(t *testing.T, wrap func(Store) Store, mod func(o *auth.Options, baseURL string)) *env {
	return newEnvCfg(t, envCfg{wrap: wrap, auth: mod})
}

// envCfg changes what newEnvCfg builds: the database (default: a fresh
// one on the shared server), a wrapper around the workflow's store, the
// audit journal's directory (default: a temporary one) and the auth
// options.
type envCfg struct {
	dsn     string
	wrap    func(Store) Store
	journal string
	auth    func(o *auth.Options, baseURL string)
}

func newEnvCfg(t testing.TB, cfg envCfg) *env {
	t.Helper()
	ctx := context.Background()
	if cfg.dsn == "" {
		cfg.dsn = chtest.DSN(t)
	}
	if cfg.journal == "" {
		cfg.journal = t.TempDir()
	}
	wrap, mod := cfg.wrap, cfg.auth
	e := &env{t: t, dsn: cfg.dsn, st: parseStrategy(t), journal: cfg.journal}
	e.srv = httptest.NewUnstartedServer(nil) // its address is known before it starts
	var err error
	if e.store, err = clickhouse.Open(ctx, e.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	if _, err := e.store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rec := time.Date(2025, 5, 20, 8, 0, 0, 0, strategy.Stockholm)
	var obs []strategy.Observation
	for _, o := range []struct {
		ind string
		p   strategy.Period
		v   float64
	}{
		{"andel-digitala", strategy.Period{Kind: strategy.Year, Year: 2024}, 58},
		{"andel-digitala", t1, 66},
		{"antal-e-tjanster", strategy.Period{Kind: strategy.Year, Year: 2024}, 31},
		{"intern-kostnad", strategy.Period{Kind: strategy.Year, Year: 2024}, 455},
	} {
		obs = append(obs, strategy.Observation{Tenant: tenant, Indicator: o.ind, Period: o.p, Value: o.v, Source: "test", Recorded: rec})
	}
	if err := e.store.WriteObservations(ctx, obs); err != nil {
		t.Fatal(err)
	}

	e.users = filepath.Join(t.TempDir(), "users.yaml")
	uf := auth.NewUsersFile(e.users)
	h, _ := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	for _, u := range []auth.User{
		{Name: "anna", DisplayName: "Anna Admin", Role: auth.Admin},
		{Name: "bo", DisplayName: "Bo Berg", Role: auth.Editor, Owners: []string{"IT-avdelningen"}},
		{Name: "cy", Role: auth.Editor, Owners: []string{"Kultur"}},
		{Name: "vera", Role: auth.Viewer},
	} {
		u.PasswordHash = string(h)
		if err := uf.Add(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := uf.Save(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ao := auth.Options{UsersFile: e.users, TrustedHeader: "X-Remote-User", Proxies: []string{"127.0.0.2"},
		OnEvent: AuthEvents(e.store, log, func() time.Time { return testNow }), Now: func() time.Time { return testNow }}
	if mod != nil {
		mod(&ao, "http://"+e.srv.Listener.Addr().String())
	}
	e.auth, err = auth.New(ao)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	e.dash, err = dashboards.New(dashboards.Options{Store: e.store, Strategies: func() []*strategy.Strategy { return []*strategy.Strategy{e.st} },
		Logger: log, Registerer: reg, Gatherer: reg, Now: func() time.Time { return testNow },
		Authorizer: e.auth.Authorizer, RefreshInterval: time.Hour, Clock: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	var store Store = e.store
	if wrap != nil {
		store = wrap(e.store)
	}
	e.svc, err = New(Options{Store: store, Auth: e.auth, Site: e.dash, Now: func() time.Time { return testNow }, Logger: log, AuditJournal: cfg.journal})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = e.auth.RedirectUnauthorized(e.dash.Handler(), "/logga-in")
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

// client is a browser: a cookie jar, no automatic redirects, and an
// optional source address (127.0.0.2 is the trusted proxy).
type client struct {
	e    *env
	hc   *http.Client
	csrf string
	hdr  http.Header
}

func (e *env) client(from string) *client {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &client{e: e, hdr: http.Header{}, hc: &http.Client{Jar: jar, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	code int
	hdr  http.Header
	body string
}

func (c *client) do(method, path string, body io.Reader, ctype string) answer {
	c.e.t.Helper()
	req, err := http.NewRequest(method, c.e.srv.URL+path, body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	for k, v := range c.hdr {
		req.Header[k] = v
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{resp.StatusCode, resp.Header, string(b)}
	if m := csrfRE.FindStringSubmatch(a.body); m != nil && !strings.HasPrefix(path, "/logga-in") {
		c.csrf = m[1]
	}
	return a
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) get(path string) answer { return c.do("GET", path, nil, "") }

// post sends a form; the session's CSRF token is added unless the values
// hold one (an empty "csrf" sends none).
func (c *client) post(path string, v url.Values) answer {
	if _, ok := v["csrf"]; !ok && c.csrf != "" {
		v.Set("csrf", c.csrf)
	} else if v.Get("csrf") == "" {
		v.Del("csrf")
	}
	return c.do("POST", path, strings.NewReader(v.Encode()), "application/x-www-form-urlencoded")
}

// login signs in through the form.
func (e *env) login(name string) *client {
	e.t.Helper()
	c := e.client("127.0.0.1")
	if a := c.loginAs(name, testPassword); a.code != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d %s", name, a.code, a.body)
	}
	c.get("/uppfoljning/rapport") // picks up the session's CSRF token
	if c.csrf == "" {
		e.t.Fatalf("no CSRF token for %s", name)
	}
	return c
}

func (c *client) loginAs(name, pw string) answer {
	a := c.get("/logga-in")
	m := csrfRE.FindStringSubmatch(a.body)
	if m == nil {
		c.e.t.Fatalf("no sign-in token: %d %s", a.code, a.body)
	}
	return c.do("POST", "/logga-in", strings.NewReader(url.Values{"csrf": {m[1]}, "namn": {name}, "losenord": {pw}}.Encode()),
		"application/x-www-form-urlencoded")
}

func (e *env) assessments(confirmedOnly bool) []strategy.Assessment {
	e.t.Helper()
	as, err := e.store.Assessments(context.Background(), clickhouse.AssessmentFilter{Tenant: tenant, ConfirmedOnly: confirmedOnly})
	if err != nil {
		e.t.Fatal(err)
	}
	return as
}

// audit returns the audit trail's actions, oldest first.
func (e *env) audit() []clickhouse.AuditEntry {
	e.t.Helper()
	es, err := e.store.AuditLog(context.Background(), clickhouse.AuditFilter{Tenant: tenant, IncludeGlobal: true})
	if err != nil {
		e.t.Fatal(err)
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}

func (e *env) writes() []string {
	var out []string
	for _, a := range e.audit() {
		if !strings.HasPrefix(a.Action, "login") && a.Action != "logout" {
			out = append(out, a.Action)
		}
	}
	return out
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("%s contains %q", what, b)
		}
	}
}

// formOf is a filled-in assessment form.
func formOf(level, forecast, comment, button string, base uint64, ready bool) url.Values {
	v := url.Values{"niva": {level}, "prognos": {forecast}, "kommentar": {comment}, "knapp": {button}, "bas": {u64(base)}}
	if ready {
		v.Set("klar", "1")
	}
	return v
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }
