package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/malbild/malbild/internal/oidctest"
)

// oidcApp is a relying party around an Authenticator, the way the
// follow-up pages use it, with a browser-like client (cookie jar,
// following redirects).
type oidcApp struct {
	a    *Authenticator
	idp  *oidctest.Provider
	clk  *clock
	ev   *events
	srv  *httptest.Server
	jar  http.CookieJar
	http *http.Client
}

var oidcGroups = []OIDCGroup{
	{Group: "malbild-admin", Role: Admin},
	{Group: "malbild-redaktor", Role: Editor, Owners: []string{"IT-avdelningen"}},
	{Group: "malbild-lasare", Role: Viewer},
	{Group: "ks-tjansteman", Owners: []string{"Kommunstyrelsen"}}, // owners only: default role
}

func newOIDCApp(t *testing.T, mod func(o *OIDCOptions)) *oidcApp { return newOIDCAppWith(t, mod, nil) }

// newOIDCAppWith is newOIDCApp with the Authenticator's options changed
// by modAuth too.
func newOIDCAppWith(t *testing.T, mod func(o *OIDCOptions), modAuth func(o *Options)) *oidcApp {
	t.Helper()
	clk := &clock{t: time.Date(2025, 5, 12, 9, 0, 0, 0, time.UTC)}
	app := &oidcApp{clk: clk, ev: &events{}}
	app.idp = oidctest.Start(t, clk.now)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /logga-in/oidc", func(w http.ResponseWriter, r *http.Request) {
		to, err := app.a.StartOIDC(w, r, r.URL.Query().Get("next"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	})
	mux.HandleFunc("GET /logga-in/oidc/callback", func(w http.ResponseWriter, r *http.Request) {
		_, next, err := app.a.FinishOIDC(w, r)
		var oe *OIDCError
		if errors.As(err, &oe) {
			http.Error(w, string(oe.Kind), http.StatusForbidden)
			return
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		id := app.a.Identify(r)
		if id == nil {
			http.Error(w, "anonymous", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s|%s|%s|%s|%s", id.Name, id.Display, id.Role, strings.Join(id.Owners, ","), id.Via)
	})
	mux.HandleFunc("POST /logga-ut", func(w http.ResponseWriter, r *http.Request) {
		id := app.a.Identify(r)
		to := app.a.SignOutURL(id)
		app.a.Logout(w, r, id)
		if to == "" {
			to = "/"
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "start") })
	app.srv = httptest.NewServer(mux)
	t.Cleanup(app.srv.Close)
	o := OIDCOptions{Issuer: app.idp.Issuer(), ClientID: app.idp.ClientID(), ClientSecret: app.idp.ClientSecret(),
		RedirectURL: app.srv.URL + "/logga-in/oidc/callback", PostLogoutURL: app.srv.URL + "/",
		DisplayName: "Kommunens konto", Scopes: []string{"openid", "profile", "email", "groups"}, Groups: oidcGroups}
	if mod != nil {
		mod(&o)
	}
	ao := Options{SessionTTL: 8 * time.Hour, Now: clk.now, OnEvent: app.ev.record, OIDC: &o}
	if modAuth != nil {
		modAuth(&ao)
	}
	a, err := New(ao)
	if err != nil {
		t.Fatal(err)
	}
	app.a = a
	app.newBrowser()
	return app
}

// newBrowser starts over with an empty cookie jar.
func (app *oidcApp) newBrowser() {
	app.jar, _ = cookiejar.New(nil)
	app.http = &http.Client{Jar: app.jar}
}

// get fetches path from the app (following redirects through the
// provider) and returns the final status, URL path and body.
func (app *oidcApp) get(t *testing.T, target string) (int, string, string) {
	t.Helper()
	if strings.HasPrefix(target, "/") {
		target = app.srv.URL + target
	}
	resp, err := app.http.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Request.URL.Path, strings.TrimSpace(string(b))
}

// signIn runs the whole flow for u and returns the status and body of
// where it ends.
func (app *oidcApp) signIn(t *testing.T, u *oidctest.User) (int, string) {
	t.Helper()
	app.idp.Queue(u)
	code, _, body := app.get(t, "/logga-in/oidc?next=/me")
	return code, body
}

func anna(groups ...string) *oidctest.User {
	return &oidctest.User{Subject: "a1b2", Username: "Anna.Andersson@Kommun.se", Name: "Anna Andersson", Groups: groups}
}

func TestOIDCSignInAndGroupMapping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		groups []string
		want   string
	}{
		{"admin", []string{"alla", "malbild-admin"}, "anna.andersson@kommun.se|Anna Andersson|admin||oidc"},
		{"editor with owners", []string{"malbild-redaktor"}, "anna.andersson@kommun.se|Anna Andersson|editor|IT-avdelningen|oidc"},
		{"viewer", []string{"malbild-lasare"}, "anna.andersson@kommun.se|Anna Andersson|viewer||oidc"},
		{"owners only: default role", []string{"ks-tjansteman"}, "anna.andersson@kommun.se|Anna Andersson|viewer|Kommunstyrelsen|oidc"},
		{"highest role, all owners", []string{"ks-tjansteman", "malbild-redaktor", "malbild-lasare"}, "anna.andersson@kommun.se|Anna Andersson|editor|IT-avdelningen,Kommunstyrelsen|oidc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newOIDCApp(t, nil)
			code, body := app.signIn(t, anna(tc.groups...))
			if code != http.StatusOK || body != tc.want {
				t.Fatalf("after sign-in: %d %q, want 200 %q", code, body, tc.want)
			}
			if got := app.ev.actions(); got != "login:anna.andersson@kommun.se" {
				t.Errorf("audit events %q", got)
			}
			ev := app.ev.got[0]
			u, ok := ev.After.(OIDCUser)
			if !ok || ev.Actor != "anna.andersson@kommun.se" || u.Provider != "Kommunens konto" || u.Issuer != app.idp.Issuer() || u.Subject != "a1b2" {
				t.Errorf("audit login event %+v", ev)
			}
			users := app.a.OIDCUsers()
			if len(users) != 1 || users[0].Name != "anna.andersson@kommun.se" || users[0].DisplayName != "Anna Andersson" {
				t.Errorf("OIDCUsers = %+v", users)
			}
		})
	}
}

