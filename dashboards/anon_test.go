package dashboards

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/malbild/malbild/internal/chtest"
	"github.com/malbild/malbild/strategy"
)

// What an anonymous visitor can learn (issue 11, item 8).

// sameAnswer fails unless two answers are the same once each's id is
// replaced by a placeholder (the address is echoed in the language link
// and the API's error).
func sameAnswer(t *testing.T, what string, codeA int, hA http.Header, bodyA, idA string, codeB int, hB http.Header, bodyB, idB string) {
	t.Helper()
	if codeA != codeB {
		t.Errorf("%s: status %d, but %d for an unknown id", what, codeA, codeB)
	}
	for _, k := range []string{"Content-Type", "Cache-Control", "Location", "Set-Cookie", "Www-Authenticate"} {
		if hA.Get(k) != hB.Get(k) {
			t.Errorf("%s: %s %q, but %q for an unknown id", what, k, hA.Get(k), hB.Get(k))
		}
	}
	if a, b := strings.ReplaceAll(bodyA, idA, "⟨id⟩"), strings.ReplaceAll(bodyB, idB, "⟨id⟩"); a != b {
		t.Errorf("%s: body differs from an unknown id's\n--- internal:\n%s\n--- unknown:\n%s", what, a, b)
	}
}

// TestInternalAnswersLikeUnknown: to a request that may not see internal
// data, an internal indicator (or a public one under an internal goal)
// answers exactly like an id that does not exist — page, API and
// observations — so the answer does not reveal which ids exist.
func TestInternalAnswersLikeUnknown(t *testing.T) {
	st := testStrategy(t)
	store := openStore(t, chtest.DSN(t))
	seed(t, store, "0999")
	authorizer := func(r *http.Request) (string, bool) { return "anna", r.Header.Get("X-Test-User") == "anna" }
	closed := startEnv(t, store, []*strategy.Strategy{st})
	authed := startEnv(t, store, []*strategy.Strategy{st}, func(o *Options) {
		o.Authorizer = authorizer
		o.SignedIn = func(r *http.Request) string { u, _ := authorizer(r); return u }
	})
	const unknown = "finns-inte-alls"
	for name, e := range map[string]*env{"closed by default": closed, "authorizer, not signed in": authed} {
		t.Run(name, func(t *testing.T) {
			for _, id := range []string{"intern-kostnad", "systemnojdhet"} {
				for _, pat := range []string{"/indikator/%s", "/indikator/%s?lang=en", "/api/v1/indicators/%s",
					"/api/v1/observations?indicator=%s", "/api/v1/observations.csv?indicator=%s",
					"/api/v1/observations?indicator=andel-digitala,%s"} {
					p, u := strings.Replace(pat, "%s", id, 1), strings.Replace(pat, "%s", unknown, 1)
					codeA, hA, bodyA := e.get(p, "Accept", "text/html")
					codeB, hB, bodyB := e.get(u, "Accept", "text/html")
					sameAnswer(t, p, codeA, hA, bodyA, id, codeB, hB, bodyB, unknown)
					if strings.HasPrefix(pat, "/indikator/") && codeA != http.StatusNotFound {
						t.Errorf("%s = %d, want 404", p, codeA)
					}
					mustNotContain(t, p, strings.ReplaceAll(bodyA, id, ""), secrets...)
				}
			}
			// The 404 page says that internal pages need a sign-in, to
			// every visitor alike.
			_, _, body := e.get("/indikator/" + unknown)
			mustContain(t, "404 page", body, "Interna sidor visas bara för inloggade medarbetare.")
		})
	}
	// Signed in, the same addresses answer.
	for _, p := range []string{"/indikator/intern-kostnad", "/api/v1/indicators/intern-kostnad"} {
		if code, _, _ := authed.get(p, "X-Test-User", "anna"); code != http.StatusOK {
			t.Errorf("signed in: %s = %d", p, code)
		}
	}
	_, _, body := authed.get("/api/v1/observations?indicator=intern-kostnad", "X-Test-User", "anna")
	mustContain(t, "signed-in observations", body, `"indicator": "intern-kostnad"`)
}

// flakyStore is a Store whose Ping fails while down is set.
type flakyStore struct {
	Store
	mu   sync.Mutex
	down error
}

func (f *flakyStore) Ping(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		return f.down
	}
	return f.Store.Ping(ctx)
}

