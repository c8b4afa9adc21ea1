package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type events struct {
	mu  sync.Mutex
	got []Event
}

func (e *events) record(_ context.Context, ev Event) {
	e.mu.Lock()
	e.got = append(e.got, ev)
	e.mu.Unlock()
}
func (e *events) actions() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var s []string
	for _, ev := range e.got {
		s = append(s, ev.Action+":"+ev.Subject)
	}
	return strings.Join(s, " ")
}

const annaPW = "anna-lösenord-1"

func writeUsers(t *testing.T, path string, users ...User) {
	t.Helper()
	uf := NewUsersFile(path)
	for _, u := range users {
		if err := uf.Add(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := uf.Save(); err != nil {
		t.Fatal(err)
	}
}

func newTestAuth(t *testing.T, mod func(o *Options)) (*Authenticator, *clock, *events, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.yaml")
	writeUsers(t, path,
		User{Name: "anna", Role: Admin, PasswordHash: testHash(t, annaPW)},
		User{Name: "bo", Role: Editor, Owners: []string{"IT"}, PasswordHash: testHash(t, "bo-lösenord-12")},
		User{Name: "sso", Role: Editor, Owners: []string{"Kultur"}},
	)
	clk := &clock{t: time.Date(2025, 5, 12, 9, 0, 0, 0, time.UTC)}
	ev := &events{}
	o := Options{UsersFile: path, SessionTTL: time.Hour, Now: clk.now, OnEvent: ev.record,
		TrustedHeader: "X-Remote-User", Proxies: []string{"10.0.0.0/8", "192.0.2.7"}}
	if mod != nil {
		mod(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return a, clk, ev, path
}

func request(method, target, remote string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = remote
	return r
}

// login signs in and returns the session cookie.
func login(t *testing.T, a *Authenticator, name, pw, remote string) (*http.Cookie, error) {
	t.Helper()
	w := httptest.NewRecorder()
	_, err := a.Login(w, request("POST", "/logga-in", remote), name, pw)
	if err != nil {
		return nil, err
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == a.sessionCookie() {
			return c, nil
		}
	}
	t.Fatal("no session cookie set")
	return nil, nil
}

func TestLoginSessionLogout(t *testing.T) {
	a, clk, ev, _ := newTestAuth(t, nil)
	c, err := login(t, a, " Anna ", annaPW, "203.0.113.5:4000")
	if err != nil {
		t.Fatal(err)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" || len(c.Value) != 43 {
		t.Errorf("cookie = %+v", c)
	}
	r := request("GET", "/ledning", "203.0.113.5:4001")
	r.AddCookie(c)
	id := a.Identify(r)
	if id == nil || id.Name != "anna" || id.Role != Admin || id.Via != "session" || id.CSRFToken() == "" {
		t.Fatalf("identity = %+v", id)
	}
	if user, ok := a.Authorizer(r); !ok || user != "anna" {
		t.Errorf("Authorizer = %q, %v", user, ok)
	}
	if _, ok := a.Authorizer(request("GET", "/ledning", "203.0.113.5:4001")); ok {
		t.Error("Authorizer lets an anonymous request in")
	}
	// CSRF: only the session's token, in the form or the header.
	post := func(tok string) *http.Request {
		p := httptest.NewRequest("POST", "/x", strings.NewReader(url.Values{"csrf": {tok}}.Encode()))
		p.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return p
	}
	if !CheckCSRF(post(id.CSRFToken()), id) || CheckCSRF(post(""), id) || CheckCSRF(post(id.CSRFToken()+"x"), id) || CheckCSRF(post(id.CSRFToken()), nil) {
		t.Error("CheckCSRF is wrong")
	}
	hr := httptest.NewRequest("POST", "/x", nil)
	hr.Header.Set("X-CSRF-Token", id.CSRFToken())
	if !CheckCSRF(hr, id) {
		t.Error("CheckCSRF ignores the header")
	}
	// Expiry.
	clk.add(59 * time.Minute)
	if a.Identify(r) == nil {
		t.Fatal("session ended early")
	}
	clk.add(2 * time.Minute)
	if a.Identify(r) != nil {
		t.Fatal("session outlived its TTL")
	}
	// Logout ends the session on the server, not just the cookie.
	c, _ = login(t, a, "anna", annaPW, "203.0.113.5:4000")
	r = request("GET", "/", "203.0.113.5:1")
	r.AddCookie(c)
	id = a.Identify(r)
	w := httptest.NewRecorder()
	a.Logout(w, r, id)
	if a.Identify(r) != nil {
		t.Error("session still valid after logout")
	}
	if got := w.Result().Cookies(); len(got) != 1 || got[0].MaxAge >= 0 {
		t.Errorf("logout cookie = %+v", got)
	}
	if got := ev.actions(); got != "login:anna login:anna logout:anna" {
		t.Errorf("events = %s", got)
	}
}

func TestLoginFailuresAndRateLimit(t *testing.T) {
	a, clk, ev, _ := newTestAuth(t, nil)
	for _, c := range []struct{ name, pw string }{{"anna", "wrong password"}, {"nobody", "whatever it is"}, {"sso", ""}} {
		if _, err := login(t, a, c.name, c.pw, "198.51.100.1:1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("login(%s) = %v", c.name, err)
		}
	}
	if got := ev.actions(); got != "login.failed:anna login.failed:nobody login.failed:sso" {
		t.Errorf("events = %s", got)
	}
	// Per address and name: two more failures for anna, then 429-worthy
	// errors, even with the right password.
	for i := 0; i < 4; i++ {
		if _, err := login(t, a, "anna", "wrong password", "198.51.100.1:2"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i+2, err)
		}
	}
	_, err := login(t, a, "anna", annaPW, "198.51.100.1:3")
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.RetrySeconds() < 1 || rl.RetrySeconds() > 60 {
		t.Fatalf("sixth attempt from one address = %v", err)
	}
	// The window slides: a minute later it works again.
	clk.add(61 * time.Second)
	if _, err := login(t, a, "anna", annaPW, "198.51.100.1:3"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if !strings.Contains(ev.actions(), "login.failed:anna") {
		t.Error("rate-limited attempts are not reported")
	}
}

func TestTrustedHeader(t *testing.T) {
	a, _, _, _ := newTestAuth(t, nil)
	for _, c := range []struct {
		remote, user, want string
		role               Role
	}{
		{"10.1.2.3:5000", "sso", "sso", Editor},                                 // from a proxy, in the users file
		{"10.1.2.3:5000", "Ny.Person@kommun.se", "ny.person@kommun.se", Viewer}, // unknown: the header role
		{"192.0.2.7:5000", "anna", "anna", Admin},                               // a single-address proxy
		{"[::ffff:10.0.0.1]:80", "bo", "bo", Editor},                            // IPv4-mapped IPv6
		{"192.0.2.8:5000", "anna", "", ""},                                      // not a proxy: ignored
		{"203.0.113.5:5000", "anna", "", ""},                                    // not a proxy: ignored
		{"10.1.2.3:5000", "bad name!", "", ""},                                  // malformed: ignored
	} {
		r := request("GET", "/ledning", c.remote)
		r.Header.Set("X-Remote-User", c.user)
		id := a.Identify(r)
		if c.want == "" {
			if id != nil {
				t.Errorf("%s from %s: identity %+v, want none", c.user, c.remote, id)
			}
			continue
		}
		if id == nil || id.Name != c.want || id.Role != c.role || id.Via != "header" || id.CSRFToken() == "" {
			t.Errorf("%s from %s: identity %+v", c.user, c.remote, id)
		}
	}
	// A header from a non-proxy does not override a session either.
	c, err := login(t, a, "bo", "bo-lösenord-12", "203.0.113.5:1")
	if err != nil {
		t.Fatal(err)
	}
	r := request("GET", "/", "203.0.113.5:2")
	r.Header.Set("X-Remote-User", "anna")
	r.AddCookie(c)
	if id := a.Identify(r); id == nil || id.Name != "bo" {
		t.Errorf("spoofed header changed the identity: %+v", id)
	}
	// Header users' CSRF tokens differ per user.
	r1 := request("GET", "/", "10.0.0.1:1")
	r1.Header.Set("X-Remote-User", "sso")
	r2 := request("GET", "/", "10.0.0.1:1")
	r2.Header.Set("X-Remote-User", "bo")
	if a.Identify(r1).CSRFToken() == a.Identify(r2).CSRFToken() {
		t.Error("header users share a CSRF token")
	}
}

func TestClientIP(t *testing.T) {
	a, _, _, _ := newTestAuth(t, nil)
	r := request("GET", "/", "10.0.0.1:80")
	r.Header.Set("X-Forwarded-For", "198.51.100.9, 10.0.0.2")
	if got := a.ClientIP(r); got != "198.51.100.9" {
		t.Errorf("client behind proxies = %s", got)
	}
	r = request("GET", "/", "203.0.113.1:80")
	r.Header.Set("X-Forwarded-For", "198.51.100.9")
	if got := a.ClientIP(r); got != "203.0.113.1" {
		t.Errorf("X-Forwarded-For from a non-proxy was trusted: %s", got)
	}
}

func TestReloadEndsSessions(t *testing.T) {
	a, _, ev, path := newTestAuth(t, nil)
	cAnna, _ := login(t, a, "anna", annaPW, "203.0.113.5:1")
	cBo, _ := login(t, a, "bo", "bo-lösenord-12", "203.0.113.5:1")
	uf, err := LoadUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	uf.SetPasswordHash("anna", testHash(t, "nytt-lösenord-99"))
	uf.Remove("bo")
	uf.Update(User{Name: "sso", Role: Admin})
	uf.Add(User{Name: "cy", Role: Viewer})
	if err := uf.Save(); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*http.Cookie{cAnna, cBo} {
		r := request("GET", "/", "203.0.113.5:1")
		r.AddCookie(c)
		if id := a.Identify(r); id != nil {
			t.Errorf("session of %s survived", id.Name)
		}
	}
	got := ev.actions()
	if !strings.HasSuffix(got, "user.password:anna user.remove:bo user.add:cy user.change:sso") {
		t.Errorf("events = %s", got)
	}
	for _, e := range ev.got {
		if e.Action == "user.password" {
			if e.Actor != "users-file" || e.After.(UserInfo).Name != "anna" || !e.After.(UserInfo).HasPassword {
				t.Errorf("password event = %+v", e)
			}
		}
	}
	// A broken file keeps the users in force.
	os.WriteFile(path, []byte("users:\n  - name: x\n    role: king\n"), 0o600)
	if err := a.Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "users.yaml:2:") {
		t.Fatalf("reload of a broken file = %v", err)
	}
	if len(a.Users()) != 3 {
		t.Errorf("users after a failed reload = %+v", a.Users())
	}
}

func TestUpdateUsers(t *testing.T) {
	a, _, ev, path := newTestAuth(t, nil)
	admin := &Identity{Name: "anna", Role: Admin}
	err := a.UpdateUsers(context.Background(), admin, "203.0.113.5", func(uf *UsersFile) error {
		return uf.Add(User{Name: "dag", Role: Editor, Owners: []string{"Kultur"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if uf, err := LoadUsers(path); err != nil || uf.User("dag") == nil {
		t.Fatalf("dag not written: %v", err)
	}
	last := ev.got[len(ev.got)-1]
	if last.Action != "user.add" || last.Actor != "anna" || last.Remote != "203.0.113.5" || last.Subject != "dag" {
		t.Errorf("event = %+v", last)
	}
	// A failing change writes nothing.
	before, _ := os.ReadFile(path)
	err = a.UpdateUsers(context.Background(), admin, "", func(uf *UsersFile) error { return uf.Remove("nobody") })
	if !errors.Is(err, ErrNoUser) {
		t.Fatalf("err = %v", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("a failed change altered the file")
	}
}

func TestRedirectUnauthorized(t *testing.T) {
	a, _, _, _ := newTestAuth(t, nil)
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ledning" {
			if _, ok := a.Authorizer(r); !ok {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte("<p>sign in</p>"))
				return
			}
		}
		w.Write([]byte("ok"))
	})
	h := a.RedirectUnauthorized(inner, "/logga-in")
	for _, c := range []struct {
		method, path, accept string
		code                 int
		location             string
	}{
		{"GET", "/ledning?year=2025", "text/html,application/xhtml+xml", 303, "/logga-in?next=%2Fledning%3Fyear%3D2025"},
		{"GET", "/ledning", "application/json", 401, ""},
		{"POST", "/ledning", "text/html", 401, ""},
		{"GET", "/", "text/html", 200, ""},
	} {
		r := request(c.method, c.path, "203.0.113.5:1")
		r.Header.Set("Accept", c.accept)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.code || w.Header().Get("Location") != c.location {
			t.Errorf("%s %s (%s) = %d %q", c.method, c.path, c.accept, w.Code, w.Header().Get("Location"))
		}
		if c.code == 303 && w.Body.Len() != 0 {
			t.Errorf("redirect carries a body: %q", w.Body.String())
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/ledning?x=1": "/ledning?x=1", "": "/", "https://evil.example/": "/", "//evil.example": "/",
		"/\\evil.example": "/", "javascript:alert(1)": "/", "/a\r\nSet-Cookie: x": "/",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSecureCookies(t *testing.T) {
	a, _, _, _ := newTestAuth(t, func(o *Options) { o.CookieSecure = true; o.SameSite = http.SameSiteStrictMode })
	c, err := login(t, a, "anna", annaPW, "203.0.113.5:1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "__Host-malbild_session" || !c.Secure || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie = %+v", c)
	}
	w := httptest.NewRecorder()
	tok := a.LoginToken(w, request("GET", "/logga-in", "203.0.113.5:1"))
	lc := w.Result().Cookies()[0]
	if lc.Name != "__Host-malbild_login" || !lc.Secure || lc.Value != tok {
		t.Errorf("login cookie = %+v", lc)
	}
	p := httptest.NewRequest("POST", "/logga-in", strings.NewReader("csrf="+tok))
	p.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p.AddCookie(lc)
	if !a.CheckLoginToken(p) {
		t.Error("login token rejected")
	}
	p = httptest.NewRequest("POST", "/logga-in", strings.NewReader("csrf="+tok))
	p.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if a.CheckLoginToken(p) {
		t.Error("login token accepted without its cookie")
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, o := range []Options{
		{TrustedHeader: "X-User"},
		{TrustedHeader: "X-User", Proxies: []string{"not-an-ip"}},
		{HeaderRole: "boss"},
		{UsersFile: filepath.Join(t.TempDir(), "missing.yaml")},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) worked", o)
		}
	}
}

func TestSessionStoreBounded(t *testing.T) {
	s := newSessions(3)
	now := time.Unix(1e9, 0)
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, s.create("u", "", now.Add(time.Duration(i)*time.Second), time.Hour).id)
	}
	if s.count() != 3 || s.get(ids[0], now, time.Hour) != nil || s.get(ids[4], now, time.Hour) == nil {
		t.Errorf("store holds %d sessions; oldest kept = %v", s.count(), s.get(ids[0], now, time.Hour) != nil)
	}
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		tok := randomToken()
		if seen[tok] || len(tok) != 43 {
			t.Fatal("tokens repeat or have the wrong length")
		}
		seen[tok] = true
	}
}

func TestLoginNameSanitised(t *testing.T) {
	a, _, ev, _ := newTestAuth(t, nil)
	name := strings.Repeat("å", 50) + "\x00\x1b[31m" // 100 bytes of å, cut inside the 51st
	if _, err := login(t, a, name+"å", "whatever-password", "203.0.113.9:1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatal(err)
	}
	got := ev.got[len(ev.got)-1].Subject
	if !utf8.ValidString(got) || strings.ContainsAny(got, "\x00\x1b") || len(got) > 100 {
		t.Errorf("audited name %q", got)
	}
}