func TestOIDCDefaultRoleConfigurable(t *testing.T) {
	app := newOIDCApp(t, func(o *OIDCOptions) { o.DefaultRole = Editor })
	if code, body := app.signIn(t, anna("ks-tjansteman")); code != 200 || !strings.Contains(body, "|editor|Kommunstyrelsen|") {
		t.Fatalf("%d %q", code, body)
	}
}

func TestOIDCNoMatchingGroupNoAccess(t *testing.T) {
	app := newOIDCApp(t, nil)
	for _, groups := range [][]string{nil, {"alla-anstallda"}} {
		code, body := app.signIn(t, anna(groups...))
		if code != http.StatusForbidden || body != string(OIDCNoAccess) {
			t.Fatalf("groups %v: %d %q, want 403 no_access", groups, code, body)
		}
		if code, _, _ := app.get(t, "/me"); code != http.StatusUnauthorized {
			t.Fatalf("groups %v: /me %d after a refused sign-in", groups, code)
		}
	}
	if got := app.ev.actions(); got != "login.failed:anna.andersson@kommun.se login.failed:anna.andersson@kommun.se" {
		t.Errorf("audit %q", got)
	}
}

func TestOIDCRolesClaim(t *testing.T) {
	app := newOIDCApp(t, func(o *OIDCOptions) {
		o.GroupsClaim = "roles"
		o.Groups = []OIDCGroup{{Group: "Malbild.Admin", Role: Admin}}
	})
	u := anna()
	u.GroupsClaim, u.Groups = "roles", []string{"Malbild.Admin"}
	if code, body := app.signIn(t, u); code != 200 || !strings.Contains(body, "|admin|") {
		t.Fatalf("%d %q", code, body)
	}
}

func TestOIDCRemovedFromGroupLosesAccessAtNextSignIn(t *testing.T) {
	app := newOIDCApp(t, nil)
	if code, body := app.signIn(t, anna("malbild-admin")); code != 200 || !strings.Contains(body, "|admin|") {
		t.Fatalf("first sign-in: %d %q", code, body)
	}
	// Moved to a group with less: the role is read again.
	if code, body := app.signIn(t, anna("malbild-lasare")); code != 200 || !strings.Contains(body, "|viewer|") {
		t.Fatalf("second sign-in: %d %q", code, body)
	}
	// Another browser still signed in as before.
	other := app.http
	app.newBrowser()
	if code, body := app.signIn(t, anna("malbild-lasare")); code != 200 || !strings.Contains(body, "|viewer|") {
		t.Fatalf("sign-in in a second browser: %d %q", code, body)
	}
	// Removed from every listed group: refused, and the sessions the
	// user still had end with it.
	if code, body := app.signIn(t, anna("alla-anstallda")); code != http.StatusForbidden || body != "no_access" {
		t.Fatalf("sign-in after removal: %d %q", code, body)
	}
	for i, c := range []*http.Client{app.http, other} {
		resp, err := c.Get(app.srv.URL + "/me")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("browser %d: /me %d after the user lost their groups, want 401", i, resp.StatusCode)
		}
	}
}