func (f *flakyStore) set(err error) {
	f.mu.Lock()
	f.down = err
	f.mu.Unlock()
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestReadyHidesTheDatabase: /-/ready tells the public only whether
// Målbild is ready; the database's address and error go to the log, once
// per outage.
func TestReadyHidesTheDatabase(t *testing.T) {
	store := openStore(t, chtest.DSN(t))
	seed(t, store, "0999")
	flaky := &flakyStore{Store: store}
	var logs syncBuffer
	e := startEnv(t, store, []*strategy.Strategy{testStrategy(t)}, func(o *Options) {
		o.Store = flaky
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	const detail = "pinging ClickHouse at 10.1.2.3:9000: dial tcp 10.1.2.3:9000: connect: connection refused"
	flaky.set(errors.New(detail))
	for range 3 {
		code, h, body := e.get("/-/ready")
		if code != http.StatusServiceUnavailable {
			t.Errorf("/-/ready while down = %d, want 503", code)
		}
		if body != "Målbild is not ready: the database does not answer.\n" {
			t.Errorf("/-/ready while down says %q", body)
		}
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control = %q", h.Get("Cache-Control"))
		}
	}
	if n := strings.Count(logs.String(), "10.1.2.3:9000: connect: connection refused"); n != 1 {
		t.Errorf("the cause was logged %d times, want once per outage:\n%s", n, logs.String())
	}
	flaky.set(nil)
	if code, _, body := e.get("/-/ready"); code != http.StatusOK || body != "Målbild is ready.\n" {
		t.Errorf("/-/ready after recovery = %d %q", code, body)
	}
	mustContain(t, "log", logs.String(), "ready again")
}

// TestMetricsAllowList: with an allow-list, /metrics answers only to
// clients inside it (by their TCP address); the rest get 403 and nothing
// of the metrics.
func TestMetricsAllowList(t *testing.T) {
	store := openStore(t, chtest.DSN(t))
	seed(t, store, "0999")
	strats := []*strategy.Strategy{testStrategy(t)}
	outside := startEnv(t, store, strats, func(o *Options) {
		o.MetricsAllow = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("::1/128")}
	})
	code, h, body := outside.get("/metrics", "X-Forwarded-For", "192.0.2.7")
	if code != http.StatusForbidden {
		t.Errorf("/metrics from 127.0.0.1 outside the allow-list = %d, want 403", code)
	}
	mustNotContain(t, "refused /metrics", body, "malbild_", "go_")
	if h.Get("Content-Security-Policy") != cspWant {
		t.Errorf("refused /metrics: CSP = %q", h.Get("Content-Security-Policy"))
	}
	inside := startEnv(t, store, strats, func(o *Options) {
		o.MetricsAllow = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	})
	inside.get("/")
	code, _, body = inside.get("/metrics")
	if code != http.StatusOK {
		t.Errorf("/metrics from 127.0.0.1 inside the allow-list = %d, want 200", code)
	}
	mustContain(t, "allowed /metrics", body, "malbild_http_requests_total", "malbild_indicator_value")
	// The rest of the site is not limited.
	if code, _, _ := outside.get("/"); code != http.StatusOK {
		t.Errorf("/ with a metrics allow-list = %d", code)
	}
}

// TestMetricsApart: with /metrics on an address of its own, the main
// handler answers it like any unknown path and MetricsHandler serves it.
func TestMetricsApart(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, func(o *Options) { o.MetricsApart = true })
	code, _, body := e.get("/metrics")
	if code != http.StatusNotFound {
		t.Errorf("/metrics on the main handler = %d, want 404", code)
	}
	_, _, unknown := e.get("/finns-inte")
	if strings.ReplaceAll(body, "/metrics", "⟨p⟩") != strings.ReplaceAll(unknown, "/finns-inte", "⟨p⟩") {
		t.Error("/metrics on the main handler does not answer like an unknown path")
	}
	mustNotContain(t, "/metrics on the main handler", body, "malbild_http_requests_total")

	ms := httptest.NewServer(e.srv.MetricsHandler())
	t.Cleanup(ms.Close)
	resp, err := http.Get(ms.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics on its own address = %d", resp.StatusCode)
	}
	mustContain(t, "/metrics on its own address", b.String(), "malbild_http_requests_total", "malbild_indicator_value")
	if resp.Header.Get("Content-Security-Policy") != cspWant {
		t.Errorf("/metrics on its own address: CSP = %q", resp.Header.Get("Content-Security-Policy"))
	}
	for _, p := range []string{"/", "/ledning", "/-/ready", "/api/v1/"} {
		resp, err := http.Get(ms.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s on the metrics address = %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestNoCookiesForAnonymousVisitors: the footer's promise holds — no
// page an anonymous visitor can reach sets a cookie, and the footer says
// that only signing in does.
func TestNoCookiesForAnonymousVisitors(t *testing.T) {
	e := newEnv(t, []*strategy.Strategy{testStrategy(t)}, func(o *Options) {
		o.Authorizer = func(*http.Request) (string, bool) { return "", false }
		o.SignedIn = func(*http.Request) string { return "" }
	})
	for _, p := range []string{"/", "/?lang=en", "/ledning", "/uppfoljning", "/indikator/andel-digitala", "/indikator/intern-kostnad",
		"/tillganglighet", "/api/v1/", "/api/v1/strategy", "/api/v1/indicators", "/api/v1/observations", "/api/v1/observations.csv",
		"/api/v1/statuses", "/api/v1/forecasts", "/api/v1/dcat", "/metrics", "/-/healthy", "/-/ready", "/finns-inte",
		e.srv.assets.url("style.css")} {
		_, h, body := e.get(p, "Accept", "text/html")
		if c := h.Values("Set-Cookie"); len(c) > 0 {
			t.Errorf("%s sets a cookie: %q", p, c)
		}
		if strings.Contains(h.Get("Content-Type"), "text/html") {
			mustNotContain(t, p, body, "Inga kakor", "No cookies")
		}
	}
	_, _, body := e.get("/")
	mustContain(t, "footer", body, "Inga tjänster från andra webbplatser används. Kakor används bara när du loggar in.")
	_, _, body = e.get("/?lang=en")
	mustContain(t, "footer", body, "No services from other websites are used. Cookies are used only when you sign in.")
}
