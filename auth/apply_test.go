package auth

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func headerRequest(remote, user string) *http.Request {
	r := request("GET", "/ledning", remote)
	r.Header.Set("X-Remote-User", user)
	return r
}

// TestApplyConfigTrustedHeader: removing the trusted header or a proxy
// takes effect at once, and so does adding one.
func TestApplyConfigTrustedHeader(t *testing.T) {
	a, _, _, path := newTestAuth(t, func(o *Options) { o.Proxies = []string{"127.0.0.2"} })
	ctx := context.Background()
	if id := a.Identify(headerRequest("127.0.0.2:4000", "anna")); !id.Is(Admin) {
		t.Fatalf("before the reload: %+v", id)
	}
	if err := a.ApplyConfig(ctx, Options{UsersFile: path}); err != nil {
		t.Fatal(err)
	}
	if id := a.Identify(headerRequest("127.0.0.2:4000", "anna")); id != nil {
		t.Fatalf("the trusted header still counts after its removal: %+v", id)
	}
	o := Options{UsersFile: path, TrustedHeader: "X-Remote-User", Proxies: []string{"127.0.0.3"}, HeaderRole: Editor}
	if err := a.ApplyConfig(ctx, o); err != nil {
		t.Fatal(err)
	}
	if id := a.Identify(headerRequest("127.0.0.3:4000", "ny.person")); id == nil || id.Role != Editor {
		t.Fatalf("the added proxy or role is not applied: %+v", id)
	}
	if id := a.Identify(headerRequest("127.0.0.2:4000", "anna")); id != nil {
		t.Fatalf("the removed proxy counts: %+v", id)
	}
	if r := request("GET", "/", "127.0.0.3:1"); a.ClientIP(withXFF(r, "198.51.100.4")) != "198.51.100.4" {
		t.Error("X-Forwarded-For of the added proxy is not used")
	}
	// A bad setting changes nothing.
	if err := a.ApplyConfig(ctx, Options{UsersFile: path, TrustedHeader: "X-Remote-User"}); err == nil {
		t.Fatal("a trusted header without proxies was applied")
	}
	if id := a.Identify(headerRequest("127.0.0.3:4000", "ny.person")); id == nil {
		t.Fatal("a refused reload changed the settings")
	}
}

func withXFF(r *http.Request, xff string) *http.Request {
	r.Header.Set("X-Forwarded-For", xff)
	return r
}

// TestApplyConfigSessionsAndEditors: all_editors, the session TTL, the
// cookie settings and the users file are applied.
func TestApplyConfigSessionsAndEditors(t *testing.T) {
	a, clk, ev, path := newTestAuth(t, nil) // SessionTTL 1h
	ctx := context.Background()
	c, err := login(t, a, "bo", "bo-lösenord-12", "203.0.113.5:1")
	if err != nil {
		t.Fatal(err)
	}
	withCookie := func(c *http.Cookie) *Identity {
		r := request("GET", "/", "203.0.113.5:1")
		r.AddCookie(c)
		return a.Identify(r)
	}
	if id := withCookie(c); id == nil || id.MayEdit("Kultur") || a.AllEditors() {
		t.Fatalf("before: %+v", id)
	}
	clk.add(20 * time.Minute)
	if err := a.ApplyConfig(ctx, Options{UsersFile: path, AllEditors: true, SessionTTL: 15 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if !a.AllEditors() {
		t.Error("all_editors not applied")
	}
	if id := withCookie(c); id != nil {
		t.Errorf("a 20-minute-old session outlived a new 15-minute TTL: %+v", id)
	}
	c, err = login(t, a, "bo", "bo-lösenord-12", "203.0.113.5:1")
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxAge != 15*60 {
		t.Errorf("new session cookie MaxAge = %d, want 900", c.MaxAge)
	}
	if id := withCookie(c); id == nil || !id.MayEdit("Kultur") {
		t.Errorf("all_editors not applied to identities: %+v", id)
	}
	// Another users file: its users count, the old ones' sessions end.
	other := filepath.Join(t.TempDir(), "other.yaml")
	writeUsers(t, other, User{Name: "cy", Role: Viewer, PasswordHash: testHash(t, "cy-lösenord-77")})
	if err := a.ApplyConfig(ctx, Options{UsersFile: other, CookieSecure: true}); err != nil {
		t.Fatal(err)
	}
	if a.UsersFile() != other || len(a.Users()) != 1 {
		t.Fatalf("users file %s, users %+v", a.UsersFile(), a.Users())
	}
	if !strings.Contains(ev.actions(), "user.remove:bo") {
		t.Errorf("the change of users file is not audited: %s", ev.actions())
	}
	c, err = login(t, a, "cy", "cy-lösenord-77", "203.0.113.5:1")
	if err != nil || c.Name != "__Host-malbild_session" || !c.Secure {
		t.Fatalf("cookie_secure not applied: %+v, %v", c, err)
	}
	// A users file that does not load changes nothing.
	if err := a.ApplyConfig(ctx, Options{UsersFile: filepath.Join(t.TempDir(), "missing.yaml")}); err == nil {
		t.Fatal("a missing users file was applied")
	}
	if a.UsersFile() != other {
		t.Error("a refused reload changed the users file")
	}
}