func TestOIDCSessionTTL(t *testing.T) {
	app := newOIDCApp(t, func(o *OIDCOptions) { o.SessionTTL = time.Hour })
	if code, _ := app.signIn(t, anna("malbild-admin")); code != 200 {
		t.Fatal(code)
	}
	app.clk.add(59 * time.Minute)
	if code, _, _ := app.get(t, "/me"); code != 200 {
		t.Fatalf("/me %d before the session TTL", code)
	}
	app.clk.add(time.Minute)
	if code, _, _ := app.get(t, "/me"); code != http.StatusUnauthorized {
		t.Fatalf("/me %d after the session TTL, want 401", code)
	}
}

func TestOIDCTamperedState(t *testing.T) {
	app := newOIDCApp(t, nil)
	// callback signs in at the provider and stops at the redirect back.
	callback := func() *url.URL {
		app.idp.Queue(anna("malbild-admin"))
		resp, err := app.http.Get(app.srv.URL + "/logga-in/oidc?next=/me")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		u, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || u.Query().Get("state") == "" || u.Query().Get("code") == "" {
			t.Fatalf("redirect back %q", resp.Header.Get("Location"))
		}
		return u
	}
	// Stop at the redirect back from the provider.
	app.http.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/logga-in/oidc/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	u := callback()
	q := u.Query()
	q.Set("state", q.Get("state")+"x")
	u.RawQuery = q.Encode()
	if code, _, body := app.get(t, u.String()); code != http.StatusForbidden || body != "expired" {
		t.Fatalf("tampered state: %d %q", code, body)
	}
	// The same callback from a browser that did not start the sign-in.
	u = callback()
	stranger := &http.Client{}
	resp, err := stranger.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("callback without the state cookie: %d", resp.StatusCode)
	}
	// A state is good for one callback only.
	u = callback()
	app.http.CheckRedirect = nil
	if code, _, body := app.get(t, u.String()); code != 200 || !strings.Contains(body, "|admin|") {
		t.Fatalf("untampered callback: %d %q", code, body)
	}
	if code, _, body := app.get(t, u.String()); code != http.StatusForbidden || body != "expired" {
		t.Fatalf("replayed callback: %d %q", code, body)
	}
	// A sign-in not finished within ten minutes has expired.
	app.http.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/logga-in/oidc/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	u = callback()
	app.clk.add(10 * time.Minute)
	app.http.CheckRedirect = nil
	if code, _, body := app.get(t, u.String()); code != http.StatusForbidden || body != "expired" {
		t.Fatalf("late callback: %d %q", code, body)
	}
}

func TestOIDCTokenRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token func(c *mockoidc.IDTokenClaims)
		setup func(app *oidcApp)
	}{
		{name: "wrong nonce", token: func(c *mockoidc.IDTokenClaims) { c.Nonce = "another-sign-in" }},
		{name: "no nonce", token: func(c *mockoidc.IDTokenClaims) { c.Nonce = "" }},
		{name: "wrong audience", token: func(c *mockoidc.IDTokenClaims) { c.Audience = jwt.ClaimStrings{"another-app"} }},
		{name: "several audiences without azp", token: func(c *mockoidc.IDTokenClaims) { c.Audience = append(c.Audience, "another-app") }},
		{name: "wrong issuer", token: func(c *mockoidc.IDTokenClaims) { c.Issuer = "https://evil.example/oidc" }},
		{name: "expired beyond clock skew", token: func(c *mockoidc.IDTokenClaims) {
			c.ExpiresAt = jwt.NewNumericDate(c.IssuedAt.Add(-2*time.Minute - time.Second))
		}},
		{name: "issued in the future beyond clock skew", token: func(c *mockoidc.IDTokenClaims) {
			c.IssuedAt = jwt.NewNumericDate(c.IssuedAt.Add(3 * time.Minute))
			c.NotBefore = nil
			c.ExpiresAt = jwt.NewNumericDate(c.IssuedAt.Add(time.Hour))
		}},
		{name: "not yet valid beyond clock skew", token: func(c *mockoidc.IDTokenClaims) {
			c.NotBefore = jwt.NewNumericDate(c.IssuedAt.Add(3 * time.Minute))
		}},
		{name: "unknown signing key", setup: func(app *oidcApp) { app.idp.SignWithUnpublishedKey(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newOIDCApp(t, nil)
			if tc.setup != nil {
				tc.setup(app)
			}
			u := anna("malbild-admin")
			u.Token = tc.token
			code, body := app.signIn(t, u)
			if code != http.StatusForbidden || body != string(OIDCInvalid) {
				t.Fatalf("%d %q, want 403 invalid", code, body)
			}
			if code, _, _ := app.get(t, "/me"); code != http.StatusUnauthorized {
				t.Fatalf("/me %d after a refused token", code)
			}
			if got := app.ev.actions(); got != "login.failed:" {
				t.Errorf("audit %q", got)
			}
		})
	}
}

func TestOIDCClockSkewTolerated(t *testing.T) {
	app := newOIDCApp(t, nil)
	u := anna("malbild-admin")
	u.Token = func(c *mockoidc.IDTokenClaims) { // the provider's clock is 90 s behind
		c.IssuedAt = jwt.NewNumericDate(c.IssuedAt.Add(-90 * time.Second))
		c.NotBefore = c.IssuedAt
		c.ExpiresAt = jwt.NewNumericDate(c.IssuedAt.Add(time.Minute))
	}
	if code, body := app.signIn(t, u); code != 200 || !strings.Contains(body, "|admin|") {
		t.Fatalf("%d %q", code, body)
	}
	app.newBrowser()
	u.Token = func(c *mockoidc.IDTokenClaims) { // 90 s ahead
		c.IssuedAt = jwt.NewNumericDate(c.IssuedAt.Add(90 * time.Second))
		c.NotBefore = c.IssuedAt
	}
	if code, body := app.signIn(t, u); code != 200 || !strings.Contains(body, "|admin|") {
		t.Fatalf("%d %q", code, body)
	}
}

func TestOIDCKeyRotation(t *testing.T) {
	app := newOIDCApp(t, nil)
	if code, _ := app.signIn(t, anna("malbild-admin")); code != 200 {
		t.Fatal(code)
	}
	if n := app.idp.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times for the first sign-in", n)
	}
	app.idp.Rotate(t)
	app.newBrowser()
	if code, body := app.signIn(t, anna("malbild-admin")); code != 200 || !strings.Contains(body, "|admin|") {
		t.Fatalf("sign-in after key rotation: %d %q", code, body)
	}
	if n := app.idp.JWKSFetches(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (once more for the new key)", n)
	}
}

func TestOIDCSignOut(t *testing.T) {
	app := newOIDCApp(t, nil)
	if code, _ := app.signIn(t, anna("malbild-admin")); code != 200 {
		t.Fatal(code)
	}
	// The follow-up pages check the CSRF token before they sign out; this
	// harness only follows the redirects.
	resp, err := app.http.Post(app.srv.URL+"/logga-ut", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "start" || resp.Request.URL.String() != app.srv.URL+"/" {
		t.Fatalf("after sign-out: %d %s %q", resp.StatusCode, resp.Request.URL, b)
	}
	calls := app.idp.EndSessionCalls()
	if len(calls) != 1 || calls[0].Get("id_token_hint") == "" || calls[0].Get("client_id") != app.idp.ClientID() ||
		calls[0].Get("post_logout_redirect_uri") != app.srv.URL+"/" {
		t.Fatalf("end-session calls %v", calls)
	}
	if code, _, _ := app.get(t, "/me"); code != http.StatusUnauthorized {
		t.Fatalf("/me %d after sign-out", code)
	}
	if got := app.ev.actions(); got != "login:anna.andersson@kommun.se logout:anna.andersson@kommun.se" {
		t.Errorf("audit %q", got)
	}
}

func TestOIDCDeniedAtProvider(t *testing.T) {
	app := newOIDCApp(t, nil)
	app.http.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/logga-in/oidc/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	app.idp.Queue(anna("malbild-admin"))
	resp, err := app.http.Get(app.srv.URL + "/logga-in/oidc?next=/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(resp.Header.Get("Location"))
	q := url.Values{"error": {"access_denied"}, "error_description": {"The user cancelled"}, "state": {u.Query().Get("state")}}
	u.RawQuery = q.Encode()
	if code, _, body := app.get(t, u.String()); code != http.StatusForbidden || body != "denied" {
		t.Fatalf("%d %q", code, body)
	}
}

func TestOIDCProviderDown(t *testing.T) {
	app := newOIDCApp(t, func(o *OIDCOptions) { o.Issuer = "http://127.0.0.1:1/oidc" })
	code, _, _ := app.get(t, "/logga-in/oidc?next=/me")
	if code != http.StatusBadGateway {
		t.Fatalf("%d, want 502", code)
	}
}

func TestOIDCUnusableUserName(t *testing.T) {
	app := newOIDCApp(t, nil)
	u := anna("malbild-admin")
	u.Username = "Anna Andersson"
	if code, body := app.signIn(t, u); code != http.StatusForbidden || body != "invalid" {
		t.Fatalf("%d %q", code, body)
	}
}

func TestOIDCUsersFileSideBySide(t *testing.T) {
	// A break-glass admin in the users file and staff through the
	// provider, signed in at the same time.
	path := filepath.Join(t.TempDir(), "users.yaml")
	writeUsers(t, path, User{Name: "anna", Role: Admin, PasswordHash: testHash(t, annaPW)})
	app := newOIDCAppWith(t, nil, func(o *Options) { o.UsersFile = path })
	if code, body := app.signIn(t, anna("malbild-lasare")); code != 200 || !strings.Contains(body, "|viewer|") {
		t.Fatalf("through the provider: %d %q", code, body)
	}
	ck, err := login(t, app.a, "anna", annaPW, "192.0.2.1:1")
	if err != nil {
		t.Fatal(err)
	}
	r := request("GET", "/", "192.0.2.1:1")
	r.AddCookie(ck)
	if id := app.a.Identify(r); id == nil || id.Name != "anna" || id.Role != Admin || id.Via != "session" {
		t.Fatalf("users-file admin: %+v", id)
	}
	if code, _, body := app.get(t, "/me"); code != 200 || !strings.HasPrefix(body, "anna.andersson@kommun.se|") {
		t.Fatalf("provider session after the password sign-in: %d %q", code, body)
	}
	// Reloading the users file leaves the provider's sessions alone.
	if err := app.a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := app.get(t, "/me"); code != 200 {
		t.Fatalf("provider session after a reload: %d", code)
	}
}

// TestReplicaOIDCFlow: with a shared store, the provider may send the
// browser back to another replica than the one the sign-in started on;
// the state is good for one callback on any of them.
func TestReplicaOIDCFlow(t *testing.T) {
	store := newMemStore()
	app := newOIDCAppWith(t, nil, func(o *Options) { o.Store = store })
	b, err := New(app.a.opts)
	if err != nil {
		t.Fatal(err)
	}
	app.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	app.idp.Queue(anna("malbild-admin"))
	location := func(target string) string {
		t.Helper()
		resp, err := app.http.Get(target)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 3 {
			t.Fatalf("GET %s: %s, want a redirect", target, resp.Status)
		}
		return resp.Header.Get("Location")
	}
	callback := location(location(app.srv.URL + "/logga-in/oidc?next=/me")) // A starts, the provider answers
	finish := func(a *Authenticator) (*Identity, string, error, *httptest.ResponseRecorder) {
		r := httptest.NewRequest(http.MethodGet, callback, nil)
		u, _ := url.Parse(app.srv.URL)
		for _, c := range app.jar.Cookies(u) {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		id, next, err := a.FinishOIDC(w, r)
		return id, next, err, w
	}
	id, next, err, w := finish(b) // … and the browser comes back to B
	if err != nil || id == nil || id.Name != "anna.andersson@kommun.se" || next != "/me" {
		t.Fatalf("B finishing A's sign-in: %+v, %q, %v", id, next, err)
	}
	r := httptest.NewRequest(http.MethodGet, "/me", nil)
	for _, c := range w.Result().Cookies() {
		if c.Name == app.a.sessionCookie() {
			r.AddCookie(c)
		}
	}
	if got := app.a.Identify(r); got == nil || got.Name != id.Name || got.Via != ViaOIDC {
		t.Fatalf("A's view of the session B started: %+v", got)
	}
	if _, _, err, _ := finish(app.a); err == nil {
		t.Fatal("the state was good for a second callback, on A")
	}
}
